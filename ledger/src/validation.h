#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/status/statusor.h"
#include "attendance/v1/events.pb.h"
#include "attendance/v1/ledger_service.pb.h"
#include "hot_state.h"

namespace attendance::ledger {

inline constexpr int kMaxMarksPerBatch = 10000;
inline constexpr std::uint32_t kMaxMinutesLate = 300;
inline constexpr std::size_t kMaxIdLength = 64;
inline constexpr std::size_t kMaxTextLength = 2000;

// The current code of a session (empty if none), whether hot or cold.
using MarkLookup =
    std::function<absl::StatusOr<std::string>(const PupilState&, Day, v1::Session)>;

// Each check returns OK or an error whose message names the field and value.
absl::Status CheckActor(const Principal& actor);
absl::Status CheckId(absl::string_view value, absl::string_view field);
absl::Status CheckText(absl::string_view value, absl::string_view field, bool required,
                       std::size_t max_length = kMaxTextLength);
absl::StatusOr<Day> CheckDate(absl::string_view value, absl::string_view field);
absl::Status CheckSession(v1::Session session, absl::string_view field);

// A known school, or NOT_FOUND.
absl::StatusOr<SchoolState*> CheckSchool(HotState& state, absl::string_view school_id);
// A pupil known to the school, or NOT_FOUND.
absl::StatusOr<PupilState*> CheckPupil(HotState& state, SchoolState& school,
                                       absl::string_view pupil_id, absl::string_view field);

// The code is known and valid for a session on `day`, on a school day of
// the school's calendar, respecting closures for the pupil's year group.
absl::Status CheckCodeOnDay(const SchoolState& school, const PupilState& pupil, Day day,
                            v1::Session session, absl::string_view code, std::uint32_t minutes_late,
                            absl::string_view prefix);

absl::Status CheckSettings(const v1::SchoolSettings& settings, absl::string_view field);
absl::Status CheckPupilDetails(const v1::Pupil& pupil, absl::string_view field);

}  // namespace attendance::ledger
