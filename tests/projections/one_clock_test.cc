// Issue 6, item 2: one clock, one "today". Between midnight and 01:00 in
// summer the ledger (UTC) and the projections (UK time) used to disagree on
// the date. Now a mark taken at 00:30 BST belongs to the local date in
// validation, in the projections' as-of dates and in the service's today.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <catch2/catch.hpp>

#include "attendance/v1/projections_service.grpc.pb.h"
#include "ledger/clock.h"
#include "ledger/ledger.h"
#include "projections/live_attendance.h"
#include "services/projections_service.h"
#include "services/server.h"
#include "support/fixtures.h"

namespace attendance {
namespace {

std::int64_t Utc(const char* date, int hour, int minute) {
  return (static_cast<std::int64_t>(*ledger::ParseDate(date)) * 86400 + hour * 3600 + minute * 60) *
         1'000'000;
}

TEST_CASE("a mark taken at 00:30 BST belongs to the local date everywhere",
          "[projections][services][clock]") {
  testing::TempDir dir;
  std::atomic<std::int64_t> now{Utc("2025-09-01", 9, 0)};
  const ledger::Clock clock([&] { return now.load(); });
  ledger::LedgerOptions options;
  options.data_dir = dir.Sub("db");
  options.sync = false;
  options.clock = clock;
  auto opened = ledger::Ledger::Open(options);
  REQUIRE(opened.ok());
  ledger::Ledger& ledger = **opened;
  REQUIRE(ledger.SetSchoolSettings(testing::kOfficer, testing::Settings("s1")).ok());
  REQUIRE(ledger.SetSchoolCalendar(testing::kOfficer, testing::Calendar2025("s1")).ok());
  REQUIRE(ledger.EnrolPupil(testing::kOfficer, testing::Enrol("s1", "p1")).ok());

  auto record = [&](const char* date, v1::Session session, const char* code) {
    v1::RecordMarksRequest request;
    request.set_school_id("s1");
    *request.add_marks() = testing::MakeMark("p1", date, session, code);
    return ledger.RecordMarks(testing::kTeacher, request).status();
  };
  // 23:59 BST on Monday 8 September: the AM mark, taken late in the day.
  now = Utc("2025-09-08", 22, 59);
  REQUIRE(record("2025-09-08", v1::AM, "/").ok());
  // 00:30 BST on Tuesday 9 September (still the 8th in UTC): the PM mark.
  now = Utc("2025-09-08", 23, 30);
  REQUIRE(record("2025-09-08", v1::PM, "\\").ok());
  // Validation: Tuesday's AM register has not opened, because it is Tuesday.
  const absl::Status early = record("2025-09-09", v1::AM, "/");
  CHECK(early.code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(early.message()), Catch::Contains("now 2025-09-09 00:30"));

  projections::LiveAttendance live;
  REQUIRE(ledger
              .ForEachEvent(1,
                            [&](const v1::EventEnvelope& e) {
                              live.Apply(e);
                              return true;
                            })
              .ok());
  services::ProjectionsServiceImpl service(&live, clock);
  auto server = services::Server::Start("127.0.0.1:0", {&service});
  REQUIRE(server.ok());
  auto stub = v1::Projections::NewStub(grpc::CreateChannel(
      "127.0.0.1:" + std::to_string((*server)->port()), grpc::InsecureChannelCredentials()));
  auto possible = [&](const std::string& as_of, std::string* answered_as_of = nullptr) {
    v1::GetPupilAttendanceRequest request;
    request.set_school_id("s1");
    request.set_pupil_id("p1");
    request.set_as_of(as_of);
    v1::PupilAttendance response;
    grpc::ClientContext context;
    const grpc::Status status = stub->GetPupilAttendance(&context, request, &response);
    REQUIRE(status.ok());
    if (answered_as_of != nullptr) *answered_as_of = response.as_of();
    return response.windows(0).figures().possible_sessions();  // year to date
  };
  // The projections' today is the same local date.
  std::string today;
  CHECK(possible("", &today) == 2);
  CHECK(today == "2025-09-09");
  // As of the end of the 8th, only the mark recorded on the 8th (local).
  CHECK(possible("2025-09-08") == 1);
  CHECK(possible("2025-09-09") == 2);
  (*server)->Shutdown();
}

}  // namespace
}  // namespace attendance
