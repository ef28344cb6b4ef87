// Penalty notices counted per parent and child (England, from 19 August
// 2024): the first within 3 years is GBP 80 if paid within 21 days, 160
// within 28; a second within 3 years is 160 with no reduction; after two in
// 3 years (issued count, withdrawn do not) no third is issued and the case
// goes to the local authority instead. And the framework's guards, which
// send a consideration for review instead of straight on.
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "escalation_internal.h"

namespace attendance::projections::escalation_internal {
namespace {

constexpr std::uint32_t kMaxNoticesIn3Years = 2;

// The same calendar date three years earlier (29 February -> 28th).
Day ThreeYearsBefore(Day day) {
  const std::string date = ledger::FormatDate(day);
  const int year = std::stoi(date.substr(0, 4));
  const unsigned month = static_cast<unsigned>(std::stoi(date.substr(5, 2)));
  unsigned dom = static_cast<unsigned>(std::stoi(date.substr(8, 2)));
  if (month == 2 && dom == 29) dom = 28;
  return ledger::DayFromCivil(year - 3, month, dom);
}

std::string CarerName(const v1::Carer& carer) {
  if (carer.given_name().empty()) return carer.family_name();
  if (carer.family_name().empty()) return carer.given_name();
  return absl::StrCat(carer.given_name(), " ", carer.family_name());
}

std::string NoticeSentence(const v1::ParentNotices& p) {
  const std::string who = p.parent_name().empty() ? p.parent_id() : p.parent_name();
  switch (p.next_notice()) {
    case 1:
      return absl::StrCat("first notice to ", who,
                          " within 3 years: GBP 80 if paid within 21 days, GBP 160 within 28");
    case 2:
      return absl::StrCat("second notice to ", who, " within 3 years: GBP 160, no reduction");
    default:
      return absl::StrCat(who, " has had ", p.issued_within_3_years(),
                          " notices within 3 years: no third, refer to the local authority");
  }
}

// The count a penalty-notice consideration stands on: the due's own
// trigger, the one its ladder step waits on, else the policy's first
// penalty-notice count (a step with only an attendance condition).
const v1::CountedTrigger* PenaltyTrigger(const v1::EscalationPolicy& policy,
                                         const v1::DueAction& due) {
  std::string id = due.ladder_id().empty() ? due.rule_id() : "";
  for (const v1::Ladder& ladder : policy.ladders()) {
    if (ladder.ladder_id() != due.ladder_id()) continue;
    for (const v1::LadderStep& step : ladder.steps()) {
      if (step.step_id() == due.rule_id()) id = step.trigger_id();
    }
  }
  const v1::CountedTrigger* fallback = nullptr;
  for (const v1::CountedTrigger& t : policy.triggers()) {
    if (!id.empty() && t.trigger_id() == id) return &t;
    if (fallback == nullptr && t.kind() == v1::COUNT_IN_WINDOW &&
        t.action() == v1::PENALTY_NOTICE_CONSIDERATION) {
      fallback = &t;
    }
  }
  return fallback;
}

// The day a child born on `dob` reaches compulsory school age: the first
// prescribed day (31 March, 31 August, 31 December) on or after the fifth
// birthday (Education (Start of Compulsory School Age) Order 1998).
std::optional<Day> CompulsorySchoolAgeFrom(const std::string& dob) {
  if (!ledger::ParseDate(dob).has_value()) return std::nullopt;
  const int year = std::stoi(dob.substr(0, 4)) + 5;
  unsigned month = static_cast<unsigned>(std::stoi(dob.substr(5, 2)));
  unsigned dom = static_cast<unsigned>(std::stoi(dob.substr(8, 2)));
  if (month == 2 && dom == 29) {  // the birthday in a common year: 1 March
    month = 3;
    dom = 1;
  }
  const Day fifth = ledger::DayFromCivil(year, month, dom);
  for (const auto& [m, d] : {std::pair{3u, 31u}, std::pair{8u, 31u}, std::pair{12u, 31u}}) {
    const Day prescribed = ledger::DayFromCivil(year, m, d);
    if (prescribed >= fifth) return prescribed;
  }
  return std::nullopt;  // not reached: 31 December is on or after any day of the year
}

// Whether (day, session), now `code`, was first recorded as an I and
// amended to it (illness the school did not accept).
bool AmendedFromIllness(const EscalationInputs& in, Day day, int session, CodeIndex code,
                        Day known) {
  if (in.amendments == nullptr) return false;
  static const CodeIndex kIllness = CodeIndexOf("I");
  bool from_illness = false;
  for (const AmendmentFact& a : *in.amendments) {
    if (a.date != day || a.session != session || a.recorded > known) continue;
    if (a.amended == code && a.original == kIllness) from_illness = true;
  }
  return from_illness;
}

// The guards of the national framework (and local authorities' codes of
// conduct) that send a penalty-notice consideration for review instead of
// straight on, one reason each.
std::vector<std::string> GuardReasons(const Ctx& c, const v1::DueAction& due,
                                      const v1::Pupil* details) {
  std::vector<std::string> reasons;
  if (const v1::CountedTrigger* t = PenaltyTrigger(c.policy, due)) {
    const ResolvedWindow window = Resolve(c, t->window(), c.as_of);
    CodeSet counted{};
    for (const std::string& code : t->codes()) counted[CodeIndexOf(code)] = true;
    counted[0] = false;
    static const CodeIndex kN = CodeIndexOf("N");
    Codes at(c.in.pupil, c.known);
    std::vector<std::string> unresolved;
    std::uint32_t sessions = 0;
    std::uint32_t from_illness = 0;
    for (Day d = window.first; d <= window.last && !window.empty(); ++d) {
      for (int s = 0; s < 2; ++s) {
        const CodeIndex code = at.At(d, s);
        if (code == kN) {
          unresolved.push_back(absl::StrCat(ledger::FormatDate(d), s == 0 ? " AM" : " PM"));
        }
        if (!counted[code]) continue;
        ++sessions;
        if (AmendedFromIllness(c.in, d, s, code, c.known)) ++from_illness;
      }
    }
    if (!unresolved.empty()) {
      reasons.push_back(absl::StrCat(
          unresolved.size(), unresolved.size() == 1 ? " unresolved N code" : " unresolved N codes",
          " in the window (", absl::StrJoin(unresolved, ", "), ", ", window.label,
          "): resolve them first, local authorities return such requests"));
    }
    if (sessions > 0 && from_illness == sessions) {
      reasons.push_back(absl::StrCat("illness only: all ", sessions,
                                     " counted sessions were first recorded as illness (I)"));
    }
  }
  if (details != nullptr) {
    if (const std::optional<Day> from = CompulsorySchoolAgeFrom(details->date_of_birth())) {
      if (c.as_of < *from) {
        reasons.push_back(absl::StrCat("below compulsory school age (born ",
                                       details->date_of_birth(), ", of compulsory school age from ",
                                       ledger::FormatDate(*from), ")"));
      }
    }
    if (details->send() == v1::SEN_SUPPORT || details->send() == v1::EHC_PLAN) {
      reasons.push_back(details->send() == v1::EHC_PLAN ? "SEND (EHC plan)" : "SEND (SEN support)");
    }
  }
  return reasons;
}

}  // namespace

void EvaluatePenaltyNotices(const Ctx& c, v1::PupilEscalation& out) {
  // Notices to each parent in (as_of - 3 years, as_of], withdrawn ones out.
  std::vector<std::string> withdrawn;
  std::map<std::string, std::vector<std::string>> issued;  // parent id -> action ids
  const Day since = ThreeYearsBefore(c.as_of);
  if (c.in.actions != nullptr) {
    for (const ActionFact& a : *c.in.actions) {
      if (a.kind == v1::PENALTY_NOTICE_WITHDRAWN && a.happened_on <= c.as_of) {
        withdrawn.push_back(a.reviews_action_id);
      }
    }
    for (const ActionFact& a : *c.in.actions) {
      if (a.kind != v1::PENALTY_NOTICE_ISSUED || a.happened_on > c.as_of ||
          a.happened_on <= since || a.parent_id.empty()) {
        continue;
      }
      if (std::find(withdrawn.begin(), withdrawn.end(), a.action_id) != withdrawn.end()) continue;
      issued[a.parent_id].push_back(a.action_id);
    }
  }
  // The parents a notice may go to: carers with parental responsibility
  // (all carers if none is flagged), then anyone a notice named.
  std::vector<std::pair<std::string, std::string>> parents;  // id, name
  const v1::Pupil* details = c.in.pupil ? c.in.pupil->AttributesAt(c.as_of, c.as_of) : nullptr;
  if (details != nullptr) {
    const bool any_pr =
        std::any_of(details->carers().begin(), details->carers().end(),
                    [](const v1::Carer& k) { return k.has_parental_responsibility(); });
    for (const v1::Carer& carer : details->carers()) {
      if (!any_pr || carer.has_parental_responsibility()) {
        parents.emplace_back(carer.carer_id(), CarerName(carer));
      }
    }
  }
  for (const auto& entry : issued) {
    const std::string& id = entry.first;  // a plain name: lambdas may capture it
    if (std::none_of(parents.begin(), parents.end(),
                     [&id](const auto& p) { return p.first == id; })) {
      parents.emplace_back(id, "");
    }
  }
  std::vector<std::string> open;  // sentences for the parents who may still get one
  std::vector<std::string> closed;
  for (const auto& [id, name] : parents) {
    v1::ParentNotices& p = *out.add_penalty_notices();
    p.set_parent_id(id);
    p.set_parent_name(name);
    auto it = issued.find(id);
    const std::uint32_t count =
        it == issued.end() ? 0 : static_cast<std::uint32_t>(it->second.size());
    p.set_issued_within_3_years(count);
    if (it != issued.end()) {
      for (const std::string& action_id : it->second) p.add_action_ids(action_id);
    }
    p.set_next_notice(count >= kMaxNoticesIn3Years ? 0 : count + 1);
    p.set_sentence(NoticeSentence(p));
    (p.next_notice() == 0 ? closed : open).push_back(p.sentence());
  }
  // The guards first: a consideration one holds for goes to review.
  for (v1::DueAction& due : *out.mutable_due()) {
    if (due.action() != v1::PENALTY_NOTICE_CONSIDERATION) continue;
    const std::vector<std::string> reasons = GuardReasons(c, due, details);
    if (reasons.empty()) continue;
    for (const std::string& reason : reasons) due.add_review_reasons(reason);
    if (c.in.explain) {
      v1::Explanation& e = *due.mutable_explanation();
      e.set_sentence(absl::StrCat(e.sentence(),
                                  "; for review, not straight on: ", absl::StrJoin(reasons, "; ")));
    }
  }
  if (parents.empty()) return;
  // A penalty notice consideration that is due: what the next notice would
  // be per parent, or, once every parent has had two, the local authority.
  for (v1::DueAction& due : *out.mutable_due()) {
    if (due.action() != v1::PENALTY_NOTICE_CONSIDERATION) continue;
    if (open.empty()) due.set_action(v1::REFERRAL);
    if (!c.in.explain) continue;
    v1::Explanation& e = *due.mutable_explanation();
    if (open.empty()) {
      e.set_sentence(absl::StrCat(e.sentence(), "; ", absl::StrJoin(closed, "; "),
                                  " -> referral to the local authority due instead"));
    } else {
      std::vector<std::string> all = open;
      all.insert(all.end(), closed.begin(), closed.end());
      e.set_sentence(absl::StrCat(e.sentence(), "; ", absl::StrJoin(all, "; ")));
    }
  }
}

}  // namespace attendance::projections::escalation_internal
