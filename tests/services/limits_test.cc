// The server's fairness limits through a real gRPC server on 127.0.0.1
// port 0 and real stubs: StreamMarks streams cost no thread each, the
// stream and call limits answer RESOURCE_EXHAUSTED naming the limit while
// the calls already admitted go on, the synchronous server's threads stay
// under --max-threads, and every count returns to zero when the calls end.
#include <dirent.h>

#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>
#include <catch2/catch.hpp>

#include "attendance/v1/ledger_service.grpc.pb.h"
#include "services/ledger_service.h"
#include "services/server.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

using MarksStream = grpc::ClientReaderWriter<v1::RecordMarksRequest, v1::StreamMarksResponse>;

// Threads of this process (the in-process server's among them).
int ThreadCount() {
  int count = 0;
  DIR* dir = opendir("/proc/self/task");
  REQUIRE(dir != nullptr);
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count;
}

struct LimitsFixture : LedgerFixture {
  explicit LimitsFixture(const services::ServerLimits& limits)
      : LedgerFixture(3), service(*ledger) {
    auto started = services::Server::Start("127.0.0.1:0", {&service}, limits);
    REQUIRE(started.ok());
    server = std::move(*started);
    channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                                  grpc::InsecureChannelCredentials());
    stub = v1::Ledger::NewStub(channel);
  }
  ~LimitsFixture() { server->Shutdown(); }

  std::unique_ptr<grpc::ClientContext> Context() {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("x-actor-name", "Ms T. Teacher");
    context->AddMetadata("x-actor-role", "teacher");
    return context;
  }

  // The server has let go of every call: the counts drop when gRPC destroys
  // a call, a moment after the client has its status.
  void WaitForCallsToEnd() {
    for (int i = 0;
         i < 2000 && (server->calls().calls_in_flight() > 0 || server->calls().mark_streams() > 0);
         ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    REQUIRE(server->calls().calls_in_flight() == 0);
    REQUIRE(server->calls().mark_streams() == 0);
  }

  services::LedgerServiceImpl service;
  std::unique_ptr<services::Server> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Ledger::Stub> stub;
};

v1::RecordMarksRequest OneMark(const std::string& id, const std::string& pupil,
                               const std::string& date, const std::string& code) {
  v1::RecordMarksRequest request;
  request.set_school_id("s1");
  request.set_request_id(id);
  *request.add_marks() = MakeMark(pupil, date, v1::AM, code);
  return request;
}

// An open stream whose first batch has been answered, so the server holds it.
struct OpenStream {
  std::unique_ptr<grpc::ClientContext> context;
  std::unique_ptr<MarksStream> stream;
  v1::StreamMarksResponse first;
};

OpenStream Open(LimitsFixture& f, const v1::RecordMarksRequest& batch) {
  OpenStream open{f.Context(), nullptr, {}};
  open.stream = f.stub->StreamMarks(open.context.get());
  REQUIRE(open.stream->Write(batch));
  REQUIRE(open.stream->Read(&open.first));
  return open;
}

grpc::Status Close(OpenStream& open) {
  open.stream->WritesDone();
  v1::StreamMarksResponse extra;
  while (open.stream->Read(&extra)) {
  }
  return open.stream->Finish();
}

TEST_CASE("400 StreamMarks streams on one connection cost no thread each", "[services][limits]") {
  services::ServerLimits limits;
  limits.max_streams_per_connection = 1000;
  limits.max_mark_streams = 1000;
  limits.max_calls = 1000;
  LimitsFixture f(limits);
  // A first stream, so that gRPC's own pools are up before counting.
  OpenStream warm = Open(f, OneMark("warm", "p1", "2025-09-08", "/"));
  REQUIRE(warm.first.result().recorded() == 1);
  REQUIRE(Close(warm).ok());
  const int before = ThreadCount();

  constexpr int kStreams = 400;
  std::vector<OpenStream> streams;
  streams.reserve(kStreams);
  for (int i = 0; i < kStreams; ++i) {
    // Rejected batches: the stream is what is measured, not the writes.
    streams.push_back(Open(f, OneMark("x" + std::to_string(i), "p1", "2025-09-08", "ZZ")));
    CHECK(streams.back().first.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }
  REQUIRE(f.server->calls().mark_streams() == kStreams);
  const int during = ThreadCount();
  WARN("threads: " << before << " before, " << during << " with " << kStreams << " streams open");
  // One thread per stream (the old handler used two) would add 400 or more.
  CHECK(during - before < 40);

  // Each stream still answers, in order.
  for (int i = 0; i < kStreams; ++i) {
    REQUIRE(streams[i].stream->Write(OneMark("y" + std::to_string(i), "p2", "2025-09-08", "ZZ")));
    v1::StreamMarksResponse answer;
    REQUIRE(streams[i].stream->Read(&answer));
    CHECK(answer.batch_index() == 1);
    CHECK(answer.request_id() == "y" + std::to_string(i));
  }
  for (auto& open : streams) CHECK(Close(open).ok());
  f.WaitForCallsToEnd();
}

TEST_CASE("a StreamMarks stream over --max-mark-streams is refused; the others go on",
          "[services][limits]") {
  services::ServerLimits limits;
  limits.max_mark_streams = 2;
  LimitsFixture f(limits);
  OpenStream a = Open(f, OneMark("a1", "p1", "2025-09-08", "/"));
  OpenStream b = Open(f, OneMark("b1", "p2", "2025-09-08", "/"));
  REQUIRE(a.first.result().recorded() == 1);
  REQUIRE(b.first.result().recorded() == 1);
  const auto position = f.ledger->LastPosition();

  auto context = f.Context();
  auto refused = f.stub->StreamMarks(context.get());
  refused->Write(OneMark("c1", "p3", "2025-09-08", "/"));  // may fail: the call is over
  v1::StreamMarksResponse none;
  CHECK_FALSE(refused->Read(&none));
  grpc::Status status = refused->Finish();
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(status.error_message(),
             Catch::Contains("--max-mark-streams") && Catch::Contains("2 StreamMarks streams"));
  CHECK(f.ledger->LastPosition() == position);

  // The two admitted streams are unaffected.
  REQUIRE(a.stream->Write(OneMark("a2", "p1", "2025-09-09", "/")));
  v1::StreamMarksResponse answer;
  REQUIRE(a.stream->Read(&answer));
  CHECK(answer.result().recorded() == 1);
  CHECK(Close(a).ok());
  CHECK(Close(b).ok());
  f.WaitForCallsToEnd();

  // Freed: a new stream is admitted.
  OpenStream c = Open(f, OneMark("c1", "p3", "2025-09-08", "/"));
  CHECK(c.first.result().recorded() == 1);
  CHECK(Close(c).ok());
  f.WaitForCallsToEnd();
}

TEST_CASE("calls over --max-calls are refused and write nothing", "[services][limits]") {
  services::ServerLimits limits;
  limits.max_calls = 2;
  LimitsFixture f(limits);
  OpenStream a = Open(f, OneMark("a1", "p1", "2025-09-08", "/"));
  OpenStream b = Open(f, OneMark("b1", "p2", "2025-09-08", "/"));
  REQUIRE(f.server->calls().calls_in_flight() == 2);
  const auto position = f.ledger->LastPosition();

  v1::RecordMarksResponse response;
  grpc::Status status =
      f.stub->RecordMarks(f.Context().get(), OneMark("u1", "p3", "2025-09-08", "/"), &response);
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(status.error_message(),
             Catch::Contains("--max-calls") && Catch::Contains("limit of 2"));

  auto context = f.Context();
  auto refused = f.stub->StreamMarks(context.get());
  refused->Write(OneMark("c1", "p3", "2025-09-08", "/"));
  v1::StreamMarksResponse none;
  CHECK_FALSE(refused->Read(&none));
  status = refused->Finish();
  CHECK(status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(status.error_message(), Catch::Contains("--max-calls"));
  CHECK(f.ledger->LastPosition() == position);

  CHECK(Close(a).ok());
  CHECK(Close(b).ok());
  f.WaitForCallsToEnd();
  status =
      f.stub->RecordMarks(f.Context().get(), OneMark("u1", "p3", "2025-09-08", "/"), &response);
  REQUIRE(status.ok());
  CHECK(response.recorded() == 1);
}

TEST_CASE("calls over --max-streams-per-connection wait on the client's side",
          "[services][limits]") {
  services::ServerLimits limits;
  limits.max_streams_per_connection = 2;
  LimitsFixture f(limits);
  OpenStream a = Open(f, OneMark("a1", "p1", "2025-09-08", "/"));
  OpenStream b = Open(f, OneMark("b1", "p2", "2025-09-08", "/"));
  // A third call on the same connection is never sent while both are open:
  // it can only run out of time, however long the deadline.
  auto context = f.Context();
  context->set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  v1::RecordMarksResponse response;
  grpc::Status status =
      f.stub->RecordMarks(context.get(), OneMark("c1", "p3", "2025-09-08", "/"), &response);
  CHECK(status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  CHECK(f.server->calls().calls_in_flight() == 2);
  CHECK(Close(a).ok());
  CHECK(Close(b).ok());
  REQUIRE(f.stub->RecordMarks(f.Context().get(), OneMark("c2", "p3", "2025-09-08", "/"), &response)
              .ok());
  CHECK(response.recorded() == 1);
  f.WaitForCallsToEnd();
}

TEST_CASE("a StreamMarks stream whose client goes away is let go", "[services][limits]") {
  LimitsFixture f(services::ServerLimits{});
  OpenStream open = Open(f, OneMark("a1", "p1", "2025-09-08", "/"));
  // Batches in flight when the client cancels: the server waits for their
  // results before it lets go of the stream.
  for (int i = 0; i < 8; ++i) {
    open.stream->Write(OneMark("b" + std::to_string(i), "p2", "2025-09-08", "ZZ"));
  }
  open.context->TryCancel();
  CHECK(open.stream->Finish().error_code() == grpc::StatusCode::CANCELLED);
  f.WaitForCallsToEnd();
  OpenStream next = Open(f, OneMark("c1", "p3", "2025-09-08", "/"));
  CHECK(next.first.result().recorded() == 1);
  CHECK(Close(next).ok());
  f.WaitForCallsToEnd();
}

// Server reflection is a synchronous bidi stream that holds a server thread
// for as long as it is open: a stand-in for any flood of synchronous calls.
struct HeldSyncCall {
  grpc::ClientContext context;
  std::unique_ptr<grpc::GenericClientAsyncReaderWriter> call;
  bool answered = false;
  grpc::Status status;
};

bool Await(grpc::CompletionQueue& cq, void* tag) {
  void* got = nullptr;
  bool ok = false;
  REQUIRE(cq.Next(&got, &ok));
  REQUIRE(got == tag);
  return ok;
}

TEST_CASE("synchronous calls cannot grow the server's threads past --max-threads",
          "[services][limits]") {
  services::ServerLimits limits;
  limits.max_threads = 8;
  LimitsFixture f(limits);
  const int before = ThreadCount();
  grpc::GenericStub generic(f.channel);
  grpc::CompletionQueue cq;
  // ServerReflectionRequest{list_services: ""}: field 7, length 0.
  const std::string list_services("\x3a\x00", 2);
  constexpr int kCalls = 40;
  std::vector<std::unique_ptr<HeldSyncCall>> calls;
  int answered = 0, exhausted = 0;
  for (int i = 0; i < kCalls; ++i) {
    auto held = std::make_unique<HeldSyncCall>();
    held->call = generic.PrepareCall(
        &held->context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
    void* tag = held.get();
    held->call->StartCall(tag);
    REQUIRE(Await(cq, tag));
    grpc::Slice slice(list_services);
    grpc::ByteBuffer request(&slice, 1);
    held->call->Write(request, tag);
    Await(cq, tag);  // fails once the server has refused the call
    grpc::ByteBuffer reply;
    held->call->Read(&reply, tag);
    held->answered = Await(cq, tag);
    if (held->answered) {
      ++answered;
    } else {
      held->call->Finish(&held->status, tag);
      REQUIRE(Await(cq, tag));
      CHECK(held->status.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
      ++exhausted;
    }
    calls.push_back(std::move(held));
  }
  const int during = ThreadCount();
  WARN("threads: " << before << " before, " << during << " with " << kCalls
                   << " synchronous calls attempted; " << answered << " held, " << exhausted
                   << " refused");
  CHECK(answered < limits.max_threads);
  CHECK(answered + exhausted == kCalls);
  CHECK(during - before <= limits.max_threads);

  for (auto& held : calls) {
    if (!held->answered) continue;
    void* tag = held.get();
    held->call->WritesDone(tag);
    Await(cq, tag);
    held->call->Finish(&held->status, tag);
    Await(cq, tag);
    CHECK(held->status.ok());
  }
  cq.Shutdown();
  void* tag;
  bool ok;
  while (cq.Next(&tag, &ok)) {
  }
  f.WaitForCallsToEnd();
}

}  // namespace
}  // namespace attendance::testing
