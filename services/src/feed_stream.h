#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <grpcpp/grpcpp.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "feed_hub.h"
#include "ledger/ledger.h"
#include "ledger/types.h"
#include "services/grpc_status.h"

namespace attendance::services {

// The limits of one feed subscription (README, "Live feeds").
struct FeedSettings {
  // Past this many events between the head and what the subscriber has
  // read, once it has caught up, the stream ends with RESOURCE_EXHAUSTED.
  std::uint64_t max_lag_events = 1'000'000;
  // A checkpoint message at least this often while the log moves and
  // nothing matches.
  std::chrono::milliseconds checkpoint_every{1000};
  // With the events' stored bytes, which SubscribeEvents sends as they are
  // (the hub's runs serve every feed, so every feed's reads keep them).
  ledger::ChunkLimits chunk = {.keep_stored_bytes = true};
  // One message: at most this many items or about this many bytes.
  std::size_t max_items_per_message = 256;
  std::size_t max_bytes_per_message = 1u << 20;
};

// A feed on gRPC's callback API: no thread of its own. The hub's workers
// read one chunk at a time (Fill: from disk, or the run the hub read once
// for every subscriber near the head) and turn it into messages
// (Consume, the feed's own filter or fold); the next chunk is read only
// once every message of the last one has been written, so a subscriber
// whose client stops reading holds one chunk and its gRPC buffers, and the
// log it has not read stays on disk. Catching up and following live are
// the same loop: a chunk is always read from `next_`, so the switch has no
// gap and no duplicate. gRPC operations run under `mu_` (they never call
// back inline), and nothing starts one after Finish.
//
// A feed whose messages depend on the time (Turn: a day's start, a
// register's close) turns its clock at the head when the hub's clock says
// its next turn has come, and every message then carries the time it had
// turned to (`turned_to`, `turned_to_time`).
//
// `Response` has position, caught_up, fell_behind and head fields; what is
// written is `Wire`, made from it by ToWire (the same message, or its bytes
// for a raw method).
template <typename Response, typename Wire = Response>
class FeedStream : public grpc::ServerWriteReactor<Wire>,
                   public FeedSubscription,
                   public std::enable_shared_from_this<FeedStream<Response, Wire>> {
 public:
  // Reads from position 1 and sends nothing at or before `after` (a fold
  // may need the events before it), or, when `read_from` is given, reads
  // from there.
  FeedStream(FeedHub& hub, const ledger::Ledger& ledger, ledger::Position after,
             ledger::Position read_from, FeedSettings settings)
      : hub_(hub),
        ledger_(ledger),
        settings_(settings),
        next_(read_from),
        reported_(after),
        last_sent_(std::chrono::steady_clock::now()) {}

  // Registers with the hub and reads the first chunk. Call once, on the
  // shared_ptr that owns the stream.
  void Begin() {
    self_ = this->shared_from_this();
    hub_.Add(self_);
    std::lock_guard lock(mu_);
    ScheduleLocked();
  }

  void OnWriteDone(bool ok) override {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!ok) {
      FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "the client went away"));
      return;
    }
    AdvanceLocked();
  }

  void OnCancel() override {
    std::lock_guard lock(mu_);
    FinishLocked(grpc::Status(grpc::StatusCode::CANCELLED, "cancelled"));
  }

  void OnDone() override {
    hub_.Remove(this);
    self_.reset();  // may be the last owner: nothing after this line
  }

  void Fill() override {
    ledger::Position from;
    ledger::Position resume_point;  // reported_ moves on as the last chunk is written
    {
      std::lock_guard lock(mu_);
      if (finished_) return;
      from = next_;
      resume_point = reported_;
    }
    absl::StatusOr<FeedHub::Slice> slice = hub_.Read(from, settings_.chunk);
    if (!slice.ok()) {
      std::lock_guard lock(mu_);
      FinishLocked(ToGrpcStatus(slice.status()));
      return;
    }
    const auto& events = slice->chunk->events;
    // The time before the head: every event recorded before it is in.
    const ledger::LocalTime school_now = hub_.Now();
    const ledger::Position head = ledger_.LastPosition();
    std::deque<Response> built;
    std::size_t items = 0;
    std::size_t bytes = 0;
    for (int i = slice->begin; i < events.size(); ++i) {
      const v1::EventEnvelope& event = events[i];
      if (built.empty()) built.emplace_back();
      const std::size_t added = Consume(event, slice->chunk->StoredBytes(i),
                                        event.position() > resume_point, built.back());
      if (added > 0) {
        ++items;
        bytes += added;
        built.back().set_position(event.position());
        if (items >= settings_.max_items_per_message || bytes >= settings_.max_bytes_per_message) {
          StampTime(built.back(), CurrentTime());
          built.emplace_back();
          items = bytes = 0;
        }
      }
    }
    if (!built.empty() && items == 0) built.pop_back();  // an empty last message
    const ledger::Position last = events.empty() ? from - 1 : events.rbegin()->position();
    // The chunk's messages carry the time before any turn below: a client
    // that stops after one of them must still get the turns at `last`.
    const ledger::LocalTime chunk_time = CurrentTime();
    for (Response& message : built) StampTime(message, chunk_time);
    if (last >= head) Turn(school_now, settings_.max_items_per_message, built);
    const ledger::LocalTime time = CurrentTime();
    const std::optional<ledger::LocalTime> next_turn = NextTurn();
    for (Response& message : built) {
      if (message.position() == 0) message.set_position(last);
      StampTime(message, time);
    }
    slice = absl::StatusOr<FeedHub::Slice>();  // lets the run go (the hub may keep it)

    std::lock_guard lock(mu_);
    scheduled_ = false;
    if (finished_) return;
    next_ = last + 1;
    const bool at_head = last >= head;
    for (Response& message : built) outbox_.push_back(std::move(message));
    if (last > reported_) {
      const bool scanned_a_chunk = chunk_full(last - from + 1);
      if (!outbox_.empty()) {
        outbox_.back().set_position(last);
      } else if (scanned_a_chunk || CheckpointDue() || (at_head && !live_)) {
        outbox_.emplace_back().set_position(last);
      }
    }
    if (at_head && Key(time) != Key(time_) && time_.day != 0 && outbox_.empty()) {
      // The clock turned with nothing to say: a checkpoint carries the time.
      outbox_.emplace_back().set_position(std::max(last, reported_));
    }
    if (at_head && !live_) {
      if (outbox_.empty()) outbox_.emplace_back().set_position(std::max(last, reported_));
      outbox_.back().set_caught_up(true);
      live_ = true;
      behind_ = false;
    } else if (live_ && !behind_ && head > last + settings_.chunk.max_events) {
      if (outbox_.empty()) outbox_.emplace_back().set_position(std::max(last, reported_));
      outbox_.front().set_fell_behind(true);
      behind_ = true;
    }
    if (behind_ && at_head) {
      if (outbox_.empty()) outbox_.emplace_back().set_position(std::max(last, reported_));
      outbox_.back().set_caught_up(true);
      behind_ = false;
    }
    for (Response& message : outbox_) {
      message.set_head(head);
      StampTime(message, time);
    }
    time_ = time;
    next_turn_ = next_turn;
    at_head_ = at_head;
    AdvanceLocked();
  }

  void Poke(ledger::Position head, std::chrono::steady_clock::time_point now,
            ledger::LocalTime school_now) override {
    std::lock_guard lock(mu_);
    if (finished_) return;
    const ledger::Position read = next_ - 1;
    if (live_ && head > read && head - read > settings_.max_lag_events) {
      hub_.CountEndedForLag();
      // The status follows the message being written, so a client that
      // reads again gets what was sent, then this.
      FinishLocked(grpc::Status(
          grpc::StatusCode::RESOURCE_EXHAUSTED,
          absl::StrCat("the subscriber is ", head - read, " events behind the head (", head,
                       "), over the limit of ", settings_.max_lag_events,
                       " (--max-feed-lag-events); resume from after_position=", reported_)));
      return;
    }
    if (!parked_) return;
    if (head > read || (next_turn_ && Key(school_now) >= Key(*next_turn_))) {
      parked_ = false;
      ScheduleLocked();
    } else if (read > reported_ && now - last_sent_ >= settings_.checkpoint_every && !writing_) {
      outbox_.emplace_back().set_position(read);
      outbox_.back().set_head(head);
      StampTime(outbox_.back(), time_);
      parked_ = false;
      AdvanceLocked();
    }
  }

 protected:
  // Adds what `event` yields to `message` and returns about how many bytes
  // it added (0: nothing). `stored`: its stored bytes, or empty
  // (EventChunk::StoredBytes). `deliver` is false for events at or before
  // the resume point: a fold applies them, nothing is sent.
  virtual std::size_t Consume(const v1::EventEnvelope& event, std::string_view stored, bool deliver,
                              Response& message) = 0;
  // At the head: make the turns the school clock `now` has reached and
  // append what they yield (each message's position may be left 0: the
  // position read; one that sets its own turned_to keeps it). Feeds that do
  // not follow the time do nothing.
  virtual void Turn(ledger::LocalTime /*now*/, std::size_t /*max_items*/,
                    std::deque<Response>& /*out*/) {}
  // The time the feed has turned to (day 0: none, or it does not follow
  // the time), and when it next turns (none: never). Called on the thread
  // that runs Fill.
  virtual ledger::LocalTime CurrentTime() const { return {}; }
  virtual std::optional<ledger::LocalTime> NextTurn() const { return std::nullopt; }
  // What is written for `message` (which is dropped afterwards).
  virtual void ToWire(Response& message, Wire& wire) = 0;

 private:
  static std::pair<ledger::Day, int> Key(const ledger::LocalTime& t) {
    return {t.day, t.minute_of_day};
  }
  static void StampTime(Response& message, const ledger::LocalTime& time) {
    if constexpr (requires { message.set_turned_to_time(std::string()); }) {
      // A turn says its own time (Turn); the rest, the feed's.
      if (time.day == 0 || !message.turned_to().empty()) return;
      message.set_turned_to(ledger::FormatDate(time.day));
      if (time.minute_of_day != 0) {
        message.set_turned_to_time(
            absl::StrFormat("%02d:%02d", time.minute_of_day / 60, time.minute_of_day % 60));
      }
    }
  }

  bool chunk_full(ledger::Position scanned) const { return scanned >= settings_.chunk.max_events; }
  bool CheckpointDue() const {
    return std::chrono::steady_clock::now() - last_sent_ >= settings_.checkpoint_every;
  }

  // Writes the next message, or reads on, or parks at the head. The next
  // chunk is read while the last message of this one is written (reading
  // and sending overlap on two cores); a feed whose client stops reading
  // holds that message and one chunk's messages.
  void AdvanceLocked() {
    if (finished_ || writing_) return;
    if (!outbox_.empty()) {
      reported_ = outbox_.front().position();
      ToWire(outbox_.front(), current_);
      outbox_.pop_front();
      last_sent_ = std::chrono::steady_clock::now();
      writing_ = true;
      this->StartWrite(&current_);
      if (outbox_.empty() && !at_head_) ScheduleLocked();
      return;
    }
    if (scheduled_) return;
    if (at_head_) {
      parked_ = true;  // the watcher schedules it when the head moves
    } else {
      ScheduleLocked();
    }
  }

  void ScheduleLocked() {
    if (finished_ || scheduled_) return;
    scheduled_ = true;
    parked_ = false;
    hub_.Schedule(self_);
  }

  void FinishLocked(grpc::Status status) {
    if (finished_) return;
    finished_ = true;
    outbox_.clear();
    this->Finish(std::move(status));
  }

  FeedHub& hub_;
  const ledger::Ledger& ledger_;
  const FeedSettings settings_;
  std::shared_ptr<FeedStream> self_;  // from Begin until OnDone

  std::mutex mu_;
  ledger::Position next_;      // the next position to read
  ledger::Position reported_;  // the position of the last message written
  std::chrono::steady_clock::time_point last_sent_;
  std::deque<Response> outbox_;  // messages of the last chunk not yet written
  Wire current_;                 // the message being written
  bool writing_ = false;
  bool scheduled_ = false;  // queued for, or in, Fill
  bool parked_ = false;     // at the head, waiting for a commit
  bool at_head_ = false;    // the last Fill reached the head
  bool live_ = false;       // has caught up (lag limit applies)
  bool behind_ = false;     // fell behind after catching up, told so
  bool finished_ = false;
  ledger::LocalTime time_;                      // CurrentTime() after the last Fill
  std::optional<ledger::LocalTime> next_turn_;  // NextTurn() after the last Fill
};

}  // namespace attendance::services
