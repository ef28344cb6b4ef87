// Seeds 002, 003 and 004 driven through their whole ladders over the
// 2025-26 calendar with marks, letters and meetings, checking the stage, the
// due actions and the explanation at each step, and each new threshold at
// exactly its edge (seeds 000 and 001's first steps, explanations and edges
// are in escalation_test.cc; their ladders to the last step are here).
#include <functional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "escalation_helpers.h"
#include "projections/escalation_reports.h"

namespace attendance::projections {
namespace {

using namespace esc_test;  // NOLINT: test helpers

// Each step of `steps` on `ladder`: not due the school day before the
// date given, due on it (its due_on that date), then done that day by
// `done` (a letter or an action), after which the pupil is at that stage.
struct LadderStepAt {
  const char* step;
  const char* day_before;
  const char* due;
};

void DriveLadder(EventLog& log, const std::string& pupil, const std::string& ladder,
                 const std::vector<LadderStepAt>& steps,
                 const std::function<void(const LadderStepAt&)>& done) {
  for (const LadderStepAt& s : steps) {
    INFO(ladder << ": " << s.step << " due on " << s.due);
    if (s.day_before != nullptr) CHECK(Due(Evaluate(log, s.day_before, pupil), s.step) == nullptr);
    const v1::PupilEscalation e = Evaluate(log, s.due, pupil);
    const v1::DueAction* due = Due(e, s.step);
    REQUIRE(due != nullptr);
    CHECK(due->ladder_id() == ladder);
    CHECK(due->due_on() == s.due);
    CHECK_FALSE(due->explanation().sentence().empty());
    done(s);
    const v1::PupilEscalation after = Evaluate(log, s.due, pupil);
    const v1::LadderState& state = LadderOf(after, ladder);
    CHECK(state.stage() == s.step);
    CHECK(state.since() == s.due);
  }
}

TEST_CASE(
    "seed 000: the whole attendance ladder (Letters 1-5, each monitoring without improvement) "
    "and the whole Fast Track (Letters 6-8, the penalty notice requested), at 95.0% over the "
    "period exactly improved",
    "[escalation]") {
  EventLog log = NewSchool(LoadPolicy(kSeed000));
  for (const char* id : {"P2", "P3", "P4"}) {
    log.Enrol(testing::MakePupil(id, 4), D("2025-09-01"), D("2025-08-01"));
  }
  // P1: present for two weeks, then ill every day: the year to date falls
  // through every monitoring period. P3 the same, back from 2025-11-11.
  Register(log, "P1", "2025-09-01", "2025-09-12");
  Register(log, "P1", "2025-09-15", "2025-11-24", Days("2025-09-15", "2025-11-24", "I"));
  Register(log, "P3", "2025-09-01", "2025-09-12");
  Register(log, "P3", "2025-09-15", "2025-11-24", Days("2025-09-15", "2025-11-10", "I"));
  // P2: the first week O (10 sessions: Fast Track), then 4 sessions of I in
  // each Fast Track monitoring period (36/40 = 90% < 95%); P4 only 2 in the
  // first (38/40 = 95.0%: improved).
  Absences p2 = Days("2025-09-01", "2025-09-05", "O");
  Absences p4 = p2;
  for (const auto& [k, v] : Days("2025-09-15", "2025-09-16", "I")) p2[k] = v;
  for (const auto& [k, v] : Days("2025-10-20", "2025-10-21", "I")) p2[k] = v;
  for (const auto& [k, v] : Days("2025-11-17", "2025-11-18", "I")) p2[k] = v;
  for (const auto& [k, v] : Days("2025-09-15", "2025-09-15", "I")) p4[k] = v;
  Register(log, "P2", "2025-09-01", "2025-12-05", p2);
  Register(log, "P4", "2025-09-01", "2025-11-24", p4);

  // Letter 1 below 95% (20/22); 10 school days' monitoring each for Letters
  // 1, 2 and 4, 15 for Letter 3 (across the October half-term).
  const std::vector<LadderStepAt> letters = {{"letter_1", nullptr, "2025-09-15"},
                                             {"letter_2", "2025-09-26", "2025-09-29"},
                                             {"letter_3", "2025-10-10", "2025-10-13"},
                                             {"letter_4", "2025-11-07", "2025-11-10"},
                                             {"letter_5", "2025-11-21", "2025-11-24"}};
  for (const char* pupil : {"P1", "P3"}) {
    DriveLadder(log, pupil, "attendance_letters",
                pupil == std::string("P1")
                    ? letters
                    : std::vector<LadderStepAt>(letters.begin(), letters.begin() + 4),
                [&](const LadderStepAt& s) { log.Letter(pupil, s.step, D(s.due)); });
  }
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-11-24");
    const v1::LadderState& ladder = LadderOf(e, "attendance_letters");
    CHECK(ladder.history_size() == 5);
    CHECK_FALSE(ladder.has_monitoring());  // Letter 5 has none: the last step
  }
  // P3, back from 2025-11-11: the year to date rose over Letter 4's period.
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-11-24", "P3");
    CHECK(Due(e, "letter_5") == nullptr);
    CHECK(LadderOf(e, "attendance_letters").monitoring().improved());
  }

  // Fast Track: FT1 at the tenth unauthorised session; 20 school days'
  // monitoring each (FT2's across the half-term), then the fixed penalty
  // notice requested.
  DriveLadder(
      log, "P2", "fast_track",
      {{"fast_track_1", "2025-09-04", "2025-09-05"},
       {"fast_track_2", "2025-10-02", "2025-10-03"},
       {"fast_track_3", "2025-11-06", "2025-11-07"},
       {"fast_track_fpn", "2025-12-04", "2025-12-05"}},
      [&](const LadderStepAt& s) {
        if (std::string(s.step) == "fast_track_fpn") {
          log.Action("P2", "fpn-1", v1::PENALTY_NOTICE_REQUESTED, D(s.due)).set_step_id(s.step);
        } else {
          log.Letter("P2", s.step, D(s.due));
        }
      });
  log.Letter("P4", "fast_track_1", D("2025-09-05"));
  const v1::PupilEscalation p4_after = Evaluate(log, "2025-10-03", "P4");
  CHECK(Due(p4_after, "fast_track_2") == nullptr);
  CHECK(LadderOf(p4_after, "fast_track").monitoring().improved());
}

TEST_CASE(
    "seed 001: the whole ladder to the fixed penalty notice: concern and monitoring letters, "
    "the teacher meeting and the EWO referral recorded as actions, the final warning",
    "[escalation]") {
  EventLog log = NewSchool(LoadPolicy(kSeed001));
  // Present the first week, then ill every day to 2026-01-07.
  Register(log, "P1", "2025-09-01", "2025-09-05");
  Register(log, "P1", "2025-09-08", "2026-01-07", Days("2025-09-08", "2026-01-07", "I"));
  int actions = 0;
  DriveLadder(log, "P1", "stages",
              {{"concern_letter", nullptr, "2025-09-08"},
               {"monitoring_letter", nullptr, "2025-09-09"},
               {"teacher_meeting", "2025-09-22", "2025-09-23"},
               {"ewo_referral", "2025-10-20", "2025-10-21"},
               {"final_warning", "2025-11-24", "2025-11-25"},
               {"fixed_penalty_notice", "2026-01-05", "2026-01-06"}},
              [&](const LadderStepAt& s) {
                const std::string step = s.step;
                const std::string id = absl::StrCat("action-", ++actions);
                if (step == "teacher_meeting") {
                  log.Action("P1", id, v1::MEETING_HELD, D(s.due)).set_step_id(step);
                } else if (step == "ewo_referral") {
                  v1::ActionRecorded& a = log.Action("P1", id, v1::REFERRAL_MADE, D(s.due));
                  a.set_step_id(step);
                  a.set_referred_to(v1::EDUCATION_WELFARE_OFFICER);
                } else if (step == "fixed_penalty_notice") {
                  log.Action("P1", id, v1::PENALTY_NOTICE_REQUESTED, D(s.due)).set_step_id(step);
                } else {
                  log.Letter("P1", step, D(s.due));
                }
              });
  const v1::PupilEscalation e = Evaluate(log, "2026-01-06");
  const v1::LadderState& ladder = LadderOf(e, "stages");
  REQUIRE(ladder.history_size() == 6);
  CHECK(ladder.history(1).action_id().empty());  // a letter
  CHECK(ladder.history(2).action_id() == "action-3");
  CHECK(ladder.history(3).action_id() == "action-4");
  CHECK(ladder.history(5).action_id() == "action-6");
}

TEST_CASE(
    "seed 002: acknowledgement letter below 95%, improvement meeting below 92% with its 4-weekly "
    "review, the intent-to-Fast-Track letter without improvement, then back into 92-94.9% steps "
    "down",
    "[escalation]") {
  EventLog log = NewSchool(LoadPolicy(kSeed002));
  // A whole day ill in the first fortnight: 18/20 = 90.0%.
  {
    const v1::PupilEscalation e = RegisterThenEvaluate(log, "P1", "2025-09-01", "2025-09-12",
                                                       Days("2025-09-05", "2025-09-05", "I"));
    const v1::DueAction* ack = Due(e, "acknowledgement_letter");
    REQUIRE(ack != nullptr);
    CHECK(ack->action() == v1::LETTER);
    CHECK(ack->priority() == 50);
    CHECK(ack->explanation().sentence() ==
          "attendance 90.0% (18/20 sessions, 2025-26 to date) on 2025-09-12 < 95.0% -> "
          "acknowledgement_letter due");
    CHECK(Due(e, "attendance_improvement_meeting") == nullptr);  // after the letter
    CHECK(BandOf(e, "bands") == "improvement_meeting");
  }
  log.Letter("P1", "acknowledgement_letter", D("2025-09-15"));
  {
    const v1::PupilEscalation e = RegisterThenEvaluate(log, "P1", "2025-09-15", "2025-09-15");
    CHECK(LadderOf(e, "band_actions").stage() == "acknowledgement_letter");
    const v1::DueAction* meeting = Due(e, "attendance_improvement_meeting");
    REQUIRE(meeting != nullptr);
    CHECK(meeting->action() == v1::MEETING);
    CHECK(meeting->explanation().sentence() ==
          "attendance 90.9% (20/22 sessions, 2025-26 to date) on 2025-09-15 < 92.0% -> "
          "attendance_improvement_meeting due");
  }
  // The meeting, with a 95% target reviewed four weeks on.
  v1::ActionRecorded& meeting = log.Action("P1", "aim-1", v1::MEETING_HELD, D("2025-09-16"));
  meeting.set_step_id("attendance_improvement_meeting");
  meeting.set_target_basis_points(9500);
  meeting.set_review_on("2025-10-14");
  // Three days of O during the 20 school days' monitoring (to 10-14).
  {
    const v1::PupilEscalation e = RegisterThenEvaluate(
        log, "P1", "2025-09-16", "2025-10-14", Days("2025-10-01", "2025-10-03", "O"), "2025-10-13");
    const v1::LadderState& ladder = LadderOf(e, "band_actions");
    CHECK(ladder.stage() == "attendance_improvement_meeting");
    CHECK(ladder.since() == "2025-09-16");
    CHECK(ladder.history(1).action_id() == "aim-1");
    CHECK(ladder.monitoring().running());
    CHECK(ladder.monitoring().ends_on() == "2025-10-14");
    CHECK(Due(e, "fast_track_intent_letter") == nullptr);
    CHECK(Due(e, "aim-1") == nullptr);
  }
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-10-14");
    CHECK_FALSE(LadderOf(e, "band_actions").monitoring().improved());
    const v1::DueAction* intent = Due(e, "fast_track_intent_letter");
    REQUIRE(intent != nullptr);
    CHECK(intent->due_on() == "2025-10-14");
    CHECK(intent->explanation().sentence() ==
          "year to date 87.5% (56/64) on 2025-10-14 not > 91.7% (22/24) on 2025-09-16 -> no "
          "improvement after attendance_improvement_meeting -> fast_track_intent_letter due");
    const v1::DueAction* review = Due(e, "aim-1");  // the 4-weekly review of the target
    REQUIRE(review != nullptr);
    CHECK(review->action() == v1::REVIEW);
    CHECK(review->explanation().sentence() ==
          "attendance 85.0% (34/40 sessions, 2025-09-17..2025-10-14) not >= 95.0% target set at "
          "meeting aim-1 held 2025-09-16 -> target not met; review due on 2025-10-14");
  }
  log.Action("P1", "aim-1-review", v1::MEETING_HELD, D("2025-10-15"))
      .set_reviews_action_id("aim-1");
  log.Letter("P1", "fast_track_intent_letter", D("2025-10-15"));
  // Present from then on: back to 92.0% exactly after 36 more sessions
  // (92/100 on 2025-11-14), a session short the day before (90/98 = 91.8%).
  {
    const v1::PupilEscalation e =
        RegisterThenEvaluate(log, "P1", "2025-10-15", "2025-11-14", {}, "2025-11-13");
    CHECK(LadderOf(e, "band_actions").stage() == "fast_track_intent_letter");
    CHECK(Due(e, "improved_to_92") == nullptr);
    CHECK(Due(e, "aim-1") == nullptr);  // reviewed
    CHECK(e.due_size() == 0);
  }
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-11-14");
    CHECK(BandOf(e, "bands") == "lead_and_slt");  // [92, 95): 92.0% is in
    const v1::DueAction* positive = Due(e, "improved_to_92");
    REQUIRE(positive != nullptr);
    CHECK(positive->action() == v1::POSITIVE_LETTER);
    CHECK(positive->explanation().sentence() ==
          "attendance 92.0% (92/100 sessions, 2025-26 to date) on 2025-11-14 in band "
          "lead_and_slt of bands -> improved_to_92 due; sending it steps band_actions down from "
          "fast_track_intent_letter");
    CHECK(Due(e, "improved_to_95") == nullptr);
  }
  log.Letter("P1", "improved_to_92", D("2025-11-17"));
  {
    const v1::PupilEscalation e =
        RegisterThenEvaluate(log, "P1", "2025-11-17", "2025-12-19", {}, "2025-11-17");
    const v1::LadderState& ladder = LadderOf(e, "band_actions");
    CHECK(ladder.stage() == "attendance_improvement_meeting");  // a stage down
    CHECK(ladder.since() == "2025-11-17");
    REQUIRE(ladder.history_size() == 4);
    CHECK(ladder.history(3).stepped_down());
    CHECK(ladder.history(3).stepped_down_to() == "attendance_improvement_meeting");
    // The meeting's monitoring restarts from the step down.
    CHECK(ladder.monitoring().started_on() == "2025-11-17");
    CHECK(ladder.monitoring().ends_on() == "2025-12-15");
    CHECK(e.due_size() == 0);
  }
  {
    // The new monitoring improved (the year to date rose): no intent letter.
    const v1::PupilEscalation e = Evaluate(log, "2025-12-15");
    CHECK(LadderOf(e, "band_actions").monitoring().improved());
    CHECK(Due(e, "fast_track_intent_letter") == nullptr);
  }
}

TEST_CASE("seed 002: thresholds at exactly 95% and 92%, and the end-of-term letter at 95%",
          "[escalation]") {
  {
    // 19/20 = 95.0%: not below 95%.
    EventLog log = NewSchool(LoadPolicy(kSeed002));
    const v1::PupilEscalation e =
        RegisterThenEvaluate(log, "P1", "2025-09-01", "2025-09-12", {{{"2025-09-12", 1}, "O"}});
    CHECK(Due(e, "acknowledgement_letter") == nullptr);
    CHECK(BandOf(e, "bands") == "lead_and_teachers");
  }
  {
    // 23/25 = 92.0% after the letter: not below 92%; 22/25 would be.
    EventLog log = NewSchool(LoadPolicy(kSeed002));
    Register(log, "P1", "2025-09-01", "2025-09-12", {{{"2025-09-12", 1}, "I"}});
    log.Letter("P1", "acknowledgement_letter", D("2025-09-12"));
    Register(log, "P1", "2025-09-15", "2025-09-16", {{{"2025-09-16", 1}, "I"}});
    log.Mark("P1", D("2025-09-17"), v1::AM, "/");
    CHECK(Due(Evaluate(log, "2025-09-17"), "attendance_improvement_meeting") == nullptr);
    log.Amend("P1", D("2025-09-17"), v1::AM, "/", "I", D("2025-09-17"));
    CHECK(Due(Evaluate(log, "2025-09-17"), "attendance_improvement_meeting") != nullptr);
  }
  {
    // The end-of-term letter: judged on the term's last school day; 95%
    // over the term exactly passes, below it does not.
    EventLog log = NewSchool(LoadPolicy(kSeed002));
    log.Enrol(testing::MakePupil("P2", 4), D("2025-09-01"), D("2025-08-01"));
    // Autumn 2025: 75 school days, 150 sessions; 7 missed = 95.3%, 8 = 94.7%.
    Absences seven = Days("2025-09-01", "2025-09-03", "I");
    seven[{"2025-09-04", 0}] = "I";
    Register(log, "P1", "2025-09-01", "2025-12-19", seven);
    Register(log, "P2", "2025-09-01", "2025-12-19", Days("2025-09-01", "2025-09-04", "I"));
    CHECK(Due(Evaluate(log, "2025-12-18"), "term_95_letter") == nullptr);
    const v1::PupilEscalation e = Evaluate(log, "2025-12-19");
    const v1::DueAction* letter = Due(e, "term_95_letter");
    REQUIRE(letter != nullptr);
    CHECK(letter->due_on() == "2025-12-19");
    CHECK(letter->ladder_id().empty());
    CHECK(letter->explanation().sentence() ==
          "attendance 95.3% (143/150 sessions, Autumn 2025-26) on 2025-12-19 >= 95.0% -> "
          "term_95_letter due");
    CHECK(Due(Evaluate(log, "2025-12-19", "P2"), "term_95_letter") == nullptr);
    // Still due in the holiday, until it is sent.
    CHECK(Due(Evaluate(log, "2026-01-02"), "term_95_letter") != nullptr);
    log.Letter("P1", "term_95_letter", D("2026-01-05"));
    CHECK(Due(Evaluate(log, "2026-01-05"), "term_95_letter") == nullptr);
  }
}

TEST_CASE("SimulatePolicy does an end-of-term letter once, not every week after the term",
          "[escalation]") {
  const v1::EscalationPolicy policy = LoadPolicy(kSeed002);
  EventLog log = NewSchool(policy);
  Register(log, "P1", "2025-09-01", "2026-01-30");
  v1::SimulatePolicyRequest request;
  request.set_school_id("school-1");
  *request.mutable_policy() = policy;
  request.set_from("2025-09-01");
  request.set_to("2026-01-30");
  absl::StatusOr<v1::SimulatePolicyResponse> r =
      SimulatePolicy(Fold(log), request, D("2026-02-02"));
  REQUIRE(r.ok());
  std::map<std::string, std::uint32_t> letters;  // half-term -> term_95_letter due
  for (const v1::HalfTermSimulation& h : r->half_terms()) {
    for (const v1::RuleTally& t : h.simulated()) {
      // (every rule has a tally, zero where nothing fell due)
      if (t.rule_id() == "term_95_letter" && t.due() > 0) letters[h.half_term()] += t.due();
    }
  }
  CHECK(letters == std::map<std::string, std::uint32_t>{{"Autumn 2", 1}});
}

TEST_CASE("seed 003: multi-agency support below 90%, exactly 90% not, the referral recorded",
          "[escalation]") {
  EventLog log = NewSchool(LoadPolicy(kSeed003));
  // 18/20 = 90.0%: not below 90%.
  {
    const v1::PupilEscalation e = RegisterThenEvaluate(log, "P1", "2025-09-01", "2025-09-12",
                                                       Days("2025-09-12", "2025-09-12", "I"));
    CHECK(Due(e, "multi_agency_support") == nullptr);
    CHECK(BandOf(e, "tiers") == "universal_and_early");
    CHECK(LadderOf(e, "multi_agency").stage().empty());
  }
  // One more session missed: 20/23 = 87.0% on 2025-09-16 (PM not yet
  // marked)... and the day before, 20/22 = 90.9%.
  Register(log, "P1", "2025-09-15", "2025-09-15");
  log.Mark("P1", D("2025-09-16"), v1::AM, "O");
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-09-16");
    const v1::DueAction* referral = Due(e, "multi_agency_support");
    REQUIRE(referral != nullptr);
    CHECK(referral->action() == v1::REFERRAL);
    CHECK(referral->explanation().sentence() ==
          "attendance 87.0% (20/23 sessions, 2025-26 to date) on 2025-09-16 < 90.0% -> "
          "multi_agency_support due");
    CHECK(BandOf(e, "tiers") == "tier_3");
  }
  v1::ActionRecorded& referral = log.Action("P1", "ref-1", v1::REFERRAL_MADE, D("2025-09-17"));
  referral.set_step_id("multi_agency_support");
  referral.set_referred_to(v1::EARLY_HELP);
  const v1::PupilEscalation e = Evaluate(log, "2025-09-17");
  const v1::LadderState& ladder = LadderOf(e, "multi_agency");
  CHECK(ladder.stage() == "multi_agency_support");
  CHECK(ladder.since() == "2025-09-17");
  CHECK(ladder.history(0).action_id() == "ref-1");
  CHECK(Due(e, "multi_agency_support") == nullptr);
}

TEST_CASE(
    "seed 004: catch-up card below 98%, its 10 days without 98% bring the letter, then the "
    "parent meeting, its 15-day penalty-notice monitoring, and the Attendance Panel",
    "[escalation]") {
  EventLog log = NewSchool(LoadPolicy(kSeed004));
  {
    const v1::PupilEscalation e =
        RegisterThenEvaluate(log, "P1", "2025-09-01", "2025-09-05", {{{"2025-09-05", 1}, "I"}});
    const v1::DueAction* card = Due(e, "catch_up_card");
    REQUIRE(card != nullptr);
    CHECK(card->action() == v1::REVIEW);
    CHECK(card->explanation().sentence() ==
          "attendance 90.0% (9/10 sessions, 2025-26 to date) on 2025-09-05 < 98.0% -> "
          "catch_up_card due");
    CHECK(BandOf(e, "waves") == "wave_2");
  }
  // The form tutor's talk and catch-up card, recorded as a meeting.
  log.Action("P1", "card-1", v1::MEETING_HELD, D("2025-09-08")).set_step_id("catch_up_card");
  {
    const v1::PupilEscalation e = RegisterThenEvaluate(log, "P1", "2025-09-08", "2025-09-22",
                                                       {{{"2025-09-10", 0}, "O"}}, "2025-09-19");
    CHECK(LadderOf(e, "wave_steps").stage() == "catch_up_card");
    CHECK(LadderOf(e, "wave_steps").monitoring().running());
    CHECK(Due(e, "wave_letter") == nullptr);
  }
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-09-22");
    const v1::DueAction* letter = Due(e, "wave_letter");
    REQUIRE(letter != nullptr);
    CHECK(letter->due_on() == "2025-09-22");
    CHECK(letter->explanation().sentence() ==
          "attendance 95.0% (19/20 sessions, monitoring after catch_up_card, "
          "2025-09-09..2025-09-22) not >= 98.0% -> no improvement after catch_up_card -> "
          "wave_letter due");
  }
  log.Letter("P1", "wave_letter", D("2025-09-23"));
  {
    const v1::PupilEscalation e = RegisterThenEvaluate(log, "P1", "2025-09-23", "2025-09-23");
    CHECK(LadderOf(e, "wave_steps").stage() == "wave_letter");
    const v1::DueAction* meeting = Due(e, "parent_meeting");
    REQUIRE(meeting != nullptr);
    CHECK(meeting->action() == v1::MEETING);
    CHECK(meeting->explanation().sentence() ==
          "attendance 94.1% (32/34 sessions, 2025-26 to date) on 2025-09-23 < 98.0% -> "
          "parent_meeting due");
  }
  // The parent meeting starts the 15-school-day monitoring (to 10-15), with
  // a target and a review date agreed.
  v1::ActionRecorded& meeting = log.Action("P1", "meet-1", v1::MEETING_HELD, D("2025-09-24"));
  meeting.set_step_id("parent_meeting");
  meeting.set_target_basis_points(9800);
  meeting.set_review_on("2025-10-15");
  {
    const v1::PupilEscalation e = RegisterThenEvaluate(
        log, "P1", "2025-09-24", "2025-10-15", Days("2025-10-06", "2025-10-07", "O"), "2025-10-14");
    CHECK(LadderOf(e, "wave_steps").monitoring().ends_on() == "2025-10-15");
    CHECK(Due(e, "attendance_panel") == nullptr);
  }
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-10-15");
    const v1::DueAction* panel = Due(e, "attendance_panel");
    REQUIRE(panel != nullptr);
    CHECK(panel->action() == v1::MEETING);
    // Both conditions: no improvement, and below 95%.
    CHECK(panel->explanation().sentence() ==
          "attendance 90.9% (60/66 sessions, 2025-26 to date) on 2025-10-15 < 95.0% -> "
          "attendance_panel due");
    const v1::DueAction* review = Due(e, "meet-1");
    REQUIRE(review != nullptr);
    CHECK(absl::StrContains(review->explanation().sentence(), "-> target not met"));
  }
  log.Action("P1", "panel-1", v1::PANEL_HELD, D("2025-10-16")).set_step_id("attendance_panel");
  const v1::PupilEscalation e = Evaluate(log, "2025-10-16");
  CHECK(LadderOf(e, "wave_steps").stage() == "attendance_panel");
  CHECK(LadderOf(e, "wave_steps").history_size() == 4);
  CHECK(Due(e, "attendance_panel") == nullptr);
}

TEST_CASE(
    "seed 004: the catch-up card improved; back to 98% exactly steps the wave down with a "
    "congratulations letter; 98% over the term brings the end-of-term letter",
    "[escalation]") {
  EventLog log = NewSchool(LoadPolicy(kSeed004));
  Register(log, "P1", "2025-09-01", "2025-09-05", {{{"2025-09-05", 1}, "I"}});
  log.Action("P1", "card-1", v1::MEETING_HELD, D("2025-09-08")).set_step_id("catch_up_card");
  {
    const v1::PupilEscalation e =
        RegisterThenEvaluate(log, "P1", "2025-09-08", "2025-12-19", {}, "2025-09-22");
    CHECK(LadderOf(e, "wave_steps").monitoring().improved());
    CHECK(Due(e, "wave_letter") == nullptr);
  }
  // 47/48 = 97.9% on 10-02, 49/50 = 98.0% on 10-03: exceptional is [98, 100].
  CHECK(Due(Evaluate(log, "2025-10-02"), "back_to_exceptional") == nullptr);
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-10-03");
    CHECK(BandOf(e, "waves") == "exceptional");
    const v1::DueAction* letter = Due(e, "back_to_exceptional");
    REQUIRE(letter != nullptr);
    CHECK(letter->explanation().sentence() ==
          "attendance 98.0% (49/50 sessions, 2025-26 to date) on 2025-10-03 in band exceptional "
          "of waves -> back_to_exceptional due; sending it steps wave_steps down from "
          "catch_up_card");
  }
  log.Letter("P1", "back_to_exceptional", D("2025-10-06"));
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-10-06");
    CHECK(LadderOf(e, "wave_steps").stage().empty());
    CHECK(LadderOf(e, "wave_steps").history(1).stepped_down());
    CHECK(e.due_size() == 0);
  }
  // The Autumn term: 149/150 = 99.3%, at least 98%.
  CHECK(Due(Evaluate(log, "2025-12-18"), "excellent_attendance_letter") == nullptr);
  const v1::PupilEscalation e = Evaluate(log, "2025-12-19");
  const v1::DueAction* letter = Due(e, "excellent_attendance_letter");
  REQUIRE(letter != nullptr);
  CHECK(letter->due_on() == "2025-12-19");
  CHECK(letter->action() == v1::POSITIVE_LETTER);
}

TEST_CASE("seeds 002 and 004: vulnerable pupils' N codes to resolve come first", "[escalation]") {
  for (const char* file : {kSeed002, kSeed004}) {
    INFO(file);
    // P2 is looked after: first, ahead of P1 (who sorts first on a tie).
    v1::Pupil looked_after = testing::MakePupil("P2", 4);
    looked_after.set_looked_after(true);
    EventLog log = NewSchool(LoadPolicy(file), looked_after);
    log.Enrol(testing::MakePupil("P1", 4), D("2025-09-01"), D("2025-08-01"));
    // An N on 09-01 for both, never resolved: past the 5-school-day deadline.
    for (const char* pupil : {"P1", "P2"}) {
      Register(log, pupil, "2025-09-01", "2025-09-12", {{{"2025-09-01", 0}, "N"}});
    }
    v1::ListDueActionsRequest resolve;
    resolve.set_action(v1::RESOLVE_N_CODE);
    CHECK(Worklist(log, resolve, "2025-09-12") ==
          std::vector<std::string>{"P2:n_code_deadline", "P1:n_code_deadline"});
    const v1::PupilEscalation e = Evaluate(log, "2025-09-12", "P2");
    REQUIRE(Due(e, "n_code_deadline") != nullptr);
    CHECK(Due(e, "n_code_deadline")->priority() == 100);  // 90 + 10
    CHECK(absl::StrContains(Due(e, "n_code_deadline")->explanation().sentence(),
                            "; priority 100 (+10, cohort rule "));
  }
}

TEST_CASE("seed 002's first-response list calls SEN pupils first (CP, CIC, SEN priority calls)",
          "[escalation]") {
  auto order = [](const char* file) {
    v1::Pupil send = testing::MakePupil("P2", 4);
    send.set_send(v1::SEN_SUPPORT);
    EventLog log = NewSchool(LoadPolicy(file), send);
    log.Enrol(testing::MakePupil("P1", 4), D("2025-09-01"), D("2025-08-01"));
    for (const char* p : {"P1", "P2"}) {
      Register(log, p, "2025-09-01", "2025-09-09");
      log.Mark(p, D("2025-09-10"), v1::AM, "N");
    }
    v1::ListFirstResponseRequest request;
    request.set_school_id("school-1");
    request.set_as_of("2025-09-10");
    request.set_as_of_time("10:00");
    absl::StatusOr<v1::ListFirstResponseResponse> r = QueryFirstResponse(Fold(log), request, 0, 0);
    REQUIRE(r.ok());
    std::vector<std::string> out;
    for (const v1::FirstResponseEntry& e : r->entries()) {
      out.push_back(e.pupil_id() + (e.vulnerable() ? "*" : ""));
      if (e.vulnerable()) {
        CHECK(e.sentence() ==
              "no reason for absence (N) by the close of the morning register on 2025-09-10; "
              "send -> call today");
      }
    }
    return out;
  };
  CHECK(order(kSeed002) == std::vector<std::string>{"P2*", "P1"});
  // Seed 001 has no such rule: SEND alone is not a first-response priority.
  CHECK(order("001_all_saints_ce_primary_attendance_and_absence_policy_2024_27.textproto") ==
        std::vector<std::string>{"P1", "P2"});
}

}  // namespace
}  // namespace attendance::projections
