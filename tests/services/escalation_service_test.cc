// attendance.v1.Escalation's listings and the what-if replay on a real
// ledger, read-model host and gRPC server: the first-response list and
// "register not taken" by the server's clock, ListEscalations,
// SimulatePolicy, refusals and permissions.
#include <google/protobuf/text_format.h>
#include <grpcpp/grpcpp.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "attendance/v1/escalation_service.grpc.pb.h"
#include "projections/live_escalation.h"
#include "services/escalation_read_model.h"
#include "services/escalation_service.h"
#include "services/read_model_host.h"
#include "services/security.h"
#include "services/server.h"
#include "services/token_store.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

v1::EscalationPolicy Seed001() {
  std::ifstream in(std::filesystem::path(ATTENDANCE_POLICIES_DIR) /
                   "001_all_saints_ce_primary_attendance_and_absence_policy_2024_27.textproto");
  std::stringstream text;
  text << in.rdbuf();
  v1::EscalationPolicy policy;
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text.str(), &policy));
  return policy;
}

// Seed 001's policy for s1; today (the fixture's clock: Thursday
// 2025-10-09, 09:53 BST, after the AM register closed at 09:25) p1 is N,
// p2 present and p3 has no mark.
struct EscalationFixture : LedgerFixture {
  EscalationFixture() : LedgerFixture(3) {
    v1::SetEscalationPolicyRequest policy;
    policy.set_school_id("s1");
    policy.set_request_id("policy");
    *policy.mutable_policy() = Seed001();
    REQUIRE(ledger->SetEscalationPolicy(kOfficer, policy).ok());
    v1::RecordMarksRequest marks;
    marks.set_school_id("s1");
    marks.set_request_id("marks");
    *marks.add_marks() = MakeMark("p1", "2025-10-09", v1::AM, "N");
    *marks.add_marks() = MakeMark("p2", "2025-10-09", v1::AM, "/");
    auto recorded = ledger->RecordMarks(kOfficer, marks);
    INFO(recorded.status().ToString());
    REQUIRE(recorded.ok());
    last = ledger->LastPosition();

    model = std::make_unique<services::EscalationReadModel>(&live);
    host = std::make_unique<services::ReadModelHost>(ledger.get());
    REQUIRE(host->Add(model.get()).ok());
    REQUIRE(host->Start().ok());
    std::ofstream tokens(dir.Sub("tokens"));
    for (const char* role : {"attendance_officer", "reporter", "admin"}) {
      tokens << services::TokenStore::HashToken(std::string("tok-") + role) << " " << role
             << (std::string(role) == "admin" ? " * " : " s1 ") << role << " of s1\n";
    }
    tokens << services::TokenStore::HashToken("tok-officer-s2") << " attendance_officer s2"
           << " officer of s2\n";
    tokens.close();
    services::SecurityFlags flags;
    flags.tokens_file = dir.Sub("tokens");
    auto security = services::SetUpSecurity(flags, "127.0.0.1:0");
    INFO(security.status().ToString());
    REQUIRE(security.ok());
    service = std::make_unique<services::EscalationServiceImpl>(
        &live, ledger::Clock([this] { return now_us.load(); }), security->auth,
        [this](ledger::Position p, std::chrono::steady_clock::time_point deadline) {
          return host->WaitFor(model->name(), p, deadline);
        });
    auto started = services::Server::Start("127.0.0.1:0", {service.get()});
    REQUIRE(started.ok());
    server = std::move(*started);
    stub = v1::Escalation::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server->port()), grpc::InsecureChannelCredentials()));
  }
  ~EscalationFixture() {
    server->Shutdown();
    host->Stop();
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& who) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer tok-" + who);
    return context;
  }

  ledger::Position last = 0;
  projections::LiveEscalation live;
  std::unique_ptr<services::EscalationReadModel> model;
  std::unique_ptr<services::ReadModelHost> host;
  std::unique_ptr<services::EscalationServiceImpl> service;
  std::unique_ptr<services::Server> server;
  std::unique_ptr<v1::Escalation::Stub> stub;
};

TEST_CASE("ListFirstResponse and register not taken follow the server's clock",
          "[escalation][server]") {
  EscalationFixture f;
  v1::ListFirstResponseRequest request;
  request.set_school_id("s1");
  request.set_min_position(f.last);
  v1::ListFirstResponseResponse response;
  REQUIRE(f.stub->ListFirstResponse(f.As("attendance_officer").get(), request, &response).ok());
  CHECK_FALSE(response.register_open());
  REQUIRE(response.entries_size() == 2);
  CHECK(response.entries(0).pupil_id() == "p1");
  CHECK(response.entries(0).code() == "N");
  CHECK(response.entries(0).contact_by() == "2025-10-09 09:30");
  CHECK(response.entries(1).pupil_id() == "p3");
  CHECK(response.entries(1).code().empty());

  // Before the close (a time in the request), p3 is not yet late.
  request.set_as_of_time("09:25");
  REQUIRE(f.stub->ListFirstResponse(f.As("admin").get(), request, &response).ok());
  CHECK(response.register_open());
  CHECK(response.entries_size() == 1);

  request.set_as_of_time("9.30");
  grpc::Status bad = f.stub->ListFirstResponse(f.As("admin").get(), request, &response);
  CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(bad.error_message() == "as_of_time: \"9.30\" is not a time of day HH:MM");

  // Pupil-level: a reporter without the personal-data grant, another
  // school's officer: refused.
  request.clear_as_of_time();
  CHECK(f.stub->ListFirstResponse(f.As("reporter").get(), request, &response).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  CHECK(f.stub->ListFirstResponse(f.As("officer-s2").get(), request, &response).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);

  // The worklist by the same clock: p3's AM register of today was not taken.
  v1::ListDueActionsRequest due;
  due.set_school_id("s1");
  due.set_as_of("2025-10-09");
  due.set_action(v1::REGISTER_NOT_TAKEN);
  due.set_min_position(f.last);
  v1::ListDueActionsResponse actions;
  REQUIRE(f.stub->ListDueActions(f.As("admin").get(), due, &actions).ok());
  bool p3_today = false;
  for (const v1::DueAction& a : actions.actions()) {
    if (a.pupil_id() != "p3") continue;
    for (const v1::CountedSession& s : a.explanation().sessions()) {
      p3_today = p3_today || (s.date() == "2025-10-09" && s.session() == v1::AM);
    }
  }
  CHECK(p3_today);
}

TEST_CASE("ListEscalations and SimulatePolicy on a real server", "[escalation][server]") {
  EscalationFixture f;
  v1::ListEscalationsRequest list;
  list.set_school_id("s1");
  list.set_ladder_id("stages");
  list.set_min_position(f.last);
  v1::ListEscalationsResponse listed;
  REQUIRE(f.stub->ListEscalations(f.As("attendance_officer").get(), list, &listed).ok());
  CHECK(listed.total() == 3);
  CHECK(listed.policy_version() == "2024-27.1");
  list.set_stage("nope");
  grpc::Status bad = f.stub->ListEscalations(f.As("admin").get(), list, &listed);
  CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(bad.error_message() == "stage: \"nope\" is not a step of ladder \"stages\" (or \"none\")");
  list.clear_stage();
  CHECK(f.stub->ListEscalations(f.As("reporter").get(), list, &listed).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);

  v1::SimulatePolicyRequest simulate;
  simulate.set_school_id("s1");
  *simulate.mutable_policy() = Seed001();
  simulate.mutable_policy()->set_version("what-if");
  simulate.set_to("2025-10-09");
  simulate.set_min_position(f.last);
  v1::SimulatePolicyResponse simulated;
  // Counts only: a reporter may run it.
  grpc::Status ok = f.stub->SimulatePolicy(f.As("reporter").get(), simulate, &simulated);
  INFO(ok.error_message());
  REQUIRE(ok.ok());
  CHECK(simulated.pupils() == 3);
  CHECK(simulated.baseline_policy_version() == "2024-27.1");
  REQUIRE(simulated.half_terms_size() == 1);  // Autumn 1 up to 2025-10-09
  CHECK(simulated.half_terms(0).half_term() == "Autumn 1");
  simulate.mutable_policy()->mutable_ladders(0)->mutable_steps(1)->set_after_step("nope");
  bad = f.stub->SimulatePolicy(f.As("admin").get(), simulate, &simulated);
  CHECK(bad.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK(bad.error_message() ==
        "policy.ladders[0] (\"stages\").steps[1] (\"monitoring_letter\").after_step: \"nope\" is "
        "not an earlier step of ladder \"stages\"");
  CHECK(f.stub->SimulatePolicy(f.As("officer-s2").get(), simulate, &simulated).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace attendance::testing
