// attendance.v1.Audit on a real ledger, read-model host and gRPC server:
// mark histories, amendments replayed and filtered, registers as they
// stood, permissions, chain verification with progress and signed heads.
// Tampering behind the ledger's back: tests/ledger/audit_tamper_test.cc.
#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include <catch2/catch.hpp>

#include "audit_fixture.h"
#include "projections/audit_index.h"
#include "services/head_signer.h"

namespace attendance::testing {
namespace {

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

TEST_CASE("GetRegisterAsOf's kept roll follows enrolments and detail changes", "[audit]") {
  AuditFixture f;
  ledger::Position last = MakeHistory(f, kT0);
  auto register_now = [&](std::optional<int> year_group = std::nullopt) {
    v1::GetRegisterAsOfRequest request;
    request.set_school_id("s1");
    request.set_date("2025-09-08");
    request.set_session(v1::AM);
    request.set_min_position(last);
    if (year_group) request.set_year_group(*year_group);
    v1::RegisterAsOf reg;
    auto context = f.As("auditor");
    REQUIRE(f.stub->GetRegisterAsOf(context.get(), request, &reg).ok());
    std::vector<std::tuple<std::string, int, std::string, std::string>> lines;
    for (const v1::RegisterLine& line : reg.lines()) {
      lines.emplace_back(line.pupil_id(), line.year_group(), line.class_name(), line.code());
    }
    return lines;
  };
  using Lines = std::vector<std::tuple<std::string, int, std::string, std::string>>;
  CHECK(register_now() == Lines{{"p1", 7, "7A", "M"}, {"p2", 7, "7A", "L"}});
  // The second call answers from the kept roll.
  const std::uint64_t hits = f.index->roll_cache_stats().hits;
  CHECK(register_now() == Lines{{"p1", 7, "7A", "M"}, {"p2", 7, "7A", "L"}});
  CHECK(f.index->roll_cache_stats().hits == hits + 1);
  CHECK(f.index->roll_cache_stats().schools == 1);

  // A detail change between two calls.
  v1::UpdatePupilRequest update;
  update.set_school_id("s1");
  *update.mutable_pupil() = Enrol("s1", "p1").pupil();
  update.mutable_pupil()->set_year_group(8);
  update.mutable_pupil()->set_class_name("8C");
  update.set_effective_from("2025-09-10");
  auto updated = f.ledger->UpdatePupil(kOfficer, update);
  REQUIRE(updated.ok());
  last = updated->position();
  // Published (the store written), whatever min_position's wait does.
  REQUIRE(f.host
              ->WaitFor(f.index->name(), last,
                        std::chrono::steady_clock::now() + std::chrono::seconds(10))
              .ok());
  CHECK(register_now() == Lines{{"p1", 8, "8C", "M"}, {"p2", 7, "7A", "L"}});
  CHECK(register_now(8) == Lines{{"p1", 8, "8C", "M"}});
  CHECK(register_now(7) == Lines{{"p2", 7, "7A", "L"}});

  // An enrolment and its mark: p10 sorts between p1 and p2 by id (after
  // both in the index, which orders ids by length first).
  REQUIRE(f.ledger->EnrolPupil(kOfficer, Enrol("s1", "p10", "2025-09-01", 9)).ok());
  v1::RecordMarksRequest marks;
  marks.set_school_id("s1");
  *marks.add_marks() = MakeMark("p10", "2025-09-08", v1::AM, "/");
  auto marked = f.ledger->RecordMarks(kTeacher, marks);
  REQUIRE(marked.ok());
  last = f.ledger->LastPosition();
  REQUIRE(f.host
              ->WaitFor(f.index->name(), last,
                        std::chrono::steady_clock::now() + std::chrono::seconds(10))
              .ok());
  CHECK(register_now() == Lines{{"p1", 8, "8C", "M"}, {"p10", 9, "7A", "/"}, {"p2", 7, "7A", "L"}});
  CHECK(register_now(9) == Lines{{"p10", 9, "7A", "/"}});
  CHECK(f.index->roll_cache_stats().invalidated >= 2);
}

TEST_CASE("GetPupilTimeline gives a pupil's record in date order, then log order", "[audit]") {
  AuditFixture f;
  MakeHistory(f, kT0);
  v1::RecordMarksRequest marks;
  marks.set_school_id("s1");
  *marks.add_marks() = MakeMark("p1", "2025-09-09", v1::AM, "/");
  REQUIRE(f.ledger->RecordMarks(kTeacher, marks).ok());
  v1::RecordLetterRequest letter;
  letter.set_school_id("s1");
  letter.set_pupil_id("p1");
  letter.set_letter_id("letter_1");
  letter.set_channel(v1::POST);
  letter.set_sent_on("2025-09-09");
  REQUIRE(f.ledger->RecordLetter(kOfficer, letter).ok());
  v1::UpdatePupilRequest update;
  update.set_school_id("s1");
  *update.mutable_pupil() = Enrol("s1", "p1").pupil();
  update.mutable_pupil()->set_class_name("7C");
  update.set_effective_from("2025-09-10");
  auto last = f.ledger->UpdatePupil(kOfficer, update);
  REQUIRE(last.ok());

  auto timeline = [&](v1::GetPupilTimelineRequest request, v1::TimelineEnd* end = nullptr,
                      const std::string& role = "auditor") {
    request.set_school_id("s1");
    request.set_pupil_id("p1");
    request.set_min_position(last->position());
    auto context = f.As(role);
    auto reader = f.stub->GetPupilTimeline(context.get(), request);
    std::vector<v1::TimelineEntry> out;
    v1::PupilTimelinePage page;
    while (reader->Read(&page)) {
      out.insert(out.end(), page.entries().begin(), page.entries().end());
      if (end != nullptr) *end = page.end();
    }
    grpc::Status status = reader->Finish();
    INFO(status.error_message());
    CHECK(status.error_code() ==
          (role == "reporter" ? grpc::StatusCode::PERMISSION_DENIED : grpc::StatusCode::OK));
    return out;
  };
  v1::TimelineEnd end;
  const std::vector<v1::TimelineEntry> all = timeline({}, &end);
  REQUIRE(all.size() == 7);
  CHECK(end.entries() == 7);
  CHECK_FALSE(end.truncated());
  CHECK(all[0].event().has_pupil_enrolled());
  CHECK(all[0].date() == "2025-09-01");
  CHECK(all[1].event().has_mark_recorded());
  CHECK(all[1].date() == "2025-09-08");
  CHECK(all[2].event().mark_amended().amended_code() == "I");
  CHECK(all[3].event().mark_amended().amended_code() == "M");
  CHECK(all[4].event().has_mark_recorded());
  CHECK(all[5].event().has_letter_sent());
  CHECK(all[6].event().has_pupil_updated());
  for (std::size_t i = 1; i < all.size(); ++i) {
    CHECK(std::make_pair(all[i - 1].date(), all[i - 1].position()) <
          std::make_pair(all[i].date(), all[i].position()));
    CHECK(all[i].position() == all[i].event().position());
  }
  v1::GetPupilTimelineRequest one_day;
  one_day.set_from_date("2025-09-08");
  one_day.set_to_date("2025-09-08");
  CHECK(timeline(one_day).size() == 3);
  v1::GetPupilTimelineRequest from;
  from.set_from_date("2025-09-09");
  CHECK(timeline(from).size() == 3);
  v1::GetPupilTimelineRequest two;
  two.set_max_results(2);
  CHECK(timeline(two, &end).size() == 2);
  CHECK(end.truncated());
  CHECK(timeline({}, nullptr, "reporter").empty());

  // Resumed after end.resume_after, page by page: the whole timeline.
  std::vector<v1::TimelineEntry> paged;
  for (int calls = 1;; ++calls) {
    const std::vector<v1::TimelineEntry> page = timeline(two, &end);
    paged.insert(paged.end(), page.begin(), page.end());
    if (!end.truncated()) {
      CHECK(calls == 4);
      break;
    }
    CHECK(end.resume_after() == page.back().resume_after());
    two.set_resume_after(end.resume_after());
  }
  REQUIRE(paged.size() == all.size());
  for (std::size_t i = 0; i < all.size(); ++i) {
    CHECK(paged[i].SerializeAsString() == all[i].SerializeAsString());
  }
  // After the last entry: nothing more.
  v1::GetPupilTimelineRequest after_last;
  after_last.set_resume_after(all.back().resume_after());
  CHECK(timeline(after_last, &end).empty());
  CHECK_FALSE(end.truncated());

  // A resume_after that is not this pupil's, or outside the dates: rejected.
  auto rejected = [&](const std::string& pupil, const std::string& resume_after,
                      const std::string& from_date) {
    v1::GetPupilTimelineRequest request;
    request.set_school_id("s1");
    request.set_pupil_id(pupil);
    request.set_from_date(from_date);
    request.set_resume_after(resume_after);
    auto context = f.As("auditor");
    auto reader = f.stub->GetPupilTimeline(context.get(), request);
    v1::PupilTimelinePage page;
    while (reader->Read(&page)) {
    }
    const grpc::Status status = reader->Finish();
    CHECK(status.error_message().find("resume_after") != std::string::npos);
    return status.error_code() == grpc::StatusCode::INVALID_ARGUMENT;
  };
  CHECK(rejected("p1", "not a cursor", ""));
  CHECK(rejected("p2", all[2].resume_after(), ""));
  CHECK(rejected("p1", all[0].resume_after(), "2025-09-08"));  // enrolment: 2025-09-01
  CHECK(rejected("p1", all[2].resume_after().substr(1), ""));
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

}  // namespace
}  // namespace attendance::testing

namespace attendance::testing {
namespace {

// What the log says, replayed by brute force: every mark and amendment.
struct LoggedEntry {
  v1::EventEnvelope event;
  std::string pupil, date;
  v1::Session session;
  std::int64_t at_us;
};

std::vector<LoggedEntry> ReplayLog(const ledger::Ledger& ledger) {
  std::vector<LoggedEntry> out;
  REQUIRE(ledger
              .ForEachEvent(
                  1,
                  [&](const v1::EventEnvelope& e) {
                    if (e.has_mark_recorded()) {
                      out.push_back({e, e.mark_recorded().pupil_id(), e.mark_recorded().date(),
                                     e.mark_recorded().session(), e.recorded_at_us()});
                    } else if (e.has_mark_amended()) {
                      out.push_back({e, e.mark_amended().pupil_id(), e.mark_amended().date(),
                                     e.mark_amended().session(), e.mark_amended().amended_at_us()});
                    }
                    return true;
                  })
              .ok());
  return out;
}

TEST_CASE("histories, registers as of and replays equal a brute-force replay of the log",
          "[audit][property]") {
  AuditFixture f(6);
  std::mt19937 random(20261201);
  const std::vector<std::string> days = {"2025-09-08", "2025-09-09", "2025-09-10", "2025-09-11",
                                         "2025-09-12"};
  const std::vector<std::string> codes = {"/", "N", "I", "M", "O", "G", "E", "R", "B"};
  const std::vector<ledger::Principal> amenders = {
      kOfficer, {"Ms H. Head", "admin"}, {"Mr D. Deputy", "attendance_officer"}};
  std::int64_t now = kT0 + 5 * 24 * kHour;
  std::map<std::tuple<std::string, std::string, int>, std::string> current;
  // Whole-school closures (day, session): their sessions are marked "#".
  // One is planned before the week, another closes a day already marked.
  v1::SetSchoolCalendarRequest calendar = Calendar2025("s1");
  std::set<std::pair<std::string, int>> closed;
  auto close = [&](const std::string& day, v1::Session session) {
    v1::Closure* closure = calendar.mutable_calendar()->add_closures();
    closure->set_date(day);
    closure->set_session(session);
    closure->set_reason("Boiler failure");
    for (v1::Session s : {v1::AM, v1::PM}) {
      if (session == v1::SESSION_UNSPECIFIED || session == s) closed.insert({day, s});
    }
    f.now_us = now += kHour;
    REQUIRE(f.ledger->SetSchoolCalendar(kOfficer, calendar).ok());
  };
  close(days[2 + random() % 3], random() % 2 ? v1::SESSION_UNSPECIFIED : v1::PM);
  // Who is on roll: the last day on roll of a leaver ("" while on roll).
  std::map<std::string, std::string> left_on;
  int leavers = 0, rejoiners = 0;
  for (const std::string& day : days) {
    // Leavers rejoin the roll (enrolled again, maybe in another year group).
    for (auto& [pupil, last_day] : left_on) {
      if (last_day.empty() || random() % 2) continue;
      f.now_us = now += kHour;
      REQUIRE(
          f.ledger
              ->EnrolPupil(kOfficer, Enrol("s1", pupil, day, 7 + static_cast<int>(random() % 3)))
              .ok());
      last_day.clear();
      ++rejoiners;
    }
    v1::RecordMarksRequest marks;
    marks.set_school_id("s1");
    for (int p = 1; p <= 6; ++p) {
      const std::string pupil = "p" + std::to_string(p);
      if (!left_on[pupil].empty()) continue;  // off roll: no register line
      for (v1::Session s : {v1::AM, v1::PM}) {
        if (random() % 5 == 0) continue;  // some sessions never marked
        const std::string code =
            closed.count({day, s}) ? std::string("#") : codes[random() % codes.size()];
        *marks.add_marks() = MakeMark(pupil, day, s, code);
        current[{pupil, day, s}] = code;
      }
    }
    f.now_us = now += kHour;
    auto recorded = f.ledger->RecordMarks(kTeacher, marks);
    INFO(recorded.status().ToString());
    REQUIRE(recorded.ok());
    if (day == days[3]) close(days[random() % 4], v1::SESSION_UNSPECIFIED);
    // A pupil leaves the roll after today (their marks stay in history).
    // Not earlier: the ledger refuses a last day before a marked day
    // (tests/services/retroactive_leaving_test.cc).
    if (random() % 2) {
      const std::string pupil = "p" + std::to_string(1 + random() % 6);
      if (left_on[pupil].empty()) {
        v1::RemoveFromRollRequest remove;
        remove.set_school_id("s1");
        remove.set_pupil_id(pupil);
        remove.set_last_day_on_roll(day);
        remove.set_reason("moved away");
        f.now_us = now += kHour;
        auto removed = f.ledger->RemoveFromRoll(kOfficer, remove);
        INFO(removed.status().ToString());
        REQUIRE(removed.ok());
        left_on[pupil] = day;
        ++leavers;
      }
    }
    // A pupil moves class or year group (the registers' lines say where
    // each pupil is now).
    v1::UpdatePupilRequest update;
    update.set_school_id("s1");
    const std::string moved = "p" + std::to_string(1 + random() % 6);
    if (!left_on[moved].empty()) continue;
    *update.mutable_pupil() = Enrol("s1", moved).pupil();
    update.mutable_pupil()->set_year_group(7 + static_cast<int>(random() % 3));
    update.mutable_pupil()->set_class_name("7" +
                                           std::string(1, static_cast<char>('A' + random() % 3)));
    update.set_effective_from(day);
    REQUIRE(f.ledger->UpdatePupil(kOfficer, update).ok());
  }
  std::vector<std::tuple<std::string, std::string, int>> marked;
  for (const auto& [key, code] : current) marked.push_back(key);
  // The days each pupil was on roll, from the log (a pupil enrolled again
  // is on roll from then; one who left, up to the last day on roll).
  auto on_roll = [&](const std::string& pupil, const std::string& day) {
    bool on = false;
    REQUIRE(f.ledger
                ->ForEachEvent(1,
                               [&](const v1::EventEnvelope& e) {
                                 if (e.pupil_id() != pupil) return true;
                                 if (e.has_pupil_enrolled()) {
                                   if (e.pupil_enrolled().on_roll_from() <= day) on = true;
                                 } else if (e.has_pupil_left_roll()) {
                                   if (e.pupil_left_roll().last_day_on_roll() < day) on = false;
                                 }
                                 return true;
                               })
                .ok());
    return on;
  };
  REQUIRE(leavers > 0);
  REQUIRE(rejoiners > 0);
  for (int i = 0; i < 150; ++i) {  // amendments, of amendments too
    auto& [pupil, day, session] = marked[random() % marked.size()];
    // A closed session can only be amended to "#"; once it is, not at all.
    const bool is_closed = closed.count({day, session}) > 0;
    if (is_closed && current[{pupil, day, session}] == "#") continue;
    std::string code = "#";
    while (!is_closed && (code == "#" || code == current[{pupil, day, session}])) {
      code = codes[random() % codes.size()];
    }
    f.now_us = now += static_cast<std::int64_t>(random() % 600) * 1'000'000;
    auto amended = f.ledger->AmendMark(
        amenders[random() % amenders.size()],
        Amend(pupil, day, static_cast<v1::Session>(session), code, "reason " + std::to_string(i)));
    INFO(amended.status().ToString());
    REQUIRE(amended.ok());
    current[{pupil, day, session}] = code;
  }
  const ledger::Position last = f.ledger->LastPosition();
  const std::vector<LoggedEntry> log = ReplayLog(*f.ledger);
  // Each pupil's year group and class now: the last enrolment or update.
  std::map<std::string, std::pair<int, std::string>> details_now;
  REQUIRE(f.ledger
              ->ForEachEvent(1,
                             [&](const v1::EventEnvelope& e) {
                               const v1::Pupil* p =
                                   e.has_pupil_enrolled()  ? &e.pupil_enrolled().pupil()
                                   : e.has_pupil_updated() ? &e.pupil_updated().pupil()
                                                           : nullptr;
                               if (p != nullptr) {
                                 details_now[p->pupil_id()] = {p->year_group(), p->class_name()};
                               }
                               return true;
                             })
              .ok());
  // The history GetMarkHistory gives of a session, which a register's
  // entries must equal.
  auto history_of = [&](const std::string& pupil, const std::string& day, v1::Session session) {
    return f.History(pupil, day, session, last);
  };

  // Every session's history.
  for (const auto& [pupil, day, session] : marked) {
    const v1::MarkHistory history = history_of(pupil, day, static_cast<v1::Session>(session));
    std::vector<ledger::Position> expected;
    for (const LoggedEntry& e : log) {
      if (e.pupil == pupil && e.date == day && e.session == session) {
        expected.push_back(e.event.position());
      }
    }
    std::vector<ledger::Position> got;
    for (const auto& entry : history.entries()) got.push_back(entry.position());
    CHECK(got == expected);
  }

  // Registers as they stood at random moments.
  for (int i = 0; i < 40; ++i) {
    const std::string day = days[random() % days.size()];
    const v1::Session session = random() % 2 ? v1::AM : v1::PM;
    const std::int64_t as_of =
        kT0 + 5 * 24 * kHour + static_cast<std::int64_t>(random() % (now - kT0 - 5 * 24 * kHour));
    const v1::RegisterAsOf reg = f.Register(day, session, last, as_of);
    std::map<std::string, std::pair<std::string, std::vector<ledger::Position>>> expected;
    for (const LoggedEntry& e : log) {
      if (e.date != day || e.session != session) continue;
      auto& [code, since] = expected[e.pupil];
      if (e.at_us <= as_of) {
        code = e.event.has_mark_recorded() ? e.event.mark_recorded().code()
                                           : e.event.mark_amended().amended_code();
      } else {
        since.push_back(e.event.position());
      }
    }
    std::map<std::string, std::pair<std::string, std::vector<ledger::Position>>> got;
    for (const auto& line : reg.lines()) {
      auto& [code, since] = got[line.pupil_id()];
      code = line.code();
      // Marked only while on roll: a leaver's lines are those of their days.
      CHECK(on_roll(line.pupil_id(), day));
      for (const auto& entry : line.changed_since()) since.push_back(entry.position());
      // Where the pupil is now, and every entry as GetMarkHistory gives it.
      CHECK(std::pair{line.year_group(), line.class_name()} == details_now[line.pupil_id()]);
      const v1::MarkHistory history = history_of(line.pupil_id(), day, session);
      v1::MarkHistoryEntry then;
      std::vector<std::string> later;
      for (const v1::MarkHistoryEntry& entry : history.entries()) {
        if (entry.at_us() <= as_of) {
          then = entry;
        } else {
          later.push_back(entry.SerializeAsString());
        }
      }
      CHECK(line.as_of_entry().SerializeAsString() == then.SerializeAsString());
      std::vector<std::string> got_later;
      for (const auto& entry : line.changed_since()) got_later.push_back(entry.SerializeAsString());
      CHECK(got_later == later);
    }
    CHECK(got == expected);
    std::vector<std::string> ids;
    for (const auto& line : reg.lines()) ids.push_back(line.pupil_id());
    CHECK(std::is_sorted(ids.begin(), ids.end()));
  }

  // Every pupil's timeline: their events by (date, position).
  for (int p = 1; p <= 6; ++p) {
    const std::string pupil = "p" + std::to_string(p);
    std::vector<std::pair<std::string, ledger::Position>> expected;
    REQUIRE(f.ledger
                ->ForEachEvent(1,
                               [&](const v1::EventEnvelope& e) {
                                 if (e.pupil_id() != pupil) return true;
                                 // The day each kind of entry is about, the
                                 // leaving one's being the last day on roll.
                                 std::string date =
                                     e.has_mark_recorded()    ? e.mark_recorded().date()
                                     : e.has_mark_amended()   ? e.mark_amended().date()
                                     : e.has_pupil_enrolled() ? e.pupil_enrolled().on_roll_from()
                                     : e.has_pupil_updated()  ? e.pupil_updated().effective_from()
                                     : e.has_pupil_left_roll()
                                         ? e.pupil_left_roll().last_day_on_roll()
                                         : "";
                                 REQUIRE_FALSE(date.empty());
                                 expected.emplace_back(date, e.position());
                                 return true;
                               })
                .ok());
    std::sort(expected.begin(), expected.end());
    v1::GetPupilTimelineRequest request;
    request.set_school_id("s1");
    request.set_pupil_id(pupil);
    request.set_min_position(last);
    v1::TimelineEnd end;
    const std::vector<std::string> whole = f.TimelineBytes(request, &end);
    CHECK_FALSE(end.truncated());
    std::vector<std::pair<std::string, ledger::Position>> got;
    for (const std::string& bytes : whole) {
      v1::TimelineEntry entry;
      REQUIRE(entry.ParseFromString(bytes));
      got.emplace_back(entry.date(), entry.position());
    }
    CHECK(got == expected);
    // Pages of 1..3 entries, each call resumed after the last: the same.
    std::vector<std::string> paged;
    request.set_max_results(1 + static_cast<std::uint32_t>(random() % 3));
    for (int calls = 0;; ++calls) {
      REQUIRE(calls <= static_cast<int>(whole.size()));
      const std::vector<std::string> part = f.TimelineBytes(request, &end);
      paged.insert(paged.end(), part.begin(), part.end());
      if (!end.truncated()) break;
      request.set_resume_after(end.resume_after());
    }
    CHECK(paged == whole);
    // A stream broken after a random entry, resumed after it: the rest.
    if (!whole.empty()) {
      const std::size_t broken = random() % whole.size();
      v1::TimelineEntry last_got;
      REQUIRE(last_got.ParseFromString(whole[broken]));
      request.set_max_results(0);
      request.set_resume_after(last_got.resume_after());
      std::vector<std::string> resumed(whole.begin(), whole.begin() + broken + 1);
      const std::vector<std::string> rest = f.TimelineBytes(request, &end);
      resumed.insert(resumed.end(), rest.begin(), rest.end());
      CHECK(resumed == whole);
    }
  }

  // Replays by time and by date, with random filters.
  for (int i = 0; i < 40; ++i) {
    v1::ReplayAmendmentsRequest request;
    request.set_school_id("s1");
    request.set_min_position(last);
    const bool by_time = random() % 2;
    std::int64_t from_us = 0, to_us = 0;
    std::string from_date, to_date;
    if (by_time) {
      request.set_range(v1::BY_AMENDED_AT);
      from_us = kT0 + static_cast<std::int64_t>(random() % (now - kT0));
      to_us = from_us + static_cast<std::int64_t>(random() % (now - kT0)) + 1;
      request.set_from_us(from_us);
      request.set_to_us(to_us);
    } else {
      request.set_range(v1::BY_SESSION_DATE);
      const std::size_t a = random() % days.size(), b = random() % days.size();
      from_date = days[std::min(a, b)];
      to_date = days[std::max(a, b)];
      request.set_from_date(from_date);
      request.set_to_date(to_date);
    }
    switch (random() % 5) {
      case 0:
        request.set_pupil_id("p" + std::to_string(1 + random() % 6));
        break;
      case 1:
        request.set_amender_role("admin");
        break;
      case 2:
        request.set_unauthorised_to_authorised(true);
        break;
      case 3:
        request.set_from_code(codes[random() % codes.size()]);
        break;
      default:
        break;
    }
    std::vector<std::tuple<std::int64_t, std::string, int, ledger::Position>> expected;
    for (const LoggedEntry& e : log) {
      if (!e.event.has_mark_amended()) continue;
      const v1::MarkAmended& m = e.event.mark_amended();
      if (by_time ? (e.at_us < from_us || e.at_us >= to_us)
                  : (e.date < from_date || e.date > to_date)) {
        continue;
      }
      if (!request.pupil_id().empty() && m.pupil_id() != request.pupil_id()) continue;
      if (!request.amender_role().empty() && m.amended_by().role() != request.amender_role()) {
        continue;
      }
      if (!request.from_code().empty() && m.original_code() != request.from_code()) continue;
      if (request.unauthorised_to_authorised() &&
          !((m.original_code() == "N" || m.original_code() == "O" || m.original_code() == "G") &&
            (m.amended_code() == "I" || m.amended_code() == "M" || m.amended_code() == "E" ||
             m.amended_code() == "R"))) {
        continue;
      }
      expected.emplace_back(by_time ? e.at_us : 0, by_time ? "" : e.date,
                            by_time ? 0 : static_cast<int>(e.session), e.event.position());
    }
    std::sort(expected.begin(), expected.end());
    std::vector<ledger::Position> expected_positions, got;
    for (const auto& row : expected) expected_positions.push_back(std::get<3>(row));
    for (const v1::Amendment& a : f.Replay(request)) got.push_back(a.position());
    INFO("replay " << i << " " << request.ShortDebugString());
    CHECK(got == expected_positions);
  }
}

}  // namespace
}  // namespace attendance::testing
