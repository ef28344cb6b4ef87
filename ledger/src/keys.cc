#include "keys.h"

namespace attendance::ledger::keys {
namespace {

void PutId(std::string& out, std::string_view id) {
  // Ids are validated to at most 64 bytes before they reach a key.
  out.push_back(static_cast<char>(id.size()));
  out.append(id);
}

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

std::string StreamPrefix(std::string_view school, std::string_view pupil) {
  std::string key;
  key.reserve(2 + school.size() + pupil.size() + 8);
  PutId(key, school);
  PutId(key, pupil);
  return key;
}

std::string Stream(std::string_view school, std::string_view pupil, StreamVersion version) {
  std::string key = StreamPrefix(school, pupil);
  PutFixed64(key, version);
  return key;
}

std::string Mark(std::string_view school, std::string_view pupil, Day day, int session) {
  std::string key;
  key.reserve(1 + school.size() + 5 + 1 + pupil.size());
  PutId(key, school);
  // Offset so that dates before 1970 still sort correctly as unsigned.
  PutFixed32(key, static_cast<std::uint32_t>(day + (1 << 30)));
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

}  // namespace attendance::ledger::keys
