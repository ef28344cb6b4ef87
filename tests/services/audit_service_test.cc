// attendance.v1.Audit on a real ledger, read-model host and gRPC server:
// mark histories, amendments replayed and filtered, registers as they
// stood, permissions, and chain verification (tampering behind the
// ledger's back is named by position; signed heads).
#include <grpcpp/grpcpp.h>
#include <openssl/evp.h>

#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <rocksdb/db.h>
#include <catch2/catch.hpp>

#include "attendance/v1/audit_service.grpc.pb.h"
#include "raw_db.h"
#include "services/audit_service.h"
#include "services/ledger_verification.h"
#include "services/read_model_host.h"
#include "services/security.h"
#include "services/server.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

using services::AuditIndexReadModel;
using services::MarkHistoryReadModel;

constexpr std::int64_t kHour = 3'600'000'000;

const std::vector<std::string> kRoles = {"register", "attendance_officer", "auditor", "reporter",
                                         "admin"};

std::string EventKey(std::uint64_t position) {
  std::string key;
  for (int shift = 56; shift >= 0; shift -= 8) key.push_back(static_cast<char>(position >> shift));
  return key;
}

std::string Sha256(std::string_view a, std::string_view b) {
  unsigned char out[32];
  unsigned int size = 0;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  EVP_DigestUpdate(ctx, a.data(), a.size());
  EVP_DigestUpdate(ctx, b.data(), b.size());
  EVP_DigestFinal_ex(ctx, out, &size);
  EVP_MD_CTX_free(ctx);
  return std::string(reinterpret_cast<char*>(out), size);
}

v1::AmendMarkRequest Amend(const std::string& pupil, const std::string& date, v1::Session session,
                           const std::string& code, const std::string& reason) {
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
// s2) and a head key, on 127.0.0.1 plaintext.
struct AuditFixture : LedgerFixture {
  explicit AuditFixture(int pupils = 3) : LedgerFixture(pupils) { Start(); }
  ~AuditFixture() { Stop(); }

  void Start() {
    history = std::make_unique<MarkHistoryReadModel>();
    index = std::make_unique<AuditIndexReadModel>();
    host = std::make_unique<services::ReadModelHost>(ledger.get());
    REQUIRE(host->Add(history.get()).ok());
    REQUIRE(host->Add(index.get()).ok());
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
                                            signer.get()});
    auto started = services::Server::Start("127.0.0.1:0", {audit.get()});
    REQUIRE(started.ok());
    server = std::move(*started);
    stub = v1::Audit::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                                                  grpc::InsecureChannelCredentials()));
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
    while (reader->Read(&item)) {
      if (item.has_amendment()) out.push_back(item.amendment());
      if (item.has_end() && end != nullptr) *end = item.end();
    }
    REQUIRE(reader->Finish().ok());
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
  std::unique_ptr<services::ReadModelHost> host;
  std::unique_ptr<services::HeadSigner> signer;
  std::unique_ptr<services::AuditServiceImpl> audit;
  std::unique_ptr<services::Server> server;
  std::unique_ptr<v1::Audit::Stub> stub;
};

// p1 2025-09-08 AM: N at 15:00 on the 8th, amended N -> I the next day and
// I -> M a day later; p2 the same session: "/" then "/" -> L; p3 PM: N -> U.
// Returns the last position.
ledger::Position MakeHistory(AuditFixture& f, std::int64_t t0) {
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

constexpr std::int64_t kT0 = 1'757'340'000'000'000;  // 2025-09-08 14:00 UTC, both registers open

TEST_CASE("GetMarkHistory gives the first mark and every amendment in order", "[audit]") {
  AuditFixture f;
  const ledger::Position last = MakeHistory(f, kT0);
  v1::GetMarkHistoryRequest request;
  request.set_school_id("s1");
  request.set_pupil_id("p1");
  request.set_date("2025-09-08");
  request.set_session(v1::AM);
  request.set_min_position(last);
  v1::MarkHistory history;
  auto context = f.As("auditor");
  REQUIRE(f.stub->GetMarkHistory(context.get(), request, &history).ok());
  REQUIRE(history.entries_size() == 3);
  CHECK_FALSE(history.entries(0).amendment());
  CHECK(history.entries(0).code() == "N");
  CHECK(history.entries(0).by().name() == kTeacher.name);
  CHECK(history.entries(0).at_us() == kT0);
  CHECK(history.entries(1).original_code() == "N");
  CHECK(history.entries(1).code() == "I");
  CHECK(history.entries(1).reason() == "parent phoned");
  CHECK(history.entries(1).by().name() == kOfficer.name);
  CHECK(history.entries(1).by().role() == "attendance_officer");
  CHECK(history.entries(1).at_us() == kT0 + 24 * kHour);
  CHECK(history.entries(2).original_code() == "I");
  CHECK(history.entries(2).code() == "M");
  CHECK(history.entries(2).by().role() == "admin");
  CHECK(history.entries(0).position() < history.entries(1).position());
  CHECK(history.entries(1).position() < history.entries(2).position());

  request.set_pupil_id("p2");
  request.set_session(v1::PM);
  auto missing = f.As("auditor");
  CHECK(f.stub->GetMarkHistory(missing.get(), request, &history).error_code() ==
        grpc::StatusCode::NOT_FOUND);
  request.set_date("2025-13-01");
  auto bad = f.As("auditor");
  grpc::Status status = f.stub->GetMarkHistory(bad.get(), request, &history);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("date"));
}

TEST_CASE("ReplayAmendments streams a school's amendments by time or date, filtered", "[audit]") {
  AuditFixture f;
  const ledger::Position last = MakeHistory(f, kT0);
  v1::ReplayAmendmentsRequest by_time;
  by_time.set_school_id("s1");
  by_time.set_range(v1::BY_AMENDED_AT);
  by_time.set_from_us(kT0);
  by_time.set_min_position(last);
  std::vector<v1::Amendment> all = f.Replay(by_time);
  REQUIRE(all.size() == 4);
  for (std::size_t i = 1; i < all.size(); ++i) {
    CHECK(all[i - 1].amended_at_us() <= all[i].amended_at_us());
  }
  CHECK(all[0].pupil_id() == "p1");
  CHECK(all[0].original_code() == "N");
  CHECK(all[0].amended_code() == "I");
  CHECK(all[0].position() > 0);

  // The second day only: [t0+48h, t0+49h).
  by_time.set_from_us(kT0 + 48 * kHour);
  by_time.set_to_us(kT0 + 49 * kHour);
  CHECK(f.Replay(by_time).size() == 2);

  v1::ReplayAmendmentsRequest by_date;
  by_date.set_school_id("s1");
  by_date.set_range(v1::BY_SESSION_DATE);
  by_date.set_from_date("2025-09-08");
  CHECK(f.Replay(by_date).size() == 4);
  by_date.set_from_date("2025-09-09");
  by_date.set_to_date("2025-12-31");
  CHECK(f.Replay(by_date).empty());

  by_date.set_from_date("2025-09-01");
  by_date.set_unauthorised_to_authorised(true);
  std::vector<v1::Amendment> n_to_i = f.Replay(by_date);
  REQUIRE(n_to_i.size() == 1);  // N -> I; N -> U stays unauthorised
  CHECK(n_to_i[0].amended_code() == "I");
  by_date.set_unauthorised_to_authorised(false);
  by_date.set_amender_role("admin");
  REQUIRE(f.Replay(by_date).size() == 1);
  by_date.set_amender_role("");
  by_date.set_amender_name(kOfficer.name);
  CHECK(f.Replay(by_date).size() == 3);
  by_date.set_amender_name("");
  by_date.set_from_code("N");
  CHECK(f.Replay(by_date).size() == 2);
  by_date.set_to_code("U");
  CHECK(f.Replay(by_date).size() == 1);
  by_date.clear_from_code();
  by_date.clear_to_code();
  by_date.set_pupil_id("p1");
  CHECK(f.Replay(by_date).size() == 2);

  // Pages: two at a time, resumed where the last ended.
  by_date.clear_pupil_id();
  by_date.set_max_results(3);
  v1::ReplayEnd end;
  std::vector<v1::Amendment> page = f.Replay(by_date, &end);
  CHECK(page.size() == 3);
  CHECK(end.truncated());
  by_date.set_resume_after(end.resume_after());
  std::vector<v1::Amendment> rest = f.Replay(by_date, &end);
  REQUIRE(rest.size() == 1);
  CHECK_FALSE(end.truncated());
  CHECK(rest[0].position() != page[0].position());

  // Refused: over the limit, an unknown code, no range.
  for (auto mutate : std::vector<std::function<void(v1::ReplayAmendmentsRequest&)>>{
           [](auto& r) { r.set_max_results(100'001); }, [](auto& r) { r.set_from_code("H2"); },
           [](auto& r) { r.set_range(v1::AMENDMENT_RANGE_UNSPECIFIED); },
           [](auto& r) { r.set_resume_after("junk"); }}) {
    v1::ReplayAmendmentsRequest bad = by_date;
    mutate(bad);
    auto context = f.As("auditor");
    auto reader = f.stub->ReplayAmendments(context.get(), bad);
    v1::ReplayAmendmentsResponse item;
    CHECK_FALSE(reader->Read(&item));
    CHECK(reader->Finish().error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  }
}

TEST_CASE("GetRegisterAsOf gives the register as it stood, and what changed since", "[audit]") {
  AuditFixture f;
  const ledger::Position last = MakeHistory(f, kT0);
  v1::GetRegisterAsOfRequest request;
  request.set_school_id("s1");
  request.set_date("2025-09-08");
  request.set_session(v1::AM);
  request.set_as_of_us(kT0 + 12 * kHour);
  request.set_min_position(last);
  v1::RegisterAsOf reg;
  auto context = f.As("auditor");
  REQUIRE(f.stub->GetRegisterAsOf(context.get(), request, &reg).ok());
  REQUIRE(reg.lines_size() == 2);
  CHECK(reg.lines(0).pupil_id() == "p1");
  CHECK(reg.lines(0).code() == "N");
  CHECK(reg.lines(0).year_group() == 7);
  REQUIRE(reg.lines(0).changed_since_size() == 2);
  CHECK(reg.lines(0).changed_since(0).code() == "I");
  CHECK(reg.lines(0).changed_since(0).by().name() == kOfficer.name);
  CHECK(reg.lines(0).changed_since(1).code() == "M");
  CHECK(reg.lines(1).code() == "/");
  CHECK(reg.lines(1).changed_since_size() == 1);

  // Before anything was recorded: no codes, everything changed since.
  request.set_as_of_us(kT0 - 1);
  auto before = f.As("auditor");
  REQUIRE(f.stub->GetRegisterAsOf(before.get(), request, &reg).ok());
  REQUIRE(reg.lines_size() == 2);
  CHECK(reg.lines(0).code().empty());
  CHECK(reg.lines(0).changed_since_size() == 3);

  // Now (the clock's time): the latest codes, nothing since.
  request.set_as_of_us(0);
  auto now = f.As("auditor");
  REQUIRE(f.stub->GetRegisterAsOf(now.get(), request, &reg).ok());
  CHECK(reg.lines(0).code() == "M");
  CHECK(reg.lines(0).changed_since_size() == 0);
  CHECK(reg.lines(1).code() == "L");

  request.set_year_group(8);
  auto other_year = f.As("auditor");
  REQUIRE(f.stub->GetRegisterAsOf(other_year.get(), request, &reg).ok());
  CHECK(reg.lines_size() == 0);
}

TEST_CASE("Audit is for auditors, admins, and officers of their own school", "[audit]") {
  AuditFixture f;
  MakeHistory(f, kT0);
  v1::GetMarkHistoryRequest request;
  request.set_school_id("s1");
  request.set_pupil_id("p1");
  request.set_date("2025-09-08");
  request.set_session(v1::AM);
  for (const std::string& role : kRoles) {
    v1::MarkHistory history;
    auto context = f.As(role);
    const bool allowed = role == "auditor" || role == "admin" || role == "attendance_officer";
    INFO(role);
    CHECK(f.stub->GetMarkHistory(context.get(), request, &history).error_code() ==
          (allowed ? grpc::StatusCode::OK : grpc::StatusCode::PERMISSION_DENIED));
    grpc::Status status;
    f.Verify({}, &status, role);
    CHECK(status.error_code() == (role == "auditor" || role == "admin"
                                      ? grpc::StatusCode::OK
                                      : grpc::StatusCode::PERMISSION_DENIED));
    v1::SignedHead head;
    auto head_context = f.As(role);
    CHECK(f.stub->GetLedgerHead(head_context.get(), {}, &head).error_code() ==
          (role == "auditor" || role == "admin" ? grpc::StatusCode::OK
                                                : grpc::StatusCode::PERMISSION_DENIED));
  }
  v1::MarkHistory history;
  auto other_school = f.As("officer-s2");
  CHECK(f.stub->GetMarkHistory(other_school.get(), request, &history).error_code() ==
        grpc::StatusCode::PERMISSION_DENIED);
  grpc::ClientContext anonymous;
  CHECK(f.stub->GetMarkHistory(&anonymous, request, &history).error_code() ==
        grpc::StatusCode::UNAUTHENTICATED);
}

TEST_CASE("VerifyLedger streams progress over a live ledger and verifies a signed head",
          "[audit][chain]") {
  AuditFixture f(40);
  // 40 pupils x 2 sessions x 16 school days (up to September's end): 1,280 marks.
  ledger::Day day = *ledger::ParseDate("2025-09-08");
  for (int days = 0; days < 16; ++day) {
    if (ledger::Weekday(day) >= 5) continue;
    if (ledger::FormatDate(day) == "2025-09-19") continue;  // the INSET day
    v1::RecordMarksRequest marks;
    marks.set_school_id("s1");
    for (int p = 1; p <= 40; ++p) {
      for (v1::Session s : {v1::AM, v1::PM}) {
        *marks.add_marks() = MakeMark("p" + std::to_string(p), ledger::FormatDate(day), s, "/");
      }
    }
    auto recorded = f.ledger->RecordMarks(kTeacher, marks);
    INFO(ledger::FormatDate(day) << " " << recorded.status().ToString());
    REQUIRE(recorded.ok());
    ++days;
  }
  const ledger::Position last = f.ledger->LastPosition();
  REQUIRE(last > 1200);

  v1::VerifyLedgerRequest request;
  request.set_progress_every(1000);
  std::vector<v1::VerifyLedgerProgress> messages = f.Verify(request);
  REQUIRE(messages.size() == 2);
  CHECK_FALSE(messages[0].done());
  CHECK(messages[0].verified_through() == 1000);
  CHECK(messages[1].done());
  CHECK(messages[1].ok());
  CHECK(messages[1].result_code() == "OK");
  CHECK(messages[1].verified_through() == last);

  // A head signed now, then more writes: the log still extends it.
  v1::SignedHead head;
  auto head_context = f.As("auditor");
  REQUIRE(f.stub->GetLedgerHead(head_context.get(), {}, &head).ok());
  CHECK(head.position() == last);
  CHECK(head.public_key() == f.signer->public_key());
  CHECK(services::VerifyHeadSignature(head.public_key(), head.position(), head.hash(),
                                      head.signature()));
  REQUIRE(f.ledger->AmendMark(kOfficer, Amend("p1", "2025-09-08", v1::AM, "L", "late")).ok());
  *request.mutable_head() = head;
  messages = f.Verify(request);
  REQUIRE(messages.back().done());
  CHECK(messages.back().head_check().signature_valid());
  CHECK(messages.back().head_check().log_extends_head());

  // A head whose hash is not the log's, or whose signature is forged.
  v1::SignedHead other = head;
  other.mutable_hash()->at(0) ^= 1;
  *request.mutable_head() = other;
  messages = f.Verify(request);
  CHECK_FALSE(messages.back().head_check().signature_valid());
  CHECK_FALSE(messages.back().head_check().log_extends_head());
  other = head;
  other.mutable_signature()->at(5) ^= 1;
  *request.mutable_head() = other;
  messages = f.Verify(request);
  CHECK_FALSE(messages.back().head_check().signature_valid());
  CHECK(messages.back().head_check().log_extends_head());

  request.set_progress_every(10);
  grpc::Status status;
  f.Verify(request, &status);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  request.set_progress_every(0);
  request.set_to_position(last + 100);
  f.Verify(request, &status);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
}

// Rewrites the stored event at `position` with `fn(hash, body)` behind the
// closed ledger's back; `fn` returns the new stored value.
template <typename Fn>
void Rewrite(const std::string& path, std::uint64_t position, Fn fn) {
  WithRawDb(path, [&](rocksdb::DB& db, RawFamilies& families) {
    rocksdb::ColumnFamilyHandle* events = families.at("events");
    std::string value, prev;
    REQUIRE(db.Get(rocksdb::ReadOptions(), events, EventKey(position), &value).ok());
    REQUIRE(db.Get(rocksdb::ReadOptions(), events, EventKey(position - 1), &prev).ok());
    REQUIRE(db.Put(rocksdb::WriteOptions(), events, EventKey(position),
                   fn(prev.substr(0, 32), value.substr(0, 32), value.substr(32)))
                .ok());
  });
}

v1::VerifyLedgerProgress VerifyAll(const ledger::Ledger& ledger) {
  auto result = services::VerifyLedgerRange(ledger, 0, 0, 1000, nullptr, "",
                                            [](const v1::VerifyLedgerProgress&) { return true; });
  REQUIRE(result.ok());
  REQUIRE(result->done());
  return *result;
}

TEST_CASE("tampering behind the ledger's back is named by position", "[audit][chain]") {
  AuditFixture f;
  MakeHistory(f, kT0);
  REQUIRE(VerifyAll(*f.ledger).ok());
  const ledger::Position last = f.ledger->LastPosition();
  const std::string path = f.dir.Sub("db");
  f.Stop();
  f.ledger.reset();

  SECTION("an independent recomputation over the stored bytes agrees with the chain") {
    // SHA-256(previous stored hash || stored bytes), position by position,
    // with OpenSSL and RocksDB only: the chain's definition, not its code.
    WithRawDb(path, [&](rocksdb::DB& db, RawFamilies& families) {
      std::unique_ptr<rocksdb::Iterator> it(
          db.NewIterator(rocksdb::ReadOptions(), families.at("events")));
      std::string prev;
      std::uint64_t expected = 1;
      for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected) {
        CHECK(it->key().ToString() == EventKey(expected));
        const std::string value = it->value().ToString();
        REQUIRE(value.size() > 32);
        CHECK(value.substr(0, 32) == Sha256(prev, value.substr(32)));
        prev = value.substr(0, 32);
      }
      CHECK(expected == last + 1);
    });
  }

  SECTION("one byte of a stored event flipped: that position, through the running server") {
    Rewrite(path, 4, [](std::string, std::string hash, std::string body) {
      body.back() = static_cast<char>(body.back() ^ 0x01);
      return hash + body;
    });
    f.Reopen();
    f.Start();
    std::vector<v1::VerifyLedgerProgress> messages = f.Verify({});
    REQUIRE(messages.size() == 1);
    CHECK(messages[0].done());
    CHECK_FALSE(messages[0].ok());
    CHECK(messages[0].result_code() == "DATA_LOSS");
    CHECK(messages[0].first_failing_position() == 4);
    CHECK(messages[0].verified_through() == 3);
  }

  SECTION("an event rewritten with a fresh hash of its own: the next position") {
    // The forger chains the new bytes to the stored previous hash, exactly
    // as the ledger would have: position 5 verifies, 6 no longer chains.
    Rewrite(path, 5, [](std::string prev, std::string, std::string body) {
      v1::EventEnvelope event;
      REQUIRE(event.ParseFromString(body));
      event.mutable_actor()->set_name("Someone Else");
      const std::string forged = event.SerializeAsString();
      return Sha256(prev, forged) + forged;
    });
    f.Reopen();
    const v1::VerifyLedgerProgress result = VerifyAll(*f.ledger);
    CHECK_FALSE(result.ok());
    CHECK(result.first_failing_position() == 6);
    CHECK_THAT(result.failure(), Catch::Contains("position 6"));
  }

  SECTION("a deleted event: the gap, offline on a read-only open") {
    WithRawDb(path, [](rocksdb::DB& db, RawFamilies& families) {
      REQUIRE(db.Delete(rocksdb::WriteOptions(), families.at("events"), EventKey(3)).ok());
    });
    ledger::LedgerOptions options;
    options.data_dir = path;
    options.read_only = true;
    auto opened = ledger::Ledger::Open(options);
    REQUIRE(opened.ok());
    REQUIRE((*opened)->LastPosition() == last);
    const v1::VerifyLedgerProgress result = VerifyAll(**opened);
    CHECK_FALSE(result.ok());
    CHECK(result.first_failing_position() == 3);
    CHECK_THAT(result.failure(), Catch::Contains("missing"));
  }
}

}  // namespace
}  // namespace attendance::testing
