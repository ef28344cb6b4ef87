// Leave requests evaluated against seed 001's rules at each rule's edge
// (exactly 96%, exactly 10%, the notice, the days before an assessment), and
// penalty notices counted per parent and child (first, second, no third ->
// the local authority, withdrawn and older notices not counted).
#include <algorithm>
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "escalation_helpers.h"
#include "projections/escalation.h"
#include "projections/escalation_queries.h"
#include "projections/leave_evaluation.h"

namespace attendance::projections {
namespace {

using esc_test::Absences;
using esc_test::Fold;
using esc_test::kNational;
using esc_test::kSeed001;
using esc_test::LoadPolicy;
using esc_test::Register;
using testing::D;
using testing::EventLog;

v1::Pupil PupilWithCarers(const std::string& id) {
  v1::Pupil p = testing::MakePupil(id, 4);
  auto add = [&](const char* carer_id, const char* given, v1::CarerRelationship rel, bool pr) {
    v1::Carer* c = p.add_carers();
    c->set_carer_id(carer_id);
    c->set_given_name(given);
    c->set_family_name("Family");
    c->set_relationship(rel);
    c->set_has_parental_responsibility(pr);
  };
  add("c-mother", "Ann", v1::MOTHER, true);
  add("c-father", "Bob", v1::FATHER, true);
  add("c-step", "Cy", v1::STEP_PARENT, false);
  return p;
}

// The 2025-26 standard calendar (Autumn 1 2025-09-01..10-24, half-term
// 10-27..31), the policy, pupils P1..P4 with carers.
EventLog School(const v1::EscalationPolicy& policy) {
  EventLog log = esc_test::NewSchool(policy, PupilWithCarers("P1"));
  for (const char* id : {"P2", "P3", "P4"}) {
    log.Enrol(PupilWithCarers(id), D("2025-09-01"), D("2025-08-01"));
  }
  return log;
}

v1::LeaveEvaluation Evaluate(const EscalationState& state, const std::string& pupil,
                             const char* as_of, const char* first, v1::Session first_session,
                             const char* last, v1::Session last_session) {
  v1::EvaluateLeaveRequestRequest request;
  request.set_school_id("school-1");
  request.set_pupil_id(pupil);
  request.set_as_of(as_of);
  request.set_first_date(first);
  request.set_first_session(first_session);
  request.set_last_date(last);
  request.set_last_session(last_session);
  absl::StatusOr<v1::LeaveEvaluation> result = QueryLeaveEvaluation(state, request, 0);
  INFO(result.status().ToString());
  REQUIRE(result.ok());
  return *result;
}

const v1::LeaveRuleCheck& Check(const v1::LeaveEvaluation& e, const std::string& rule) {
  for (const v1::LeaveRuleCheck& c : e.checks()) {
    if (c.rule() == rule) return c;
  }
  FAIL("no check " << rule << " in " << e.DebugString());
  return e.checks(0);
}

TEST_CASE("leave: attendance after the leave at exactly 96% passes, just below refuses",
          "[escalation][leave]") {
  EventLog log = School(LoadPolicy(kSeed001));
  // 2025-09-01..10-02: 24 school days, 48 sessions, all present.
  Register(log, "P1", "2025-09-01", "2025-10-02");
  const EscalationState state = Fold(log);
  // 2 sessions: 48 / 50 = 96.0% exactly.
  const v1::LeaveEvaluation two =
      Evaluate(state, "P1", "2025-10-02", "2025-11-03", v1::AM, "2025-11-03", v1::PM);
  CHECK(two.sessions() == 2);
  const v1::LeaveRuleCheck& after = Check(two, "attendance_after_leave");
  CHECK(after.passed());
  CHECK(after.explanation().attended() == 48);
  CHECK(after.explanation().possible() == 50);
  CHECK(after.explanation().basis_points() == 9600);
  CHECK(absl::StrContains(after.explanation().sentence(),
                          "attendance with the 2 requested sessions absent 96.0% (48/50 sessions"));
  CHECK(absl::EndsWith(after.explanation().sentence(), ">= 96.0% -> pass"));
  CHECK(Check(two, "unauthorised_absence").passed());
  CHECK(Check(two, "authorised_absence").passed());
  CHECK(Check(two, "notice").passed());
  // No rule refuses it: the headteacher decides (exceptional circumstances).
  CHECK(two.recommendation() == v1::LEAVE_REFER_TO_HEADTEACHER);
  CHECK(absl::StartsWith(two.sentence(),
                         "refer leave 2025-11-03 AM..2025-11-03 PM (2 sessions) "
                         "to the headteacher: no rule refuses it"));
  CHECK(two.policy_id() == "all-saints-001-policy-2024-27");

  // 3 sessions: 48 / 51 = 94.1%.
  const v1::LeaveEvaluation three =
      Evaluate(state, "P1", "2025-10-02", "2025-11-03", v1::AM, "2025-11-04", v1::AM);
  CHECK(three.sessions() == 3);
  CHECK_FALSE(Check(three, "attendance_after_leave").passed());
  CHECK(absl::EndsWith(Check(three, "attendance_after_leave").explanation().sentence(),
                       "< 96.0% -> refuse"));
  CHECK(three.recommendation() == v1::LEAVE_REFUSE);
  CHECK(absl::StartsWith(three.sentence(),
                         "refuse leave 2025-11-03 AM..2025-11-04 AM (3 "
                         "sessions): attendance with the 3 requested"));

  // A school whose rules may approve: the same request is approved.
  v1::EscalationPolicy approving = LoadPolicy(kSeed001);
  approving.mutable_leave_rules()->set_when_no_rule_refuses(v1::LEAVE_APPROVE);
  EventLog log2 = School(approving);
  Register(log2, "P1", "2025-09-01", "2025-10-02");
  CHECK(Evaluate(Fold(log2), "P1", "2025-10-02", "2025-11-03", v1::AM, "2025-11-03", v1::PM)
            .recommendation() == v1::LEAVE_APPROVE);
}

TEST_CASE(
    "leave: authorised absence at exactly 10% passes, above refuses; any unauthorised "
    "refuses",
    "[escalation][leave]") {
  EventLog log = School(LoadPolicy(kSeed001));
  // 20 school days, 40 sessions.
  Register(log, "P2", "2025-09-01", "2025-09-26",
           {{{"2025-09-08", 0}, "I"},
            {{"2025-09-08", 1}, "I"},
            {{"2025-09-09", 0}, "M"},
            {{"2025-09-09", 1}, "I"}});
  Register(log, "P3", "2025-09-01", "2025-09-26",
           {{{"2025-09-08", 0}, "I"},
            {{"2025-09-08", 1}, "I"},
            {{"2025-09-09", 0}, "M"},
            {{"2025-09-09", 1}, "I"},
            {{"2025-09-10", 0}, "R"}});
  Register(log, "P4", "2025-09-01", "2025-09-26", {{{"2025-09-15", 1}, "O"}});
  const EscalationState state = Fold(log);
  const char* as_of = "2025-09-26";

  const v1::LeaveRuleCheck p2 =
      Check(Evaluate(state, "P2", as_of, "2025-11-03", v1::AM, "2025-11-03", v1::PM),
            "authorised_absence");
  CHECK(p2.passed());
  CHECK(p2.explanation().count() == 4);
  CHECK(p2.explanation().possible() == 40);
  CHECK(
      absl::StrContains(p2.explanation().sentence(), "authorised absence 10.0% (4/40 sessions, "));
  CHECK(absl::EndsWith(p2.explanation().sentence(), "<= 10.0% -> pass"));

  const v1::LeaveEvaluation p3 =
      Evaluate(state, "P3", as_of, "2025-11-03", v1::AM, "2025-11-03", v1::PM);
  CHECK_FALSE(Check(p3, "authorised_absence").passed());
  CHECK(absl::EndsWith(Check(p3, "authorised_absence").explanation().sentence(),
                       "> 10.0% -> refuse"));
  CHECK(p3.recommendation() == v1::LEAVE_REFUSE);

  const v1::LeaveEvaluation p4 =
      Evaluate(state, "P4", as_of, "2025-11-03", v1::AM, "2025-11-03", v1::PM);
  const v1::LeaveRuleCheck& unauth = Check(p4, "unauthorised_absence");
  CHECK_FALSE(unauth.passed());
  CHECK(unauth.explanation().count() == 1);
  CHECK(absl::StartsWith(unauth.explanation().sentence(), "1 unauthorised session ("));
  CHECK(absl::EndsWith(unauth.explanation().sentence(), "none allowed -> refuse"));
  CHECK(Check(p4, "authorised_absence").passed());
  CHECK(p4.recommendation() == v1::LEAVE_REFUSE);
}

TEST_CASE("leave: four weeks' notice and the school days before an assessment, at their edges",
          "[escalation][leave]") {
  EventLog log = School(LoadPolicy(kSeed001));
  Register(log, "P1", "2025-09-01", "2025-10-24");
  const EscalationState state = Fold(log);
  // 2025-11-03 is 28 days after 2025-10-06 and 27 after 2025-10-07.
  const v1::LeaveRuleCheck on_time = Check(
      Evaluate(state, "P1", "2025-10-06", "2025-11-03", v1::AM, "2025-11-03", v1::AM), "notice");
  CHECK(on_time.passed());
  CHECK(on_time.explanation().count() == 28);
  CHECK(on_time.explanation().sentence() ==
        "requested on 2025-10-06, 28 days before the leave's first day 2025-11-03 >= 28 days' "
        "notice -> pass");
  CHECK_FALSE(Check(Evaluate(state, "P1", "2025-10-07", "2025-11-03", v1::AM, "2025-11-03", v1::AM),
                    "notice")
                  .passed());

  // KS2 SATs 2026-05-11..14; the 5 school days before run from 2026-05-04.
  auto assessment = [&](const char* first, const char* last) {
    const v1::LeaveEvaluation e = Evaluate(state, "P1", "2025-10-24", first, v1::AM, last, v1::PM);
    for (const v1::LeaveRuleCheck& c : e.checks()) {
      if (c.rule() == "assessment" && c.explanation().rule_id() == "KS2 SATs 2026") return c;
    }
    FAIL("no KS2 SATs 2026 check");
    return e.checks(0);
  };
  const v1::LeaveRuleCheck clear = assessment("2026-04-30", "2026-05-01");
  CHECK(clear.passed());
  CHECK(clear.explanation().window_first() == "2026-05-04");
  CHECK(clear.explanation().sentence() ==
        "leave 2026-04-30 AM..2026-05-01 PM is clear of KS2 SATs 2026 2026-05-11..2026-05-14 or "
        "the 5 school days before it (from 2026-05-04) -> pass");
  CHECK_FALSE(assessment("2026-05-01", "2026-05-04").passed());
  CHECK_FALSE(assessment("2026-05-14", "2026-05-15").passed());
  CHECK(assessment("2026-05-15", "2026-05-15").passed());
}

TEST_CASE("leave: the national base refers every request; bad requests are refused by name",
          "[escalation][leave]") {
  EventLog log = School(LoadPolicy(kNational));
  Register(log, "P1", "2025-09-01", "2025-10-02", {{{"2025-09-15", 1}, "O"}});
  const EscalationState state = Fold(log);
  const v1::LeaveEvaluation e =
      Evaluate(state, "P1", "2025-10-02", "2025-10-06", v1::AM, "2025-10-06", v1::PM);
  CHECK(e.checks_size() == 0);
  CHECK(e.recommendation() == v1::LEAVE_REFER_TO_HEADTEACHER);
  CHECK(e.sentence() ==
        "refer leave 2025-10-06 AM..2025-10-06 PM (2 sessions) to the headteacher: the policy "
        "sets no leave rules; leave in term time is granted only in exceptional circumstances");

  v1::EvaluateLeaveRequestRequest request;
  request.set_school_id("school-1");
  request.set_pupil_id("P1");
  request.set_first_date("2025-10-27");  // half-term
  request.set_first_session(v1::AM);
  request.set_last_date("2025-10-31");
  request.set_last_session(v1::PM);
  absl::Status s = QueryLeaveEvaluation(state, request, D("2025-10-02")).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(absl::StartsWith(s.message(),
                         "first_date: 2025-10-27 AM..2025-10-31 PM holds no school "
                         "session for the pupil"));
  request.set_last_date("2025-10-26");
  s = QueryLeaveEvaluation(state, request, D("2025-10-02")).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() == "last_date: 2025-10-26 is before first_date 2025-10-27");
  request.set_last_date("2025-10-31");
  request.set_last_session(v1::SESSION_UNSPECIFIED);
  s = QueryLeaveEvaluation(state, request, D("2025-10-02")).status();
  CHECK(s.message() == "last_session: 0 is not AM or PM");
  request.set_last_session(v1::PM);
  request.set_pupil_id("P9");
  CHECK(QueryLeaveEvaluation(state, request, D("2025-10-02")).status().code() ==
        absl::StatusCode::kNotFound);
  request.set_school_id("nowhere");
  CHECK(QueryLeaveEvaluation(state, request, D("2025-10-02")).status().code() ==
        absl::StatusCode::kNotFound);
}

// --- Penalty notices per parent and child ----------------------------------

// P1's 10 unauthorised sessions by 2025-11-04.
const Absences kTruantSessions = {{{"2025-10-20", 0}, "O"}, {{"2025-10-20", 1}, "O"},
                                  {{"2025-10-21", 0}, "O"}, {{"2025-10-21", 1}, "O"},
                                  {{"2025-10-22", 0}, "O"}, {{"2025-10-22", 1}, "U"},
                                  {{"2025-11-03", 0}, "G"}, {{"2025-11-03", 1}, "G"},
                                  {{"2025-11-04", 0}, "G"}, {{"2025-11-04", 1}, "G"}};

// P1 with 10 unauthorised sessions by 2025-11-04 (`absences`): the national
// penalty-notice consideration is due that day.
EventLog TruantSchool(const Absences& absences = kTruantSessions) {
  EventLog log = School(LoadPolicy(kNational));
  Register(log, "P1", "2025-09-01", "2025-11-04", absences);
  return log;
}

void Notice(EventLog& log, const char* action_id, const char* parent, const char* on) {
  log.Action("P1", action_id, v1::PENALTY_NOTICE_ISSUED, D(on)).set_parent_id(parent);
}

v1::PupilEscalation PupilOn(const EventLog& log, const char* as_of) {
  v1::GetPupilEscalationRequest request;
  request.set_school_id("school-1");
  request.set_pupil_id("P1");
  request.set_as_of(as_of);
  absl::StatusOr<v1::PupilEscalation> result = QueryPupilEscalation(Fold(log), request, 0);
  REQUIRE(result.ok());
  return *result;
}

const v1::DueAction& PenaltyDue(const v1::PupilEscalation& e) {
  for (const v1::DueAction& a : e.due()) {
    if (a.rule_id() == "penalty_notice_10_in_10") return a;
  }
  FAIL("no penalty notice due");
  return e.due(0);
}

const v1::ParentNotices& ParentOf(const v1::PupilEscalation& e, const std::string& id) {
  for (const v1::ParentNotices& p : e.penalty_notices()) {
    if (p.parent_id() == id) return p;
  }
  FAIL("no parent " << id);
  return e.penalty_notices(0);
}

TEST_CASE("penalty notices: first and second per parent, two parents counted separately",
          "[escalation][penalty]") {
  EventLog log = TruantSchool();
  {
    const v1::PupilEscalation e = PupilOn(log, "2025-11-04");
    // The carers with parental responsibility; the step-parent without it
    // is not a parent a notice goes to.
    REQUIRE(e.penalty_notices_size() == 2);
    CHECK(ParentOf(e, "c-mother").next_notice() == 1);
    CHECK(ParentOf(e, "c-mother").sentence() ==
          "first notice to Ann Family within 3 years: GBP 80 if paid within 21 days, GBP 160 "
          "within 28");
    const v1::DueAction& due = PenaltyDue(e);
    CHECK(due.action() == v1::PENALTY_NOTICE_CONSIDERATION);
    CHECK(absl::EndsWith(due.explanation().sentence(),
                         "-> penalty notice consideration due; first notice to Ann Family within "
                         "3 years: GBP 80 if paid within 21 days, GBP 160 within 28; first notice "
                         "to Bob Family within 3 years: GBP 80 if paid within 21 days, GBP 160 "
                         "within 28"));
  }
  // One earlier notice to the mother (within 3 years): her next is the
  // second; the father's is still the first.
  Notice(log, "pn-2024", "c-mother", "2024-03-01");
  {
    const v1::PupilEscalation e = PupilOn(log, "2025-11-04");
    const v1::ParentNotices& mother = ParentOf(e, "c-mother");
    CHECK(mother.issued_within_3_years() == 1);
    REQUIRE(mother.action_ids_size() == 1);
    CHECK(mother.action_ids(0) == "pn-2024");
    CHECK(mother.next_notice() == 2);
    CHECK(ParentOf(e, "c-father").next_notice() == 1);
    CHECK(absl::StrContains(PenaltyDue(e).explanation().sentence(),
                            "second notice to Ann Family within 3 years: GBP 160, no reduction"));
  }
}

TEST_CASE(
    "penalty notices: after two in 3 years no third, the local authority instead; "
    "withdrawn and older notices do not count",
    "[escalation][penalty]") {
  EventLog log = TruantSchool();
  Notice(log, "pn-old", "c-mother", "2022-11-04");  // exactly 3 years before: out
  Notice(log, "pn-m1", "c-mother", "2023-12-01");
  Notice(log, "pn-m2", "c-mother", "2024-06-01");
  {
    const v1::PupilEscalation e = PupilOn(log, "2025-11-04");
    CHECK(ParentOf(e, "c-mother").issued_within_3_years() == 2);
    CHECK(ParentOf(e, "c-mother").next_notice() == 0);
    // The father may still get one: the consideration stays due.
    const v1::DueAction& due = PenaltyDue(e);
    CHECK(due.action() == v1::PENALTY_NOTICE_CONSIDERATION);
    CHECK(absl::StrContains(due.explanation().sentence(),
                            "first notice to Bob Family within 3 years"));
    CHECK(absl::StrContains(due.explanation().sentence(),
                            "Ann Family has had 2 notices within 3 years: no third, refer to the "
                            "local authority"));
  }
  Notice(log, "pn-f1", "c-father", "2024-01-10");
  Notice(log, "pn-f2", "c-father", "2025-01-10");
  {
    const v1::PupilEscalation e = PupilOn(log, "2025-11-04");
    const v1::DueAction& due = PenaltyDue(e);
    CHECK(due.action() == v1::REFERRAL);
    CHECK(absl::EndsWith(due.explanation().sentence(),
                         "Ann Family has had 2 notices within 3 years: no third, refer to the "
                         "local authority; Bob Family has had 2 notices within 3 years: no third, "
                         "refer to the local authority -> referral to the local authority due "
                         "instead"));
  }
  // The father's second notice withdrawn: it no longer counts.
  log.Action("P1", "pn-f2-withdrawn", v1::PENALTY_NOTICE_WITHDRAWN, D("2025-02-01"))
      .set_reviews_action_id("pn-f2");
  {
    const v1::PupilEscalation e = PupilOn(log, "2025-11-04");
    CHECK(ParentOf(e, "c-father").issued_within_3_years() == 1);
    CHECK(ParentOf(e, "c-father").next_notice() == 2);
    CHECK(PenaltyDue(e).action() == v1::PENALTY_NOTICE_CONSIDERATION);
  }
}

std::vector<std::string> ReviewReasons(const EventLog& log) {
  const v1::PupilEscalation e = PupilOn(log, "2025-11-04");
  const v1::DueAction& due = PenaltyDue(e);
  return {due.review_reasons().begin(), due.review_reasons().end()};
}

TEST_CASE(
    "penalty notices: the guards send a consideration for review, not straight on: an "
    "unresolved N in the window, below compulsory school age at its edge, illness only, SEND",
    "[escalation][penalty]") {
  CHECK(ReviewReasons(TruantSchool()).empty());  // no guard holds
  {
    // One of the ten an N: counted (any mix of G/N/O/U), but unresolved.
    Absences with_n = kTruantSessions;
    with_n[{"2025-10-22", 0}] = "N";
    EventLog log = TruantSchool(with_n);
    const v1::PupilEscalation e = PupilOn(log, "2025-11-04");
    const v1::DueAction& due = PenaltyDue(e);
    CHECK(due.action() == v1::PENALTY_NOTICE_CONSIDERATION);
    REQUIRE(due.review_reasons_size() == 1);
    CHECK(absl::StartsWith(due.review_reasons(0),
                           "1 unresolved N code in the window (2025-10-22 AM, "));
    CHECK(absl::EndsWith(due.review_reasons(0),
                         "): resolve them first, local authorities return such requests"));
    CHECK(absl::StrContains(due.explanation().sentence(),
                            "-> penalty notice consideration due; for review, not straight on: 1 "
                            "unresolved N code in the window (2025-10-22 AM, "));
    // Resolved (N -> O): straight on again.
    log.Amend("P1", D("2025-10-22"), v1::AM, "N", "O", D("2025-11-04"));
    CHECK(ReviewReasons(log).empty());
  }
  {
    // Compulsory school age: from the prescribed day (31 Mar, 31 Aug, 31
    // Dec) on or after the fifth birthday.
    auto with_birthday = [](const char* dob) {
      EventLog log = TruantSchool();
      v1::Pupil p = PupilWithCarers("P1");
      p.set_date_of_birth(dob);
      log.Update(p, D("2025-09-01"), D("2025-09-01"));
      return ReviewReasons(log);
    };
    CHECK(with_birthday("2020-08-31").empty());  // five on 2025-08-31, a prescribed day
    CHECK(with_birthday("2020-09-01") ==
          std::vector<std::string>{"below compulsory school age (born 2020-09-01, of compulsory "
                                   "school age from 2025-12-31)"});
    CHECK(with_birthday("2016-02-29").empty());
  }
  {
    EventLog log = TruantSchool();
    v1::Pupil p = PupilWithCarers("P1");
    p.set_send(v1::EHC_PLAN);
    log.Update(p, D("2025-09-01"), D("2025-09-01"));
    CHECK(ReviewReasons(log) == std::vector<std::string>{"SEND (EHC plan)"});
  }
  {
    // Illness only: each of the ten first recorded as I, the school not
    // accepting it; with one not from I, the guard does not hold.
    Absences ill;
    for (const auto& [session, code] : kTruantSessions) ill[session] = "I";
    EventLog log = TruantSchool(ill);
    const v1::PupilEscalation before = PupilOn(log, "2025-11-04");
    CHECK(std::none_of(before.due().begin(), before.due().end(), [](const v1::DueAction& a) {
      return a.rule_id() == "penalty_notice_10_in_10";
    }));
    EventLog all = log;
    for (const auto& [session, code] : kTruantSessions) {
      const v1::Session s = session.second == 0 ? v1::AM : v1::PM;
      all.Amend("P1", D(session.first.c_str()), s, "I", code, D("2025-11-04"));
      if (session != std::pair<std::string, int>{"2025-10-20", 0}) {
        log.Amend("P1", D(session.first.c_str()), s, "I", code, D("2025-11-04"));
      }
    }
    log.Amend("P1", D("2025-10-20"), v1::AM, "I", "/", D("2025-11-04"));
    log.Mark("P1", D("2025-11-05"), v1::AM, "O");  // still ten unauthorised
    CHECK(ReviewReasons(all) ==
          std::vector<std::string>{
              "illness only: all 10 counted sessions were first recorded as illness (I)"});
    const v1::PupilEscalation after = PupilOn(log, "2025-11-05");
    CHECK(PenaltyDue(after).review_reasons().empty());
  }
}

TEST_CASE("penalty notices survive the read model's checkpoint", "[escalation][penalty]") {
  EventLog log = TruantSchool();
  Notice(log, "pn-m1", "c-mother", "2024-06-01");
  const EscalationState state = Fold(log);
  absl::StatusOr<EscalationState> decoded = EscalationState::Decode(state.Encode());
  REQUIRE(decoded.ok());
  CHECK(decoded->Encode() == state.Encode());
  v1::GetPupilEscalationRequest request;
  request.set_school_id("school-1");
  request.set_pupil_id("P1");
  request.set_as_of("2025-11-04");
  absl::StatusOr<v1::PupilEscalation> e = QueryPupilEscalation(*decoded, request, 0);
  REQUIRE(e.ok());
  CHECK(ParentOf(*e, "c-mother").next_notice() == 2);
}

}  // namespace
}  // namespace attendance::projections
