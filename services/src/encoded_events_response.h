#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <grpcpp/grpcpp.h>

#include "attendance/v1/events.pb.h"
#include "attendance/v1/feeds_service.pb.h"

namespace attendance::services {

// A SubscribeEventsResponse as SubscribeEvents builds it: the message's own
// fields, and its events already encoded as the message's field 2, written
// as bytes (the method is raw on the server, clients see the message).
// An event goes in as the bytes the ledger stored plus its hash and
// previous hash: a copy, not a decode of the stored event and an encode
// again (which was half of a catch-up's time when every event is sent).
// Protobuf parses fields in any order and concatenated encodings as one
// message, so the client gets what the typed message would have sent.
class EncodedEventsResponse {
 public:
  std::uint64_t position() const { return fields_.position(); }
  void set_position(std::uint64_t position) { fields_.set_position(position); }
  void set_caught_up(bool caught_up) { fields_.set_caught_up(caught_up); }
  void set_fell_behind(bool fell_behind) { fields_.set_fell_behind(fell_behind); }
  void set_head(std::uint64_t head) { fields_.set_head(head); }

  // Adds the event whose stored bytes are `stored` (EventChunk::StoredBytes)
  // with its `hash` and `prev_hash`; returns the bytes added.
  std::size_t AddStoredEvent(std::string_view stored, std::string_view hash,
                             std::string_view prev_hash);
  // Adds `event` encoded (an event changed on reading or redacted, never
  // one shared with another feed: encoding caches sizes in the message).
  std::size_t AddEvent(const v1::EventEnvelope& event);

  // The message's bytes; the events are handed over, not copied.
  grpc::ByteBuffer TakeBytes();

 private:
  v1::SubscribeEventsResponse fields_;  // without events
  std::string events_;                  // field 2, once per event
};

}  // namespace attendance::services
