// feed-load: many attendance.v1.Feeds subscribers in one process, on gRPC's
// callback API (no thread per subscriber), for the feeds benchmark
// (tests/e2e/bench_feeds.py) -- so that the client is not what is measured.
//
//   feed-load --target HOST:PORT --subscribers 100 --school probe-school
//     Opens N SubscribeEvents feeds from now, each filtered on --school, and
//     prints "READY" once every feed has said caught_up. Then, until its
//     standard input closes (or --seconds pass), takes each delivered event's
//     append-to-delivery latency: the time from its recorded_at (stamped by
//     the server as it commits) to its arrival here. Prints one line
//     "RESULT subscribers=N deliveries=D p50_ms=... p99_ms=... max_ms=..."
//     and exits 0, or 1 if a feed ended with an error.
//
//   feed-load --target HOST:PORT --catch-up [--event-type N]
//     One feed from position 0 (filtered on one EventType number, or none:
//     every event sent) read until its caught_up marker; the events in each
//     message are counted from the message's bytes, not decoded. Prints
//     "RESULT catch_up events_scanned=P events_sent=S seconds=T events_per_s=R".
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/grpcpp.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/flags/flag.h"
#include "attendance/v1/feeds_service.grpc.pb.h"
#include "command_line/command_line.h"

ABSL_FLAG(std::string, target, "127.0.0.1:50051", "ledgerd address");
ABSL_FLAG(int, subscribers, 1, "feeds opened at once");
ABSL_FLAG(std::string, school, "", "the feeds' school filter");
ABSL_FLAG(int, channels, 4, "connections the feeds share");
ABSL_FLAG(int, seconds, 0, "stop after this many seconds (0: when stdin closes)");
ABSL_FLAG(bool, catch_up, false, "measure one feed's catch-up from position 0");
ABSL_FLAG(int, event_type, 0, "catch-up: the EventType number to filter on (0: none)");

namespace attendance::feed_load {
namespace {

constexpr const char* kUsage = R"(usage: feed-load [flags]
  --target HOST:PORT   ledgerd address (default 127.0.0.1:50051)
  --subscribers N      SubscribeEvents feeds from now, at once (default 1)
  --school ID          the feeds' school filter
  --channels N         connections the feeds are spread over (default 4; ledgerd allows
                       --max-streams-per-connection calls on each)
  --seconds S          stop after S seconds (default 0: when standard input closes)
  --catch-up           instead: one feed from position 0 until it has caught up
  --event-type N       with --catch-up: filter on this EventType number (default 0: every
                       event sent)
)";

using SteadyClock = std::chrono::steady_clock;

std::int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<grpc::Channel> NewChannel(const std::string& target) {
  grpc::ChannelArguments args;
  // Its own connection: channels with equal arguments would share one.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetMaxReceiveMessageSize(64 << 20);
  return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
}

// Counts what every feed has seen, and when all are ready or done.
class Board {
 public:
  explicit Board(int feeds) : feeds_(feeds) {}
  void Ready() {
    std::lock_guard lock(mu_);
    ++ready_;
    changed_.notify_all();
  }
  void Done(const grpc::Status& status, std::vector<double> latencies_ms) {
    std::lock_guard lock(mu_);
    if (!status.ok() && status.error_code() != grpc::StatusCode::CANCELLED) {
      ++errors_;
      std::fprintf(stderr, "feed-load: a feed ended: %d %s\n", status.error_code(),
                   status.error_message().c_str());
      ++ready_;  // it will never say caught_up
    }
    latencies_.insert(latencies_.end(), latencies_ms.begin(), latencies_ms.end());
    ++done_;
    changed_.notify_all();
  }
  bool WaitReady(SteadyClock::time_point deadline) {
    std::unique_lock lock(mu_);
    return changed_.wait_until(lock, deadline, [&] { return ready_ >= feeds_; });
  }
  void WaitDone() {
    std::unique_lock lock(mu_);
    changed_.wait(lock, [&] { return done_ >= feeds_; });
  }
  int errors() {
    std::lock_guard lock(mu_);
    return errors_;
  }
  std::vector<double> latencies() {
    std::lock_guard lock(mu_);
    return latencies_;
  }

 private:
  const int feeds_;
  std::mutex mu_;
  std::condition_variable changed_;
  int ready_ = 0;
  int done_ = 0;
  int errors_ = 0;
  std::vector<double> latencies_;
};

// One subscriber: reads messages as they come, on gRPC's callback threads.
class Subscriber final : public grpc::ClientReadReactor<v1::SubscribeEventsResponse> {
 public:
  Subscriber(v1::Feeds::Stub& stub, const std::string& school, Board& board) : board_(board) {
    request_.set_from_now(true);
    request_.set_school_id(school);
    stub.async()->SubscribeEvents(&context_, &request_, this);
    StartRead(&message_);
    StartCall();
  }
  void Cancel() { context_.TryCancel(); }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // OnDone follows
    const std::int64_t now_us = NowUs();
    for (const v1::EventEnvelope& event : message_.events()) {
      latencies_ms_.push_back(static_cast<double>(now_us - event.recorded_at_us()) / 1000.0);
    }
    if (message_.caught_up() && !ready_) {
      ready_ = true;
      board_.Ready();
    }
    StartRead(&message_);
  }
  void OnDone(const grpc::Status& status) override {
    board_.Done(status, std::move(latencies_ms_));
  }

 private:
  Board& board_;
  grpc::ClientContext context_;
  v1::SubscribeEventsRequest request_;
  v1::SubscribeEventsResponse message_;
  bool ready_ = false;
  std::vector<double> latencies_ms_;
};

double Percentile(std::vector<double>& values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto at = std::min(values.size() - 1, static_cast<std::size_t>(values.size() * q));
  return values[at];
}

int RunSubscribers(const std::string& target, int count, const std::string& school, int channels,
                   int seconds) {
  std::vector<std::shared_ptr<grpc::Channel>> links;
  std::vector<std::unique_ptr<v1::Feeds::Stub>> stubs;
  for (int i = 0; i < std::min(channels, count); ++i) {
    links.push_back(NewChannel(target));
    stubs.push_back(v1::Feeds::NewStub(links.back()));
  }
  Board board(count);
  std::vector<std::unique_ptr<Subscriber>> feeds;
  for (int i = 0; i < count; ++i) {
    feeds.push_back(std::make_unique<Subscriber>(*stubs[i % stubs.size()], school, board));
  }
  if (!board.WaitReady(SteadyClock::now() + std::chrono::seconds(60))) {
    std::fprintf(stderr, "feed-load: not every feed caught up within 60 s\n");
  }
  std::printf("READY\n");
  std::fflush(stdout);
  if (seconds > 0) {
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
  } else {
    std::string line;
    while (std::getline(std::cin, line)) {
    }
  }
  for (auto& feed : feeds) feed->Cancel();
  board.WaitDone();
  std::vector<double> latencies = board.latencies();
  const double p50 = Percentile(latencies, 0.50);
  const double p99 = Percentile(latencies, 0.99);
  const double max = latencies.empty() ? 0 : latencies.back();
  std::printf(
      "RESULT subscribers=%d deliveries=%zu p50_ms=%.1f p99_ms=%.1f max_ms=%.1f errors=%d\n", count,
      latencies.size(), p50, p99, max, board.errors());
  return board.errors() == 0 ? 0 : 1;
}

// (events, position, caught_up) of a serialized SubscribeEventsResponse from
// its top-level fields; the events (field 2) are skipped, not decoded.
struct Counted {
  std::uint64_t events = 0;
  std::uint64_t position = 0;
  bool caught_up = false;
  bool ok = true;
};

Counted CountEvents(const grpc::ByteBuffer& buffer) {
  Counted counted;
  grpc::Slice slice;
  if (!buffer.DumpToSingleSlice(&slice).ok()) return {.ok = false};
  const std::uint8_t* p = slice.begin();
  const std::uint8_t* end = slice.end();
  auto varint = [&](std::uint64_t& value) {
    value = 0;
    for (int shift = 0; p < end && shift < 64; shift += 7) {
      const std::uint8_t byte = *p++;
      value |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if (byte < 0x80) return true;
    }
    return false;
  };
  while (p < end) {
    std::uint64_t key = 0;
    std::uint64_t value = 0;
    if (!varint(key)) return {.ok = false};
    const std::uint64_t field = key >> 3;
    switch (key & 7) {
      case 0:
        if (!varint(value)) return {.ok = false};
        if (field == 1) counted.position = value;
        if (field == 3) counted.caught_up = value != 0;
        break;
      case 2:
        if (!varint(value) || value > static_cast<std::uint64_t>(end - p)) return {.ok = false};
        p += value;
        counted.events += field == 2;
        break;
      default:
        return {.ok = false};  // the response has no other wire types
    }
  }
  return counted;
}

// The catch-up feed as raw bytes (a generic call: a server stream is a
// stream with one request).
class CatchUp final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  CatchUp(grpc::GenericStub& stub, const v1::SubscribeEventsRequest& request) {
    bool own = false;
    grpc::GenericSerialize<grpc::ProtoBufferWriter, v1::SubscribeEventsRequest>(request, &request_,
                                                                                &own);
    stub.PrepareBidiStreamingCall(&context_, "/attendance.v1.Feeds/SubscribeEvents",
                                  grpc::StubOptions(), this);
    StartWrite(&request_);
    StartWritesDone();
    StartRead(&message_);
    started_ = SteadyClock::now();
    StartCall();
  }

  void OnWriteDone(bool) override {}
  void OnWritesDoneDone(bool) override {}
  void OnReadDone(bool ok) override {
    if (!ok) return;
    const Counted counted = CountEvents(message_);
    if (!counted.ok) {
      std::fprintf(stderr, "feed-load: a message that does not parse\n");
      context_.TryCancel();
      return;
    }
    sent_ += counted.events;
    position_ = counted.position;
    if (counted.caught_up) {
      seconds_ = std::chrono::duration<double>(SteadyClock::now() - started_).count();
      caught_up_ = true;
      context_.TryCancel();
      return;
    }
    StartRead(&message_);
  }
  void OnDone(const grpc::Status& status) override {
    std::lock_guard lock(mu_);
    status_ = status;
    done_ = true;
    finished_.notify_all();
  }

  int Report() {
    std::unique_lock lock(mu_);
    finished_.wait(lock, [&] { return done_; });
    if (!caught_up_) {
      std::fprintf(stderr, "feed-load: the feed ended before catching up: %d %s\n",
                   status_.error_code(), status_.error_message().c_str());
      return 1;
    }
    std::printf(
        "RESULT catch_up events_scanned=%llu events_sent=%llu seconds=%.3f events_per_s=%.0f\n",
        static_cast<unsigned long long>(position_), static_cast<unsigned long long>(sent_),
        seconds_, static_cast<double>(position_) / seconds_);
    return 0;
  }

 private:
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer message_;
  SteadyClock::time_point started_;
  std::uint64_t sent_ = 0;
  std::uint64_t position_ = 0;
  double seconds_ = 0;
  bool caught_up_ = false;
  std::mutex mu_;
  std::condition_variable finished_;
  bool done_ = false;
  grpc::Status status_;
};

int RunCatchUp(const std::string& target, int event_type) {
  std::shared_ptr<grpc::Channel> channel = NewChannel(target);
  // Connected first: the time measured is the feed's.
  channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10));
  grpc::GenericStub stub(channel);
  v1::SubscribeEventsRequest request;
  if (event_type != 0) request.add_event_types(static_cast<v1::EventType>(event_type));
  CatchUp feed(stub, request);
  return feed.Report();
}

int Main(int argc, char** argv) {
  constexpr std::string_view kProgram = "feed-load";
  const std::vector<std::string> rest = tools::ParseFlagsOrExit(argc, argv, kProgram, kUsage);
  if (!rest.empty()) tools::ExitBadUsage(kProgram, "unexpected argument " + rest.front());
  const std::string target = absl::GetFlag(FLAGS_target);
  if (absl::GetFlag(FLAGS_catch_up)) {
    const int type = static_cast<int>(tools::FlagAtLeast(kProgram, FLAGS_event_type, 0));
    if (type != 0 && !v1::EventType_IsValid(type)) {
      tools::ExitBadUsage(kProgram, "--event-type: not an EventType number");
    }
    return RunCatchUp(target, type);
  }
  const int subscribers = static_cast<int>(tools::FlagAtLeast(kProgram, FLAGS_subscribers, 1));
  const int channels = static_cast<int>(tools::FlagAtLeast(kProgram, FLAGS_channels, 1));
  const int seconds = static_cast<int>(tools::FlagAtLeast(kProgram, FLAGS_seconds, 0));
  const std::string school = absl::GetFlag(FLAGS_school);
  if (school.empty()) tools::ExitBadUsage(kProgram, "--school is needed");
  return RunSubscribers(target, subscribers, school, channels, seconds);
}

}  // namespace
}  // namespace attendance::feed_load

int main(int argc, char** argv) { return attendance::feed_load::Main(argc, argv); }
