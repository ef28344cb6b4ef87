// The escalation engine (issue 7): the shipped policy files, their
// validation, seed ladders driven over a real calendar, the national
// penalty-notice trigger across a half-term, thresholds at their edges, and
// a brute-force check of the counts over random histories.
#include <google/protobuf/util/message_differencer.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <iostream>
#include <map>
#include <random>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "escalation_helpers.h"
#include "ledger/escalation_policy.h"
#include "projections/escalation.h"
#include "projections/escalation_queries.h"

namespace attendance::projections {
namespace {

using namespace esc_test;  // NOLINT: test helpers
namespace fs = std::filesystem;

TEST_CASE("every shipped policy parses, validates and carries the national base verbatim",
          "[escalation]") {
  const v1::EscalationPolicy national = LoadPolicy(kNational);
  REQUIRE(ledger::ValidateEscalationPolicy(national, kDefaultWeeks, "policy").ok());
  REQUIRE(national.triggers_size() == 6);
  int files = 0;
  for (const auto& entry : fs::directory_iterator(ATTENDANCE_POLICIES_DIR)) {
    if (entry.path().extension() != ".textproto") continue;
    ++files;
    const std::string name = entry.path().filename().string();
    INFO(name);
    const v1::EscalationPolicy policy = LoadPolicy(name);
    const absl::Status valid = ledger::ValidateEscalationPolicy(policy, kDefaultWeeks, "policy");
    INFO(valid.ToString());
    CHECK(valid.ok());
    if (name == kNational) continue;
    // Each names its seed, and the seed file exists.
    CHECK(policy.source().rfind("seeds/", 0) == 0);
    CHECK(name.substr(0, 3) == policy.source().substr(6, 3));
    for (const v1::CountedTrigger& base : national.triggers()) {
      bool found = false;
      for (const v1::CountedTrigger& t : policy.triggers()) {
        found = found || google::protobuf::util::MessageDifferencer::Equals(t, base);
      }
      INFO(base.trigger_id());
      CHECK(found);
    }
  }
  CHECK(files == 6);  // the national base and one per seed document
}

TEST_CASE("validation names the rule: overlaps, dangling steps, unknown windows", "[escalation]") {
  const v1::EscalationPolicy good = LoadPolicy(kSeed000);
  CHECK(RefusalOf(good,
                  [](v1::EscalationPolicy& p) {
                    // tier_3 [90, 95) now reaches 95.0% inclusive: it overlaps [95, 100].
                    p.mutable_band_sets(0)->mutable_bands(1)->set_upper_inclusive(true);
                  }) ==
        "policy.band_sets[0] (\"tiers\").bands[1] (\"tier_3\"): overlaps band \"expect_monitor\"");
  CHECK(RefusalOf(good,
                  [](v1::EscalationPolicy& p) {
                    p.mutable_ladders(0)->mutable_steps(2)->set_after_step("letter_9");
                  }) ==
        "policy.ladders[0] (\"attendance_letters\").steps[2] (\"letter_3\").after_step: "
        "\"letter_9\" is not an earlier step of ladder \"attendance_letters\"");
  CHECK(RefusalOf(good,
                  [](v1::EscalationPolicy& p) {
                    p.mutable_ladders(1)->mutable_steps(0)->set_trigger_id("nope");
                  }) ==
        "policy.ladders[1] (\"fast_track\").steps[0] (\"fast_track_1\").trigger_id: "
        "\"nope\" is not a trigger of the policy");
  {
    // The school's settings have no 12-week window.
    CHECK(Refusal(good, {4, 6, 10}) ==
          "policy.triggers[0] (\"fast_track_10_in_12\").window.weeks: 12 school weeks is not one "
          "of the school's rolling windows (4, 6, 10)");
  }
  CHECK(RefusalOf(good,
                  [](v1::EscalationPolicy& p) {
                    p.mutable_ladders(0)
                        ->mutable_steps(0)
                        ->mutable_attendance()
                        ->mutable_window()
                        ->set_kind(v1::POLICY_WINDOW_UNSPECIFIED);
                  }) ==
        "policy.ladders[0] (\"attendance_letters\").steps[0] (\"letter_1\")"
        ".attendance.window.kind: 0 is not a window");
  CHECK(RefusalOf(
            good,
            [](v1::EscalationPolicy& p) { p.mutable_triggers(1)->set_trigger_id("letter_1"); }) ==
        "policy.ladders[0] (\"attendance_letters\").steps[0] (\"letter_1\")"
        ".step_id: \"letter_1\" is already the id of another rule");
}

TEST_CASE(
    "seed 000: Letter 1 below 95%, monitoring, Letter 2 on no improvement, Letter 3 below "
    "90%; an amendment flags the basis of Letter 1",
    "[escalation]") {
  const v1::EscalationPolicy policy = LoadPolicy(kSeed000);
  EventLog log = NewSchool(policy);
  Register(log, "P1", "2025-09-01", "2025-09-12");
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-09-12");
    CHECK(e.policy_version() == "2024-25.1");
    CHECK(e.due().empty());
    CHECK(LadderOf(e, "attendance_letters").stage().empty());
    CHECK(BandOf(e, "tiers") == "expect_monitor");
  }
  Register(log, "P1", "2025-09-15", "2025-09-17",
           {{{"2025-09-15", 0}, "I"}, {{"2025-09-15", 1}, "I"}, {{"2025-09-16", 0}, "I"}});
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-09-16");
    const v1::DueAction* letter_1 = Due(e, "letter_1");
    REQUIRE(letter_1 != nullptr);
    CHECK(letter_1->ladder_id() == "attendance_letters");
    CHECK(letter_1->action() == v1::LETTER);
    CHECK(letter_1->due_on() == "2025-09-16");
    CHECK(letter_1->priority() == 50);
    const v1::Explanation& x = letter_1->explanation();
    CHECK(x.policy_version() == "2024-25.1");
    CHECK(x.attended() == 21);
    CHECK(x.possible() == 24);
    CHECK(x.basis_points() == 9500);
    CHECK(x.comparison() == v1::BELOW);
    CHECK(x.window_first() == "2025-08-01");  // the academic year
    CHECK(
        x.sentence() ==
        "attendance 87.5% (21/24 sessions, 2025-26 to date) on 2025-09-16 < 95.0% -> letter_1 due");
    CHECK(BandOf(e, "tiers") == "below_90");
  }
  log.Letter("P1", "letter_1", D("2025-09-17"));
  // Two days unauthorised in the monitoring period: the year to date falls.
  Register(log, "P1", "2025-09-18", "2025-10-01",
           {{{"2025-09-22", 0}, "O"},
            {{"2025-09-22", 1}, "O"},
            {{"2025-09-23", 0}, "O"},
            {{"2025-09-23", 1}, "O"}});
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-09-24");
    const v1::LadderState& ladder = LadderOf(e, "attendance_letters");
    CHECK(ladder.stage() == "letter_1");
    CHECK(ladder.since() == "2025-09-17");
    CHECK(ladder.monitoring().running());
    CHECK(ladder.monitoring().ends_on() == "2025-10-01");  // 10 school days after the letter
    CHECK(Due(e, "letter_1") == nullptr);
    CHECK(Due(e, "letter_2") == nullptr);
    // Two whole days O in a row: one short of the home-visit trigger.
    CHECK(Due(e, "home_visit_3_days") == nullptr);
  }
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-10-01");
    const v1::LadderState& ladder = LadderOf(e, "attendance_letters");
    CHECK_FALSE(ladder.monitoring().running());
    CHECK_FALSE(ladder.monitoring().improved());
    const v1::DueAction* letter_2 = Due(e, "letter_2");
    REQUIRE(letter_2 != nullptr);
    CHECK(letter_2->due_on() == "2025-10-01");
    CHECK(letter_2->explanation().sentence() ==
          "year to date 84.8% (39/46) on 2025-10-01 not > 88.5% (23/26) on 2025-09-17 -> no "
          "improvement after letter_1 -> letter_2 due");
  }
  log.Letter("P1", "letter_2", D("2025-10-02"));
  Register(log, "P1", "2025-10-02", "2025-10-16");
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-10-10");
    CHECK(LadderOf(e, "attendance_letters").stage() == "letter_2");
    CHECK(Due(e, "letter_3") == nullptr);  // Letter 2's monitoring runs to 2025-10-16
  }
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-10-16");
    const v1::DueAction* letter_3 = Due(e, "letter_3");
    REQUIRE(letter_3 != nullptr);
    CHECK(letter_3->due_on() == "2025-10-16");
    CHECK(
        letter_3->explanation().sentence() ==
        "attendance 89.7% (61/68 sessions, 2025-26 to date) on 2025-10-16 < 90.0% -> letter_3 due");
  }
  // The illness was a data-entry error: present after all. Letter 1 stays
  // sent; its basis is flagged.
  for (auto [date, session] : {std::pair{"2025-09-15", v1::AM}, std::pair{"2025-09-15", v1::PM},
                               std::pair{"2025-09-16", v1::AM}}) {
    log.Amend("P1", D(date), session, "I", session == v1::AM ? "/" : "\\", D("2025-10-17"));
  }
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-10-17");
    const v1::LadderState& ladder = LadderOf(e, "attendance_letters");
    CHECK(ladder.stage() == "letter_2");
    REQUIRE(ladder.history_size() == 2);
    CHECK(ladder.history(0).step_id() == "letter_1");
    CHECK(ladder.history(0).basis_changed());
    CHECK(ladder.history(0).basis_note() ==
          "basis changed: on 2025-09-17 attendance was 88.5% as then recorded, 100.0% as "
          "amended; < 95.0% no longer holds, by the amendment at position 77 recorded on "
          "2025-10-17 (2025-09-16 AM I -> /)");
    // The latest of the three amendments is the one named.
    CHECK(ladder.history(0).basis_changed_by_position() == 77);
    CHECK(ladder.history(0).basis_changed_on() == "2025-10-17");
    CHECK_FALSE(ladder.history(1).basis_changed());  // Letter 2 had no attendance basis
    // As evaluated on 2025-10-16, before the amendment, nothing is flagged.
    CHECK_FALSE(
        LadderOf(Evaluate(log, "2025-10-16"), "attendance_letters").history(0).basis_changed());
  }
}

TEST_CASE(
    "seed 001: concern letter below 96%, monitoring letter below 90%, teacher meeting "
    "after two weeks without 96%",
    "[escalation]") {
  const v1::EscalationPolicy policy = LoadPolicy(kSeed001);
  EventLog log = NewSchool(policy);
  // 10 days, 1 session of illness: 19/20 = 95.0% < 96%.
  Register(log, "P1", "2025-09-01", "2025-09-12", {{{"2025-09-12", 1}, "I"}});
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-09-12");
    REQUIRE(Due(e, "concern_letter") != nullptr);
    CHECK(Due(e, "monitoring_letter") == nullptr);  // after the concern letter only
    CHECK(BandOf(e, "ladder_bands") == "headteacher_talk");
  }
  log.Letter("P1", "concern_letter", D("2025-09-15"));
  // Three days of O: 23/30 = 76.7% < 90% (and < 85%: the headteacher ladder).
  Register(log, "P1", "2025-09-15", "2025-09-19",
           {{{"2025-09-17", 0}, "O"},
            {{"2025-09-17", 1}, "O"},
            {{"2025-09-18", 0}, "O"},
            {{"2025-09-18", 1}, "O"},
            {{"2025-09-19", 0}, "O"},
            {{"2025-09-19", 1}, "O"}});
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-09-19");
    CHECK(LadderOf(e, "stages").stage() == "concern_letter");
    REQUIRE(Due(e, "monitoring_letter") != nullptr);
    REQUIRE(Due(e, "headteacher_meeting") != nullptr);
    CHECK(Due(e, "headteacher_meeting")->priority() == 65);
    // Three whole days absent in a row: "more than 3" is not yet reached.
    CHECK(Due(e, "signed_letter_3_days") == nullptr);
  }
  log.Letter("P1", "monitoring_letter", D("2025-09-22"));
  // Two weeks of monitoring with one more session missed: 19/20 < 96%.
  Register(log, "P1", "2025-09-22", "2025-10-06", {{{"2025-09-30", 0}, "O"}});
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-10-03");
    CHECK(LadderOf(e, "stages").monitoring().running());
    CHECK(Due(e, "teacher_meeting") == nullptr);
  }
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-10-06");
    const v1::MonitoringPeriod& m = LadderOf(e, "stages").monitoring();
    CHECK(m.ends_on() == "2025-10-06");
    CHECK_FALSE(m.improved());
    const v1::DueAction* meeting = Due(e, "teacher_meeting");
    REQUIRE(meeting != nullptr);
    CHECK(meeting->action() == v1::MEETING);
    CHECK(meeting->explanation().sentence() ==
          "attendance 95.0% (19/20 sessions, monitoring after monitoring_letter, "
          "2025-09-23..2025-10-06) not >= 96.0% -> no improvement after monitoring_letter -> "
          "teacher_meeting due");
  }
}

TEST_CASE(
    "seed 001: the teacher meeting recorded as an action completes its step, starts its "
    "monitoring, and its review falls due on the review date saying whether the target was met",
    "[escalation]") {
  const v1::EscalationPolicy policy = LoadPolicy(kSeed001);
  EventLog log = NewSchool(policy);
  Register(log, "P1", "2025-09-01", "2025-09-12", {{{"2025-09-12", 1}, "I"}});
  log.Letter("P1", "concern_letter", D("2025-09-15"));
  Register(log, "P1", "2025-09-15", "2025-09-19", {{{"2025-09-17", 0}, "O"}});
  log.Letter("P1", "monitoring_letter", D("2025-09-22"));
  Register(log, "P1", "2025-09-22", "2025-10-06", {{{"2025-09-30", 0}, "O"}});
  REQUIRE(Due(Evaluate(log, "2025-10-06"), "teacher_meeting") != nullptr);

  v1::ActionRecorded& meeting = log.Action("P1", "meet-1", v1::MEETING_HELD, D("2025-10-07"));
  meeting.set_step_id("teacher_meeting");
  meeting.set_target_basis_points(9600);
  meeting.set_review_on("2025-11-07");
  // One session missed over the review period: 35/36 = 97.2% >= 96%.
  Register(log, "P1", "2025-10-07", "2025-11-07", {{{"2025-10-15", 0}, "O"}});
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-10-08");
    const v1::LadderState& ladder = LadderOf(e, "stages");
    CHECK(ladder.stage() == "teacher_meeting");
    CHECK(ladder.since() == "2025-10-07");
    REQUIRE(ladder.history_size() == 3);
    CHECK(ladder.history(2).action_id() == "meet-1");
    CHECK(ladder.history(2).sent_on() == "2025-10-07");
    CHECK(ladder.monitoring().step_id() == "teacher_meeting");
    CHECK(ladder.monitoring().running());
    CHECK(Due(e, "teacher_meeting") == nullptr);
    CHECK(Due(e, "meet-1") == nullptr);  // the review is not due yet
  }
  // As of the day before the meeting, it had not happened: still due.
  CHECK(Due(Evaluate(log, "2025-10-06"), "teacher_meeting") != nullptr);
  CHECK(Due(Evaluate(log, "2025-11-06"), "meet-1") == nullptr);
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-11-07");
    const v1::DueAction* review = Due(e, "meet-1");
    REQUIRE(review != nullptr);
    CHECK(review->action() == v1::REVIEW);
    CHECK(review->ladder_id() == "stages");
    CHECK(review->due_on() == "2025-11-07");
    CHECK(review->explanation().possible() == 36);
    CHECK(review->explanation().attended() == 35);
    CHECK(review->explanation().basis_points() == 9600);
    CHECK(review->explanation().sentence() ==
          "attendance 97.2% (35/36 sessions, 2025-10-08..2025-11-07) >= 96.0% target set at "
          "meeting meet-1 held 2025-10-07 -> target met; review due on 2025-11-07");
    CHECK(Due(e, "ewo_referral") == nullptr);  // the monitoring after the meeting improved
  }
  // An amendment that takes the pupil below the target: the meeting stays
  // held (facts stay facts), the review now says the target was not met.
  log.Amend("P1", D("2025-10-16"), v1::AM, "/", "O", D("2025-11-07"));
  log.Amend("P1", D("2025-10-16"), v1::PM, "\\", "O", D("2025-11-07"));
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-11-07");
    CHECK(LadderOf(e, "stages").stage() == "teacher_meeting");
    REQUIRE(Due(e, "meet-1") != nullptr);
    CHECK(Due(e, "meet-1")->explanation().sentence() ==
          "attendance 91.7% (33/36 sessions, 2025-10-08..2025-11-07) not >= 96.0% target set at "
          "meeting meet-1 held 2025-10-07 -> target not met; review due on 2025-11-07");
  }
  // The review meeting, recorded as reviewing meet-1, takes it off the list.
  log.Action("P1", "review-1", v1::MEETING_HELD, D("2025-11-10")).set_reviews_action_id("meet-1");
  CHECK(Due(Evaluate(log, "2025-11-09"), "meet-1") != nullptr);
  CHECK(Due(Evaluate(log, "2025-11-10"), "meet-1") == nullptr);
}

TEST_CASE(
    "seed 000: the home visit after 3 days unauthorised is no longer due once a visit answering "
    "it is recorded, and due again when a new run fires after the visit",
    "[escalation]") {
  const v1::EscalationPolicy policy = LoadPolicy(kSeed000);
  EventLog log = NewSchool(policy);
  Absences absent;
  for (const char* day : {"2025-09-08", "2025-09-09", "2025-09-10"}) {
    absent[{day, 0}] = "O";
    absent[{day, 1}] = "O";
  }
  Register(log, "P1", "2025-09-01", "2025-09-12", absent);
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-09-10");
    const v1::DueAction* visit = Due(e, "home_visit_3_days");
    REQUIRE(visit != nullptr);
    CHECK(visit->action() == v1::HOME_VISIT);
    CHECK(visit->due_on() == "2025-09-10");
  }
  // A visit answering another trigger, or before the trigger fired, does not count.
  log.Action("P1", "call-0", v1::CALL_MADE, D("2025-09-09")).set_trigger_id("home_visit_3_days");
  log.Action("P1", "visit-x", v1::HOME_VISIT_MADE, D("2025-09-11")).set_trigger_id("other");
  CHECK(Due(Evaluate(log, "2025-09-11"), "home_visit_3_days") != nullptr);
  log.Action("P1", "visit-1", v1::HOME_VISIT_MADE, D("2025-09-11"))
      .set_trigger_id("home_visit_3_days");
  CHECK(Due(Evaluate(log, "2025-09-10"), "home_visit_3_days") != nullptr);
  CHECK(Due(Evaluate(log, "2025-09-11"), "home_visit_3_days") == nullptr);
  CHECK(Due(Evaluate(log, "2025-09-12"), "home_visit_3_days") == nullptr);
  // A second run of three days after the visit fires the trigger again.
  Absences again;
  for (const char* day : {"2025-09-15", "2025-09-16", "2025-09-17"}) {
    again[{day, 0}] = "G";
    again[{day, 1}] = "G";
  }
  Register(log, "P1", "2025-09-15", "2025-09-19", again);
  CHECK(Due(Evaluate(log, "2025-09-16"), "home_visit_3_days") == nullptr);
  const v1::PupilEscalation e = Evaluate(log, "2025-09-17");
  const v1::DueAction* visit = Due(e, "home_visit_3_days");
  REQUIRE(visit != nullptr);
  CHECK(visit->due_on() == "2025-09-17");  // from the firing after the visit
}

TEST_CASE("thresholds at exactly their edges, inclusive and exclusive as the policy says",
          "[escalation]") {
  SECTION("seed 000 Letter 1: below 95% is exclusive; a near miss one session before") {
    EventLog log = NewSchool(LoadPolicy(kSeed000));
    // 20 school days, 2 sessions absent: 38/40 = 95.0% exactly.
    Register(log, "P1", "2025-09-01", "2025-09-26",
             {{{"2025-09-01", 0}, "I"}, {{"2025-09-01", 1}, "I"}});
    const v1::PupilEscalation e = Evaluate(log, "2025-09-26");
    CHECK(Due(e, "letter_1") == nullptr);
    const v1::NearMiss* near = Near(e, "letter_1");
    REQUIRE(near != nullptr);
    CHECK(near->remaining() == 1);
    CHECK(near->explanation().sentence() ==
          "attendance 95.0% (38/40 sessions, 2025-26 to date) on 2025-09-26 not < 95.0% -> 1 "
          "more absent session -> letter_1 due");
    CHECK(BandOf(e, "tiers") == "expect_monitor");  // [95, 100]
  }
  SECTION("seed 000 Letter 1: 37/40 = 92.5% is below") {
    EventLog log = NewSchool(LoadPolicy(kSeed000));
    Register(log, "P1", "2025-09-01", "2025-09-26",
             {{{"2025-09-01", 0}, "I"}, {{"2025-09-01", 1}, "I"}, {{"2025-09-02", 0}, "I"}});
    CHECK(Due(Evaluate(log, "2025-09-26"), "letter_1") != nullptr);
  }
  SECTION("seed 001: 'falls to 96' is inclusive, the concern letter's 'below 96' is not") {
    EventLog log = NewSchool(LoadPolicy(kSeed001));
    // 25 days, 2 sessions absent: 48/50 = 96.0%.
    Register(log, "P1", "2025-09-01", "2025-10-03",
             {{{"2025-09-01", 0}, "M"}, {{"2025-09-01", 1}, "M"}});
    const v1::PupilEscalation e = Evaluate(log, "2025-10-03");
    CHECK(BandOf(e, "ladder_bands") == "headteacher_talk");
    CHECK(Due(e, "concern_letter") == nullptr);
  }
  SECTION(
      "seed 004 waves: 95.0% is Wave 1, 90.0% Wave 2, 50.0% severely absent, 98.0% "
      "exceptional") {
    const v1::EscalationPolicy policy = LoadPolicy(kSeed004);
    auto band_with_absent = [&](int absent_sessions, const char* to) {
      EventLog log = NewSchool(policy);
      Absences absences;
      Day d = D("2025-09-01");
      for (int i = 0; i < absent_sessions; ++i) {
        while (ledger::Weekday(d) >= 5) ++d;
        absences[{ledger::FormatDate(d), i % 2}] = "I";
        if (i % 2 == 1) ++d;
      }
      Register(log, "P1", "2025-09-01", to, absences);
      return BandOf(Evaluate(log, to), "waves");
    };
    // 2025-09-26: 20 days = 40 sessions; 2025-10-03: 50 sessions.
    CHECK(band_with_absent(2, "2025-09-26") == "wave_1");            // 38/40 = 95.0%
    CHECK(band_with_absent(3, "2025-09-26") == "wave_2");            // 92.5%
    CHECK(band_with_absent(4, "2025-09-26") == "wave_2");            // 36/40 = 90.0%
    CHECK(band_with_absent(5, "2025-09-26") == "wave_3");            // 87.5%
    CHECK(band_with_absent(20, "2025-09-26") == "severely_absent");  // 20/40 = 50.0%
    CHECK(band_with_absent(19, "2025-09-26") == "wave_3");           // 52.5%
    CHECK(band_with_absent(1, "2025-10-03") == "exceptional");       // 49/50 = 98.0%
  }
}

TEST_CASE(
    "national: the penalty-notice trigger's 10 school weeks span the summer holiday into the "
    "next academic year (weeks with no school session are not school weeks)",
    "[escalation]") {
  EventLog log = NewTwoYearSchool(LoadPolicy(kNational), {"P1"});
  // 6 sessions of O in the last week of 2024-25, 4 in the first of 2025-26.
  Register(log, "P1", "2025-07-07", "2025-07-18", Days("2025-07-14", "2025-07-16", "O"));
  Register(log, "P1", "2025-09-01", "2025-09-03", Days("2025-09-02", "2025-09-03", "O"));
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-09-02");
    CHECK(Due(e, "penalty_notice_10_in_10") == nullptr);
    REQUIRE(Near(e, "penalty_notice_10_in_10") != nullptr);
    CHECK(Near(e, "penalty_notice_10_in_10")->remaining() == 2);
  }
  const v1::PupilEscalation e = Evaluate(log, "2025-09-03");
  const v1::DueAction* pn = Due(e, "penalty_notice_10_in_10");
  REQUIRE(pn != nullptr);
  CHECK(pn->due_on() == "2025-09-03");
  CHECK(pn->explanation().count() == 10);
  REQUIRE(pn->explanation().sessions_size() == 10);
  CHECK(pn->explanation().sessions(0).date() == "2025-07-14");
  CHECK(pn->explanation().sessions(9).date() == "2025-09-03");
  CHECK(pn->review_reasons().empty());
}

TEST_CASE(
    "national: the penalty-notice trigger counts 10 school weeks across the half-term "
    "break",
    "[escalation]") {
  EventLog log = NewSchool(LoadPolicy(kNational));
  Register(log, "P1", "2025-09-01", "2025-11-04",
           {{{"2025-10-20", 0}, "O"},
            {{"2025-10-20", 1}, "O"},
            {{"2025-10-21", 0}, "O"},
            {{"2025-10-21", 1}, "O"},
            {{"2025-10-22", 0}, "N"},
            {{"2025-10-22", 1}, "U"},
            {{"2025-11-03", 0}, "G"},
            {{"2025-11-03", 1}, "G"},
            {{"2025-11-04", 0}, "G"},
            {{"2025-11-04", 1}, "G"}});
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-11-03");
    CHECK(Due(e, "penalty_notice_10_in_10") == nullptr);
    const v1::NearMiss* near = Near(e, "penalty_notice_10_in_10");
    REQUIRE(near != nullptr);
    CHECK(near->remaining() == 2);
    CHECK(near->explanation().sentence() ==
          "8 sessions G/N/O/U (Last 10 school weeks, 2025-09-01..2025-11-03) on 2025-11-03 < 10 "
          "-> 2 sessions from penalty_notice_10_in_10");
    // The N of 2025-10-22 has 5 school days to be replaced; the half-term
    // does not count: 10-23, 10-24, 11-03, 11-04, 11-05.
    CHECK(Due(e, "n_code_deadline") == nullptr);
  }
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-11-04");
    const v1::DueAction* pn = Due(e, "penalty_notice_10_in_10");
    REQUIRE(pn != nullptr);
    CHECK(pn->action() == v1::PENALTY_NOTICE_CONSIDERATION);
    CHECK(pn->due_on() == "2025-11-04");
    CHECK(pn->explanation().count() == 10);
    CHECK(pn->explanation().threshold() == 10);
    REQUIRE(pn->explanation().sessions_size() == 10);
    CHECK(pn->explanation().sessions(0).date() == "2025-10-20");
    CHECK(pn->explanation().sessions(5).code() == "U");
    CHECK(pn->explanation().sessions(9).date() == "2025-11-04");
    // The N of 2025-10-22 is still unresolved: for review, not straight on.
    REQUIRE(pn->review_reasons_size() == 1);
    CHECK(absl::StartsWith(pn->review_reasons(0),
                           "1 unresolved N code in the window (2025-10-22 AM, "));
    CHECK(Due(e, "n_code_deadline") == nullptr);
    // On 2025-11-05, highest priority first: the N deadline (90) before the
    // penalty notice (80).
    v1::ListDueActionsRequest list;
    list.set_school_id("school-1");
    list.set_as_of("2025-11-05");
    // At 08:00 the registers of 2025-11-05 (no close time set: open all day)
    // are not yet "not taken".
    list.set_as_of_time("08:00");
    absl::StatusOr<v1::ListDueActionsResponse> due = QueryDueActions(Fold(log), list, 0);
    REQUIRE(due.ok());
    REQUIRE(due->actions_size() == 2);
    CHECK(due->actions(0).rule_id() == "n_code_deadline");
    CHECK(due->actions(0).due_on() == "2025-11-05");
    CHECK(due->actions(1).rule_id() == "penalty_notice_10_in_10");
    list.set_action(v1::PENALTY_NOTICE_CONSIDERATION);
    list.set_page_size(1);
    due = QueryDueActions(Fold(log), list, 0);
    REQUIRE(due.ok());
    CHECK(due->total() == 1);
    CHECK(due->next_page_token().empty());
  }
  // Spring term: the 10 school weeks still reach back to the week of 20
  // October (the half-term and Christmas weeks are not school weeks) on
  // 2026-01-16, and no longer on 2026-01-23.
  CHECK(Due(Evaluate(log, "2026-01-16"), "penalty_notice_10_in_10") != nullptr);
  CHECK(Due(Evaluate(log, "2026-01-23"), "penalty_notice_10_in_10") == nullptr);
}

TEST_CASE(
    "national: 10 continuous school days of G/N/O/U for the LA's return, 20 of G/N/O for "
    "the CME checks",
    "[escalation]") {
  EventLog log = NewSchool(LoadPolicy(kNational));
  Absences absences;
  ledger::SchoolCalendar calendar;
  calendar.Set(testing::StandardCalendar(2025));
  // From Monday 2025-09-15: 20 school days absent, O then G, with one U
  // morning on the 8th day (U counts for the LA return, not for CME).
  int n = 0;
  for (Day d = D("2025-09-15"); n < 20; ++d) {
    if (!calendar.IsSchoolDay(d)) continue;
    ++n;
    for (int s = 0; s < 2; ++s) {
      absences[{ledger::FormatDate(d), s}] = n == 8 && s == 0 ? "U" : n < 10 ? "O" : "G";
    }
  }
  Register(log, "P1", "2025-09-01", "2025-10-14", absences);
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-09-25");  // 9 days
    CHECK(Due(e, "la_return_10_continuous") == nullptr);
    REQUIRE(Near(e, "la_return_10_continuous") != nullptr);
    CHECK(Near(e, "la_return_10_continuous")->remaining() == 1);
  }
  {
    const v1::PupilEscalation e = Evaluate(log, "2025-09-26");  // 10 days
    const v1::DueAction* la = Due(e, "la_return_10_continuous");
    REQUIRE(la != nullptr);
    CHECK(la->action() == v1::LA_RETURN);
    CHECK(la->due_on() == "2025-09-26");
    CHECK(la->explanation().count() == 10);
    CHECK(la->explanation().sessions_size() == 20);  // both sessions of each day
    CHECK(la->explanation().sentence() ==
          "10 days in a row G/N/O/U (2025-26 to date, 2025-08-01..2025-09-26) on 2025-09-26 >= "
          "10 -> local authority return due");
  }
  {
    // The U morning breaks the G/N/O run: 12 days from the 9th on 2025-10-10.
    const v1::PupilEscalation e = Evaluate(log, "2025-10-10");
    CHECK(Due(e, "cme_20_consecutive") == nullptr);
    CHECK(Due(e, "penalty_notice_10_in_10") != nullptr);
  }
  {
    // Without the U: 20 whole days of G/N/O in a row by 2025-10-10.
    log.Amend("P1", D("2025-09-24"), v1::AM, "U", "O", D("2025-10-13"));
    const v1::PupilEscalation e = Evaluate(log, "2025-10-13");
    const v1::DueAction* cme = Due(e, "cme_20_consecutive");
    REQUIRE(cme != nullptr);
    CHECK(cme->due_on() == "2025-10-10");
    CHECK(cme->priority() == 100);
    CHECK(cme->explanation().count() == 20);
  }
}

TEST_CASE("queries refuse what they cannot answer", "[escalation]") {
  EventLog log = NewSchool(LoadPolicy(kNational));
  const EscalationState state = Fold(log);
  v1::ListDueActionsRequest list;
  list.set_school_id("school-1");
  list.set_page_size(1001);
  CHECK(QueryDueActions(state, list, D("2025-09-01")).status().message() ==
        "page_size: 1001 is more than the limit of 1000");
  list.set_page_size(0);
  list.set_school_id("nope");
  CHECK(QueryDueActions(state, list, D("2025-09-01")).status().code() ==
        absl::StatusCode::kNotFound);
  v1::GetEscalationPolicyRequest get;
  get.set_school_id("school-1");
  get.set_as_of("2025-07-31");  // before the policy was set
  CHECK(QueryEscalationPolicy(state, get, 0).status().code() == absl::StatusCode::kNotFound);
  get.set_as_of("2025-08-01");
  absl::StatusOr<v1::GetEscalationPolicyResponse> policy = QueryEscalationPolicy(state, get, 0);
  REQUIRE(policy.ok());
  CHECK(policy->policy().policy_id() == "national-base-england-2024");
  CHECK(policy->history_size() == 1);
  // A second version from 2025-10-01: each date answers the one in force.
  log.Policy(LoadPolicy(kSeed000), D("2025-10-01"));
  const EscalationState later = Fold(log);
  get.set_as_of("2025-09-30");
  policy = QueryEscalationPolicy(later, get, 0);
  REQUIRE(policy.ok());
  CHECK(policy->policy().policy_id() == "national-base-england-2024");
  CHECK(policy->history_size() == 1);
  get.set_as_of("2025-10-01");
  policy = QueryEscalationPolicy(later, get, 0);
  REQUIRE(policy.ok());
  CHECK(policy->policy().policy_id() == "all-saints-000-strategy-2024-25");
  CHECK(policy->history_size() == 2);
}

// Brute force: the code of each session as of a date, straight from the
// events, then the counts the explanations give.
TEST_CASE(
    "property: counts in explanations equal a brute-force count; a decoded checkpoint "
    "evaluates the same as the fold",
    "[escalation][property]") {
  const v1::EscalationPolicy policy = LoadPolicy(kSeed000);
  const std::vector<std::string> codes = {"/", "/", "/", "/", "I", "M", "O", "N", "G", "U", "#"};
  ledger::SchoolCalendar calendar;
  calendar.Set(testing::StandardCalendar(2025));
  for (unsigned seed = 1; seed <= 30; ++seed) {
    std::mt19937 rng(seed);
    EventLog log = NewSchool(policy);
    std::map<std::pair<Day, int>, std::vector<std::pair<Day, std::string>>> truth;
    // A truant week, so that runs of whole days unauthorised (the home
    // visit's trigger) come up often.
    const Day truant = D("2025-09-01") + static_cast<Day>(rng() % 100);
    for (Day d = D("2025-09-01"); d <= D("2025-12-19"); ++d) {
      if (!calendar.IsSchoolDay(d)) continue;
      for (int s = 0; s < 2; ++s) {
        if (rng() % 20 == 0) continue;  // unmarked
        std::string code = codes[rng() % codes.size()];
        if (d >= truant && d < truant + 7 && rng() % 6 != 0) code = "O";
        const Day recorded = d + static_cast<Day>(rng() % 3);
        log.Mark("P1", d, s == 0 ? v1::AM : v1::PM, code, recorded);
        truth[{d, s}].push_back({recorded, code});
        if (rng() % 8 == 0) {
          const std::string to = codes[rng() % codes.size()];
          if (to != code) {
            const Day at = recorded + static_cast<Day>(rng() % 20);
            log.Amend("P1", d, s == 0 ? v1::AM : v1::PM, code, to, at);
            truth[{d, s}].push_back({at, to});
          }
        }
      }
    }
    if (rng() % 2 == 0) log.Letter("P1", "letter_1", D("2025-10-01"));
    // Home visits answering the trigger, and a meeting with a target and a
    // review date, on random days.
    std::vector<Day> visits;
    for (int v = 0; v < 2; ++v) {
      if (rng() % 2 != 0) continue;
      visits.push_back(D("2025-09-01") + static_cast<Day>(rng() % 110));
      log.Action("P1", absl::StrCat("visit-", v), v1::HOME_VISIT_MADE, visits.back())
          .set_trigger_id("home_visit_3_days");
    }
    const Day meeting_on = D("2025-09-01") + static_cast<Day>(rng() % 80);
    const Day review_on = meeting_on + 1 + static_cast<Day>(rng() % 40);
    const std::uint32_t target = 8000 + static_cast<std::uint32_t>(rng() % 2000);
    {
      v1::ActionRecorded& meeting = log.Action("P1", "meet-1", v1::MEETING_HELD, meeting_on);
      meeting.set_step_id("letter_2");
      meeting.set_target_basis_points(target);
      meeting.set_review_on(ledger::FormatDate(review_on));
    }
    const EscalationState folded = Fold(log);
    absl::StatusOr<EscalationState> decoded = EscalationState::Decode(folded.Encode());
    REQUIRE(decoded.ok());
    CHECK(decoded->Encode() == folded.Encode());
    // Incremental from a checkpoint at a random position equals the rebuild.
    const std::size_t cut = rng() % log.events().size();
    EscalationState head;
    for (std::size_t i = 0; i < cut; ++i) head.Apply(log.events()[i]);
    absl::StatusOr<EscalationState> resumed = EscalationState::Decode(head.Encode());
    REQUIRE(resumed.ok());
    for (std::size_t i = cut; i < log.events().size(); ++i) resumed->Apply(log.events()[i]);
    CHECK(resumed->Encode() == folded.Encode());
    for (const char* as_of : {"2025-09-30", "2025-10-24", "2025-11-20", "2025-12-19"}) {
      INFO("seed " << seed << " as of " << as_of);
      const Day on = D(as_of);
      auto code_then = [&](Day d, int s) -> std::string {
        auto it = truth.find({d, s});
        if (it == truth.end()) return "";
        std::string code;
        for (const auto& [at, c] : it->second) {
          if (at <= on) code = c;
        }
        return code;
      };
      std::uint32_t possible = 0, attended = 0, unauthorised_10_weeks = 0;
      for (Day d = D("2025-09-01"); d <= on; ++d) {
        for (int s = 0; s < 2; ++s) {
          const std::string c = code_then(d, s);
          if (c.empty() || c == "#") continue;
          ++possible;
          if (c == "/") ++attended;
        }
      }
      // 12 school weeks back from `on` (for the Fast Track trigger).
      int weeks = 0;
      Day first = on;
      for (Day monday = on - ledger::Weekday(on); weeks < 12 && monday >= D("2025-09-01");
           monday -= 7) {
        bool school_week = false;
        for (Day d = monday; d <= std::min<Day>(monday + 6, on); ++d) {
          if (calendar.IsSchoolDay(d)) {
            school_week = true;
            first = std::min(first, d);
          }
        }
        if (school_week) ++weeks;
      }
      for (Day d = first; d <= on; ++d) {
        for (int s = 0; s < 2; ++s) {
          const std::string c = code_then(d, s);
          if (c == "O" || c == "N" || c == "G" || c == "U") ++unauthorised_10_weeks;
        }
      }
      ledger::SchoolCalendar scratch;
      const v1::PupilEscalation a =
          EvaluatePupil(folded.InputsFor("school-1", "P1", on, &scratch), on);
      const v1::PupilEscalation b =
          EvaluatePupil(decoded->InputsFor("school-1", "P1", on, &scratch), on);
      CHECK(google::protobuf::util::MessageDifferencer::Equals(a, b));
      // The band explanation carries the year-to-date counts.
      REQUIRE(a.bands_size() == 1);
      CHECK(a.bands(0).explanation().possible() == possible);
      CHECK(a.bands(0).explanation().attended() == attended);
      // Fast Track: due, near, or neither, as the brute-force count says.
      const bool fast_track_due = Due(a, "fast_track_1") != nullptr;
      CHECK(fast_track_due == (unauthorised_10_weeks >= 10));
      if (!fast_track_due && unauthorised_10_weeks >= 8) {
        REQUIRE(Near(a, "fast_track_10_in_12") != nullptr);
        CHECK(Near(a, "fast_track_10_in_12")->remaining() == 10 - unauthorised_10_weeks);
      }
      // The home visit: due exactly when a run of 3 whole school days of
      // G/N/O/U reached 3 after the last visit made by `on`.
      {
        auto unauthorised = [](const std::string& c) {
          return c == "G" || c == "N" || c == "O" || c == "U";
        };
        std::optional<Day> last_visit;
        for (Day v : visits) {
          if (v <= on) last_visit = std::max(last_visit.value_or(v), v);
        }
        int run = 0;
        bool due = false;
        for (Day d = D("2025-09-01"); d <= on; ++d) {
          if (!calendar.IsSchoolDay(d)) continue;
          const std::string am = code_then(d, 0), pm = code_then(d, 1);
          if (am == "#" && pm == "#") continue;
          run = unauthorised(am) && unauthorised(pm) ? run + 1 : 0;
          if (run == 3 && (!last_visit || d > *last_visit)) due = true;
        }
        CHECK((Due(a, "home_visit_3_days") != nullptr) == due);
      }
      // The meeting's review: due from its date, with the target compared
      // over the days after the meeting.
      {
        const v1::DueAction* review = Due(a, "meet-1");
        CHECK((review != nullptr) == (review_on <= on && meeting_on <= on));
        if (review != nullptr) {
          std::uint32_t p = 0, att = 0;
          for (Day d = meeting_on + 1; d <= review_on; ++d) {
            for (int s = 0; s < 2; ++s) {
              const std::string c = code_then(d, s);
              if (c.empty() || c == "#") continue;
              ++p;
              if (c == "/") ++att;
            }
          }
          CHECK(review->explanation().possible() == p);
          CHECK(review->explanation().attended() == att);
          const bool met = p > 0 && 10000ull * att >= std::uint64_t{target} * p;
          CHECK(absl::StrContains(review->explanation().sentence(),
                                  met ? "-> target met" : "-> target not met"));
        }
        // An action does its step as a letter does: the stage is the
        // furthest step done, whatever was done before it.
        if (meeting_on <= on) {
          CHECK(LadderOf(a, "attendance_letters").stage() == "letter_2");
        }
      }
      // Letter 1 is due exactly when 10000 * attended < 9500 * possible and
      // it has not been sent.
      const std::string stage = LadderOf(a, "attendance_letters").stage();
      const bool sent = stage == "letter_1" || stage == "letter_2";
      CHECK((Due(a, "letter_1") != nullptr) ==
            (!sent && possible > 0 && 10000ull * attended < 9500ull * possible));
    }
  }
}

}  // namespace
}  // namespace attendance::projections

namespace attendance::projections {
namespace {

// Hidden (run by hand: escalation_tests "[.bench]"): the worklist of a
// 2,000-pupil school with seed 000's policy over the autumn term, and one
// pupil's escalation with explanations. Prints the times; asserts nothing
// about them.
TEST_CASE("bench: worklist and one pupil's escalation on 2,000 pupils", "[.bench]") {
  const v1::EscalationPolicy policy = LoadPolicy(kSeed000);
  EventLog log = NewSchool(policy);
  ledger::SchoolCalendar calendar;
  calendar.Set(testing::StandardCalendar(2025));
  std::mt19937 rng(7);
  const std::vector<std::string> codes = {"/", "/", "/", "/", "/", "/", "/", "/", "/", "/",
                                          "/", "/", "/", "/", "/", "/", "/", "I", "O", "N"};
  for (int p = 0; p < 2000; ++p) {
    const std::string id = "P" + std::to_string(p);
    if (p > 0) log.Enrol(testing::MakePupil(id, 4), D("2025-09-01"), D("2025-08-01"));
    for (Day d = D("2025-09-01"); d <= D("2025-12-19"); ++d) {
      if (!calendar.IsSchoolDay(d)) continue;
      log.Mark(id, d, v1::AM, codes[rng() % codes.size()]);
      log.Mark(id, d, v1::PM, codes[rng() % codes.size()]);
    }
    if (p % 3 == 0) log.Letter(id, "letter_1", D("2025-10-01"));
  }
  const EscalationState state = Fold(log);
  v1::ListDueActionsRequest list;
  list.set_school_id("school-1");
  list.set_as_of("2025-12-19");
  std::vector<double> worklist_ms;
  std::uint32_t total = 0;
  for (int i = 0; i < 20; ++i) {
    const auto start = std::chrono::steady_clock::now();
    auto due = QueryDueActions(state, list, 0);
    worklist_ms.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
    REQUIRE(due.ok());
    total = due->total();
  }
  std::vector<double> pupil_us;
  v1::GetPupilEscalationRequest one;
  one.set_school_id("school-1");
  one.set_as_of("2025-12-19");
  for (int i = 0; i < 2000; ++i) {
    one.set_pupil_id("P" + std::to_string(i));
    const auto start = std::chrono::steady_clock::now();
    auto result = QueryPupilEscalation(state, one, 0);
    pupil_us.push_back(
        std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start)
            .count());
    REQUIRE(result.ok());
  }
  std::sort(worklist_ms.begin(), worklist_ms.end());
  std::sort(pupil_us.begin(), pupil_us.end());
  std::cout << "worklist: " << total << " actions for 2000 pupils, median "
            << worklist_ms[worklist_ms.size() / 2] << " ms, max " << worklist_ms.back()
            << " ms\none pupil: median " << pupil_us[pupil_us.size() / 2] << " us, p99 "
            << pupil_us[pupil_us.size() * 99 / 100] << " us\n";
}

TEST_CASE(
    "the outlook of a running monitoring period: how many more absences by its end bring the "
    "next step, exactly at that number and not one fewer",
    "[escalation]") {
  // Seed 000: Letter 1 on 2025-09-15 after 4 sessions of I (18/22 year to
  // date that day); its 10 school days of monitoring run to 2025-09-29;
  // Letter 2 if the year to date has not risen by then.
  auto school = [] {
    EventLog log = NewSchool(LoadPolicy(kSeed000));
    Register(log, "P1", "2025-09-01", "2025-09-12", Days("2025-09-04", "2025-09-05", "I"));
    log.Letter("P1", "letter_1", D("2025-09-15"));
    Register(log, "P1", "2025-09-15", "2025-09-19");
    return log;
  };
  {
    const v1::PupilEscalation e = Evaluate(school(), "2025-09-19");
    CHECK(LadderOf(e, "attendance_letters").monitoring().running());
    const v1::NearMiss* outlook = Near(e, "letter_2");
    REQUIRE(outlook != nullptr);
    // (26 + 12 - k) / 42 > 18 / 22 holds for k <= 3.
    CHECK(outlook->remaining() == 4);
    CHECK(outlook->ladder_id() == "attendance_letters");
    CHECK(outlook->explanation().attended() == 26);
    CHECK(outlook->explanation().possible() == 30);
    CHECK(outlook->explanation().sentence() ==
          "monitoring after letter_1 runs to 2025-09-29: 86.7% (26/30 sessions) so far, 12 "
          "sessions to go, year to date > 81.8% on 2025-09-15 -> 4 more absent sessions by "
          "2025-09-29 -> letter_2 due");
  }
  for (const int absent : {3, 4}) {
    EventLog log = school();
    Absences rest;
    for (int i = 0; i < absent; ++i) rest[{i < 2 ? "2025-09-22" : "2025-09-23", i % 2}] = "I";
    Register(log, "P1", "2025-09-22", "2025-09-29", rest);
    const v1::PupilEscalation e = Evaluate(log, "2025-09-29");
    INFO(absent << " sessions absent after 2025-09-19");
    CHECK((Due(e, "letter_2") != nullptr) == (absent == 4));
    CHECK(Near(e, "letter_2") == nullptr);  // the period has ended
  }
  // Seed 001's monitoring letter (>= 96% over its 10 school days, else the
  // teacher meeting): with 8/8 so far and 12 to go, one absence is enough.
  EventLog log = NewSchool(LoadPolicy(kSeed001));
  Register(log, "P1", "2025-09-01", "2025-09-12", Days("2025-09-01", "2025-09-03", "I"));
  log.Letter("P1", "concern_letter", D("2025-09-08"));
  log.Letter("P1", "monitoring_letter", D("2025-09-15"));
  Register(log, "P1", "2025-09-15", "2025-09-19");
  const v1::PupilEscalation e = Evaluate(log, "2025-09-19");
  const v1::NearMiss* outlook = Near(e, "teacher_meeting");
  REQUIRE(outlook != nullptr);
  CHECK(outlook->remaining() == 1);
  CHECK(outlook->explanation().sentence() ==
        "monitoring after monitoring_letter runs to 2025-09-29: 100.0% (8/8 sessions) so far, 12 "
        "sessions to go, >= 96.0% over the period -> 1 more absent session by 2025-09-29 -> "
        "teacher_meeting due");
}

TEST_CASE(
    "counted triggers at their edges: seed 001's signed letter after more than 10 school days "
    "in a term and its health return at 15; seed 000's home visit after 5 days' absence without "
    "medical proof, across a weekend, broken by an M",
    "[escalation]") {
  {
    // Ill every Monday and Wednesday: the 11th day on 2025-10-06, the 15th
    // on 2025-10-20 (whole days, not in a row).
    EventLog log = NewSchool(LoadPolicy(kSeed001));
    Absences ill;
    for (const char* d : {"2025-09-01", "2025-09-03", "2025-09-08", "2025-09-10", "2025-09-15",
                          "2025-09-17", "2025-09-22", "2025-09-24", "2025-09-29", "2025-10-01",
                          "2025-10-06", "2025-10-08", "2025-10-13", "2025-10-15", "2025-10-20"}) {
      for (const auto& [k, v] : Days(d, d, "I")) ill[k] = v;
    }
    Register(log, "P1", "2025-09-01", "2025-10-20", ill);
    const v1::PupilEscalation ten = Evaluate(log, "2025-10-03");
    CHECK(Due(ten, "signed_letter_10_in_term") == nullptr);
    REQUIRE(Near(ten, "signed_letter_10_in_term") != nullptr);
    CHECK(Near(ten, "signed_letter_10_in_term")->remaining() == 1);
    const v1::PupilEscalation eleven = Evaluate(log, "2025-10-06");
    const v1::DueAction* signed_letter = Due(eleven, "signed_letter_10_in_term");
    REQUIRE(signed_letter != nullptr);
    CHECK(signed_letter->action() == v1::CALL);
    CHECK(signed_letter->explanation().count() == 11);
    CHECK(signed_letter->due_on() == "2025-10-06");
    CHECK(Due(Evaluate(log, "2025-10-06"), "signed_letter_3_days") == nullptr);  // never 4 in a row
    CHECK(Due(Evaluate(log, "2025-10-15"), "health_15_days") == nullptr);
    const v1::PupilEscalation fifteen = Evaluate(log, "2025-10-20");
    const v1::DueAction* health = Due(fifteen, "health_15_days");
    REQUIRE(health != nullptr);
    CHECK(health->action() == v1::LA_RETURN);
    CHECK(health->explanation().count() == 15);
  }
  EventLog log = NewSchool(LoadPolicy(kSeed000));
  log.Enrol(testing::MakePupil("P2", 4), D("2025-09-01"), D("2025-08-01"));
  log.Enrol(testing::MakePupil("P3", 4), D("2025-09-01"), D("2025-08-01"));
  // P1 ill Monday to Friday; P2 the same but a medical appointment on the
  // Friday; P3 ill Wednesday to Tuesday, across the weekend.
  Register(log, "P1", "2025-09-01", "2025-09-16", Days("2025-09-08", "2025-09-12", "I"));
  Absences p2 = Days("2025-09-08", "2025-09-11", "I");
  for (const auto& [k, v] : Days("2025-09-12", "2025-09-12", "M")) p2[k] = v;
  for (const auto& [k, v] : Days("2025-09-15", "2025-09-15", "I")) p2[k] = v;
  Register(log, "P2", "2025-09-01", "2025-09-16", p2);
  Register(log, "P3", "2025-09-01", "2025-09-16", Days("2025-09-10", "2025-09-16", "I"));
  CHECK(Due(Evaluate(log, "2025-09-11"), "home_visit_5_days_no_medical") == nullptr);
  const v1::PupilEscalation friday = Evaluate(log, "2025-09-12");
  const v1::DueAction* visit = Due(friday, "home_visit_5_days_no_medical");
  REQUIRE(visit != nullptr);
  CHECK(visit->action() == v1::HOME_VISIT);
  CHECK(visit->due_on() == "2025-09-12");
  CHECK(Due(Evaluate(log, "2025-09-16", "P2"), "home_visit_5_days_no_medical") == nullptr);
  CHECK(Due(Evaluate(log, "2025-09-15", "P3"), "home_visit_5_days_no_medical") == nullptr);
  REQUIRE(Due(Evaluate(log, "2025-09-16", "P3"), "home_visit_5_days_no_medical") != nullptr);
  CHECK(Due(Evaluate(log, "2025-09-16", "P3"), "home_visit_5_days_no_medical")->due_on() ==
        "2025-09-16");
  // Illness is authorised: the 3-day unauthorised visit does not fire.
  CHECK(Due(Evaluate(log, "2025-09-16", "P3"), "home_visit_3_days") == nullptr);
}

}  // namespace
}  // namespace attendance::projections
