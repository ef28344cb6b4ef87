// Superseded actions and changed bases: the amendments behind them
// (escalation_internal.h). Facts stay facts: a due action whose basis an
// amendment removed is shown as superseded, a letter sent on it is flagged.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "escalation_internal.h"

namespace attendance::projections::escalation_internal {

std::vector<OriginalCode> OriginalCodes(const EscalationInputs& in, Day as_of) {
  std::vector<OriginalCode> out;
  if (in.amendments == nullptr) return out;
  for (const AmendmentFact& a : *in.amendments) {
    if (a.recorded > as_of) continue;
    // Log order: the first amendment of a session holds its first code.
    const bool seen = std::any_of(out.begin(), out.end(), [&](const OriginalCode& o) {
      return o.day == a.date && o.session == a.session;
    });
    if (!seen) out.push_back({a.date, a.session, a.original});
  }
  return out;
}

const AmendmentFact* LatestAmendment(const EscalationInputs& in, Day after, Day until, Day first,
                                     Day last, const std::vector<CountedSlot>* sessions) {
  if (in.amendments == nullptr) return nullptr;
  const AmendmentFact* in_window = nullptr;
  const AmendmentFact* counted = nullptr;
  for (const AmendmentFact& a : *in.amendments) {
    if (a.recorded <= after || a.recorded > until || a.date < first || a.date > last) continue;
    in_window = &a;
    if (sessions != nullptr &&
        std::any_of(sessions->begin(), sessions->end(), [&](const CountedSlot& s) {
          return s.day == a.date && s.session == a.session;
        })) {
      counted = &a;
    }
  }
  return counted != nullptr ? counted : in_window;
}

std::string AmendmentWords(const AmendmentFact& a) {
  const auto code = [](CodeIndex c) {
    return c == 0 ? std::string("no mark") : std::string(CodeName(c));
  };
  return absl::StrCat("the amendment at position ", a.position, " recorded on ",
                      ledger::FormatDate(a.recorded), " (", ledger::FormatDate(a.date),
                      a.session == 0 ? " AM " : " PM ", code(a.original), " -> ", code(a.amended),
                      ")");
}

void Supersede(v1::DueAction& due, const AmendmentFact* amendment, bool explain) {
  due.set_superseded(true);
  std::string note = "superseded: due on the marks as first recorded, no longer due as amended";
  if (amendment != nullptr) {
    due.set_superseded_by_position(amendment->position);
    due.set_superseded_on(ledger::FormatDate(amendment->recorded));
    note = absl::StrCat("superseded by ", AmendmentWords(*amendment),
                        ": due on the marks as first recorded, no longer due as amended");
  }
  due.set_superseded_note(note);
  if (!explain) return;
  v1::Explanation& e = *due.mutable_explanation();
  e.set_sentence(absl::StrCat(e.sentence(), "; ", note));
}

}  // namespace attendance::projections::escalation_internal
