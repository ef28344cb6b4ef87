// The projection-changes fold's turns (a day's start, a register's close),
// as a property over random histories under seed 000's policy (letters with
// monitoring periods, the register-not-taken duty), meetings with reviews,
// and marks recorded through the day, some after the register closed: a
// live stream whose clock turned at the head at random moments equals a
// replay of the log, change for change; and a fold resumed at any message
// boundary (position, turned-to day and minute) yields exactly the rest.
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
  int minute;
};

// Microseconds since the epoch of `minute` after midnight of `day` in
// England during British Summer Time (UTC+1), as all of this history is.
std::int64_t BstUs(Day day, int minute) {
  return (static_cast<std::int64_t>(day) * 86400 + (minute - 60) * 60) * 1'000'000;
}

bool RegisterNotTaken(const v1::PupilChange& change) {
  for (const v1::DueAction& due : change.escalation().due_added()) {
    if (due.action() == v1::REGISTER_NOT_TAKEN) return true;
  }
  return false;
}

ProjectionChangeFold NewFold(ProjectionChangeFold::Resume resume = {}) {
  return ProjectionChangeFold({"school-1"}, {WindowSpec{}}, /*escalation=*/true, resume);
}

void Take(const ProjectionChangeFold& fold, std::vector<v1::PupilChange>& changes,
          std::vector<Item>& out) {
  for (const v1::PupilChange& change : changes) {
    out.push_back({change.SerializeAsString(), fold.position(), fold.day(), fold.minute()});
  }
  changes.clear();
}

TEST_CASE("day and register-close turns: live equals replay, any checkpoint resumes exactly",
          "[feeds][escalation]") {
  const int seed = GENERATE(1, 2, 3, 4);
  std::mt19937 random(seed);
  EventLog log;
  log.Calendar(testing::StandardCalendar(2025), D("2025-08-20"));
  v1::SchoolSettings settings;
  settings.set_school_name("School");
  settings.set_am_register_closes("09:20");
  settings.set_pm_register_closes("13:30");
  log.Settings(settings, D("2025-08-20"));
  const std::vector<std::string> pupils = {"P1", "P2", "P3", "P4"};
  for (const std::string& p : pupils)
    log.Enrol(testing::MakePupil(p, 3), D("2025-09-01"), D("2025-08-25"));
  log.Policy(Seed000(), D("2025-08-26"));
  ledger::SchoolCalendar calendar;
  calendar.Set(testing::StandardCalendar(2025));
  // Each day's events in time order (local minutes): the morning's marks
  // from 08:40, some late (after the 09:20 close) or left to the office in
  // the afternoon, the afternoon's from 13:00 (the register closes at
  // 13:30), letters and meetings after school; a few sessions never marked.
  // The office enters the sessions of a quiet day (no event) and a few
  // others the next morning, before the register closes.
  std::vector<int> minutes(log.events().size(), 12 * 60);
  struct Pending {
    std::string pupil;
    Day day;
    v1::Session session;
  };
  std::vector<Pending> backlog;
  int meetings = 0;
  for (Day d = D("2025-09-01"); d <= D("2025-10-17"); ++d) {
    if (!calendar.IsSchoolDay(d)) continue;
    if (random() % 5 == 0) {  // quiet days too
      for (const std::string& p : pupils) {
        for (v1::Session s : {v1::AM, v1::PM}) backlog.push_back({p, d, s});
      }
      continue;
    }
    int office = 8 * 60;
    for (const Pending& entry : backlog) {
      log.Mark(entry.pupil, entry.day, entry.session, "O", d);
      minutes.push_back(office += static_cast<int>(random() % 3));
    }
    backlog.clear();
    std::vector<Pending> later;
    for (v1::Session s : {v1::AM, v1::PM}) {
      int minute = s == v1::AM ? 8 * 60 + 40 : 13 * 60;
      for (const std::string& p : pupils) {
        minute += static_cast<int>(random() % 9);
        const int fate = static_cast<int>(random() % 12);
        if (fate == 0) {  // left for the office
          backlog.push_back({p, d, s});
          continue;
        }
        if (fate == 1) {
          later.push_back({p, d, s});
          continue;
        }
        log.Mark(p, d, s, random() % 3 == 0 ? "O" : "/");
        minutes.push_back(minute);
      }
      for (const Pending& late : later) {
        minute += static_cast<int>(random() % 40);
        log.Mark(late.pupil, d, late.session, "O");
        minutes.push_back(minute);
      }
      later.clear();
    }
    int minute = 15 * 60 + 30;
    for (const std::string& p : pupils) {
      if (random() % 15 == 0) {
        log.Letter(p, "letter_1", d);
        minutes.push_back(minute += 5);
      }
      if (random() % 12 == 0) {
        v1::ActionRecorded& meeting =
            log.Action(p, "meet-" + std::to_string(++meetings), v1::MEETING_HELD, d);
        meeting.set_review_on(ledger::FormatDate(d + 1 + static_cast<int>(random() % 6)));
        minutes.push_back(minute += 5);
      }
    }
  }
  const Day today = D("2025-10-22");
  std::vector<v1::EventEnvelope> events = log.events();
  REQUIRE(minutes.size() == events.size());
  for (std::size_t i = 0; i < events.size(); ++i) {
    const Day day = ledger::SchoolLocalDay(events[i].recorded_at_us());
    events[i].set_recorded_at_us(BstUs(day, minutes[i]));
  }

  // Live: the clock turns at the head, at random, before the next event
  // arrives, to any time up to the event's (the hub turns only to a time
  // no event still to come was recorded before).
  std::vector<Item> live;
  std::vector<v1::PupilChange> changes;
  ProjectionChangeFold fold = NewFold();
  for (const v1::EventEnvelope& event : events) {
    const ledger::LocalTime recorded = ledger::SchoolLocalTime(event.recorded_at_us());
    if (fold.day() != 0 && random() % 2 == 0) {
      const Day day = fold.day() + static_cast<int>(random() % (recorded.day - fold.day() + 1));
      int minute = static_cast<int>(random() % (24 * 60));
      if (day == recorded.day) minute = std::min(minute, recorded.minute_of_day);
      if (TimeKey({day, minute}) > TimeKey(fold.time())) {
        if (random() % 2 == 0) {
          fold.Turn({day, minute}, changes);
          Take(fold, changes, live);
        } else {  // one turn at a time, as the feed sends them
          while (fold.TurnOnce({day, minute}, changes)) Take(fold, changes, live);
        }
      }
    }
    fold.Apply(event, changes);
    Take(fold, changes, live);
  }
  fold.TurnDay(today, changes);
  Take(fold, changes, live);

  int time_driven = 0;
  int reviews = 0;
  int monitoring_ended = 0;
  int registers_closed = 0;
  for (const Item& item : live) {
    v1::PupilChange change;
    REQUIRE(change.ParseFromString(item.change));
    if (!change.time_driven()) continue;
    ++time_driven;
    if (RegisterNotTaken(change)) ++registers_closed;
    for (const v1::DueAction& due : change.escalation().due_added()) {
      reviews += due.action() == v1::REVIEW ? 1 : 0;
    }
    for (const v1::LadderChange& ladder : change.escalation().ladders()) {
      monitoring_ended += ladder.monitoring_running_before() && !ladder.monitoring().running();
    }
  }
  INFO("seed " << seed << ": " << live.size() << " changes, " << time_driven << " time-driven, "
               << reviews << " reviews fell due, " << monitoring_ended << " monitoring ended, "
               << registers_closed << " registers not taken at their close time");
  CHECK(reviews > 0);
  CHECK(registers_closed > 0);

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
    for (int trial = 0; trial < 24; ++trial) {
      const std::size_t k = random() % live.size();  // resume after live[k]
      ProjectionChangeFold resumed = NewFold({live[k].position, live[k].day, live[k].minute});
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
      // of one Apply or turn, which is where (position, day, minute) moves on.
      std::size_t boundary = k + 1;
      while (boundary < live.size() && live[boundary].position == live[k].position &&
             live[boundary].day == live[k].day && live[boundary].minute == live[k].minute) {
        ++boundary;
      }
      INFO("after change " << k << " at position " << live[k].position << ", day "
                           << ledger::FormatDate(live[k].day) << " minute " << live[k].minute);
      REQUIRE(rest.size() == live.size() - boundary);
      for (std::size_t i = 0; i < rest.size(); ++i)
        CHECK(rest[i].change == live[boundary + i].change);
    }
  }
}

}  // namespace
}  // namespace attendance::projections
