// Issue 10, findings 1 and 5 as a gRPC client sees them: request caps, and
// status messages that are valid UTF-8 (a StreamMarks client in Python
// failed the whole stream on one that was not).
#include <grpcpp/grpcpp.h>
#include <catch2/catch.hpp>

#include "attendance/v1/ledger_service.grpc.pb.h"
#include "ledger/types.h"
#include "services/grpc_status.h"
#include "services/ledger_service.h"
#include "services/server.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

std::string Repeat(const std::string& s, int n) {
  std::string out;
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

struct Served : LedgerFixture {
  Served() : LedgerFixture(2), service(*ledger) {
    auto started = services::Server::Start("127.0.0.1:0", {&service});
    REQUIRE(started.ok());
    server = std::move(*started);
    stub = v1::Ledger::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                                                   grpc::InsecureChannelCredentials()));
  }
  void Actor(grpc::ClientContext& context) {
    context.AddMetadata("x-actor-name", "Ms T. Teacher");
    context.AddMetadata("x-actor-role", "teacher");
  }
  services::LedgerServiceImpl service;
  std::unique_ptr<services::Server> server;
  std::unique_ptr<v1::Ledger::Stub> stub;
};

TEST_CASE(
    "StreamMarks: a batch whose school_id is thirty euro signs, then a valid batch: "
    "both answered, the error in valid UTF-8",
    "[services][utf8]") {
  Served f;
  grpc::ClientContext context;
  f.Actor(context);
  auto stream = f.stub->StreamMarks(&context);
  v1::RecordMarksRequest bad;
  bad.set_school_id(Repeat("\xe2\x82\xac", 30));
  bad.set_request_id("euro-1");
  *bad.add_marks() = MakeMark("p1", "2025-09-08", v1::AM, "/");
  v1::RecordMarksRequest good = bad;
  good.set_school_id("s1");
  good.set_request_id("good-1");
  REQUIRE(stream->Write(bad));
  REQUIRE(stream->Write(good));
  stream->WritesDone();
  std::vector<v1::StreamMarksResponse> answers;
  v1::StreamMarksResponse answer;
  while (stream->Read(&answer)) answers.push_back(answer);
  REQUIRE(stream->Finish().ok());
  REQUIRE(answers.size() == 2);
  CHECK(answers[0].error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(ledger::IsValidUtf8(answers[0].error_message()));
  CHECK(answers[0].error_message() == "school_id: \"" + Repeat("\xe2\x82\xac", 30) +
                                          "\" may only contain letters, digits and - _ . :");
  CHECK(answers[1].error_code() == 0);
  CHECK(answers[1].result().recorded() == 1);
}

TEST_CASE("ToGrpcStatus keeps any message valid UTF-8", "[services][utf8]") {
  const grpc::Status s = services::ToGrpcStatus(absl::InvalidArgumentError("pupil \"\xe2\x82\""));
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "pupil \"\\xe2\\x82\"");
}

TEST_CASE("ReadEvents refuses more event types than there are", "[services][limits]") {
  Served f;
  v1::ReadEventsRequest request;
  for (int i = 0; i < 1'000'000; ++i) request.add_event_types(v1::MARK_RECORDED);
  grpc::ClientContext context;
  auto reader = f.stub->ReadEvents(&context, request);
  v1::EventEnvelope event;
  CHECK_FALSE(reader->Read(&event));
  const grpc::Status s = reader->Finish();
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  // One entry per event type at most (EventType_MAX: the types there are).
  CHECK(s.error_message() == "event_types: 1000000 types is more than the limit of " +
                                 std::to_string(v1::EventType_MAX));
}

TEST_CASE("RecordMarks refuses a batch over 10,000 marks, naming the limit", "[services][limits]") {
  Served f;
  v1::RecordMarksRequest request;
  request.set_school_id("s1");
  for (int i = 0; i < 10'001; ++i) *request.add_marks() = MakeMark("p1", "2025-09-08", v1::AM, "/");
  grpc::ClientContext context;
  f.Actor(context);
  v1::RecordMarksResponse response;
  const grpc::Status s = f.stub->RecordMarks(&context, request, &response);
  CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(s.error_message() == "marks: 10001 marks is more than the limit of 10000 per batch");
}

}  // namespace
}  // namespace attendance::testing
