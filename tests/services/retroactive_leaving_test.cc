// RemoveFromRoll with a last day before marks the register already holds for
// the pupil: refused (FAILED_PRECONDITION naming the last recorded mark's
// date), so every recorded mark stays a mark of a day on roll, amendable by
// AmendMark and listed by GetRegisterAsOf (README, "## Audit"). Over gRPC as
// a client sees it, after a restart (the latest marked day is rebuilt from
// the log) and for marks older than the ledger's hot window.
#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include <catch2/catch.hpp>

#include "attendance/v1/ledger_service.grpc.pb.h"
#include "audit_fixture.h"
#include "ledger/calendar.h"
#include "services/ledger_service.h"
#include "services/server.h"

namespace attendance::testing {
namespace {

using Catch::Contains;

v1::RemoveFromRollRequest Leave(const std::string& pupil, const std::string& last_day) {
  v1::RemoveFromRollRequest leave;
  leave.set_school_id("s1");
  leave.set_pupil_id(pupil);
  leave.set_last_day_on_roll(last_day);
  leave.set_reason("moved away");
  return leave;
}

// p1 marked on Monday 8th and Wednesday 10th September (PM); p2 on the 8th.
void MarkWeek(ledger::Ledger& ledger) {
  v1::RecordMarksRequest marks;
  marks.set_school_id("s1");
  *marks.add_marks() = MakeMark("p1", "2025-09-08", v1::AM, "/");
  *marks.add_marks() = MakeMark("p1", "2025-09-10", v1::PM, "N");
  *marks.add_marks() = MakeMark("p2", "2025-09-08", v1::AM, "/");
  REQUIRE(ledger.RecordMarks(kTeacher, marks).ok());
}

TEST_CASE("RemoveFromRoll refuses a last day before the pupil's recorded marks", "[audit][roll]") {
  AuditFixture f;
  MarkWeek(*f.ledger);
  const ledger::Position before = f.ledger->LastPosition();

  SECTION("over gRPC: FAILED_PRECONDITION naming the last mark's date, nothing written") {
    services::LedgerServiceImpl service(*f.ledger);
    auto server = services::Server::Start("127.0.0.1:0", {&service});
    REQUIRE(server.ok());
    auto stub = v1::Ledger::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string((*server)->port()), grpc::InsecureChannelCredentials()));
    for (const char* last_day : {"2025-09-08", "2025-09-09"}) {
      grpc::ClientContext context;
      v1::WriteResponse response;
      const grpc::Status status = stub->RemoveFromRoll(&context, Leave("p1", last_day), &response);
      INFO(last_day << ": " << status.error_message());
      CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
      CHECK_THAT(status.error_message(),
                 Contains(std::string("last_day_on_roll: ") + last_day) && Contains("2025-09-10"));
    }
    CHECK(f.ledger->LastPosition() == before);
    // On the last marked day itself: accepted.
    grpc::ClientContext context;
    v1::WriteResponse response;
    CHECK(stub->RemoveFromRoll(&context, Leave("p1", "2025-09-10"), &response).ok());
    CHECK(f.ledger->LastPosition() == before + 1);
    (*server)->Shutdown();
  }

  SECTION("the marks stay amendable and on the register; days after the last are refused") {
    REQUIRE(f.ledger->RemoveFromRoll(kOfficer, Leave("p1", "2025-09-10")).ok());
    auto amended =
        f.ledger->AmendMark(kOfficer, Amend("p1", "2025-09-10", v1::PM, "I", "parent phoned"));
    INFO(amended.status().ToString());
    REQUIRE(amended.ok());
    const v1::RegisterAsOf reg = f.Register("2025-09-10", v1::PM, amended->position());
    REQUIRE(reg.lines_size() == 1);
    CHECK(reg.lines(0).pupil_id() == "p1");
    CHECK(reg.lines(0).code() == "I");
    CHECK(f.History("p1", "2025-09-10", v1::PM, amended->position()).entries_size() == 2);
    v1::RecordMarksRequest after;
    after.set_school_id("s1");
    *after.add_marks() = MakeMark("p1", "2025-09-11", v1::AM, "/");
    CHECK(f.ledger->RecordMarks(kTeacher, after).status().code() ==
          absl::StatusCode::kFailedPrecondition);
  }

  SECTION("a rejoined pupil: the marks of this stay on roll count, not only the first's") {
    REQUIRE(f.ledger->RemoveFromRoll(kOfficer, Leave("p2", "2025-09-08")).ok());
    REQUIRE(f.ledger->EnrolPupil(kOfficer, Enrol("s1", "p2", "2025-09-15")).ok());
    // Marked only in the first stay (before this one began): any day of
    // this stay may be the last.
    CHECK(f.ledger->RemoveFromRoll(kOfficer, Leave("p2", "2025-09-15")).ok());
    REQUIRE(f.ledger->EnrolPupil(kOfficer, Enrol("s1", "p2", "2025-09-22")).ok());
    v1::RecordMarksRequest marks;
    marks.set_school_id("s1");
    *marks.add_marks() = MakeMark("p2", "2025-09-24", v1::AM, "/");
    REQUIRE(f.ledger->RecordMarks(kTeacher, marks).ok());
    auto refused = f.ledger->RemoveFromRoll(kOfficer, Leave("p2", "2025-09-23"));
    CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
    CHECK_THAT(std::string(refused.status().message()), Contains("2025-09-24"));
  }
}

TEST_CASE("RemoveFromRoll's check survives a restart, for marks outside the hot window",
          "[audit][roll]") {
  LedgerFixture f;
  MarkWeek(*f.ledger);
  // Reopened with the hot window after the marks: their codes are no longer
  // in memory, the latest marked day is rebuilt from the log.
  f.ledger.reset();
  ledger::LedgerOptions options;
  options.data_dir = f.dir.Sub("db");
  options.clock = ledger::Clock([&f] { return f.now_us.load(); });
  options.hot_from = ledger::AcademicYearStart(2026);
  auto opened = ledger::Ledger::Open(options);
  REQUIRE(opened.ok());
  f.ledger = std::move(*opened);
  const ledger::Position before = f.ledger->LastPosition();
  auto refused = f.ledger->RemoveFromRoll(kOfficer, Leave("p1", "2025-09-09"));
  CHECK(refused.status().code() == absl::StatusCode::kFailedPrecondition);
  CHECK_THAT(std::string(refused.status().message()), Contains("2025-09-10"));
  CHECK(f.ledger->LastPosition() == before);
  // p3 has no marks: any last day from its first day on roll.
  CHECK(f.ledger->RemoveFromRoll(kOfficer, Leave("p3", "2025-09-01")).ok());
  CHECK(f.ledger->RemoveFromRoll(kOfficer, Leave("p1", "2025-09-10")).ok());
}

}  // namespace
}  // namespace attendance::testing
