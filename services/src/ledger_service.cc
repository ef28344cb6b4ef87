#include "services/ledger_service.h"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <limits>
#include <mutex>
#include <thread>

#include "absl/container/flat_hash_set.h"
#include "logger.h"
#include "services/grpc_status.h"
#include "services/principal.h"

namespace attendance::services {
namespace {

// Batches a StreamMarks call may have in flight before it stops reading.
constexpr std::size_t kStreamWindow = 16;

// How long a following ReadEvents waits for a commit before it looks again
// at whether its call was cancelled.
constexpr auto kFollowPoll = std::chrono::milliseconds(200);

// Runs one unary write: logs it, maps the status, fills the response.
template <typename Response, typename Call>
grpc::Status Unary(const char* method, grpc::ServerContext* context, const std::string& school_id,
                   const std::string& request_id, Response* response, Call call) {
  const ledger::Principal actor = PrincipalOf(*context);
  SPDLOG_LOGGER_DEBUG(&Log(), "{} school={} request_id={} actor={}/{}", method, school_id,
                      request_id, actor.name, actor.role);
  absl::StatusOr<Response> result = call(actor);
  if (!result.ok()) {
    SPDLOG_LOGGER_WARN(&Log(), "{} rejected: school={} request_id={} actor={} status={}", method,
                       school_id, request_id, actor.name, result.status().ToString());
    return ToGrpcStatus(result.status());
  }
  *response = std::move(*result);
  return grpc::Status::OK;
}

}  // namespace

grpc::Status LedgerServiceImpl::RecordMarks(grpc::ServerContext* context,
                                            const v1::RecordMarksRequest* request,
                                            v1::RecordMarksResponse* response) {
  grpc::Status status = Unary("RecordMarks", context, request->school_id(), request->request_id(),
                              response, [&](const ledger::Principal& actor) {
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

grpc::Status LedgerServiceImpl::StreamMarks(
    grpc::ServerContext* context,
    grpc::ServerReaderWriter<v1::StreamMarksResponse, v1::RecordMarksRequest>* stream) {
  const ledger::Principal actor = PrincipalOf(*context);
  // Answers are written in batch order by this thread while the handler
  // thread keeps reading, so that several batches share one WAL sync.
  struct Slot {
    v1::StreamMarksResponse response;
    bool ready = false;
  };
  std::mutex mu;
  std::condition_variable cv;
  std::deque<Slot> window;  // slots of batches not yet answered, in order
  std::uint64_t next_index = 0;
  bool reading_done = false;
  bool write_failed = false;

  std::thread writer([&] {
    for (;;) {
      v1::StreamMarksResponse response;
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return (!window.empty() && window.front().ready) ||
                                   (reading_done && window.empty()); });
        if (window.empty()) return;
        response = std::move(window.front().response);
        window.pop_front();
      }
      cv.notify_all();
      if (!write_failed && !stream->Write(response)) {
        std::lock_guard lock(mu);
        write_failed = true;
      }
    }
  });

  v1::RecordMarksRequest request;
  std::uint64_t batches = 0, marks = 0;
  while (stream->Read(&request)) {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return window.size() < kStreamWindow || write_failed; });
    if (write_failed) break;
    const std::uint64_t index = next_index++;
    window.push_back({});
    Slot* slot = &window.back();  // deque::push_back keeps references valid
    lock.unlock();
    slot->response.set_batch_index(index);
    slot->response.set_request_id(request.request_id());
    ++batches;
    marks += static_cast<std::uint64_t>(request.marks_size());
    ledger_.RecordMarksAsync(
        actor, std::move(request),
        [&, slot, index](absl::StatusOr<v1::RecordMarksResponse> result) {
          {
            std::lock_guard slot_lock(mu);
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
            // Notify under the lock: once it is released the handler may
            // return and destroy `cv`.
            cv.notify_all();
          }
        });
    request = v1::RecordMarksRequest();
  }
  {
    std::unique_lock lock(mu);
    reading_done = true;
    cv.notify_all();
  }
  writer.join();
  SPDLOG_LOGGER_INFO(&Log(), "StreamMarks ended: {} batches, {} marks, actor={}", batches, marks,
                     actor.name);
  if (write_failed) return {grpc::StatusCode::CANCELLED, "the client stopped reading"};
  return grpc::Status::OK;
}

grpc::Status LedgerServiceImpl::AmendMark(grpc::ServerContext* context,
                                          const v1::AmendMarkRequest* request,
                                          v1::AmendMarkResponse* response) {
  grpc::Status status = Unary("AmendMark", context, request->school_id(), request->request_id(),
                              response, [&](const ledger::Principal& actor) {
                                return ledger_.AmendMark(actor, *request);
                              });
  if (status.ok()) {
    SPDLOG_LOGGER_INFO(&Log(), "AmendMark school={} pupil={} {} {} {}->{} position={}",
                       request->school_id(), request->pupil_id(), request->date(),
                       v1::Session_Name(request->session()), response->original_code(),
                       request->amended_code(), response->position());
  }
  return status;
}

#define ATTENDANCE_UNARY_WRITE(Method, Request)                                             \
  grpc::Status LedgerServiceImpl::Method(grpc::ServerContext* context, const Request* request, \
                                         v1::WriteResponse* response) {                     \
    return Unary(#Method, context, request->school_id(), request->request_id(), response,    \
                 [&](const ledger::Principal& actor) { return ledger_.Method(actor, *request); }); \
  }

ATTENDANCE_UNARY_WRITE(RecordLetter, v1::RecordLetterRequest)
ATTENDANCE_UNARY_WRITE(EnrolPupil, v1::EnrolPupilRequest)
ATTENDANCE_UNARY_WRITE(UpdatePupil, v1::UpdatePupilRequest)
ATTENDANCE_UNARY_WRITE(RemoveFromRoll, v1::RemoveFromRollRequest)
ATTENDANCE_UNARY_WRITE(SetSchoolCalendar, v1::SetSchoolCalendarRequest)
ATTENDANCE_UNARY_WRITE(SetSchoolSettings, v1::SetSchoolSettingsRequest)
#undef ATTENDANCE_UNARY_WRITE

grpc::Status LedgerServiceImpl::ReadEvents(grpc::ServerContext* context,
                                           const v1::ReadEventsRequest* request,
                                           grpc::ServerWriter<v1::EventEnvelope>* writer) {
  absl::flat_hash_set<int> types;
  for (int i = 0; i < request->event_types_size(); ++i) {
    const int type = request->event_types(i);
    if (type == v1::EVENT_TYPE_UNSPECIFIED || !v1::EventType_IsValid(type)) {
      return {grpc::StatusCode::INVALID_ARGUMENT,
              "event_types[" + std::to_string(i) + "]: " + std::to_string(type) +
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
      if (!writer->Write(event)) {
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
