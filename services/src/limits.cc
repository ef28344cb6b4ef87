#include "services/limits.h"

#include "absl/strings/str_cat.h"

namespace attendance::services {

CallLimiter::Ticket& CallLimiter::Ticket::operator=(Ticket&& other) noexcept {
  if (this != &other) {
    Release();
    counter_ = other.counter_;
    other.counter_ = nullptr;
  }
  return *this;
}

void CallLimiter::Ticket::Release() {
  if (counter_ != nullptr) counter_->fetch_sub(1);
  counter_ = nullptr;
}

CallLimiter::Ticket CallLimiter::CountCall() {
  calls_.fetch_add(1);
  return Ticket(&calls_);
}

absl::Status CallLimiter::CheckCalls() const {
  const int in_flight = calls_.load();
  if (in_flight <= limits_.max_calls) return absl::OkStatus();
  return absl::ResourceExhaustedError(
      absl::StrCat("the server has ", in_flight, " calls in flight, over its limit of ",
                   limits_.max_calls, " (--max-calls); retry later"));
}

absl::Status CallLimiter::EnterMarkStream(Ticket& ticket) {
  const int open = mark_streams_.fetch_add(1) + 1;
  Ticket counted(&mark_streams_);
  if (open > limits_.max_mark_streams) {
    return absl::ResourceExhaustedError(
        absl::StrCat("the server has ", limits_.max_mark_streams,
                     " StreamMarks streams open, its limit (--max-mark-streams); retry later"));
  }
  ticket = std::move(counted);
  return absl::OkStatus();
}

}  // namespace attendance::services
