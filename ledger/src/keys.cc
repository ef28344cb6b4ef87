#include "keys.h"

namespace attendance::ledger::keys {
namespace {

void PutId(std::string& out, std::string_view id) {
  // Ids are validated to at most 64 bytes before they reach a key.
  out.push_back(static_cast<char>(id.size()));
  out.append(id);
}

// Takes one length-prefixed id off the front of `in`.
std::optional<std::string> TakeId(std::string_view& in) {
  if (in.empty()) return std::nullopt;
  const auto size = static_cast<unsigned char>(in[0]);
  if (in.size() < 1u + size) return std::nullopt;
  std::string id(in.substr(1, size));
  in.remove_prefix(1u + size);
  return id;
}

constexpr std::int64_t kDayOffset = std::int64_t{1} << 30;

}  // namespace

void PutFixed64(std::string& out, std::uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

std::uint64_t GetFixed64(std::string_view in) {
  std::uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(in[i]);
  return v;
}

void PutFixed32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
}

std::string Event(Position position) {
  std::string key;
  PutFixed64(key, position);
  return key;
}

std::string PupilKey(std::string_view school, std::string_view pupil) {
  std::string key;
  PutId(key, school);
  PutId(key, pupil);
  return key;
}

std::string Mark(std::string_view school, std::string_view pupil, Day day, int session) {
  std::string key;
  key.reserve(1 + school.size() + 5 + 1 + pupil.size());
  PutId(key, school);
  // Offset so that dates before 1970 still sort correctly as unsigned.
  PutFixed32(key, static_cast<std::uint32_t>(day + kDayOffset));
  key.push_back(static_cast<char>(session));
  PutId(key, pupil);
  return key;
}

std::string Request(std::string_view school, std::string_view request_id) {
  std::string key;
  PutId(key, school);
  key.append(request_id);
  return key;
}

std::optional<MarkKey> DecodeMark(std::string_view key) {
  MarkKey out;
  auto school = TakeId(key);
  if (!school || key.size() < 5) return std::nullopt;
  out.school = std::move(*school);
  std::uint32_t biased = 0;
  for (int i = 0; i < 4; ++i) biased = (biased << 8) | static_cast<unsigned char>(key[i]);
  out.day = static_cast<Day>(std::int64_t{biased} - kDayOffset);
  out.session = static_cast<unsigned char>(key[4]);
  key.remove_prefix(5);
  auto pupil = TakeId(key);
  if (!pupil || !key.empty()) return std::nullopt;
  out.pupil = std::move(*pupil);
  return out;
}

std::optional<RequestKey> DecodeRequest(std::string_view key) {
  auto school = TakeId(key);
  if (!school || key.empty()) return std::nullopt;
  return RequestKey{std::move(*school), std::string(key)};
}

}  // namespace attendance::ledger::keys
