#pragma once

#include <array>
#include <cstdint>

#include "attendance/v1/projections_service.pb.h"
#include "projections/code_table.h"

namespace attendance::projections {

// The integer counts behind every attendance figure (../shared/domain.md §3),
// for one pupil or summed over a cohort. Percentages are derived from these
// and never summed or averaged.
struct AttendanceCounts {
  std::uint32_t possible = 0;
  std::uint32_t attended = 0;           // present (/ \ L) + approved activity (K V P W B, legacy J)
  std::uint32_t authorised = 0;         // C1 M J1 S C2 C E I R T (legacy H F)
  std::uint32_t unauthorised = 0;       // G U O N
  std::uint32_t late_before_close = 0;  // L
  std::uint32_t late_after_close = 0;   // U
  std::array<std::uint32_t, kNumCodes> per_code{};  // by CodeIndex; [0] unused

  std::uint32_t absent() const { return authorised + unauthorised; }

  // Builds the counts from a histogram of code indices.
  static AttendanceCounts FromHistogram(const std::array<std::uint32_t, kNumCodes>& histogram);
  void Add(const AttendanceCounts& other);
  bool operator==(const AttendanceCounts&) const = default;
};

// A school's PA/SA policy (SchoolSettings.min_possible_sessions,
// persistent_absence_exclusive and severe_absence_exclusive).
struct AbsenceThresholds {
  std::uint32_t min_possible_sessions = 0;
  // false (DfE): absence >= 10% / >= 50%. true (seeds' "below 90%"):
  // attendance strictly below 90% / 50%, i.e. absence > 10% / > 50%.
  bool pa_exclusive = false;
  bool sa_exclusive = false;
};

// Integer comparisons only: exactly 90.0% and 50.0% are the boundaries that
// matter. Never true when possible is 0 or below min_possible_sessions.
bool IsPersistentAbsence(const AttendanceCounts& counts, const AbsenceThresholds& thresholds);
bool IsSevereAbsence(const AttendanceCounts& counts, const AbsenceThresholds& thresholds);

// 100 * attended / possible (0 when possible is 0); for display only.
double AttendancePercent(const AttendanceCounts& counts);
double AbsencePercent(const AttendanceCounts& counts);

// Fills `out` with the counts, the per-code counts that are non-zero (in code
// table order), the percentages and, if `thresholds` is given, the flags.
void FiguresToProto(const AttendanceCounts& counts, const AbsenceThresholds* thresholds,
                    v1::AttendanceFigures* out);

}  // namespace attendance::projections
