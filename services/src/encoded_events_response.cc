#include "encoded_events_response.h"

#include <memory>
#include <utility>

#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/wire_format_lite.h"

namespace attendance::services {
namespace {

using google::protobuf::internal::WireFormatLite;
using google::protobuf::io::CodedOutputStream;

constexpr std::uint32_t BytesTag(int field) {
  return WireFormatLite::MakeTag(field, WireFormatLite::WIRETYPE_LENGTH_DELIMITED);
}

constexpr std::uint32_t kEventTag = BytesTag(v1::SubscribeEventsResponse::kEventsFieldNumber);
constexpr std::uint32_t kHashTag = BytesTag(v1::EventEnvelope::kHashFieldNumber);
constexpr std::uint32_t kPrevHashTag = BytesTag(v1::EventEnvelope::kPrevHashFieldNumber);

void AppendVarint(std::string& out, std::uint32_t value) {
  std::uint8_t buffer[5];
  const std::uint8_t* end = CodedOutputStream::WriteVarint32ToArray(value, buffer);
  out.append(reinterpret_cast<const char*>(buffer), end - buffer);
}

std::size_t FieldSize(std::uint32_t tag, std::size_t size) {
  return CodedOutputStream::VarintSize32(tag) +
         CodedOutputStream::VarintSize32(static_cast<std::uint32_t>(size)) + size;
}

// proto3 leaves an empty bytes field out (the first event's prev_hash).
void AppendBytesField(std::string& out, std::uint32_t tag, std::string_view bytes) {
  if (bytes.empty()) return;
  AppendVarint(out, tag);
  AppendVarint(out, static_cast<std::uint32_t>(bytes.size()));
  out.append(bytes);
}

}  // namespace

std::size_t EncodedEventsResponse::AddStoredEvent(std::string_view stored, std::string_view hash,
                                                  std::string_view prev_hash) {
  const std::size_t before = events_.size();
  std::size_t size = stored.size();
  if (!hash.empty()) size += FieldSize(kHashTag, hash.size());
  if (!prev_hash.empty()) size += FieldSize(kPrevHashTag, prev_hash.size());
  AppendVarint(events_, kEventTag);
  AppendVarint(events_, static_cast<std::uint32_t>(size));
  events_.append(stored);
  AppendBytesField(events_, kHashTag, hash);
  AppendBytesField(events_, kPrevHashTag, prev_hash);
  return events_.size() - before;
}

std::size_t EncodedEventsResponse::AddEvent(const v1::EventEnvelope& event) {
  const std::size_t before = events_.size();
  const std::size_t size = event.ByteSizeLong();
  AppendVarint(events_, kEventTag);
  AppendVarint(events_, static_cast<std::uint32_t>(size));
  events_.resize(events_.size() + size);
  event.SerializeWithCachedSizesToArray(
      reinterpret_cast<std::uint8_t*>(events_.data() + events_.size() - size));
  return events_.size() - before;
}

grpc::ByteBuffer EncodedEventsResponse::TakeBytes() {
  grpc::Slice slices[2] = {grpc::Slice(fields_.SerializeAsString())};
  std::size_t count = 1;
  if (!events_.empty()) {
    // gRPC frees the events when it has sent them.
    auto owned = std::make_unique<std::string>(std::move(events_));
    char* data = owned->data();
    const std::size_t size = owned->size();
    slices[count++] = grpc::Slice(
        data, size, [](void* p) { delete static_cast<std::string*>(p); }, owned.release());
  }
  events_.clear();
  return grpc::ByteBuffer(slices, count);
}

}  // namespace attendance::services
