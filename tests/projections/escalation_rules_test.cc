// The rules of issue 7 beyond ladders and triggers: ListDueActions's stage
// and cohort filters, review points on dates, improvement rules (positive
// letters, stepping down), cohort rules (vulnerable pupils first), the
// sickness return once per illness, and their validation.
#include <functional>

#include "absl/strings/match.h"
#include "escalation_helpers.h"
#include "ledger/escalation_policy.h"
#include "projections/escalation_reports.h"

namespace attendance::projections {
namespace {

using namespace esc_test;  // NOLINT: test helpers

v1::Pupil Vulnerable(const std::string& id) {
  v1::Pupil p = testing::MakePupil(id, 4);
  p.set_child_protection_plan(true);
  return p;
}

TEST_CASE("ListDueActions filters by ladder stage and by cohort", "[escalation]") {
  EventLog log = NewSchool(LoadPolicy(kSeed001), Vulnerable("P1"));
  log.Enrol(testing::MakePupil("P2", 4), D("2025-09-01"), D("2025-08-01"));
  // P1: 19/20 -> concern letter, sent; then three days of O -> below 90%.
  Register(log, "P1", "2025-09-01", "2025-09-12", {{{"2025-09-12", 1}, "I"}});
  log.Letter("P1", "concern_letter", D("2025-09-15"));
  Register(log, "P1", "2025-09-15", "2025-09-19", Days("2025-09-17", "2025-09-19", "O"));
  // P2: a day ill, 28/30 = 93.3%: the concern letter, not sent.
  Register(log, "P2", "2025-09-01", "2025-09-19", Days("2025-09-02", "2025-09-02", "I"));

  v1::ListDueActionsRequest all;
  CHECK(Worklist(log, all, "2025-09-19") == std::vector<std::string>{"P1:headteacher_meeting",
                                                                     "P1:monitoring_letter",
                                                                     "P2:concern_letter"});
  v1::ListDueActionsRequest at_stage;
  at_stage.set_ladder_id("stages");
  at_stage.set_stage("concern_letter");
  CHECK(Worklist(log, at_stage, "2025-09-19") == std::vector<std::string>{"P1:monitoring_letter"});
  at_stage.set_stage("none");
  CHECK(Worklist(log, at_stage, "2025-09-19") == std::vector<std::string>{"P2:concern_letter"});
  v1::ListDueActionsRequest cohort;
  v1::CohortFilter& cp = *cohort.add_cohort();
  cp.set_attribute(v1::CHILD_PROTECTION_PLAN);
  cp.set_value("true");
  CHECK(Worklist(log, cohort, "2025-09-19") ==
        std::vector<std::string>{"P1:headteacher_meeting", "P1:monitoring_letter"});
  cp.set_value("false");
  CHECK(Worklist(log, cohort, "2025-09-19") == std::vector<std::string>{"P2:concern_letter"});

  auto refused = [&](v1::ListDueActionsRequest r) {
    r.set_school_id("school-1");
    r.set_as_of("2025-09-19");
    absl::Status s = QueryDueActions(Fold(log), r, D("2025-09-19")).status();
    CHECK(s.code() == absl::StatusCode::kInvalidArgument);
    return std::string(s.message());
  };
  v1::ListDueActionsRequest bad;
  bad.set_stage("concern_letter");
  CHECK(refused(bad) == "stage: \"concern_letter\" needs the ladder_id it is a stage of");
  bad.set_ladder_id("stages");
  bad.set_stage("letter_9");
  CHECK(refused(bad) == "stage: \"letter_9\" is not a step of ladder \"stages\" (or \"none\")");
  bad.set_ladder_id("nope");
  CHECK(refused(bad) ==
        "ladder_id: \"nope\" is not a ladder of policy \"all-saints-001-policy-2024-27\" version "
        "\"2024-27.1\"");
  v1::ListDueActionsRequest bad_cohort;
  bad_cohort.add_cohort()->set_value("true");
  CHECK(refused(bad_cohort) == "cohort[0].attribute: 0 is not a cohort attribute");
}

TEST_CASE(
    "seed 001: a REVIEW falls due at each review point for pupils on the ladder, comparing the "
    "year to date with the previous point, until an action answers it",
    "[escalation]") {
  EventLog log = NewSchool(LoadPolicy(kSeed001));
  log.Enrol(testing::MakePupil("P2", 4), D("2025-09-01"), D("2025-08-01"));
  Register(log, "P1", "2025-09-01", "2025-09-12", {{{"2025-09-12", 1}, "I"}});
  log.Letter("P1", "concern_letter", D("2025-09-15"));
  Register(log, "P1", "2025-09-15", "2025-10-24", {{{"2025-10-01", 0}, "O"}});
  Register(log, "P2", "2025-09-01", "2025-10-24");
  CHECK(Due(Evaluate(log, "2025-10-14"), "review_points") == nullptr);
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-10-15");
    const v1::DueAction* review = Due(e, "review_points");
    REQUIRE(review != nullptr);
    CHECK(review->action() == v1::REVIEW);
    CHECK(review->ladder_id() == "stages");
    CHECK(review->due_on() == "2025-10-15");
    CHECK(review->priority() == 50);  // the ladder's
    // 09-01..10-15: 33 days, 2 sessions missed; on 09-15: 11 days, 1 missed.
    CHECK(review->explanation().possible() == 66);
    CHECK(review->explanation().attended() == 64);
    CHECK(review->explanation().sentence() ==
          "review point review_points on 2025-10-15: year to date 97.0% (64/66) > 95.5% (21/22) "
          "on 2025-09-15 (joined the ladder) -> improved; stage concern_letter since 2025-09-15 "
          "-> review due");
  }
  CHECK(Due(Evaluate(log, "2025-10-15", "P2"), "review_points") == nullptr);  // not on it
  // A call recorded against the review point answers it.
  log.Action("P1", "review-oct", v1::CALL_MADE, D("2025-10-16")).set_trigger_id("review_points");
  CHECK(Due(Evaluate(log, "2025-10-15"), "review_points") != nullptr);
  CHECK(Due(Evaluate(log, "2025-10-16"), "review_points") == nullptr);
  // The December point, against October's: two days of O since.
  Register(log, "P1", "2025-11-03", "2025-12-19", Days("2025-12-01", "2025-12-02", "O"));
  CHECK(Due(Evaluate(log, "2025-12-12"), "review_points") == nullptr);
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-12-15");
    const v1::DueAction* review = Due(e, "review_points");
    REQUIRE(review != nullptr);
    CHECK(review->due_on() == "2025-12-15");
    CHECK(absl::StrContains(review->explanation().sentence(),
                            "on 2025-10-15 (the previous review point) -> no improvement"));
  }
  // A date in a holiday falls on the next school day: 10-29 is half-term.
  v1::EscalationPolicy moved = LoadPolicy(kSeed001);
  moved.mutable_review_points(0)->clear_dates();
  moved.mutable_review_points(0)->add_dates("10-29");
  EventLog log2 = NewSchool(moved);
  Register(log2, "P1", "2025-09-01", "2025-09-12", {{{"2025-09-12", 1}, "I"}});
  log2.Letter("P1", "concern_letter", D("2025-09-15"));
  CHECK(Due(Evaluate(log2, "2025-10-31"), "review_points") == nullptr);
  const v1::PupilEscalation e = Evaluate(log2, "2025-11-03");
  REQUIRE(Due(e, "review_points") != nullptr);
  CHECK(Due(e, "review_points")->due_on() == "2025-11-03");
}

TEST_CASE(
    "seed 001: improvement since the stage brings the positive letter; sending it steps the "
    "ladder down, the letters sent stay in its history, and the step can fall due again",
    "[escalation]") {
  EventLog log = NewSchool(LoadPolicy(kSeed001));
  Register(log, "P1", "2025-09-01", "2025-09-12", {{{"2025-09-12", 1}, "I"}});
  log.Letter("P1", "concern_letter", D("2025-09-15"));
  // After the letter: 9 school days (18 sessions) perfect: fewer than the
  // 20 sessions the rule asks for.
  Register(log, "P1", "2025-09-15", "2025-09-26");
  CHECK(Due(Evaluate(log, "2025-09-26"), "positive_letter") == nullptr);
  // Boundary: 25 sessions since the stage with 1 missed = 96.0% exactly
  // (AT_OR_ABOVE holds); 2 missed of 25 would not.
  Register(log, "P1", "2025-09-29", "2025-10-01", {{{"2025-09-30", 0}, "I"}});
  log.Mark("P1", D("2025-10-02"), v1::AM, "/");
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-10-02");
    const v1::DueAction* due = Due(e, "positive_letter");
    REQUIRE(due != nullptr);
    CHECK(due->action() == v1::POSITIVE_LETTER);
    CHECK(due->ladder_id() == "stages");
    CHECK(due->explanation().possible() == 25);
    CHECK(due->explanation().attended() == 24);
    CHECK(due->explanation().sentence() ==
          "attendance 96.0% (24/25 sessions, Last 4 school weeks since concern_letter) on "
          "2025-10-02 >= 96.0% -> positive_letter due; sending it steps stages down from "
          "concern_letter");
  }
  {
    EventLog worse = log;
    worse.Amend("P1", D("2025-10-01"), v1::AM, "/", "I", D("2025-10-02"));
    CHECK(Due(Evaluate(worse, "2025-10-02"), "positive_letter") == nullptr);
  }
  log.Mark("P1", D("2025-10-02"), v1::PM, "\\");
  Register(log, "P1", "2025-10-03", "2025-10-03");
  log.Letter("P1", "positive_letter", D("2025-10-06"));
  {
    const v1::PupilEscalation e = RegisterThenEvaluate(log, "P1", "2025-10-06", "2025-10-06");
    const v1::LadderState& ladder = LadderOf(e, "stages");
    CHECK(ladder.stage().empty());  // stepped down from the first stage
    REQUIRE(ladder.history_size() == 2);
    CHECK(ladder.history(0).step_id() == "concern_letter");  // still a fact
    CHECK(ladder.history(1).step_id() == "positive_letter");
    CHECK(ladder.history(1).stepped_down());
    CHECK(ladder.history(1).stepped_down_to().empty());
    CHECK(Due(e, "positive_letter") == nullptr);
    CHECK(Due(e, "concern_letter") == nullptr);  // 50/52 = 96.2%
  }
  // Five days of O: below 96% again, the concern letter is due again.
  {
    const v1::PupilEscalation e = RegisterThenEvaluate(log, "P1", "2025-10-07", "2025-10-17",
                                                       Days("2025-10-13", "2025-10-17", "O"));
    REQUIRE(Due(e, "concern_letter") != nullptr);
    CHECK(Due(e, "positive_letter") == nullptr);  // not on the ladder
  }
  log.Letter("P1", "concern_letter", D("2025-10-20"));
  CHECK(LadderOf(Evaluate(log, "2025-10-20"), "stages").stage() == "concern_letter");
  CHECK(LadderOf(Evaluate(log, "2025-10-20"), "stages").history_size() == 3);
}

TEST_CASE(
    "seed 001: stepping down from the monitoring letter restarts the monitoring of the "
    "stage below",
    "[escalation]") {
  EventLog log = NewSchool(LoadPolicy(kSeed001));
  Register(log, "P1", "2025-09-01", "2025-09-12", {{{"2025-09-12", 1}, "I"}});
  log.Letter("P1", "concern_letter", D("2025-09-15"));
  Register(log, "P1", "2025-09-15", "2025-09-19", Days("2025-09-17", "2025-09-19", "O"));
  log.Letter("P1", "monitoring_letter", D("2025-09-22"));
  {
    const v1::PupilEscalation e = RegisterThenEvaluate(log, "P1", "2025-09-22", "2025-10-06");
    CHECK(LadderOf(e, "stages").monitoring().improved());
    REQUIRE(Due(e, "positive_letter") != nullptr);
    CHECK(Due(e, "teacher_meeting") == nullptr);
  }
  log.Letter("P1", "positive_letter", D("2025-10-07"));
  const v1::PupilEscalation e = Evaluate(log, "2025-10-07");
  const v1::LadderState& ladder = LadderOf(e, "stages");
  CHECK(ladder.stage() == "concern_letter");
  CHECK(ladder.since() == "2025-10-07");
  CHECK(ladder.history(2).stepped_down_to() == "concern_letter");
  // Seed 001's thresholds are year to date: still below 90% (47/54), so the
  // monitoring letter is due again from the stage below.
  CHECK(Due(e, "monitoring_letter") != nullptr);
  CHECK(Due(e, "positive_letter") == nullptr);  // sent since the stage began
}

TEST_CASE(
    "seed 000: a pupil with a child-protection plan gets the home visit from the first day and "
    "first in the worklist, and the explanation says why",
    "[escalation]") {
  EventLog log = NewSchool(LoadPolicy(kSeed000), Vulnerable("P1"));
  log.Enrol(testing::MakePupil("P2", 4), D("2025-09-01"), D("2025-08-01"));
  Register(log, "P1", "2025-09-01", "2025-09-05", Days("2025-09-05", "2025-09-05", "O"));
  Register(log, "P2", "2025-09-01", "2025-09-05", Days("2025-09-04", "2025-09-05", "O"));
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-09-05");
    const v1::DueAction* visit = Due(e, "home_visit_3_days");
    REQUIRE(visit != nullptr);
    CHECK(visit->priority() == 115);
    CHECK(visit->due_on() == "2025-09-05");
    CHECK(visit->cohort_rules_size() == 1);
    CHECK(visit->cohort_rules(0) == "vulnerable_visited_first");
    CHECK(visit->explanation().threshold() == 1);
    CHECK(visit->explanation().sentence() ==
          "1 day in a row G/N/O/U (2025-26 to date, 2025-08-01..2025-09-05) on 2025-09-05 >= 1 "
          "-> home visit due (cohort rule vulnerable_visited_first (child-protection plan): "
          "threshold 1 instead of 3); priority 115 (+20, cohort rule vulnerable_visited_first: "
          "child-protection plan)");
  }
  CHECK(Due(Evaluate(log, "2025-09-05", "P2"), "home_visit_3_days") == nullptr);  // 2 of 3
  Register(log, "P2", "2025-09-08", "2025-09-08", Days("2025-09-08", "2025-09-08", "O"));
  Register(log, "P1", "2025-09-08", "2025-09-08");
  v1::ListDueActionsRequest visits;
  visits.set_action(v1::HOME_VISIT);
  CHECK(Worklist(log, visits, "2025-09-08") ==
        std::vector<std::string>{"P1:home_visit_3_days", "P2:home_visit_3_days"});
  const v1::PupilEscalation p2 = Evaluate(log, "2025-09-08", "P2");
  const v1::DueAction* plain = Due(p2, "home_visit_3_days");
  REQUIRE(plain != nullptr);
  CHECK(plain->priority() == 95);
  CHECK(plain->cohort_rules_size() == 0);
  // The plan ends: from then on the pupil is not in the cohort.
  v1::Pupil ended = testing::MakePupil("P1", 4);
  log.Update(ended, D("2025-09-09"), D("2025-09-09"));
  Register(log, "P1", "2025-09-09", "2025-09-09", Days("2025-09-09", "2025-09-09", "O"));
  CHECK(Due(Evaluate(log, "2025-09-09"), "home_visit_3_days") == nullptr);
}

TEST_CASE(
    "national: 16 days of illness bring the sickness return once per illness; a new illness "
    "after the return brings it again",
    "[escalation]") {
  EventLog log = NewSchool(LoadPolicy("national_base_england_2024.textproto"));
  // Ill from 2025-09-01 to 09-24: the 15th school day is 09-19, the 16th 09-22.
  Register(log, "P1", "2025-09-01", "2025-09-26", Days("2025-09-01", "2025-09-24", "I"));
  CHECK(Due(Evaluate(log, "2025-09-18"), "sickness_return_15_days") == nullptr);  // 14 days
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-09-19");
    const v1::DueAction* due = Due(e, "sickness_return_15_days");
    REQUIRE(due != nullptr);  // the 15th day
    CHECK(due->action() == v1::LA_RETURN);
    CHECK(due->due_on() == "2025-09-19");
  }
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-09-22");
    REQUIRE(Due(e, "sickness_return_15_days") != nullptr);
    CHECK(Due(e, "sickness_return_15_days")->due_on() == "2025-09-19");
  }
  v1::ActionRecorded& sent = log.Action("P1", "return-1", v1::REFERRAL_MADE, D("2025-09-22"));
  sent.set_trigger_id("sickness_return_15_days");
  sent.set_referred_to(v1::LOCAL_AUTHORITY);
  CHECK(Due(Evaluate(log, "2025-09-22"), "sickness_return_15_days") == nullptr);
  // The same illness goes on two more days after the return: not again.
  CHECK(Due(Evaluate(log, "2025-09-26"), "sickness_return_15_days") == nullptr);
  // A new illness: due again from its first day.
  Register(log, "P1", "2025-09-29", "2025-10-03", Days("2025-10-02", "2025-10-03", "I"));
  CHECK(Due(Evaluate(log, "2025-10-01"), "sickness_return_15_days") == nullptr);
  const v1::PupilEscalation later = Evaluate(log, "2025-10-03");
  const v1::DueAction* again = Due(later, "sickness_return_15_days");
  REQUIRE(again != nullptr);
  CHECK(again->due_on() == "2025-10-02");
}

TEST_CASE("the new rules are validated, naming the rule", "[escalation]") {
  const v1::EscalationPolicy good = LoadPolicy(kSeed001);
  CHECK(
      RefusalOf(good,
                [](v1::EscalationPolicy& p) { p.mutable_review_points(0)->add_dates("02-30"); }) ==
      "policy.review_points[0] (\"review_points\").dates[5]: \"02-30\" is not a month and day "
      "MM-DD");
  CHECK(
      RefusalOf(good, [](v1::EscalationPolicy& p) { p.mutable_review_points(0)->clear_dates(); }) ==
      "policy.review_points[0] (\"review_points\"): names no date (dates, half_term_ends or "
      "term_ends)");
  CHECK(RefusalOf(good,
                  [](v1::EscalationPolicy& p) {
                    p.mutable_review_points(0)->set_ladder_id("ladder_9");
                  }) ==
        "policy.review_points[0] (\"review_points\").ladder_id: \"ladder_9\" is not a ladder of "
        "the policy");
  CHECK(RefusalOf(good,
                  [](v1::EscalationPolicy& p) {
                    p.mutable_review_points(0)->set_review_id("concern_letter");
                  }) ==
        "policy.review_points[0] (\"concern_letter\").review_id: \"concern_letter\" is already "
        "the id of another rule");
  CHECK(RefusalOf(good,
                  [](v1::EscalationPolicy& p) {
                    p.mutable_improvement_rules(0)->mutable_attendance()->set_comparison(v1::BELOW);
                  }) ==
        "policy.improvement_rules[0] (\"positive_letter\").attendance.comparison: improvement "
        "is attendance AT_OR_ABOVE or ABOVE a level");
  CHECK(RefusalOf(
            good,
            [](v1::EscalationPolicy& p) { p.mutable_improvement_rules(0)->clear_attendance(); }) ==
        "policy.improvement_rules[0] (\"positive_letter\"): says not what counts as improved "
        "(attendance or band_set_id)");
  CHECK(RefusalOf(
            good,
            [](v1::EscalationPolicy& p) { p.mutable_improvement_rules(0)->clear_ladder_id(); }) ==
        "policy.improvement_rules[0] (\"positive_letter\").review_id: a rule for every pupil "
        "(no ladder_id) is judged at a review point, else it would be due every day");
  CHECK(RefusalOf(good,
                  [](v1::EscalationPolicy& p) {
                    p.mutable_improvement_rules(0)->add_from_steps("letter_9");
                  }) ==
        "policy.improvement_rules[0] (\"positive_letter\").from_steps[0]: \"letter_9\" is not a "
        "step of ladder \"stages\"");
  CHECK(RefusalOf(good,
                  [](v1::EscalationPolicy& p) {
                    p.mutable_improvement_rules(0)->set_band_set_id("ladder_bands");
                    p.mutable_improvement_rules(0)->add_band_ids("gold");
                  }) ==
        "policy.improvement_rules[0] (\"positive_letter\").band_ids[0]: \"gold\" is not a band "
        "of band set \"ladder_bands\"");
  CHECK(RefusalOf(LoadPolicy(kSeed000),
                  [](v1::EscalationPolicy& p) {
                    p.mutable_cohort_rules(0)->mutable_earlier_triggers(0)->set_threshold(3);
                  }) ==
        "policy.cohort_rules[0] (\"vulnerable_visited_first\").earlier_triggers[0].threshold: 3 "
        "is not in 1..2 (below the trigger's own threshold, 3)");
  CHECK(RefusalOf(LoadPolicy(kSeed000),
                  [](v1::EscalationPolicy& p) {
                    p.mutable_cohort_rules(0)->mutable_earlier_triggers(0)->set_trigger_id("nope");
                  }) ==
        "policy.cohort_rules[0] (\"vulnerable_visited_first\").earlier_triggers[0].trigger_id: "
        "\"nope\" is not a trigger of the policy");
  CHECK(RefusalOf(LoadPolicy(kSeed000), [](v1::EscalationPolicy& p) {
          p.mutable_cohort_rules(0)->clear_cohorts();
        }) == "policy.cohort_rules[0] (\"vulnerable_visited_first\").cohorts: names no cohort");
  CHECK(RefusalOf(LoadPolicy(kSeed000),
                  [](v1::EscalationPolicy& p) { p.mutable_cohort_rules(0)->clear_actions(); }) ==
        "policy.cohort_rules[0] (\"vulnerable_visited_first\").actions: a priority_boost names "
        "the actions it raises");
  CHECK(RefusalOf(LoadPolicy(kSeed000),
                  [](v1::EscalationPolicy& p) {
                    p.mutable_triggers(1)->set_once_per_spell(
                        true);  // home_visit_3_days: CONSECUTIVE
                  }) ==
        "policy.triggers[1] (\"home_visit_3_days\").once_per_spell: only a COUNT_IN_WINDOW "
        "trigger counts spells");
}

TEST_CASE(
    "seed 001: a positive letter due only on marks an amendment changed is superseded, naming "
    "the amendment; a review point stays due and says the verdict the amendment turned",
    "[escalation]") {
  EventLog log = NewSchool(LoadPolicy(kSeed001));
  Register(log, "P1", "2025-09-01", "2025-09-12", {{{"2025-09-12", 1}, "I"}});
  log.Letter("P1", "concern_letter", D("2025-09-15"));
  // As first recorded: exactly 96.0% (24/25) since the stage, so the
  // positive letter is due (the boundary of the test above).
  Register(log, "P1", "2025-09-15", "2025-10-01", {{{"2025-09-30", 0}, "I"}});
  log.Mark("P1", D("2025-10-02"), v1::AM, "/");
  REQUIRE(Due(Evaluate(log, "2025-10-02"), "positive_letter") != nullptr);
  // 10-01 AM / -> I: 23/25 = 92.0%, no longer due; shown as superseded.
  log.Amend("P1", D("2025-10-01"), v1::AM, "/", "I", D("2025-10-02"));
  const auto amendment = static_cast<std::uint64_t>(log.events().size());
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-10-02");
    CHECK(Due(e, "positive_letter") == nullptr);
    REQUIRE(e.superseded_size() == 1);
    const v1::DueAction& was = e.superseded(0);
    CHECK(was.rule_id() == "positive_letter");
    CHECK(was.action() == v1::POSITIVE_LETTER);
    CHECK(was.superseded());
    CHECK(was.superseded_by_position() == amendment);
    CHECK(was.superseded_on() == "2025-10-02");
    CHECK(was.explanation().attended() == 24);  // the basis as first recorded
    CHECK(was.superseded_note() ==
          absl::StrCat("superseded by the amendment at position ", amendment,
                       " recorded on 2025-10-02 (2025-10-01 AM / -> I): due on the marks as "
                       "first recorded, no longer due as amended"));
    CHECK(absl::StrContains(was.explanation().sentence(),
                            "attendance 96.0% (24/25 sessions, Last 4 school weeks since "
                            "concern_letter) on 2025-10-02 >= 96.0% -> positive_letter due"));
  }
  // Before the amendment was recorded it was simply due.
  CHECK(Evaluate(log, "2025-10-01").superseded_size() == 0);
  // Answered: a letter sent since the stage leaves nothing to supersede.
  {
    EventLog sent = log;
    sent.Letter("P1", "positive_letter", D("2025-10-02"));
    CHECK(Evaluate(sent, "2025-10-02").superseded_size() == 0);
  }

  // The October review point: 64/66 > 21/22 on 09-15 -> improved; one
  // session amended / -> O makes it 63/66, exactly 21/22, not above.
  Register(log, "P1", "2025-10-02", "2025-10-15");
  log.Amend("P1", D("2025-10-01"), v1::AM, "I", "/", D("2025-10-03"));  // back as it was
  {
    const v1::PupilEscalation before = Evaluate(log, "2025-10-15");
    const v1::DueAction* review = Due(before, "review_points");
    REQUIRE(review != nullptr);
    CHECK_FALSE(review->verdict_changed());
    CHECK(absl::StrContains(review->explanation().sentence(), "(64/66) > 95.5% (21/22)"));
  }
  log.Amend("P1", D("2025-10-08"), v1::PM, "\\", "O", D("2025-10-15"));
  const auto turned = static_cast<std::uint64_t>(log.events().size());
  const v1::PupilEscalation e = Evaluate(log, "2025-10-15");
  const v1::DueAction* review = Due(e, "review_points");
  REQUIRE(review != nullptr);  // still due: the pupil is on the ladder
  CHECK(review->verdict_changed());
  CHECK(review->verdict_changed_by_position() == turned);
  CHECK(review->verdict_changed_on() == "2025-10-15");
  CHECK(review->explanation().sentence() ==
        absl::StrCat("review point review_points on 2025-10-15: year to date 95.5% (63/66) not > "
                     "95.5% (21/22) on 2025-09-15 (joined the ladder) -> no improvement; stage "
                     "concern_letter since 2025-09-15 -> review due; as first recorded year to "
                     "date 97.0% (64/66) -> improved, turned by the amendment at position ",
                     turned, " recorded on 2025-10-15 (2025-10-08 PM \\ -> O)"));
  // The same O takes the positive letter's 35/36 since the stage to 34/36.
  REQUIRE(e.superseded_size() == 1);
  CHECK(e.superseded(0).rule_id() == "positive_letter");
  CHECK(e.superseded(0).superseded_by_position() == turned);
}

TEST_CASE(
    "a cohort rule's earlier trigger lowers it for the ladder step that waits on it too, at "
    "exactly the lower threshold, for the cohort only",
    "[escalation]") {
  // Seed 000 with Fast Track at 6 unauthorised sessions for CP/CIN/looked-after
  // pupils (no seed says so: the engine's rule, not a seed's).
  v1::EscalationPolicy policy = LoadPolicy(kSeed000);
  v1::TriggerThreshold& earlier = *policy.mutable_cohort_rules(0)->add_earlier_triggers();
  earlier.set_trigger_id("fast_track_10_in_12");
  earlier.set_threshold(6);
  REQUIRE(ledger::ValidateEscalationPolicy(policy, kDefaultWeeks, "policy").ok());
  EventLog log = NewSchool(policy, Vulnerable("P1"));
  log.Enrol(testing::MakePupil("P2", 4), D("2025-09-01"), D("2025-08-01"));
  // Five O sessions each: one below the lowered threshold.
  Absences five = {{{"2025-09-08", 0}, "O"},
                   {{"2025-09-08", 1}, "O"},
                   {{"2025-09-09", 0}, "O"},
                   {{"2025-09-09", 1}, "O"},
                   {{"2025-09-10", 0}, "O"}};
  Register(log, "P1", "2025-09-01", "2025-09-12", five);
  Register(log, "P2", "2025-09-01", "2025-09-12", five);
  CHECK(Due(Evaluate(log, "2025-09-12"), "fast_track_1") == nullptr);
  // The sixth, on 09-15: due for the CP pupil, not for P2.
  log.Mark("P1", D("2025-09-15"), v1::AM, "O");
  log.Mark("P2", D("2025-09-15"), v1::AM, "O");
  log.Mark("P1", D("2025-09-15"), v1::PM, "\\");
  log.Mark("P2", D("2025-09-15"), v1::PM, "\\");
  const v1::PupilEscalation e = Evaluate(log, "2025-09-15");
  const v1::DueAction* ft = Due(e, "fast_track_1");
  REQUIRE(ft != nullptr);
  CHECK(ft->ladder_id() == "fast_track");
  CHECK(ft->due_on() == "2025-09-15");
  CHECK(ft->explanation().count() == 6);
  CHECK(ft->explanation().threshold() == 6);
  REQUIRE(ft->cohort_rules_size() == 1);
  CHECK(ft->cohort_rules(0) == "vulnerable_visited_first");
  CHECK(absl::EndsWith(ft->explanation().sentence(),
                       ">= 6 -> fast_track_1 due (cohort rule vulnerable_visited_first "
                       "(child-protection plan): threshold 6 instead of 10)"));
  CHECK(Due(Evaluate(log, "2025-09-15", "P2"), "fast_track_1") == nullptr);
  CHECK(Worklist(log, {}, "2025-09-15") == std::vector<std::string>{"P1:home_visit_3_days",
                                                                    "P1:fast_track_1",
                                                                    "P1:letter_1", "P2:letter_1"});

  // An earlier trigger that would change nothing is refused, naming it.
  v1::EscalationPolicy idle = policy;
  v1::CountedTrigger& t = *idle.add_triggers();
  t.set_trigger_id("idle_count");
  t.set_kind(v1::COUNT_IN_WINDOW);
  t.set_unit(v1::SESSIONS);
  t.add_codes("O");
  t.set_threshold(5);
  t.mutable_window()->set_kind(v1::POLICY_YEAR_TO_DATE);
  v1::TriggerThreshold& lower = *idle.mutable_cohort_rules(0)->add_earlier_triggers();
  lower.set_trigger_id("idle_count");
  lower.set_threshold(2);
  const absl::Status s = ledger::ValidateEscalationPolicy(idle, kDefaultWeeks, "policy");
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() ==
        "policy.cohort_rules[0] (\"vulnerable_visited_first\").earlier_triggers[2].trigger_id: "
        "\"idle_count\" has no action of its own and no ladder step waits on it, so a lower "
        "threshold changes nothing");
}

// Seed 001's school with the 2024-25 and 2025-26 calendars, pupils P1..P3 on
// roll from 2024-09-02, ten school days of 2024-25 marked and 2025-26 from
// 09-01 to 10-15 (P1's 2024-25 absences as given).
EventLog SchoolWithLastYear(const Absences& p1_last_year) {
  EventLog log = NewTwoYearSchool(LoadPolicy(kSeed001), {"P1", "P2", "P3"});
  for (const char* id : {"P1", "P2", "P3"}) Register(log, id, "2025-09-01", "2025-10-15");
  Register(log, "P1", "2024-09-02", "2024-09-13", p1_last_year);
  Register(log, "P2", "2024-09-02", "2024-09-13", {{{"2024-09-04", 0}, "O"}});
  // P3: 19 sessions (one not recorded), 2 of them absent: 89.5%, but under
  // the 20 possible sessions PA needs.
  Register(log, "P3", "2024-09-02", "2024-09-12",
           {{{"2024-09-04", 0}, "O"}, {{"2024-09-05", 0}, "O"}});
  log.Mark("P3", D("2024-09-13"), v1::AM, "/");
  return log;
}

TEST_CASE(
    "seed 001: in September a Stage 1 letter to every pupil persistently absent the previous "
    "year (exactly 90.0% is PA), doing the ladder's first step as the baseline",
    "[escalation]") {
  // P1 2024-25: 18/20 = 90.0% exactly (AT_OR_BELOW: PA); P2 19/20.
  EventLog log = SchoolWithLastYear({{{"2024-09-10", 0}, "O"}, {{"2024-09-10", 1}, "O"}});
  CHECK(Due(Evaluate(log, "2025-08-29"), "pa_baseline_letter") == nullptr);  // before school
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-09-01");
    const v1::DueAction* due = Due(e, "pa_baseline_letter");
    REQUIRE(due != nullptr);
    CHECK(due->action() == v1::LETTER);
    CHECK(due->ladder_id() == "stages");
    CHECK(due->due_on() == "2025-09-01");
    CHECK(due->priority() == 50);  // the ladder's
    CHECK(due->explanation().possible() == 20);
    CHECK(due->explanation().attended() == 18);
    CHECK(due->explanation().window_first() == "2024-08-01");
    CHECK(due->explanation().window_last() == "2025-07-31");
    CHECK(due->explanation().sentence() ==
          "attendance 90.0% (18/20 sessions, 2024-25, the previous year) on 2025-09-01 <= 90.0% "
          "-> pa_baseline_letter due by 2025-09-30; sending it does concern_letter on stages");
  }
  CHECK(Due(Evaluate(log, "2025-09-01", "P2"), "pa_baseline_letter") == nullptr);  // 95.0%
  CHECK(Due(Evaluate(log, "2025-09-01", "P3"), "pa_baseline_letter") == nullptr);  // 19 sessions
  CHECK(Due(Evaluate(log, "2025-09-30"), "pa_baseline_letter") != nullptr);
  CHECK(Due(Evaluate(log, "2025-10-01"), "pa_baseline_letter") == nullptr);  // September only
  CHECK(Worklist(log, {}, "2025-09-02") == std::vector<std::string>{"P1:pa_baseline_letter"});

  // Sent on 09-03: the pupil is at Stage 1 (concern_letter) from then, the
  // letter in the history, and the October review compares with that day.
  log.Letter("P1", "pa_baseline_letter", D("2025-09-03"));
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-09-03");
    CHECK(Due(e, "pa_baseline_letter") == nullptr);
    const v1::LadderState& ladder = LadderOf(e, "stages");
    CHECK(ladder.stage() == "concern_letter");
    CHECK(ladder.since() == "2025-09-03");
    REQUIRE(ladder.history_size() == 1);
    CHECK(ladder.history(0).step_id() == "pa_baseline_letter");
    CHECK_FALSE(ladder.history(0).basis_changed());
    CHECK(Due(e, "concern_letter") == nullptr);
  }
  const v1::PupilEscalation october = Evaluate(log, "2025-10-15");
  const v1::DueAction* review = Due(october, "review_points");
  REQUIRE(review != nullptr);
  CHECK(absl::StrContains(review->explanation().sentence(),
                          "on 2025-09-03 (joined the ladder) -> no improvement"));

  // One of last year's O amended to / (19/20): superseded, naming it.
  EventLog amended = SchoolWithLastYear({{{"2024-09-10", 0}, "O"}, {{"2024-09-10", 1}, "O"}});
  amended.Amend("P1", D("2024-09-10"), v1::PM, "O", "/", D("2025-09-02"));
  const auto position = static_cast<std::uint64_t>(amended.events().size());
  CHECK(Due(Evaluate(amended, "2025-09-01"), "pa_baseline_letter") != nullptr);
  const v1::PupilEscalation e = Evaluate(amended, "2025-09-02");
  CHECK(Due(e, "pa_baseline_letter") == nullptr);
  REQUIRE(e.superseded_size() == 1);
  CHECK(e.superseded(0).rule_id() == "pa_baseline_letter");
  CHECK(e.superseded(0).superseded_by_position() == position);
  CHECK(e.superseded(0).superseded_note() ==
        absl::StrCat("superseded by the amendment at position ", position,
                     " recorded on 2025-09-02 (2024-09-10 PM O -> /): due on the marks as first "
                     "recorded, no longer due as amended"));
}

// The tally of (ladder, rule) in one column of a simulated half-term.
const v1::RuleTally* FindTally(const google::protobuf::RepeatedPtrField<v1::RuleTally>& list,
                               const std::string& ladder, const std::string& rule) {
  for (const v1::RuleTally& t : list) {
    if (t.ladder_id() == ladder && t.rule_id() == rule) return &t;
  }
  return nullptr;
}

const v1::RuleTally& TallyOf(const google::protobuf::RepeatedPtrField<v1::RuleTally>& list,
                             const std::string& ladder, const std::string& rule) {
  const v1::RuleTally* t = FindTally(list, ladder, rule);
  if (t == nullptr) {
    std::string all;
    for (const v1::RuleTally& x : list) all += x.ladder_id() + "/" + x.rule_id() + " ";
    FAIL("no tally " << ladder << "/" << rule << " among " << all);
  }
  return *t;
}

// Seed 001 replayed from 2025-09-01 to `to` (one half-term: Autumn 1).
v1::HalfTermSimulation SimulateSeed001(const EventLog& log, const char* to) {
  v1::SimulatePolicyRequest request;
  request.set_school_id("school-1");
  *request.mutable_policy() = LoadPolicy(kSeed001);
  request.mutable_policy()->set_version("what-if");
  request.set_from("2025-09-01");
  request.set_to(to);
  absl::StatusOr<v1::SimulatePolicyResponse> r = SimulatePolicy(Fold(log), request, D(to));
  INFO(r.status().ToString());
  REQUIRE(r.ok());
  REQUIRE(r->half_terms_size() == 1);
  return r->half_terms(0);
}

TEST_CASE(
    "SimulatePolicy: seed 001's September letter does the concern letter's stage in the "
    "pupils-at-stage tally, and a positive letter steps it down, as the evaluation does",
    "[escalation]") {
  // P1 persistently absent in 2024-25 (18/20), present every day of 2025-26.
  EventLog log = SchoolWithLastYear({{{"2024-09-10", 0}, "O"}, {{"2024-09-10", 1}, "O"}});
  log.Letter("P1", "pa_baseline_letter", D("2025-09-03"));
  {
    // Simulated: the letter due on Friday 09-05 and done; by 09-12 too few
    // sessions since (20 needed) for the positive letter.
    const v1::HalfTermSimulation h = SimulateSeed001(log, "2025-09-12");
    for (const auto* column : {&h.simulated(), &h.baseline(), &h.actual()}) {
      const v1::RuleTally& letter = TallyOf(*column, "stages", "pa_baseline_letter");
      CHECK(letter.action() == v1::LETTER);
      CHECK(letter.due() == 1);
      const v1::RuleTally& stage = TallyOf(*column, "stages", "concern_letter");
      CHECK(stage.pupils_at_stage() == 1);
      CHECK(stage.due() == 0);
      CHECK(FindTally(*column, "", "pa_baseline_letter") == nullptr);
    }
    CHECK(LadderOf(Evaluate(log, "2025-09-12"), "stages").stage() == "concern_letter");
  }
  {
    // To 10-15: simulated, the positive letter is due on 09-19 (22 sessions
    // since the stage, all present) and steps the ladder down to none; the
    // letter was not sent, so recorded, P1 is still at the concern letter.
    const v1::HalfTermSimulation h = SimulateSeed001(log, "2025-10-15");
    for (const auto* column : {&h.simulated(), &h.baseline()}) {
      CHECK(TallyOf(*column, "stages", "positive_letter").due() == 1);
      CHECK(TallyOf(*column, "stages", "concern_letter").pupils_at_stage() == 0);
      CHECK(TallyOf(*column, "stages", "pa_baseline_letter").due() == 1);  // once a year
    }
    CHECK(TallyOf(h.actual(), "stages", "concern_letter").pupils_at_stage() == 1);
    CHECK(FindTally(h.actual(), "stages", "positive_letter") == nullptr);  // none sent
    CHECK(LadderOf(Evaluate(log, "2025-10-15"), "stages").stage() == "concern_letter");
  }
  // Sent on 10-01, the positive letter steps P1 down, recorded as evaluated.
  log.Letter("P1", "positive_letter", D("2025-10-01"));
  CHECK(LadderOf(Evaluate(log, "2025-10-15"), "stages").stage().empty());
  const v1::HalfTermSimulation h = SimulateSeed001(log, "2025-10-15");
  CHECK(TallyOf(h.actual(), "stages", "positive_letter").due() == 1);
  CHECK(FindTally(h.actual(), "stages", "concern_letter") == nullptr);  // at no stage
}

TEST_CASE("previous-year rules are validated, naming the rule", "[escalation]") {
  REQUIRE(LoadPolicy(kSeed001).previous_year_rules_size() == 1);
  auto refused = [](const std::function<void(v1::PreviousYearRule&)>& change) {
    return RefusalOf(LoadPolicy(kSeed001),
                     [&](v1::EscalationPolicy& p) { change(*p.mutable_previous_year_rules(0)); });
  };
  const std::string rule = "policy.previous_year_rules[0] (\"pa_baseline_letter\")";
  CHECK(refused([](auto& r) {
          r.mutable_attendance()->mutable_window()->set_kind(v1::POLICY_YEAR_TO_DATE);
        }) == rule +
                  ".attendance.window: the rule counts the whole previous academic year: leave the "
                  "window unset");
  CHECK(refused([](auto& r) { r.clear_attendance(); }) ==
        rule + ".attendance: says not which pupils (the previous year's attendance)");
  CHECK(refused([](auto& r) { r.set_due_through("09-31"); }) ==
        rule + ".due_through: \"09-31\" is not a month and day MM-DD");
  CHECK(refused([](auto& r) { r.clear_step_id(); }) ==
        rule + ".step_id: a rule that does a ladder step names both ladder_id and step_id");
  CHECK(refused([](auto& r) { r.set_step_id("teacher_meeting"); }) ==
        rule + ".action: LETTER does not do step \"teacher_meeting\", a MEETING step");
  CHECK(refused([](auto& r) { r.set_ladder_id("nope"); }) ==
        rule + ".ladder_id: \"nope\" is not a ladder of the policy");
  CHECK(refused([](auto& r) { r.set_rule_id("positive_letter"); }) ==
        "policy.previous_year_rules[0] (\"positive_letter\").rule_id: \"positive_letter\" is "
        "already the id of another rule");
}

TEST_CASE(
    "seed 000: a half-termly praise letter at the school's chosen 96% over the half-term, "
    "exactly 96.0% in, just below out, due again the next half-term",
    "[escalation]") {
  EventLog log = NewSchool(LoadPolicy(kSeed000));
  log.Enrol(testing::MakePupil("P2", 4), D("2025-09-01"), D("2025-08-01"));
  // Autumn 1 (09-01..10-24): 80 sessions, 5 of them X (not possible): 75.
  // P1 misses 3 (72/75 = 96.0%), P2 4 (71/75 = 94.7%).
  Absences p1 = Days("2025-09-01", "2025-09-03", "X");
  p1.erase({"2025-09-03", 1});
  Absences p2 = p1;
  for (const char* day : {"2025-10-06", "2025-10-07"}) {
    p1[{day, 0}] = "I";
    p2[{day, 0}] = "I";
    p2[{day, 1}] = "I";
  }
  p1[{"2025-10-08", 0}] = "M";
  Register(log, "P1", "2025-09-01", "2025-10-24", p1);
  Register(log, "P2", "2025-09-01", "2025-10-24", p2);
  CHECK(Due(Evaluate(log, "2025-10-23"), "half_termly_praise") == nullptr);  // not the point yet
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-10-24");
    const v1::DueAction* praise = Due(e, "half_termly_praise");
    REQUIRE(praise != nullptr);
    CHECK(praise->action() == v1::POSITIVE_LETTER);
    CHECK(praise->ladder_id().empty());
    CHECK(praise->due_on() == "2025-10-24");
    CHECK(praise->priority() == 10);
    CHECK(praise->explanation().possible() == 75);
    CHECK(praise->explanation().attended() == 72);
    CHECK(absl::StartsWith(praise->explanation().sentence(), "attendance 96.0% (72/75 sessions, "));
    CHECK(absl::EndsWith(praise->explanation().sentence(),
                         ") on 2025-10-24 >= 96.0% -> half_termly_praise due"));
  }
  CHECK(Due(Evaluate(log, "2025-10-24", "P2"), "half_termly_praise") == nullptr);
  // Due through the break until sent; sent, it is done for the half-term.
  CHECK(Due(Evaluate(log, "2025-10-31"), "half_termly_praise") != nullptr);
  log.Letter("P1", "half_termly_praise", D("2025-11-03"));
  Register(log, "P1", "2025-11-03", "2025-12-19");
  CHECK(Due(Evaluate(log, "2025-12-18"), "half_termly_praise") == nullptr);
  const v1::PupilEscalation december = Evaluate(log, "2025-12-19");
  REQUIRE(Due(december, "half_termly_praise") != nullptr);  // Autumn 2: 100%
  CHECK(Due(december, "half_termly_praise")->due_on() == "2025-12-19");
}

}  // namespace
}  // namespace attendance::projections
