#include "commands.h"

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "command_helpers.h"
#include "ledger/clock.h"
#include "ledger/codes.h"
#include "ledger/escalation_policy.h"
#include "ledger/status_macros.h"
#include "validation.h"

namespace attendance::ledger {

// A new event on a pupil's stream (or the school's, when pupil is null).
v1::EventEnvelope NewEvent(const std::string& school_id, const std::string& pupil_id,
                           StreamVersion current_version) {
  v1::EventEnvelope event;
  event.set_school_id(school_id);
  event.set_pupil_id(pupil_id);
  event.set_stream_version(current_version + 1);
  return event;
}

absl::StatusOr<PupilTarget> ResolvePupil(CommandEnv& env, const std::string& school_id,
                                         const std::string& pupil_id, absl::string_view field) {
  auto school = CheckSchool(env.state, school_id);
  if (!school.ok()) return school.status();
  auto pupil = CheckPupil(env.state, **school, pupil_id, field);
  if (!pupil.ok()) return pupil.status();
  return PupilTarget{*school, *pupil};
}

// Roll and letter dates may be planned ahead, but not years ahead: a leaving
// date in 9999 would keep a pupil from ever being enrolled again.
absl::StatusOr<Day> CheckRecordDate(const CommandEnv& env, const std::string& value,
                                    absl::string_view field) {
  auto day = CheckDate(value, field);
  if (!day.ok()) return day;
  const Day today = SchoolLocalDay(env.group.now_us());
  if (*day > today + 366) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", value, " is more than a year from today"));
  }
  return day;
}

namespace {

// A register-taker's marks: today's registers that have not closed yet
// (school-local time in England). Later marks and corrections are the
// attendance office's, through its own role.
absl::Status CheckOpenRegister(const CommandEnv& env, const SchoolState& school,
                               const LocalTime& now, Day day, v1::Session session,
                               absl::string_view prefix) {
  const std::string& closes = session == v1::AM ? school.settings.am_register_closes()
                                                : school.settings.pm_register_closes();
  const std::optional<int> close_minute = ParseTimeOfDay(closes);
  const bool open = day == now.day &&
                    now.minute_of_day >= RegisterOpens(school.settings, session) &&
                    (!close_minute || now.minute_of_day <= *close_minute);
  if (!open) {
    return absl::PermissionDeniedError(absl::StrCat(
        prefix, "date: ", env.actor.name, " (role ", env.actor.role, ") records marks only for ",
        "today's open registers; the ", SessionName(session), " register of ", FormatDate(day),
        " is not open now (ask the attendance office to record it)"));
  }
  return absl::OkStatus();
}

}  // namespace

// Appends the command's one event and answers with where it went.
absl::Status AppendAndAnswer(CommandEnv& env, v1::EventEnvelope& event,
                             v1::WriteResponse& response) {
  response.set_position(env.group.Append(event, env.actor, env.request_id));
  response.set_stream_version(event.stream_version());
  return absl::OkStatus();
}

absl::Status PrepareRecordMarks(CommandEnv& env, const v1::RecordMarksRequest& request,
                                v1::RecordMarksResponse& response) {
  auto school = CheckSchool(env.state, request.school_id());
  if (!school.ok()) return school.status();
  if (request.marks().empty()) return absl::InvalidArgumentError("marks: the batch is empty");
  if (request.marks_size() > kMaxMarksPerBatch) {
    return absl::InvalidArgumentError(absl::StrCat("marks: ", request.marks_size(),
                                                   " marks is more than the limit of ",
                                                   kMaxMarksPerBatch, " per batch"));
  }

  struct Checked {
    PupilState* pupil;
    Day day;
  };
  // One instant for the whole batch: every mark is judged against the same
  // school-local time.
  const LocalTime now = SchoolLocalTime(env.group.now_us());
  std::vector<Checked> checked;
  checked.reserve(static_cast<std::size_t>(request.marks_size()));
  // (pupil index, day, session) -> index in the batch, for repeats.
  absl::flat_hash_map<std::uint64_t, int> seen;
  seen.reserve(static_cast<std::size_t>(request.marks_size()));
  for (int i = 0; i < request.marks_size(); ++i) {
    const v1::Mark& mark = request.marks(i);
    const std::string prefix = absl::StrCat("marks[", i, "].");
    auto target = CheckMarkTarget(env.state, **school, mark.pupil_id(), mark.date(), mark.session(),
                                  mark.code(), mark.minutes_late(), prefix);
    if (!target.ok()) return target.status();
    RETURN_IF_ERROR(CheckSessionHasBegun((*school)->settings, target->day, mark.session(),
                                         mark.code(), now, prefix + "date"));
    RETURN_IF_ERROR(CheckText(mark.comment(), prefix + "comment", false));
    if (env.actor.open_registers_only) {
      RETURN_IF_ERROR(CheckOpenRegister(env, **school, now, target->day, mark.session(), prefix));
    }
    RETURN_IF_ERROR(
        CheckNotRepeated(seen, i, *target, mark.session(), mark.pupil_id(), mark.date()));
    auto existing = env.current_code(request.school_id(), mark.pupil_id(), *target->pupil,
                                     target->day, mark.session());
    if (!existing.ok()) return existing.status();
    if (!existing->empty()) {
      return absl::AlreadyExistsError(absl::StrCat("marks[", i, "]: pupil \"", mark.pupil_id(),
                                                   "\" already has mark \"", *existing, "\" for ",
                                                   mark.date(), " ", SessionName(mark.session()),
                                                   "; use AmendMark to change it"));
    }
    checked.push_back({target->pupil, target->day});
  }

  for (int i = 0; i < request.marks_size(); ++i) {
    const v1::Mark& mark = request.marks(i);
    v1::EventEnvelope event = NewEvent(request.school_id(), mark.pupil_id(),
                                       checked[static_cast<std::size_t>(i)].pupil->version);
    v1::MarkRecorded* recorded = event.mutable_mark_recorded();
    recorded->set_pupil_id(mark.pupil_id());
    recorded->set_date(mark.date());
    recorded->set_session(mark.session());
    recorded->set_code(mark.code());
    recorded->set_minutes_late(mark.minutes_late());
    recorded->mutable_taken_by()->set_name(env.actor.name);
    recorded->mutable_taken_by()->set_role(env.actor.role);
    recorded->set_comment(mark.comment());
    const Position position = env.group.Append(event, env.actor, env.request_id);
    if (i == 0) response.set_first_position(position);
    response.set_last_position(position);
  }
  response.set_recorded(static_cast<std::uint32_t>(request.marks_size()));
  return absl::OkStatus();
}

absl::Status PrepareAmendMark(CommandEnv& env, const v1::AmendMarkRequest& request,
                              v1::AmendMarkResponse& response) {
  auto target = ResolvePupil(env, request.school_id(), request.pupil_id(), "pupil_id");
  if (!target.ok()) return target.status();
  SchoolState* const school = target->school;
  PupilState* const pupil = target->pupil;
  auto day = CheckDate(request.date(), "date");
  if (!day.ok()) return day.status();
  RETURN_IF_ERROR(CheckSession(request.session(), "session"));
  RETURN_IF_ERROR(CheckText(request.reason(), "reason", true));
  if (request.amended_code().empty()) {
    return absl::InvalidArgumentError("amended_code: must not be empty");
  }
  auto current =
      env.current_code(request.school_id(), request.pupil_id(), *pupil, *day, request.session());
  if (!current.ok()) return current.status();
  if (current->empty()) {
    return absl::NotFoundError(absl::StrCat("pupil \"", request.pupil_id(), "\" has no mark for ",
                                            request.date(), " ", SessionName(request.session()),
                                            " to amend; use RecordMarks"));
  }
  if (!request.expected_code().empty() && request.expected_code() != *current) {
    return absl::AbortedError(absl::StrCat("expected_code: ", Quoted(request.expected_code()),
                                           " but the mark is now ", Quoted(*current),
                                           "; re-read and retry"));
  }
  if (request.expected_stream_version() != 0 &&
      request.expected_stream_version() != pupil->version) {
    return absl::AbortedError(absl::StrCat(
        "expected_stream_version: ", request.expected_stream_version(),
        " but the pupil's stream is at version ", pupil->version, "; re-read and retry"));
  }
  if (request.amended_code() == *current) {
    return absl::InvalidArgumentError(absl::StrCat("amended_code: ", Quoted(request.amended_code()),
                                                   " is already the mark's code"));
  }
  RETURN_IF_ERROR(CheckCodeOnDay(*school, *pupil, *day, request.session(), request.amended_code(),
                                 request.minutes_late(), "amended_"));
  RETURN_IF_ERROR(CheckSessionHasBegun(school->settings, *day, request.session(),
                                       request.amended_code(), SchoolLocalTime(env.group.now_us()),
                                       "date"));

  v1::EventEnvelope event = NewEvent(request.school_id(), request.pupil_id(), pupil->version);
  v1::MarkAmended* amended = event.mutable_mark_amended();
  amended->set_pupil_id(request.pupil_id());
  amended->set_date(request.date());
  amended->set_session(request.session());
  amended->set_original_code(*current);
  amended->set_amended_code(request.amended_code());
  amended->set_reason(request.reason());
  amended->mutable_amended_by()->set_name(env.actor.name);
  amended->mutable_amended_by()->set_role(env.actor.role);
  amended->set_amended_at_us(env.group.now_us());
  amended->set_minutes_late(request.minutes_late());
  response.set_position(env.group.Append(event, env.actor, env.request_id));
  response.set_stream_version(event.stream_version());
  response.set_original_code(*current);
  return absl::OkStatus();
}

absl::Status PrepareRecordLetter(CommandEnv& env, const v1::RecordLetterRequest& request,
                                 v1::WriteResponse& response) {
  auto target = ResolvePupil(env, request.school_id(), request.pupil_id(), "pupil_id");
  if (!target.ok()) return target.status();
  PupilState* const pupil = target->pupil;
  RETURN_IF_ERROR(CheckId(request.letter_id(), "letter_id"));
  if (request.channel() == v1::LETTER_CHANNEL_UNSPECIFIED ||
      !v1::LetterChannel_IsValid(request.channel())) {
    return absl::InvalidArgumentError(absl::StrCat("channel: ", static_cast<int>(request.channel()),
                                                   " is not POST, EMAIL, APP or HAND"));
  }
  if (auto d = CheckRecordDate(env, request.sent_on(), "sent_on"); !d.ok()) return d.status();
  RETURN_IF_ERROR(CheckText(request.note(), "note", false));
  // A letter_id that names a step of the policy must name a letter step
  // (ids the policy does not have stay free: schools send other letters).
  if (auto step = target->school->policy_steps.find(request.letter_id());
      step != target->school->policy_steps.end() && !IsLetterKind(step->second)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "letter_id: ", Quoted(request.letter_id()), " is a ", v1::ActionKind_Name(step->second),
        " step of the school's escalation policy ", target->school->policy_name,
        ", not a LETTER step (record it with RecordAction, kind ", RecordedKindsFor(step->second),
        ")"));
  }

  v1::EventEnvelope event = NewEvent(request.school_id(), request.pupil_id(), pupil->version);
  v1::LetterSent* letter = event.mutable_letter_sent();
  letter->set_pupil_id(request.pupil_id());
  letter->set_letter_id(request.letter_id());
  letter->set_channel(request.channel());
  letter->set_sent_on(request.sent_on());
  letter->mutable_sent_by()->set_name(env.actor.name);
  letter->mutable_sent_by()->set_role(env.actor.role);
  letter->set_note(request.note());
  return AppendAndAnswer(env, event, response);
}

absl::Status PrepareEnrolPupil(CommandEnv& env, const v1::EnrolPupilRequest& request,
                               v1::WriteResponse& response) {
  auto school = CheckSchool(env.state, request.school_id());
  if (!school.ok()) return school.status();
  RETURN_IF_ERROR(CheckPupilDetails(request.pupil(), "pupil"));
  auto from = CheckRecordDate(env, request.on_roll_from(), "on_roll_from");
  if (!from.ok()) return from.status();
  PupilState* existing = env.state.FindPupil(**school, request.pupil().pupil_id());
  if (existing != nullptr) {
    RETURN_IF_ERROR(CheckNotErased(*existing, request.pupil().pupil_id(), "pupil.pupil_id"));
  }
  if (existing != nullptr && existing->OnRollNow()) {
    return absl::AlreadyExistsError(absl::StrCat("pupil.pupil_id: \"", request.pupil().pupil_id(),
                                                 "\" is already on the school's roll"));
  }
  if (existing != nullptr && !existing->roll.empty() && *from <= existing->roll.back().second) {
    return absl::InvalidArgumentError(absl::StrCat("on_roll_from: ", request.on_roll_from(),
                                                   " is not after the pupil's last day on roll, ",
                                                   FormatDate(existing->roll.back().second)));
  }
  v1::EventEnvelope event =
      NewEvent(request.school_id(), request.pupil().pupil_id(), existing ? existing->version : 0);
  *event.mutable_pupil_enrolled()->mutable_pupil() = request.pupil();
  event.mutable_pupil_enrolled()->set_on_roll_from(request.on_roll_from());
  return AppendAndAnswer(env, event, response);
}

absl::Status PrepareUpdatePupil(CommandEnv& env, const v1::UpdatePupilRequest& request,
                                v1::WriteResponse& response) {
  auto target =
      ResolvePupil(env, request.school_id(), request.pupil().pupil_id(), "pupil.pupil_id");
  if (!target.ok()) return target.status();
  PupilState* const pupil = target->pupil;
  RETURN_IF_ERROR(CheckPupilDetails(request.pupil(), "pupil"));
  if (auto d = CheckRecordDate(env, request.effective_from(), "effective_from"); !d.ok()) {
    return d.status();
  }
  v1::EventEnvelope event =
      NewEvent(request.school_id(), request.pupil().pupil_id(), pupil->version);
  *event.mutable_pupil_updated()->mutable_pupil() = request.pupil();
  event.mutable_pupil_updated()->set_effective_from(request.effective_from());
  return AppendAndAnswer(env, event, response);
}

absl::Status PrepareRemoveFromRoll(CommandEnv& env, const v1::RemoveFromRollRequest& request,
                                   v1::WriteResponse& response) {
  auto target = ResolvePupil(env, request.school_id(), request.pupil_id(), "pupil_id");
  if (!target.ok()) return target.status();
  PupilState* const pupil = target->pupil;
  auto last = CheckRecordDate(env, request.last_day_on_roll(), "last_day_on_roll");
  if (!last.ok()) return last.status();
  RETURN_IF_ERROR(CheckText(request.reason(), "reason", true));
  if (!pupil->OnRollNow()) {
    return absl::FailedPreconditionError(
        absl::StrCat("pupil_id: \"", request.pupil_id(), "\" is not on the roll"));
  }
  if (*last < pupil->roll.back().first) {
    return absl::InvalidArgumentError(absl::StrCat("last_day_on_roll: ", request.last_day_on_roll(),
                                                   " is before the pupil joined the roll on ",
                                                   FormatDate(pupil->roll.back().first)));
  }
  // A recorded mark is a fact of a day on roll: a last day before it would
  // leave that entry on the register of a pupil off roll, and unamendable.
  if (pupil->last_marked_day != PupilState::kNoMarks && *last < pupil->last_marked_day) {
    return absl::FailedPreconditionError(absl::StrCat(
        "last_day_on_roll: ", request.last_day_on_roll(),
        " is before the pupil's last recorded mark, on ", FormatDate(pupil->last_marked_day),
        " (a register's marks stay: give a last day on or after it, and amend marks that are "
        "wrong)"));
  }
  v1::EventEnvelope event = NewEvent(request.school_id(), request.pupil_id(), pupil->version);
  v1::PupilLeftRoll* left = event.mutable_pupil_left_roll();
  left->set_pupil_id(request.pupil_id());
  left->set_last_day_on_roll(request.last_day_on_roll());
  left->set_reason(request.reason());
  return AppendAndAnswer(env, event, response);
}

absl::Status PrepareSetSchoolCalendar(CommandEnv& env, const v1::SetSchoolCalendarRequest& request,
                                      v1::WriteResponse& response) {
  auto school = CheckSchool(env.state, request.school_id());
  if (!school.ok()) return school.status();
  RETURN_IF_ERROR(ValidateCalendar(request.calendar(), "calendar"));
  v1::EventEnvelope event = NewEvent(request.school_id(), "", (*school)->version);
  *event.mutable_school_calendar_set() = request.calendar();
  return AppendAndAnswer(env, event, response);
}

absl::Status PrepareSetSchoolSettings(CommandEnv& env, const v1::SetSchoolSettingsRequest& request,
                                      v1::WriteResponse& response) {
  RETURN_IF_ERROR(CheckId(request.school_id(), "school_id"));
  SchoolState* school = env.state.FindSchool(request.school_id());
  if (school == nullptr && !env.actor.may_create_schools) {
    return absl::PermissionDeniedError(
        absl::StrCat("school_id: ", Quoted(request.school_id()),
                     " is not a school yet, and only an admin may create one"));
  }
  RETURN_IF_ERROR(CheckSettings(request.settings(), "settings"));
  v1::EventEnvelope event = NewEvent(request.school_id(), "", school ? school->version : 0);
  *event.mutable_school_settings_set()->mutable_settings() = request.settings();
  return AppendAndAnswer(env, event, response);
}

absl::Status PrepareSetEscalationPolicy(CommandEnv& env,
                                        const v1::SetEscalationPolicyRequest& request,
                                        v1::WriteResponse& response) {
  auto school = CheckSchool(env.state, request.school_id());
  if (!school.ok()) return school.status();
  // The windows a policy may name are the school's own (its settings now).
  std::vector<std::uint32_t> weeks((*school)->settings.rolling_window_weeks().begin(),
                                   (*school)->settings.rolling_window_weeks().end());
  if (weeks.empty()) weeks = {4, 6, 10, 12};
  RETURN_IF_ERROR(ValidateEscalationPolicy(request.policy(), weeks, "policy"));
  v1::EventEnvelope event = NewEvent(request.school_id(), "", (*school)->version);
  *event.mutable_escalation_policy_set()->mutable_policy() = request.policy();
  return AppendAndAnswer(env, event, response);
}

}  // namespace attendance::ledger
