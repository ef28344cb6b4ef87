#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "attendance/v1/events.pb.h"
#include "ledger/types.h"

namespace attendance::projections {

// The history of one register session of one pupil: the first mark and
// every amendment after it, in log order (the start of the audit trail).
// Pure: keys and values only; the keyed store that holds them is the
// caller's (services::MarkHistoryReadModel keeps them in the ledger's
// read-model key space).
//
// Key:   school | pupil | day(4) | session(1) | position(8)
//        (ids length-prefixed, integers big-endian), so one session's
//        entries are neighbours in log order and a prefix scan of
//        MarkHistorySessionKey lists them.
// Value: the stored event (an EventEnvelope without its hashes): position,
//        code, actor, reason, when.
struct MarkHistoryEntry {
  ledger::Position position = 0;
  std::string code;           // the mark's code after this entry
  std::string original_code;  // empty for the first mark
  v1::Actor actor;
  std::string reason;  // empty for the first mark
  // When it was taken or amended: for imported history the source's time
  // (MarkRecorded.taken_at_us, MarkAmended.amended_at_us), which "as of"
  // goes by.
  std::int64_t recorded_at_us = 0;
  bool amendment = false;
  // Imported history: the source system, and when and by whom it was
  // imported (the envelope's recorded_at_us and actor).
  std::string imported_from;
  std::int64_t imported_at_us = 0;
  v1::Actor imported_by;
};

// The key prefix of one session's entries.
std::string MarkHistorySessionKey(std::string_view school, std::string_view pupil, ledger::Day day,
                                  v1::Session session);

// The prefix of all of one pupil's entries (an erasure rewrites them).
std::string MarkHistoryPupilPrefix(std::string_view school, std::string_view pupil);

// A stored event value (mark history or audit index) with its personal
// fields cleared and personal_erased set (ADR 0003); nullopt if `value` is
// not an event.
std::optional<std::string> ErasedEventValue(std::string_view value);

// The entry an event adds, as (key, value); nullopt for events that are not
// marks or amendments (or whose date does not parse).
std::optional<std::pair<std::string, std::string>> MarkHistoryPut(const v1::EventEnvelope& event);

// DATA_LOSS if `value` is not a value MarkHistoryPut wrote.
absl::StatusOr<MarkHistoryEntry> DecodeMarkHistoryEntry(std::string_view value);

}  // namespace attendance::projections
