// attendance.v1.Feeds through a real gRPC server on 127.0.0.1 port 0, on a
// real ledger: subscribers that stop and resume at random points while
// writers write, the switch from catch-up to live, a stalled subscriber,
// validation and redaction, and the projection-changes feed.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <fstream>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <grpcpp/grpcpp.h>
#include <catch2/catch.hpp>

#include "attendance/v1/feeds_service.grpc.pb.h"
#include "attendance/v1/ledger_service.grpc.pb.h"
#include "google/protobuf/util/message_differencer.h"
#include "ledger/calendar.h"
#include "projections/attendance_queries.h"
#include "projections/attendance_state.h"
#include "services/feeds_service.h"
#include "services/server.h"
#include "services/token_store.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

using std::chrono::system_clock;

const std::atomic<ledger::Position> kNoStop{0};

struct FeedsFixture : LedgerFixture {
  explicit FeedsFixture(
      int pupils = 12, services::ServerLimits limits = {},
      std::shared_ptr<const services::Authenticator> auth = services::Authenticator::LocalAdmin())
      : LedgerFixture(pupils),
        service(*ledger, std::move(auth), ledger::Clock([this] { return now_us.load(); })) {
    auto started = services::Server::Start("127.0.0.1:0", {&service}, limits);
    REQUIRE(started.ok());
    server = std::move(*started);
    channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(server->port()),
                                  grpc::InsecureChannelCredentials());
    stub = v1::Feeds::NewStub(channel);
  }
  ~FeedsFixture() { server->Shutdown(); }

  services::FeedsServiceImpl service;
  std::unique_ptr<services::Server> server;
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<v1::Feeds::Stub> stub;
};

std::vector<std::string> Pupils(int n, const std::string& prefix = "p") {
  std::vector<std::string> ids;
  for (int i = 1; i <= n; ++i) ids.push_back(prefix + std::to_string(i));
  return ids;
}

// Writes every school session of the 2025 calendar from 2025-09-03 to
// 2025-10-08 for `pupils`, `per_batch` pupils a batch, on `writers` threads
// (writer w takes the pupils with (i % writers) == w), with an amendment of
// the first pupil's mark after every tenth batch.
void WriteMarks(ledger::Ledger& ledger, const std::vector<std::string>& pupils, int writers,
                int per_batch = 3) {
  ledger::SchoolCalendar calendar;
  calendar.Set(Calendar2025("s1").calendar());
  std::vector<std::thread> threads;
  std::atomic<bool> failed{false};
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      std::vector<std::string> mine;
      for (std::size_t i = 0; i < pupils.size(); ++i) {
        if (static_cast<int>(i % writers) == w) mine.push_back(pupils[i]);
      }
      int batches = 0;
      for (ledger::Day d = *ledger::ParseDate("2025-09-03"); d <= *ledger::ParseDate("2025-10-08");
           ++d) {
        if (!calendar.IsSchoolDay(d)) continue;
        for (v1::Session s : {v1::AM, v1::PM}) {
          if (calendar.IsClosed(d, s, 7)) continue;
          for (std::size_t first = 0; first < mine.size(); first += per_batch) {
            v1::RecordMarksRequest request;
            request.set_school_id("s1");
            request.set_request_id(mine[first] + "-" + ledger::FormatDate(d) + v1::Session_Name(s));
            for (std::size_t i = first; i < std::min(mine.size(), first + per_batch); ++i) {
              *request.add_marks() =
                  MakeMark(mine[i], ledger::FormatDate(d), s, (i + d) % 4 == 0 ? "N" : "/");
            }
            if (!ledger.RecordMarks(kTeacher, request).ok()) failed = true;
            if (++batches % 10 == 0) {
              v1::AmendMarkRequest amend;
              amend.set_school_id("s1");
              amend.set_request_id(request.request_id() + "-amend");
              amend.set_pupil_id(mine[first]);
              amend.set_date(ledger::FormatDate(d));
              amend.set_session(s);
              amend.set_amended_code(request.marks(0).code() == "N" ? "M" : "L");
              amend.set_minutes_late(amend.amended_code() == "L" ? 5 : 0);
              amend.set_reason("feeds test");
              if (!ledger.AmendMark(kOfficer, amend).ok()) failed = true;
            }
          }
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  REQUIRE_FALSE(failed);
}

bool Matches(const v1::EventEnvelope& event, const v1::SubscribeEventsRequest& request) {
  if (!request.school_id().empty() && event.school_id() != request.school_id()) return false;
  if (request.event_types_size() > 0 &&
      std::none_of(request.event_types().begin(), request.event_types().end(),
                   [&](int type) { return static_cast<int>(event.payload_case()) == 19 + type; })) {
    return false;
  }
  if (request.pupil_ids_size() > 0 &&
      std::find(request.pupil_ids().begin(), request.pupil_ids().end(), event.pupil_id()) ==
          request.pupil_ids().end()) {
    return false;
  }
  return true;
}

std::vector<v1::EventEnvelope> FilteredLog(const ledger::Ledger& ledger,
                                           const v1::SubscribeEventsRequest& request) {
  std::vector<v1::EventEnvelope> out;
  REQUIRE(ledger
              .ForEachEvent(1,
                            [&](const v1::EventEnvelope& event) {
                              if (Matches(event, request)) out.push_back(event);
                              return true;
                            })
              .ok());
  return out;
}

// One subscription session: reads up to `max_messages` messages (0: until
// the position `stop_at` (if not 0) is reported), appending events; returns
// the last position received (`after` if none). Cancels the call when it
// stops.
ledger::Position ReadSession(v1::Feeds::Stub& stub, v1::SubscribeEventsRequest request,
                             ledger::Position after, std::size_t max_messages,
                             const std::atomic<ledger::Position>& stop_at,
                             std::vector<v1::EventEnvelope>& events, bool* caught_up = nullptr,
                             std::chrono::milliseconds deadline = std::chrono::minutes(2)) {
  request.set_after_position(after);
  grpc::ClientContext context;
  context.set_deadline(system_clock::now() + deadline);
  auto reader = stub.SubscribeEvents(&context, request);
  v1::SubscribeEventsResponse message;
  std::size_t read = 0;
  ledger::Position position = after;
  while ((max_messages == 0 || read < max_messages) && reader->Read(&message)) {
    ++read;
    // Positions only move on; a marker may repeat the last one.
    const bool marker = message.caught_up() || message.fell_behind();
    if (!(message.position() > position || (marker && message.position() == position))) {
      FAIL_CHECK("position " << message.position() << " after " << position);
    }
    for (const auto& event : message.events()) {
      CHECK(event.position() > position);
      CHECK(event.position() <= message.position());
      events.push_back(event);
    }
    position = std::max(position, message.position());
    if (caught_up != nullptr && message.caught_up()) *caught_up = true;
    if (max_messages == 0 && stop_at != 0 && position >= stop_at) break;
  }
  context.TryCancel();
  while (reader->Read(&message)) {
  }
  reader->Finish();
  return position;
}

void CheckSame(const std::vector<v1::EventEnvelope>& got,
               const std::vector<v1::EventEnvelope>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    REQUIRE(got[i].position() == want[i].position());
    REQUIRE(got[i].hash() == want[i].hash());
    // The whole event: a feed sends stored bytes where it can, and encodes
    // the event where reading changed it (sealed personal fields opened).
    REQUIRE(google::protobuf::util::MessageDifferencer::Equals(got[i], want[i]));
  }
}

TEST_CASE("SubscribeEvents catches up, says so, then follows live commits", "[feeds]") {
  FeedsFixture f;
  const ledger::Position head = f.ledger->LastPosition();
  grpc::ClientContext context;
  context.set_deadline(system_clock::now() + std::chrono::minutes(2));
  v1::SubscribeEventsRequest request;
  request.set_school_id("s1");
  auto reader = f.stub->SubscribeEvents(&context, request);
  std::vector<v1::EventEnvelope> events;
  v1::SubscribeEventsResponse message;
  while (reader->Read(&message)) {
    for (const auto& e : message.events()) events.push_back(e);
    if (message.caught_up()) break;
  }
  CHECK(message.caught_up());
  CHECK(message.position() == head);
  CHECK(events.size() == head);
  v1::RecordMarksRequest marks;
  marks.set_school_id("s1");
  marks.set_request_id("live");
  *marks.add_marks() = MakeMark("p1", "2025-09-08", v1::AM, "/");
  REQUIRE(f.ledger->RecordMarks(kTeacher, marks).ok());
  REQUIRE(reader->Read(&message));
  REQUIRE(message.events_size() == 1);
  CHECK(message.events(0).position() == head + 1);
  CHECK(message.position() == head + 1);
  context.TryCancel();
  while (reader->Read(&message)) {
  }
  CHECK(reader->Finish().error_code() == grpc::StatusCode::CANCELLED);
}

TEST_CASE("SubscribeEvents from now sends only what comes after", "[feeds]") {
  FeedsFixture f;
  const ledger::Position head = f.ledger->LastPosition();
  grpc::ClientContext context;
  context.set_deadline(system_clock::now() + std::chrono::minutes(2));
  v1::SubscribeEventsRequest request;
  request.set_from_now(true);
  auto reader = f.stub->SubscribeEvents(&context, request);
  v1::SubscribeEventsResponse message;
  REQUIRE(reader->Read(&message));
  CHECK(message.caught_up());
  CHECK(message.position() == head);
  CHECK(message.events_size() == 0);
  context.TryCancel();
  while (reader->Read(&message)) {
  }
  reader->Finish();
}

TEST_CASE("SubscribeEvents refuses bad requests with the field named", "[feeds]") {
  FeedsFixture f;
  auto status_of = [&](const v1::SubscribeEventsRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(system_clock::now() + std::chrono::seconds(30));
    auto reader = f.stub->SubscribeEvents(&context, request);
    v1::SubscribeEventsResponse message;
    while (reader->Read(&message)) {
    }
    return reader->Finish();
  };
  v1::SubscribeEventsRequest bad_type;
  bad_type.add_event_types(static_cast<v1::EventType>(42));
  grpc::Status status = status_of(bad_type);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("event_types[0]"));

  v1::SubscribeEventsRequest pupils_without_school;
  pupils_without_school.add_pupil_ids("p1");
  status = status_of(pupils_without_school);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("pupil_ids"));

  v1::SubscribeEventsRequest future;
  future.set_after_position(f.ledger->LastPosition() + 5);
  status = status_of(future);
  CHECK(status.error_code() == grpc::StatusCode::FAILED_PRECONDITION);
  CHECK_THAT(status.error_message(), Catch::Contains("after_position"));
}

TEST_CASE("subscribers stopped at random points and resumed see the filtered log exactly once",
          "[feeds]") {
  constexpr int kPupils = 12;
  FeedsFixture f(kPupils);
  std::vector<v1::SubscribeEventsRequest> filters(3);
  filters[0].set_school_id("s1");  // everything of the school
  filters[1].set_school_id("s1");
  filters[1].add_event_types(v1::MARK_AMENDED);
  filters[1].add_event_types(v1::MARK_RECORDED);
  filters[1].add_pupil_ids("p2");
  filters[1].add_pupil_ids("p7");
  filters[2].add_event_types(v1::MARK_AMENDED);  // rare: checkpoints carry it

  std::atomic<bool> writing{true};
  std::thread writers([&] {
    WriteMarks(*f.ledger, Pupils(kPupils), 3);
    writing = false;
  });
  std::vector<std::thread> subscribers;
  std::vector<std::vector<v1::EventEnvelope>> received(filters.size() * 2);
  std::vector<int> sessions(received.size(), 0);
  for (std::size_t s = 0; s < received.size(); ++s) {
    subscribers.emplace_back([&, s] {
      std::mt19937 random(static_cast<unsigned>(s) * 7919u + 1u);
      const v1::SubscribeEventsRequest& filter = filters[s % filters.size()];
      ledger::Position position = 0;
      // Random stops while the writers run, then one session to the end.
      while (writing) {
        // A session that outlives the writers ends at its deadline: one more
        // random moment to stop at.
        position = ReadSession(*f.stub, filter, position, 1 + random() % 6, kNoStop, received[s],
                               nullptr, std::chrono::seconds(2));
        ++sessions[s];
      }
      const std::atomic<ledger::Position> end{f.ledger->LastPosition()};
      position = ReadSession(*f.stub, filter, position, 0, end, received[s]);
      ++sessions[s];
    });
  }
  writers.join();
  for (auto& t : subscribers) t.join();
  for (std::size_t s = 0; s < received.size(); ++s) {
    INFO("subscriber " << s << ", " << sessions[s] << " sessions");
    CHECK(sessions[s] > 1);
    CheckSame(received[s], FilteredLog(*f.ledger, filters[s % filters.size()]));
  }
}

TEST_CASE("the switch from catch-up to live has no gap and no duplicate", "[feeds]") {
  constexpr int kPupils = 6;
  FeedsFixture f(kPupils);
  std::atomic<bool> writing{true};
  std::thread writers([&] {
    WriteMarks(*f.ledger, Pupils(kPupils), 2, 1);
    writing = false;
  });
  // Each subscriber starts from a different point of the log while it grows.
  int rounds = 0;
  bool saw_live = false;
  while (writing || rounds < 3) {
    const ledger::Position head = f.ledger->LastPosition();
    const ledger::Position after = head == 0 ? 0 : (rounds * 37) % (head + 1);
    v1::SubscribeEventsRequest all;
    std::vector<v1::EventEnvelope> got;
    bool caught_up = false;
    const std::atomic<ledger::Position> stop_at{writing ? f.ledger->LastPosition() + 40
                                                        : f.ledger->LastPosition()};
    // Forty events past the head, or (the writers may stop before) a few
    // seconds: either way what came must be contiguous.
    ReadSession(*f.stub, all, after, 0, stop_at, got, &caught_up, std::chrono::seconds(3));
    saw_live = saw_live || (caught_up && !got.empty() && got.back().position() > head);
    bool contiguous = true;
    for (std::size_t i = 0; i < got.size(); ++i) {
      contiguous = contiguous && got[i].position() == after + 1 + i;
    }
    INFO("round " << rounds << " after " << after << ": " << got.size() << " events");
    CHECK(contiguous);
    if (!contiguous) break;
    ++rounds;
  }
  writers.join();
  CHECK(rounds > 3);
  CHECK(saw_live);
}

TEST_CASE("a stalled subscriber holds up nobody and is ended past the lag limit", "[feeds]") {
  constexpr int kPupils = 60;
  services::ServerLimits limits;
  limits.max_feed_lag_events = 2'000;
  FeedsFixture f(kPupils, limits);
  v1::SubscribeEventsRequest all;
  // The stalled one reads until it has caught up, then stops reading.
  grpc::ClientContext stalled_context;
  stalled_context.set_deadline(system_clock::now() + std::chrono::minutes(5));
  // Its own connection, with a small fixed receive window: on loopback
  // gRPC's bandwidth probing would otherwise grow the window until the
  // client buffers everything, and the server would never see it stall.
  grpc::ChannelArguments small_window;
  small_window.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  small_window.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 64 * 1024);
  auto stalled_stub = v1::Feeds::NewStub(
      grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(f.server->port()),
                                grpc::InsecureChannelCredentials(), small_window));
  auto stalled = stalled_stub->SubscribeEvents(&stalled_context, all);
  std::vector<v1::EventEnvelope> stalled_events;
  v1::SubscribeEventsResponse message;
  while (stalled->Read(&message)) {
    for (const auto& e : message.events()) stalled_events.push_back(e);
    if (message.caught_up()) break;
  }
  // An active subscriber and the writers carry on; the writers write until
  // the stalled feed has been ended (its gRPC buffers fill first).
  std::atomic<ledger::Position> final_head{0};
  std::vector<v1::EventEnvelope> active_events;
  std::thread active([&] { ReadSession(*f.stub, all, 0, 0, final_head, active_events); });
  while (f.service.open_feeds() < 2) std::this_thread::yield();
  int rounds = 0;
  while (f.service.feeds_ended_for_lag() == 0) {
    // Each round enrols new pupils and marks them.
    const std::vector<std::string> pupils = Pupils(kPupils, "r" + std::to_string(rounds) + "-");
    for (const std::string& pupil : pupils) {
      REQUIRE(f.ledger->EnrolPupil(kOfficer, Enrol("s1", pupil)).ok());
    }
    WriteMarks(*f.ledger, pupils, 2, 20);
    ++rounds;
    REQUIRE(rounds < 40);
  }
  // The writers were never held up: every batch was acknowledged (WriteMarks
  // REQUIREs it) while the stalled call stayed open and unread.
  // One more event, which the active subscriber stops at.
  final_head = f.ledger->LastPosition() + 1;
  REQUIRE(f.ledger->EnrolPupil(kOfficer, Enrol("s1", "last")).ok());
  const ledger::Position head = f.ledger->LastPosition();
  REQUIRE(head == final_head);
  while (stalled->Read(&message)) {
    for (const auto& e : message.events()) stalled_events.push_back(e);
  }
  grpc::Status ended = stalled->Finish();
  CHECK(ended.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED);
  CHECK_THAT(ended.error_message(),
             Catch::Contains("after_position=") && Catch::Contains("--max-feed-lag-events"));
  // Resuming from the last position it received gives the rest exactly.
  const ledger::Position last = stalled_events.empty() ? 0 : stalled_events.back().position();
  ReadSession(*f.stub, all, last, 0, final_head, stalled_events);
  const std::vector<v1::EventEnvelope> log = FilteredLog(*f.ledger, all);
  CheckSame(stalled_events, log);
  active.join();
  CheckSame(active_events, log);
}

TEST_CASE(
    "a subscriber that stops reading after catching up is told it fell behind, then "
    "caught up again",
    "[feeds]") {
  FeedsFixture f(3);
  grpc::ChannelArguments small_window;
  small_window.SetInt(GRPC_ARG_HTTP2_BDP_PROBE, 0);
  small_window.SetInt(GRPC_ARG_HTTP2_STREAM_LOOKAHEAD_BYTES, 64 * 1024);
  auto stub = v1::Feeds::NewStub(
      grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(f.server->port()),
                                grpc::InsecureChannelCredentials(), small_window));
  grpc::ClientContext context;
  context.set_deadline(system_clock::now() + std::chrono::minutes(2));
  v1::SubscribeEventsRequest all;
  auto reader = stub->SubscribeEvents(&context, all);
  std::vector<v1::EventEnvelope> events;
  v1::SubscribeEventsResponse message;
  while (reader->Read(&message)) {
    for (const auto& e : message.events()) events.push_back(e);
    if (message.caught_up()) break;
  }
  // Far more than the window, the message in flight and one chunk.
  for (int round = 0; round < 3; ++round) {
    const std::vector<std::string> pupils = Pupils(60, "b" + std::to_string(round) + "-");
    for (const std::string& pupil : pupils) {
      REQUIRE(f.ledger->EnrolPupil(kOfficer, Enrol("s1", pupil)).ok());
    }
    WriteMarks(*f.ledger, pupils, 2, 20);
  }
  const ledger::Position head = f.ledger->LastPosition();
  bool fell_behind = false;
  bool caught_up_after = false;
  while (reader->Read(&message)) {
    for (const auto& e : message.events()) events.push_back(e);
    fell_behind = fell_behind || message.fell_behind();
    caught_up_after = caught_up_after || (fell_behind && message.caught_up());
    if (message.position() >= head) break;
  }
  CHECK(fell_behind);
  CHECK(caught_up_after);
  context.TryCancel();
  while (reader->Read(&message)) {
  }
  reader->Finish();
  CheckSame(events, FilteredLog(*f.ledger, all));
}

TEST_CASE("a reporter's event feed carries pupils cut to id, year group and class", "[feeds]") {
  TempDir tokens_dir;
  {
    std::ofstream tokens(tokens_dir.Sub("tokens"));
    tokens << services::TokenStore::HashToken("tok-reporter") << " reporter s1 a reporter\n";
  }
  auto store = services::TokenStore::Load(tokens_dir.Sub("tokens"));
  REQUIRE(store.ok());
  FeedsFixture f(3, {}, services::Authenticator::WithTokens(std::move(*store)));
  auto subscribe = [&](const std::string& school) {
    grpc::ClientContext context;
    context.AddMetadata("authorization", "Bearer tok-reporter");
    context.set_deadline(system_clock::now() + std::chrono::seconds(30));
    v1::SubscribeEventsRequest request;
    request.set_school_id(school);
    request.add_event_types(v1::PUPIL_ENROLLED);
    auto reader = f.stub->SubscribeEvents(&context, request);
    std::vector<v1::EventEnvelope> events;
    v1::SubscribeEventsResponse message;
    bool caught_up = false;
    while (!caught_up && reader->Read(&message)) {
      for (const auto& e : message.events()) events.push_back(e);
      caught_up = message.caught_up();
    }
    if (caught_up) context.TryCancel();
    while (reader->Read(&message)) {
    }
    return std::make_pair(reader->Finish(), events);
  };
  auto [status, events] = subscribe("s1");
  REQUIRE(events.size() == 3);
  for (const auto& e : events) {
    CHECK(!e.pupil_enrolled().pupil().pupil_id().empty());
    CHECK(e.pupil_enrolled().pupil().year_group() == 7);
    CHECK(e.pupil_enrolled().pupil().given_name().empty());
    CHECK(e.pupil_enrolled().pupil().family_name().empty());
  }
  auto [other, none] = subscribe("s2");
  CHECK(other.error_code() == grpc::StatusCode::PERMISSION_DENIED);
  CHECK(none.empty());
}

// SubscribeProjectionChanges for school s1: reads up to `max_messages`
// messages (0: until `stop_at` is reported), appending changes; returns the
// last position received.
ledger::Position ReadChanges(v1::Feeds::Stub& stub, ledger::Position after,
                             std::size_t max_messages, ledger::Position stop_at,
                             std::vector<v1::PupilChange>& changes,
                             std::chrono::milliseconds deadline = std::chrono::minutes(2)) {
  v1::SubscribeProjectionChangesRequest request;
  request.add_school_ids("s1");
  request.set_after_position(after);
  request.add_windows()->set_kind(v1::ACADEMIC_YEAR_TO_DATE);
  request.add_windows()->set_kind(v1::CURRENT_TERM);
  grpc::ClientContext context;
  context.set_deadline(system_clock::now() + deadline);
  auto reader = stub.SubscribeProjectionChanges(&context, request);
  v1::SubscribeProjectionChangesResponse message;
  std::size_t read = 0;
  ledger::Position position = after;
  while ((max_messages == 0 || read < max_messages) && reader->Read(&message)) {
    ++read;
    for (const auto& change : message.changes()) {
      // A day's turn comes at the position already reported.
      CHECK(change.attendance().position() >= position + (change.time_driven() ? 0 : 1));
      changes.push_back(change);
    }
    position = std::max(position, message.position());
    if (max_messages == 0 && stop_at != 0 && position >= stop_at) break;
  }
  context.TryCancel();
  while (reader->Read(&message)) {
  }
  reader->Finish();
  return position;
}

TEST_CASE(
    "projection changes: resumed streams equal one uninterrupted stream, and end at the "
    "projection's figures",
    "[feeds]") {
  constexpr int kPupils = 6;
  FeedsFixture f(kPupils);
  std::atomic<bool> writing{true};
  std::thread writers([&] {
    WriteMarks(*f.ledger, Pupils(kPupils), 2, 2);
    writing = false;
  });
  std::vector<v1::PupilChange> resumed;
  std::mt19937 random(17);
  ledger::Position position = 0;
  int sessions = 0;
  while (writing) {
    position =
        ReadChanges(*f.stub, position, 1 + random() % 4, 0, resumed, std::chrono::seconds(2));
    ++sessions;
  }
  writers.join();
  const ledger::Position head = f.ledger->LastPosition();
  ReadChanges(*f.stub, position, 0, head, resumed);
  std::vector<v1::PupilChange> whole;
  ReadChanges(*f.stub, 0, 0, head, whole);
  CHECK(sessions > 1);
  REQUIRE(resumed.size() == whole.size());
  for (std::size_t i = 0; i < whole.size(); ++i) {
    REQUIRE(resumed[i].SerializeAsString() == whole[i].SerializeAsString());
  }
  // Each pupil's last change holds the figures the projection answers, as of
  // the day the events were recorded (the fixture's clock: 2025-10-09).
  projections::AttendanceState state;
  REQUIRE(f.ledger
              ->ForEachEvent(1,
                             [&](const v1::EventEnvelope& e) {
                               state.Apply(e);
                               return true;
                             })
              .ok());
  std::map<std::string, v1::PupilChange> last;
  bool entered_pa = false;
  for (const auto& change : whole) {
    last[change.attendance().pupil().pupil_id()] = change;
    entered_pa = entered_pa || (change.persistent_absence() && !change.persistent_absence_before());
  }
  CHECK(entered_pa);  // a quarter of the marks are N
  REQUIRE(last.size() == kPupils);
  for (const auto& [pupil, change] : last) {
    v1::GetPupilAttendanceRequest query;
    query.set_school_id("s1");
    query.set_pupil_id(pupil);
    query.set_as_of("2025-10-09");
    auto expected = projections::QueryPupilAttendance(state, query, 0);
    REQUIRE(expected.ok());
    REQUIRE(change.attendance().windows_size() == 2);
    for (const auto& window : expected->windows()) {
      if (window.window().kind() != v1::ACADEMIC_YEAR_TO_DATE) continue;
      INFO(pupil);
      CHECK(window.SerializeAsString() == change.attendance().windows(0).SerializeAsString());
      CHECK(change.persistent_absence() == window.figures().persistent_absence());
    }
  }
}

TEST_CASE("projection changes refuse bad requests", "[feeds]") {
  FeedsFixture f;
  auto status_of = [&](const v1::SubscribeProjectionChangesRequest& request) {
    grpc::ClientContext context;
    context.set_deadline(system_clock::now() + std::chrono::seconds(30));
    auto reader = f.stub->SubscribeProjectionChanges(&context, request);
    v1::SubscribeProjectionChangesResponse message;
    while (reader->Read(&message)) {
    }
    return reader->Finish();
  };
  v1::SubscribeProjectionChangesRequest none;
  CHECK(status_of(none).error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  v1::SubscribeProjectionChangesRequest bad_window;
  bad_window.add_school_ids("s1");
  bad_window.add_windows()->set_kind(v1::PREVIOUS_ACADEMIC_YEAR);
  bad_window.mutable_windows(0)->set_years_back(9);
  grpc::Status status = status_of(bad_window);
  CHECK(status.error_code() == grpc::StatusCode::INVALID_ARGUMENT);
  CHECK_THAT(status.error_message(), Catch::Contains("windows[0]"));
}

}  // namespace
}  // namespace attendance::testing
