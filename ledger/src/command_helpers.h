#pragma once

// What the commands' Prepare* functions share (commands.cc defines them;
// commands_actions.cc uses them too).
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "attendance/v1/ledger_service.pb.h"
#include "commands.h"

namespace attendance::ledger {

// A new event on a pupil's stream (or the school's, when pupil is null).
v1::EventEnvelope NewEvent(const std::string& school_id, const std::string& pupil_id,
                           StreamVersion current_version);

// The school and pupil a pupil-stream command addresses: NOT_FOUND for an
// unknown school or pupil.
struct PupilTarget {
  SchoolState* school;
  PupilState* pupil;
};
absl::StatusOr<PupilTarget> ResolvePupil(CommandEnv& env, const std::string& school_id,
                                         const std::string& pupil_id, absl::string_view field);

// Roll and letter dates may be planned ahead, but not years ahead: a leaving
// date in 9999 would keep a pupil from ever being enrolled again.
absl::StatusOr<Day> CheckRecordDate(const CommandEnv& env, const std::string& value,
                                    absl::string_view field);

// Appends the command's one event and answers with where it went.
absl::Status AppendAndAnswer(CommandEnv& env, v1::EventEnvelope& event,
                             v1::WriteResponse& response);

}  // namespace attendance::ledger
