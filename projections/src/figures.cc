#include "projections/figures.h"

namespace attendance::projections {

AttendanceCounts AttendanceCounts::FromHistogram(
    const std::array<std::uint32_t, kNumCodes>& histogram) {
  AttendanceCounts c;
  for (int i = 1; i < kNumCodes; ++i) {
    const std::uint32_t n = histogram[i];
    if (n == 0) continue;
    c.per_code[i] = n;
    switch (CategoryOf(static_cast<CodeIndex>(i))) {
      case ledger::CodeCategory::kPresent:
      case ledger::CodeCategory::kEducationalActivity:
        c.attended += n;
        break;
      case ledger::CodeCategory::kAuthorisedAbsence:
        c.authorised += n;
        break;
      case ledger::CodeCategory::kUnauthorisedAbsence:
        c.unauthorised += n;
        break;
      case ledger::CodeCategory::kNotPossible:
        break;
    }
  }
  c.possible = c.attended + c.authorised + c.unauthorised;
  c.late_before_close = histogram[CodeIndexOf("L")];
  c.late_after_close = histogram[CodeIndexOf("U")];
  return c;
}

void AttendanceCounts::Add(const AttendanceCounts& o) {
  possible += o.possible;
  attended += o.attended;
  authorised += o.authorised;
  unauthorised += o.unauthorised;
  late_before_close += o.late_before_close;
  late_after_close += o.late_after_close;
  for (int i = 0; i < kNumCodes; ++i) per_code[i] += o.per_code[i];
}

namespace {

// absent/possible >= 1/divisor (inclusive) or > 1/divisor (exclusive).
bool AtLeastFraction(const AttendanceCounts& c, const AbsenceThresholds& t, std::uint64_t divisor,
                     bool exclusive) {
  if (c.possible == 0 || c.possible < t.min_possible_sessions) return false;
  const std::uint64_t lhs = divisor * c.absent();
  return exclusive ? lhs > c.possible : lhs >= c.possible;
}

}  // namespace

bool IsPersistentAbsence(const AttendanceCounts& c, const AbsenceThresholds& t) {
  return AtLeastFraction(c, t, 10, t.pa_exclusive);
}

bool IsSevereAbsence(const AttendanceCounts& c, const AbsenceThresholds& t) {
  return AtLeastFraction(c, t, 2, t.sa_exclusive);
}

double AttendancePercent(const AttendanceCounts& c) {
  return c.possible == 0 ? 0.0 : 100.0 * c.attended / c.possible;
}

double AbsencePercent(const AttendanceCounts& c) {
  return c.possible == 0 ? 0.0 : 100.0 * c.absent() / c.possible;
}

void FiguresToProto(const AttendanceCounts& c, const AbsenceThresholds* t,
                    v1::AttendanceFigures* out) {
  out->set_possible_sessions(c.possible);
  out->set_attended_sessions(c.attended);
  out->set_authorised_absence(c.authorised);
  out->set_unauthorised_absence(c.unauthorised);
  out->set_late_before_close(c.late_before_close);
  out->set_late_after_close(c.late_after_close);
  for (int i = 1; i < kNumCodes; ++i) {
    if (c.per_code[i] == 0) continue;
    v1::CodeCount* cc = out->add_code_counts();
    cc->set_code(std::string(CodeName(static_cast<CodeIndex>(i))));
    cc->set_sessions(c.per_code[i]);
  }
  out->set_attendance_percent(AttendancePercent(c));
  out->set_absence_percent(AbsencePercent(c));
  if (t != nullptr) {
    out->set_persistent_absence(IsPersistentAbsence(c, *t));
    out->set_severe_absence(IsSevereAbsence(c, *t));
  }
}

}  // namespace attendance::projections
