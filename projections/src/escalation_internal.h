#pragma once

// The parts of escalation.cc's evaluation (projections/escalation.h) shared
// by its files: the evaluation context and the session walk
// (escalation_context.cc), attendance conditions (escalation_context.cc),
// counted triggers (escalation_triggers.cc), ladders, bands and meeting
// reviews (escalation_ladders.cc). Internal to projections/.
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "projections/escalation.h"
#include "projections/windows.h"

namespace attendance::projections::escalation_internal {

constexpr Day kNever = std::numeric_limits<Day>::max();
// School days are looked for at most this far ahead (a monitoring period
// whose end the calendar does not hold yet has not ended).
constexpr Day kMaxSchoolDaySearch = 800;
// An explanation lists at most this many sessions (the count is exact).
constexpr int kMaxListedSessions = 100;
// A next step is a near miss when this many more absent sessions would
// make it due.
constexpr std::uint32_t kNearMissSessions = 10;

using CodeSet = std::array<bool, kNumCodes>;

// A session as first recorded, before the amendments known by as_of.
struct OriginalCode {
  Day day = 0;
  int session = 0;
  CodeIndex code = 0;
};

// The counts of the windows one evaluation has counted, on the marks as
// known (not as first recorded): its triggers and conditions over one
// window (the year to date, mostly) count it once.
class WindowCounts {
 public:
  const AttendanceCounts& Get(const PupilState& pupil, Day first, Day last, Day known);

 private:
  struct Entry {
    Day first, last, known;
    AttendanceCounts counts;
  };
  std::vector<Entry> entries_;  // a few windows an evaluation
};

struct Ctx {
  const EscalationInputs& in;
  Day as_of;
  const v1::EscalationPolicy& policy;
  EvaluationCache& cache;
  // Set in the context that reads amended sessions as first recorded (the
  // basis a due action had before an amendment superseded it).
  const std::vector<OriginalCode>* original = nullptr;
  // From the real context: the same evaluation as first recorded; null when
  // the pupil has no amendment by as_of.
  const Ctx* as_first_recorded = nullptr;
  // The marks are read as known at the end of this day: as_of, or later
  // with EscalationInputs::known_through (a replay with hindsight).
  Day known = 0;
  // Set in the real context (original null): the windows counted so far.
  WindowCounts* counts = nullptr;
};

// The code of each session as known at the end of `known`, for a walk over
// days: the academic year is looked up once per year, not per session.
class Codes {
 public:
  Codes(const PupilState* pupil, Day known, const std::vector<OriginalCode>* original = nullptr)
      : pupil_(pupil), known_(known), original_(original) {}

  CodeIndex At(Day day, int session) {
    // Most reads: a day of the year last sought, whose codes are final by
    // `known` (the walks read a few thousand sessions per evaluation).
    if (direct_ != nullptr && day >= start_ && day < end_) {
      return direct_[2 * (day - start_) + session];
    }
    return Lookup(day, session);
  }

 private:
  CodeIndex Lookup(Day day, int session) {
    if (pupil_ == nullptr) return 0;
    if (original_ != nullptr) {
      for (const OriginalCode& o : *original_) {
        if (o.day == day && o.session == session) return o.code;
      }
    }
    if (day < start_ || day >= end_) Seek(day);
    if (year_ == nullptr) return 0;
    const auto slot = static_cast<std::uint16_t>(2 * (day - start_) + session);
    return year_->CodeAsOf(slot, known_);
  }

  void Seek(Day day) {
    const int academic_year = ledger::AcademicYearOf(day);
    start_ = ledger::AcademicYearStart(academic_year);
    end_ = ledger::AcademicYearStart(academic_year + 1);
    year_ = pupil_->Year(academic_year);
    direct_ = nullptr;
    if (year_ == nullptr) return;
    if (known_ >= year_->max_recorded && original_ == nullptr) {
      direct_ = year_->codes.data();
      return;
    }
    // A date before the year's latest mark, or the amended sessions as
    // first recorded: the year as read here, made once (a copy, the changes,
    // the first codes) rather than looked up per session.
    year_->CodesAsOf(known_, as_known_);
    if (original_ != nullptr) {
      for (const OriginalCode& o : *original_) {
        if (o.day >= start_ && o.day < end_) as_known_[2 * (o.day - start_) + o.session] = o.code;
      }
    }
    direct_ = as_known_.data();
  }

  const PupilState* pupil_;
  Day known_;
  const std::vector<OriginalCode>* original_;
  Day start_ = 1;
  Day end_ = 0;
  const PupilYear* year_ = nullptr;
  // The codes of year_ as read here (year_'s own, or as_known_).
  const CodeIndex* direct_ = nullptr;
  std::array<CodeIndex, kSlotsPerYear> as_known_;
};

AttendanceCounts CountsOf(const Ctx& c, const ResolvedWindow& w, Day known);
ResolvedWindow Resolve(const Ctx& c, const v1::PolicyWindow& window, Day on);
// The n-th school day after `day` (kNever if the calendar does not hold it).
Day AddSchoolDays(EvaluationCache& calendar, Day day, std::uint32_t n);
const char* Symbol(v1::Comparison comparison);
std::string Percent(std::uint32_t attended, std::uint32_t possible);
void FillWindow(const ResolvedWindow& w, v1::Explanation* e);
v1::Explanation NewExplanation(const Ctx& c, const std::string& rule_id);
const char* ActionWord(v1::ActionKind action);

// --- Attendance conditions (escalation_context.cc) -------------------------

struct ConditionResult {
  bool holds = false;
  AttendanceCounts counts;
  ResolvedWindow window;
};

ConditionResult EvaluateCondition(const Ctx& c, const v1::AttendanceCondition& condition, Day on,
                                  Day known);
v1::Explanation ConditionExplanation(const Ctx& c, const std::string& rule_id,
                                     const ConditionResult& r,
                                     const v1::AttendanceCondition& condition, Day on,
                                     const std::string& outcome);
// More absent sessions that would make a BELOW / AT_OR_BELOW condition hold
// (0 if none would, within reason).
std::uint32_t SessionsToThreshold(const ConditionResult& r,
                                  const v1::AttendanceCondition& condition);

// --- Counted triggers (escalation_triggers.cc) ----------------------------

// A session that counted, kept small: most are never shown (a trigger far
// from firing), so protos are made only for an explanation that is.
struct CountedSlot {
  Day day = 0;
  int session = 0;
  CodeIndex code = 0;
};

struct TriggerResult {
  bool fired = false;
  std::uint32_t count = 0;
  Day fired_on = kNever;
  // Every day it reached its threshold (each run, each N past its
  // deadline; for a count in a window, fired_on), in date order: an action
  // answers the firings on or before the day it happened.
  std::vector<Day> fired_days;
  ResolvedWindow window;
  std::vector<CountedSlot> sessions;
};

// `firing_only`: only whether it fires (and when) is read: one that cannot
// fire by its window's counts alone is not walked, and its count is then an
// upper bound (exact for a count of sessions) with no sessions listed.
TriggerResult EvaluateTrigger(const Ctx& c, const v1::CountedTrigger& t, Day on, Day known,
                              bool firing_only = false);
// The last minute a session's (0 AM, 1 PM) register is open; NO_MARK_AFTER_CLOSE
// counts it from the next (the projection feed turns its clock there).
int CloseMinute(const v1::SchoolSettings& settings, int session);
v1::Explanation TriggerExplanation(const Ctx& c, const v1::CountedTrigger& t,
                                   const TriggerResult& r, Day on, const std::string& outcome);

// --- Superseded actions and changed bases (escalation_supersede.cc) --------

// The amended sessions as first recorded, for the amendments known by as_of.
std::vector<OriginalCode> OriginalCodes(const EscalationInputs& in, Day as_of);
// The latest amendment known by `until`, recorded after `after`, of a
// session in [first, last] (and among `sessions` if any is), or null.
const AmendmentFact* LatestAmendment(const EscalationInputs& in, Day after, Day until, Day first,
                                     Day last, const std::vector<CountedSlot>* sessions);
// "the amendment at position 412 recorded on 2025-10-23 (2025-10-22 AM N -> I)".
std::string AmendmentWords(const AmendmentFact& a);
// Marks `due` superseded by `amendment` (may be null) and says so (in its
// explanation too if `explain`).
void Supersede(v1::DueAction& due, const AmendmentFact* amendment, bool explain = true);

// --- What EvaluatePupil adds to a pupil's escalation -----------------------

void EvaluateLadder(const Ctx& c, const v1::Ladder& ladder, v1::PupilEscalation& out);
void EvaluateBands(const Ctx& c, const v1::BandSet& set, v1::PupilEscalation& out);
void EvaluateTriggers(const Ctx& c, v1::PupilEscalation& out);
void EvaluateReviews(const Ctx& c, v1::PupilEscalation& out);
// Review points, improvement rules and cohort rules (escalation_rules.cc).
// The school days of a review point in as_of's academic year and the one
// before, up to `until`, in date order.
std::vector<Day> ReviewDays(const Ctx& c, const v1::ReviewPoint& review, Day until);
// After the ladders: a REVIEW at the latest point for the pupils on its
// ladder; the improvement rules' due actions.
void EvaluateReviewPoints(const Ctx& c, v1::PupilEscalation& out);
void EvaluateImprovements(const Ctx& c, v1::PupilEscalation& out);
// A letter (letter_id) or action (step_id, or trigger_id as SimulatePolicy
// records a due action on no ladder) with this id done in [from, to].
bool DoneBetween(const EscalationInputs& in, const std::string& id, Day from, Day to);
// The improvement rule `rule_id` of the ladder that steps it down from
// `stage_step`, or null.
const v1::ImprovementRule* StepDownRule(const v1::EscalationPolicy& policy,
                                        const std::string& ladder_id, const std::string& rule_id,
                                        const std::string& stage_step);
// On the marks as first recorded (escalation_rules_supersede.cc): the
// improvement rules due then and not now, into out.superseded; a review
// point's verdict that an amendment turned, said in its explanation.
void SupersededImprovements(const Ctx& c, v1::PupilEscalation& out);
void NoteChangedReviewVerdicts(const Ctx& c, v1::PupilEscalation& out);
// A cohort rule's lower threshold for `t` if the pupil is in its cohort
// (the words for the explanation in *words).
std::optional<std::uint32_t> CohortThreshold(const Ctx& c, const v1::CountedTrigger& t,
                                             std::string* words, std::string* rule_id);
// `t` at the pupil's cohort rule's lower threshold, or nullopt; *note is
// " (cohort rule ...: threshold 1 instead of 3)" for the explanation
// (escalation_cohort_triggers.cc).
std::optional<v1::CountedTrigger> LoweredForCohort(const Ctx& c, const v1::CountedTrigger& t,
                                                   std::string* note, std::string* rule_id);
// Previous-year rules (escalation_previous_year.cc): due from the academic
// year's first school day for the pupils whose previous year met the rule,
// until its letter is sent that year; superseded when amended marks of that
// year removed the basis.
void EvaluatePreviousYearRules(const Ctx& c, v1::PupilEscalation& out);
// The step of `ladder_id` that the previous-year rule `rule_id` does ("" if
// none).
const std::string& PreviousYearStep(const v1::EscalationPolicy& policy,
                                    const std::string& ladder_id, const std::string& rule_id);
// Last: raises the priority of the due actions the cohort rules name.
void ApplyCohortRules(const Ctx& c, v1::PupilEscalation& out);
// Penalty notices per parent and child (penalty_notices.cc): fills
// out.penalty_notices and explains (or turns into a local-authority
// referral) each penalty-notice consideration already in out.due.
void EvaluatePenaltyNotices(const Ctx& c, v1::PupilEscalation& out);

}  // namespace attendance::projections::escalation_internal
