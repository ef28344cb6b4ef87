// The escalation read model's fold: policies, letters and actions beside the
// attendance state (escalation.h).
#include <cstring>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

#include "absl/strings/str_cat.h"
#include "ledger/clock.h"
#include "projections/escalation.h"

namespace attendance::projections {

void EscalationState::Apply(const v1::EventEnvelope& event) {
  results_.Invalidate(event);
  attendance_.Apply(event);
  if (event.school_id().empty()) return;
  if (event.has_escalation_policy_set()) {
    schools_[event.school_id()].policies.push_back({ledger::SchoolLocalDay(event.recorded_at_us()),
                                                    event.position(),
                                                    event.escalation_policy_set().policy()});
  } else if (event.has_letter_sent()) {
    const v1::LetterSent& letter = event.letter_sent();
    const std::string& pupil = letter.pupil_id().empty() ? event.pupil_id() : letter.pupil_id();
    const std::optional<Day> sent_on = ledger::ParseDate(letter.sent_on());
    if (pupil.empty() || !sent_on) return;
    schools_[event.school_id()].letters[pupil].push_back(
        {letter.letter_id(), *sent_on, event.position()});
  } else if (event.has_mark_amended()) {
    const v1::MarkAmended& m = event.mark_amended();
    const std::string& pupil = m.pupil_id().empty() ? event.pupil_id() : m.pupil_id();
    const std::optional<Day> date = ledger::ParseDate(m.date());
    if (pupil.empty() || !date) return;
    // The same day the attendance state gives the amendment.
    const Day at =
        ledger::SchoolLocalDay(m.amended_at_us() != 0 ? m.amended_at_us() : event.recorded_at_us());
    schools_[event.school_id()].amendments[pupil].push_back(
        {*date, m.session() == v1::PM ? 1 : 0, CodeIndexOf(m.original_code()),
         CodeIndexOf(m.amended_code()), std::max(at, *date), event.position()});
  } else if (event.has_action_recorded()) {
    const v1::ActionRecorded& a = event.action_recorded();
    const std::string& pupil = a.pupil_id().empty() ? event.pupil_id() : a.pupil_id();
    const std::optional<Day> happened_on = ledger::ParseDate(a.happened_on());
    if (pupil.empty() || !happened_on) return;
    const std::optional<Day> review_on =
        a.review_on().empty() ? std::optional<Day>(0) : ledger::ParseDate(a.review_on());
    schools_[event.school_id()].actions[pupil].push_back(
        {a.action_id(), a.kind(), a.step_id(), a.trigger_id(), *happened_on, event.position(),
         a.target_basis_points(), review_on.value_or(0), a.reviews_action_id(), a.parent_id()});
  }
}

const EscalationState::SchoolFacts* EscalationState::FindSchool(std::string_view school_id) const {
  auto it = schools_.find(school_id);
  return it == schools_.end() ? nullptr : &it->second;
}

const PolicyRecord* EscalationState::PolicyAsOf(std::string_view school_id, Day as_of) const {
  const SchoolFacts* facts = FindSchool(school_id);
  if (facts == nullptr) return nullptr;
  const PolicyRecord* found = nullptr;
  for (const PolicyRecord& record : facts->policies) {
    if (record.recorded <= as_of) found = &record;
  }
  return found;
}

const PolicyRecord* EscalationState::PolicyForEvaluation(std::string_view school_id,
                                                         Day as_of) const {
  if (const PolicyRecord* record = PolicyAsOf(school_id, as_of)) return record;
  const SchoolFacts* facts = FindSchool(school_id);
  return facts == nullptr || facts->policies.empty() ? nullptr : &facts->policies.front();
}

EscalationInputs EscalationState::InputsFor(std::string_view school_id, std::string_view pupil_id,
                                            Day as_of, ledger::SchoolCalendar* scratch) const {
  EscalationInputs in;
  in.pupil_id = std::string(pupil_id);
  const SchoolState* school = attendance_.FindSchool(school_id);
  if (school == nullptr) return in;
  in.calendar = &school->CalendarAsOf(as_of, scratch);
  in.settings = school->SettingsAsOf(as_of);
  if (const PolicyRecord* record = PolicyForEvaluation(school_id, as_of)) {
    in.policy = &record->policy;
  }
  SetPupil(school_id, pupil_id, in);
  return in;
}

void EscalationState::SetPupil(std::string_view school_id, std::string_view pupil_id,
                               EscalationInputs& in) const {
  in.pupil_id = std::string(pupil_id);
  in.pupil = nullptr;
  in.letters = nullptr;
  in.actions = nullptr;
  in.amendments = nullptr;
  if (const SchoolState* school = attendance_.FindSchool(school_id)) {
    in.pupil = school->FindPupil(pupil_id);
  }
  if (const SchoolFacts* facts = FindSchool(school_id)) {
    auto it = facts->letters.find(pupil_id);
    if (it != facts->letters.end()) in.letters = &it->second;
    auto actions = facts->actions.find(pupil_id);
    if (actions != facts->actions.end()) in.actions = &actions->second;
    auto amendments = facts->amendments.find(pupil_id);
    if (amendments != facts->amendments.end()) in.amendments = &amendments->second;
  }
}

std::string EscalationState::Encode() const {
  const std::string attendance = attendance_.Encode();
  v1::EscalationFacts facts;
  for (const auto& [id, school] : schools_) {
    v1::EscalationFacts::School& out = *facts.add_schools();
    out.set_school_id(id);
    for (const PolicyRecord& record : school.policies) {
      v1::EscalationFacts::PolicyRecord& p = *out.add_policies();
      p.set_recorded_day(record.recorded);
      p.set_position(record.position);
      *p.mutable_policy() = record.policy;
    }
    for (const auto& [pupil, letters] : school.letters) {
      for (const LetterFact& letter : letters) {
        v1::EscalationFacts::LetterRecord& l = *out.add_letters();
        l.set_pupil_id(pupil);
        l.set_letter_id(letter.letter_id);
        l.set_sent_on(ledger::FormatDate(letter.sent_on));
        l.set_position(letter.position);
      }
    }
    for (const auto& [pupil, actions] : school.actions) {
      for (const ActionFact& action : actions) {
        v1::EscalationFacts::ActionRecord& a = *out.add_actions();
        a.set_pupil_id(pupil);
        a.set_action_id(action.action_id);
        a.set_kind(action.kind);
        a.set_step_id(action.step_id);
        a.set_trigger_id(action.trigger_id);
        a.set_happened_on(ledger::FormatDate(action.happened_on));
        a.set_position(action.position);
        a.set_target_basis_points(action.target_basis_points);
        if (action.review_on != 0) a.set_review_on(ledger::FormatDate(action.review_on));
        a.set_reviews_action_id(action.reviews_action_id);
        a.set_parent_id(action.parent_id);
      }
    }
    for (const auto& [pupil, amendments] : school.amendments) {
      for (const AmendmentFact& amendment : amendments) {
        v1::EscalationFacts::AmendmentRecord& a = *out.add_amendments();
        a.set_pupil_id(pupil);
        a.set_date(ledger::FormatDate(amendment.date));
        a.set_session(amendment.session == 0 ? v1::AM : v1::PM);
        a.set_original_code(std::string(CodeName(amendment.original)));
        a.set_amended_code(std::string(CodeName(amendment.amended)));
        a.set_recorded_day(amendment.recorded);
        a.set_position(amendment.position);
      }
    }
  }
  std::string bytes;
  const std::uint64_t size = attendance.size();
  bytes.append(reinterpret_cast<const char*>(&size), sizeof(size));
  bytes.append(attendance);
  std::string tail;
  {
    google::protobuf::io::StringOutputStream stream(&tail);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    facts.SerializeToCodedStream(&coded);
  }
  bytes.append(tail);
  return bytes;
}

absl::StatusOr<EscalationState> EscalationState::Decode(std::string_view bytes) {
  std::uint64_t size = 0;
  if (bytes.size() < sizeof(size)) return absl::DataLossError("escalation state: too short");
  std::memcpy(&size, bytes.data(), sizeof(size));
  if (size > bytes.size() - sizeof(size)) {
    return absl::DataLossError("escalation state: attendance part longer than the bytes");
  }
  absl::StatusOr<AttendanceState> attendance =
      AttendanceState::Decode(bytes.substr(sizeof(size), size));
  if (!attendance.ok()) return attendance.status();
  v1::EscalationFacts facts;
  const std::string_view tail = bytes.substr(sizeof(size) + size);
  if (!facts.ParseFromArray(tail.data(), static_cast<int>(tail.size()))) {
    return absl::DataLossError("escalation state: facts do not decode");
  }
  EscalationState state;
  state.attendance_ = *std::move(attendance);
  for (const v1::EscalationFacts::School& school : facts.schools()) {
    SchoolFacts& out = state.schools_[school.school_id()];
    for (const auto& p : school.policies()) {
      out.policies.push_back({p.recorded_day(), p.position(), p.policy()});
    }
    for (const auto& l : school.letters()) {
      const std::optional<Day> sent_on = ledger::ParseDate(l.sent_on());
      if (!sent_on)
        return absl::DataLossError(absl::StrCat("escalation state: letter date ", l.sent_on()));
      out.letters[l.pupil_id()].push_back({l.letter_id(), *sent_on, l.position()});
    }
    for (const auto& a : school.actions()) {
      const std::optional<Day> happened_on = ledger::ParseDate(a.happened_on());
      const std::optional<Day> review_on =
          a.review_on().empty() ? std::optional<Day>(0) : ledger::ParseDate(a.review_on());
      if (!happened_on || !review_on) {
        return absl::DataLossError(
            absl::StrCat("escalation state: action dates ", a.happened_on(), " ", a.review_on()));
      }
      out.actions[a.pupil_id()].push_back({a.action_id(), a.kind(), a.step_id(), a.trigger_id(),
                                           *happened_on, a.position(), a.target_basis_points(),
                                           *review_on, a.reviews_action_id(), a.parent_id()});
    }
    for (const auto& a : school.amendments()) {
      const std::optional<Day> date = ledger::ParseDate(a.date());
      if (!date)
        return absl::DataLossError(absl::StrCat("escalation state: amendment date ", a.date()));
      out.amendments[a.pupil_id()].push_back(
          {*date, a.session() == v1::PM ? 1 : 0, CodeIndexOf(a.original_code()),
           CodeIndexOf(a.amended_code()), a.recorded_day(), a.position()});
    }
  }
  return state;
}

}  // namespace attendance::projections
