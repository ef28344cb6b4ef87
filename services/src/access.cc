#include "services/access.h"

#include <array>
#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "ledger/types.h"

namespace attendance::services {
namespace {

struct RoleEntry {
  Role role;
  absl::string_view name;
  std::initializer_list<Action> actions;
};

// The one table of who may do what. Creating a school is not here: it is
// an admin-only check the ledger makes, since only it knows whether the
// school in a SetSchoolSettings request exists yet.
constexpr std::array<RoleEntry, 5> kRoleTable = {{
    {Role::kRegister, "register", {Action::kRecordMarks}},
    {Role::kAttendanceOfficer,
     "attendance_officer",
     {Action::kRecordMarks, Action::kAmendMark, Action::kRecordLetter, Action::kManagePupils,
      Action::kSetCalendar, Action::kSetSettings, Action::kReadEvents, Action::kReadProjections,
      Action::kSetEscalationPolicy, Action::kReadAudit, Action::kRecordAction,
      Action::kRequestLeave, Action::kDecideLeave, Action::kImportHistory}},
    {Role::kAuditor,
     "auditor",
     {Action::kReadEvents, Action::kReadProjections, Action::kReadAudit, Action::kVerifyLedger}},
    {Role::kReporter, "reporter", {Action::kReadEvents, Action::kReadProjections}},
    {Role::kAdmin,
     "admin",
     {Action::kRecordMarks, Action::kAmendMark, Action::kRecordLetter, Action::kManagePupils,
      Action::kSetCalendar, Action::kSetSettings, Action::kReadEvents, Action::kReadProjections,
      Action::kSetEscalationPolicy, Action::kReadAudit, Action::kVerifyLedger,
      Action::kRecordAction, Action::kRequestLeave, Action::kDecideLeave,
      Action::kErasePersonalData, Action::kImportHistory}},
}};

absl::string_view ActionName(Action action) {
  switch (action) {
    case Action::kRecordMarks:
      return "record marks";
    case Action::kAmendMark:
      return "amend marks";
    case Action::kRecordLetter:
      return "record letters";
    case Action::kManagePupils:
      return "enrol, update or remove pupils";
    case Action::kSetCalendar:
      return "set calendars";
    case Action::kSetSettings:
      return "set school settings";
    case Action::kReadEvents:
      return "read events";
    case Action::kReadProjections:
      return "read attendance figures";
    case Action::kSetEscalationPolicy:
      return "set escalation policies";
    case Action::kReadAudit:
      return "read the audit trail";
    case Action::kVerifyLedger:
      return "verify the ledger";
    case Action::kRecordAction:
      return "record actions";
    case Action::kRequestLeave:
      return "record leave requests";
    case Action::kDecideLeave:
      return "decide leave requests";
    case Action::kErasePersonalData:
      return "erase personal data";
    case Action::kImportHistory:
      return "import register history";
  }
  return "?";
}

const RoleEntry& EntryOf(Role role) {
  for (const RoleEntry& entry : kRoleTable) {
    if (entry.role == role) return entry;
  }
  return kRoleTable.back();  // unreachable: every Role has an entry
}

}  // namespace

absl::string_view RoleName(Role role) { return EntryOf(role).name; }

absl::StatusOr<Role> ParseRole(absl::string_view name) {
  for (const RoleEntry& entry : kRoleTable) {
    if (entry.name == name) return entry.role;
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "role \"", name, "\" is not one of register, attendance_officer, auditor, reporter, admin"));
}

absl::Status Authorize(const Caller& caller, Action action, absl::string_view school_id) {
  const RoleEntry& entry = EntryOf(caller.role);
  bool allowed = false;
  for (Action a : entry.actions) allowed = allowed || a == action;
  if (!allowed) {
    return absl::PermissionDeniedError(
        absl::StrCat(caller.name, " (role ", entry.name, ") may not ", ActionName(action)));
  }
  if (caller.all_schools) return absl::OkStatus();
  if (school_id.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(caller.name, " (role ", entry.name, ") may ",
                                                    ActionName(action),
                                                    " only for its own schools: give school_id"));
  }
  if (!caller.schools.contains(school_id)) {
    return absl::PermissionDeniedError(absl::StrCat(
        caller.name, " (role ", entry.name, ") may not ", ActionName(action), " for school ",
        ledger::Quoted(std::string_view(school_id.data(), school_id.size()))));
  }
  return absl::OkStatus();
}

bool SeesPersonalData(const Caller& caller) {
  return caller.role != Role::kReporter || caller.personal_data;
}

void RedactPupil(v1::Pupil& pupil) {
  v1::Pupil kept;
  kept.set_pupil_id(pupil.pupil_id());
  kept.set_year_group(pupil.year_group());
  kept.set_class_name(pupil.class_name());
  pupil = std::move(kept);
}

void RedactEvent(v1::EventEnvelope& event) {
  if (event.has_pupil_enrolled()) RedactPupil(*event.mutable_pupil_enrolled()->mutable_pupil());
  if (event.has_pupil_updated()) RedactPupil(*event.mutable_pupil_updated()->mutable_pupil());
  // A penalty notice names the parent or carer: personal data too.
  if (event.has_action_recorded()) event.mutable_action_recorded()->clear_parent_name();
}

}  // namespace attendance::services
