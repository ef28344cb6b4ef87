#include "commands.h"

#include <algorithm>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "ledger/clock.h"
#include "ledger/codes.h"
#include "ledger/escalation_policy.h"
#include "validation.h"

namespace attendance::ledger {
namespace {

#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    if (absl::Status _s = (expr); !_s.ok()) return _s; \
  } while (0)

// A new event on a pupil's stream (or the school's, when pupil is null).
v1::EventEnvelope NewEvent(const std::string& school_id, const std::string& pupil_id,
                           StreamVersion current_version) {
  v1::EventEnvelope event;
  event.set_school_id(school_id);
  event.set_pupil_id(pupil_id);
  event.set_stream_version(current_version + 1);
  return event;
}

// The school and pupil a pupil-stream command addresses: NOT_FOUND for an
// unknown school or pupil.
struct PupilTarget {
  SchoolState* school;
  PupilState* pupil;
};

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

// Appends the command's one event and answers with where it went.
absl::Status AppendAndAnswer(CommandEnv& env, v1::EventEnvelope& event,
                             v1::WriteResponse& response) {
  response.set_position(env.group.Append(event, env.actor, env.request_id));
  response.set_stream_version(event.stream_version());
  return absl::OkStatus();
}

}  // namespace

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

namespace {

bool IsPenaltyNotice(v1::RecordedActionKind kind) {
  return kind == v1::PENALTY_NOTICE_REQUESTED || kind == v1::PENALTY_NOTICE_ISSUED;
}

// The kind-specific fields: a referral names its agency, a meeting its
// target and review, a penalty notice its parent or carer; other kinds
// leave them empty.
// A parent or carer named by a request must be one of the pupil's own.
absl::Status CheckCarerOf(const PupilState& pupil, const std::string& pupil_id,
                          const std::string& carer_id, absl::string_view field) {
  for (const std::string& id : pupil.carer_ids) {
    if (id == carer_id) return absl::OkStatus();
  }
  std::string known;
  for (const std::string& id : pupil.carer_ids) {
    absl::StrAppend(&known, known.empty() ? "" : ", ", Quoted(id));
  }
  return absl::FailedPreconditionError(
      absl::StrCat(field, ": ", Quoted(carer_id), " is not one of pupil \"", pupil_id,
                   "\"'s parents or carers (", known.empty() ? "none recorded" : known,
                   "; EnrolPupil or UpdatePupil records them)"));
}

absl::Status CheckActionDetails(const CommandEnv& env, const PupilState& pupil,
                                const v1::RecordActionRequest& request, Day happened_on) {
  const v1::RecordedActionKind kind = request.kind();
  if (kind == v1::REFERRAL_MADE) {
    if (request.referred_to() == v1::REFERRAL_AGENCY_UNSPECIFIED ||
        !v1::ReferralAgency_IsValid(request.referred_to())) {
      return absl::InvalidArgumentError(
          absl::StrCat("referred_to: ", static_cast<int>(request.referred_to()),
                       " is not EDUCATION_WELFARE_OFFICER, EARLY_HELP or LOCAL_AUTHORITY"));
    }
  } else if (request.referred_to() != v1::REFERRAL_AGENCY_UNSPECIFIED) {
    return absl::InvalidArgumentError("referred_to: only a REFERRAL_MADE names an agency");
  }
  if (kind == v1::MEETING_HELD) {
    if (request.target_basis_points() > 10000) {
      return absl::InvalidArgumentError(absl::StrCat(
          "target_basis_points: ", request.target_basis_points(), " is more than 10000 (100%)"));
    }
    if (!request.review_on().empty()) {
      auto review = CheckRecordDate(env, request.review_on(), "review_on");
      if (!review.ok()) return review.status();
      if (*review <= happened_on) {
        return absl::InvalidArgumentError(absl::StrCat("review_on: ", request.review_on(),
                                                       " is not after happened_on, ",
                                                       request.happened_on()));
      }
    } else if (request.target_basis_points() != 0) {
      return absl::InvalidArgumentError(
          "review_on: a meeting that sets a target needs the date it is reviewed on");
    }
  } else if (request.target_basis_points() != 0 || !request.review_on().empty()) {
    return absl::InvalidArgumentError(
        "target_basis_points: only a MEETING_HELD sets a target and a review date");
  }
  if (IsPenaltyNotice(kind)) {
    const bool required = kind == v1::PENALTY_NOTICE_ISSUED;
    if (required || !request.parent_id().empty() || !request.parent_name().empty()) {
      RETURN_IF_ERROR(CheckId(request.parent_id(), "parent_id"));
      RETURN_IF_ERROR(CheckText(request.parent_name(), "parent_name", true, kMaxNameLength));
      RETURN_IF_ERROR(CheckCarerOf(pupil, request.pupil_id(), request.parent_id(), "parent_id"));
    }
  } else if (!request.parent_id().empty() || !request.parent_name().empty()) {
    return absl::InvalidArgumentError("parent_id: only a penalty notice names a parent or carer");
  }
  return absl::OkStatus();
}

// An action answering a trigger or review point by trigger_id must do what
// it put due (a call recorded against the home visit would silence the visit
// with the wrong fact behind it); a trigger with no action of its own only
// feeds ladder steps, so nothing answers it directly.
absl::Status CheckTriggerAnswer(const SchoolState& school, const v1::RecordActionRequest& request) {
  auto due = school.policy_trigger_actions.find(request.trigger_id());
  if (due == school.policy_trigger_actions.end()) return absl::OkStatus();
  const v1::ActionKind action = due->second.action;
  if (action == v1::ACTION_KIND_UNSPECIFIED) {
    return absl::InvalidArgumentError(absl::StrCat(
        "trigger_id: ", Quoted(request.trigger_id()), " is a trigger of the school's escalation ",
        "policy ", school.policy_name,
        " with no action of its own (it feeds ladder steps: answer the step with step_id)"));
  }
  if (RecordedKindDoes(action, request.kind())) return absl::OkStatus();
  const std::string answered_by = action == v1::REGISTER_NOT_TAKEN
                                      ? std::string("the session's mark, RecordMarks")
                                      : RecordedKindsFor(action);
  return absl::InvalidArgumentError(absl::StrCat(
      "kind: ", v1::RecordedActionKind_Name(request.kind()), " does not answer ",
      due->second.review_point ? "review point " : "trigger ", Quoted(request.trigger_id()), ", a ",
      v1::ActionKind_Name(action), " rule of the school's escalation policy ", school.policy_name,
      " (answered by ", answered_by, ")"));
}

// Once the school has a policy, an action answers one of its steps or
// triggers, not an id the policy does not have (a typo would otherwise leave
// the step due for ever). Before its first policy nothing is checked.
absl::Status CheckPolicyIds(const SchoolState& school, const v1::RecordActionRequest& request) {
  if (school.policy_name.empty()) return absl::OkStatus();
  if (!request.step_id().empty()) {
    auto step = school.policy_steps.find(request.step_id());
    if (step == school.policy_steps.end()) {
      return absl::InvalidArgumentError(absl::StrCat("step_id: ", Quoted(request.step_id()),
                                                     " is not a step of the school's escalation ",
                                                     "policy ", school.policy_name));
    }
    // A letter recorded as a meeting (or a call as a home visit) would do
    // the step with the wrong fact behind it.
    if (!RecordedKindDoes(step->second, request.kind())) {
      return absl::InvalidArgumentError(
          absl::StrCat("kind: ", v1::RecordedActionKind_Name(request.kind()), " does not do step ",
                       Quoted(request.step_id()), ", a ", v1::ActionKind_Name(step->second),
                       " step of the school's escalation policy ", school.policy_name, " (done by ",
                       RecordedKindsFor(step->second), ")"));
    }
  }
  if (!request.trigger_id().empty() && !school.policy_triggers.contains(request.trigger_id())) {
    return absl::InvalidArgumentError(absl::StrCat("trigger_id: ", Quoted(request.trigger_id()),
                                                   " is not a trigger of the school's escalation ",
                                                   "policy ", school.policy_name));
  }
  if (!request.trigger_id().empty()) RETURN_IF_ERROR(CheckTriggerAnswer(school, request));
  return absl::OkStatus();
}

}  // namespace

absl::Status PrepareRecordAction(CommandEnv& env, const v1::RecordActionRequest& request,
                                 v1::WriteResponse& response) {
  auto target = ResolvePupil(env, request.school_id(), request.pupil_id(), "pupil_id");
  if (!target.ok()) return target.status();
  PupilState* const pupil = target->pupil;
  RETURN_IF_ERROR(CheckId(request.action_id(), "action_id"));
  if (request.kind() == v1::RECORDED_ACTION_KIND_UNSPECIFIED ||
      !v1::RecordedActionKind_IsValid(request.kind())) {
    return absl::InvalidArgumentError(
        absl::StrCat("kind: ", static_cast<int>(request.kind()), " is not a recorded action kind"));
  }
  if (!request.step_id().empty()) RETURN_IF_ERROR(CheckId(request.step_id(), "step_id"));
  if (!request.trigger_id().empty()) RETURN_IF_ERROR(CheckId(request.trigger_id(), "trigger_id"));
  RETURN_IF_ERROR(CheckPolicyIds(*target->school, request));
  auto happened_on = CheckDate(request.happened_on(), "happened_on");
  if (!happened_on.ok()) return happened_on.status();
  if (*happened_on > SchoolLocalDay(env.group.now_us())) {
    return absl::InvalidArgumentError(
        absl::StrCat("happened_on: ", request.happened_on(), " is in the future"));
  }
  if (!pupil->OnRoll(*happened_on)) {
    return absl::InvalidArgumentError(absl::StrCat("happened_on: pupil \"", request.pupil_id(),
                                                   "\" was not on roll on ",
                                                   request.happened_on()));
  }
  RETURN_IF_ERROR(CheckText(request.outcome(), "outcome", false));
  RETURN_IF_ERROR(CheckActionDetails(env, *pupil, request, *happened_on));
  if (request.kind() == v1::PENALTY_NOTICE_WITHDRAWN &&
      !pupil->penalty_notice_ids.contains(request.reviews_action_id())) {
    return absl::InvalidArgumentError(
        absl::StrCat("reviews_action_id: a PENALTY_NOTICE_WITHDRAWN names the pupil's ",
                     "PENALTY_NOTICE_ISSUED it withdraws; ", Quoted(request.reviews_action_id()),
                     " is not one"));
  }
  if (!request.reviews_action_id().empty()) {
    RETURN_IF_ERROR(CheckId(request.reviews_action_id(), "reviews_action_id"));
    if (!pupil->action_ids.contains(request.reviews_action_id())) {
      return absl::NotFoundError(absl::StrCat("reviews_action_id: pupil \"", request.pupil_id(),
                                              "\" has no action ",
                                              Quoted(request.reviews_action_id())));
    }
  }
  if (pupil->action_ids.contains(request.action_id())) {
    return absl::AlreadyExistsError(absl::StrCat("action_id: pupil \"", request.pupil_id(),
                                                 "\" already has action ",
                                                 Quoted(request.action_id())));
  }

  v1::EventEnvelope event = NewEvent(request.school_id(), request.pupil_id(), pupil->version);
  v1::ActionRecorded* action = event.mutable_action_recorded();
  action->set_pupil_id(request.pupil_id());
  action->set_action_id(request.action_id());
  action->set_kind(request.kind());
  action->set_referred_to(request.referred_to());
  action->set_step_id(request.step_id());
  action->set_trigger_id(request.trigger_id());
  action->set_happened_on(request.happened_on());
  action->set_outcome(request.outcome());
  action->set_target_basis_points(request.target_basis_points());
  action->set_review_on(request.review_on());
  action->set_reviews_action_id(request.reviews_action_id());
  action->set_parent_id(request.parent_id());
  action->set_parent_name(request.parent_name());
  action->mutable_recorded_by()->set_name(env.actor.name);
  action->mutable_recorded_by()->set_role(env.actor.role);
  return AppendAndAnswer(env, event, response);
}

namespace {

// The retention period (SchoolSettings.retention_years: 0 = the 2024
// regulations' six years; never below three).
constexpr std::uint32_t kDefaultRetentionYears = 6;
constexpr std::uint32_t kMinRetentionYears = 3;

// The last day a pupil's entries must be kept: the retention period after
// the later of its last day on roll and its latest entry, since each entry
// is kept from the date it was made (../shared/domain.md §4) and an
// amendment after leaving is an entry too. 29 February plus whole years
// lands on 1 March, which keeps a day longer rather than a day short.
Day RetainedUntil(const v1::SchoolSettings& settings, const PupilState& pupil) {
  const std::uint32_t years =
      settings.retention_years() == 0
          ? kDefaultRetentionYears
          : std::max<std::uint32_t>(kMinRetentionYears, settings.retention_years());
  const Day from = std::max(pupil.roll.back().second, SchoolLocalDay(pupil.last_entry_us));
  const std::string date = FormatDate(from);
  const int year = std::stoi(date.substr(0, 4));
  const auto month = static_cast<unsigned>(std::stoi(date.substr(5, 2)));
  const auto day = static_cast<unsigned>(std::stoi(date.substr(8, 2)));
  return DayFromCivil(year + static_cast<int>(years), month, day);
}

}  // namespace

absl::Status PrepareErasePersonalData(CommandEnv& env, const v1::ErasePersonalDataRequest& request,
                                      v1::WriteResponse& response) {
  auto school = CheckSchool(env.state, request.school_id());
  if (!school.ok()) return school.status();
  RETURN_IF_ERROR(CheckId(request.pupil_id(), "pupil_id"));
  RETURN_IF_ERROR(CheckText(request.reason(), "reason", true));
  RETURN_IF_ERROR(CheckText(request.authorised_by(), "authorised_by", true, kMaxNameLength));
  PupilState* const pupil = env.state.FindPupil(**school, request.pupil_id());
  if (pupil == nullptr || pupil->roll.empty()) {
    return absl::NotFoundError(
        absl::StrCat("pupil_id: ", Quoted(request.pupil_id()), " is not a pupil of this school"));
  }
  if (pupil->erased_at != 0) {
    // Idempotent: the erasure stands; nothing more to write.
    response.set_position(pupil->erased_at);
    response.set_stream_version(pupil->version);
    return absl::OkStatus();
  }
  if (pupil->OnRollNow()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "pupil_id: ", Quoted(request.pupil_id()),
        " is on the roll; personal data is erased only after the pupil has left and the "
        "retention period has ended"));
  }
  const Day until = RetainedUntil((*school)->settings, *pupil);
  if (SchoolLocalDay(env.group.now_us()) <= until) {
    return absl::FailedPreconditionError(absl::StrCat(
        "pupil_id: the retention period of ", Quoted(request.pupil_id()), " ends on ",
        FormatDate(until), " (retention_years after its last day on roll or latest entry); ",
        "erasure is allowed from ", FormatDate(until + 1)));
  }
  v1::EventEnvelope event = NewEvent(request.school_id(), request.pupil_id(), pupil->version);
  v1::PersonalDataErased* erased = event.mutable_personal_data_erased();
  erased->set_pupil_id(request.pupil_id());
  erased->set_reason(request.reason());
  erased->set_authorised_by(request.authorised_by());
  erased->set_retained_until(FormatDate(until));
  erased->mutable_erased_by()->set_name(env.actor.name);
  erased->mutable_erased_by()->set_role(env.actor.role);
  RETURN_IF_ERROR(AppendAndAnswer(env, event, response));
  env.group.ErasePersonalKey(request.school_id(), request.pupil_id());
  return absl::OkStatus();
}

}  // namespace attendance::ledger
