#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "attendance/v1/events.pb.h"
#include "ledger/calendar.h"
#include "ledger/types.h"
#include "projections/code_table.h"
#include "projections/figures.h"
#include "projections/session_history.h"

namespace attendance::projections {

using ledger::Day;

// One pupil's register for one academic year: the current code of every
// session, plus the history of the few sessions whose code as of a past date
// differs from what the array says (marks recorded after their session day,
// and amended marks). Counting a window is a scan of at most 732 bytes, so a
// query costs the same whatever the length of the log.
struct PupilYear {
  int academic_year = 0;
  // The latest `recorded` day of anything applied to this year: as of any
  // date on or after it, `codes` is exact and `changes` can be skipped.
  Day max_recorded = 0;
  std::array<CodeIndex, kSlotsPerYear> codes{};  // [2 * day-of-year + (PM ? 1 : 0)]
  // For each session present, its full history: 4 bytes a change.
  SessionHistory changes;

  // The code of `slot` as it stood at the end of `as_of`.
  CodeIndex CodeAsOf(std::uint16_t slot, Day as_of) const;
  // `codes` as they stood at the end of `as_of`.
  void CodesAsOf(Day as_of, std::array<CodeIndex, kSlotsPerYear>& out) const;

  bool operator==(const PupilYear&) const = default;
};

// Pupil details effective from a date, as recorded on a date.
struct AttributeVersion {
  Day effective_from = 0;
  Day recorded = 0;
  v1::Pupil pupil;
};

// An enrolment (joins = true, on roll from `day`) or a departure (last day on
// roll = `day`), as recorded on `recorded`.
struct RollChange {
  Day recorded = 0;
  Day day = 0;
  bool joins = false;
  bool operator==(const RollChange&) const = default;
};

struct PupilState {
  std::string id;
  std::vector<AttributeVersion> attributes;  // log order
  std::vector<RollChange> roll;              // log order
  std::vector<PupilYear> years;              // ascending academic_year

  const PupilYear* Year(int academic_year) const;
  // Counts the pupil's marks in [first, last] as they stood at the end of
  // `as_of` (last <= as_of is expected; sessions after as_of are counted as
  // they stand in the array only if recorded by then).
  AttendanceCounts Count(Day first, Day last, Day as_of) const;
  // Details in force on `day`, as known at the end of `as_of`; the earliest
  // known version if none was in force yet; nullptr if none was known.
  const v1::Pupil* AttributesAt(Day day, Day as_of) const;
  // Whether the pupil was on the roll on some day in [first, last], as known
  // at the end of `as_of`. A pupil with no recorded enrolment is on roll.
  bool OnRollDuring(Day first, Day last, Day as_of) const;
  // Known to the school at all by the end of `as_of`.
  bool KnownAsOf(Day as_of) const;
};

// Calendar and settings changes, kept so that figures can be reproduced as
// they stood on a past date.
struct SchoolState {
  std::string id;
  std::vector<std::pair<Day, v1::SchoolCalendarSet>> calendar_history;  // (recorded, event)
  std::vector<std::pair<Day, v1::SchoolSettings>> settings_history;
  ledger::SchoolCalendar calendar;  // everything applied
  std::vector<PupilState> pupils;   // in order of first appearance
  absl::flat_hash_map<std::string, std::uint32_t> pupil_index;

  const PupilState* FindPupil(std::string_view pupil_id) const;
  // Calendar as known at the end of `as_of`: `calendar` itself unless a
  // calendar event was recorded after `as_of`, else rebuilt into `scratch`.
  const ledger::SchoolCalendar& CalendarAsOf(Day as_of, ledger::SchoolCalendar* scratch) const;
  // Settings as known at the end of `as_of` (defaults if none).
  v1::SchoolSettings SettingsAsOf(Day as_of) const;
};

AbsenceThresholds ThresholdsOf(const v1::SchoolSettings& settings);
// The settings' rolling windows, or 4, 6, 10, 12 if none are set.
std::vector<std::uint32_t> RollingWeeksOf(const v1::SchoolSettings& settings);

// The attendance read model: a deterministic fold over the ledger's events.
// Apply never fails; events it cannot use (unknown codes, malformed dates,
// codes not valid for the session's date) are skipped, because the ledger has
// already validated what it stored and a read model must not stop on data.
// Not thread-safe: see LiveAttendance for shared use.
class AttendanceState {
 public:
  AttendanceState() = default;
  AttendanceState(AttendanceState&&) = default;
  AttendanceState& operator=(AttendanceState&&) = default;

  void Apply(const v1::EventEnvelope& event);
  // The position of the last event applied (0 = none).
  ledger::Position position() const { return position_; }

  const SchoolState* FindSchool(std::string_view school_id) const;
  const std::map<std::string, std::unique_ptr<SchoolState>, std::less<>>& schools() const {
    return schools_;
  }

  // Deterministic encoding (schools in id order; everything else in fold
  // order), so a rebuild and an incremental fold can be compared byte by
  // byte. Decode: DATA_LOSS if the bytes are not an encoding of this version.
  std::string Encode() const;
  static absl::StatusOr<AttendanceState> Decode(std::string_view bytes);

  // Approximate heap bytes held (for the README's memory per pupil-year).
  std::size_t ApproximateBytes() const;

 private:
  SchoolState& School(const std::string& id);
  PupilState& Pupil(SchoolState& school, std::string_view pupil_id);
  void ApplyMark(SchoolState& school, std::string_view pupil_id, std::string_view date,
                 v1::Session session, std::string_view code, Day recorded);

  ledger::Position position_ = 0;
  std::map<std::string, std::unique_ptr<SchoolState>, std::less<>> schools_;
};

}  // namespace attendance::projections
