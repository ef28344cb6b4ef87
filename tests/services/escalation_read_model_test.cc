// The escalation read model hosted on the real RocksDB ledger beside the
// log: it follows commits, checkpoints, resumes after a reopen, and always
// equals a rebuild from position 1 (and so a fresh evaluation).
#include <google/protobuf/text_format.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ledger/ledger.h"
#include "projections/escalation_queries.h"
#include "projections/event_builders.h"
#include "services/escalation_read_model.h"
#include "services/read_model_host.h"
#include "support/fixtures.h"
#include "support/temp_dir.h"

namespace attendance::projections {
namespace {

using services::EscalationReadModel;
using services::ReadModelHost;
using testing::D;
namespace t = attendance::testing;

struct RealLedger {
  explicit RealLedger(const std::string& dir) {
    ledger::LedgerOptions options;
    options.data_dir = dir;
    options.sync = false;
    options.clock = ledger::Clock([this] { return now_us.load(); });
    auto opened = ledger::Ledger::Open(options);
    REQUIRE(opened.ok());
    ledger = std::move(*opened);
  }
  std::atomic<std::int64_t> now_us{testing::NoonUs(D("2025-08-20"))};
  std::unique_ptr<ledger::Ledger> ledger;
};

std::string RebuildFromLog(const ledger::Ledger& ledger) {
  EscalationState state;
  REQUIRE(ledger
              .ForEachEvent(1,
                            [&](const v1::EventEnvelope& e) {
                              state.Apply(e);
                              return true;
                            })
              .ok());
  return state.Encode();
}

// p1 present every school day in [from, to] except unauthorised ("O") AM
// sessions on Mondays and Tuesdays (and the year-7 closure), recorded on
// the day.
void RecordDays(RealLedger& l, Day from, Day to) {
  ledger::SchoolCalendar calendar;
  calendar.Set(t::Calendar2025("s1").calendar());
  for (Day d = from; d <= to; ++d) {
    if (!calendar.IsSchoolDay(d)) continue;
    l.now_us = testing::NoonUs(d);
    v1::RecordMarksRequest req;
    req.set_school_id("s1");
    req.set_request_id("marks-" + ledger::FormatDate(d));
    const char* am = calendar.IsClosed(d, v1::AM, 7) ? "#" : ledger::Weekday(d) < 2 ? "O" : "/";
    *req.add_marks() = t::MakeMark("p1", ledger::FormatDate(d), v1::AM, am);
    *req.add_marks() = t::MakeMark("p1", ledger::FormatDate(d), v1::PM, "\\");
    auto recorded = l.ledger->RecordMarks(t::kOfficer, req);
    INFO(recorded.status().ToString());
    REQUIRE(recorded.ok());
  }
}

v1::SetEscalationPolicyRequest NationalBase() {
  std::ifstream in(std::filesystem::path(ATTENDANCE_POLICIES_DIR) /
                   "national_base_england_2024.textproto");
  std::stringstream text;
  text << in.rdbuf();
  v1::SetEscalationPolicyRequest request;
  request.set_school_id("s1");
  request.set_request_id("policy");
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text.str(), request.mutable_policy()));
  return request;
}

std::uint32_t PenaltyCount(const LiveEscalation& live, const char* as_of) {
  v1::GetPupilEscalationRequest req;
  req.set_school_id("s1");
  req.set_pupil_id("p1");
  req.set_as_of(as_of);
  auto result =
      live.Read([&](const EscalationState& s) { return QueryPupilEscalation(s, req, 0); });
  REQUIRE(result.ok());
  for (const v1::DueAction& a : result->due()) {
    if (a.rule_id() == "penalty_notice_10_in_10") return a.explanation().count();
  }
  for (const v1::NearMiss& m : result->near_misses()) {
    if (m.rule_id() == "penalty_notice_10_in_10") return m.explanation().count();
  }
  return 0;
}

// The due date of `rule` for p1 as of a date ("" if not due).
std::string DueOn(const LiveEscalation& live, const char* as_of, const std::string& rule) {
  v1::GetPupilEscalationRequest req;
  req.set_school_id("s1");
  req.set_pupil_id("p1");
  req.set_as_of(as_of);
  auto result =
      live.Read([&](const EscalationState& s) { return QueryPupilEscalation(s, req, 0); });
  REQUIRE(result.ok());
  for (const v1::DueAction& a : result->due()) {
    if (a.rule_id() == rule) return a.due_on();
  }
  return "";
}

TEST_CASE(
    "the escalation read model follows the ledger, resumes from its checkpoint and equals "
    "a rebuild",
    "[escalation][runner][ledger]") {
  t::TempDir dir;
  const std::string db = dir.Sub("db");
  ledger::Position first_run = 0;
  {
    RealLedger l(db);
    REQUIRE(l.ledger->SetSchoolSettings(t::kOfficer, t::Settings("s1")).ok());
    REQUIRE(l.ledger->SetSchoolCalendar(t::kOfficer, t::Calendar2025("s1")).ok());
    REQUIRE(l.ledger->EnrolPupil(t::kOfficer, t::Enrol("s1", "p1")).ok());
    REQUIRE(l.ledger->SetEscalationPolicy(t::kOfficer, NationalBase()).ok());
    RecordDays(l, D("2025-09-03"), D("2025-09-12"));

    LiveEscalation live;
    EscalationReadModel model(&live);
    ReadModelHost host(l.ledger.get());
    REQUIRE(host.Add(&model).ok());
    REQUIRE(host.Start().ok());
    CHECK(live.position() == l.ledger->LastPosition());
    CHECK(PenaltyCount(live, "2025-09-12") == 0);  // 2 (Mon 8, Tue 9): not yet near

    RecordDays(l, D("2025-09-15"), D("2025-10-03"));
    v1::RecordLetterRequest letter;
    letter.set_school_id("s1");
    letter.set_request_id("letter");
    letter.set_pupil_id("p1");
    letter.set_letter_id("warning");
    letter.set_channel(v1::POST);
    letter.set_sent_on("2025-10-03");
    REQUIRE(l.ledger->RecordLetter(t::kOfficer, letter).ok());
    // A meeting whose review falls due while the read model is down: after
    // the restart only its checkpoint holds the action.
    v1::RecordActionRequest meeting;
    meeting.set_school_id("s1");
    meeting.set_request_id("meeting");
    meeting.set_pupil_id("p1");
    meeting.set_action_id("meet-1");
    meeting.set_kind(v1::MEETING_HELD);
    meeting.set_happened_on("2025-10-03");
    meeting.set_review_on("2025-10-08");
    REQUIRE(l.ledger->RecordAction(t::kOfficer, meeting).ok());
    REQUIRE(host.WaitFor(EscalationReadModel::kName, l.ledger->LastPosition(),
                         std::chrono::steady_clock::now() + std::chrono::seconds(60))
                .ok());
    CHECK(PenaltyCount(live, "2025-10-03") == 8);  // a near miss: 2 from the threshold
    CHECK(live.Read([](const EscalationState& s) { return s.Encode(); }) ==
          RebuildFromLog(*l.ledger));
    host.Stop();
    first_run = live.position();
  }
  RealLedger l(db);
  auto checkpoint = l.ledger->LoadCheckpoint(EscalationReadModel::kName);
  REQUIRE(checkpoint.ok());
  CHECK(checkpoint->position == first_run);
  RecordDays(l, D("2025-10-06"), D("2025-10-10"));  // while the read model is down
  LiveEscalation live;
  EscalationReadModel model(&live);
  ReadModelHost host(l.ledger.get());
  REQUIRE(host.Add(&model).ok());
  REQUIRE(host.Start().ok());
  CHECK(live.position() == l.ledger->LastPosition());
  CHECK(live.Read([](const EscalationState& s) { return s.Encode(); }) ==
        RebuildFromLog(*l.ledger));
  CHECK(PenaltyCount(live, "2025-10-10") == 10);  // due: 10 in 10 school weeks
  CHECK(DueOn(live, "2025-10-10", "meet-1") == "2025-10-08");
  CHECK(DueOn(live, "2025-10-07", "meet-1").empty());
  host.Stop();
}

}  // namespace
}  // namespace attendance::projections
