// The Projections gRPC service through a real in-process server and stub.
#include "services/projections_service.h"

#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>

#include "event_builders.h"
#include "projections/live_attendance.h"
#include "services/server.h"

namespace attendance::services {
namespace {

using projections::testing::D;

class ServiceFixture {
 public:
  ServiceFixture()
      : service_(&live_, ledger::Clock::Fixed(projections::testing::NoonUs(D("2025-09-12")))) {
    // The server ledgerd runs (its message size limit too), on a free port.
    auto server = Server::Start("127.0.0.1:0", {&service_});
    REQUIRE(server.ok());
    server_ = std::move(*server);
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(64 << 20);
    stub_ = v1::Projections::NewStub(grpc::CreateCustomChannel(
        "127.0.0.1:" + std::to_string(server_->port()), grpc::InsecureChannelCredentials(), args));

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
  std::unique_ptr<Server> server_;
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

// Issue 10, finding 1: a 1 MB request repeating group_by a million times
// built a 487 MB reply. Now every repeated field has a cap, checked before
// anything is done per entry.
TEST_CASE("Projections refuses oversized repeated fields with the field and the limit",
          "[projections][services][limits]") {
  ServiceFixture f;
  SECTION("a million group_by entries") {
    v1::GetCohortAttendanceRequest req;
    req.set_school_id("school-1");
    for (int i = 0; i < 1'000'000; ++i) req.add_group_by(v1::YEAR_GROUP);
    v1::CohortAttendanceResponse out;
    grpc::ClientContext ctx;
    const grpc::Status s = f.stub().GetCohortAttendance(&ctx, req, &out);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "group_by: 1000000 attributes is more than the limit of 4");
    CHECK(out.rows_size() == 0);
  }
  SECTION("a repeated group_by attribute") {
    v1::GetCohortAttendanceRequest req;
    req.set_school_id("school-1");
    req.add_group_by(v1::SEX);
    req.add_group_by(v1::YEAR_GROUP);
    req.add_group_by(v1::SEX);
    v1::CohortAttendanceResponse out;
    grpc::ClientContext ctx;
    const grpc::Status s = f.stub().GetCohortAttendance(&ctx, req, &out);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "group_by[2]: SEX repeats group_by[0]");
  }
  SECTION("four distinct attributes are accepted") {
    v1::GetCohortAttendanceRequest req;
    req.set_school_id("school-1");
    for (auto a : {v1::YEAR_GROUP, v1::CLASS_NAME, v1::SEX, v1::SEND}) req.add_group_by(a);
    v1::CohortAttendanceResponse out;
    grpc::ClientContext ctx;
    REQUIRE(f.stub().GetCohortAttendance(&ctx, req, &out).ok());
    REQUIRE(out.rows_size() == 1);
    CHECK(out.rows(0).key_size() == 4);
  }
  SECTION("a million cohort filters") {
    v1::ListPupilAttendanceRequest req;
    req.set_school_id("school-1");
    for (int i = 0; i < 1'000'000; ++i) {
      v1::CohortFilter* filter = req.add_cohort();
      filter->set_attribute(v1::YEAR_GROUP);
      filter->set_value("7");
    }
    v1::ListPupilAttendanceResponse out;
    grpc::ClientContext ctx;
    const grpc::Status s = f.stub().ListPupilAttendance(&ctx, req, &out);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "cohort: 1000000 filters is more than the limit of 10");
  }
  SECTION("a repeated filter attribute") {
    v1::ListPupilAttendanceRequest req;
    req.set_school_id("school-1");
    for (const char* year : {"7", "8"}) {
      v1::CohortFilter* filter = req.add_cohort();
      filter->set_attribute(v1::YEAR_GROUP);
      filter->set_value(year);
    }
    v1::ListPupilAttendanceResponse out;
    grpc::ClientContext ctx;
    const grpc::Status s = f.stub().ListPupilAttendance(&ctx, req, &out);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "cohort[1]: YEAR_GROUP repeats cohort[0]");
  }
  SECTION("a page over 1,000 pupils") {
    v1::ListPupilAttendanceRequest req;
    req.set_school_id("school-1");
    req.set_page_size(1001);
    v1::ListPupilAttendanceResponse out;
    grpc::ClientContext ctx;
    const grpc::Status s = f.stub().ListPupilAttendance(&ctx, req, &out);
    CHECK(s.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK(s.error_message() == "page_size: 1001 is not in 1..1000");
  }
}

}  // namespace
}  // namespace attendance::services
