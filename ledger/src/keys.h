#pragma once

// Key layouts of the ledger's column families. Integers are big-endian so
// that RocksDB's bytewise order is numeric order; ids are length-prefixed so
// that no id is a prefix of another's key.
//
//   events:      position(8)                               -> hash(32) || envelope
//   streams:     school | pupil | version(8)                -> position(8)
//   marks:       school | day(4) | session(1) | pupil       -> position(8) || code
//
// Marks are keyed register-first: a register's marks are neighbours, so a
// batch of one session's marks inserts as one sorted run, and a whole
// register (school, date, session) is one range scan.
//   requests:    school | request_id                        -> fingerprint(32) || method(1) || response
//   checkpoints: name                                       -> position(8) || state
//   read_models: name | 0x00 | key                          -> value (read_model_store.cc)

#include <cstdint>
#include <string>
#include <string_view>

#include "ledger/types.h"

namespace attendance::ledger::keys {

void PutFixed64(std::string& out, std::uint64_t v);
std::uint64_t GetFixed64(std::string_view in);
void PutFixed32(std::string& out, std::uint32_t v);

std::string Event(Position position);
std::string Stream(std::string_view school, std::string_view pupil, StreamVersion version);
// Every key of one stream starts with this.
std::string StreamPrefix(std::string_view school, std::string_view pupil);
std::string Mark(std::string_view school, std::string_view pupil, Day day, int session);
std::string Request(std::string_view school, std::string_view request_id);

}  // namespace attendance::ledger::keys
