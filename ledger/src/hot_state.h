#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/container/node_hash_map.h"
#include "absl/strings/string_view.h"
#include "attendance/v1/events.pb.h"
#include "ledger/calendar.h"
#include "ledger/types.h"

namespace attendance::ledger {

inline constexpr Day kOpenEnd = std::numeric_limits<Day>::max();

struct PupilState {
  std::uint32_t index = 0;  // dense, for the overflow marks map
  StreamVersion version = 0;
  int year_group = 0;
  // Roll intervals [from, to], in order; to == kOpenEnd while on roll.
  std::vector<std::pair<Day, Day>> roll;
  // ActionRecorded.action_id values, unique per pupil.
  absl::flat_hash_set<std::string> action_ids;
  // The PENALTY_NOTICE_ISSUED among them (a withdrawal names one).
  absl::flat_hash_set<std::string> penalty_notice_ids;
  // Pupil.carers' ids, as last enrolled or updated.
  std::vector<std::string> carer_ids;
  // Leave requests by leave_id: the sessions asked for, and whether decided.
  struct Leave {
    Day first = 0;
    v1::Session first_session = v1::AM;
    Day last = 0;
    v1::Session last_session = v1::PM;
    bool decided = false;
  };
  absl::flat_hash_map<std::string, Leave> leaves;
  // Retention (ADR 0003): when the pupil's last event was recorded (its
  // latest entry), and the position of its PersonalDataErased (0: none).
  std::int64_t last_entry_us = 0;
  Position erased_at = 0;
  // The latest day with a recorded mark (kNoMarks: none), which a last day
  // on roll may not precede: the register's entries are facts of days on roll.
  static constexpr Day kNoMarks = std::numeric_limits<Day>::min();
  Day last_marked_day = kNoMarks;
  // The current code of every hot session from day `codes_from` on, one
  // byte each (HotState's code dictionary; 0: no mark), at
  // [2 * (day - codes_from) + (PM ? 1 : 0)], in whole blocks of
  // kHotBlockDays days: a pupil-year takes about 730 bytes, where a hash map
  // node per mark took about 20 per mark.
  Day codes_from = 0;
  std::vector<std::uint8_t> codes;

  bool OnRoll(Day day) const;
  bool OnRollNow() const { return !roll.empty() && roll.back().second == kOpenEnd; }
};

struct SchoolState {
  v1::SchoolSettings settings;
  // The escalation policy set last ("" = none yet): its step ids (and
  // improvement rules') with their action kinds, which a RecordAction's
  // step_id must name and its kind do, and its trigger and review point
  // ids, which a trigger_id must name.
  std::string policy_name;
  absl::flat_hash_map<std::string, v1::ActionKind> policy_steps;
  absl::flat_hash_set<std::string> policy_triggers;
  // The action each trigger (and review point: REVIEW) puts due, which an
  // action answering it by trigger_id must do.
  struct TriggerAnswer {
    v1::ActionKind action;
    bool review_point;
  };
  absl::flat_hash_map<std::string, TriggerAnswer> policy_trigger_actions;
  SchoolCalendar calendar;
  StreamVersion version = 0;
  absl::node_hash_map<std::string, PupilState> pupils;
};

// A register code packed into 16 bits (codes are one or two characters).
std::uint16_t PackCode(absl::string_view code);
std::string UnpackCode(std::uint16_t packed);

// What the validators need, kept in memory and rebuilt from the log at start:
// schools with their settings and calendars, pupils with roll intervals and
// stream versions, and the current code of every session on or after
// `hot_from` (older sessions are looked up in RocksDB). The same Apply()
// serves the rebuild at start and the live path, so the two cannot differ.
// Not thread-safe: owned by the writer thread.
class HotState {
 public:
  explicit HotState(Day hot_from) : hot_from_(hot_from) {}

  void Apply(const v1::EventEnvelope& event);

  SchoolState* FindSchool(absl::string_view school_id);
  PupilState* FindPupil(SchoolState& school, absl::string_view pupil_id);
  bool IsHot(Day day) const { return day >= hot_from_; }
  // The current packed code of a hot session, or 0 if it has no mark.
  std::uint16_t MarkCode(const PupilState& pupil, Day day, v1::Session session) const;

  Position last_position() const { return last_position_; }
  std::size_t hot_marks() const { return hot_marks_; }
  // About how many bytes the hot marks take (for the memory log line).
  std::size_t MemoryBytes() const { return code_bytes_ + overflow_.capacity() * 11; }

  static constexpr int kHotBlockDays = 32;

 private:
  // A code's byte in PupilState::codes: its index in codes_ plus one; 0
  // when the dictionary is full (never with the national codes, which are
  // far fewer than 254), and such marks go to overflow_.
  std::uint8_t CodeByte(std::uint16_t packed);
  void SetCode(PupilState& pupil, Day day, v1::Session session, std::uint16_t packed);
  // Grows pupil.codes to hold `day`; false if that would take more than
  // kMaxHotSlots (such a session goes to overflow_).
  bool CoverDay(PupilState& pupil, Day day);
  std::uint64_t MarkKey(const PupilState& pupil, Day day, v1::Session session) const;

  static constexpr std::uint8_t kInOverflow = 0xff;
  // Six years of sessions per pupil at most; marks far from the rest (a
  // date years ahead) are kept in overflow_ rather than stretch the array.
  static constexpr std::size_t kMaxHotSlots = 6 * 2 * 366;

  Day hot_from_;
  Position last_position_ = 0;
  std::uint32_t next_pupil_index_ = 0;
  absl::node_hash_map<std::string, SchoolState> schools_;
  std::vector<std::uint16_t> codes_;  // the dictionary: packed codes in first-seen order
  std::size_t hot_marks_ = 0;         // sessions with a code
  std::size_t code_bytes_ = 0;        // capacity of every PupilState::codes
  // Marks that fit no code byte (a session that is neither AM nor PM, a
  // full dictionary, a day beyond kMaxHotSlots): the packed code by pupil,
  // day and session.
  absl::flat_hash_map<std::uint64_t, std::uint16_t> overflow_;
};

}  // namespace attendance::ledger
