// The escalation engine's listings and duties (issue 7): register not taken
// at its close time, actions an amendment superseded, ListEscalations, the
// first-response list of seeds 001 and 002, and SimulatePolicy over a real
// calendar.
#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "escalation_helpers.h"
#include "projections/escalation.h"
#include "projections/escalation_queries.h"
#include "projections/escalation_reports.h"

namespace attendance::projections {
namespace {

using namespace esc_test;  // NOLINT: test helpers

// The 2025-26 standard calendar, registers closing at 09:00 and 13:30.
EventLog School(const v1::EscalationPolicy& policy, const std::vector<v1::Pupil>& pupils) {
  EventLog log("school-1");
  v1::SchoolSettings settings;
  settings.set_school_name("Test");
  settings.set_am_register_closes("09:00");
  settings.set_pm_register_closes("13:30");
  log.Settings(settings, D("2025-08-01"));
  log.Calendar(testing::StandardCalendar(2025), D("2025-08-01"));
  log.Policy(policy, D("2025-08-01"));
  for (const v1::Pupil& p : pupils) log.Enrol(p, D("2025-09-01"), D("2025-08-01"));
  return log;
}

const v1::DueAction* Find(const google::protobuf::RepeatedPtrField<v1::DueAction>& list,
                          const std::string& rule) {
  for (const v1::DueAction& a : list) {
    if (a.rule_id() == rule) return &a;
  }
  return nullptr;
}

TEST_CASE("register not taken: a session with no mark once its register has closed",
          "[escalation]") {
  EventLog log = School(LoadPolicy(kNational), {testing::MakePupil("P1", 4)});
  Register(log, "P1", "2025-09-01", "2025-09-10");
  log.Enrol(testing::MakePupil("P2", 4), D("2025-09-08"), D("2025-09-05"));
  auto count = [&](const char* as_of, const char* time, const std::string& pupil = "P1") {
    // The evaluation outlives the pointer into it.
    const v1::PupilEscalation e = Evaluate(log, as_of, pupil, time);
    const v1::DueAction* due = Find(e.due(), "register_not_taken");
    return due == nullptr ? 0u : due->explanation().count();
  };
  // The AM register of Thursday 2025-09-11 closes at 09:00: open through
  // that minute, not taken from 09:01.
  CHECK(count("2025-09-11", "09:00") == 0);
  CHECK(count("2025-09-11", "09:01") == 1);
  CHECK(count("2025-09-11", "13:30") == 1);
  CHECK(count("2025-09-11", "13:31") == 2);
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-09-11", "P1", "09:01");
    const v1::DueAction* due = Find(e.due(), "register_not_taken");
    REQUIRE(due != nullptr);
    CHECK(due->action() == v1::REGISTER_NOT_TAKEN);
    CHECK(due->priority() == 110);
    CHECK(due->due_on() == "2025-09-11");
    REQUIRE(due->explanation().sessions_size() == 1);
    CHECK(due->explanation().sessions(0).session() == v1::AM);
    CHECK(due->explanation().sessions(0).code().empty());
    CHECK_THAT(due->explanation().sentence(),
               Catch::StartsWith("1 session with no mark after the register closed (") &&
                   Catch::EndsWith("on 2025-09-11 >= 1 -> register not taken due"));
  }
  // A past day is closed all day (the server's clock is at the end of it).
  CHECK(count("2025-09-12", "") == 4);
  log.Mark("P1", D("2025-09-11"), v1::AM, "/", D("2025-09-12"));
  CHECK(count("2025-09-12", "") == 3);
  // P2 is on roll from 2025-09-08: the days before do not count.
  CHECK(count("2025-09-09", "", "P2") == 4);
  // The next half-term starts afresh: Autumn 1's gaps are not in its window.
  Register(log, "P1", "2025-11-03", "2025-11-03");
  CHECK(count("2025-11-03", "") == 0);
  // Refused: a time that is not one.
  v1::GetPupilEscalationRequest bad;
  bad.set_school_id("school-1");
  bad.set_pupil_id("P1");
  bad.set_as_of_time("25:00");
  CHECK(QueryPupilEscalation(Fold(log), bad, D("2025-09-11")).status().message() ==
        "as_of_time: \"25:00\" is not a time of day HH:MM");
}

TEST_CASE("an amendment that removes a due action's basis supersedes it, naming the amendment",
          "[escalation]") {
  // Ten unauthorised sessions in 10 school weeks by 2025-11-04, as in the
  // national scenario.
  EventLog log = School(LoadPolicy(kNational), {testing::MakePupil("P1", 4)});
  Register(log, "P1", "2025-09-01", "2025-11-04",
           {{{"2025-10-20", 0}, "O"},
            {{"2025-10-20", 1}, "O"},
            {{"2025-10-21", 0}, "O"},
            {{"2025-10-21", 1}, "O"},
            {{"2025-10-22", 0}, "U"},
            {{"2025-10-22", 1}, "U"},
            {{"2025-11-03", 0}, "G"},
            {{"2025-11-03", 1}, "G"},
            {{"2025-11-04", 0}, "G"},
            {{"2025-11-04", 1}, "G"}});
  REQUIRE(Find(Evaluate(log, "2025-11-04", "P1").due(), "penalty_notice_10_in_10") != nullptr);
  EventLog answered = log;
  // The parent proves the Monday morning was illness: O -> I.
  Register(log, "P1", "2025-11-05", "2025-11-05");
  log.Amend("P1", D("2025-10-20"), v1::AM, "O", "I", D("2025-11-05"));
  const ledger::Position amendment = log.events().size();
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-11-05", "P1");
    CHECK(Find(e.due(), "penalty_notice_10_in_10") == nullptr);
    const v1::DueAction* superseded = Find(e.superseded(), "penalty_notice_10_in_10");
    REQUIRE(superseded != nullptr);
    CHECK(superseded->superseded());
    CHECK(superseded->superseded_by_position() == amendment);
    CHECK(superseded->superseded_on() == "2025-11-05");
    CHECK(superseded->due_on() == "2025-11-04");
    CHECK(superseded->explanation().count() == 10);  // as first recorded
    CHECK(superseded->superseded_note() ==
          absl::StrCat("superseded by the amendment at position ", amendment,
                       " recorded on 2025-11-05 (2025-10-20 AM O -> I): due on the marks as first "
                       "recorded, no longer due as amended"));
    // Before the amendment nothing is superseded.
    CHECK(Evaluate(log, "2025-11-04", "P1").superseded().empty());
  }
  {
    // The worklist shows it only when asked, flagged.
    v1::ListDueActionsRequest list;
    list.set_school_id("school-1");
    list.set_as_of("2025-11-05");
    list.set_action(v1::PENALTY_NOTICE_CONSIDERATION);
    absl::StatusOr<v1::ListDueActionsResponse> due = QueryDueActions(Fold(log), list, 0);
    REQUIRE(due.ok());
    CHECK(due->total() == 0);
    list.set_include_superseded(true);
    due = QueryDueActions(Fold(log), list, 0);
    REQUIRE(due.ok());
    REQUIRE(due->total() == 1);
    CHECK(due->actions(0).superseded());
  }
  {
    // Considered on 2025-11-04 (an action answering the trigger): done, so
    // the amendment supersedes nothing.
    answered.Action("P1", "pn-1", v1::PENALTY_NOTICE_REQUESTED, D("2025-11-04"))
        .set_trigger_id("penalty_notice_10_in_10");
    Register(answered, "P1", "2025-11-05", "2025-11-05");
    answered.Amend("P1", D("2025-10-20"), v1::AM, "O", "I", D("2025-11-05"));
    CHECK(Find(Evaluate(answered, "2025-11-05", "P1").superseded(), "penalty_notice_10_in_10") ==
          nullptr);
  }
}

TEST_CASE("a ladder step whose attendance basis an amendment removed is superseded",
          "[escalation]") {
  // Seed 001: the concern letter below 96%; 18/20 = 90% by 2025-09-12.
  EventLog log = School(LoadPolicy(kSeed001), {testing::MakePupil("P1", 4)});
  Register(log, "P1", "2025-09-01", "2025-09-12",
           {{{"2025-09-08", 0}, "I"}, {{"2025-09-08", 1}, "I"}});
  REQUIRE(Find(Evaluate(log, "2025-09-12", "P1").due(), "concern_letter") != nullptr);
  Register(log, "P1", "2025-09-15", "2025-09-15");
  log.Amend("P1", D("2025-09-08"), v1::AM, "I", "/", D("2025-09-15"));
  log.Amend("P1", D("2025-09-08"), v1::PM, "I", "\\", D("2025-09-15"));
  const v1::PupilEscalation e = Evaluate(log, "2025-09-15", "P1");
  CHECK(Find(e.due(), "concern_letter") == nullptr);
  const v1::DueAction* superseded = Find(e.superseded(), "concern_letter");
  REQUIRE(superseded != nullptr);
  CHECK(superseded->ladder_id() == "stages");
  CHECK(superseded->superseded_by_position() == log.events().size());  // the PM amendment
  CHECK(superseded->explanation().attended() == 20);                   // 20/22 as first recorded
  CHECK(superseded->explanation().possible() == 22);
  CHECK_THAT(superseded->explanation().sentence(), Catch::Contains("(2025-09-08 PM I -> \\)"));
}

v1::ListEscalationsResponse List(const EscalationState& state, v1::ListEscalationsRequest r) {
  r.set_school_id("school-1");
  if (r.as_of().empty()) r.set_as_of("2025-09-12");
  absl::StatusOr<v1::ListEscalationsResponse> response = QueryEscalations(state, r, 0);
  INFO(response.status().ToString());
  REQUIRE(response.ok());
  return *response;
}

TEST_CASE("ListEscalations: pupils by ladder and stage, filtered, paged, counted", "[escalation]") {
  EventLog log =
      School(LoadPolicy(kSeed000), {testing::MakePupil("P1", 4), testing::MakePupil("P2", 4),
                                    testing::MakePupil("P3", 4), testing::MakePupil("P4", 5)});
  for (const char* p : {"P1", "P2", "P3", "P4"}) Register(log, p, "2025-09-01", "2025-09-12");
  log.Letter("P1", "letter_1", D("2025-09-05"));
  log.Letter("P3", "letter_1", D("2025-09-03"));
  log.Letter("P3", "letter_2", D("2025-09-10"));
  const EscalationState state = Fold(log);
  v1::ListEscalationsRequest request;
  request.set_ladder_id("attendance_letters");
  {
    const v1::ListEscalationsResponse r = List(state, request);
    REQUIRE(r.total() == 4);
    CHECK(r.policy_version() == "2024-25.1");
    // The furthest stage first, then pupil id.
    CHECK(r.pupils(0).pupil_id() == "P3");
    CHECK(r.pupils(0).stage() == "letter_2");
    CHECK(r.pupils(0).since() == "2025-09-10");
    CHECK(r.pupils(1).pupil_id() == "P1");
    CHECK(r.pupils(1).stage() == "letter_1");
    CHECK(r.pupils(1).monitoring_ends_on() == "2025-09-19");  // 10 school days after 09-05
    CHECK(r.pupils(1).monitoring_running());
    CHECK(r.pupils(2).pupil_id() == "P2");
    CHECK(r.pupils(2).stage().empty());
    CHECK(r.pupils(3).pupil_id() == "P4");
    REQUIRE(r.counts_size() == 3);
    CHECK(r.counts(0).stage().empty());
    CHECK(r.counts(0).pupils() == 2);
    CHECK(r.counts(1).stage() == "letter_1");
    CHECK(r.counts(1).pupils() == 1);
    CHECK(r.counts(2).stage() == "letter_2");
    CHECK(r.counts(2).pupils() == 1);
  }
  {
    v1::ListEscalationsRequest none = request;
    none.set_stage("none");
    const v1::ListEscalationsResponse r = List(state, none);
    REQUIRE(r.total() == 2);
    CHECK(r.pupils(0).pupil_id() == "P2");
    CHECK(r.pupils(1).pupil_id() == "P4");
    CHECK(r.counts_size() == 3);  // counts are before the stage filter
    none.set_stage("letter_1");
    REQUIRE(List(state, none).total() == 1);
    CHECK(List(state, none).pupils(0).pupil_id() == "P1");
  }
  {
    v1::ListEscalationsRequest year5 = request;
    v1::CohortFilter& f = *year5.add_cohort();
    f.set_attribute(v1::YEAR_GROUP);
    f.set_value("5");
    const v1::ListEscalationsResponse r = List(state, year5);
    REQUIRE(r.total() == 1);
    CHECK(r.pupils(0).pupil_id() == "P4");
  }
  {
    v1::ListEscalationsRequest paged = request;
    paged.set_page_size(3);
    const v1::ListEscalationsResponse first = List(state, paged);
    CHECK(first.pupils_size() == 3);
    REQUIRE(first.next_page_token() == "3");
    paged.set_page_token(first.next_page_token());
    const v1::ListEscalationsResponse second = List(state, paged);
    REQUIRE(second.pupils_size() == 1);
    CHECK(second.pupils(0).pupil_id() == "P4");
    CHECK(second.next_page_token().empty());
  }
  {
    // Every ladder: one row per pupil and ladder.
    const v1::ListEscalationsResponse all = List(state, {});
    const v1::EscalationPolicy policy = LoadPolicy(kSeed000);
    CHECK(all.total() == 4u * static_cast<std::uint32_t>(policy.ladders_size()));
  }
  auto refused = [&](v1::ListEscalationsRequest r) {
    r.set_school_id("school-1");
    absl::Status s = QueryEscalations(state, r, D("2025-09-12")).status();
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  v1::ListEscalationsRequest bad = request;
  bad.set_stage("letter_9");
  CHECK(refused(bad) ==
        "stage: \"letter_9\" is not a step of ladder \"attendance_letters\" (or \"none\")");
  bad = request;
  bad.set_ladder_id("nope");
  CHECK(refused(bad) ==
        "ladder_id: \"nope\" is not a ladder of policy \"all-saints-000-strategy-2024-25\" "
        "version \"2024-25.1\"");
  bad = request;
  bad.set_page_size(1001);
  CHECK(refused(bad) == "page_size: 1001 is more than the limit of 1000");
  bad = request;
  bad.add_cohort()->set_value("5");
  CHECK(refused(bad) == "cohort[0].attribute: 0 is not a cohort attribute");
}

v1::ListFirstResponseResponse FirstResponse(const EventLog& log, const char* day,
                                            const char* time) {
  v1::ListFirstResponseRequest request;
  request.set_school_id("school-1");
  request.set_as_of(day);
  request.set_as_of_time(time);
  absl::StatusOr<v1::ListFirstResponseResponse> r = QueryFirstResponse(Fold(log), request, 0, 0);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  return *r;
}

std::vector<std::string> Pupils(const v1::ListFirstResponseResponse& r) {
  std::vector<std::string> out;
  for (const v1::FirstResponseEntry& e : r.entries()) out.push_back(e.pupil_id());
  return out;
}

// P1 N this morning, P2 no mark, P3 present, P4 (child-protection plan) N.
EventLog FirstResponseSchool(const char* policy_file) {
  v1::Pupil p4 = testing::MakePupil("P4", 4);
  p4.set_child_protection_plan(true);
  EventLog log = School(
      LoadPolicy(policy_file),
      {testing::MakePupil("P1", 4), testing::MakePupil("P2", 4), testing::MakePupil("P3", 4), p4});
  for (const char* p : {"P1", "P2", "P3", "P4"}) Register(log, p, "2025-09-01", "2025-09-09");
  log.Mark("P1", D("2025-09-10"), v1::AM, "N");
  log.Mark("P3", D("2025-09-10"), v1::AM, "/");
  log.Mark("P4", D("2025-09-10"), v1::AM, "N");
  return log;
}

TEST_CASE(
    "seed 001's first-response list: no reason by the close of the AM register, call by "
    "9:30, vulnerable first",
    "[escalation]") {
  EventLog log = FirstResponseSchool(kSeed001);
  {
    // The register is open through 09:00: unmarked pupils are not late yet.
    const v1::ListFirstResponseResponse r = FirstResponse(log, "2025-09-10", "09:00");
    CHECK(r.register_open());
    CHECK(Pupils(r) == std::vector<std::string>{"P4", "P1"});
  }
  const v1::ListFirstResponseResponse r = FirstResponse(log, "2025-09-10", "09:01");
  CHECK_FALSE(r.register_open());
  REQUIRE(Pupils(r) == std::vector<std::string>{"P4", "P1", "P2"});
  CHECK(r.total() == 3);
  const v1::FirstResponseEntry& p4 = r.entries(0);
  CHECK(p4.vulnerable());
  REQUIRE(p4.cohorts_size() == 1);
  CHECK(p4.cohorts(0) == "child_protection_plan");
  CHECK(p4.action() == v1::CALL);
  CHECK(p4.contact_by() == "2025-09-10 09:30");
  CHECK(p4.priority() == 105);
  CHECK(r.entries(1).sentence() ==
        "no reason for absence (N) by the close of the morning register on 2025-09-10 -> call by "
        "09:30");
  CHECK(r.entries(2).code().empty());
  CHECK_THAT(r.entries(2).sentence(), Catch::StartsWith("no reason for absence (no mark)"));
  // A call made today takes P1 off the list; a reason recorded takes P4 off.
  log.Action("P1", "call-1", v1::CALL_MADE, D("2025-09-10"));
  log.Amend("P4", D("2025-09-10"), v1::AM, "N", "I", D("2025-09-10"));
  CHECK(Pupils(FirstResponse(log, "2025-09-10", "09:40")) == std::vector<std::string>{"P2"});
  // Not a school day: nothing to do.
  CHECK(FirstResponse(log, "2025-09-13", "10:00").total() == 0);
}

TEST_CASE(
    "seed 002's first-response list: a home visit on day 2 for a vulnerable pupil with no "
    "contact",
    "[escalation]") {
  EventLog log = FirstResponseSchool(kSeed002);
  for (const char* p : {"P1", "P2", "P3", "P4"}) {
    if (std::string(p) != "P3") log.Mark(p, D("2025-09-10"), v1::PM, "N");
  }
  log.Mark("P2", D("2025-09-10"), v1::AM, "/", D("2025-09-11"));  // late, by the office
  log.Mark("P1", D("2025-09-11"), v1::AM, "N");
  log.Mark("P4", D("2025-09-11"), v1::AM, "N");
  log.Mark("P2", D("2025-09-11"), v1::AM, "/");
  log.Mark("P3", D("2025-09-11"), v1::AM, "/");
  {
    const v1::ListFirstResponseResponse day1 = FirstResponse(log, "2025-09-10", "10:00");
    // Seed 002 sets no time: the first-day call is due today.
    CHECK(day1.entries(0).contact_by() == "2025-09-10");
    CHECK(day1.entries(0).action() == v1::CALL);
  }
  EventLog called = log;
  const v1::ListFirstResponseResponse r = FirstResponse(log, "2025-09-11", "10:00");
  REQUIRE(Pupils(r) == std::vector<std::string>{"P4", "P1"});
  CHECK(r.entries(0).action() == v1::HOME_VISIT);
  CHECK(r.entries(0).day_of_absence() == 2);
  CHECK(r.entries(0).sentence() ==
        "no reason for absence (N) by the close of the morning register on 2025-09-11, day 2 in a "
        "row; child_protection_plan; no call recorded since the run began -> home visit today");
  // Not vulnerable: no cause for concern, a call again.
  CHECK(r.entries(1).action() == v1::CALL);
  CHECK(r.entries(1).day_of_absence() == 2);
  // A call on day 1 was contact: day 2 is a call, not a visit.
  called.Action("P4", "call-1", v1::CALL_MADE, D("2025-09-10"));
  CHECK(FirstResponse(called, "2025-09-11", "10:00").entries(0).action() == v1::CALL);
  // A policy without a first-response rule refuses.
  EventLog none = School(LoadPolicy(kSeed000), {testing::MakePupil("P1", 4)});
  v1::ListFirstResponseRequest request;
  request.set_school_id("school-1");
  request.set_as_of("2025-09-10");
  CHECK(QueryFirstResponse(Fold(none), request, 0, 0).status().code() ==
        absl::StatusCode::kFailedPrecondition);
}

const v1::RuleTally* Tally(const google::protobuf::RepeatedPtrField<v1::RuleTally>& list,
                           const std::string& rule) {
  for (const v1::RuleTally& t : list) {
    if (t.rule_id() == rule) return &t;
  }
  return nullptr;
}

TEST_CASE(
    "SimulatePolicy: Letter 1 at 94% instead of 95% over Autumn 1, beside the school's own "
    "and what was sent",
    "[escalation]") {
  EventLog log = School(
      LoadPolicy(kSeed000),
      {testing::MakePupil("P1", 4), testing::MakePupil("P2", 4), testing::MakePupil("P3", 4)});
  Register(log, "P1", "2025-09-01", "2025-10-24");
  // P2: 66/70 = 94.3% on Friday 2025-10-17: below 95%, not below 94%.
  Register(log, "P2", "2025-09-01", "2025-10-24",
           {{{"2025-10-13", 0}, "I"},
            {{"2025-10-13", 1}, "I"},
            {{"2025-10-14", 0}, "I"},
            {{"2025-10-14", 1}, "I"}});
  // P3: ill the whole first week: 0% on 2025-09-05.
  Absences ill;
  for (const char* d : {"2025-09-01", "2025-09-02", "2025-09-03", "2025-09-04", "2025-09-05"}) {
    ill[{d, 0}] = "I";
    ill[{d, 1}] = "I";
  }
  Register(log, "P3", "2025-09-01", "2025-10-24", ill);
  log.Letter("P3", "letter_1", D("2025-09-08"));
  v1::SimulatePolicyRequest request;
  request.set_school_id("school-1");
  *request.mutable_policy() = LoadPolicy(kSeed000);
  request.mutable_policy()->set_version("2024-25.2-what-if");
  request.mutable_policy()
      ->mutable_ladders(0)
      ->mutable_steps(0)
      ->mutable_attendance()
      ->set_basis_points(9400);
  request.set_from("2025-09-01");
  request.set_to("2025-10-24");
  const EscalationState state = Fold(log);
  absl::StatusOr<v1::SimulatePolicyResponse> r = SimulatePolicy(state, request, 0);
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  CHECK(r->pupils() == 3);
  CHECK(r->policy_version() == "2024-25.2-what-if");
  CHECK(r->baseline_policy_version() == "2024-25.1");
  REQUIRE(r->half_terms_size() == 1);
  const v1::HalfTermSimulation& h = r->half_terms(0);
  CHECK(h.half_term() == "Autumn 1");
  CHECK(h.academic_year() == "2025-26");
  const v1::RuleTally* simulated = Tally(h.simulated(), "letter_1");
  const v1::RuleTally* baseline = Tally(h.baseline(), "letter_1");
  const v1::RuleTally* actual = Tally(h.actual(), "letter_1");
  REQUIRE(simulated != nullptr);
  REQUIRE(baseline != nullptr);
  REQUIRE(actual != nullptr);
  CHECK(simulated->due() == 1);  // P3 only
  CHECK(baseline->due() == 2);   // P3 and P2
  CHECK(actual->due() == 1);     // the letter sent to P3
  CHECK(simulated->ladder_id() == "attendance_letters");
  CHECK(simulated->pupils_at_stage() == 1);
  CHECK(baseline->pupils_at_stage() == 2);
  CHECK(actual->pupils_at_stage() == 1);
  // P3's year to date rose over the monitoring: no Letter 2 under either.
  CHECK(Tally(h.simulated(), "letter_2")->due() == 0);
  CHECK(Tally(h.baseline(), "letter_2")->due() == 0);

  auto refused = [&](v1::SimulatePolicyRequest bad) {
    absl::Status s = SimulatePolicy(state, bad, 0).status();
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  v1::SimulatePolicyRequest bad = request;
  bad.mutable_policy()->mutable_band_sets(0)->mutable_bands(1)->set_upper_inclusive(true);
  CHECK(refused(bad) ==
        "policy.band_sets[0] (\"tiers\").bands[1] (\"tier_3\"): overlaps band \"expect_monitor\"");
  bad = request;
  bad.clear_policy();
  CHECK(refused(bad) == "policy: required (the policy to simulate)");
  bad = request;
  bad.set_from("2022-09-01");
  CHECK(refused(bad) ==
        "from: 2022-09-01 to 2025-10-24 spans 4 academic years, more than the limit of 3");
  bad = request;
  bad.set_from("2025-10-25");
  CHECK(refused(bad) == "from: 2025-10-25 is after to (2025-10-24)");
}

}  // namespace
}  // namespace attendance::projections
