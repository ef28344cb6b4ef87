#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "absl/container/flat_hash_map.h"

#include "absl/status/statusor.h"
#include "attendance/v1/escalation.pb.h"
#include "attendance/v1/escalation_service.pb.h"
#include "attendance/v1/events.pb.h"
#include "ledger/calendar.h"
#include "ledger/types.h"
#include "projections/attendance_state.h"
#include "projections/escalation_cache.h"
#include "projections/windows.h"

namespace attendance::projections {

// A policy as set on a school's stream.
struct PolicyRecord {
  Day recorded = 0;  // school-local day it was recorded
  ledger::Position position = 0;
  v1::EscalationPolicy policy;
};

// A LetterSent: the ladder step it answers is its letter_id.
struct LetterFact {
  std::string letter_id;
  Day sent_on = 0;
  ledger::Position position = 0;
};

// An ActionRecorded: the step or trigger it answers, when, and for a
// meeting the target it set and the day that target is reviewed.
struct ActionFact {
  std::string action_id;
  v1::RecordedActionKind kind = v1::RECORDED_ACTION_KIND_UNSPECIFIED;
  std::string step_id;
  std::string trigger_id;
  Day happened_on = 0;
  ledger::Position position = 0;
  std::uint32_t target_basis_points = 0;  // 0: no target
  Day review_on = 0;                      // 0: no review
  std::string reviews_action_id;
  std::string parent_id;  // penalty notices: the parent or carer (an id, never a name)
};

// A MarkAmended, kept to name the amendment behind a superseded action or a
// letter whose basis changed.
struct AmendmentFact {
  Day date = 0;
  int session = 0;  // 0 AM, 1 PM
  CodeIndex original = 0;
  CodeIndex amended = 0;
  Day recorded = 0;  // school-local day it took effect in the attendance state
  ledger::Position position = 0;
};

// A time of day past every register's close: the whole of as_of is known.
inline constexpr int kEndOfDay = 24 * 60;

// What does not depend on the pupil, computed once for many evaluations of
// one school's calendar (the worklist): school days and resolved windows.
// Not thread-safe: one per query. The calendar must outlive it.
class EvaluationCache {
 public:
  explicit EvaluationCache(const ledger::SchoolCalendar& calendar) : calendar_(calendar) {}
  bool IsSchoolDay(Day day) {
    const auto i = static_cast<std::size_t>(day - first_day_);  // wraps below first_day_
    if (i < school_days_.size() && school_days_[i] >= 0) return school_days_[i] == 1;
    return AskCalendar(day);
  }
  const ResolvedWindow& Window(const WindowSpec& spec, Day on);

 private:
  bool AskCalendar(Day day);

  const ledger::SchoolCalendar& calendar_;
  // Answers by day - first_day_ (-1: not asked yet): a flat array, since a
  // worklist asks it millions of times over a few hundred days.
  Day first_day_ = 0;
  std::vector<std::int8_t> school_days_;
  std::map<std::tuple<int, std::uint32_t, Day>, ResolvedWindow> windows_;
};

// What one pupil's evaluation reads. Pure data: no I/O, no clock.
struct EscalationInputs {
  const PupilState* pupil = nullptr;  // null: a pupil with no marks yet
  std::string pupil_id;
  const ledger::SchoolCalendar* calendar = nullptr;
  v1::SchoolSettings settings;
  const v1::EscalationPolicy* policy = nullptr;
  const std::vector<LetterFact>* letters = nullptr;        // log order; may be null
  const std::vector<ActionFact>* actions = nullptr;        // log order; may be null
  const std::vector<AmendmentFact>* amendments = nullptr;  // log order; may be null
  // Minutes after midnight on as_of (school-local): registers of as_of that
  // close later than this are still open (register not taken). kEndOfDay
  // for a past day.
  int as_of_minute = kEndOfDay;
  // Read the marks as known at the end of max(as_of, known_through) instead
  // of as_of: SimulatePolicy replays the past with the marks as they stand.
  Day known_through = 0;
  // Only the due (and superseded) actions are wanted, as in the worklist:
  // near misses and bands are not built.
  bool due_only = false;
  // False: every explanation is left empty (no words, windows or sessions),
  // the rest of the result the same. A list sorts and filters due actions by
  // their other fields, so the worklist explains only its page's pupils.
  bool explain = true;
  // For `calendar`, shared across pupils; null: the evaluation makes its own.
  EvaluationCache* cache = nullptr;
};

// Evaluates `policy` for one pupil as of the end of `as_of`, with the marks
// as they stood then (a mark amended later counts with its later code only
// when evaluated on or after the amendment's day):
// - per ladder: the stage (the furthest step whose letter was sent, or
//   whose action was recorded as happening, by as_of) and since when, every letter sent (flagged
//   basis_changed when the step's attendance condition held on the marks known on the day it was
//   sent but not on the marks known now), and the stage's monitoring period (running, or ended with
//   or without improvement);
// - due actions: each next step whose after_step is done, whose after_step's
//   monitoring has ended and whose conditions hold; each counted trigger with
//   an action that fires, unless an action answering it (its trigger_id)
//   happened on or after the day it last fired; the review of each meeting
//   whose review date has come and that no later action reviewed;
// - near misses: triggers within their `near_miss` of the threshold, and
//   next steps an attendance condition would make due within 10 more
//   absent sessions;
// - the band of each band set.
// Every item has an Explanation with the counts and one sentence.
v1::PupilEscalation EvaluatePupil(const EscalationInputs& inputs, Day as_of);

// The percentage with one decimal, "93.8%", from basis points.
std::string FormatBasisPoints(std::uint32_t basis_points);

// 10000 * attended compared with basis_points * possible: integers only.
bool Compare(std::uint32_t attended, std::uint32_t possible, std::uint32_t basis_points,
             v1::Comparison comparison);

// The fold behind the escalation read model: every school's policy history
// and every pupil's letters and actions, beside the attendance state the marks,
// calendars and settings come from. Apply never fails (events it cannot use
// are skipped, as in AttendanceState).
class EscalationState {
 public:
  void Apply(const v1::EventEnvelope& event);
  ledger::Position position() const { return attendance_.position(); }
  const AttendanceState& attendance() const { return attendance_; }

  struct SchoolFacts {
    std::vector<PolicyRecord> policies;                                         // log order
    std::map<std::string, std::vector<LetterFact>, std::less<>> letters;        // by pupil
    std::map<std::string, std::vector<ActionFact>, std::less<>> actions;        // by pupil
    std::map<std::string, std::vector<AmendmentFact>, std::less<>> amendments;  // by pupil
  };
  const SchoolFacts* FindSchool(std::string_view school_id) const;
  // The policy in force at the end of `as_of`, or nullptr.
  const PolicyRecord* PolicyAsOf(std::string_view school_id, Day as_of) const;

  // The policy to evaluate with on `as_of`: the one in force then, or, for
  // a date before the school set its first, that first one (a school sets
  // its policy once its history is loaded and asks about the past under
  // it). nullptr if the school has none.
  const PolicyRecord* PolicyForEvaluation(std::string_view school_id, Day as_of) const;

  // The pupil's inputs as of `as_of` (PolicyForEvaluation); policy null if
  // none. The returned pointers point into this state.
  EscalationInputs InputsFor(std::string_view school_id, std::string_view pupil_id, Day as_of,
                             ledger::SchoolCalendar* scratch) const;
  // Points `in`'s pupil parts (pupil, pupil_id, letters, actions,
  // amendments) at another pupil of the school, the rest kept: a list over
  // a school's pupils resolves the calendar, settings and policy once (a
  // calendar as of a past date is rebuilt each time InputsFor is asked).
  void SetPupil(std::string_view school_id, std::string_view pupil_id, EscalationInputs& in) const;

  // Deterministic bytes (attendance state, then the facts), so that an
  // incremental fold and a rebuild compare equal byte for byte.
  std::string Encode() const;
  static absl::StatusOr<EscalationState> Decode(std::string_view bytes);

  // Per-pupil evaluations kept between worklist calls; Apply drops what an
  // event changes. Not state: not encoded, and a copy starts empty.
  EscalationResultCache& results() const { return results_; }

 private:
  AttendanceState attendance_;
  mutable EscalationResultCache results_;
  std::map<std::string, SchoolFacts, std::less<>> schools_;
};

}  // namespace attendance::projections
