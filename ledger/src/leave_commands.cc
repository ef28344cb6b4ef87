// RequestLeave and DecideLeave: leave of absence in term time (seed 001
// section 8). Approved leave pre-records its sessions as C marks, each
// checked as RecordMarks checks a mark, in the same batch as the decision.
#include "absl/strings/str_cat.h"
#include "commands.h"
#include "ledger/calendar.h"
#include "ledger/clock.h"
#include "ledger/status_macros.h"
#include "validation.h"

namespace attendance::ledger {
namespace {

// Leave granted by the school in exceptional circumstances (domain.md §1).
constexpr char kLeaveCode[] = "C";

struct SessionRef {
  Day day;
  v1::Session session;
};

// The sessions of [first first_session, last last_session] on which the
// school meets for the pupil's year group (weekends, holidays and closures
// left out).
std::vector<SessionRef> SchoolSessions(const SchoolState& school, const PupilState& pupil,
                                       const PupilState::Leave& leave) {
  std::vector<SessionRef> sessions;
  for (Day day = leave.first; day <= leave.last; ++day) {
    if (!school.calendar.IsSchoolDay(day)) continue;
    for (v1::Session session : {v1::AM, v1::PM}) {
      if (day == leave.first && session < leave.first_session) continue;
      if (day == leave.last && session > leave.last_session) continue;
      if (school.calendar.IsClosed(day, session, pupil.year_group)) continue;
      sessions.push_back({day, session});
    }
  }
  return sessions;
}

absl::StatusOr<PupilState::Leave> CheckLeaveRange(const CommandEnv& env, const SchoolState& school,
                                                  const v1::RequestLeaveRequest& request) {
  auto first = CheckDate(request.first_date(), "first_date");
  if (!first.ok()) return first.status();
  auto last = CheckDate(request.last_date(), "last_date");
  if (!last.ok()) return last.status();
  RETURN_IF_ERROR(CheckSession(request.first_session(), "first_session"));
  RETURN_IF_ERROR(CheckSession(request.last_session(), "last_session"));
  if (*last < *first || (*last == *first && request.last_session() < request.first_session())) {
    return absl::InvalidArgumentError(absl::StrCat(
        "last_date: ", request.last_date(), " ", SessionName(request.last_session()),
        " is before first_date ", request.first_date(), " ", SessionName(request.first_session())));
  }
  if (*last - *first >= kMaxLeaveDays) {
    return absl::InvalidArgumentError(absl::StrCat(
        "last_date: ", request.last_date(), " is ", *last - *first + 1, " days after first_date",
        " (a request covers at most ", kMaxLeaveDays, " days)"));
  }
  const Day today = SchoolLocalDay(env.group.now_us());
  if (*first < today) {
    return absl::InvalidArgumentError(
        absl::StrCat("first_date: ", request.first_date(), " is before today, ", FormatDate(today),
                     " (leave is requested ahead and never granted retrospectively)"));
  }
  for (Day day : {*first, *last}) {
    if (!school.calendar.HasYear(AcademicYearOf(day))) {
      return absl::FailedPreconditionError(absl::StrCat(
          day == *first ? "first_date: " : "last_date: ", FormatDate(day),
          ": the school has no calendar for that academic year ", "(SetSchoolCalendar)"));
    }
  }
  return PupilState::Leave{*first, request.first_session(), *last, request.last_session(), false};
}

}  // namespace

absl::Status PrepareRequestLeave(CommandEnv& env, const v1::RequestLeaveRequest& request,
                                 v1::WriteResponse& response) {
  auto school = CheckSchool(env.state, request.school_id());
  if (!school.ok()) return school.status();
  auto pupil = CheckPupil(env.state, **school, request.pupil_id(), "pupil_id");
  if (!pupil.ok()) return pupil.status();
  RETURN_IF_ERROR(CheckId(request.leave_id(), "leave_id"));
  auto leave = CheckLeaveRange(env, **school, request);
  if (!leave.ok()) return leave.status();
  RETURN_IF_ERROR(CheckText(request.reason(), "reason", true));
  RETURN_IF_ERROR(CheckId(request.requested_by(), "requested_by"));
  if (!(*pupil)->OnRollNow()) {
    return absl::FailedPreconditionError(
        absl::StrCat("pupil_id: \"", request.pupil_id(), "\" is not on the roll"));
  }
  if (SchoolSessions(**school, **pupil, *leave).empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("first_date: ", request.first_date(), "..", request.last_date(),
                     " holds no school session for the pupil (weekends, holidays, closures)"));
  }
  bool carer = false;
  for (const std::string& id : (*pupil)->carer_ids) carer = carer || id == request.requested_by();
  if (!carer) {
    return absl::FailedPreconditionError(absl::StrCat(
        "requested_by: ", Quoted(request.requested_by()), " is not one of pupil \"",
        request.pupil_id(), "\"'s parents or carers (EnrolPupil or UpdatePupil ", "records them)"));
  }
  if ((*pupil)->leaves.contains(request.leave_id())) {
    return absl::AlreadyExistsError(absl::StrCat("leave_id: pupil \"", request.pupil_id(),
                                                 "\" already has leave request ",
                                                 Quoted(request.leave_id())));
  }

  v1::EventEnvelope event;
  event.set_school_id(request.school_id());
  event.set_pupil_id(request.pupil_id());
  event.set_stream_version((*pupil)->version + 1);
  v1::LeaveRequested* requested = event.mutable_leave_requested();
  requested->set_pupil_id(request.pupil_id());
  requested->set_leave_id(request.leave_id());
  requested->set_first_date(request.first_date());
  requested->set_first_session(request.first_session());
  requested->set_last_date(request.last_date());
  requested->set_last_session(request.last_session());
  requested->set_reason(request.reason());
  requested->set_requested_by(request.requested_by());
  requested->set_requested_on(FormatDate(SchoolLocalDay(env.group.now_us())));
  requested->mutable_recorded_by()->set_name(env.actor.name);
  requested->mutable_recorded_by()->set_role(env.actor.role);
  response.set_position(env.group.Append(event, env.actor, env.request_id));
  response.set_stream_version(event.stream_version());
  return absl::OkStatus();
}

absl::Status PrepareDecideLeave(CommandEnv& env, const v1::DecideLeaveRequest& request,
                                v1::DecideLeaveResponse& response) {
  auto school = CheckSchool(env.state, request.school_id());
  if (!school.ok()) return school.status();
  auto pupil = CheckPupil(env.state, **school, request.pupil_id(), "pupil_id");
  if (!pupil.ok()) return pupil.status();
  RETURN_IF_ERROR(CheckId(request.leave_id(), "leave_id"));
  RETURN_IF_ERROR(CheckText(request.reason(), "reason", true));
  auto found = (*pupil)->leaves.find(request.leave_id());
  if (found == (*pupil)->leaves.end()) {
    return absl::NotFoundError(absl::StrCat("leave_id: pupil \"", request.pupil_id(),
                                            "\" has no leave request ",
                                            Quoted(request.leave_id())));
  }
  if (found->second.decided) {
    return absl::FailedPreconditionError(absl::StrCat(
        "leave_id: leave request ", Quoted(request.leave_id()), " is already decided"));
  }
  const PupilState::Leave leave = found->second;

  std::vector<SessionRef> sessions;
  if (request.approved()) {
    sessions = SchoolSessions(**school, **pupil, leave);
    const LocalTime now = SchoolLocalTime(env.group.now_us());
    for (std::size_t i = 0; i < sessions.size(); ++i) {
      const SessionRef& s = sessions[i];
      const std::string prefix =
          absl::StrCat("leave ", Quoted(request.leave_id()), " sessions[", i, "] (",
                       FormatDate(s.day), " ", SessionName(s.session), ").");
      RETURN_IF_ERROR(CheckCodeOnDay(**school, **pupil, s.day, s.session, kLeaveCode, 0, prefix));
      RETURN_IF_ERROR(CheckSessionHasBegun((*school)->settings, s.day, s.session, kLeaveCode, now,
                                           prefix + "date"));
      auto existing =
          env.current_code(request.school_id(), request.pupil_id(), **pupil, s.day, s.session);
      if (!existing.ok()) return existing.status();
      if (!existing->empty()) {
        return absl::AlreadyExistsError(absl::StrCat(
            "leave ", Quoted(request.leave_id()), " sessions[", i, "]: pupil \"",
            request.pupil_id(), "\" already has mark \"", *existing, "\" for ", FormatDate(s.day),
            " ", SessionName(s.session), "; amend or withdraw it before approving the leave"));
      }
    }
  }

  const std::string today = FormatDate(SchoolLocalDay(env.group.now_us()));
  v1::EventEnvelope event;
  event.set_school_id(request.school_id());
  event.set_pupil_id(request.pupil_id());
  event.set_stream_version((*pupil)->version + 1);
  v1::LeaveDecided* decided = event.mutable_leave_decided();
  decided->set_pupil_id(request.pupil_id());
  decided->set_leave_id(request.leave_id());
  decided->set_approved(request.approved());
  decided->set_reason(request.reason());
  decided->set_decided_on(today);
  decided->mutable_decided_by()->set_name(env.actor.name);
  decided->mutable_decided_by()->set_role(env.actor.role);
  decided->set_sessions_recorded(static_cast<std::uint32_t>(sessions.size()));
  response.set_position(env.group.Append(event, env.actor, env.request_id));
  response.set_stream_version(event.stream_version());
  response.set_last_position(response.position());

  for (const SessionRef& s : sessions) {
    v1::EventEnvelope mark;
    mark.set_school_id(request.school_id());
    mark.set_pupil_id(request.pupil_id());
    mark.set_stream_version((*pupil)->version + 1);
    v1::MarkRecorded* recorded = mark.mutable_mark_recorded();
    recorded->set_pupil_id(request.pupil_id());
    recorded->set_date(FormatDate(s.day));
    recorded->set_session(s.session);
    recorded->set_code(kLeaveCode);
    recorded->mutable_taken_by()->set_name(env.actor.name);
    recorded->mutable_taken_by()->set_role(env.actor.role);
    recorded->set_comment(absl::StrCat("leave ", request.leave_id(), " approved on ", today));
    response.set_last_position(env.group.Append(mark, env.actor, env.request_id));
  }
  response.set_sessions_recorded(static_cast<std::uint32_t>(sessions.size()));
  return absl::OkStatus();
}

}  // namespace attendance::ledger
