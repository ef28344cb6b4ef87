#pragma once

// Synthetic school history: a school of any size over any number of academic
// years, deterministic from a seed, whose figures look like England's (see
// README.md beside this file). Pure generation: no I/O and no ledger; the
// history comes out as dated steps, each a ledger command with the time the
// school's system recorded it and who did it. load_history.h writes the
// steps to a ledger.
#include <cstdint>
#include <functional>
#include <limits>
#include <string>
#include <variant>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attendance/v1/ledger_service.pb.h"
#include "ledger/types.h"

namespace attendance::history {

struct HistoryOptions {
  std::string school_id = "demo-school";
  // Pupils on roll at the start of the first year. Up to 840 a primary
  // (Reception to Year 6), above that a secondary (Years 7 to 11).
  int pupils = 120;
  // The academic year the history starts in (2025 for 2025-26), and how
  // many years it covers.
  int first_academic_year = 2025;
  int years = 1;
  std::uint64_t seed = 2025;
  // Steps dated after this school day are not produced (their plan is kept,
  // so a later `until` adds exactly the days since). Default: no limit.
  ledger::Day until = std::numeric_limits<ledger::Day>::max();
};

// One thing that happened, as the school's system recorded it.
struct Step {
  using Request =
      std::variant<v1::SetSchoolSettingsRequest, v1::SetSchoolCalendarRequest,
                   v1::SetEscalationPolicyRequest, v1::EnrolPupilRequest, v1::UpdatePupilRequest,
                   v1::RemoveFromRollRequest, v1::ImportHistoryRequest, v1::RecordLetterRequest,
                   v1::RecordActionRequest>;
  // When it was recorded (microseconds since the epoch, UTC): a register's
  // time of taking, an amendment's time of amending. Steps come out in
  // non-decreasing order of at_us.
  std::int64_t at_us = 0;
  // Who recorded it: a class teacher (registers), the attendance officer
  // (amendments, letters, actions), the admin (settings, roll).
  ledger::Principal actor;
  // A complete request with school_id and a deterministic request_id.
  Request request;
};

// Calls `emit` for each step in order. INVALID_ARGUMENT for bad options
// (empty school id, pupils outside 1..20000, years outside 1..10, a first
// year outside 2000..2100).
absl::Status GenerateHistory(const HistoryOptions& options,
                             const std::function<void(const Step&)>& emit);

// A digest of every step (time, actor and the request's deterministic
// serialization): equal digests mean the same history.
absl::StatusOr<std::uint64_t> HistoryDigest(const HistoryOptions& options);

// The calendar the history sets for `academic_year` (2025 for 2025-26):
// Autumn 1/2, Spring 1/2, Summer 1/2 with the usual English breaks (Easter
// computed), 190 school days, INSET closures, the early May bank holiday, a
// Reception staggered start and an early finish before Christmas.
v1::SchoolCalendarSet HistoryCalendar(int academic_year);

// The school-local instant (England) of `minute_of_day` on `day`.
std::int64_t LocalInstantUs(ledger::Day day, int minute_of_day);

}  // namespace attendance::history
