#pragma once

#include <cstdint>

// The first byte of a ledger_requests input: its low four bits (mod
// kNumRequestKinds) choose the request type the rest of the input is parsed
// as, its high four bits (mod kNumActors) the actor. make_corpus writes seeds
// the same way.
namespace attendance::fuzz {

enum RequestKind : std::uint8_t {
  kRecordMarks = 0,
  kRecordMarksAsync = 1,  // the StreamMarks path
  kAmendMark = 2,
  kRecordLetter = 3,
  kEnrolPupil = 4,
  kUpdatePupil = 5,
  kRemoveFromRoll = 6,
  kSetSchoolCalendar = 7,
  kSetSchoolSettings = 8,
  kSetEscalationPolicy = 9,
  kNumRequestKinds = 10,
};

// 0: attendance officer, 1: teacher, 2: no name (INVALID_ARGUMENT), 3: an odd
// role.
inline constexpr int kNumActors = 4;

inline std::uint8_t RequestHeader(RequestKind kind, int actor = 0) {
  return static_cast<std::uint8_t>((actor << 4) | kind);
}

// The first byte of a queries input (mod kNumQueryKinds).
enum QueryKind : std::uint8_t {
  kPupilAttendance = 0,
  kPupilList = 1,
  kCohorts = 2,
  kNumQueryKinds = 3,
};

}  // namespace attendance::fuzz
