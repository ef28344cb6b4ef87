// The projection-changes fold's day turns, as a property over random
// histories under seed 000's policy (letters with monitoring periods) and
// meetings with reviews: a live stream whose clock turned the day at the
// head at random moments equals a replay of the log, change for change; and
// a fold resumed at any message boundary (position, turned-to day) yields
// exactly the rest of it.
#include <google/protobuf/text_format.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "event_builders.h"
#include "ledger/calendar.h"
#include "ledger/clock.h"
#include "projections/projection_changes.h"

namespace attendance::projections {
namespace {

using testing::D;
using testing::EventLog;

v1::EscalationPolicy Seed000() {
  std::ifstream in(std::filesystem::path(ATTENDANCE_POLICIES_DIR) /
                   "000_all_saints_ce_primary_attendance_strategy_2024_25.textproto");
  std::stringstream text;
  text << in.rdbuf();
  v1::EscalationPolicy policy;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text.str(), &policy));
  return policy;
}

// A change and the checkpoint a message ending with it would carry.
struct Item {
  std::string change;  // serialized
  ledger::Position position;
  Day day;
};

ProjectionChangeFold NewFold(ProjectionChangeFold::Resume resume = {}) {
  return ProjectionChangeFold({"school-1"}, {WindowSpec{}}, /*escalation=*/true, resume);
}

void Take(const ProjectionChangeFold& fold, std::vector<v1::PupilChange>& changes,
          std::vector<Item>& out) {
  for (const v1::PupilChange& change : changes) {
    out.push_back({change.SerializeAsString(), fold.position(), fold.day()});
  }
  changes.clear();
}

TEST_CASE("day turns: live equals replay, and any checkpoint resumes exactly",
          "[feeds][escalation]") {
  const int seed = GENERATE(1, 2, 3, 4);
  std::mt19937 random(seed);
  EventLog log;
  log.Calendar(testing::StandardCalendar(2025), D("2025-08-20"));
  v1::SchoolSettings settings;
  settings.set_school_name("School");
  log.Settings(settings, D("2025-08-20"));
  const std::vector<std::string> pupils = {"P1", "P2", "P3", "P4"};
  for (const std::string& p : pupils)
    log.Enrol(testing::MakePupil(p, 3), D("2025-09-01"), D("2025-08-25"));
  log.Policy(Seed000(), D("2025-08-26"));
  ledger::SchoolCalendar calendar;
  calendar.Set(testing::StandardCalendar(2025));
  int meetings = 0;
  for (Day d = D("2025-09-03"); d <= D("2025-10-17"); ++d) {
    if (!calendar.IsSchoolDay(d) || random() % 5 == 0) continue;  // quiet days too
    for (const std::string& p : pupils) {
      for (v1::Session s : {v1::AM, v1::PM}) {
        log.Mark(p, d, s, random() % 3 == 0 ? "O" : "/");
      }
      if (random() % 15 == 0) log.Letter(p, "letter_1", d);
      if (random() % 12 == 0) {
        v1::ActionRecorded& meeting =
            log.Action(p, "meet-" + std::to_string(++meetings), v1::MEETING_HELD, d);
        meeting.set_review_on(ledger::FormatDate(d + 1 + static_cast<int>(random() % 6)));
      }
    }
  }
  const Day today = D("2025-10-22");
  const std::vector<v1::EventEnvelope>& events = log.events();

  // Live: the clock turns the day at the head, at random, before the event
  // recorded on a later day arrives (to that day or any before it).
  std::vector<Item> live;
  std::vector<v1::PupilChange> changes;
  ProjectionChangeFold fold = NewFold();
  for (const v1::EventEnvelope& event : events) {
    const Day recorded = ledger::SchoolLocalDay(event.recorded_at_us());
    if (fold.day() != 0 && recorded > fold.day() && random() % 2 == 0) {
      fold.TurnDay(fold.day() + 1 + static_cast<int>(random() % (recorded - fold.day())), changes);
      Take(fold, changes, live);
    }
    fold.Apply(event, changes);
    Take(fold, changes, live);
  }
  fold.TurnDay(today, changes);
  Take(fold, changes, live);

  int time_driven = 0;
  int reviews = 0;
  int monitoring_ended = 0;
  for (const Item& item : live) {
    v1::PupilChange change;
    REQUIRE(change.ParseFromString(item.change));
    if (!change.time_driven()) continue;
    ++time_driven;
    for (const v1::DueAction& due : change.escalation().due_added()) {
      reviews += due.action() == v1::REVIEW ? 1 : 0;
    }
    for (const v1::LadderChange& ladder : change.escalation().ladders()) {
      monitoring_ended += ladder.monitoring_running_before() && !ladder.monitoring().running();
    }
  }
  INFO("seed " << seed << ": " << live.size() << " changes, " << time_driven << " time-driven, "
               << reviews << " reviews fell due, " << monitoring_ended << " monitoring ended");
  CHECK(reviews > 0);

  SECTION("a replay of the log equals the live stream") {
    std::vector<Item> replay;
    ProjectionChangeFold again = NewFold();
    for (const v1::EventEnvelope& event : events) {
      again.Apply(event, changes);
      Take(again, changes, replay);
    }
    again.TurnDay(today, changes);
    Take(again, changes, replay);
    REQUIRE(replay.size() == live.size());
    for (std::size_t i = 0; i < live.size(); ++i) {
      INFO("change " << i);
      CHECK(replay[i].change == live[i].change);
    }
  }
  SECTION("resumed after any change, the rest exactly") {
    for (int trial = 0; trial < 12; ++trial) {
      const std::size_t k = random() % live.size();  // resume after live[k]
      ProjectionChangeFold resumed = NewFold({live[k].position, live[k].day});
      std::vector<Item> rest;
      for (const v1::EventEnvelope& event : events) {
        if (event.position() <= live[k].position) {
          resumed.Skip(event);
        } else {
          resumed.Apply(event, changes);
          Take(resumed, changes, rest);
        }
      }
      resumed.TurnDay(today, changes);
      Take(resumed, changes, rest);
      // A checkpoint is taken at a message boundary: after the last change
      // of one Apply or TurnDay, which is where (position, day) moves on.
      std::size_t boundary = k + 1;
      while (boundary < live.size() && live[boundary].position == live[k].position &&
             live[boundary].day == live[k].day) {
        ++boundary;
      }
      INFO("after change " << k << " at position " << live[k].position << ", day "
                           << ledger::FormatDate(live[k].day));
      REQUIRE(rest.size() == live.size() - boundary);
      for (std::size_t i = 0; i < rest.size(); ++i)
        CHECK(rest[i].change == live[boundary + i].change);
    }
  }
}

}  // namespace
}  // namespace attendance::projections
