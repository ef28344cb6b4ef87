// RecordAction in the ledger: an ActionRecorded on the pupil's stream with
// the authenticated actor, retries replay (also after a restart), and every
// refusal names its field and writes nothing.
#include <google/protobuf/text_format.h>

#include <catch2/catch.hpp>

#include "ledger/ledger.h"
#include "support/fixtures.h"
#include "support/ledger_events.h"

namespace attendance::testing {
namespace {

// The fixture's clock stands on 2025-10-09.
v1::RecordActionRequest Meeting(const std::string& request_id) {
  v1::RecordActionRequest request;
  request.set_school_id("s1");
  request.set_request_id(request_id);
  request.set_pupil_id("p1");
  request.set_action_id("meeting-1");
  request.set_kind(v1::MEETING_HELD);
  request.set_step_id("meeting_1");
  request.set_happened_on("2025-10-08");
  request.set_outcome("parent agreed a target");
  request.set_target_basis_points(9600);
  request.set_review_on("2025-11-14");
  return request;
}

TEST_CASE("RecordAction appends an ActionRecorded; a retry replays", "[ledger]") {
  LedgerFixture f(1);
  const v1::RecordActionRequest request = Meeting("action-1");
  auto first = f.ledger->RecordAction(kOfficer, request);
  REQUIRE(first.ok());
  CHECK_FALSE(first->replayed());
  CHECK(first->position() == f.ledger->LastPosition());
  const v1::EventEnvelope stored = EventAt(*f.ledger, first->position());
  CHECK(stored.pupil_id() == "p1");
  REQUIRE(stored.has_action_recorded());
  const v1::ActionRecorded& action = stored.action_recorded();
  CHECK(action.action_id() == "meeting-1");
  CHECK(action.kind() == v1::MEETING_HELD);
  CHECK(action.step_id() == "meeting_1");
  CHECK(action.target_basis_points() == 9600);
  CHECK(action.review_on() == "2025-11-14");
  CHECK(action.recorded_by().name() == kOfficer.name);
  CHECK(action.recorded_by().role() == kOfficer.role);

  auto again = f.ledger->RecordAction(kOfficer, request);
  REQUIRE(again.ok());
  CHECK(again->replayed());
  CHECK(again->position() == first->position());
  f.Reopen();
  auto replayed = f.ledger->RecordAction(kOfficer, request);
  REQUIRE(replayed.ok());
  CHECK(replayed->replayed());
  // After the restart the action id is still taken (the state was rebuilt).
  v1::RecordActionRequest twice = Meeting("action-2");
  auto s = f.ledger->RecordAction(kOfficer, twice).status();
  CHECK(s.code() == absl::StatusCode::kAlreadyExists);
  CHECK(s.message() == "action_id: pupil \"p1\" already has action \"meeting-1\"");

  // A penalty notice names its parent, one of the pupil's carers; a review
  // names the meeting it reviews.
  v1::UpdatePupilRequest carers;
  carers.set_school_id("s1");
  carers.set_request_id("carers");
  *carers.mutable_pupil() = Enrol("s1", "p1").pupil();
  carers.set_effective_from("2025-09-01");
  v1::Carer* carer = carers.mutable_pupil()->add_carers();
  carer->set_carer_id("carer-7");
  carer->set_given_name("P.");
  carer->set_family_name("Carer");
  REQUIRE(f.ledger->UpdatePupil(kOfficer, carers).ok());
  v1::RecordActionRequest notice = Meeting("action-3");
  notice.set_action_id("pn-1");
  notice.set_kind(v1::PENALTY_NOTICE_ISSUED);
  notice.clear_step_id();
  notice.set_trigger_id("penalty_notice_10_in_10");
  notice.clear_target_basis_points();
  notice.clear_review_on();
  notice.set_parent_id("carer-7");
  notice.set_parent_name("Mrs P. Carer");
  REQUIRE(f.ledger->RecordAction(kOfficer, notice).ok());
  v1::RecordActionRequest review = Meeting("action-4");
  review.set_action_id("review-1");
  review.clear_target_basis_points();
  review.clear_review_on();
  review.set_reviews_action_id("meeting-1");
  auto reviewed = f.ledger->RecordAction(kOfficer, review);
  REQUIRE(reviewed.ok());
  CHECK(EventAt(*f.ledger, reviewed->position()).action_recorded().reviews_action_id() ==
        "meeting-1");
}

TEST_CASE("RecordAction refuses a bad request, naming the field, and writes nothing", "[ledger]") {
  LedgerFixture f(1);
  REQUIRE(f.ledger->RecordAction(kOfficer, Meeting("taken")).ok());
  const ledger::Position before = f.ledger->LastPosition();
  struct Case {
    const char* name;
    std::function<void(v1::RecordActionRequest&)> change;
    absl::StatusCode code;
    const char* message;
  };
  const std::vector<Case> cases = {
      {"unknown pupil", [](auto& r) { r.set_pupil_id("nobody"); }, absl::StatusCode::kNotFound,
       nullptr},
      {"unknown school", [](auto& r) { r.set_school_id("nowhere"); }, absl::StatusCode::kNotFound,
       nullptr},
      {"no action id", [](auto& r) { r.clear_action_id(); }, absl::StatusCode::kInvalidArgument,
       nullptr},
      {"no kind", [](auto& r) { r.clear_kind(); }, absl::StatusCode::kInvalidArgument,
       "kind: 0 is not a recorded action kind"},
      {"unknown kind", [](auto& r) { r.set_kind(static_cast<v1::RecordedActionKind>(42)); },
       absl::StatusCode::kInvalidArgument, "kind: 42 is not a recorded action kind"},
      {"future", [](auto& r) { r.set_happened_on("2025-10-10"); },
       absl::StatusCode::kInvalidArgument, "happened_on: 2025-10-10 is in the future"},
      {"before the roll", [](auto& r) { r.set_happened_on("2025-08-29"); },
       absl::StatusCode::kInvalidArgument,
       "happened_on: pupil \"p1\" was not on roll on 2025-08-29"},
      {"bad date", [](auto& r) { r.set_happened_on("2025-13-01"); },
       absl::StatusCode::kInvalidArgument, nullptr},
      {"bad step id", [](auto& r) { r.set_step_id("no spaces"); },
       absl::StatusCode::kInvalidArgument, nullptr},
      {"long outcome", [](auto& r) { r.set_outcome(std::string(2001, 'x')); },
       absl::StatusCode::kInvalidArgument, nullptr},
      {"target over 100%", [](auto& r) { r.set_target_basis_points(10001); },
       absl::StatusCode::kInvalidArgument, "target_basis_points: 10001 is more than 10000 (100%)"},
      {"review before meeting", [](auto& r) { r.set_review_on("2025-10-08"); },
       absl::StatusCode::kInvalidArgument,
       "review_on: 2025-10-08 is not after happened_on, 2025-10-08"},
      {"target without review", [](auto& r) { r.clear_review_on(); },
       absl::StatusCode::kInvalidArgument,
       "review_on: a meeting that sets a target needs the date it is reviewed on"},
      {"target on a call",
       [](auto& r) {
         r.set_kind(v1::CALL_MADE);
         r.clear_review_on();
       },
       absl::StatusCode::kInvalidArgument,
       "target_basis_points: only a MEETING_HELD sets a target and a review date"},
      {"referral without agency",
       [](auto& r) {
         r.set_kind(v1::REFERRAL_MADE);
         r.clear_target_basis_points();
         r.clear_review_on();
       },
       absl::StatusCode::kInvalidArgument,
       "referred_to: 0 is not EDUCATION_WELFARE_OFFICER, EARLY_HELP or LOCAL_AUTHORITY"},
      {"agency on a meeting", [](auto& r) { r.set_referred_to(v1::EARLY_HELP); },
       absl::StatusCode::kInvalidArgument, "referred_to: only a REFERRAL_MADE names an agency"},
      {"notice without parent",
       [](auto& r) {
         r.set_kind(v1::PENALTY_NOTICE_ISSUED);
         r.clear_target_basis_points();
         r.clear_review_on();
       },
       absl::StatusCode::kInvalidArgument, nullptr},
      {"parent on a meeting", [](auto& r) { r.set_parent_id("carer-1"); },
       absl::StatusCode::kInvalidArgument,
       "parent_id: only a penalty notice names a parent or carer"},
      {"review of nothing", [](auto& r) { r.set_reviews_action_id("meeting-9"); },
       absl::StatusCode::kNotFound, "reviews_action_id: pupil \"p1\" has no action \"meeting-9\""},
      {"same action id", [](auto&) {}, absl::StatusCode::kAlreadyExists,
       "action_id: pupil \"p1\" already has action \"meeting-1\""},
  };
  int n = 0;
  for (const Case& c : cases) {
    SECTION(c.name) {
      v1::RecordActionRequest request = Meeting("bad-" + std::to_string(n));
      c.change(request);
      const absl::Status s = f.ledger->RecordAction(kOfficer, request).status();
      CHECK(s.code() == c.code);
      if (c.message != nullptr) CHECK(s.message() == c.message);
      CHECK(f.ledger->LastPosition() == before);
    }
    ++n;
  }
}

TEST_CASE("an action's kind must do its step; a letter only a letter step", "[ledger]") {
  LedgerFixture f(1);
  v1::SetEscalationPolicyRequest policy;
  policy.set_school_id("s1");
  policy.set_request_id("policy");
  REQUIRE(google::protobuf::TextFormat::ParseFromString(
      R"(policy_id: "p" version: "1"
         ladders { ladder_id: "l"
           steps { step_id: "letter_1" action: LETTER
             attendance { window { kind: POLICY_YEAR_TO_DATE } basis_points: 9500
                          comparison: BELOW } }
           steps { step_id: "meeting_1" action: MEETING after_step: "letter_1"
             attendance { window { kind: POLICY_YEAR_TO_DATE } basis_points: 9000
                          comparison: BELOW } } }
         improvement_rules { rule_id: "praise" ladder_id: "l" action: POSITIVE_LETTER
           attendance { window { kind: POLICY_ROLLING_SCHOOL_WEEKS weeks: 4 }
                        basis_points: 9600 comparison: AT_OR_ABOVE } })",
      policy.mutable_policy()));
  REQUIRE(f.ledger->SetEscalationPolicy(kOfficer, policy).ok());
  f.Reopen();  // the steps' kinds come back with the hot state
  const ledger::Position before = f.ledger->LastPosition();

  v1::RecordActionRequest meeting = Meeting("as-letter");
  meeting.set_step_id("letter_1");
  absl::Status s = f.ledger->RecordAction(kOfficer, meeting).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() ==
        "kind: MEETING_HELD does not do step \"letter_1\", a LETTER step of the school's "
        "escalation policy \"p\" version \"1\" (done by RecordLetter)");
  v1::RecordActionRequest call = Meeting("call-as-meeting");
  call.set_kind(v1::CALL_MADE);
  call.clear_target_basis_points();
  call.clear_review_on();
  s = f.ledger->RecordAction(kOfficer, call).status();
  CHECK(s.message() ==
        "kind: CALL_MADE does not do step \"meeting_1\", a MEETING step of the school's "
        "escalation policy \"p\" version \"1\" (done by MEETING_HELD or PANEL_HELD)");

  v1::RecordLetterRequest letter;
  letter.set_school_id("s1");
  letter.set_request_id("letter-as-meeting");
  letter.set_pupil_id("p1");
  letter.set_letter_id("meeting_1");
  letter.set_channel(v1::POST);
  letter.set_sent_on("2025-10-08");
  s = f.ledger->RecordLetter(kOfficer, letter).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() ==
        "letter_id: \"meeting_1\" is a MEETING step of the school's escalation policy \"p\" "
        "version \"1\", not a LETTER step (record it with RecordAction, kind MEETING_HELD or "
        "PANEL_HELD)");
  CHECK(f.ledger->LastPosition() == before);  // refusals write nothing

  // The right kinds pass: a panel does a meeting step, letters the letter
  // step and the positive letter, and a letter the policy does not name.
  meeting.set_step_id("meeting_1");
  meeting.set_kind(v1::PANEL_HELD);
  meeting.clear_target_basis_points();
  meeting.clear_review_on();
  CHECK(f.ledger->RecordAction(kOfficer, meeting).ok());
  for (const char* id : {"letter_1", "praise", "half_termly_report"}) {
    letter.set_request_id(std::string("letter-") + id);
    letter.set_letter_id(id);
    CHECK(f.ledger->RecordLetter(kOfficer, letter).ok());
  }
}

TEST_CASE("an action answering a trigger or a review point must do what it put due", "[ledger]") {
  LedgerFixture f(1);
  v1::SetEscalationPolicyRequest policy;
  policy.set_school_id("s1");
  policy.set_request_id("policy");
  REQUIRE(google::protobuf::TextFormat::ParseFromString(
      R"(policy_id: "p" version: "1"
         triggers { trigger_id: "home_visit_3_days" kind: CONSECUTIVE unit: WHOLE_DAYS
                    codes: ["G", "N", "O", "U"] threshold: 3
                    window { kind: POLICY_YEAR_TO_DATE } action: HOME_VISIT }
         triggers { trigger_id: "fast_track" kind: COUNT_IN_WINDOW unit: SESSIONS
                    codes: ["G", "N", "O", "U"] threshold: 10
                    window { kind: POLICY_ROLLING_SCHOOL_WEEKS weeks: 12 } }
         triggers { trigger_id: "register_not_taken" kind: NO_MARK_AFTER_CLOSE unit: SESSIONS
                    threshold: 1 window { kind: POLICY_HALF_TERM_TO_DATE } action: REGISTER_NOT_TAKEN }
         ladders { ladder_id: "l"
           steps { step_id: "letter_1" action: LETTER
             attendance { window { kind: POLICY_YEAR_TO_DATE } basis_points: 9500
                          comparison: BELOW } } }
         ladders { ladder_id: "ft"
           steps { step_id: "fast_track_1" action: LETTER trigger_id: "fast_track" } }
         review_points { review_id: "autumn_review" dates: ["10-15"] ladder_id: "l" })",
      policy.mutable_policy()));
  const absl::Status set = f.ledger->SetEscalationPolicy(kOfficer, policy).status();
  INFO(set.message());
  REQUIRE(set.ok());
  f.Reopen();  // the triggers' actions come back with the hot state
  const ledger::Position before = f.ledger->LastPosition();

  // Answering `trigger` with an action of `kind`, a new action each time.
  int n = 0;
  auto answer = [&](v1::RecordedActionKind kind, const char* trigger) {
    v1::RecordActionRequest r = Meeting("answer-" + std::to_string(++n));
    r.set_action_id("action-" + std::to_string(n));
    r.set_kind(kind);
    r.clear_step_id();
    r.clear_target_basis_points();
    r.clear_review_on();
    r.set_trigger_id(trigger);
    return f.ledger->RecordAction(kOfficer, r).status();
  };
  const absl::Status s = answer(v1::CALL_MADE, "home_visit_3_days");
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() ==
        "kind: CALL_MADE does not answer trigger \"home_visit_3_days\", a HOME_VISIT rule of the "
        "school's escalation policy \"p\" version \"1\" (answered by HOME_VISIT_MADE)");
  CHECK(answer(v1::PENALTY_NOTICE_REQUESTED, "autumn_review").message() ==
        "kind: PENALTY_NOTICE_REQUESTED does not answer review point \"autumn_review\", a REVIEW "
        "rule of the school's escalation policy \"p\" version \"1\" (answered by MEETING_HELD, "
        "HOME_VISIT_MADE, CALL_MADE or PANEL_HELD)");
  CHECK(answer(v1::CALL_MADE, "register_not_taken").message() ==
        "kind: CALL_MADE does not answer trigger \"register_not_taken\", a REGISTER_NOT_TAKEN "
        "rule of the school's escalation policy \"p\" version \"1\" (answered by the "
        "session's mark, RecordMarks)");
  CHECK(answer(v1::CALL_MADE, "fast_track").message() ==
        "trigger_id: \"fast_track\" is a trigger of the school's escalation policy \"p\" "
        "version \"1\" with no action of its own (it feeds ladder steps: answer the step with "
        "step_id)");
  CHECK(f.ledger->LastPosition() == before);  // refusals write nothing

  // The kinds that do it pass: a visit answers the visit, a call the review.
  CHECK(answer(v1::HOME_VISIT_MADE, "home_visit_3_days").ok());
  CHECK(answer(v1::CALL_MADE, "autumn_review").ok());
}

}  // namespace
}  // namespace attendance::testing
