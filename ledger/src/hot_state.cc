#include "hot_state.h"

#include <algorithm>

#include "absl/strings/str_cat.h"

namespace attendance::ledger {

bool PupilState::OnRoll(Day day) const {
  for (const auto& [from, to] : roll) {
    if (day >= from && day <= to) return true;
  }
  return false;
}

std::uint16_t PackCode(absl::string_view code) {
  std::uint16_t packed = 0;
  for (std::size_t i = 0; i < code.size() && i < 2; ++i) {
    packed = static_cast<std::uint16_t>(packed | (static_cast<unsigned char>(code[i]) << (8 * i)));
  }
  return packed;
}

std::string UnpackCode(std::uint16_t packed) {
  std::string code;
  if (packed & 0xff) code.push_back(static_cast<char>(packed & 0xff));
  if (packed >> 8) code.push_back(static_cast<char>(packed >> 8));
  return code;
}

SchoolState* HotState::FindSchool(absl::string_view school_id) {
  auto it = schools_.find(school_id);
  return it == schools_.end() ? nullptr : &it->second;
}

PupilState* HotState::FindPupil(SchoolState& school, absl::string_view pupil_id) {
  auto it = school.pupils.find(pupil_id);
  return it == school.pupils.end() ? nullptr : &it->second;
}

std::uint64_t HotState::MarkKey(const PupilState& pupil, Day day, v1::Session session) const {
  const auto offset = static_cast<std::uint64_t>(day - hot_from_);
  return (static_cast<std::uint64_t>(pupil.index) << 24) | (offset << 2) |
         static_cast<std::uint64_t>(session);
}

std::uint8_t HotState::CodeByte(std::uint16_t packed) {
  for (std::size_t i = 0; i < codes_.size(); ++i) {
    if (codes_[i] == packed) return static_cast<std::uint8_t>(i + 1);
  }
  if (codes_.size() + 1 >= kInOverflow) return 0;
  codes_.push_back(packed);
  return static_cast<std::uint8_t>(codes_.size());
}

namespace {

std::size_t Slot(Day day, Day from, v1::Session session) {
  return 2 * static_cast<std::size_t>(day - from) + (session == v1::PM ? 1 : 0);
}

}  // namespace

bool HotState::CoverDay(PupilState& pupil, Day day) {
  constexpr std::size_t kBlock = 2 * kHotBlockDays;
  const Day block_start = day - (day - hot_from_) % kHotBlockDays;
  if (pupil.codes.empty()) pupil.codes_from = block_start;
  if (day < pupil.codes_from) {
    // Marks arrive mostly in date order; an earlier one grows the front.
    const std::size_t front = Slot(pupil.codes_from, block_start, v1::AM);
    if (front + pupil.codes.size() > kMaxHotSlots) return false;
    std::vector<std::uint8_t> grown;
    grown.reserve(front + pupil.codes.size());
    grown.resize(front, 0);
    grown.insert(grown.end(), pupil.codes.begin(), pupil.codes.end());
    code_bytes_ += grown.capacity() - pupil.codes.capacity();
    pupil.codes = std::move(grown);
    pupil.codes_from = block_start;
  }
  const std::size_t slot = Slot(day, pupil.codes_from, v1::PM);
  if (slot >= pupil.codes.size()) {
    // Whole blocks, reserved exactly: resize alone would double capacity.
    const std::size_t size = (slot / kBlock + 1) * kBlock;
    if (size > kMaxHotSlots) return false;
    code_bytes_ -= pupil.codes.capacity();
    pupil.codes.reserve(size);
    pupil.codes.resize(size, 0);
    code_bytes_ += pupil.codes.capacity();
  }
  return true;
}

void HotState::SetCode(PupilState& pupil, Day day, v1::Session session, std::uint16_t packed) {
  const std::uint64_t key = MarkKey(pupil, day, session);
  if ((session != v1::AM && session != v1::PM) || !CoverDay(pupil, day)) {
    auto it = overflow_.find(key);
    if (it != overflow_.end() && it->second != 0) --hot_marks_;
    if (packed != 0) ++hot_marks_;
    overflow_[key] = packed;
    return;
  }
  std::uint8_t& current = pupil.codes[Slot(day, pupil.codes_from, session)];
  if (current == kInOverflow) overflow_.erase(key);
  if (current != 0) --hot_marks_;
  current = 0;
  if (packed == 0) return;
  ++hot_marks_;
  current = CodeByte(packed);
  if (current == 0) {
    current = kInOverflow;
    overflow_[key] = packed;
  }
}

std::uint16_t HotState::MarkCode(const PupilState& pupil, Day day, v1::Session session) const {
  std::uint8_t byte = kInOverflow;
  if ((session == v1::AM || session == v1::PM) && day >= pupil.codes_from) {
    const std::size_t slot = Slot(day, pupil.codes_from, session);
    if (slot < pupil.codes.size()) byte = pupil.codes[slot];
  }
  if (byte == kInOverflow) {
    if (overflow_.empty()) return 0;
    auto it = overflow_.find(MarkKey(pupil, day, session));
    return it == overflow_.end() ? 0 : it->second;
  }
  return byte == 0 ? 0 : codes_[byte - 1];
}

namespace {

void SetCarers(PupilState& pupil, const v1::Pupil& details) {
  pupil.carer_ids.clear();
  for (const v1::Carer& carer : details.carers()) pupil.carer_ids.push_back(carer.carer_id());
}

}  // namespace

void HotState::Apply(const v1::EventEnvelope& event) {
  last_position_ = event.position();
  SchoolState& school = schools_[event.school_id()];
  PupilState* pupil = nullptr;
  if (!event.pupil_id().empty()) {
    auto [it, inserted] = school.pupils.try_emplace(event.pupil_id());
    if (inserted) it->second.index = next_pupil_index_++;
    pupil = &it->second;
    pupil->version = event.stream_version();
    pupil->last_entry_us = event.recorded_at_us();
  } else {
    school.version = event.stream_version();
  }

  switch (event.payload_case()) {
    case v1::EventEnvelope::kMarkRecorded: {
      const auto& m = event.mark_recorded();
      auto day = ParseDate(m.date());
      if (pupil && day) pupil->last_marked_day = std::max(pupil->last_marked_day, *day);
      if (pupil && day && IsHot(*day)) SetCode(*pupil, *day, m.session(), PackCode(m.code()));
      break;
    }
    case v1::EventEnvelope::kMarkAmended: {
      const auto& m = event.mark_amended();
      auto day = ParseDate(m.date());
      if (pupil && day && IsHot(*day))
        SetCode(*pupil, *day, m.session(), PackCode(m.amended_code()));
      break;
    }
    case v1::EventEnvelope::kPupilEnrolled: {
      const auto& e = event.pupil_enrolled();
      pupil->year_group = e.pupil().year_group();
      SetCarers(*pupil, e.pupil());
      pupil->roll.emplace_back(ParseDate(e.on_roll_from()).value_or(0), kOpenEnd);
      break;
    }
    case v1::EventEnvelope::kPupilUpdated:
      pupil->year_group = event.pupil_updated().pupil().year_group();
      SetCarers(*pupil, event.pupil_updated().pupil());
      break;
    case v1::EventEnvelope::kPupilLeftRoll:
      if (!pupil->roll.empty()) {
        pupil->roll.back().second = ParseDate(event.pupil_left_roll().last_day_on_roll())
                                        .value_or(pupil->roll.back().first);
      }
      break;
    case v1::EventEnvelope::kSchoolCalendarSet:
      school.calendar.Set(event.school_calendar_set());
      break;
    case v1::EventEnvelope::kSchoolSettingsSet:
      school.settings = event.school_settings_set().settings();
      break;
    case v1::EventEnvelope::kActionRecorded:
      if (pupil) {
        pupil->action_ids.insert(event.action_recorded().action_id());
        if (event.action_recorded().kind() == v1::PENALTY_NOTICE_ISSUED) {
          pupil->penalty_notice_ids.insert(event.action_recorded().action_id());
        }
      }
      break;
    case v1::EventEnvelope::kLeaveRequested:
      if (pupil) {
        const auto& r = event.leave_requested();
        pupil->leaves[r.leave_id()] = {ParseDate(r.first_date()).value_or(0), r.first_session(),
                                       ParseDate(r.last_date()).value_or(0), r.last_session(),
                                       false};
      }
      break;
    case v1::EventEnvelope::kLeaveDecided:
      if (pupil) {
        auto it = pupil->leaves.find(event.leave_decided().leave_id());
        if (it != pupil->leaves.end()) it->second.decided = true;
      }
      break;
    case v1::EventEnvelope::kEscalationPolicySet: {
      const v1::EscalationPolicy& policy = event.escalation_policy_set().policy();
      school.policy_name =
          absl::StrCat("\"", policy.policy_id(), "\" version \"", policy.version(), "\"");
      school.policy_steps.clear();
      school.policy_triggers.clear();
      school.policy_trigger_actions.clear();
      for (const v1::Ladder& ladder : policy.ladders()) {
        for (const v1::LadderStep& step : ladder.steps())
          school.policy_steps.emplace(step.step_id(), step.action());
      }
      for (const v1::ImprovementRule& rule : policy.improvement_rules()) {
        school.policy_steps.emplace(rule.rule_id(), rule.action());
      }
      for (const v1::PreviousYearRule& rule : policy.previous_year_rules()) {
        school.policy_steps.emplace(rule.rule_id(), rule.action());
      }
      for (const v1::CountedTrigger& t : policy.triggers()) {
        school.policy_triggers.insert(t.trigger_id());
        school.policy_trigger_actions.insert({t.trigger_id(), {t.action(), false}});
      }
      for (const v1::ReviewPoint& r : policy.review_points()) {
        school.policy_triggers.insert(r.review_id());
        school.policy_trigger_actions.insert({r.review_id(), {v1::REVIEW, true}});
      }
      break;
    }
    case v1::EventEnvelope::kPersonalDataErased:
      if (pupil) pupil->erased_at = event.position();
      break;
    case v1::EventEnvelope::kLetterSent:
    case v1::EventEnvelope::PAYLOAD_NOT_SET:
      break;
  }
}

}  // namespace attendance::ledger
