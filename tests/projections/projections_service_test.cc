// The Projections gRPC service through a real in-process server and stub.
#include "services/projections_service.h"

#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>

#include "event_builders.h"
#include "projections/live_attendance.h"

namespace attendance::services {
namespace {

using projections::testing::D;

class ServiceFixture {
 public:
  ServiceFixture()
      : service_(&live_, [] { return projections::testing::NoonUs(D("2025-09-12")); }) {
    grpc::ServerBuilder builder;
    int port = 0;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
    builder.RegisterService(&service_);
    server_ = builder.BuildAndStart();
    REQUIRE(server_ != nullptr);
    stub_ = v1::Projections::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port),
                                                         grpc::InsecureChannelCredentials()));

    projections::testing::EventLog log;
    log.Calendar(projections::testing::StandardCalendar(2025), D("2025-08-01"));
    log.Enrol(projections::testing::MakePupil("p1", 7), D("2025-09-01"), D("2025-08-20"));
    for (Day d = D("2025-09-01"); d <= D("2025-09-12"); ++d) {
      if (ledger::Weekday(d) >= 5) continue;
      log.Mark("p1", d, v1::AM, d == D("2025-09-03") ? "O" : "/");
      log.Mark("p1", d, v1::PM, "\\");
    }
    for (const v1::EventEnvelope& e : log.events()) live_.Apply(e);
  }
  ~ServiceFixture() { server_->Shutdown(); }

  v1::Projections::Stub& stub() { return *stub_; }

 private:
  using Day = ledger::Day;
  projections::LiveAttendance live_;
  ProjectionsServiceImpl service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<v1::Projections::Stub> stub_;
};

TEST_CASE("Projections answers over gRPC with today's figures by default",
          "[projections][services]") {
  ServiceFixture f;
  grpc::ClientContext ctx;
  v1::GetPupilAttendanceRequest req;
  req.set_school_id("school-1");
  req.set_pupil_id("p1");
  v1::PupilAttendance resp;
  const grpc::Status status = f.stub().GetPupilAttendance(&ctx, req, &resp);
  REQUIRE(status.ok());
  CHECK(resp.as_of() == "2025-09-12");
  REQUIRE(resp.windows_size() > 0);
  CHECK(resp.windows(0).figures().possible_sessions() == 20);
  CHECK(resp.windows(0).figures().unauthorised_absence() == 1);
  CHECK(resp.windows(0).figures().attendance_percent() == Approx(95.0));

  grpc::ClientContext ctx2;
  v1::GetCohortAttendanceRequest cohort;
  cohort.set_school_id("school-1");
  cohort.add_group_by(v1::YEAR_GROUP);
  v1::CohortAttendanceResponse cohorts;
  REQUIRE(f.stub().GetCohortAttendance(&ctx2, cohort, &cohorts).ok());
  REQUIRE(cohorts.rows_size() == 1);
  CHECK(cohorts.rows(0).key(0) == "7");
  CHECK(cohorts.whole_school().pupils() == 1);

  grpc::ClientContext ctx3;
  v1::ListPupilAttendanceRequest list;
  list.set_school_id("school-1");
  v1::ListPupilAttendanceResponse listed;
  REQUIRE(f.stub().ListPupilAttendance(&ctx3, list, &listed).ok());
  CHECK(listed.pupils_size() == 1);
}

TEST_CASE("Projections maps errors to INVALID_ARGUMENT and NOT_FOUND", "[projections][services]") {
  ServiceFixture f;
  v1::GetPupilAttendanceRequest req;
  req.set_school_id("nowhere");
  req.set_pupil_id("p1");
  v1::PupilAttendance resp;
  {
    grpc::ClientContext ctx;
    const grpc::Status s = f.stub().GetPupilAttendance(&ctx, req, &resp);
    CHECK(s.error_code() == grpc::StatusCode::NOT_FOUND);
    CHECK(s.error_message() == "school_id: no school \"nowhere\"");
  }
  {
    req.set_school_id("school-1");
    req.set_as_of("12/09/2025");
    grpc::ClientContext ctx;
    const grpc::Status s = f.stub().GetPupilAttendance(&ctx, req, &resp);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "as_of: \"12/09/2025\" is not a date (YYYY-MM-DD)");
  }
  {
    v1::GetCohortAttendanceRequest cohort;
    cohort.set_school_id("school-1");
    cohort.add_group_by(v1::COHORT_ATTRIBUTE_UNSPECIFIED);
    v1::CohortAttendanceResponse out;
    grpc::ClientContext ctx;
    const grpc::Status s = f.stub().GetCohortAttendance(&ctx, cohort, &out);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message().rfind("group_by[0]", 0) == 0);
  }
}

}  // namespace
}  // namespace attendance::services
