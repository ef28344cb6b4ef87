#include "projections/attendance_state.h"

#include <algorithm>
#include <limits>
#include <optional>

#include "ledger/clock.h"
#include "ledger/personal_data.h"

namespace attendance::projections {
namespace {

constexpr Day kMinDay = std::numeric_limits<Day>::min();
constexpr Day kMaxDay = std::numeric_limits<Day>::max();

}  // namespace

AbsenceThresholds ThresholdsOf(const v1::SchoolSettings& settings) {
  return {settings.min_possible_sessions(), settings.persistent_absence_exclusive(),
          settings.severe_absence_exclusive()};
}

std::vector<std::uint32_t> RollingWeeksOf(const v1::SchoolSettings& settings) {
  if (settings.rolling_window_weeks().empty()) return {4, 6, 10, 12};
  return {settings.rolling_window_weeks().begin(), settings.rolling_window_weeks().end()};
}

// ---- PupilYear -----------------------------------------------------------

CodeIndex PupilYear::CodeAsOf(std::uint16_t slot, Day as_of) const {
  if (as_of >= max_recorded) return codes[slot];
  return changes.CodeAsOf(ledger::AcademicYearStart(academic_year), slot, as_of, codes[slot]);
}

void PupilYear::CodesAsOf(Day as_of, std::array<CodeIndex, kSlotsPerYear>& out) const {
  out = codes;
  if (as_of < max_recorded) changes.ApplyAsOf(ledger::AcademicYearStart(academic_year), as_of, out);
}

// ---- PupilState ----------------------------------------------------------

const PupilYear* PupilState::Year(int academic_year) const {
  auto it = std::lower_bound(years.begin(), years.end(), academic_year,
                             [](const PupilYear& y, int year) { return y.academic_year < year; });
  return it != years.end() && it->academic_year == academic_year ? &*it : nullptr;
}

AttendanceCounts PupilState::Count(Day first, Day last, Day as_of) const {
  std::array<std::uint32_t, kNumCodes> histogram{};
  if (first > last) return {};
  for (const PupilYear& y : years) {
    const Day start = ledger::AcademicYearStart(y.academic_year);
    const Day end = ledger::AcademicYearStart(y.academic_year + 1) - 1;
    if (end < first || start > last) continue;
    const int lo = 2 * (std::max(first, start) - start);
    const int hi = 2 * (std::min(last, end) - start) + 1;  // inclusive
    for (int s = lo; s <= hi; ++s) ++histogram[y.codes[static_cast<std::size_t>(s)]];
    if (as_of >= y.max_recorded) continue;
    // Some sessions in this year were recorded or amended after `as_of`:
    // replace their current code by the one they had then.
    y.changes.ForEachAsOf(start, lo, hi, as_of, [&](std::uint16_t slot, CodeIndex then) {
      --histogram[y.codes[slot]];
      ++histogram[then];
    });
  }
  histogram[0] = 0;
  return AttendanceCounts::FromHistogram(histogram);
}

const v1::Pupil* PupilState::AttributesAt(Day day, Day as_of) const {
  const AttributeVersion* best = nullptr;
  const AttributeVersion* earliest = nullptr;
  for (const AttributeVersion& v : attributes) {
    if (v.recorded > as_of) continue;
    if (v.effective_from <= day && (best == nullptr || v.effective_from >= best->effective_from)) {
      best = &v;
    }
    if (earliest == nullptr || v.effective_from < earliest->effective_from) earliest = &v;
  }
  if (best != nullptr) return &best->pupil;
  return earliest != nullptr ? &earliest->pupil : nullptr;
}

bool PupilState::KnownAsOf(Day as_of) const {
  if (attributes.empty() && roll.empty()) return true;  // known from marks alone
  for (const AttributeVersion& v : attributes) {
    if (v.recorded <= as_of) return true;
  }
  for (const RollChange& r : roll) {
    if (r.recorded <= as_of) return true;
  }
  return false;
}

bool PupilState::OnRollDuring(Day first, Day last, Day as_of) const {
  if (roll.empty()) return true;
  bool open = false;  // an enrolment without a departure yet
  Day open_from = kMinDay;
  bool any = false;
  auto overlaps = [&](Day from, Day to) { return from <= last && to >= first; };
  for (const RollChange& r : roll) {
    if (r.recorded > as_of) continue;
    if (r.joins) {
      open_from = open ? std::min(open_from, r.day) : r.day;
      open = true;
    } else if (open || !any) {
      // A departure with no enrolment before it: on roll since the start.
      if (overlaps(open ? open_from : kMinDay, r.day)) return true;
      open = false;
    }
    any = true;
  }
  return open && overlaps(open_from, kMaxDay);
}

// ---- SchoolState ---------------------------------------------------------

const PupilState* SchoolState::FindPupil(std::string_view pupil_id) const {
  auto it = pupil_index.find(absl::string_view(pupil_id.data(), pupil_id.size()));
  return it == pupil_index.end() ? nullptr : &pupils[it->second];
}

const ledger::SchoolCalendar& SchoolState::CalendarAsOf(Day as_of,
                                                        ledger::SchoolCalendar* scratch) const {
  bool all = true;
  for (const auto& [recorded, set] : calendar_history) all = all && recorded <= as_of;
  if (all) return calendar;
  *scratch = ledger::SchoolCalendar();
  for (const auto& [recorded, set] : calendar_history) {
    if (recorded <= as_of) scratch->Set(set);
  }
  return *scratch;
}

v1::SchoolSettings SchoolState::SettingsAsOf(Day as_of) const {
  v1::SchoolSettings settings;
  for (const auto& [recorded, s] : settings_history) {
    if (recorded <= as_of) settings = s;
  }
  return settings;
}

// ---- AttendanceState -----------------------------------------------------

const SchoolState* AttendanceState::FindSchool(std::string_view school_id) const {
  auto it = schools_.find(school_id);
  return it == schools_.end() ? nullptr : it->second.get();
}

SchoolState& AttendanceState::School(const std::string& id) {
  auto it = schools_.find(id);
  if (it != schools_.end()) return *it->second;
  auto school = std::make_unique<SchoolState>();
  school->id = id;
  return *schools_.emplace(id, std::move(school)).first->second;
}

PupilState& AttendanceState::Pupil(SchoolState& school, std::string_view pupil_id) {
  auto it = school.pupil_index.find(absl::string_view(pupil_id.data(), pupil_id.size()));
  if (it != school.pupil_index.end()) return school.pupils[it->second];
  school.pupil_index.emplace(std::string(pupil_id),
                             static_cast<std::uint32_t>(school.pupils.size()));
  PupilState& pupil = school.pupils.emplace_back();
  pupil.id = std::string(pupil_id);
  return pupil;
}

void AttendanceState::ApplyMark(SchoolState& school, std::string_view pupil_id,
                                std::string_view date, v1::Session session, std::string_view code,
                                Day recorded) {
  const std::optional<Day> day = ledger::ParseDate(date);
  if (!day || pupil_id.empty() || (session != v1::AM && session != v1::PM)) return;
  const CodeIndex index = CodeIndexOf(code);
  if (!ValidOn(index, *day)) return;

  PupilState& pupil = Pupil(school, pupil_id);
  const int year = ledger::AcademicYearOf(*day);
  auto it = std::lower_bound(pupil.years.begin(), pupil.years.end(), year,
                             [](const PupilYear& y, int yr) { return y.academic_year < yr; });
  if (it == pupil.years.end() || it->academic_year != year) {
    it = pupil.years.insert(it, PupilYear{});
    it->academic_year = year;
    it->max_recorded = kMinDay;
  }
  PupilYear& y = *it;
  const auto slot = static_cast<std::uint16_t>(2 * (*day - ledger::AcademicYearStart(year)) +
                                               (session == v1::PM ? 1 : 0));
  // Recording a session before its own day is the same, for every as-of
  // query that can include the session, as recording it on the day.
  const Day effective = std::max(recorded, *day);
  const CodeIndex old = y.codes[slot];
  const bool has_history = y.changes.Has(slot);
  if (has_history || effective > *day || old != 0) {
    const Day year_start = ledger::AcademicYearStart(year);
    if (!has_history && old != 0) {
      // The replaced mark was recorded on time (else it would have history).
      y.changes.Insert(year_start, slot, old, *day);
    }
    y.changes.Insert(year_start, slot, index, effective);
  }
  y.codes[slot] = index;
  y.max_recorded = std::max(y.max_recorded, effective);
}

void AttendanceState::Apply(const v1::EventEnvelope& event) {
  position_ = event.position();
  if (event.school_id().empty()) return;
  const Day recorded = ledger::SchoolLocalDay(event.recorded_at_us());
  auto or_envelope = [&](const std::string& id) -> const std::string& {
    return id.empty() ? event.pupil_id() : id;
  };
  switch (event.payload_case()) {
    case v1::EventEnvelope::kMarkRecorded: {
      const v1::MarkRecorded& m = event.mark_recorded();
      // Imported history counts from when the source says it was taken.
      const Day at = m.taken_at_us() != 0 ? ledger::SchoolLocalDay(m.taken_at_us()) : recorded;
      ApplyMark(School(event.school_id()), or_envelope(m.pupil_id()), m.date(), m.session(),
                m.code(), at);
      break;
    }
    case v1::EventEnvelope::kMarkAmended: {
      const v1::MarkAmended& m = event.mark_amended();
      const Day at = m.amended_at_us() != 0 ? ledger::SchoolLocalDay(m.amended_at_us()) : recorded;
      ApplyMark(School(event.school_id()), or_envelope(m.pupil_id()), m.date(), m.session(),
                m.amended_code(), at);
      break;
    }
    case v1::EventEnvelope::kPupilEnrolled: {
      const v1::PupilEnrolled& e = event.pupil_enrolled();
      const std::string& id = or_envelope(e.pupil().pupil_id());
      if (id.empty()) break;
      const Day from = ledger::ParseDate(e.on_roll_from()).value_or(recorded);
      PupilState& pupil = Pupil(School(event.school_id()), id);
      pupil.attributes.push_back({from, recorded, e.pupil()});
      pupil.attributes.back().pupil.set_pupil_id(id);
      pupil.roll.push_back({recorded, from, true});
      break;
    }
    case v1::EventEnvelope::kPupilUpdated: {
      const v1::PupilUpdated& u = event.pupil_updated();
      const std::string& id = or_envelope(u.pupil().pupil_id());
      if (id.empty()) break;
      const Day from = ledger::ParseDate(u.effective_from()).value_or(recorded);
      PupilState& pupil = Pupil(School(event.school_id()), id);
      pupil.attributes.push_back({from, recorded, u.pupil()});
      pupil.attributes.back().pupil.set_pupil_id(id);
      break;
    }
    case v1::EventEnvelope::kPupilLeftRoll: {
      const v1::PupilLeftRoll& l = event.pupil_left_roll();
      const std::string& id = or_envelope(l.pupil_id());
      const std::optional<Day> last = ledger::ParseDate(l.last_day_on_roll());
      if (id.empty() || !last) break;
      Pupil(School(event.school_id()), id).roll.push_back({recorded, *last, false});
      break;
    }
    case v1::EventEnvelope::kSchoolCalendarSet: {
      const v1::SchoolCalendarSet& c = event.school_calendar_set();
      if (!ledger::ValidateCalendar(c, "school_calendar_set").ok()) break;
      SchoolState& school = School(event.school_id());
      school.calendar_history.emplace_back(recorded, c);
      school.calendar.Set(c);
      break;
    }
    case v1::EventEnvelope::kSchoolSettingsSet: {
      School(event.school_id())
          .settings_history.emplace_back(recorded, event.school_settings_set().settings());
      break;
    }
    case v1::EventEnvelope::kPersonalDataErased: {
      // Retention (ADR 0003): the names and date of birth leave the state,
      // and so the next checkpoint; the cohort attributes stay, and so do
      // the figures.
      const std::string& id = or_envelope(event.personal_data_erased().pupil_id());
      if (id.empty()) break;
      for (AttributeVersion& v : Pupil(School(event.school_id()), id).attributes) {
        ledger::ClearPersonalFields(v.pupil);
      }
      break;
    }
    default:
      break;  // letters and future event kinds do not change attendance
  }
}

std::size_t AttendanceState::ApproximateBytes() const {
  std::size_t total = 0;
  for (const auto& [id, school] : schools_) {
    total += sizeof(SchoolState) + id.capacity();
    total += school->pupil_index.capacity() * (sizeof(std::string) + sizeof(std::uint32_t) + 1);
    total += school->pupils.capacity() * sizeof(PupilState);
    for (const PupilState& p : school->pupils) {
      total += p.id.capacity() + p.roll.capacity() * sizeof(RollChange);
      total += p.attributes.capacity() * sizeof(AttributeVersion);
      for (const AttributeVersion& v : p.attributes) total += v.pupil.SpaceUsedLong();
      total += p.years.capacity() * sizeof(PupilYear);
      for (const PupilYear& y : p.years) total += y.changes.HeapBytes();
    }
    for (const auto& [day, c] : school->calendar_history) total += c.SpaceUsedLong();
  }
  return total;
}

}  // namespace attendance::projections
