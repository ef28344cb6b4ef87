#pragma once

#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attendance/v1/ledger_service.pb.h"
#include "group.h"
#include "hot_state.h"

namespace attendance::ledger {

// What a command sees while the writer thread prepares it.
struct CommandEnv {
  HotState& state;
  Group& group;
  const Principal& actor;
  const std::string& request_id;
  // The session's current code ("" if unmarked), hot or cold.
  std::function<absl::StatusOr<std::string>(const std::string& school_id,
                                            const std::string& pupil_id, const PupilState& pupil,
                                            Day day, v1::Session session)>
      current_code;
};

// The actor was checked when the command was submitted (CheckActor).
// Each Prepare* validates the whole request first and appends its events to
// the group only if every check passed, so a rejected command writes nothing.
absl::Status PrepareRecordMarks(CommandEnv& env, const v1::RecordMarksRequest& request,
                                v1::RecordMarksResponse& response);
absl::Status PrepareAmendMark(CommandEnv& env, const v1::AmendMarkRequest& request,
                              v1::AmendMarkResponse& response);
absl::Status PrepareRecordLetter(CommandEnv& env, const v1::RecordLetterRequest& request,
                                 v1::WriteResponse& response);
absl::Status PrepareEnrolPupil(CommandEnv& env, const v1::EnrolPupilRequest& request,
                               v1::WriteResponse& response);
absl::Status PrepareUpdatePupil(CommandEnv& env, const v1::UpdatePupilRequest& request,
                                v1::WriteResponse& response);
absl::Status PrepareRemoveFromRoll(CommandEnv& env, const v1::RemoveFromRollRequest& request,
                                   v1::WriteResponse& response);
absl::Status PrepareSetSchoolCalendar(CommandEnv& env, const v1::SetSchoolCalendarRequest& request,
                                      v1::WriteResponse& response);
absl::Status PrepareSetSchoolSettings(CommandEnv& env, const v1::SetSchoolSettingsRequest& request,
                                      v1::WriteResponse& response);
absl::Status PrepareSetEscalationPolicy(CommandEnv& env,
                                        const v1::SetEscalationPolicyRequest& request,
                                        v1::WriteResponse& response);
absl::Status PrepareRecordAction(CommandEnv& env, const v1::RecordActionRequest& request,
                                 v1::WriteResponse& response);
// leave_commands.cc
absl::Status PrepareRequestLeave(CommandEnv& env, const v1::RequestLeaveRequest& request,
                                 v1::WriteResponse& response);
absl::Status PrepareDecideLeave(CommandEnv& env, const v1::DecideLeaveRequest& request,
                                v1::DecideLeaveResponse& response);
// Retention (ADR 0003): a PersonalDataErased and the pupil's key deleted.
absl::Status PrepareErasePersonalData(CommandEnv& env, const v1::ErasePersonalDataRequest& request,
                                      v1::WriteResponse& response);
// In import_history.cc.
absl::Status PrepareImportHistory(CommandEnv& env, const v1::ImportHistoryRequest& request,
                                  v1::ImportHistoryResponse& response);

}  // namespace attendance::ledger
