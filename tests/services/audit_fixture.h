#pragma once

// attendance.v1.Audit on a real ledger, read-model host and gRPC server, for
// the audit tests (tests/services/audit_service_test.cc) and the tamper
// tests (tests/ledger/audit_tamper_test.cc).
#include <grpcpp/grpcpp.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "attendance/v1/audit_service.grpc.pb.h"
#include "attendance/v1/escalation_service.grpc.pb.h"
#include "services/audit_service.h"
#include "services/escalation_read_model.h"
#include "services/escalation_service.h"
#include "services/read_model_host.h"
#include "services/security.h"
#include "services/server.h"
#include "support/fixtures.h"

namespace attendance::testing {

using AuditIndexReadModel = services::AuditIndexReadModel;
using MarkHistoryReadModel = services::MarkHistoryReadModel;

inline constexpr std::int64_t kHour = 3'600'000'000;

inline const std::vector<std::string> kRoles = {"register", "attendance_officer", "auditor",
                                                "reporter", "admin"};

inline v1::AmendMarkRequest Amend(const std::string& pupil, const std::string& date,
                                  v1::Session session, const std::string& code,
                                  const std::string& reason) {
  v1::AmendMarkRequest amend;
  amend.set_school_id("s1");
  amend.set_pupil_id(pupil);
  amend.set_date(date);
  amend.set_session(session);
  amend.set_amended_code(code);
  amend.set_reason(reason);
  return amend;
}

// Audit, with a tokens file (one token per role for s1, and an officer of
// s2) and a head key, on 127.0.0.1 plaintext; beside it the escalation read
// model (the timeline's stage changes) and its Escalation service, to check
// the timeline against.
struct AuditFixture : LedgerFixture {
  explicit AuditFixture(int pupils = 3) : LedgerFixture(pupils) { Start(); }
  ~AuditFixture() { Stop(); }

  void Start() {
    history = std::make_unique<MarkHistoryReadModel>();
    index = std::make_unique<AuditIndexReadModel>();
    host = std::make_unique<services::ReadModelHost>(ledger.get());
    REQUIRE(host->Add(history.get()).ok());
    REQUIRE(host->Add(index.get()).ok());
    escalation_model = std::make_unique<services::EscalationReadModel>(&escalation);
    REQUIRE(host->Add(escalation_model.get()).ok());
    REQUIRE(host->Start().ok());
    std::ofstream tokens(dir.Sub("tokens"));
    for (const std::string& role : kRoles) {
      tokens << services::TokenStore::HashToken("tok-" + role) << " " << role << " "
             << (role == "admin" ? "*" : "s1") << " " << role << " of s1\n";
    }
    tokens << services::TokenStore::HashToken("tok-officer-s2") << " attendance_officer s2"
           << " officer of s2\n";
    tokens.close();
    const std::string key = dir.Sub("head.pem");
    REQUIRE(std::system(
                ("openssl genpkey -algorithm ed25519 -out " + key + " 2>/dev/null").c_str()) == 0);
    auto made = services::HeadSigner::FromPemFile(key);
    REQUIRE(made.ok());
    signer = std::move(*made);
    services::SecurityFlags flags;
    flags.tokens_file = dir.Sub("tokens");
    auto security = services::SetUpSecurity(flags, "127.0.0.1:0");
    REQUIRE(security.ok());
    audit = std::make_unique<services::AuditServiceImpl>(
        ledger.get(), history.get(), index.get(),
        services::AuditServiceImpl::Options{ledger::Clock([this] { return now_us.load(); }),
                                            security->auth,
                                            [this](const std::string& name, ledger::Position p,
                                                   std::chrono::steady_clock::time_point deadline) {
                                              return host->WaitFor(name, p, deadline);
                                            },
                                            signer.get(), escalation_model.get(), &escalation});
    escalation_service = std::make_unique<services::EscalationServiceImpl>(
        &escalation, ledger::Clock([this] { return now_us.load(); }), security->auth,
        [this](ledger::Position p, std::chrono::steady_clock::time_point deadline) {
          return host->WaitFor(escalation_model->name(), p, deadline);
        });
    auto started = services::Server::Start("127.0.0.1:0", {audit.get(), escalation_service.get()});
    REQUIRE(started.ok());
    server = std::move(*started);
    stub = v1::Audit::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                                                  grpc::InsecureChannelCredentials()));
    escalation_stub = v1::Escalation::NewStub(grpc::CreateChannel(
        "127.0.0.1:" + std::to_string(server->port()), grpc::InsecureChannelCredentials()));
  }

  void Stop() {
    if (server) server->Shutdown();
    server.reset();
    if (host) host->Stop();
    host.reset();
  }

  std::unique_ptr<grpc::ClientContext> As(const std::string& role) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->AddMetadata("authorization", "Bearer tok-" + role);
    return context;
  }

  std::vector<v1::Amendment> Replay(const v1::ReplayAmendmentsRequest& request,
                                    v1::ReplayEnd* end = nullptr,
                                    const std::string& role = "auditor") {
    auto context = As(role);
    auto reader = stub->ReplayAmendments(context.get(), request);
    std::vector<v1::Amendment> out;
    v1::ReplayAmendmentsResponse item;
    bool ended = false;
    while (reader->Read(&item)) {
      REQUIRE_FALSE(ended);  // `end` comes last
      out.insert(out.end(), item.amendments().begin(), item.amendments().end());
      ended = item.has_end();
      if (ended && end != nullptr) *end = item.end();
    }
    CHECK(ended);
    REQUIRE(reader->Finish().ok());
    return out;
  }

  // No deadline: gRPC's default (none).
  static constexpr std::chrono::system_clock::time_point kNoDeadline{};

  // s1's session as GetMarkHistory gives it to an auditor once
  // `min_position` is reached; REQUIREs OK.
  v1::MarkHistory History(const std::string& pupil, const std::string& date, v1::Session session,
                          ledger::Position min_position,
                          std::chrono::system_clock::time_point deadline = kNoDeadline) {
    v1::GetMarkHistoryRequest request;
    request.set_school_id("s1");
    request.set_pupil_id(pupil);
    request.set_date(date);
    request.set_session(session);
    request.set_min_position(min_position);
    v1::MarkHistory answer;
    auto context = As("auditor");
    if (deadline != kNoDeadline) context->set_deadline(deadline);
    const grpc::Status status = stub->GetMarkHistory(context.get(), request, &answer);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return answer;
  }

  // s1's register as GetRegisterAsOf gives it to an auditor (as of now when
  // `as_of_us` is 0) once `min_position` is reached; REQUIREs OK.
  v1::RegisterAsOf Register(const std::string& date, v1::Session session,
                            ledger::Position min_position, std::int64_t as_of_us = 0,
                            std::chrono::system_clock::time_point deadline = kNoDeadline) {
    v1::GetRegisterAsOfRequest request;
    request.set_school_id("s1");
    request.set_date(date);
    request.set_session(session);
    request.set_as_of_us(as_of_us);
    request.set_min_position(min_position);
    v1::RegisterAsOf reg;
    auto context = As("auditor");
    if (deadline != kNoDeadline) context->set_deadline(deadline);
    const grpc::Status status = stub->GetRegisterAsOf(context.get(), request, &reg);
    INFO(status.error_message());
    REQUIRE(status.ok());
    return reg;
  }

  // Every entry of a GetPupilTimeline call by an auditor, each serialised
  // (to compare whole entries); its end in `end`. REQUIREs OK.
  std::vector<std::string> TimelineBytes(
      const v1::GetPupilTimelineRequest& request, v1::TimelineEnd* end,
      std::chrono::system_clock::time_point deadline = kNoDeadline) {
    auto context = As("auditor");
    if (deadline != kNoDeadline) context->set_deadline(deadline);
    auto reader = stub->GetPupilTimeline(context.get(), request);
    std::vector<std::string> out;
    v1::PupilTimelinePage page;
    while (reader->Read(&page)) {
      for (const auto& entry : page.entries()) out.push_back(entry.SerializeAsString());
      if (page.has_end()) *end = page.end();
    }
    const grpc::Status status = reader->Finish();
    INFO(status.error_message());
    REQUIRE(status.ok());
    return out;
  }

  // Every message of a VerifyLedger call; the status in `status`.
  std::vector<v1::VerifyLedgerProgress> Verify(const v1::VerifyLedgerRequest& request,
                                               grpc::Status* status = nullptr,
                                               const std::string& role = "auditor") {
    auto context = As(role);
    auto reader = stub->VerifyLedger(context.get(), request);
    std::vector<v1::VerifyLedgerProgress> out;
    v1::VerifyLedgerProgress progress;
    while (reader->Read(&progress)) out.push_back(progress);
    grpc::Status finished = reader->Finish();
    if (status != nullptr) {
      *status = finished;
    } else {
      REQUIRE(finished.ok());
    }
    return out;
  }

  std::unique_ptr<MarkHistoryReadModel> history;
  std::unique_ptr<AuditIndexReadModel> index;
  projections::LiveEscalation escalation;
  std::unique_ptr<services::EscalationReadModel> escalation_model;
  std::unique_ptr<services::ReadModelHost> host;
  std::unique_ptr<services::HeadSigner> signer;
  std::unique_ptr<services::EscalationServiceImpl> escalation_service;
  std::unique_ptr<services::AuditServiceImpl> audit;
  std::unique_ptr<services::Server> server;
  std::unique_ptr<v1::Audit::Stub> stub;
  std::unique_ptr<v1::Escalation::Stub> escalation_stub;
};

// Answers that missed the write they were asked to see, per query: counted
// rather than stopping at the first, so a failure says how often.
struct StaleCounts {
  void Count(const std::string& query, bool fresh) {
    ++asked[query];
    if (!fresh) ++stale[query];
  }
  int total() const {
    int sum = 0;
    for (const auto& [query, n] : stale) sum += n;
    return sum;
  }
  // "GetMarkHistory 0 of 400, ...".
  std::string Summary() const {
    std::ostringstream out;
    const char* separator = "";
    for (const auto& [query, n] : asked) {
      const auto found = stale.find(query);
      out << separator << query << " " << (found == stale.end() ? 0 : found->second) << " of " << n;
      separator = ", ";
    }
    return out.str();
  }
  std::map<std::string, int> asked, stale;
};

// p1 2025-09-08 AM: N at 15:00 on the 8th, amended N -> I the next day and
// I -> M a day later; p2 the same session: "/" then "/" -> L; p3 PM: N -> U.
// Returns the last position.
inline ledger::Position MakeHistory(AuditFixture& f, std::int64_t t0) {
  f.now_us = t0;
  v1::RecordMarksRequest marks;
  marks.set_school_id("s1");
  *marks.add_marks() = MakeMark("p1", "2025-09-08", v1::AM, "N");
  *marks.add_marks() = MakeMark("p2", "2025-09-08", v1::AM, "/");
  *marks.add_marks() = MakeMark("p3", "2025-09-08", v1::PM, "N");
  REQUIRE(f.ledger->RecordMarks(kTeacher, marks).ok());
  f.now_us = t0 + 24 * kHour;
  REQUIRE(
      f.ledger->AmendMark(kOfficer, Amend("p1", "2025-09-08", v1::AM, "I", "parent phoned")).ok());
  auto late = Amend("p2", "2025-09-08", v1::AM, "L", "arrived 09:10");
  late.set_minutes_late(10);
  REQUIRE(f.ledger->AmendMark(kOfficer, late).ok());
  f.now_us = t0 + 48 * kHour;
  REQUIRE(f.ledger
              ->AmendMark({"Ms H. Head", "admin"},
                          Amend("p1", "2025-09-08", v1::AM, "M", "it was the dentist"))
              .ok());
  auto last =
      f.ledger->AmendMark(kOfficer, Amend("p3", "2025-09-08", v1::PM, "U", "no reason given"));
  REQUIRE(last.ok());
  return last->position();
}

inline constexpr std::int64_t kT0 =
    1'757'340'000'000'000;  // 2025-09-08 14:00 UTC, both registers open

}  // namespace attendance::testing
