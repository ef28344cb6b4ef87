#pragma once

// A random but reproducible school history for property tests: two and a bit
// academic years (the last weeks of 2023-24 with the legacy code set), late
// marks, amendments days later, closures, a calendar and settings changed
// mid-way, pupils joining mid-year, leaving, and changing details, and pupils
// whose absence sits exactly on the 10% and 50% boundaries.
#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "event_builders.h"
#include "ledger/calendar.h"

namespace attendance::projections::testing {

struct RandomHistoryOptions {
  std::uint32_t seed = 1;
  int pupils = 30;
  Day first_day = D("2024-06-03");
  Day last_day = D("2026-07-20");
};

inline v1::SchoolCalendarSet LegacyTailCalendar() {
  return MakeCalendar(2023, {{"Summer", "Summer 2", D("2024-06-03"), D("2024-07-19")}});
}

inline std::vector<v1::EventEnvelope> RandomHistory(const RandomHistoryOptions& o) {
  std::mt19937 rng(o.seed);
  auto chance = [&](double p) { return std::uniform_real_distribution<double>(0, 1)(rng) < p; };
  auto pick = [&](int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); };

  EventLog log;
  ledger::SchoolCalendar calendar;
  const v1::SchoolCalendarSet legacy = LegacyTailCalendar();
  std::vector<Day> closures24 = {D("2024-09-02"), D("2025-01-06")};
  std::vector<Day> closures25 = {D("2025-09-01")};
  const v1::SchoolCalendarSet y24 = StandardCalendar(2024, closures24);
  const v1::SchoolCalendarSet y25 = StandardCalendar(2025, closures25);
  log.Calendar(legacy, o.first_day - 30);
  log.Calendar(y24, o.first_day - 30);
  calendar.Set(legacy);
  calendar.Set(y24);
  v1::SchoolSettings settings;
  settings.set_min_possible_sessions(chance(0.5) ? 0 : 20);
  settings.set_persistent_absence_exclusive(chance(0.5));
  settings.set_severe_absence_exclusive(chance(0.5));
  log.Settings(settings, o.first_day - 30);

  // Pending events, released on their recorded day in order of creation.
  struct Pending {
    int kind;  // 0 mark, 1 amend
    std::string pupil;
    Day day;
    v1::Session session;
    std::string from, to;
  };
  std::multimap<Day, Pending> pending;

  struct PupilPlan {
    std::string id;
    int profile;  // 0 random, 1 exactly 10% absent, 2 exactly 50% absent, 3 mostly absent
    Day joins;
    Day leaves;  // last day on roll; 0 = never
    std::uint32_t counter = 0;
    bool enrolled = false, left = false;
    v1::Pupil details;
  };
  std::vector<PupilPlan> plans;
  for (int i = 0; i < o.pupils; ++i) {
    PupilPlan p;
    p.id = "p" + std::to_string(i);
    p.profile = i % 6 == 1 ? 1 : i % 6 == 2 ? 2 : i % 6 == 3 ? 3 : 0;
    p.joins = chance(0.7) ? o.first_day : o.first_day + pick(500);
    p.leaves = chance(0.25) ? p.joins + 20 + pick(400) : 0;
    p.details = MakePupil(p.id, 7 + pick(3), chance(0.5) ? v1::MALE : v1::FEMALE);
    p.details.set_pupil_premium(chance(0.3));
    p.details.set_send(chance(0.2) ? v1::SEN_SUPPORT : v1::SEND_NONE);
    p.details.set_free_school_meals(chance(0.2));
    plans.push_back(p);
  }

  const std::vector<std::string> presents = {"/", "/", "/", "/", "/", "L", "V", "B", "P"};
  const std::vector<std::string> absences24 = {"I", "M", "C",  "E",  "R", "G", "U",
                                               "O", "N", "C1", "J1", "S", "T", "C2"};
  const std::vector<std::string> absences23 = {"I", "M", "H", "F", "G", "U", "O", "N"};
  const std::vector<std::string> not_possible24 = {"#", "Y1", "Y4", "D", "X", "Q", "Z"};
  const std::vector<std::string> not_possible23 = {"#", "Y", "D", "X", "J"};  // legacy J attends

  for (Day day = o.first_day; day <= o.last_day; ++day) {
    if (day == D("2025-03-03")) {  // calendar for next year published, then changed
      log.Calendar(y25, day);
      calendar.Set(y25);
    }
    if (day == D("2025-10-06")) {  // an extra INSET day added in the autumn
      closures25.push_back(D("2025-10-10"));
      const v1::SchoolCalendarSet changed = StandardCalendar(2025, closures25);
      log.Calendar(changed, day);
      calendar.Set(changed);
    }
    if (day == D("2025-09-01")) {
      settings.set_min_possible_sessions(settings.min_possible_sessions() == 0 ? 10 : 0);
      log.Settings(settings, day - 1);
    }
    const bool legacy_day = day < ledger::CodeSet2024Start();
    for (PupilPlan& p : plans) {
      if (!p.enrolled && day >= p.joins - 3) {
        log.Enrol(p.details, p.joins, day);
        p.enrolled = true;
      }
      if (p.enrolled && !p.left && chance(0.002)) {  // details change, sometimes backdated
        p.details.set_pupil_premium(!p.details.pupil_premium());
        p.details.set_year_group(p.details.year_group() + (chance(0.5) ? 1 : 0));
        log.Update(p.details, day - pick(10), day);
      }
      if (p.leaves != 0 && !p.left && day == p.leaves + 1) {
        log.Leave(p.id, p.leaves, day);
        p.left = true;
      }
      if (!calendar.IsSchoolDay(day) || day < p.joins || p.left) continue;
      for (v1::Session session : {v1::AM, v1::PM}) {
        std::string code;
        const std::uint32_t n = p.counter++;
        if (calendar.IsClosed(day, session, p.details.year_group())) {
          code = "#";
        } else if (p.profile == 1) {
          code = n % 10 == 0 ? "O" : (session == v1::AM ? "/" : "\\");
        } else if (p.profile == 2) {
          code = n % 2 == 0 ? "I" : "/";
        } else {
          const double absent = p.profile == 3 ? 0.6 : 0.07;
          const auto& abs = legacy_day ? absences23 : absences24;
          const auto& np = legacy_day ? not_possible23 : not_possible24;
          code = chance(absent) ? abs[static_cast<std::size_t>(pick(static_cast<int>(abs.size())))]
                 : chance(0.03)
                     ? np[static_cast<std::size_t>(pick(static_cast<int>(np.size())))]
                     : presents[static_cast<std::size_t>(pick(static_cast<int>(presents.size())))];
        }
        if (chance(0.04)) {
          pending.emplace(day + 1 + pick(10), Pending{0, p.id, day, session, "", code});
        } else {
          log.Mark(p.id, day, session, code, day);
          if (chance(0.04)) {
            const std::string to = code == "N" || chance(0.5) ? "I" : "O";
            pending.emplace(day + pick(15), Pending{1, p.id, day, session, code, to});
          }
        }
      }
    }
    // Late marks and amendments recorded today.
    for (auto it = pending.begin(); it != pending.end() && it->first <= day;) {
      const Pending& e = it->second;
      const bool legacy_session = e.day < ledger::CodeSet2024Start();
      if (e.kind == 0) {
        log.Mark(e.pupil, e.day, e.session, e.to, day);
      } else {
        log.Amend(e.pupil, e.day, e.session, e.from, legacy_session && e.to == "I" ? "M" : e.to,
                  day);
      }
      it = pending.erase(it);
    }
  }
  return log.events();
}

}  // namespace attendance::projections::testing
