#include "history/load_history.h"

#include <string>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"

namespace attendance::history {
namespace {

template <typename>
inline constexpr bool kAlwaysFalse = false;

// The one place a step becomes a ledger command.
absl::Status Apply(ledger::Ledger& ledger, const Step& step, LoadStats& stats) {
  return std::visit(
      [&](const auto& req) -> absl::Status {
        using T = std::decay_t<decltype(req)>;
        absl::Status status;
        if constexpr (std::is_same_v<T, v1::SetSchoolSettingsRequest>) {
          status = ledger.SetSchoolSettings(step.actor, req).status();
        } else if constexpr (std::is_same_v<T, v1::SetSchoolCalendarRequest>) {
          status = ledger.SetSchoolCalendar(step.actor, req).status();
        } else if constexpr (std::is_same_v<T, v1::SetEscalationPolicyRequest>) {
          status = ledger.SetEscalationPolicy(step.actor, req).status();
        } else if constexpr (std::is_same_v<T, v1::EnrolPupilRequest>) {
          status = ledger.EnrolPupil(step.actor, req).status();
          ++stats.pupils;
        } else if constexpr (std::is_same_v<T, v1::UpdatePupilRequest>) {
          status = ledger.UpdatePupil(step.actor, req).status();
        } else if constexpr (std::is_same_v<T, v1::RemoveFromRollRequest>) {
          status = ledger.RemoveFromRoll(step.actor, req).status();
        } else if constexpr (std::is_same_v<T, v1::RecordMarksRequest>) {
          status = ledger.RecordMarks(step.actor, req).status();
          stats.marks += static_cast<std::uint64_t>(req.marks_size());
        } else if constexpr (std::is_same_v<T, v1::AmendMarkRequest>) {
          status = ledger.AmendMark(step.actor, req).status();
          ++stats.amendments;
        } else if constexpr (std::is_same_v<T, v1::RecordLetterRequest>) {
          status = ledger.RecordLetter(step.actor, req).status();
          ++stats.letters;
        } else if constexpr (std::is_same_v<T, v1::RecordActionRequest>) {
          status = ledger.RecordAction(step.actor, req).status();
          ++stats.actions;
        } else {
          static_assert(kAlwaysFalse<T>, "a step kind the loader does not apply");
        }
        if (status.ok()) return status;
        return absl::Status(status.code(), absl::StrCat(req.request_id(), ": ", status.message()));
      },
      step.request);
}

}  // namespace

SourceClock::SourceClock(ledger::Clock base) : state_(std::make_shared<State>()) {
  state_->base = std::move(base);
}

ledger::Clock SourceClock::Clock() const {
  return ledger::Clock([state = state_] {
    const std::int64_t at = state->at_us.load();
    return at != 0 ? at : state->base.NowUs();
  });
}

absl::StatusOr<LoadStats> LoadHistory(ledger::Ledger& ledger, const HistoryOptions& options,
                                      SourceClock* clock) {
  LoadStats stats;
  absl::Status failed;
  absl::Status generated = GenerateHistory(options, [&](const Step& step) {
    if (!failed.ok()) return;
    if (clock != nullptr) clock->Set(step.at_us);
    failed = Apply(ledger, step, stats);
    ++stats.steps;
  });
  if (clock != nullptr) clock->Release();
  if (!generated.ok()) return generated;
  if (!failed.ok()) return failed;
  return stats;
}

}  // namespace attendance::history
