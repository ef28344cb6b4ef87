#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "attendance/v1/events.pb.h"
#include "attendance/v1/ledger_service.pb.h"
#include "hot_state.h"
#include "ledger/clock.h"
#include "ledger/text_checks.h"

namespace attendance::ledger {

// Limits on what a client may send (README, "Limits"); the limits on ids,
// text and names are in ledger/text_checks.h.
inline constexpr int kMaxMarksPerBatch = 10000;
// ImportHistory: amendments per imported mark, and marks and amendments
// together per request.
inline constexpr int kMaxImportedAmendmentsPerMark = 16;
inline constexpr std::size_t kMaxImportedEvents = 20000;
inline constexpr std::uint32_t kMaxMinutesLate = 300;
inline constexpr std::size_t kMaxActorLength = 200;
// A pupil's parents and carers (Pupil.carers).
inline constexpr int kMaxCarers = 8;
// A leave request's range, in calendar days.
inline constexpr int kMaxLeaveDays = 366;

// When a session begins, for the rule that a register records what has
// happened (SchoolSettings.am_register_opens / pm_register_opens).
inline constexpr char kDefaultAmRegisterOpens[] = "08:00";
inline constexpr char kDefaultPmRegisterOpens[] = "12:00";
// How far ahead planned codes may be entered
// (SchoolSettings.planned_codes_horizon_days).
inline constexpr std::uint32_t kDefaultPlannedCodesHorizonDays = 28;
inline constexpr std::uint32_t kMaxPlannedCodesHorizonDays = 366;

// The current code of a session (empty if none), whether hot or cold.
using MarkLookup = std::function<absl::StatusOr<std::string>(const PupilState&, Day, v1::Session)>;

// Each check returns OK or an error whose message names the field and value.
absl::Status CheckActor(const Principal& actor);
absl::Status CheckSession(v1::Session session, absl::string_view field);

// A known school, or NOT_FOUND.
absl::StatusOr<SchoolState*> CheckSchool(HotState& state, absl::string_view school_id);
// FAILED_PRECONDITION if the pupil's personal data was erased (ADR 0003):
// its stream is closed.
absl::Status CheckNotErased(const PupilState& pupil, absl::string_view pupil_id,
                            absl::string_view field);
// A pupil known to the school whose data was not erased, or NOT_FOUND /
// FAILED_PRECONDITION.
absl::StatusOr<PupilState*> CheckPupil(HotState& state, SchoolState& school,
                                       absl::string_view pupil_id, absl::string_view field);

// "AM" or "PM", as messages name a session.
const char* SessionName(v1::Session session);

// Where a batch's mark goes: a pupil known to the school, a valid date and
// session, and a code valid for that session (CheckPupil, CheckDate,
// CheckSession, CheckCodeOnDay), each field named under `prefix`
// ("marks[3].").
struct MarkTarget {
  PupilState* pupil;
  Day day;
};
absl::StatusOr<MarkTarget> CheckMarkTarget(HotState& state, SchoolState& school,
                                           absl::string_view pupil_id, absl::string_view date,
                                           v1::Session session, absl::string_view code,
                                           std::uint32_t minutes_late, const std::string& prefix);

// A batch holds at most one mark per (pupil, day, session): INVALID_ARGUMENT
// "marks[i]: repeats marks[j] ..." otherwise. `seen` maps each session of
// the batch so far to its index.
absl::Status CheckNotRepeated(absl::flat_hash_map<std::uint64_t, int>& seen, int index,
                              const MarkTarget& target, v1::Session session,
                              absl::string_view pupil_id, absl::string_view date);

// The code is known and valid for a session on `day`, on a school day of
// the school's calendar, respecting closures for the pupil's year group.
absl::Status CheckCodeOnDay(const SchoolState& school, const PupilState& pupil, Day day,
                            v1::Session session, absl::string_view code, std::uint32_t minutes_late,
                            absl::string_view prefix);

// Codes that may be entered for a session that has not begun: approved
// leave (C C1 C2 J1 S), other absences known ahead (M appointment, R
// religious observance, E suspension), planned educational activities
// (K V P W B), attendance not required (D dual registration, X non-compulsory
// age) and the planned closure (#).
bool IsPlannedCode(absl::string_view code);

// A register records what happened: for a session that has not begun (a
// later school-local date, or today before the session's register opens)
// only a planned code, and only up to the school's horizon. `now` is the
// school-local time of the command. FAILED_PRECONDITION naming the date, the
// session and the rule.
// The minute of the school-local day a session's register opens (the
// school's setting, or the default).
int RegisterOpens(const v1::SchoolSettings& settings, v1::Session session);

absl::Status CheckSessionHasBegun(const v1::SchoolSettings& settings, Day day, v1::Session session,
                                  absl::string_view code, const LocalTime& now,
                                  absl::string_view date_field);

absl::Status CheckSettings(const v1::SchoolSettings& settings, absl::string_view field);
// Includes the carers (CheckCarers).
absl::Status CheckPupilDetails(const v1::Pupil& pupil, absl::string_view field);
// At most kMaxCarers, each with an id (unique among them) and a name.
absl::Status CheckCarers(const v1::Pupil& pupil, absl::string_view field);

}  // namespace attendance::ledger
