// The min_position contract under load: a query that asks for the position a
// write returned never answers from state older than that position, while
// other writers keep the read models busy. On a real ledger, read-model host
// and gRPC server. (A CI run under ASan once got a GetMarkHistory without
// the last amendment: the handler compared min_position with the position
// the model had applied, which runs ahead of the keys it has written.)
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "attendance/v1/projections_service.grpc.pb.h"
#include "audit_fixture.h"
#include "projections/live_attendance.h"
#include "services/attendance_read_model.h"
#include "services/mark_history_read_model.h"
#include "services/projections_service.h"

namespace attendance::testing {
namespace {

constexpr int kPupils = 8;
constexpr int kRounds = 400;
constexpr const char* kDate = "2025-09-08";
// When LedgerFixture enrols its pupils: the figures' "today" (a pupil is
// not in them before).
constexpr std::int64_t kEnrolledAt = 1'760'000'000'000'000;

// Amends pupils p2..p<kPupils> back and forth until `stop`: each amendment
// is its own commit, so the read models always have a run of events to
// apply and keyed state to write when the reader's write lands.
// (Catch2 asserts on the test's thread only: failures are counted.)
void AmendOthers(AuditFixture& f, int first, const std::atomic<bool>& stop,
                 std::atomic<int>& failed) {
  int round = 0;
  while (!stop.load()) {
    for (int p = first; p <= kPupils && !stop.load(); p += 2) {
      const std::string code = round % 2 == 0 ? "I" : "M";
      auto done = f.ledger->AmendMark(
          kOfficer, Amend("p" + std::to_string(p), kDate, v1::AM, code, "writer " + code));
      if (!done.ok()) ++failed;
    }
    ++round;
  }
}

// Stopped and joined however the test ends (a failed REQUIRE included).
struct Writers {
  ~Writers() { Join(); }
  void Join() {
    stop = true;
    for (std::thread& thread : threads) {
      if (thread.joinable()) thread.join();
    }
  }
  std::atomic<bool> stop{false};
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
};

TEST_CASE("a query with min_position sees that write while other writers go on", "[audit][race]") {
  AuditFixture f(kPupils);
  f.now_us = kT0;
  v1::RecordMarksRequest marks;
  marks.set_school_id("s1");
  for (int p = 1; p <= kPupils; ++p) {
    *marks.add_marks() = MakeMark("p" + std::to_string(p), kDate, v1::AM, "N");
  }
  REQUIRE(f.ledger->RecordMarks(kTeacher, marks).ok());
  f.now_us = kT0 + 24 * kHour;

  // The attendance figures (kept whole in memory, not keyed) on a second
  // host over the same ledger, with the Projections service on its own
  // server: the other kind of read model under the same contract.
  projections::LiveAttendance live;
  services::AttendanceReadModel attendance(&live);
  services::ReadModelHost figures_host(f.ledger.get());
  REQUIRE(figures_host.Add(&attendance).ok());
  REQUIRE(figures_host.Start().ok());
  services::ProjectionsServiceImpl projections_service(
      &live, ledger::Clock::Fixed(kEnrolledAt), nullptr,
      [&](ledger::Position p, std::chrono::steady_clock::time_point deadline) {
        return figures_host.WaitFor(attendance.name(), p, deadline);
      });
  auto figures_server = services::Server::Start("127.0.0.1:0", {&projections_service});
  REQUIRE(figures_server.ok());
  auto projections_stub = v1::Projections::NewStub(
      grpc::CreateChannel("127.0.0.1:" + std::to_string((*figures_server)->port()),
                          grpc::InsecureChannelCredentials()));

  Writers writers;
  writers.threads.emplace_back([&] { AmendOthers(f, 2, writers.stop, writers.failed); });
  writers.threads.emplace_back([&] { AmendOthers(f, 3, writers.stop, writers.failed); });

  StaleCounts stale;
  for (int round = 0; round < kRounds; ++round) {
    const std::string code = round % 2 == 0 ? "I" : "M";
    auto amended = f.ledger->AmendMark(kOfficer, Amend("p1", kDate, v1::AM, code, "round"));
    REQUIRE(amended.ok());
    const ledger::Position position = amended->position();
    const auto deadline = std::chrono::system_clock::now() + std::chrono::seconds(30);

    const v1::MarkHistory history = f.History("p1", kDate, v1::AM, position, deadline);
    stale.Count("GetMarkHistory", history.entries_size() == round + 2 &&
                                      history.entries().rbegin()->position() == position &&
                                      history.entries().rbegin()->code() == code);

    v1::GetPupilAttendanceRequest figures_request;
    figures_request.set_school_id("s1");
    figures_request.set_pupil_id("p1");
    figures_request.set_min_position(position);
    v1::PupilAttendance figures;
    grpc::ClientContext figures_context;
    figures_context.set_deadline(deadline);
    const grpc::Status figures_status =
        projections_stub->GetPupilAttendance(&figures_context, figures_request, &figures);
    INFO(figures_status.error_message());
    REQUIRE(figures_status.ok());
    // Read under the figures' lock.
    stale.Count("GetPupilAttendance", figures.position() >= position);

    // The others every few rounds: they read the audit index, and the
    // timeline both models and the escalation state.
    if (round % 4 != 0) continue;
    const v1::RegisterAsOf register_as_of = f.Register(kDate, v1::AM, position, 0, deadline);
    REQUIRE(register_as_of.lines_size() == kPupils);
    stale.Count("GetRegisterAsOf",
                register_as_of.lines(0).pupil_id() == "p1" &&
                    register_as_of.lines(0).code() == code &&
                    register_as_of.lines(0).as_of_entry().position() == position);

    v1::ReplayAmendmentsRequest replay;
    replay.set_school_id("s1");
    replay.set_range(v1::BY_SESSION_DATE);
    replay.set_from_date(kDate);
    replay.set_pupil_id("p1");
    replay.set_min_position(position);
    const std::vector<v1::Amendment> amendments = f.Replay(replay);
    stale.Count("ReplayAmendments", static_cast<int>(amendments.size()) == round + 1 &&
                                        amendments.back().position() == position);

    v1::GetPupilTimelineRequest timeline;
    timeline.set_school_id("s1");
    timeline.set_pupil_id("p1");
    timeline.set_from_date(kDate);
    timeline.set_to_date(kDate);
    timeline.set_min_position(position);
    v1::TimelineEnd end;
    ledger::Position last_seen = 0;
    for (const std::string& bytes : f.TimelineBytes(timeline, &end, deadline)) {
      v1::TimelineEntry entry;
      REQUIRE(entry.ParseFromString(bytes));
      last_seen = std::max<ledger::Position>(last_seen, entry.position());
    }
    stale.Count("GetPupilTimeline", last_seen == position);
  }
  writers.Join();
  CHECK(writers.failed == 0);

  (*figures_server)->Shutdown();
  figures_host.Stop();

  INFO("stale answers: " << stale.Summary());
  CHECK(stale.asked["GetMarkHistory"] == kRounds);
  CHECK(stale.asked["GetPupilTimeline"] == kRounds / 4);
  CHECK(stale.total() == 0);
}

// The mark history, held in the host's write of its keys on request: the
// moment where the model has applied a position its readers cannot see yet.
class HeldOnWrite final : public services::ReadModel {
 public:
  explicit HeldOnWrite(services::MarkHistoryReadModel& inner) : inner_(inner) {}
  const std::string& name() const override { return inner_.name(); }
  ledger::Position position() const override { return inner_.position(); }
  void Attach(ledger::ReadModelStore* store) override { inner_.Attach(store); }
  void Reset() override { inner_.Reset(); }
  absl::Status Restore(const ledger::Ledger::Checkpoint& checkpoint) override {
    return inner_.Restore(checkpoint);
  }
  absl::Status Apply(const v1::EventEnvelope& event) override { return inner_.Apply(event); }
  void Publish() override { inner_.Publish(); }
  absl::Status Encode(ledger::ReadModelWrite& write) override {
    std::unique_lock lock(mu_);
    if (hold_) {
      held_ = true;
      changed_.notify_all();
      changed_.wait(lock, [&] { return !hold_; });
    }
    return inner_.Encode(write);
  }
  void Saved() override { inner_.Saved(); }
  bool reads_from_store() const override { return inner_.reads_from_store(); }

  void Hold() {
    std::lock_guard lock(mu_);
    hold_ = true;
  }
  // True once the host's thread is held (false after a minute: a hang).
  bool AwaitHeld() {
    std::unique_lock lock(mu_);
    return changed_.wait_for(lock, std::chrono::seconds(60), [&] { return held_; });
  }
  void Release() {
    std::lock_guard lock(mu_);
    hold_ = false;
    changed_.notify_all();
  }

 private:
  services::MarkHistoryReadModel& inner_;
  std::mutex mu_;
  std::condition_variable changed_;
  bool hold_ = false;
  bool held_ = false;
};

TEST_CASE("the host says a position is reached only once a keyed model has written it",
          "[audit][race]") {
  LedgerFixture f;
  services::MarkHistoryReadModel history;
  HeldOnWrite held(history);
  services::ReadModelHost host(f.ledger.get());
  REQUIRE(host.Add(&held).ok());
  REQUIRE(host.Start().ok());
  held.Hold();
  v1::RecordMarksRequest marks;
  marks.set_school_id("s1");
  *marks.add_marks() = MakeMark("p1", kDate, v1::AM, "/");
  auto written = f.ledger->RecordMarks(kTeacher, marks);
  REQUIRE(written.ok());
  const ledger::Position position = written->last_position();
  REQUIRE(held.AwaitHeld());

  // Applied, so the model's own position says it is there; not written,
  // so a reader would not find it: only the host's answer is true.
  CHECK(held.position() == position);
  auto before = history.History("s1", "p1", *ledger::ParseDate(kDate), v1::AM);
  REQUIRE(before.ok());
  CHECK(before->empty());
  CHECK(absl::IsDeadlineExceeded(host.WaitFor(
      held.name(), position, std::chrono::steady_clock::now() + std::chrono::milliseconds(100))));

  held.Release();
  CHECK(host.WaitFor(held.name(), position,
                     std::chrono::steady_clock::now() + std::chrono::seconds(60))
            .ok());
  auto after = history.History("s1", "p1", *ledger::ParseDate(kDate), v1::AM);
  REQUIRE(after.ok());
  CHECK(after->size() == 1);
}

}  // namespace
}  // namespace attendance::testing
