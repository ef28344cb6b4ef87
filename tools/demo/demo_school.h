#pragma once

#include <cstdint>
#include <limits>
#include <string>

#include "absl/status/status.h"
#include "attendance/v1/events.pb.h"
#include "ledger/ledger.h"
#include "ledger/types.h"

namespace attendance::demo {

// What LoadDemo builds. Everything is derived from these fields only, so two
// loads with the same options issue exactly the same commands.
struct DemoOptions {
  std::string school_id = "demo-school";
  // Pupils on roll at the start of the year (two mid-term joiners come on top).
  int pupils = 120;
  std::uint64_t seed = 2025;
  // The year the academic year starts in: 2025 for 2025-26.
  int academic_year = 2025;
  // Marks, amendments, letters and roll changes are loaded for school days up
  // to and including `today`, and at most to the end of the autumn term.
  // Default: no limit (the whole autumn term).
  ledger::Day today = std::numeric_limits<ledger::Day>::max();
};

// Loads a demo school into `ledger` through the ledger's own commands, so it
// is validated exactly like a client's data: SetSchoolSettings,
// SetSchoolCalendar (an English calendar with six half-terms, INSET days, a
// bank holiday, a Reception staggered start and an early finish),
// SetEscalationPolicy (seed 000's ladder, demo_policy.h), EnrolPupil
// for pupils in Reception to Year 6 (two of them mid-term joiners), then per
// school day RecordMarks for the AM and PM registers, AmendMark for N codes
// resolved a few school days later, RecordLetter for pupils whose attendance
// falls, and RemoveFromRoll for one leaver.
//
// Every command carries a deterministic request id ("demo-<school>-..."), so
// loading again with the same options is a no-op (every command is answered
// as a replay), and loading again with a later `today` only adds the days
// since. Not thread-safe against another LoadDemo for the same school.
//
// Errors: the first command the ledger rejects, with its status code and a
// message prefixed by the command's request id; INVALID_ARGUMENT for bad
// options (pupils < 1 or > 5000, empty school id).
absl::Status LoadDemo(ledger::Ledger& ledger, const DemoOptions& options);

// The calendar LoadDemo sets for `academic_year` (exposed for tests and
// tools): Autumn 1/2, Spring 1/2, Summer 1/2 with the usual English breaks,
// INSET closures, the early May bank holiday and 190 school days.
v1::SchoolCalendarSet DemoCalendar(int academic_year);

}  // namespace attendance::demo
