// Leave requests in the ledger (RequestLeave, DecideLeave) and pupils'
// parents and carers: the events, the C marks approved leave pre-records in
// the same batch, retries, and refusals that name the field and write
// nothing.
#include <google/protobuf/text_format.h>

#include <catch2/catch.hpp>

#include <functional>
#include <vector>

#include "ledger/ledger.h"
#include "support/fixtures.h"
#include "support/ledger_events.h"

namespace attendance::testing {
namespace {

// The fixture's clock stands on Thursday 2025-10-09; the default planned
// horizon is 28 days (to 2025-11-06); half-term is 2025-10-27..31.
v1::UpdatePupilRequest WithCarers(const std::string& pupil_id) {
  v1::UpdatePupilRequest request;
  request.set_school_id("s1");
  request.set_request_id("carers-" + pupil_id);
  *request.mutable_pupil() = Enrol("s1", pupil_id).pupil();
  request.set_effective_from("2025-09-01");
  v1::Carer* mother = request.mutable_pupil()->add_carers();
  mother->set_carer_id("c-mother");
  mother->set_given_name("Ann");
  mother->set_family_name("Family");
  mother->set_relationship(v1::MOTHER);
  mother->set_has_parental_responsibility(true);
  v1::Carer* father = request.mutable_pupil()->add_carers();
  father->set_carer_id("c-father");
  father->set_given_name("Bob");
  father->set_family_name("Family");
  father->set_relationship(v1::FATHER);
  father->set_has_parental_responsibility(true);
  return request;
}

v1::RequestLeaveRequest Leave(const std::string& request_id) {
  v1::RequestLeaveRequest request;
  request.set_school_id("s1");
  request.set_request_id(request_id);
  request.set_pupil_id("p1");
  request.set_leave_id("leave-1");
  request.set_first_date("2025-10-20");  // Monday
  request.set_first_session(v1::AM);
  request.set_last_date("2025-10-22");  // Wednesday
  request.set_last_session(v1::PM);
  request.set_reason("grandparent's funeral abroad");
  request.set_requested_by("c-mother");
  return request;
}

v1::DecideLeaveRequest Decide(const std::string& request_id, bool approved) {
  v1::DecideLeaveRequest request;
  request.set_school_id("s1");
  request.set_request_id(request_id);
  request.set_pupil_id("p1");
  request.set_leave_id("leave-1");
  request.set_approved(approved);
  request.set_reason(approved ? "exceptional circumstances" : "not exceptional");
  return request;
}

struct LeaveFixture : LedgerFixture {
  LeaveFixture() : LedgerFixture(2) {
    REQUIRE(ledger->UpdatePupil(kOfficer, WithCarers("p1")).ok());
  }
};

TEST_CASE("RequestLeave records the request; approval pre-records C for each school session",
          "[ledger][leave]") {
  LeaveFixture f;
  const v1::RequestLeaveRequest request = Leave("leave-req-1");
  auto requested = f.ledger->RequestLeave(kOfficer, request);
  REQUIRE(requested.ok());
  CHECK_FALSE(requested->replayed());
  std::vector<v1::EventEnvelope> events = EventsFrom(*f.ledger, requested->position());
  REQUIRE(events.size() == 1);
  REQUIRE(events[0].has_leave_requested());
  const v1::LeaveRequested& stored = events[0].leave_requested();
  CHECK(stored.leave_id() == "leave-1");
  CHECK(stored.first_date() == "2025-10-20");
  CHECK(stored.last_session() == v1::PM);
  CHECK(stored.requested_by() == "c-mother");
  CHECK(stored.requested_on() == "2025-10-09");
  CHECK(stored.recorded_by().name() == kOfficer.name);
  auto again = f.ledger->RequestLeave(kOfficer, request);
  REQUIRE(again.ok());
  CHECK(again->replayed());
  CHECK(again->position() == requested->position());

  const v1::DecideLeaveRequest decide = Decide("leave-dec-1", true);
  auto decided = f.ledger->DecideLeave(kOfficer, decide);
  REQUIRE(decided.ok());
  CHECK(decided->sessions_recorded() == 6);
  CHECK(decided->last_position() == decided->position() + 6);
  CHECK(decided->last_position() == f.ledger->LastPosition());
  events = EventsFrom(*f.ledger, decided->position());
  REQUIRE(events.size() == 7);
  REQUIRE(events[0].has_leave_decided());
  CHECK(events[0].leave_decided().approved());
  CHECK(events[0].leave_decided().sessions_recorded() == 6);
  CHECK(events[0].leave_decided().decided_by().role() == kOfficer.role);
  const std::vector<std::pair<std::string, v1::Session>> expected = {
      {"2025-10-20", v1::AM}, {"2025-10-20", v1::PM}, {"2025-10-21", v1::AM},
      {"2025-10-21", v1::PM}, {"2025-10-22", v1::AM}, {"2025-10-22", v1::PM}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const v1::EventEnvelope& e = events[i + 1];
    REQUIRE(e.has_mark_recorded());
    CHECK(e.mark_recorded().code() == "C");
    CHECK(e.mark_recorded().date() == expected[i].first);
    CHECK(e.mark_recorded().session() == expected[i].second);
    CHECK(e.mark_recorded().comment() == "leave leave-1 approved on 2025-10-09");
    CHECK(e.stream_version() == events[0].stream_version() + 1 + i);
  }
  // A retry replays; a second decision is refused; the sessions are marked.
  auto replayed = f.ledger->DecideLeave(kOfficer, decide);
  REQUIRE(replayed.ok());
  CHECK(replayed->replayed());
  f.Reopen();
  // The carers are sealed with the pupil's details (ADR 0003): the reopened
  // ledger still knows them, so their requests are taken and others' are not.
  v1::RequestLeaveRequest after_reopen = Leave("leave-req-after-reopen");
  after_reopen.set_leave_id("leave-after-reopen");
  after_reopen.set_first_date("2025-11-03");
  after_reopen.set_last_date("2025-11-03");
  after_reopen.set_requested_by("c-father");
  CHECK(f.ledger->RequestLeave(kOfficer, after_reopen).ok());
  after_reopen.set_request_id("leave-req-stranger");
  after_reopen.set_leave_id("leave-stranger");
  after_reopen.set_requested_by("c-stranger");
  CHECK(f.ledger->RequestLeave(kOfficer, after_reopen).status().code() ==
        absl::StatusCode::kFailedPrecondition);
  const ledger::Position before = f.ledger->LastPosition();
  auto twice = f.ledger->DecideLeave(kOfficer, Decide("leave-dec-2", false)).status();
  CHECK(twice.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(twice.message() == "leave_id: leave request \"leave-1\" is already decided");
  v1::RecordMarksRequest mark;
  mark.set_school_id("s1");
  mark.set_request_id("mark-over-leave");
  *mark.add_marks() = MakeMark("p1", "2025-10-21", v1::AM, "M");
  CHECK(f.ledger->RecordMarks(kOfficer, mark).status().code() == absl::StatusCode::kAlreadyExists);
  CHECK(f.ledger->LastPosition() == before);
}

TEST_CASE("A refused leave writes the decision only; sessions skip closures and start at PM",
          "[ledger][leave]") {
  LeaveFixture f;
  v1::RequestLeaveRequest request = Leave("r1");
  // 2025-09-30 PM .. 2025-10-01 PM: year 7 is closed on the morning of 1 Oct.
  request.set_first_date("2025-09-30");
  request.set_first_session(v1::PM);
  request.set_last_date("2025-10-01");
  f.now_us = 1'759'100'000'000'000;  // 2025-09-28
  REQUIRE(f.ledger->RequestLeave(kOfficer, request).ok());
  v1::RequestLeaveRequest second = Leave("r2");
  second.set_leave_id("leave-2");
  REQUIRE(f.ledger->RequestLeave(kOfficer, second).ok());

  auto refused = f.ledger->DecideLeave(kOfficer, Decide("d1", false));
  REQUIRE(refused.ok());
  CHECK(refused->sessions_recorded() == 0);
  CHECK(refused->last_position() == refused->position());
  CHECK(refused->position() == f.ledger->LastPosition());

  v1::DecideLeaveRequest approve = Decide("d2", true);
  approve.set_leave_id("leave-2");
  // leave-1 was 2025-09-30 PM + 2025-10-01 PM only: 2 sessions, had it been
  // approved; leave-2 has 6.
  auto approved = f.ledger->DecideLeave(kOfficer, approve);
  REQUIRE(approved.ok());
  CHECK(approved->sessions_recorded() == 6);

  v1::RequestLeaveRequest third = Leave("r3");
  third.set_leave_id("leave-3");
  third.set_first_date("2025-09-30");
  third.set_first_session(v1::PM);
  third.set_last_date("2025-10-01");
  REQUIRE(f.ledger->RequestLeave(kOfficer, third).ok());
  v1::DecideLeaveRequest approve3 = Decide("d3", true);
  approve3.set_leave_id("leave-3");
  auto approved3 = f.ledger->DecideLeave(kOfficer, approve3);
  REQUIRE(approved3.ok());
  CHECK(approved3->sessions_recorded() == 2);
  const std::vector<v1::EventEnvelope> events = EventsFrom(*f.ledger, approved3->position() + 1);
  REQUIRE(events.size() == 2);
  CHECK(events[0].mark_recorded().date() == "2025-09-30");
  CHECK(events[0].mark_recorded().session() == v1::PM);
  CHECK(events[1].mark_recorded().date() == "2025-10-01");
  CHECK(events[1].mark_recorded().session() == v1::PM);
}

TEST_CASE("Leave requests and decisions refuse a bad request, naming the field, writing nothing",
          "[ledger][leave]") {
  LeaveFixture f;
  REQUIRE(f.ledger->RequestLeave(kOfficer, Leave("taken")).ok());
  v1::RequestLeaveRequest late = Leave("late");
  late.set_leave_id("leave-late");
  late.set_first_date("2025-11-10");  // beyond the 28-day horizon
  late.set_last_date("2025-11-11");
  REQUIRE(f.ledger->RequestLeave(kOfficer, late).ok());
  v1::RecordMarksRequest mark;
  mark.set_school_id("s1");
  mark.set_request_id("planned-m");
  *mark.add_marks() = MakeMark("p1", "2025-10-21", v1::PM, "M");
  REQUIRE(f.ledger->RecordMarks(kOfficer, mark).ok());
  const ledger::Position before = f.ledger->LastPosition();

  struct Case {
    const char* name;
    std::function<void(v1::RequestLeaveRequest&)> change;
    absl::StatusCode code;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"not a carer", [](auto& r) { r.set_requested_by("c-stranger"); },
       absl::StatusCode::kFailedPrecondition,
       "requested_by: \"c-stranger\" is not one of pupil \"p1\"'s parents or carers (EnrolPupil "
       "or UpdatePupil records them)"},
      {"pupil without carers",
       [](auto& r) {
         r.set_pupil_id("p2");
         r.set_leave_id("other");
       },
       absl::StatusCode::kFailedPrecondition, nullptr},
      {"same leave id", [](auto&) {}, absl::StatusCode::kAlreadyExists,
       "leave_id: pupil \"p1\" already has leave request \"leave-1\""},
      {"unknown pupil", [](auto& r) { r.set_pupil_id("nobody"); }, absl::StatusCode::kNotFound,
       nullptr},
      {"weekend only",
       [](auto& r) {
         r.set_first_date("2025-10-18");
         r.set_last_date("2025-10-19");
       },
       absl::StatusCode::kInvalidArgument,
       "first_date: 2025-10-18..2025-10-19 holds no school session for the pupil (weekends, "
       "holidays, closures)"},
      {"in the past", [](auto& r) { r.set_first_date("2025-10-08"); },
       absl::StatusCode::kInvalidArgument,
       "first_date: 2025-10-08 is before today, 2025-10-09 (leave is requested ahead and never "
       "granted retrospectively)"},
      {"backwards", [](auto& r) { r.set_last_date("2025-10-17"); },
       absl::StatusCode::kInvalidArgument,
       "last_date: 2025-10-17 PM is before first_date 2025-10-20 AM"},
      {"same day PM to AM",
       [](auto& r) {
         r.set_last_date("2025-10-20");
         r.set_first_session(v1::PM);
         r.set_last_session(v1::AM);
       },
       absl::StatusCode::kInvalidArgument, nullptr},
      {"no reason", [](auto& r) { r.clear_reason(); }, absl::StatusCode::kInvalidArgument, nullptr},
      {"no session", [](auto& r) { r.clear_first_session(); }, absl::StatusCode::kInvalidArgument,
       nullptr},
      {"no calendar", [](auto& r) { r.set_last_date("2026-09-10"); },
       absl::StatusCode::kFailedPrecondition, nullptr},
      {"over a year", [](auto& r) { r.set_last_date("2026-10-21"); },
       absl::StatusCode::kInvalidArgument, nullptr},
  };
  int n = 0;
  for (const Case& c : cases) {
    SECTION(c.name) {
      v1::RequestLeaveRequest request = Leave("bad-" + std::to_string(n));
      c.change(request);
      const absl::Status s = f.ledger->RequestLeave(kOfficer, request).status();
      CHECK(s.code() == c.code);
      if (c.message != nullptr) CHECK(s.message() == c.message);
      CHECK(f.ledger->LastPosition() == before);
    }
    ++n;
  }

  SECTION("decisions") {
    v1::DecideLeaveRequest unknown = Decide("d-unknown", true);
    unknown.set_leave_id("leave-9");
    auto s = f.ledger->DecideLeave(kOfficer, unknown).status();
    CHECK(s.code() == absl::StatusCode::kNotFound);
    CHECK(s.message() == "leave_id: pupil \"p1\" has no leave request \"leave-9\"");
    v1::DecideLeaveRequest no_reason = Decide("d-no-reason", true);
    no_reason.clear_reason();
    CHECK(f.ledger->DecideLeave(kOfficer, no_reason).status().code() ==
          absl::StatusCode::kInvalidArgument);
    // One session of the range already has a mark: nothing is written.
    s = f.ledger->DecideLeave(kOfficer, Decide("d-marked", true)).status();
    CHECK(s.code() == absl::StatusCode::kAlreadyExists);
    CHECK(s.message() ==
          "leave \"leave-1\" sessions[3]: pupil \"p1\" already has mark \"M\" for 2025-10-21 PM; "
          "amend or withdraw it before approving the leave");
    // Beyond the planned-codes horizon: refused as a mark would be.
    v1::DecideLeaveRequest far = Decide("d-far", true);
    far.set_leave_id("leave-late");
    s = f.ledger->DecideLeave(kOfficer, far).status();
    CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
    CHECK(f.ledger->LastPosition() == before);
    // Refusing it needs no marks, so the horizon does not matter.
    far.set_request_id("d-far-refused");
    far.set_approved(false);
    REQUIRE(f.ledger->DecideLeave(kOfficer, far).ok());
    CHECK(f.ledger->LastPosition() == before + 1);
  }
}

TEST_CASE("Carers are validated; a penalty notice names one of the pupil's carers",
          "[ledger][leave]") {
  LeaveFixture f;
  const ledger::Position before = f.ledger->LastPosition();
  auto refused = [&](std::function<void(v1::Pupil&)> change) {
    v1::UpdatePupilRequest request = WithCarers("p1");
    request.set_request_id("bad-carers");
    change(*request.mutable_pupil());
    const absl::Status s = f.ledger->UpdatePupil(kOfficer, request).status();
    CHECK(f.ledger->LastPosition() == before);
    return s;
  };
  absl::Status s = refused([](v1::Pupil& p) {
    for (int i = 0; i < 7; ++i) *p.add_carers() = p.carers(0);
  });
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() == "pupil.carers: 9 carers is more than the limit of 8");
  s = refused([](v1::Pupil& p) { p.mutable_carers(1)->set_carer_id("c-mother"); });
  CHECK(s.message() == "pupil.carers[1].carer_id: \"c-mother\" repeats carers[0]");
  s = refused([](v1::Pupil& p) {
    p.mutable_carers(1)->clear_given_name();
    p.mutable_carers(1)->clear_family_name();
  });
  CHECK(s.message() == "pupil.carers[1].family_name: a carer needs a given or family name");
  s = refused([](v1::Pupil& p) { p.mutable_carers(0)->set_given_name(std::string(101, 'x')); });
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  s = refused(
      [](v1::Pupil& p) { p.mutable_carers(0)->set_relationship(v1::CarerRelationship(99)); });
  CHECK(s.message() == "pupil.carers[0].relationship: 99 is unknown");
  s = refused([](v1::Pupil& p) { p.mutable_carers(0)->set_carer_id("no spaces"); });
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);

  v1::RecordActionRequest notice;
  notice.set_school_id("s1");
  notice.set_request_id("pn-stranger");
  notice.set_pupil_id("p1");
  notice.set_action_id("pn-1");
  notice.set_kind(v1::PENALTY_NOTICE_ISSUED);
  notice.set_happened_on("2025-10-08");
  notice.set_parent_id("c-stranger");
  notice.set_parent_name("A. Stranger");
  s = f.ledger->RecordAction(kOfficer, notice).status();
  CHECK(s.code() == absl::StatusCode::kFailedPrecondition);
  CHECK(s.message() ==
        "parent_id: \"c-stranger\" is not one of pupil \"p1\"'s parents or carers (\"c-mother\", "
        "\"c-father\"; EnrolPupil or UpdatePupil records them)");
  CHECK(f.ledger->LastPosition() == before);
  notice.set_request_id("pn-mother");
  notice.set_parent_id("c-mother");
  REQUIRE(f.ledger->RecordAction(kOfficer, notice).ok());

  v1::RecordActionRequest withdraw;
  withdraw.set_school_id("s1");
  withdraw.set_request_id("pn-withdraw-bad");
  withdraw.set_pupil_id("p1");
  withdraw.set_action_id("pn-1-withdrawn");
  withdraw.set_kind(v1::PENALTY_NOTICE_WITHDRAWN);
  withdraw.set_happened_on("2025-10-09");
  withdraw.set_reviews_action_id("pn-9");
  s = f.ledger->RecordAction(kOfficer, withdraw).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() ==
        "reviews_action_id: a PENALTY_NOTICE_WITHDRAWN names the pupil's PENALTY_NOTICE_ISSUED it "
        "withdraws; \"pn-9\" is not one");
  withdraw.set_request_id("pn-withdraw");
  withdraw.set_reviews_action_id("pn-1");
  REQUIRE(f.ledger->RecordAction(kOfficer, withdraw).ok());
}

TEST_CASE("RecordAction's step and trigger must be in the school's policy once it has one",
          "[ledger][leave]") {
  LeaveFixture f;
  v1::RecordActionRequest meeting;
  meeting.set_school_id("s1");
  meeting.set_request_id("before-policy");
  meeting.set_pupil_id("p1");
  meeting.set_action_id("meeting-0");
  meeting.set_kind(v1::MEETING_HELD);
  meeting.set_step_id("anything");
  meeting.set_happened_on("2025-10-08");
  // Before the school's first policy nothing is checked.
  REQUIRE(f.ledger->RecordAction(kOfficer, meeting).ok());
  v1::SetEscalationPolicyRequest policy;
  policy.set_school_id("s1");
  policy.set_request_id("policy");
  REQUIRE(google::protobuf::TextFormat::ParseFromString(
      R"(policy_id: "p" version: "1"
         triggers { trigger_id: "pn" kind: COUNT_IN_WINDOW unit: SESSIONS codes: ["O"]
                    threshold: 10 window { kind: POLICY_ROLLING_SCHOOL_WEEKS weeks: 10 }
                    action: PENALTY_NOTICE_CONSIDERATION }
         ladders { ladder_id: "l" steps { step_id: "meeting_1" action: MEETING
           attendance { window { kind: POLICY_YEAR_TO_DATE } basis_points: 9500
                        comparison: BELOW } } })",
      policy.mutable_policy()));
  REQUIRE(f.ledger->SetEscalationPolicy(kOfficer, policy).ok());
  f.Reopen();  // the policy's ids come back with the hot state
  const ledger::Position before = f.ledger->LastPosition();
  meeting.set_request_id("unknown-step");
  meeting.set_action_id("meeting-1");
  meeting.set_step_id("meeting_9");
  absl::Status s = f.ledger->RecordAction(kOfficer, meeting).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(
      s.message() ==
      "step_id: \"meeting_9\" is not a step of the school's escalation policy \"p\" version \"1\"");
  meeting.set_request_id("unknown-trigger");
  meeting.set_step_id("meeting_1");
  meeting.set_trigger_id("pm");
  s = f.ledger->RecordAction(kOfficer, meeting).status();
  CHECK(
      s.message() ==
      "trigger_id: \"pm\" is not a trigger of the school's escalation policy \"p\" version \"1\"");
  CHECK(f.ledger->LastPosition() == before);
  meeting.set_request_id("known");
  meeting.set_trigger_id("pn");
  REQUIRE(f.ledger->RecordAction(kOfficer, meeting).ok());
}

}  // namespace
}  // namespace attendance::testing
