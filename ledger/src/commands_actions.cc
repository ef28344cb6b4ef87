// RecordAction with its kind's details, carer and policy checks, and
// ErasePersonalData with its retention check: the commands about a pupil
// beyond the register (split from commands.cc).
#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "command_helpers.h"
#include "commands.h"
#include "ledger/clock.h"
#include "ledger/codes.h"
#include "ledger/escalation_policy.h"
#include "ledger/status_macros.h"
#include "validation.h"

namespace attendance::ledger {

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
