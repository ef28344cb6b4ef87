#pragma once

// Key layouts of the ledger's column families. Integers are big-endian so
// that RocksDB's bytewise order is numeric order; ids are length-prefixed so
// that no id is a prefix of another's key.
//
//   events:      position(8) -> hash(32) || envelope
//   marks:       school | day(4) | session(1) | pupil -> position(8) || code
//   requests:    school | request_id -> fingerprint(32) || method(1) || response
//   checkpoints: name -> position(8) || state
//   read_models: name | 0x00 | key -> value (read_model_store.cc)
//   pupil_keys:  school | pupil -> AES-256 key(32) (personal_keys.h, ADR 0003)
//
// Marks are keyed register-first: a register's marks are neighbours, so a
// batch of one session's marks inserts as one sorted run, and a whole
// register (school, date, session) is one range scan. A `streams` family
// (school | pupil | version -> position) was written by earlier versions and
// never read; Open drops it (kRetiredColumnFamilies).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ledger/types.h"

namespace attendance::ledger::keys {

void PutFixed64(std::string& out, std::uint64_t v);
std::uint64_t GetFixed64(std::string_view in);
void PutFixed32(std::string& out, std::uint32_t v);

inline constexpr const char* kRetiredColumnFamilies[] = {"streams"};

std::string Event(Position position);
std::string Mark(std::string_view school, std::string_view pupil, Day day, int session);
std::string Request(std::string_view school, std::string_view request_id);
std::string PupilKey(std::string_view school, std::string_view pupil);

// Keys taken apart, for messages about a stored entry; nullopt if malformed.
struct MarkKey {
  std::string school;
  Day day = 0;
  int session = 0;
  std::string pupil;
};
std::optional<MarkKey> DecodeMark(std::string_view key);
struct RequestKey {
  std::string school;
  std::string request_id;
};
std::optional<RequestKey> DecodeRequest(std::string_view key);

}  // namespace attendance::ledger::keys
