#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "attendance/v1/events.pb.h"
#include "ledger/types.h"

namespace attendance::projections {

// The audit trail's indexes over a school's marks and amendments (pure:
// keys and values only; services::AmendmentIndexReadModel keeps them in the
// ledger's read-model key space). Ids are length-prefixed, integers
// big-endian, so each index is in the order its queries read:
//
//   'T' school | at_us(8) | position(8)                  -> an amendment, by amendment time
//   'D' school | day(4) | session(1) | position(8)       -> an amendment, by session date
//   'R' school | day(4) | session(1) | pupil | position(8) -> a mark or amendment, by register
//   'P' school | pupil                                    -> the pupil's current year group, class
//   'L' school | pupil | day(4) | position(8)            -> a pupil event that is not a mark
//                                                           (enrolment, update, letter, leaving)
//   'E' school | pupil | position(8)                      -> the 'R' / 'T' / 'D' keys of a mark
//                                                           or amendment with personal fields
//                                                           (each 2-byte length || key), which
//                                                           an erasure rewrites (ADR 0003)
//
// 'T' / 'D' / 'R' values are the stored event without its hashes (decode
// with DecodeMarkHistoryEntry or DecodeIndexedEvent); 'P' values a v1::Pupil
// with only pupil_id, year_group and class_name.
enum class AuditIndex : char {
  kAmendedAt = 'T',
  kSessionDate = 'D',
  kRegister = 'R',
  kPupil = 'P',
  kPupilEvent = 'L',
  kErasable = 'E',
};

// The prefix of one school's entries in `index`.
std::string AuditSchoolPrefix(AuditIndex index, std::string_view school);
// 'T' keys from `at_us` on (a scan's start).
std::string AmendedAtKey(std::string_view school, std::int64_t at_us);
// 'D' keys of one day (and session, if given) on.
std::string SessionDateKey(std::string_view school, ledger::Day day,
                           v1::Session session = v1::SESSION_UNSPECIFIED);
// The prefix of one register's 'R' entries.
std::string RegisterKey(std::string_view school, ledger::Day day, v1::Session session);
std::string PupilKey(std::string_view school, std::string_view pupil);
// The prefix of one pupil's 'L' entries, and their keys from `day` on.
std::string PupilEventPrefix(std::string_view school, std::string_view pupil);
std::string PupilEventKey(std::string_view school, std::string_view pupil, ledger::Day day);
// The prefix of one pupil's 'E' entries, and the keys an 'E' value lists.
std::string ErasablePrefix(std::string_view school, std::string_view pupil);
std::vector<std::string> ErasableKeys(std::string_view value);

// The date a pupil event concerns: a mark's or amendment's session, an
// enrolment's first day on roll, an update's effective date, a letter's
// sending, the last day on roll, the day an action happened; else the day
// it was recorded (UTC).
std::optional<ledger::Day> EventDay(const v1::EventEnvelope& event);

// The entries an event adds (empty for events not indexed).
std::vector<std::pair<std::string, std::string>> AuditIndexPuts(const v1::EventEnvelope& event);

// DATA_LOSS if `value` is not a mark or amendment AuditIndexPuts wrote.
absl::StatusOr<v1::EventEnvelope> DecodeIndexedEvent(std::string_view value);

// The pupil id inside an 'R' key (after RegisterKey's prefix), for grouping.
std::string_view RegisterKeyPupil(std::string_view key, std::size_t prefix_size);

// Whether the code counts as an unauthorised (G U O N) or an authorised
// absence (../shared/domain.md §3), in any code set.
bool IsUnauthorisedAbsence(std::string_view code);
bool IsAuthorisedAbsence(std::string_view code);

}  // namespace attendance::projections
