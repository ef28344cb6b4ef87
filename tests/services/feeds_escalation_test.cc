// Escalation and time-driven changes in SubscribeProjectionChanges, through
// a real gRPC server on 127.0.0.1 port 0 on a real ledger whose clock the
// test turns: the marks that cross the national penalty-notice threshold
// yield one due action, an unrelated mark none; a meeting's review falls
// due when the clock turns the day, once; a subscriber resumed before the
// turn gets it once, one resumed after it gets nothing again, and a replay
// from the start equals the live stream. A register not taken by its close
// time falls due when the clock passes the close, once, placed so that a
// subscriber resumed after any message gets exactly the rest.
#include <google/protobuf/text_format.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <catch2/catch.hpp>

#include "attendance/v1/feeds_service.grpc.pb.h"
#include "ledger/types.h"
#include "services/feeds_service.h"
#include "services/server.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

using std::chrono::system_clock;

// 00:00:03 in England (BST) on 2025-10-10 and 2025-10-11: past the hub's
// two-second grace only once the test moves the clock a little further.
constexpr std::int64_t kMidnight10th = 1'760'050'803'000'000;
constexpr std::int64_t kMidnight11th = 1'760'137'203'000'000;

struct Fixture : LedgerFixture {
  Fixture()
      : LedgerFixture(2),
        service(*ledger, services::Authenticator::LocalAdmin(),
                ledger::Clock([this] { return now_us.load(); })) {
    auto started = services::Server::Start("127.0.0.1:0", {&service});
    REQUIRE(started.ok());
    server = std::move(*started);
    stub = v1::Feeds::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                                                  grpc::InsecureChannelCredentials()));
  }
  ~Fixture() { server->Shutdown(); }

  void Mark(const std::string& pupil, const std::string& date, v1::Session session,
            const std::string& code) {
    v1::RecordMarksRequest request;
    request.set_school_id("s1");
    request.set_request_id(pupil + date + v1::Session_Name(session));
    *request.add_marks() = MakeMark(pupil, date, session, code);
    REQUIRE(ledger->RecordMarks(kTeacher, request).ok());
  }

  services::FeedsServiceImpl service;
  std::unique_ptr<services::Server> server;
  std::unique_ptr<v1::Feeds::Stub> stub;
};

v1::SetEscalationPolicyRequest NationalBase() {
  std::ifstream in(std::filesystem::path(ATTENDANCE_POLICIES_DIR) /
                   "national_base_england_2024.textproto");
  std::stringstream text;
  text << in.rdbuf();
  v1::SetEscalationPolicyRequest request;
  request.set_school_id("s1");
  request.set_request_id("policy");
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text.str(), request.mutable_policy()));
  return request;
}

// One open subscription; Until reads messages until `done` says so (the
// call's deadline fails the test if it never does).
struct Subscription {
  Subscription(v1::Feeds::Stub& stub, ledger::Position after, const std::string& after_day,
               bool omit_escalation = false, const std::string& after_time = "") {
    v1::SubscribeProjectionChangesRequest request;
    request.add_school_ids("s1");
    request.set_after_position(after);
    request.set_after_day(after_day);
    request.set_after_time(after_time);
    request.set_omit_escalation(omit_escalation);
    context.set_deadline(system_clock::now() + std::chrono::minutes(2));
    reader = stub.SubscribeProjectionChanges(&context, request);
  }
  ~Subscription() {
    context.TryCancel();
    v1::SubscribeProjectionChangesResponse drain;
    while (reader->Read(&drain)) {
    }
    reader->Finish();
  }
  void Until(const std::function<bool(const v1::SubscribeProjectionChangesResponse&)>& done) {
    v1::SubscribeProjectionChangesResponse message;
    while (reader->Read(&message)) {
      // Positions never go back; a day's turn may repeat the last one.
      CHECK(message.position() >= last.position());
      for (const v1::PupilChange& change : message.changes()) changes.push_back(change);
      messages.push_back(message);
      last = message;
      if (done(message)) return;
    }
    FAIL("the feed ended: " << reader->Finish().error_message());
  }
  void UntilPosition(ledger::Position head) {
    Until([head](const auto& m) { return m.position() >= head; });
  }

  grpc::ClientContext context;
  std::unique_ptr<grpc::ClientReader<v1::SubscribeProjectionChangesResponse>> reader;
  std::vector<v1::PupilChange> changes;
  std::vector<v1::SubscribeProjectionChangesResponse> messages;
  v1::SubscribeProjectionChangesResponse last;
};

// Each message carries the day its last change was evaluated as of: a
// client that stops after it resumes with exactly the turns still to come.
void CheckTurnedTo(const std::vector<v1::SubscribeProjectionChangesResponse>& messages) {
  for (const auto& message : messages) {
    if (message.changes().empty()) continue;
    INFO("message at " << message.position());
    CHECK(message.turned_to() == message.changes().rbegin()->attendance().as_of());
  }
}

bool HasDue(const v1::PupilChange& change, const std::string& rule) {
  for (const v1::DueAction& due : change.escalation().due_added()) {
    if (due.rule_id() == rule) return true;
  }
  return false;
}

int CountDue(const std::vector<v1::PupilChange>& changes, const std::string& rule) {
  int n = 0;
  for (const v1::PupilChange& change : changes) n += HasDue(change, rule) ? 1 : 0;
  return n;
}

void CheckSame(const std::vector<v1::PupilChange>& got, const std::vector<v1::PupilChange>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    INFO("change " << i);
    CHECK(got[i].SerializeAsString() == want[i].SerializeAsString());
  }
}

TEST_CASE("projection changes carry escalation changes and the day's turn, once", "[feeds]") {
  Fixture f;
  REQUIRE(f.ledger->SetEscalationPolicy(kOfficer, NationalBase()).ok());
  Subscription live(*f.stub, 0, "");
  live.Until([](const auto& m) { return m.caught_up(); });

  // Ten unauthorised sessions in five days: the tenth crosses the national
  // penalty-notice threshold (10 in a rolling 10 school weeks).
  ledger::Position tenth = 0;
  for (const char* date : {"2025-09-03", "2025-09-04", "2025-09-05", "2025-09-08", "2025-09-09"}) {
    for (v1::Session session : {v1::AM, v1::PM}) {
      f.Mark("p1", date, session, "O");
      tenth = f.ledger->LastPosition();
    }
  }
  f.Mark("p2", "2025-09-03", v1::AM, "/");  // unrelated: p2 has no escalation
  const ledger::Position unrelated = f.ledger->LastPosition();
  live.UntilPosition(unrelated);
  int penalty = 0;
  for (const v1::PupilChange& change : live.changes) {
    if (!HasDue(change, "penalty_notice_10_in_10")) continue;
    ++penalty;
    CHECK(change.attendance().pupil().pupil_id() == "p1");
    CHECK(change.attendance().position() == tenth);
    CHECK_FALSE(change.time_driven());
  }
  CHECK(penalty == 1);
  REQUIRE(live.changes.back().attendance().position() == unrelated);
  CHECK_FALSE(live.changes.back().has_escalation());

  // A meeting for p2 with its review on the 10th: due only once that day
  // has come, with no event on it.
  v1::RecordActionRequest meeting;
  meeting.set_school_id("s1");
  meeting.set_request_id("meeting");
  meeting.set_pupil_id("p2");
  meeting.set_action_id("meet-1");
  meeting.set_kind(v1::MEETING_HELD);
  meeting.set_happened_on("2025-10-09");
  meeting.set_review_on("2025-10-10");
  REQUIRE(f.ledger->RecordAction(kOfficer, meeting).ok());
  f.Mark("p1", "2025-10-08", v1::AM, "/");  // the last event before the turn has a change
  const ledger::Position before_turn = f.ledger->LastPosition();
  live.UntilPosition(before_turn);
  CHECK(CountDue(live.changes, "meet-1") == 0);
  const v1::SubscribeProjectionChangesResponse checkpoint_before = live.last;
  CHECK(checkpoint_before.turned_to() == "2025-10-09");
  const std::size_t changes_before_turn = live.changes.size();

  f.now_us = kMidnight10th + 1'000'000;  // the grace passed: the 10th has come
  live.Until([](const auto& m) { return m.turned_to() == "2025-10-10"; });
  const v1::SubscribeProjectionChangesResponse checkpoint_after = live.last;
  CHECK(checkpoint_after.position() == before_turn);
  REQUIRE(CountDue(live.changes, "meet-1") == 1);
  const v1::PupilChange& review = live.changes.back();
  CHECK(review.time_driven());
  CHECK(review.attendance().pupil().pupil_id() == "p2");
  CHECK(review.attendance().position() == before_turn);
  CHECK(review.attendance().as_of() == "2025-10-10");
  CHECK(review.escalation().as_of_before() == "2025-10-09");
  CHECK(review.escalation().due_added(0).action() == v1::REVIEW);
  CHECK(review.escalation().due_added(0).due_on() == "2025-10-10");
  const std::size_t changes_after_turn = live.changes.size();
  {
    // A subscriber from the start now reads up to the meeting and turns the
    // day at the head in one go: the same changes, each message with its day.
    Subscription fresh(*f.stub, 0, "");
    fresh.Until([](const auto& m) { return m.turned_to() == "2025-10-10"; });
    CheckSame(fresh.changes, live.changes);
    CheckTurnedTo(fresh.messages);
  }

  // Another day turns (nothing new falls due), then a mark on the 11th.
  f.now_us = kMidnight11th + 1'000'000;
  live.Until([](const auto& m) { return m.turned_to() == "2025-10-11"; });
  f.Mark("p1", "2025-10-10", v1::AM, "/");
  const ledger::Position head = f.ledger->LastPosition();
  live.UntilPosition(head);
  CHECK(CountDue(live.changes, "meet-1") == 1);
  CHECK(CountDue(live.changes, "penalty_notice_10_in_10") == 1);

  SECTION("a replay from the start equals the live stream") {
    Subscription replay(*f.stub, 0, "");
    replay.UntilPosition(head);
    CheckSame(replay.changes, live.changes);
    // Here the catch-up reads the meeting and turns two days in one go.
    CheckTurnedTo(replay.messages);
    CheckTurnedTo(live.messages);
  }
  SECTION("resumed before the turn: the turn once, then the rest") {
    Subscription resumed(*f.stub, checkpoint_before.position(), checkpoint_before.turned_to());
    resumed.UntilPosition(head);
    CheckSame(resumed.changes, std::vector<v1::PupilChange>(
                                   live.changes.begin() + changes_before_turn, live.changes.end()));
    CHECK(CountDue(resumed.changes, "meet-1") == 1);
  }
  SECTION("resumed after the turn: nothing repeated") {
    Subscription resumed(*f.stub, checkpoint_after.position(), checkpoint_after.turned_to());
    resumed.UntilPosition(head);
    CheckSame(resumed.changes, std::vector<v1::PupilChange>(
                                   live.changes.begin() + changes_after_turn, live.changes.end()));
    CHECK(CountDue(resumed.changes, "meet-1") == 0);
  }
  SECTION("omit_escalation: the figures alone") {
    Subscription plain(*f.stub, 0, "", /*omit_escalation=*/true);
    plain.UntilPosition(head);
    CHECK(!plain.changes.empty());
    for (const v1::PupilChange& change : plain.changes) CHECK_FALSE(change.has_escalation());
  }
}

// 00:00 in England (BST) on Monday 2025-10-13 and Tuesday 2025-10-14.
constexpr std::int64_t kMonday13th = 1'760'310'000'000'000;
constexpr std::int64_t kTuesday14th = 1'760'396'400'000'000;

std::int64_t At(std::int64_t midnight, int hour, int minute, int second = 0) {
  return midnight + ((hour * 60 + minute) * 60 + second) * std::int64_t{1'000'000};
}

// Every session of s1's school days from the first day of term to
// 2025-10-10, present: no register of the half-term so far is left untaken.
void MarkHistory(Fixture& f, const std::string& pupil) {
  v1::RecordMarksRequest request;
  request.set_school_id("s1");
  request.set_request_id("history-" + pupil);
  const ledger::Day monday = *ledger::ParseDate("2025-10-13");
  for (ledger::Day d = *ledger::ParseDate("2025-09-03"); d < monday - 2; ++d) {
    const int weekday = ((d - monday) % 7 + 7) % 7;  // 0 Monday .. 6 Sunday
    const std::string date = ledger::FormatDate(d);
    if (weekday >= 5 || date == "2025-09-19") continue;  // weekends, INSET
    // 2025-10-01 AM is closed for year 7.
    if (date != "2025-10-01") *request.add_marks() = MakeMark(pupil, date, v1::AM, "/");
    *request.add_marks() = MakeMark(pupil, date, v1::PM, "/");
  }
  const auto recorded = f.ledger->RecordMarks(kOfficer, request);
  REQUIRE(recorded.ok());
}

bool HasRegisterNotTaken(const google::protobuf::RepeatedPtrField<v1::DueAction>& due) {
  for (const v1::DueAction& action : due) {
    if (action.action() == v1::REGISTER_NOT_TAKEN) return true;
  }
  return false;
}

// The pupils (in order) whose register-not-taken action fell due (added)
// or stopped being due in `message`.
std::vector<std::string> RegisterNotTaken(const v1::SubscribeProjectionChangesResponse& message,
                                          bool added) {
  std::vector<std::string> pupils;
  for (const v1::PupilChange& change : message.changes()) {
    const auto& due = added ? change.escalation().due_added() : change.escalation().due_removed();
    if (HasRegisterNotTaken(due)) pupils.push_back(change.attendance().pupil().pupil_id());
  }
  return pupils;
}

TEST_CASE("projection changes: a register not taken by its close time, once, at its turn",
          "[feeds]") {
  Fixture f;  // s1's AM register closes at 09:25, PM at 13:10
  f.now_us = At(kMonday13th, 7, 0);
  REQUIRE(f.ledger->SetEscalationPolicy(kOfficer, NationalBase()).ok());
  MarkHistory(f, "p1");
  MarkHistory(f, "p2");
  Subscription live(*f.stub, 0, "");
  live.UntilPosition(f.ledger->LastPosition());
  // Before the marks, every past register was untaken; after them, none.
  auto count = [&](bool added) {
    int n = 0;
    for (const auto& message : live.messages) {
      n += static_cast<int>(RegisterNotTaken(message, added).size());
    }
    return n;
  };
  REQUIRE(count(true) == 2);
  REQUIRE(count(false) == 2);

  f.now_us = At(kMonday13th, 9, 5);
  f.Mark("p1", "2025-10-13", v1::AM, "/");
  const ledger::Position am_mark = f.ledger->LastPosition();
  live.UntilPosition(am_mark);
  CHECK(live.last.turned_to() == "2025-10-13");
  CHECK(live.last.turned_to_time().empty());  // the AM register is still open
  const std::size_t before_am_close = live.messages.size();

  // 09:26:03: the hub (two seconds behind) has passed 09:26, the first
  // minute the AM register (closes 09:25) counts as not taken. p2 has no
  // mark: its register-not-taken action falls due at the turn, placed at
  // the position of the last event before it.
  f.now_us = At(kMonday13th, 9, 26, 3);
  live.Until([](const auto& m) { return m.turned_to_time() == "09:26"; });
  const v1::SubscribeProjectionChangesResponse am_close = live.last;
  CHECK(am_close.position() == am_mark);
  CHECK(am_close.turned_to() == "2025-10-13");
  REQUIRE(am_close.changes_size() == 1);
  const v1::PupilChange& p2_untaken = am_close.changes(0);
  CHECK(p2_untaken.time_driven());
  CHECK(p2_untaken.attendance().position() == am_mark);
  CHECK(p2_untaken.attendance().as_of() == "2025-10-13");
  CHECK(p2_untaken.escalation().as_of_before() == "2025-10-13");
  CHECK(RegisterNotTaken(am_close, true) == std::vector<std::string>{"p2"});
  REQUIRE(p2_untaken.escalation().due_added_size() == 1);
  CHECK(p2_untaken.escalation().due_added(0).rule_id() == "register_not_taken");
  CHECK(p2_untaken.escalation().due_added(0).explanation().count() == 1);

  // The office records p2's morning late: the action is no longer due.
  f.now_us = At(kMonday13th, 9, 40);
  f.Mark("p2", "2025-10-13", v1::AM, "/");
  const ledger::Position late_mark = f.ledger->LastPosition();
  live.UntilPosition(late_mark);
  CHECK(RegisterNotTaken(live.last, false) == std::vector<std::string>{"p2"});
  CHECK(live.last.turned_to_time() == "09:26");

  // 13:11: the PM register (closes 13:10) of both pupils is not taken.
  f.now_us = At(kMonday13th, 13, 11, 3);
  live.Until([](const auto& m) { return m.turned_to_time() == "13:11"; });
  const v1::SubscribeProjectionChangesResponse pm_close = live.last;
  CHECK(pm_close.position() == late_mark);
  CHECK(RegisterNotTaken(pm_close, true) == (std::vector<std::string>{"p1", "p2"}));
  f.now_us = At(kMonday13th, 13, 40);
  f.Mark("p1", "2025-10-13", v1::PM, "/");
  live.UntilPosition(f.ledger->LastPosition());
  CHECK(RegisterNotTaken(live.last, false) == std::vector<std::string>{"p1"});

  // Midnight: the day turns (turned_to_time back to the day's start); p2's
  // PM register stays untaken, so nothing changes there. Then Tuesday's AM.
  f.now_us = At(kTuesday14th, 0, 0, 3);
  live.Until([](const auto& m) { return m.turned_to() == "2025-10-14"; });
  CHECK(live.last.turned_to_time().empty());
  f.now_us = At(kTuesday14th, 9, 0);
  f.Mark("p1", "2025-10-14", v1::AM, "/");
  const ledger::Position head = f.ledger->LastPosition();
  live.UntilPosition(head);
  CheckTurnedTo(live.messages);
  // At the policy (both pupils), at 09:26 (p2), at 13:11 (both); and gone
  // after the history (both), p2's late mark and p1's PM mark.
  CHECK(count(true) == 2 + 1 + 2);
  CHECK(count(false) == 2 + 1 + 1);

  // A replay from the start places the turns where live did: it reads the
  // later events and makes each turn before the first event after it.
  Subscription replay(*f.stub, 0, "");
  replay.UntilPosition(head);
  CheckSame(replay.changes, live.changes);
  CheckTurnedTo(replay.messages);

  // Resumed after any message (position, turned_to, turned_to_time): the
  // rest exactly, nothing missed, nothing repeated.
  std::vector<v1::PupilChange> rest(live.changes.begin(), live.changes.end());
  std::size_t consumed = 0;
  for (std::size_t i = 0; i < live.messages.size(); ++i) {
    const v1::SubscribeProjectionChangesResponse& m = live.messages[i];
    consumed += static_cast<std::size_t>(m.changes_size());
    if (i + 1 < before_am_close && m.changes_size() == 0) continue;  // checkpoints of the catch-up
    INFO("resumed after message " << i << " at " << m.position() << " " << m.turned_to() << " "
                                  << m.turned_to_time());
    Subscription resumed(*f.stub, m.position(), m.turned_to(), false, m.turned_to_time());
    resumed.UntilPosition(head);
    CheckSame(resumed.changes,
              std::vector<v1::PupilChange>(live.changes.begin() + consumed, live.changes.end()));
  }
  CHECK(consumed == live.changes.size());
}

TEST_CASE("projection changes refuse a malformed after_time", "[feeds]") {
  Fixture f;
  for (const auto& [day, time] :
       {std::pair<std::string, std::string>{"2025-10-13", "9.26"}, {"", "09:26"}}) {
    grpc::ClientContext context;
    context.set_deadline(system_clock::now() + std::chrono::seconds(30));
    v1::SubscribeProjectionChangesRequest request;
    request.add_school_ids("s1");
    request.set_after_day(day);
    request.set_after_time(time);
    auto reader = f.stub->SubscribeProjectionChanges(&context, request);
    v1::SubscribeProjectionChangesResponse message;
    CHECK_FALSE(reader->Read(&message));
    const grpc::Status status = reader->Finish();
    CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
    CHECK_THAT(status.error_message(), Catch::Contains("after_time"));
  }
}

TEST_CASE("projection changes refuse a malformed after_day", "[feeds]") {
  Fixture f;
  grpc::ClientContext context;
  context.set_deadline(system_clock::now() + std::chrono::seconds(30));
  v1::SubscribeProjectionChangesRequest request;
  request.add_school_ids("s1");
  request.set_after_day("2025-13-01");
  auto reader = f.stub->SubscribeProjectionChanges(&context, request);
  v1::SubscribeProjectionChangesResponse message;
  CHECK_FALSE(reader->Read(&message));
  const grpc::Status status = reader->Finish();
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("after_day"));
}

}  // namespace
}  // namespace attendance::testing
