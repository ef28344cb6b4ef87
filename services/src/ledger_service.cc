#include "services/ledger_service.h"

#include <chrono>
#include <deque>
#include <limits>
#include <mutex>

#include "absl/container/flat_hash_set.h"
#include "logger.h"
#include "services/grpc_status.h"

namespace attendance::services {
namespace {

// Batches a StreamMarks call may have in flight before it stops reading.
constexpr std::size_t kStreamWindow = 16;

// How long a following ReadEvents waits for a commit before it looks again
// at whether its call was cancelled.
constexpr auto kFollowPoll = std::chrono::milliseconds(200);

using MarksReactor = grpc::ServerBidiReactor<v1::RecordMarksRequest, v1::StreamMarksResponse>;

// A StreamMarks call refused before it reads anything (over a limit).
class RefusedStream final : public MarksReactor {
 public:
  explicit RefusedStream(const grpc::Status& status) { Finish(status); }
  void OnDone() override { delete this; }
};

// One StreamMarks call on gRPC's callback API: no thread of its own. Each
// batch read is handed to Ledger::RecordMarksAsync at once, so batches in
// flight share WAL syncs; answers are written in batch order as their
// results come back (from the ledger's writer thread). At most
// kStreamWindow batches are unanswered: beyond that it stops reading, and
// the client's flow control pushes back. It finishes once the client has
// half-closed and every batch is answered, or, if the client went away,
// once every batch submitted has come back (the ledger's callbacks hold
// `this`). Deletes itself in OnDone.
//
// Every gRPC operation is started outside `mu_`: Advance() decides under
// the lock and acts after releasing it, and nothing touches `this` after
// Finish().
class MarksStream final : public MarksReactor {
 public:
  MarksStream(ledger::Ledger& ledger, Caller caller, CallLimiter::Ticket stream_ticket)
      : ledger_(ledger),
        caller_(std::move(caller)),
        actor_(ToPrincipal(caller_)),
        stream_ticket_(std::move(stream_ticket)) {
    reading_ = true;
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client half-closed, or the call is over
      std::unique_lock lock(mu_);
      reading_ = false;
      read_done_ = true;
      Advance(std::move(lock));
      return;
    }
    Slot* slot;
    std::uint64_t index;
    {
      std::unique_lock lock(mu_);
      if (cancelled_ || write_failed_) {  // nobody to answer: do not write it
        reading_ = false;
        Advance(std::move(lock));
        return;
      }
      index = next_index_++;
      slot = &window_.emplace_back();  // deque: references stay valid
      slot->response.set_batch_index(index);
      slot->response.set_request_id(request_.request_id());
      ++pending_;
      ++batches_;
      marks_ += static_cast<std::uint64_t>(request_.marks_size());
    }
    if (absl::Status allowed = Authorize(caller_, Action::kRecordMarks, request_.school_id());
        !allowed.ok()) {
      SPDLOG_LOGGER_WARN(&Log(), "denied StreamMarks batch {}: caller=\"{}\" school={}: {}", index,
                         caller_.name, ledger::Quoted(request_.school_id()),
                         std::string(allowed.message()));
      request_ = v1::RecordMarksRequest();
      OnBatchDone(slot, index, allowed);
      std::unique_lock lock(mu_);
      reading_ = false;
      Advance(std::move(lock));
      return;
    }
    // Without the lock: a batch refused at submission is answered inline.
    ledger_.RecordMarksAsync(actor_, std::move(request_),
                             [this, slot, index](absl::StatusOr<v1::RecordMarksResponse> result) {
                               OnBatchDone(slot, index, std::move(result));
                             });
    request_ = v1::RecordMarksRequest();  // frees what the move left behind
    std::unique_lock lock(mu_);
    reading_ = false;
    Advance(std::move(lock));
  }

  void OnWriteDone(bool ok) override {
    std::unique_lock lock(mu_);
    writing_ = false;
    window_.pop_front();
    if (!ok) write_failed_ = true;
    Advance(std::move(lock));
  }

  void OnCancel() override {
    std::unique_lock lock(mu_);
    cancelled_ = true;
    Advance(std::move(lock));
  }

  void OnDone() override { delete this; }

 private:
  struct Slot {
    v1::StreamMarksResponse response;
    bool ready = false;
  };

  // On the ledger's writer thread: must be quick.
  void OnBatchDone(Slot* slot, std::uint64_t index,
                   absl::StatusOr<v1::RecordMarksResponse> result) {
    std::unique_lock lock(mu_);
    if (result.ok()) {
      *slot->response.mutable_result() = std::move(*result);
    } else {
      grpc::Status status = ToGrpcStatus(result.status());
      slot->response.set_error_code(status.error_code());
      slot->response.set_error_message(status.error_message());
      SPDLOG_LOGGER_WARN(&Log(), "StreamMarks batch {} rejected: {}", index,
                         result.status().ToString());
    }
    slot->ready = true;
    --pending_;
    Advance(std::move(lock));
  }

  // Starts the next read, the next answer or the end of the call, whichever
  // are due; takes the lock held and releases it before starting them.
  void Advance(std::unique_lock<std::mutex> lock) {
    const bool gone = cancelled_ || write_failed_;
    const bool start_read = !reading_ && !read_done_ && !gone && window_.size() < kStreamWindow;
    if (start_read) reading_ = true;
    const v1::StreamMarksResponse* answer = nullptr;
    if (!writing_ && !gone && !window_.empty() && window_.front().ready) {
      writing_ = true;
      answer = &window_.front().response;
    }
    const bool idle = !reading_ && !writing_ && pending_ == 0;
    const bool finish = !finished_ && idle && (gone || (read_done_ && window_.empty()));
    grpc::Status status;
    if (finish) {
      finished_ = true;
      SPDLOG_LOGGER_INFO(&Log(), "StreamMarks ended: {} batches, {} marks, actor={}", batches_,
                         marks_, actor_.name);
      if (write_failed_) {
        status = {grpc::StatusCode::CANCELLED, "the client stopped reading"};
      } else if (cancelled_) {
        status = {grpc::StatusCode::CANCELLED, "the client went away"};
      }
    }
    lock.unlock();
    if (answer != nullptr) StartWrite(answer);
    if (start_read) StartRead(&request_);
    if (finish) {
      // Before Finish: a client told the stream is over may open the next.
      stream_ticket_.Release();
      Finish(status);
    }
  }

  ledger::Ledger& ledger_;
  const Caller caller_;
  const ledger::Principal actor_;
  CallLimiter::Ticket stream_ticket_;
  v1::RecordMarksRequest request_;  // the read in progress; only its reactions touch it

  std::mutex mu_;
  std::deque<Slot> window_;  // batches not yet answered, in order
  std::uint64_t next_index_ = 0;
  std::uint64_t batches_ = 0;
  std::uint64_t marks_ = 0;
  int pending_ = 0;         // batches submitted whose result has not come back
  bool reading_ = false;    // a read is outstanding
  bool read_done_ = false;  // the client half-closed (or the call ended)
  bool writing_ = false;    // an answer is being written
  bool write_failed_ = false;
  bool cancelled_ = false;
  bool finished_ = false;
};

}  // namespace

template <typename Response, typename Call>
grpc::Status LedgerServiceImpl::Unary(const char* method, Action action,
                                      grpc::ServerContext* context, const std::string& school_id,
                                      const std::string& request_id, Response* response,
                                      Call call) {
  absl::StatusOr<Caller> caller = auth_->Authorize(*context, method, action, school_id);
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const ledger::Principal actor = ToPrincipal(*caller);
  SPDLOG_LOGGER_DEBUG(&Log(), "{} school={} request_id={} actor={}/{}", method, school_id,
                      request_id, actor.name, actor.role);
  absl::Status admitted = absl::OkStatus();
  if (CallLimiter* limiter = limiter_.load()) admitted = limiter->CheckCalls();
  absl::StatusOr<Response> result =
      admitted.ok() ? call(actor) : absl::StatusOr<Response>(std::move(admitted));
  if (!result.ok()) {
    SPDLOG_LOGGER_WARN(&Log(), "{} rejected: school={} request_id={} actor={} status={}", method,
                       school_id, request_id, actor.name, result.status().ToString());
    return ToGrpcStatus(result.status());
  }
  *response = std::move(*result);
  return grpc::Status::OK;
}

grpc::Status LedgerServiceImpl::RecordMarks(grpc::ServerContext* context,
                                            const v1::RecordMarksRequest* request,
                                            v1::RecordMarksResponse* response) {
  grpc::Status status = Unary("RecordMarks", Action::kRecordMarks, context, request->school_id(),
                              request->request_id(), response, [&](const ledger::Principal& actor) {
                                return ledger_.RecordMarks(actor, *request);
                              });
  if (status.ok()) {
    SPDLOG_LOGGER_INFO(&Log(), "RecordMarks school={} request_id={} marks={} positions={}..{}{}",
                       request->school_id(), request->request_id(), response->recorded(),
                       response->first_position(), response->last_position(),
                       response->replayed() ? " (replayed)" : "");
  }
  return status;
}

grpc::ServerBidiReactor<v1::RecordMarksRequest, v1::StreamMarksResponse>*
LedgerServiceImpl::StreamMarks(grpc::CallbackServerContext* context) {
  // Authenticated once per stream; each batch names its school and is
  // authorised on its own (MarksStream::OnReadDone).
  absl::StatusOr<Caller> caller = auth_->Authenticate(*context, "StreamMarks");
  if (!caller.ok()) return new RefusedStream(ToGrpcStatus(caller.status()));
  CallLimiter::Ticket stream_ticket;
  if (CallLimiter* limiter = limiter_.load()) {
    absl::Status admitted = limiter->CheckCalls();
    if (admitted.ok()) admitted = limiter->EnterMarkStream(stream_ticket);
    if (!admitted.ok()) {
      SPDLOG_LOGGER_WARN(&Log(), "StreamMarks refused: actor={} status={}", caller->name,
                         admitted.ToString());
      return new RefusedStream(ToGrpcStatus(admitted));
    }
  }
  return new MarksStream(ledger_, *std::move(caller), std::move(stream_ticket));
}

namespace {

// What an accepted write adds to the info log beside Unary's debug line:
// nothing, but for amendments, which an operator follows code by code.
template <typename Request, typename Response>
void LogAccepted(const Request&, const Response&) {}

void LogAccepted(const v1::AmendMarkRequest& request, const v1::AmendMarkResponse& response) {
  SPDLOG_LOGGER_INFO(&Log(), "AmendMark school={} pupil={} {} {} {}->{} position={}",
                     request.school_id(), request.pupil_id(), request.date(),
                     v1::Session_Name(request.session()), response.original_code(),
                     request.amended_code(), response.position());
}

void LogAccepted(const v1::ImportHistoryRequest& request,
                 const v1::ImportHistoryResponse& response) {
  SPDLOG_LOGGER_INFO(&Log(),
                     "ImportHistory school={} request_id={} source={} marks={} amendments={} "
                     "skipped={} positions={}..{}{}",
                     request.school_id(), request.request_id(), request.source(),
                     response.marks_written(), response.amendments_written(), response.skipped(),
                     response.first_position(), response.last_position(),
                     response.replayed() ? " (replayed)" : "");
}

}  // namespace

// The handlers of ledger/command_table.h's commands.
#define ATTENDANCE_DEFINE(Name, Request, Response, tag, access)                                   \
  grpc::Status LedgerServiceImpl::Name(grpc::ServerContext* context, const v1::Request* request,  \
                                       v1::Response* response) {                                  \
    grpc::Status status = Unary(                                                                  \
        #Name, Action::k##access, context, request->school_id(), request->request_id(), response, \
        [&](const ledger::Principal& actor) { return ledger_.Name(actor, *request); });           \
    if (status.ok()) LogAccepted(*request, *response);                                            \
    return status;                                                                                \
  }
ATTENDANCE_LEDGER_COMMANDS(ATTENDANCE_DEFINE)
#undef ATTENDANCE_DEFINE

grpc::Status LedgerServiceImpl::ReadEvents(grpc::ServerContext* context,
                                           const v1::ReadEventsRequest* request,
                                           grpc::ServerWriter<v1::EventEnvelope>* writer) {
  absl::StatusOr<Caller> caller =
      auth_->Authorize(*context, "ReadEvents", Action::kReadEvents, request->school_id());
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  const bool redact = !SeesPersonalData(*caller);
  v1::EventEnvelope redacted;
  // One entry per event type at most (README, "Limits").
  constexpr int kMaxEventTypes = v1::EventType_MAX;
  if (request->event_types_size() > kMaxEventTypes) {
    return {grpc::StatusCode::INVALID_ARGUMENT,
            "event_types: " + std::to_string(request->event_types_size()) +
                " types is more than the limit of " + std::to_string(kMaxEventTypes)};
  }
  absl::flat_hash_set<int> types;
  for (int i = 0; i < request->event_types_size(); ++i) {
    const int type = request->event_types(i);
    if (type == v1::EVENT_TYPE_UNSPECIFIED || !v1::EventType_IsValid(type)) {
      return {grpc::StatusCode::INVALID_ARGUMENT, "event_types[" + std::to_string(i) +
                                                      "]: " + std::to_string(type) +
                                                      " is not an event type"};
    }
    // EventType numbers follow the payload's field numbers (20 + type - 1).
    types.insert(19 + type);
  }
  // The tail reads from disk one bounded chunk at a time and pins no
  // snapshot, so a client that stops reading costs one chunk, not the log.
  const ledger::Position stop_after =
      request->follow() ? std::numeric_limits<ledger::Position>::max() : ledger_.LastPosition();
  ledger::LogTail tail(ledger_, request->from_position());
  ledger::EventChunk chunk;
  std::uint64_t sent = 0;
  bool client_gone = false;
  bool done = false;
  absl::Status status;
  while (!done && tail.next_position() <= stop_after) {
    if (context->IsCancelled()) {
      client_gone = true;
      break;
    }
    // Wake now and then to notice a cancelled call or a passed deadline.
    status = tail.Next(std::chrono::steady_clock::now() + kFollowPoll, chunk);
    if (!status.ok()) break;
    for (const v1::EventEnvelope& event : chunk.events) {
      if (event.position() > stop_after) {
        done = true;
        break;
      }
      if (!request->school_id().empty() && event.school_id() != request->school_id()) continue;
      if (!types.empty() && !types.contains(static_cast<int>(event.payload_case()))) continue;
      const v1::EventEnvelope* out = &event;
      if (redact && (event.has_pupil_enrolled() || event.has_pupil_updated() ||
                     event.has_action_recorded())) {
        redacted = event;
        RedactEvent(redacted);
        out = &redacted;
      }
      if (!writer->Write(*out)) {
        client_gone = true;
        done = true;
        break;
      }
      ++sent;
      if (request->max_events() != 0 && sent >= request->max_events()) {
        done = true;
        break;
      }
    }
  }
  SPDLOG_LOGGER_DEBUG(&Log(), "ReadEvents from={} school={} sent={}", request->from_position(),
                      request->school_id(), sent);
  if (!status.ok()) return ToGrpcStatus(status);
  if (client_gone) return {grpc::StatusCode::CANCELLED, "the client went away"};
  return grpc::Status::OK;
}

}  // namespace attendance::services
