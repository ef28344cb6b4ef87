#pragma once

// Builders for the ledger events that projection tests fold. Positions are
// assigned in order; times are fixed instants (noon UTC on a given day), never
// the wall clock.
#include <cstdint>
#include <string>
#include <vector>

#include "attendance/v1/events.pb.h"
#include "ledger/types.h"

namespace attendance::projections::testing {

using ledger::Day;

inline Day D(const char* text) { return *ledger::ParseDate(text); }

// Noon UTC on `day`: the same UK date in GMT and BST.
inline std::int64_t NoonUs(Day day) {
  return (static_cast<std::int64_t>(day) * 86400 + 12 * 3600) * 1'000'000;
}

struct HalfTermDates {
  const char* term;
  const char* half;
  Day first;
  Day last;
};

inline v1::SchoolCalendarSet MakeCalendar(int academic_year,
                                          const std::vector<HalfTermDates>& halves,
                                          const std::vector<Day>& whole_day_closures = {}) {
  v1::SchoolCalendarSet c;
  c.set_academic_year(academic_year);
  for (const HalfTermDates& h : halves) {
    v1::Term* term = nullptr;
    for (v1::Term& t : *c.mutable_terms()) {
      if (t.name() == h.term) term = &t;
    }
    if (term == nullptr) {
      term = c.add_terms();
      term->set_name(h.term);
    }
    v1::HalfTerm* half = term->add_half_terms();
    half->set_name(h.half);
    half->set_first_day(ledger::FormatDate(h.first));
    half->set_last_day(ledger::FormatDate(h.last));
  }
  for (Day d : whole_day_closures) {
    v1::Closure* closure = c.add_closures();
    closure->set_date(ledger::FormatDate(d));
    closure->set_reason("INSET");
  }
  return c;
}

// A typical English calendar for academic year `y` (y-09-01 .. (y+1)-07-20):
// six half-terms with a week's break between them and longer holidays.
inline v1::SchoolCalendarSet StandardCalendar(int y, const std::vector<Day>& closures = {}) {
  auto at = [](int year, const char* md) { return D((std::to_string(year) + "-" + md).c_str()); };
  return MakeCalendar(y,
                      {{"Autumn", "Autumn 1", at(y, "09-01"), at(y, "10-24")},
                       {"Autumn", "Autumn 2", at(y, "11-03"), at(y, "12-19")},
                       {"Spring", "Spring 1", at(y + 1, "01-05"), at(y + 1, "02-13")},
                       {"Spring", "Spring 2", at(y + 1, "02-23"), at(y + 1, "03-27")},
                       {"Summer", "Summer 1", at(y + 1, "04-13"), at(y + 1, "05-22")},
                       {"Summer", "Summer 2", at(y + 1, "06-01"), at(y + 1, "07-20")}},
                      closures);
}

inline v1::Pupil MakePupil(const std::string& id, int year_group, v1::Sex sex = v1::FEMALE) {
  v1::Pupil p;
  p.set_pupil_id(id);
  p.set_given_name("Pupil");
  p.set_family_name(id);
  p.set_year_group(year_group);
  p.set_class_name(std::to_string(year_group) + "A");
  p.set_sex(sex);
  return p;
}

// An in-memory event log of one school.
class EventLog {
 public:
  explicit EventLog(std::string school_id = "school-1") : school_(std::move(school_id)) {}

  const std::vector<v1::EventEnvelope>& events() const { return events_; }
  const std::string& school_id() const { return school_; }

  void Calendar(const v1::SchoolCalendarSet& calendar, Day recorded) {
    *Add(recorded, "").mutable_school_calendar_set() = calendar;
  }
  void Settings(const v1::SchoolSettings& settings, Day recorded) {
    *Add(recorded, "").mutable_school_settings_set()->mutable_settings() = settings;
  }
  void Enrol(const v1::Pupil& pupil, Day on_roll_from, Day recorded) {
    v1::PupilEnrolled* e = Add(recorded, pupil.pupil_id()).mutable_pupil_enrolled();
    *e->mutable_pupil() = pupil;
    e->set_on_roll_from(ledger::FormatDate(on_roll_from));
  }
  void Update(const v1::Pupil& pupil, Day effective_from, Day recorded) {
    v1::PupilUpdated* u = Add(recorded, pupil.pupil_id()).mutable_pupil_updated();
    *u->mutable_pupil() = pupil;
    u->set_effective_from(ledger::FormatDate(effective_from));
  }
  void Leave(const std::string& pupil_id, Day last_day, Day recorded) {
    v1::PupilLeftRoll* l = Add(recorded, pupil_id).mutable_pupil_left_roll();
    l->set_pupil_id(pupil_id);
    l->set_last_day_on_roll(ledger::FormatDate(last_day));
  }
  void Mark(const std::string& pupil_id, Day day, v1::Session session, const std::string& code,
            Day recorded) {
    v1::MarkRecorded* m = Add(recorded, pupil_id).mutable_mark_recorded();
    m->set_pupil_id(pupil_id);
    m->set_date(ledger::FormatDate(day));
    m->set_session(session);
    m->set_code(code);
  }
  void Policy(const v1::EscalationPolicy& policy, Day recorded) {
    *Add(recorded, "").mutable_escalation_policy_set()->mutable_policy() = policy;
  }
  void Letter(const std::string& pupil_id, const std::string& letter_id, Day sent_on) {
    v1::LetterSent* l = Add(sent_on, pupil_id).mutable_letter_sent();
    l->set_pupil_id(pupil_id);
    l->set_letter_id(letter_id);
    l->set_channel(v1::POST);
    l->set_sent_on(ledger::FormatDate(sent_on));
  }
  // An ActionRecorded, recorded on the day it happened; the caller may fill
  // in the rest (the reference is valid until the next event is added).
  v1::ActionRecorded& Action(const std::string& pupil_id, const std::string& action_id,
                             v1::RecordedActionKind kind, Day happened_on) {
    v1::ActionRecorded* a = Add(happened_on, pupil_id).mutable_action_recorded();
    a->set_pupil_id(pupil_id);
    a->set_action_id(action_id);
    a->set_kind(kind);
    a->set_happened_on(ledger::FormatDate(happened_on));
    return *a;
  }
  void Mark(const std::string& pupil_id, Day day, v1::Session session, const std::string& code) {
    Mark(pupil_id, day, session, code, day);
  }
  void Amend(const std::string& pupil_id, Day day, v1::Session session, const std::string& from,
             const std::string& to, Day at) {
    v1::MarkAmended* m = Add(at, pupil_id).mutable_mark_amended();
    m->set_pupil_id(pupil_id);
    m->set_date(ledger::FormatDate(day));
    m->set_session(session);
    m->set_original_code(from);
    m->set_amended_code(to);
    m->set_reason("test");
    m->set_amended_at_us(NoonUs(at));
  }

 private:
  v1::EventEnvelope& Add(Day recorded, const std::string& pupil_id) {
    v1::EventEnvelope& e = events_.emplace_back();
    e.set_position(events_.size());
    e.set_school_id(school_);
    e.set_pupil_id(pupil_id);
    e.set_recorded_at_us(NoonUs(recorded));
    return e;
  }

  std::string school_;
  std::vector<v1::EventEnvelope> events_;
};

}  // namespace attendance::projections::testing
