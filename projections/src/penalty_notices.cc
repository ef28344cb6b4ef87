// Penalty notices counted per parent and child (England, from 19 August
// 2024): the first within 3 years is GBP 80 if paid within 21 days, 160
// within 28; a second within 3 years is 160 with no reduction; after two in
// 3 years (issued count, withdrawn do not) no third is issued and the case
// goes to the local authority instead.
#include <algorithm>
#include <map>
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
