// Several read models on one host over one real ledger: each resumes from
// its own checkpoint after an unclean stop and ends equal to a rebuild from
// position 1; one failing model stops alone; and read-your-writes through
// the real gRPC server.
#include "services/read_model_host.h"

#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <map>
#include <thread>

#include "attendance/v1/ledger_service.grpc.pb.h"
#include "attendance/v1/projections_service.grpc.pb.h"
#include "ledger/calendar.h"
#include "projections/live_attendance.h"
#include "projections/mark_history.h"
#include "services/attendance_read_model.h"
#include "services/ledger_service.h"
#include "services/mark_history_read_model.h"
#include "services/projections_service.h"
#include "services/server.h"
#include "support/fixtures.h"
#include "support/mark_writers.h"

namespace attendance::testing {
namespace {

using services::AttendanceReadModel;
using services::MarkHistoryReadModel;
using services::ReadModel;
using services::ReadModelHost;

std::chrono::steady_clock::time_point Generous() {
  // Waits return as soon as the condition holds; this only bounds a hang.
  return std::chrono::steady_clock::now() + std::chrono::seconds(60);
}

// Forwards to another read model and remembers how the host drove it.
class Recording final : public ReadModel {
 public:
  explicit Recording(ReadModel& inner) : inner_(inner) {}
  const std::string& name() const override { return inner_.name(); }
  ledger::Position position() const override { return inner_.position(); }
  void Attach(ledger::ReadModelStore* store) override { inner_.Attach(store); }
  void Reset() override {
    was_reset = true;
    inner_.Reset();
  }
  absl::Status Restore(const ledger::Ledger::Checkpoint& checkpoint) override {
    return inner_.Restore(checkpoint);
  }
  absl::Status Apply(const v1::EventEnvelope& event) override {
    if (first_applied == 0) first_applied = event.position();
    return inner_.Apply(event);
  }
  void Publish() override { inner_.Publish(); }
  absl::Status Encode(ledger::ReadModelWrite& write) override { return inner_.Encode(write); }
  void Saved() override { inner_.Saved(); }
  bool reads_from_store() const override { return inner_.reads_from_store(); }

  bool was_reset = false;
  ledger::Position first_applied = 0;

 private:
  ReadModel& inner_;
};

// A read model whose fold breaks at one position.
class Failing final : public ReadModel {
 public:
  explicit Failing(ledger::Position fail_at) : fail_at_(fail_at) {}
  const std::string& name() const override { return name_; }
  ledger::Position position() const override { return position_; }
  void Reset() override { position_ = 0; }
  absl::Status Restore(const ledger::Ledger::Checkpoint& c) override {
    position_ = c.position;
    return absl::OkStatus();
  }
  absl::Status Apply(const v1::EventEnvelope& event) override {
    if (event.position() == fail_at_) return absl::InternalError("cannot fold this event");
    position_ = event.position();
    return absl::OkStatus();
  }
  absl::Status Encode(ledger::ReadModelWrite&) override { return absl::OkStatus(); }

 private:
  std::string name_ = "test.failing";
  ledger::Position fail_at_;
  std::atomic<ledger::Position> position_{0};
};

std::string RebuildAttendance(const ledger::Ledger& ledger) {
  projections::AttendanceState state;
  REQUIRE(ledger
              .ForEachEvent(1,
                            [&](const v1::EventEnvelope& e) {
                              state.Apply(e);
                              return true;
                            })
              .ok());
  return state.Encode();
}

std::vector<std::pair<std::string, std::string>> RebuildHistory(const ledger::Ledger& ledger) {
  std::map<std::string, std::string> keys;
  REQUIRE(ledger
              .ForEachEvent(1,
                            [&](const v1::EventEnvelope& e) {
                              if (auto put = projections::MarkHistoryPut(e)) keys.insert(*put);
                              return true;
                            })
              .ok());
  return {keys.begin(), keys.end()};
}

std::string Encoded(const projections::LiveAttendance& live) {
  return live.Read([](const projections::AttendanceState& s) { return s.Encode(); });
}

v1::AmendMarkRequest Amendment(const std::string& id, const std::string& pupil,
                               const std::string& date, const std::string& from,
                               const std::string& to) {
  v1::AmendMarkRequest amend;
  amend.set_school_id("s1");
  amend.set_request_id(id);
  amend.set_pupil_id(pupil);
  amend.set_date(date);
  amend.set_session(v1::AM);
  amend.set_expected_code(from);
  amend.set_amended_code(to);
  amend.set_reason("parent phoned: ill");
  return amend;
}

TEST_CASE(
    "two read models on one host resume from their own checkpoints after an unclean stop and "
    "end equal to a rebuild",
    "[services][host][slow]") {
  LedgerFixture f(80);
  const ledger::Position before = f.ledger->LastPosition();
  services::ReadModelHostOptions options;
  options.checkpoint_every_events = 300;
  {
    projections::LiveAttendance live;
    AttendanceReadModel attendance(&live);
    MarkHistoryReadModel history;
    ReadModelHost host(f.ledger.get(), options);
    REQUIRE(host.Add(&attendance).ok());
    REQUIRE(host.Add(&history).ok());
    REQUIRE(host.Start().ok());
    std::thread writers([&] {
      WriteRegistersConcurrently(*f.ledger, 4, 20, {"/", "N", "\\"}, "2025-09-03", "2025-09-19");
    });
    // Stop uncleanly while the writers write, once both models have folded
    // part of it.
    REQUIRE(host.WaitFor(attendance.name(), before + 1000, Generous()).ok());
    REQUIRE(host.WaitFor(history.name(), before + 1000, Generous()).ok());
    host.Abandon();
    writers.join();
  }
  auto attendance_checkpoint = f.ledger->LoadCheckpoint(AttendanceReadModel::kName);
  auto history_checkpoint = f.ledger->LoadCheckpoint(MarkHistoryReadModel::kName);
  REQUIRE(attendance_checkpoint.ok());
  REQUIRE(history_checkpoint.ok());
  CHECK(attendance_checkpoint->position > before);
  CHECK(history_checkpoint->position > before);
  CHECK(history_checkpoint->position < f.ledger->LastPosition());

  // The ledger restarts too, and more is written while no read model runs.
  f.Reopen();
  WriteRegistersConcurrently(*f.ledger, 4, 20, {"/", "N", "\\"}, "2025-09-22", "2025-10-08");
  REQUIRE(f.ledger->AmendMark(kOfficer, Amendment("a1", "p2", "2025-09-22", "N", "I")).ok());

  projections::LiveAttendance live;
  AttendanceReadModel attendance(&live);
  MarkHistoryReadModel history;
  Recording attendance_seen(attendance), history_seen(history);
  ReadModelHost host(f.ledger.get(), options);
  REQUIRE(host.Add(&attendance_seen).ok());
  REQUIRE(host.Add(&history_seen).ok());
  REQUIRE(host.Start().ok());
  const ledger::Position head = f.ledger->LastPosition();

  // Each from its own checkpoint, not from position 1.
  CHECK_FALSE(attendance_seen.was_reset);
  CHECK_FALSE(history_seen.was_reset);
  CHECK(attendance_seen.first_applied == attendance_checkpoint->position + 1);
  CHECK(history_seen.first_applied == history_checkpoint->position + 1);
  // And equal to a rebuild from position 1.
  CHECK(live.position() == head);
  CHECK(Encoded(live) == RebuildAttendance(*f.ledger));
  auto dump = history.Dump();
  REQUIRE(dump.ok());
  CHECK(dump->size() == RebuildHistory(*f.ledger).size());
  CHECK(*dump == RebuildHistory(*f.ledger));

  // The amendment is in the session's history after its first mark.
  auto amended = history.History("s1", "p2", *ledger::ParseDate("2025-09-22"), v1::AM);
  REQUIRE(amended.ok());
  REQUIRE(amended->size() == 2);
  CHECK((*amended)[0].code == "N");
  CHECK((*amended)[1].amendment);
  CHECK((*amended)[1].code == "I");
  CHECK((*amended)[1].reason == "parent phoned: ill");
  CHECK((*amended)[1].actor.name() == kOfficer.name);
  host.Stop();
}

TEST_CASE("a read model that fails stops alone, reported by name", "[services][host]") {
  LedgerFixture f(20);
  const ledger::Position before = f.ledger->LastPosition();
  projections::LiveAttendance live;
  AttendanceReadModel attendance(&live);
  Failing failing(before + 10);
  ReadModelHost host(f.ledger.get());
  REQUIRE(host.Add(&failing).ok());
  REQUIRE(host.Add(&attendance).ok());
  REQUIRE(host.Start().ok());
  WriteRegistersConcurrently(*f.ledger, 2, 10, {"/"}, "2025-09-03", "2025-09-12");
  const ledger::Position head = f.ledger->LastPosition();

  CHECK(host.WaitFor(attendance.name(), head, Generous()).ok());
  absl::Status waited = host.WaitFor("test.failing", head, Generous());
  CHECK(absl::IsUnavailable(waited));
  CHECK_THAT(std::string(waited.message()),
             Catch::Contains("test.failing") && Catch::Contains("cannot fold"));
  for (const services::ReadModelStatus& status : host.Statuses()) {
    if (status.name == "test.failing") {
      CHECK(status.position < before + 10);  // published: never past the failure
      CHECK_THAT(std::string(status.status.message()),
                 Catch::Contains("at position " + std::to_string(before + 10)));
    } else {
      CHECK(status.status.ok());
      CHECK(status.position == head);
    }
  }
  // Writes go on, and the healthy model keeps following them.
  REQUIRE(f.ledger->AmendMark(kOfficer, Amendment("a1", "p1", "2025-09-03", "/", "M")).ok());
  CHECK(host.WaitFor(attendance.name(), head + 1, Generous()).ok());
  CHECK(Encoded(live) == RebuildAttendance(*f.ledger));
}

TEST_CASE("ignore_checkpoints rebuilds every read model from position 1", "[services][host]") {
  LedgerFixture f(4);
  WriteRegistersConcurrently(*f.ledger, 2, 2, {"/"}, "2025-09-03", "2025-09-05");
  {
    projections::LiveAttendance live;
    AttendanceReadModel attendance(&live);
    MarkHistoryReadModel history;
    ReadModelHost host(f.ledger.get());
    REQUIRE(host.Add(&attendance).ok());
    REQUIRE(host.Add(&history).ok());
    REQUIRE(host.Start().ok());
    host.Stop();
  }
  REQUIRE(f.ledger->LoadCheckpoint(AttendanceReadModel::kName).ok());
  projections::LiveAttendance live;
  AttendanceReadModel attendance(&live);
  MarkHistoryReadModel history;
  Recording attendance_seen(attendance), history_seen(history);
  services::ReadModelHostOptions options;
  options.ignore_checkpoints = true;
  ReadModelHost host(f.ledger.get(), options);
  REQUIRE(host.Add(&attendance_seen).ok());
  REQUIRE(host.Add(&history_seen).ok());
  REQUIRE(host.Start().ok());
  CHECK(attendance_seen.was_reset);
  CHECK(history_seen.was_reset);
  CHECK(attendance_seen.first_applied == 1);
  CHECK(history_seen.first_applied == 1);
  CHECK(Encoded(live) == RebuildAttendance(*f.ledger));
  auto dump = history.Dump();
  REQUIRE(dump.ok());
  CHECK(*dump == RebuildHistory(*f.ledger));  // the old keys were cleared, not doubled
}

// A ledger, its host and both gRPC services on one real server.
struct ServerFixture : LedgerFixture {
  ServerFixture()
      : LedgerFixture(1),
        attendance(&live),
        host(ledger.get()),
        ledger_service(*ledger),
        projections_service(
            &live, ledger::Clock::Fixed(1'760'000'000'000'000), nullptr,
            [this](ledger::Position p, std::chrono::steady_clock::time_point deadline) {
              return host.WaitFor(attendance.name(), p, deadline);
            }) {
    REQUIRE(host.Add(&attendance).ok());
    REQUIRE(host.Start().ok());
    auto started = services::Server::Start("127.0.0.1:0", {&ledger_service, &projections_service});
    REQUIRE(started.ok());
    server = std::move(*started);
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                                       grpc::InsecureChannelCredentials());
    ledger_stub = v1::Ledger::NewStub(channel);
    projections_stub = v1::Projections::NewStub(channel);
  }
  ~ServerFixture() {
    server->Shutdown();
    host.Stop();
  }

  projections::LiveAttendance live;
  AttendanceReadModel attendance;
  ReadModelHost host;
  services::LedgerServiceImpl ledger_service;
  services::ProjectionsServiceImpl projections_service;
  std::unique_ptr<services::Server> server;
  std::unique_ptr<v1::Ledger::Stub> ledger_stub;
  std::unique_ptr<v1::Projections::Stub> projections_stub;
};

TEST_CASE("a query with a write's position always sees that write", "[services][host]") {
  ServerFixture f;
  ledger::SchoolCalendar calendar;
  calendar.Set(Calendar2025("s1").calendar());
  std::uint32_t recorded = 0;
  for (ledger::Day d = *ledger::ParseDate("2025-09-03"); d <= *ledger::ParseDate("2025-10-08");
       ++d) {
    if (!calendar.IsSchoolDay(d)) continue;
    for (v1::Session s : {v1::AM, v1::PM}) {
      if (calendar.IsClosed(d, s, 7)) continue;
      grpc::ClientContext write_context;
      write_context.AddMetadata("x-actor-name", kTeacher.name);
      write_context.AddMetadata("x-actor-role", kTeacher.role);
      v1::RecordMarksRequest request;
      request.set_school_id("s1");
      request.set_request_id("ryw-" + ledger::FormatDate(d) + v1::Session_Name(s));
      *request.add_marks() = MakeMark("p1", ledger::FormatDate(d), s, "/");
      v1::RecordMarksResponse written;
      REQUIRE(f.ledger_stub->RecordMarks(&write_context, request, &written).ok());
      ++recorded;

      grpc::ClientContext read_context;
      read_context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
      v1::GetPupilAttendanceRequest query;
      query.set_school_id("s1");
      query.set_pupil_id("p1");
      query.set_min_position(written.last_position());
      v1::PupilAttendance answer;
      REQUIRE(f.projections_stub->GetPupilAttendance(&read_context, query, &answer).ok());
      REQUIRE(answer.windows_size() > 0);
      REQUIRE(answer.windows(0).figures().possible_sessions() == recorded);
    }
  }
  CHECK(recorded > 40);
}

TEST_CASE("a query for a position the projection does not reach in time says how far it got",
          "[services][host]") {
  ServerFixture f;
  const ledger::Position head = f.ledger->LastPosition();
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::milliseconds(200));
  v1::GetCohortAttendanceRequest query;
  query.set_school_id("s1");
  query.set_min_position(head + 5);
  v1::CohortAttendanceResponse answer;
  grpc::Status status = f.projections_stub->GetCohortAttendance(&context, query, &answer);
  CHECK(status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED);
  // The server's own answer, when it comes before the client gives up,
  // names both positions.
  if (status.error_message() != "Deadline Exceeded") {
    CHECK_THAT(status.error_message(),
               Catch::Contains("at position " + std::to_string(head)) &&
                   Catch::Contains("asked for " + std::to_string(head + 5)));
  }
}

}  // namespace
}  // namespace attendance::testing
