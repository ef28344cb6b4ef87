// Who may do what, from a C++ client over TLS: a real server on 127.0.0.1
// port 0 with a tokens file and a throwaway certificate made by Debian's
// openssl, every method x every role x own school / other school / no token /
// bad token. The Python e2e.security test drives the same matrix with
// requests that succeed; this one checks the decisions and that a refusal
// writes nothing.
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include <grpcpp/grpcpp.h>
#include <catch2/catch.hpp>

#include "attendance/v1/ledger_service.grpc.pb.h"
#include "attendance/v1/projections_service.grpc.pb.h"
#include "projections/live_attendance.h"
#include "services/ledger_service.h"
#include "services/projections_service.h"
#include "services/security.h"
#include "services/server.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// A CA and a server certificate for 127.0.0.1 in `dir`.
void MakeCertificates(const std::string& dir) {
  const std::string ec = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
  const std::string script =
      "cd " + dir + " && openssl req -x509 " + ec +
      " -keyout ca.key -out ca.pem -days 2 -subj /CN=test-ca && openssl req " + ec +
      " -keyout server.key -out server.csr -subj /CN=server && echo subjectAltName=IP:127.0.0.1"
      " > ext && openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
      " -out server.pem -days 2 -extfile ext";
  REQUIRE(std::system(("(" + script + ") >/dev/null 2>&1").c_str()) == 0);
}

const std::vector<std::string> kRoles = {"register", "attendance_officer", "auditor", "reporter",
                                         "admin"};

struct TlsFixture : LedgerFixture {
  TlsFixture() : LedgerFixture(2) {
    MakeCertificates(dir.path());
    std::ofstream tokens(dir.Sub("tokens"));
    for (const std::string& role : kRoles) {
      tokens << services::TokenStore::HashToken("tok-" + role) << " " << role << " "
             << (role == "admin" ? "*" : "s1") << " " << role << " of s1\n";
      tokens << services::TokenStore::HashToken("tok-" + role + "-s2") << " " << role << " "
             << (role == "admin" ? "*" : "s2") << " " << role << " of s2\n";
    }
    // An officer provisioned for a school that does not exist yet.
    tokens << services::TokenStore::HashToken("tok-future") << " attendance_officer future"
           << " officer of a future school\n";
    tokens.close();
    services::SecurityFlags flags;
    flags.tokens_file = dir.Sub("tokens");
    flags.tls = {dir.Sub("server.pem"), dir.Sub("server.key"), ""};
    auto security = services::SetUpSecurity(flags, "127.0.0.1:0");
    REQUIRE(security.ok());
    ledger_service = std::make_unique<services::LedgerServiceImpl>(*ledger, security->auth);
    projections_service =
        std::make_unique<services::ProjectionsServiceImpl>(&live, ledger::Clock(), security->auth);
    auto started =
        services::Server::Start("127.0.0.1:0", {ledger_service.get(), projections_service.get()},
                                {}, security->credentials);
    REQUIRE(started.ok());
    server = std::move(*started);
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = ReadAll(dir.Sub("ca.pem"));
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                                       grpc::SslCredentials(ssl));
    ledger_stub = v1::Ledger::NewStub(channel);
    projections_stub = v1::Projections::NewStub(channel);
  }
  ~TlsFixture() { server->Shutdown(); }

  projections::LiveAttendance live;
  std::unique_ptr<services::LedgerServiceImpl> ledger_service;
  std::unique_ptr<services::ProjectionsServiceImpl> projections_service;
  std::unique_ptr<services::Server> server;
  std::unique_ptr<v1::Ledger::Stub> ledger_stub;
  std::unique_ptr<v1::Projections::Stub> projections_stub;
};

using Call = std::function<grpc::StatusCode(grpc::ClientContext*, const std::string& school)>;

std::map<std::string, Call> Calls(TlsFixture& f, const std::string& tag) {
  std::map<std::string, Call> calls;
  auto unary = [](auto status) { return status.error_code(); };
  calls["RecordMarks"] = [&f, tag, unary](grpc::ClientContext* c, const std::string& school) {
    v1::RecordMarksRequest r;
    r.set_school_id(school);
    r.set_request_id(tag + "-marks");
    // The fixture's clock: 2025-10-09 09:53 in England, the PM register open.
    *r.add_marks() = MakeMark("p1", "2025-10-09", v1::PM, "/");
    v1::RecordMarksResponse out;
    return unary(f.ledger_stub->RecordMarks(c, r, &out));
  };
  calls["StreamMarks"] = [&f, tag](grpc::ClientContext* c, const std::string& school) {
    auto stream = f.ledger_stub->StreamMarks(c);
    v1::RecordMarksRequest r;
    r.set_school_id(school);
    r.set_request_id(tag + "-stream");
    *r.add_marks() = MakeMark("p2", "2025-10-09", v1::PM, "/");
    stream->Write(r);
    stream->WritesDone();
    v1::StreamMarksResponse answer;
    grpc::StatusCode code = grpc::StatusCode::OK;
    while (stream->Read(&answer)) {
      if (answer.error_code() != 0) code = static_cast<grpc::StatusCode>(answer.error_code());
    }
    const grpc::Status status = stream->Finish();
    return status.ok() ? code : status.error_code();
  };
  calls["AmendMark"] = [&f, tag, unary](grpc::ClientContext* c, const std::string& school) {
    v1::AmendMarkRequest r;
    r.set_school_id(school);
    r.set_request_id(tag + "-amend");
    r.set_pupil_id("p1");
    r.set_date("2025-09-08");
    r.set_session(v1::AM);
    r.set_amended_code("I");
    r.set_reason("phoned");
    v1::AmendMarkResponse out;
    return unary(f.ledger_stub->AmendMark(c, r, &out));
  };
  calls["RecordLetter"] = [&f, tag, unary](grpc::ClientContext* c, const std::string& school) {
    v1::RecordLetterRequest r;
    r.set_school_id(school);
    r.set_request_id(tag + "-letter");
    r.set_pupil_id("p1");
    r.set_letter_id("letter_1");
    r.set_channel(v1::POST);
    r.set_sent_on("2025-09-10");
    v1::WriteResponse out;
    return unary(f.ledger_stub->RecordLetter(c, r, &out));
  };
  calls["EnrolPupil"] = [&f, tag, unary](grpc::ClientContext* c, const std::string& school) {
    v1::EnrolPupilRequest r = Enrol(school, tag + "-new");
    r.set_request_id(tag + "-enrol");
    v1::WriteResponse out;
    return unary(f.ledger_stub->EnrolPupil(c, r, &out));
  };
  calls["UpdatePupil"] = [&f, tag, unary](grpc::ClientContext* c, const std::string& school) {
    v1::UpdatePupilRequest r;
    r.set_school_id(school);
    r.set_request_id(tag + "-update");
    *r.mutable_pupil() = Enrol(school, "p2").pupil();
    r.set_effective_from("2025-09-15");
    v1::WriteResponse out;
    return unary(f.ledger_stub->UpdatePupil(c, r, &out));
  };
  calls["RemoveFromRoll"] = [&f, tag, unary](grpc::ClientContext* c, const std::string& school) {
    v1::RemoveFromRollRequest r;
    r.set_school_id(school);
    r.set_request_id(tag + "-remove");
    r.set_pupil_id("p2");
    r.set_last_day_on_roll("2025-12-19");
    r.set_reason("moving");
    v1::WriteResponse out;
    return unary(f.ledger_stub->RemoveFromRoll(c, r, &out));
  };
  calls["SetSchoolCalendar"] = [&f, tag, unary](grpc::ClientContext* c, const std::string& school) {
    v1::SetSchoolCalendarRequest r = Calendar2025(school);
    r.set_request_id(tag + "-cal");
    v1::WriteResponse out;
    return unary(f.ledger_stub->SetSchoolCalendar(c, r, &out));
  };
  calls["SetSchoolSettings"] = [&f, tag, unary](grpc::ClientContext* c, const std::string& school) {
    v1::SetSchoolSettingsRequest r = Settings(school);
    r.set_request_id(tag + "-settings");
    v1::WriteResponse out;
    return unary(f.ledger_stub->SetSchoolSettings(c, r, &out));
  };
  calls["ReadEvents"] = [&f, unary](grpc::ClientContext* c, const std::string& school) {
    v1::ReadEventsRequest r;
    r.set_school_id(school);
    r.set_max_events(2);
    auto reader = f.ledger_stub->ReadEvents(c, r);
    v1::EventEnvelope event;
    while (reader->Read(&event)) {
    }
    return unary(reader->Finish());
  };
  calls["GetPupilAttendance"] = [&f, unary](grpc::ClientContext* c, const std::string& school) {
    v1::GetPupilAttendanceRequest r;
    r.set_school_id(school);
    r.set_pupil_id("p1");
    v1::PupilAttendance out;
    return unary(f.projections_stub->GetPupilAttendance(c, r, &out));
  };
  calls["ListPupilAttendance"] = [&f, unary](grpc::ClientContext* c, const std::string& school) {
    v1::ListPupilAttendanceRequest r;
    r.set_school_id(school);
    v1::ListPupilAttendanceResponse out;
    return unary(f.projections_stub->ListPupilAttendance(c, r, &out));
  };
  calls["GetCohortAttendance"] = [&f, unary](grpc::ClientContext* c, const std::string& school) {
    v1::GetCohortAttendanceRequest r;
    r.set_school_id(school);
    v1::CohortAttendanceResponse out;
    return unary(f.projections_stub->GetCohortAttendance(c, r, &out));
  };
  return calls;
}

bool Allowed(const std::string& role, const std::string& method) {
  if (role == "admin") return true;
  const bool read = method == "ReadEvents" || method == "GetPupilAttendance" ||
                    method == "ListPupilAttendance" || method == "GetCohortAttendance";
  if (role == "attendance_officer") return true;
  if (role == "auditor" || role == "reporter") return read;
  return method == "RecordMarks" || method == "StreamMarks";  // register
}

TEST_CASE("every method x every role x own / other school / no token / bad token, over TLS",
          "[access][services]") {
  TlsFixture f;
  int checked = 0;
  for (const std::string& role : kRoles) {
    for (const std::string& school : {std::string("s1"), std::string("s2")}) {
      for (auto& [method, call] : Calls(f, role + "-" + school)) {
        INFO(role << " on " << school << ": " << method);
        grpc::ClientContext context;
        context.AddMetadata("authorization", "Bearer tok-" + role);
        const ledger::Position before = f.ledger->LastPosition();
        const grpc::StatusCode code = call(&context, school);
        const bool allowed = Allowed(role, method) && (school == "s1" || role == "admin");
        if (allowed) {
          CHECK(code != grpc::StatusCode::PERMISSION_DENIED);
          CHECK(code != grpc::StatusCode::UNAUTHENTICATED);
        } else {
          CHECK(code == grpc::StatusCode::PERMISSION_DENIED);
          CHECK(f.ledger->LastPosition() == before);
        }
        ++checked;
      }
    }
  }
  for (const std::string& token :
       {std::string(), std::string("Bearer forged"), std::string("tok-admin")}) {
    for (auto& [method, call] : Calls(f, "anon" + std::to_string(token.size()))) {
      INFO("token \"" << token << "\": " << method);
      grpc::ClientContext context;
      if (!token.empty()) context.AddMetadata("authorization", token);
      context.AddMetadata("x-actor-name", "Head Teacher");
      context.AddMetadata("x-actor-role", "admin");
      const ledger::Position before = f.ledger->LastPosition();
      CHECK(call(&context, "s1") == grpc::StatusCode::UNAUTHENTICATED);
      CHECK(f.ledger->LastPosition() == before);
      ++checked;
    }
  }
  CHECK(checked == 5 * 2 * 13 + 3 * 13);
}

TEST_CASE("only an admin creates a school; a register-taker only today's open registers",
          "[access][services]") {
  TlsFixture f;
  for (const std::string token : {"tok-future", "tok-admin"}) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", std::string("Bearer ") + token);
    v1::SetSchoolSettingsRequest r = Settings("future");
    v1::WriteResponse out;
    const grpc::Status status = f.ledger_stub->SetSchoolSettings(&context, r, &out);
    if (token == std::string("tok-admin")) {
      CHECK(status.ok());
    } else {
      CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
      CHECK_THAT(status.error_message(), Catch::Contains("only an admin may create"));
    }
  }
  // The fixture's clock stands at 2025-10-09 (UTC), so 2025-10-06 is past.
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer tok-register");
  v1::RecordMarksRequest r;
  r.set_school_id("s1");
  *r.add_marks() = MakeMark("p1", "2025-10-06", v1::AM, "/");
  v1::RecordMarksResponse out;
  const grpc::Status status = f.ledger_stub->RecordMarks(&context, r, &out);
  CHECK(status.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK_THAT(status.error_message(),
             Catch::Contains("2025-10-06") && Catch::Contains("today's open registers"));
}

}  // namespace
}  // namespace attendance::testing
