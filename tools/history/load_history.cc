#include "history/load_history.h"

#include <string>
#include <utility>
#include <variant>

#include "absl/strings/str_cat.h"

namespace attendance::history {
namespace {

template <typename>
inline constexpr bool kAlwaysFalse = false;

// A day cut at an earlier `until` was imported as it stood then, so its
// full history now conflicts (FAILED_PRECONDITION) where an N was still
// open. Mark by mark, then: those not there yet are imported; those that
// are get their remaining amendments through AmendMark, at their source
// times, as the office would have made them.
absl::Status ImportMarkByMark(ledger::Ledger& ledger, const Step& step,
                              const v1::ImportHistoryRequest& request, SourceClock* clock) {
  for (const v1::ImportedMark& mark : request.marks()) {
    v1::ImportHistoryRequest one;
    one.set_school_id(request.school_id());
    one.set_source(request.source());
    one.set_request_id(absl::StrCat(request.request_id(), "-", mark.pupil_id(), "-",
                                    v1::Session_Name(mark.session())));
    *one.add_marks() = mark;
    absl::Status imported = ledger.ImportHistory(step.actor, one).status();
    if (imported.code() != absl::StatusCode::kFailedPrecondition) {
      if (imported.ok()) continue;
      return imported;
    }
    bool caught_up = false;
    std::string before = mark.code();
    for (int j = 0; j < mark.amendments_size(); ++j) {
      const v1::ImportedAmendment& a = mark.amendments(j);
      v1::AmendMarkRequest amend;
      amend.set_school_id(request.school_id());
      amend.set_request_id(absl::StrCat(one.request_id(), "-", j));
      amend.set_pupil_id(mark.pupil_id());
      amend.set_date(mark.date());
      amend.set_session(mark.session());
      amend.set_amended_code(a.amended_code());
      amend.set_minutes_late(a.minutes_late());
      amend.set_reason(a.reason());
      amend.set_expected_code(before);
      before = a.amended_code();
      if (clock != nullptr) clock->Set(a.amended_at_us());
      absl::Status amended =
          ledger.AmendMark(ledger::Principal{a.amended_by().name(), a.amended_by().role()}, amend)
              .status();
      if (amended.ok()) {
        caught_up = true;
      } else if (amended.code() != absl::StatusCode::kAborted) {  // another code then
        return amended;
      }
    }
    if (clock != nullptr) clock->Set(step.at_us);
    if (!caught_up) return imported;
  }
  return absl::OkStatus();
}

// The one place a step becomes a ledger command.
absl::Status Apply(ledger::Ledger& ledger, const Step& step, SourceClock* clock, LoadStats& stats) {
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
        } else if constexpr (std::is_same_v<T, v1::ImportHistoryRequest>) {
          status = ledger.ImportHistory(step.actor, req).status();
          if (status.code() == absl::StatusCode::kFailedPrecondition) {
            status = ImportMarkByMark(ledger, step, req, clock);
          }
          ++stats.imports;
          stats.marks += static_cast<std::uint64_t>(req.marks_size());
          for (const v1::ImportedMark& mark : req.marks()) {
            stats.amendments += static_cast<std::uint64_t>(mark.amendments_size());
          }
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
    failed = Apply(ledger, step, clock, stats);
    ++stats.steps;
  });
  if (clock != nullptr) clock->Release();
  if (!generated.ok()) return generated;
  if (!failed.ok()) return failed;
  return stats;
}

}  // namespace attendance::history
