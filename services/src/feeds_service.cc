#include "services/feeds_service.h"

#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "encoded_events_response.h"
#include "feed_hub.h"
#include "feed_stream.h"
#include "ledger/types.h"
#include "logger.h"
#include "projections/projection_changes.h"
#include "projections/windows.h"
#include "services/access.h"
#include "services/grpc_status.h"

namespace attendance::services {
namespace {

// Threads that read chunks for all subscribers together.
constexpr int kFeedWorkers = 2;

// A feed refused before it starts (validation, permission, a limit).
template <typename Response>
class RefusedFeed final : public grpc::ServerWriteReactor<Response> {
 public:
  explicit RefusedFeed(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

template <typename Response>
grpc::ServerWriteReactor<Response>* Refuse(const absl::Status& status) {
  return new RefusedFeed<Response>(ToGrpcStatus(status));
}

// SubscribeEvents: the request's filter, and the redaction a reporter gets.
// Written as bytes: an event goes out as its stored bytes where it can
// (EncodedEventsResponse), so catching up costs no encode per event.
class EventFeed final : public FeedStream<EncodedEventsResponse, grpc::ByteBuffer> {
 public:
  struct Filter {
    std::string school_id;
    absl::flat_hash_set<int> payloads;  // EventEnvelope::PayloadCase values
    absl::flat_hash_set<std::string> pupils;
    bool redact = false;
  };
  EventFeed(FeedHub& hub, const ledger::Ledger& ledger, ledger::Position after,
            FeedSettings settings, Filter filter)
      : FeedStream(hub, ledger, after, after + 1, settings), filter_(std::move(filter)) {}

 protected:
  std::size_t Consume(const v1::EventEnvelope& event, std::string_view stored, bool deliver,
                      EncodedEventsResponse& message) override {
    if (!deliver) return 0;
    if (!filter_.school_id.empty() && event.school_id() != filter_.school_id) return 0;
    if (!filter_.payloads.empty() &&
        !filter_.payloads.contains(static_cast<int>(event.payload_case()))) {
      return 0;
    }
    if (!filter_.pupils.empty() && !filter_.pupils.contains(event.pupil_id())) return 0;
    if (!stored.empty() && !filter_.redact) {
      return message.AddStoredEvent(stored, event.hash(), event.prev_hash());
    }
    // A copy of its own: the chunk's events are shared with other feeds.
    copy_ = event;
    if (filter_.redact) RedactEvent(copy_);
    return message.AddEvent(copy_);
  }

  void ToWire(EncodedEventsResponse& message, grpc::ByteBuffer& wire) override {
    grpc::ByteBuffer bytes = message.TakeBytes();
    wire.Swap(&bytes);
  }

 private:
  const Filter filter_;
  v1::EventEnvelope copy_;
};

std::string FormatMinute(int minute) {
  return absl::StrFormat("%02d:%02d", minute / 60, minute % 60);
}

// SubscribeProjectionChanges: a private fold over the schools asked, from
// position 1 (the figures before an event need the state before it).
class ProjectionFeed final : public FeedStream<v1::SubscribeProjectionChangesResponse> {
 public:
  ProjectionFeed(FeedHub& hub, const ledger::Ledger& ledger, ledger::Position after,
                 FeedSettings settings, projections::ProjectionChangeFold fold, bool redact)
      : FeedStream(hub, ledger, after, 1, settings), fold_(std::move(fold)), redact_(redact) {}

 protected:
  std::size_t Consume(const v1::EventEnvelope& event, std::string_view /*stored*/, bool deliver,
                      v1::SubscribeProjectionChangesResponse& message) override {
    if (!deliver) {
      fold_.Skip(event);
      return 0;
    }
    changes_.clear();
    fold_.Apply(event, changes_);
    std::size_t bytes = 0;
    for (v1::PupilChange& change : changes_) {
      if (redact_) RedactPupil(*change.mutable_attendance()->mutable_pupil());
      bytes += change.ByteSizeLong();
      *message.add_changes() = std::move(change);
    }
    return bytes;
  }

  // One message per turn (a day's start, a register's close), whatever its
  // size: a checkpoint inside a turn could not say which of its changes had
  // been received.
  void Turn(ledger::LocalTime now, std::size_t /*max_items*/,
            std::deque<v1::SubscribeProjectionChangesResponse>& out) override {
    for (;;) {
      changes_.clear();
      if (!fold_.TurnOnce(now, changes_)) return;
      if (changes_.empty()) continue;
      v1::SubscribeProjectionChangesResponse& message = out.emplace_back();
      message.set_turned_to(ledger::FormatDate(fold_.day()));
      if (fold_.minute() != 0) message.set_turned_to_time(FormatMinute(fold_.minute()));
      for (v1::PupilChange& change : changes_) {
        if (redact_) RedactPupil(*change.mutable_attendance()->mutable_pupil());
        *message.add_changes() = std::move(change);
      }
    }
  }

  void ToWire(v1::SubscribeProjectionChangesResponse& message,
              v1::SubscribeProjectionChangesResponse& wire) override {
    wire = std::move(message);
  }

  ledger::LocalTime CurrentTime() const override { return fold_.time(); }
  std::optional<ledger::LocalTime> NextTurn() const override {
    if (fold_.day() == 0) return std::nullopt;
    return fold_.NextTurn();
  }

 private:
  projections::ProjectionChangeFold fold_;
  const bool redact_;
  std::vector<v1::PupilChange> changes_;
};

absl::Status CheckStart(const ledger::Ledger& ledger, ledger::Position after) {
  const ledger::Position head = ledger.LastPosition();
  if (after <= head) return absl::OkStatus();
  return absl::FailedPreconditionError(absl::StrCat("after_position: ", after,
                                                    " is past the log's last position ", head,
                                                    " (a ledger restored from an older backup?)"));
}

}  // namespace

FeedsServiceImpl::FeedsServiceImpl(const ledger::Ledger& ledger,
                                   std::shared_ptr<const Authenticator> auth, ledger::Clock clock)
    : ledger_(ledger),
      auth_(std::move(auth)),
      hub_(std::make_unique<FeedHub>(ledger, kFeedWorkers, std::move(clock))) {}

FeedsServiceImpl::~FeedsServiceImpl() = default;

std::size_t FeedsServiceImpl::open_feeds() const { return hub_->size(); }

std::uint64_t FeedsServiceImpl::feeds_ended_for_lag() const { return hub_->ended_for_lag(); }

ServerLimits FeedsServiceImpl::limits() const {
  const CallLimiter* limiter = limiter_.load();
  return limiter != nullptr ? limiter->limits() : ServerLimits{};
}

grpc::ServerWriteReactor<grpc::ByteBuffer>* FeedsServiceImpl::SubscribeEvents(
    grpc::CallbackServerContext* context, const grpc::ByteBuffer* request_bytes) {
  using Response = grpc::ByteBuffer;
  v1::SubscribeEventsRequest parsed;
  grpc::ByteBuffer copy(*request_bytes);  // the reader consumes what it reads
  if (!grpc::GenericDeserialize<grpc::ProtoBufferReader, v1::SubscribeEventsRequest>(&copy, &parsed)
           .ok()) {
    return Refuse<Response>(
        absl::InvalidArgumentError("the request is not a SubscribeEventsRequest"));
  }
  const v1::SubscribeEventsRequest* request = &parsed;
  absl::StatusOr<Caller> caller =
      auth_->Authorize(*context, "SubscribeEvents", Action::kReadEvents, request->school_id());
  if (!caller.ok()) return Refuse<Response>(caller.status());
  EventFeed::Filter filter;
  filter.school_id = request->school_id();
  filter.redact = !SeesPersonalData(*caller);
  if (request->event_types_size() > kMaxEventTypes) {
    return Refuse<Response>(absl::InvalidArgumentError(
        absl::StrCat("event_types: ", request->event_types_size(),
                     " types is more than the limit of ", kMaxEventTypes)));
  }
  for (int i = 0; i < request->event_types_size(); ++i) {
    const int type = request->event_types(i);
    if (type == v1::EVENT_TYPE_UNSPECIFIED || !v1::EventType_IsValid(type)) {
      return Refuse<Response>(absl::InvalidArgumentError(
          absl::StrCat("event_types[", i, "]: ", type, " is not an event type")));
    }
    // EventType numbers follow the payload's field numbers (20 + type - 1).
    filter.payloads.insert(19 + type);
  }
  if (request->pupil_ids_size() > kMaxPupilIds) {
    return Refuse<Response>(
        absl::InvalidArgumentError(absl::StrCat("pupil_ids: ", request->pupil_ids_size(),
                                                " ids is more than the limit of ", kMaxPupilIds)));
  }
  if (request->pupil_ids_size() > 0 && request->school_id().empty()) {
    return Refuse<Response>(
        absl::InvalidArgumentError("pupil_ids: a pupil filter needs school_id (pupil ids are "
                                   "per school)"));
  }
  for (int i = 0; i < request->pupil_ids_size(); ++i) {
    if (request->pupil_ids(i).empty()) {
      return Refuse<Response>(
          absl::InvalidArgumentError(absl::StrCat("pupil_ids[", i, "]: must not be empty")));
    }
    filter.pupils.insert(request->pupil_ids(i));
  }
  const ServerLimits limits = this->limits();
  if (hub_->size() >= static_cast<std::size_t>(limits.max_feeds)) {
    return Refuse<Response>(absl::ResourceExhaustedError(absl::StrCat(
        "the server has ", limits.max_feeds, " feeds open, its limit (--max-feeds); retry later")));
  }
  const ledger::Position after =
      request->from_now() ? ledger_.LastPosition() : request->after_position();
  if (absl::Status s = CheckStart(ledger_, after); !s.ok()) return Refuse<Response>(s);
  FeedSettings settings;
  settings.max_lag_events = static_cast<std::uint64_t>(limits.max_feed_lag_events);
  SPDLOG_LOGGER_DEBUG(&Log(), "SubscribeEvents caller=\"{}\" after={} school={}", caller->name,
                      after, request->school_id());
  auto feed = std::make_shared<EventFeed>(*hub_, ledger_, after, settings, std::move(filter));
  feed->Begin();
  return feed.get();
}

grpc::ServerWriteReactor<v1::SubscribeProjectionChangesResponse>*
FeedsServiceImpl::SubscribeProjectionChanges(grpc::CallbackServerContext* context,
                                             const v1::SubscribeProjectionChangesRequest* request) {
  using Response = v1::SubscribeProjectionChangesResponse;
  if (request->school_ids_size() == 0 || request->school_ids_size() > kMaxSchools) {
    return Refuse<Response>(absl::InvalidArgumentError(absl::StrCat(
        "school_ids: ", request->school_ids_size(), " schools is not in 1..", kMaxSchools)));
  }
  absl::flat_hash_set<std::string> schools;
  bool redact = false;
  for (int i = 0; i < request->school_ids_size(); ++i) {
    const std::string& school = request->school_ids(i);
    if (school.empty()) {
      return Refuse<Response>(
          absl::InvalidArgumentError(absl::StrCat("school_ids[", i, "]: must not be empty")));
    }
    absl::StatusOr<Caller> caller =
        auth_->Authorize(*context, "SubscribeProjectionChanges", Action::kReadProjections, school);
    if (!caller.ok()) return Refuse<Response>(caller.status());
    redact = !SeesPersonalData(*caller);
    schools.insert(school);
  }
  if (request->windows_size() > kMaxWindows) {
    return Refuse<Response>(absl::InvalidArgumentError(absl::StrCat(
        "windows: ", request->windows_size(), " windows is more than the limit of ", kMaxWindows)));
  }
  std::vector<projections::WindowSpec> windows;
  for (int i = 0; i < request->windows_size(); ++i) {
    absl::StatusOr<projections::WindowSpec> spec =
        projections::WindowSpecFromProto(request->windows(i), absl::StrCat("windows[", i, "]"));
    if (!spec.ok()) return Refuse<Response>(spec.status());
    windows.push_back(*spec);
  }
  if (windows.empty()) windows.emplace_back();  // academic year to date
  const ServerLimits limits = this->limits();
  if (hub_->size() >= static_cast<std::size_t>(limits.max_feeds)) {
    return Refuse<Response>(absl::ResourceExhaustedError(absl::StrCat(
        "the server has ", limits.max_feeds, " feeds open, its limit (--max-feeds); retry later")));
  }
  projections::ProjectionChangeFold::Resume resume;
  resume.after_position = request->after_position();
  if (!request->after_day().empty()) {
    std::optional<ledger::Day> day = ledger::ParseDate(request->after_day());
    if (!day) {
      return Refuse<Response>(absl::InvalidArgumentError(
          absl::StrCat("after_day: \"", request->after_day(), "\" is not a date (YYYY-MM-DD)")));
    }
    resume.after_day = *day;
  }
  if (!request->after_time().empty()) {
    const std::optional<int> minute = ledger::ParseTimeOfDay(request->after_time());
    if (!minute || request->after_day().empty()) {
      return Refuse<Response>(absl::InvalidArgumentError(
          absl::StrCat("after_time: \"", request->after_time(), "\" is not ",
                       minute ? "given with after_day" : "a time of day (HH:MM)")));
    }
    resume.after_minute = *minute;
  }
  const ledger::Position after = request->after_position();
  if (absl::Status s = CheckStart(ledger_, after); !s.ok()) return Refuse<Response>(s);
  FeedSettings settings;
  settings.max_lag_events = static_cast<std::uint64_t>(limits.max_feed_lag_events);
  auto feed = std::make_shared<ProjectionFeed>(
      *hub_, ledger_, after, settings,
      projections::ProjectionChangeFold(std::move(schools), std::move(windows),
                                        !request->omit_escalation(), resume),
      redact);
  feed->Begin();
  return feed.get();
}

}  // namespace attendance::services
