// Improvement rules and review points judged on the marks as first recorded
// (escalation_internal.h), beside the ladder steps and triggers that
// escalation_ladders.cc and escalation_triggers.cc supersede the same way.
// Facts stay facts: a positive letter that was due only on marks an amendment
// changed is shown as superseded with the amendment; a review point stays
// due (being on the ladder is a fact), and a verdict the amendment turned is
// said so in its explanation.
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "escalation_internal.h"

namespace attendance::projections::escalation_internal {
namespace {

// The amendment behind a due action judged over `e`'s window: the latest one
// known by as_of of a session in it (or of any session, with no window).
const AmendmentFact* AmendmentBehind(const Ctx& c, const v1::Explanation& e) {
  const Day first = ledger::ParseDate(e.window_first()).value_or(0);
  const Day last = ledger::ParseDate(e.window_last()).value_or(c.as_of);
  return LatestAmendment(c.in, 0, c.as_of, first, last, nullptr);
}

// Among the first `end` due actions (those evaluated on the marks now).
v1::DueAction* DueWithRule(v1::PupilEscalation& out, int end, const std::string& rule_id) {
  for (int i = 0; i < end; ++i) {
    if (out.due(i).rule_id() == rule_id) return out.mutable_due(i);
  }
  return nullptr;
}

bool Improved(const v1::DueAction& review) {
  return absl::StrContains(review.explanation().sentence(), ") -> improved; ");
}

}  // namespace

void SupersededImprovements(const Ctx& c, v1::PupilEscalation& out) {
  if (c.as_first_recorded == nullptr || c.policy.improvement_rules().empty()) return;
  // The same rules on the marks as first recorded, appended after the real
  // due actions and taken off again: the ladders' stages are facts, the same
  // in both.
  const int end = out.due_size();
  EvaluateImprovements(*c.as_first_recorded, out);
  for (int i = end; i < out.due_size(); ++i) {
    const v1::DueAction& was = out.due(i);
    if (DueWithRule(out, end, was.rule_id()) != nullptr) continue;  // due as amended too
    v1::DueAction& due = *out.add_superseded();
    due = was;
    Supersede(due, AmendmentBehind(c, due.explanation()));
  }
  while (out.due_size() > end) out.mutable_due()->RemoveLast();
}

void NoteChangedReviewVerdicts(const Ctx& c, v1::PupilEscalation& out) {
  if (c.as_first_recorded == nullptr || c.policy.review_points().empty()) return;
  const int end = out.due_size();
  EvaluateReviewPoints(*c.as_first_recorded, out);
  for (int i = end; i < out.due_size(); ++i) {
    const v1::DueAction& was = out.due(i);
    v1::DueAction* now = DueWithRule(out, end, was.rule_id());
    if (now == nullptr || Improved(*now) == Improved(was)) continue;
    const AmendmentFact* amendment = AmendmentBehind(c, now->explanation());
    v1::Explanation& e = *now->mutable_explanation();
    e.set_sentence(absl::StrCat(
        e.sentence(), "; as first recorded year to date ",
        Percent(was.explanation().attended(), was.explanation().possible()), " (",
        was.explanation().attended(), "/", was.explanation().possible(), ") -> ",
        Improved(was) ? "improved" : "no improvement", ", turned by ",
        amendment != nullptr ? AmendmentWords(*amendment) : std::string("an amendment")));
    now->set_verdict_changed(true);
    if (amendment != nullptr) {
      now->set_verdict_changed_by_position(amendment->position);
      now->set_verdict_changed_on(ledger::FormatDate(amendment->recorded));
    }
  }
  while (out.due_size() > end) out.mutable_due()->RemoveLast();
}

}  // namespace attendance::projections::escalation_internal
