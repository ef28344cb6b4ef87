// attendance.v1.Ledger through a real gRPC server on 127.0.0.1 port 0 and a
// real stub: status codes and messages as a client sees them, streaming, and
// the standard health and reflection services.
#include <chrono>
#include <memory>

#include <grpcpp/grpcpp.h>
#include <catch2/catch.hpp>

#include "attendance/v1/ledger_service.grpc.pb.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "services/ledger_service.h"
#include "services/server.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

struct ServiceFixture : LedgerFixture {
  ServiceFixture() : LedgerFixture(3), service(*ledger) {
    auto started = services::Server::Start("127.0.0.1:0", {&service});
    REQUIRE(started.ok());
    server = std::move(*started);
    channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                                  grpc::InsecureChannelCredentials());
    stub = v1::Ledger::NewStub(channel);
  }
  ~ServiceFixture() { server->Shutdown(); }

  std::unique_ptr<grpc::ClientContext> Context(bool with_actor = true) {
    auto context = std::make_unique<grpc::ClientContext>();
    if (with_actor) {
      context->AddMetadata("x-actor-name", "Ms T. Teacher");
      context->AddMetadata("x-actor-role", "teacher");
    }
    return context;
  }

  services::LedgerServiceImpl service;
  std::unique_ptr<services::Server> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Ledger::Stub> stub;
};

v1::RecordMarksRequest Batch(const std::string& id, std::vector<v1::Mark> marks) {
  v1::RecordMarksRequest request;
  request.set_school_id("s1");
  request.set_request_id(id);
  for (auto& m : marks) *request.add_marks() = std::move(m);
  return request;
}

TEST_CASE("RecordMarks over gRPC: accepted, replayed, rejected", "[services]") {
  ServiceFixture f;
  v1::RecordMarksResponse response;
  auto request = Batch(
      "g1", {MakeMark("p1", "2025-09-08", v1::AM, "/"), MakeMark("p2", "2025-09-08", v1::AM, "L")});
  request.mutable_marks(1)->set_minutes_late(7);
  grpc::Status status = f.stub->RecordMarks(f.Context().get(), request, &response);
  REQUIRE(status.ok());
  CHECK(response.recorded() == 2);

  v1::RecordMarksResponse again;
  REQUIRE(f.stub->RecordMarks(f.Context().get(), request, &again).ok());
  CHECK(again.replayed());
  CHECK(again.first_position() == response.first_position());

  const auto position = f.ledger->LastPosition();
  v1::RecordMarksResponse rejected;
  status = f.stub->RecordMarks(f.Context().get(),
                               Batch("g2", {MakeMark("p3", "2025-09-08", v1::AM, "/"),
                                            MakeMark("p3", "2025-09-08", v1::PM, "ZZ")}),
                               &rejected);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("marks[1].code") && Catch::Contains("ZZ"));
  CHECK(f.ledger->LastPosition() == position);

  // Local mode (no tokens file): every caller is "local admin", whatever
  // the metadata claims (services/authenticator.h; tokens in e2e.security).
  v1::RecordMarksResponse local;
  status = f.stub->RecordMarks(f.Context(false).get(),
                               Batch("g3", {MakeMark("p3", "2025-09-09", v1::AM, "/")}), &local);
  REQUIRE(status.ok());
  std::string recorded_by;
  REQUIRE(f.ledger
              ->ForEachEvent(local.first_position(),
                             [&](const v1::EventEnvelope& event) {
                               recorded_by = event.actor().name() + "/" + event.actor().role();
                               return false;
                             })
              .ok());
  CHECK(recorded_by == "local admin/admin");
}

TEST_CASE("AmendMark over gRPC maps NOT_FOUND and ABORTED", "[services]") {
  ServiceFixture f;
  v1::RecordMarksResponse recorded;
  REQUIRE(f.stub
              ->RecordMarks(f.Context().get(),
                            Batch("m", {MakeMark("p1", "2025-09-08", v1::AM, "N")}), &recorded)
              .ok());
  v1::AmendMarkRequest amend;
  amend.set_school_id("s1");
  amend.set_pupil_id("p1");
  amend.set_date("2025-09-08");
  amend.set_session(v1::PM);
  amend.set_amended_code("I");
  amend.set_reason("illness");
  v1::AmendMarkResponse response;
  CHECK(f.stub->AmendMark(f.Context().get(), amend, &response).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  amend.set_session(v1::AM);
  amend.set_expected_code("O");
  CHECK(f.stub->AmendMark(f.Context().get(), amend, &response).error_code() ==
        grpc::StatusCode::ABORTED);
  amend.set_expected_code("N");
  REQUIRE(f.stub->AmendMark(f.Context().get(), amend, &response).ok());
  CHECK(response.original_code() == "N");
}

TEST_CASE("StreamMarks answers every batch in order, errors included", "[services]") {
  ServiceFixture f;
  auto context = f.Context();
  auto stream = f.stub->StreamMarks(context.get());
  const char* days[] = {"2025-09-08", "2025-09-09", "2025-09-10", "2025-09-11"};
  for (int i = 0; i < 4; ++i) {
    REQUIRE(stream->Write(Batch("s" + std::to_string(i), {MakeMark("p1", days[i], v1::AM, "/"),
                                                          MakeMark("p2", days[i], v1::AM, "/")})));
  }
  // A batch that repeats an earlier session: rejected, and the stream goes on.
  REQUIRE(stream->Write(Batch("dup", {MakeMark("p1", days[0], v1::AM, "N")})));
  REQUIRE(stream->Write(Batch("s5", {MakeMark("p3", days[0], v1::AM, "/")})));
  stream->WritesDone();
  std::vector<v1::StreamMarksResponse> answers;
  v1::StreamMarksResponse answer;
  while (stream->Read(&answer)) answers.push_back(answer);
  REQUIRE(stream->Finish().ok());
  REQUIRE(answers.size() == 6);
  for (std::size_t i = 0; i < answers.size(); ++i) CHECK(answers[i].batch_index() == i);
  CHECK(answers[4].error_code() == grpc::StatusCode::ALREADY_EXISTS);
  CHECK(answers[4].request_id() == "dup");
  CHECK(answers[5].error_code() == 0);
  CHECK(answers[5].result().recorded() == 1);
  // Batches are applied in the order they were sent.
  for (std::size_t i = 1; i < 4; ++i) {
    CHECK(answers[i].result().first_position() > answers[i - 1].result().last_position());
  }
}

TEST_CASE("ReadEvents streams the log, filtered by school and type", "[services]") {
  ServiceFixture f;
  v1::RecordMarksResponse recorded;
  REQUIRE(f.stub
              ->RecordMarks(f.Context().get(),
                            Batch("r", {MakeMark("p1", "2025-09-08", v1::AM, "/"),
                                        MakeMark("p2", "2025-09-08", v1::AM, "/")}),
                            &recorded)
              .ok());
  auto read = [&](v1::ReadEventsRequest request) {
    grpc::ClientContext context;
    auto reader = f.stub->ReadEvents(&context, request);
    std::vector<v1::EventEnvelope> events;
    v1::EventEnvelope event;
    while (reader->Read(&event)) events.push_back(event);
    REQUIRE(reader->Finish().ok());
    return events;
  };
  auto all = read({});
  REQUIRE(all.size() == f.ledger->LastPosition());
  CHECK(all.front().position() == 1);

  v1::ReadEventsRequest marks_only;
  marks_only.add_event_types(v1::MARK_RECORDED);
  auto marks = read(marks_only);
  REQUIRE(marks.size() == 2);
  CHECK(marks[0].has_mark_recorded());

  v1::ReadEventsRequest other_school;
  other_school.set_school_id("s2");
  CHECK(read(other_school).empty());

  v1::ReadEventsRequest from_middle;
  from_middle.set_from_position(3);
  from_middle.set_max_events(2);
  auto middle = read(from_middle);
  REQUIRE(middle.size() == 2);
  CHECK(middle[0].position() == 3);
  CHECK(middle[0].prev_hash() == all[1].hash());
}

TEST_CASE("ReadEvents with follow sends new commits after catching up, until cancelled",
          "[services]") {
  ServiceFixture f;
  const ledger::Position head = f.ledger->LastPosition();
  grpc::ClientContext context;
  // A deadline far away: the stream must end by cancellation, not by it.
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(5));
  v1::ReadEventsRequest request;
  request.set_follow(true);
  request.add_event_types(v1::MARK_RECORDED);
  auto reader = f.stub->ReadEvents(&context, request);

  std::vector<v1::EventEnvelope> seen;
  v1::EventEnvelope event;
  // Two commits after the call began, one per register session.
  for (v1::Session session : {v1::AM, v1::PM}) {
    v1::RecordMarksResponse recorded;
    REQUIRE(f.stub
                ->RecordMarks(f.Context().get(),
                              Batch(std::string("f-") + v1::Session_Name(session),
                                    {MakeMark("p1", "2025-09-08", session, "/"),
                                     MakeMark("p2", "2025-09-08", session, "/")}),
                              &recorded)
                .ok());
    for (int i = 0; i < 2; ++i) {
      REQUIRE(reader->Read(&event));
      seen.push_back(event);
    }
  }
  REQUIRE(seen.size() == 4);
  for (std::size_t i = 0; i < seen.size(); ++i) {
    CHECK(seen[i].position() == head + 1 + i);
    CHECK(seen[i].has_mark_recorded());
  }
  context.TryCancel();
  while (reader->Read(&event)) {
  }
  CHECK(reader->Finish().error_code() == grpc::StatusCode::CANCELLED);
}

TEST_CASE("ReadEvents with follow ends at the call's deadline", "[services]") {
  ServiceFixture f;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(300));
  v1::ReadEventsRequest request;
  request.set_follow(true);
  auto reader = f.stub->ReadEvents(&context, request);
  v1::EventEnvelope event;
  std::size_t read = 0;
  while (reader->Read(&event)) ++read;
  CHECK(read == f.ledger->LastPosition());
  CHECK(reader->Finish().error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
}

TEST_CASE("the standard health service answers SERVING", "[services]") {
  ServiceFixture f;
  auto health = grpc::health::v1::Health::NewStub(f.channel);
  grpc::ClientContext context;
  grpc::health::v1::HealthCheckResponse response;
  REQUIRE(health->Check(&context, {}, &response).ok());
  CHECK(response.status() == grpc::health::v1::HealthCheckResponse::SERVING);
}

}  // namespace
}  // namespace attendance::testing
