// GetPupilTimeline's escalation stage changes, checked against the
// escalation read model on the same real server (Escalation.
// GetPupilEscalation as of each change's day and the day before).
#include <google/protobuf/text_format.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include "audit_fixture.h"

namespace attendance::testing {
namespace {

v1::EscalationPolicy Seed001() {
  std::ifstream in(std::filesystem::path(ATTENDANCE_POLICIES_DIR) /
                   "001_all_saints_ce_primary_attendance_and_absence_policy_2024_27.textproto");
  std::stringstream text;
  text << in.rdbuf();
  v1::EscalationPolicy policy;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text.str(), &policy));
  return policy;
}

std::string DayBefore(const std::string& date) {
  return ledger::FormatDate(*ledger::ParseDate(date) - 1);
}

// The escalation model reads marks, enrolments and letters as known at the
// end of a day, so the school's history is recorded as it happened: p9
// enrolled on 2 September, each day's marks at 16:00 that day.
struct StagesFixture : AuditFixture {
  StagesFixture() {
    At("2025-09-02", 12);
    REQUIRE(ledger->EnrolPupil(kOfficer, Enrol("s1", "p9", "2025-09-01")).ok());
    v1::SetEscalationPolicyRequest policy;
    policy.set_school_id("s1");
    *policy.mutable_policy() = Seed001();
    REQUIRE(ledger->SetEscalationPolicy(kOfficer, policy).ok());
    calendar.Set(Calendar2025("s1").calendar());
  }

  void At(const std::string& date, int hour_utc) {
    now_us = (static_cast<std::int64_t>(*ledger::ParseDate(date)) * 24 + hour_utc) * kHour;
  }

  // p9 absent all of 8 and 9 September, present otherwise.
  void MarksThrough(const std::string& date) {
    for (; marked <= *ledger::ParseDate(date); ++marked) {
      if (!calendar.IsSchoolDay(marked)) continue;
      const std::string day = ledger::FormatDate(marked);
      const bool absent = day == "2025-09-08" || day == "2025-09-09";
      At(day, 16);
      v1::RecordMarksRequest marks;
      marks.set_school_id("s1");
      for (v1::Session session : {v1::AM, v1::PM}) {
        if (day == "2025-10-01" && session == v1::AM) continue;  // year 7 closed
        *marks.add_marks() = MakeMark("p9", day, session, absent ? "N" : "/");
      }
      auto recorded = ledger->RecordMarks(kTeacher, marks);
      INFO(recorded.status().ToString());
      REQUIRE(recorded.ok());
    }
  }

  // The step's due explanation as the escalation service gives it on `date`
  // (before the letter or action is recorded), then records it.
  void Do(const std::string& step, const std::string& date, const std::string& action_id = "") {
    if (*ledger::ParseDate(date) >= marked) {
      MarksThrough(date);
      At(date, 17);
    }
    v1::GetPupilEscalationRequest ask;
    ask.set_school_id("s1");
    ask.set_pupil_id("p9");
    ask.set_as_of(date);
    ask.set_min_position(ledger->LastPosition());
    v1::PupilEscalation before;
    const grpc::Status asked = escalation_stub->GetPupilEscalation(As("admin").get(), ask, &before);
    INFO(asked.error_message());
    REQUIRE(asked.ok());
    for (const v1::DueAction& due : before.due()) {
      if (due.rule_id() == step) due_sentences[{step, date}] = due.explanation().sentence();
    }
    if (action_id.empty()) {
      v1::RecordLetterRequest letter;
      letter.set_school_id("s1");
      letter.set_pupil_id("p9");
      letter.set_letter_id(step);
      letter.set_channel(v1::POST);
      letter.set_sent_on(date);
      auto done = ledger->RecordLetter(kOfficer, letter);
      INFO(done.status().ToString());
      REQUIRE(done.ok());
    } else {
      v1::RecordActionRequest action;
      action.set_school_id("s1");
      action.set_pupil_id("p9");
      action.set_action_id(action_id);
      action.set_kind(v1::MEETING_HELD);
      action.set_step_id(step);
      action.set_happened_on(date);
      auto done = ledger->RecordAction(kOfficer, action);
      INFO(done.status().ToString());
      REQUIRE(done.ok());
    }
  }

  std::vector<v1::TimelineEntry> Timeline(const std::string& from = "", const std::string& to = "",
                                          std::uint32_t max_results = 0,
                                          const std::string& resume_after = "",
                                          v1::TimelineEnd* end = nullptr) {
    v1::GetPupilTimelineRequest request;
    request.set_school_id("s1");
    request.set_pupil_id("p9");
    request.set_from_date(from);
    request.set_to_date(to);
    request.set_max_results(max_results);
    request.set_resume_after(resume_after);
    request.set_min_position(ledger->LastPosition());
    auto context = As("auditor");
    auto reader = stub->GetPupilTimeline(context.get(), request);
    std::vector<v1::TimelineEntry> out;
    v1::PupilTimelinePage page;
    while (reader->Read(&page)) {
      out.insert(out.end(), page.entries().begin(), page.entries().end());
      if (end != nullptr && page.has_end()) *end = page.end();
    }
    grpc::Status status = reader->Finish();
    INFO(status.error_message());
    REQUIRE(status.ok());
    return out;
  }

  // The ladder's stage on `date` as the escalation service answers it.
  std::string StageOn(const std::string& ladder, const std::string& date,
                      std::string* since = nullptr) {
    v1::GetPupilEscalationRequest ask;
    ask.set_school_id("s1");
    ask.set_pupil_id("p9");
    ask.set_as_of(date);
    v1::PupilEscalation out;
    const grpc::Status asked = escalation_stub->GetPupilEscalation(As("admin").get(), ask, &out);
    INFO(asked.error_message());
    REQUIRE(asked.ok());
    for (const v1::LadderState& state : out.ladders()) {
      if (state.ladder_id() != ladder) continue;
      if (since != nullptr) *since = state.since();
      return state.stage();
    }
    FAIL("no ladder " << ladder);
    return "";
  }

  ledger::SchoolCalendar calendar;
  ledger::Day marked = *ledger::ParseDate("2025-09-03");  // the next day to mark
  std::map<std::pair<std::string, std::string>, std::string> due_sentences;
};

TEST_CASE("GetPupilTimeline interleaves escalation stage changes from the escalation read model",
          "[audit][escalation]") {
  StagesFixture f;
  f.Do("concern_letter", "2025-09-10");
  f.Do("headteacher_meeting", "2025-09-11", "head-1");
  f.Do("monitoring_letter", "2025-09-12");
  f.Do("concern_letter", "2025-09-15");                // again: no change
  f.Do("teacher_meeting", "2025-09-16", "meeting-1");  // monitoring runs: not due
  // Recorded last, for a day before: the headteacher ladder's stage is
  // already at its only step, so nothing changes.
  f.Do("headteacher_meeting", "2025-09-10", "head-0");
  f.MarksThrough("2025-10-08");
  f.At("2025-10-09", 9);

  const std::vector<v1::TimelineEntry> all = f.Timeline();
  std::vector<v1::TimelineEntry> changes;
  for (std::size_t i = 0; i < all.size(); ++i) {
    if (i > 0) {
      CHECK(std::make_pair(all[i - 1].date(), all[i - 1].position()) <=
            std::make_pair(all[i].date(), all[i].position()));
    }
    if (!all[i].has_stage_change()) continue;
    CHECK_FALSE(all[i].has_event());
    // Right after the letter or action that did it.
    REQUIRE(i > 0);
    CHECK(all[i - 1].position() == all[i].position());
    CHECK((all[i - 1].event().has_letter_sent() || all[i - 1].event().has_action_recorded()));
    changes.push_back(all[i]);
  }
  using Change = std::tuple<std::string, std::string, std::string, std::string, std::string>;
  std::vector<Change> got;
  for (const v1::TimelineEntry& e : changes) {
    const v1::StageChange& c = e.stage_change();
    got.emplace_back(e.date(), c.ladder_id(), c.from_stage(), c.to_stage(), c.action_id());
  }
  // headteacher_meeting on the 10th (recorded last) moved the ladder then,
  // not on the 11th.
  CHECK(got == std::vector<Change>{
                   {"2025-09-10", "stages", "", "concern_letter", ""},
                   {"2025-09-10", "headteacher", "", "headteacher_meeting", "head-0"},
                   {"2025-09-12", "stages", "concern_letter", "monitoring_letter", ""},
                   {"2025-09-16", "stages", "monitoring_letter", "teacher_meeting", "meeting-1"},
               });
  for (const v1::TimelineEntry& e : changes) {
    const v1::StageChange& c = e.stage_change();
    INFO(e.date() << " " << c.ladder_id() << " " << c.to_stage() << ": " << c.sentence());
    // The escalation read model agrees: the stage on the day, and the day
    // before.
    std::string since;
    CHECK(f.StageOn(c.ladder_id(), e.date(), &since) == c.to_stage());
    CHECK(since == e.date());
    CHECK(f.StageOn(c.ladder_id(), DayBefore(e.date())) == c.from_stage());
    CHECK(c.policy_id() == Seed001().policy_id());
    CHECK(c.policy_version() == Seed001().version());
    CHECK(c.rule_id() == c.to_stage());
    auto due = f.due_sentences.find({c.to_stage(), e.date()});
    if (c.to_stage() == "teacher_meeting") {
      CHECK(due == f.due_sentences.end());
      CHECK(c.sentence() == "action meeting-1 on 2025-09-16: teacher_meeting was not due under " +
                                Seed001().policy_id() + " " + Seed001().version() + " on that day");
    } else {
      // The same sentence the Escalation service gave on that day.
      REQUIRE(due != f.due_sentences.end());
      CHECK(c.sentence() == due->second);
      CHECK(c.sentence().find("-> " + c.to_stage() + " due") != std::string::npos);
    }
  }
  // The stage the last change reaches is the one the model gives today.
  CHECK(f.StageOn("stages", "2025-10-09") == "teacher_meeting");

  // Date ranges: only the changes dated inside, with the stage before them.
  std::vector<v1::TimelineEntry> late = f.Timeline("2025-09-12");
  std::vector<std::string> late_changes;
  for (const auto& e : late) {
    if (e.has_stage_change()) late_changes.push_back(e.stage_change().from_stage());
  }
  CHECK(late_changes == std::vector<std::string>{"concern_letter", "monitoring_letter"});
  std::size_t early = 0;
  for (const auto& e : f.Timeline("", "2025-09-11")) early += e.has_stage_change();
  CHECK(early == 2);

  // One entry a call, each resumed after the last (a letter, then its stage
  // change, at one date and position): the whole timeline.
  std::vector<v1::TimelineEntry> paged;
  v1::TimelineEnd end;
  std::string resume;
  do {
    const std::vector<v1::TimelineEntry> one = f.Timeline("", "", 1, resume, &end);
    paged.insert(paged.end(), one.begin(), one.end());
    resume = end.resume_after();
    REQUIRE(paged.size() <= all.size());
  } while (end.truncated());
  REQUIRE(paged.size() == all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    CHECK(paged[i].SerializeAsString() == all[i].SerializeAsString());
  }
}

TEST_CASE("GetPupilTimeline has no stage changes for a school without a policy", "[audit]") {
  AuditFixture f;
  v1::RecordLetterRequest letter;
  letter.set_school_id("s1");
  letter.set_pupil_id("p1");
  letter.set_letter_id("letter_1");
  letter.set_channel(v1::POST);
  letter.set_sent_on("2025-09-09");
  auto done = f.ledger->RecordLetter(kOfficer, letter);
  REQUIRE(done.ok());
  v1::GetPupilTimelineRequest request;
  request.set_school_id("s1");
  request.set_pupil_id("p1");
  request.set_min_position(done->position());
  auto context = f.As("auditor");
  auto reader = f.stub->GetPupilTimeline(context.get(), request);
  v1::PupilTimelinePage page;
  std::size_t letters = 0;
  while (reader->Read(&page)) {
    for (const auto& e : page.entries()) {
      CHECK_FALSE(e.has_stage_change());
      letters += e.event().has_letter_sent();
    }
  }
  REQUIRE(reader->Finish().ok());
  CHECK(letters == 1);
}

}  // namespace
}  // namespace attendance::testing
