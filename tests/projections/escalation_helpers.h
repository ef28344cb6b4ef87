#pragma once

// Helpers for the escalation rule and seed-ladder tests: a school on the
// 2025-26 standard calendar with a policy file, registers over a span of
// days, and one pupil's escalation or the worklist as the queries answer.
#include <google/protobuf/text_format.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "event_builders.h"
#include "ledger/escalation_policy.h"
#include "projections/escalation.h"
#include "projections/escalation_queries.h"

namespace attendance::projections::esc_test {

using testing::D;
using testing::EventLog;

// The shipped policy files (policies/).
inline constexpr char kNational[] = "national_base_england_2024.textproto";
inline constexpr char kSeed000[] =
    "000_all_saints_ce_primary_attendance_strategy_2024_25.textproto";
inline constexpr char kSeed001[] =
    "001_all_saints_ce_primary_attendance_and_absence_policy_2024_27.textproto";
inline constexpr char kSeed002[] = "002_banded_attendance_strategy.textproto";
inline constexpr char kSeed003[] = "003_five_foundations_attendance_strategy.textproto";
inline constexpr char kSeed004[] = "004_tks_attend_to_achieve.textproto";
// The school's rolling windows when its settings name none.
inline const std::vector<std::uint32_t> kDefaultWeeks = {4, 6, 10, 12};

inline v1::EscalationPolicy LoadPolicy(const std::string& file) {
  std::ifstream in(std::filesystem::path(ATTENDANCE_POLICIES_DIR) / file);
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  v1::EscalationPolicy policy;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text.str(), &policy));
  return policy;
}

inline v1::EscalationPolicy ParsePolicy(const std::string& text) {
  v1::EscalationPolicy policy;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text, &policy));
  return policy;
}

// The INVALID_ARGUMENT message ledger::ValidateEscalationPolicy gives for
// `policy` at a school with the rolling windows `weeks`.
inline std::string Refusal(const v1::EscalationPolicy& policy,
                           const std::vector<std::uint32_t>& weeks = kDefaultWeeks) {
  const absl::Status s = ledger::ValidateEscalationPolicy(policy, weeks, "policy");
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  return std::string(s.message());
}

// The same for `policy` once `change` has been made to it.
inline std::string RefusalOf(v1::EscalationPolicy policy,
                             const std::function<void(v1::EscalationPolicy&)>& change) {
  change(policy);
  return Refusal(policy);
}

// Settings, the 2025-26 standard calendar (Autumn 1 2025-09-01..10-24,
// half-term 10-27..10-31, Autumn 2 11-03..12-19, Spring 1 from 2026-01-05),
// the policy and one pupil on roll from 2025-09-01.
inline EventLog NewSchool(const v1::EscalationPolicy& policy,
                          const v1::Pupil& pupil = testing::MakePupil("P1", 4)) {
  EventLog log("school-1");
  v1::SchoolSettings settings;
  settings.set_school_name("Test");
  log.Settings(settings, D("2025-08-01"));
  log.Calendar(testing::StandardCalendar(2025), D("2025-08-01"));
  log.Policy(policy, D("2025-08-01"));
  log.Enrol(pupil, D("2025-09-01"), D("2025-08-01"));
  return log;
}

// Settings, the 2024-25 and 2025-26 standard calendars and the policy from
// 2024-08-01, and `pupils` on roll from 2024-09-02 (a school with last
// year's marks to record).
inline EventLog NewTwoYearSchool(const v1::EscalationPolicy& policy,
                                 const std::vector<std::string>& pupils) {
  EventLog log("school-1");
  v1::SchoolSettings settings;
  settings.set_school_name("Test");
  log.Settings(settings, D("2024-08-01"));
  log.Calendar(testing::StandardCalendar(2024), D("2024-08-01"));
  log.Calendar(testing::StandardCalendar(2025), D("2024-08-01"));
  log.Policy(policy, D("2024-08-01"));
  for (const std::string& id : pupils) {
    log.Enrol(testing::MakePupil(id, 4), D("2024-09-02"), D("2024-08-01"));
  }
  return log;
}

using Absences = std::map<std::pair<std::string, int>, std::string>;  // (date, 0 AM / 1 PM)

// The standard calendars of 2024-25 and 2025-26 (a school that records the
// 2024-25 one too has last year's marks), for the helpers' school days.
inline const ledger::SchoolCalendar& HelperCalendar() {
  static const ledger::SchoolCalendar calendar = [] {
    ledger::SchoolCalendar c;
    c.Set(testing::StandardCalendar(2024));
    c.Set(testing::StandardCalendar(2025));
    return c;
  }();
  return calendar;
}

// Marks every school day in [from, to]: present unless listed in `absences`.
inline void Register(EventLog& log, const std::string& pupil, const char* from, const char* to,
                     const Absences& absences = {}) {
  const ledger::SchoolCalendar& calendar = HelperCalendar();
  for (Day d = D(from); d <= D(to); ++d) {
    if (!calendar.IsSchoolDay(d)) continue;
    for (int s = 0; s < 2; ++s) {
      auto it = absences.find({ledger::FormatDate(d), s});
      const std::string code = it != absences.end() ? it->second : (s == 0 ? "/" : "\\");
      log.Mark(pupil, d, s == 0 ? v1::AM : v1::PM, code);
    }
  }
}

// Both sessions of each school day in [from, to] with `code`.
inline Absences Days(const char* from, const char* to, const std::string& code) {
  const ledger::SchoolCalendar& calendar = HelperCalendar();
  Absences out;
  for (Day d = D(from); d <= D(to); ++d) {
    if (!calendar.IsSchoolDay(d)) continue;
    out[{ledger::FormatDate(d), 0}] = code;
    out[{ledger::FormatDate(d), 1}] = code;
  }
  return out;
}

inline EscalationState Fold(const EventLog& log) {
  EscalationState state;
  for (const v1::EventEnvelope& e : log.events()) state.Apply(e);
  return state;
}

// As of the end of `as_of` (today = as_of, the clock at the end of the day)
// or at `time` ("HH:MM") on it.
inline v1::PupilEscalation Evaluate(const EventLog& log, const char* as_of,
                                    const std::string& pupil = "P1", const char* time = "") {
  v1::GetPupilEscalationRequest request;
  request.set_school_id("school-1");
  request.set_pupil_id(pupil);
  request.set_as_of(as_of);
  request.set_as_of_time(time);
  absl::StatusOr<v1::PupilEscalation> result = QueryPupilEscalation(Fold(log), request, D(as_of));
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  return *result;
}

// The scenarios' common step: `pupil` marked on every school day of [from,
// to] (present unless in `absences`, e.g. Days(...) of a code), then
// evaluated as of `as_of` (default: `to`).
inline v1::PupilEscalation RegisterThenEvaluate(EventLog& log, const std::string& pupil,
                                                const char* from, const char* to,
                                                const Absences& absences = {},
                                                const char* as_of = nullptr) {
  Register(log, pupil, from, to, absences);
  return Evaluate(log, as_of != nullptr ? as_of : to, pupil);
}

inline const v1::DueAction* Due(const v1::PupilEscalation& e, const std::string& rule) {
  for (const v1::DueAction& a : e.due()) {
    if (a.rule_id() == rule) return &a;
  }
  return nullptr;
}

inline const v1::NearMiss* Near(const v1::PupilEscalation& e, const std::string& rule) {
  for (const v1::NearMiss& m : e.near_misses()) {
    if (m.rule_id() == rule) return &m;
  }
  return nullptr;
}

inline const v1::LadderState& LadderOf(const v1::PupilEscalation& e, const std::string& ladder) {
  for (const v1::LadderState& l : e.ladders()) {
    if (l.ladder_id() == ladder) return l;
  }
  FAIL("no ladder " << ladder);
  return e.ladders(0);
}

inline std::string BandOf(const v1::PupilEscalation& e, const std::string& set) {
  for (const v1::BandPlacement& b : e.bands()) {
    if (b.band_set_id() == set) return b.band_id();
  }
  return "?";
}

// The rule ids due, in the worklist's order, as "pupil:rule".
inline std::vector<std::string> Worklist(const EventLog& log, v1::ListDueActionsRequest request,
                                         const char* as_of) {
  request.set_school_id("school-1");
  request.set_as_of(as_of);
  absl::StatusOr<v1::ListDueActionsResponse> due = QueryDueActions(Fold(log), request, D(as_of));
  REQUIRE(due.ok());
  std::vector<std::string> out;
  for (const v1::DueAction& a : due->actions()) out.push_back(a.pupil_id() + ":" + a.rule_id());
  return out;
}

}  // namespace attendance::projections::esc_test
