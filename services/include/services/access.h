#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "attendance/v1/events.pb.h"

namespace attendance::services {

// What a caller may do. Each role is a fixed set of actions (see kRoleTable in
// access.cc and the README's "Who may do what" table); schools narrow it.
enum class Role {
  kRegister,           // record marks for its schools: today's open registers only
  kAttendanceOfficer,  // amend, letters, enrol, calendars, settings of its schools
  kAuditor,            // read events and projections of its schools; no writes
  kReporter,           // read projections and feeds; pupil ids only unless granted
  kAdmin,              // everything, every school; the only role that creates schools
};

// The calls a role is checked against; several RPCs share one action.
enum class Action {
  kRecordMarks,
  kAmendMark,
  kRecordLetter,
  kManagePupils,  // EnrolPupil, UpdatePupil, RemoveFromRoll
  kSetCalendar,
  kSetSettings,  // of an existing school; creating one is the ledger's check
  kReadEvents,
  kReadProjections,
  kSetEscalationPolicy,
  kReadAudit,          // the Audit service's histories, amendments and registers
  kVerifyLedger,       // VerifyLedger, GetLedgerHead: positions and hashes, no school's data
  kRecordAction,       // RecordAction: meetings, visits, referrals, penalty notices
  kRequestLeave,       // RequestLeave: a parent's request for leave of absence
  kDecideLeave,        // DecideLeave: the headteacher's decision (approved leave marks C)
  kErasePersonalData,  // ErasePersonalData (retention, ADR 0003): admin only
  // ImportHistory: another system's register, with its times and people.
  kImportHistory,
};

// An authenticated caller: who, in which role, for which schools.
struct Caller {
  std::string name;
  Role role = Role::kReporter;
  bool all_schools = false;
  absl::flat_hash_set<std::string> schools;
  // A reporter sees names, dates of birth and flags only with this grant.
  bool personal_data = false;
};

absl::string_view RoleName(Role role);
absl::StatusOr<Role> ParseRole(absl::string_view name);

// OK, or PERMISSION_DENIED naming the caller, its role, the action and the
// school. `school_id` empty means "every school" (e.g. ReadEvents without a
// school filter), which only callers of every school may ask for.
absl::Status Authorize(const Caller& caller, Action action, absl::string_view school_id);

// Whether replies to this caller may carry pupils' personal details (names,
// date of birth, SEND, CIN/CP/looked-after and other cohort flags).
bool SeesPersonalData(const Caller& caller);

// Leaves only the pupil id (and year group and class, which reports group by).
void RedactPupil(v1::Pupil& pupil);
// Redacts the pupil details an event carries (enrolments and updates).
void RedactEvent(v1::EventEnvelope& event);

}  // namespace attendance::services
