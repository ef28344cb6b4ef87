// The runner: restart from a checkpoint, not from zero, and end in the same
// state as a rebuild; follow commits on its own thread.
#include "projections/projection_runner.h"

#include <catch2/catch.hpp>
#include <chrono>

#include "fake_ledger.h"
#include "random_history.h"

namespace attendance::projections {
namespace {

std::string Rebuild(const std::vector<v1::EventEnvelope>& events) {
  AttendanceState state;
  for (const v1::EventEnvelope& e : events) state.Apply(e);
  return state.Encode();
}

std::string Encoded(const LiveAttendance& live) {
  return live.Read([](const AttendanceState& s) { return s.Encode(); });
}

SCENARIO("a restarted runner resumes from its checkpoint", "[projections][runner]") {
  testing::RandomHistoryOptions options;
  options.pupils = 20;
  const std::vector<v1::EventEnvelope> events = testing::RandomHistory(options);
  const std::size_t half = events.size() / 2;
  GIVEN("a runner that folded the first half of the log and stopped") {
    testing::FakeLedger ledger;
    ledger.Append({events.begin(), events.begin() + static_cast<long>(half)});
    {
      LiveAttendance live;
      ProjectionRunner runner(&ledger, &live);
      REQUIRE(runner.Start().ok());
      CHECK(live.position() == half);
      runner.Stop();
    }
    ledger.Append({events.begin() + static_cast<long>(half), events.end()});

    WHEN("a new runner starts on the whole log") {
      LiveAttendance live;
      ProjectionRunner runner(&ledger, &live);
      REQUIRE(runner.Start().ok());
      THEN("it read the log from after the checkpoint, not from position 1") {
        CHECK(ledger.read_from().back() == half + 1);
      }
      THEN("its state is byte-identical to a rebuild from position 1") {
        CHECK(live.position() == events.size());
        CHECK(Encoded(live) == Rebuild(events));
      }
    }
    WHEN("the checkpoint cannot be decoded") {
      ledger.CorruptCheckpoint(ProjectionRunnerOptions{}.checkpoint_name);
      LiveAttendance live;
      ProjectionRunner runner(&ledger, &live);
      REQUIRE(runner.Start().ok());
      THEN("the runner rebuilds from position 1 and reaches the same state") {
        CHECK(ledger.read_from().back() == 1);
        CHECK(Encoded(live) == Rebuild(events));
      }
    }
    WHEN("the runner is told to ignore the checkpoint (ledgerd --rebuild-read-models)") {
      LiveAttendance live;
      ProjectionRunnerOptions runner_options;
      runner_options.ignore_checkpoint = true;
      ProjectionRunner runner(&ledger, &live, runner_options);
      REQUIRE(runner.Start().ok());
      THEN("it reads the log from position 1 and reaches the same state") {
        CHECK(ledger.read_from().back() == 1);
        CHECK(Encoded(live) == Rebuild(events));
      }
    }
  }
}

TEST_CASE("the runner follows commits on its own thread", "[projections][runner]") {
  testing::RandomHistoryOptions options;
  options.pupils = 10;
  const std::vector<v1::EventEnvelope> events = testing::RandomHistory(options);
  testing::FakeLedger ledger;
  LiveAttendance live;
  ProjectionRunnerOptions runner_options;
  runner_options.checkpoint_every_events = 5000;
  runner_options.events_per_lock = 100;
  ProjectionRunner runner(&ledger, &live, runner_options);
  REQUIRE(runner.Start().ok());
  for (std::size_t i = 0; i < events.size(); i += 997) {
    ledger.Append({events.begin() + static_cast<long>(i),
                   events.begin() + static_cast<long>(std::min(events.size(), i + 997))});
  }
  // Generous: the condition is met as soon as the thread has caught up.
  REQUIRE(runner.WaitFor(events.size(), std::chrono::seconds(60)));
  CHECK(Encoded(live) == Rebuild(events));
  runner.Stop();
  auto checkpoint = ledger.LoadCheckpoint(runner_options.checkpoint_name);
  REQUIRE(checkpoint.ok());
  CHECK(checkpoint->position == events.size());
}

}  // namespace
}  // namespace attendance::projections
