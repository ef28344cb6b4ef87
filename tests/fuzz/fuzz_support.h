#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "attendance/v1/events.pb.h"
#include "google/protobuf/message.h"
#include "ledger/ledger.h"
#include "support/temp_dir.h"

// What the fuzz targets share: the fixed clock, the school every input runs
// against, and the checks whose failure is a finding. A finding abort()s, so
// libFuzzer saves the input and exits non-zero (and the CTest test fails).
namespace attendance::fuzz {

// 2025-10-09 08:53 UTC: a Thursday in Autumn 1 of Calendar2025.
inline constexpr std::int64_t kNowUs = 1'760'000'000'000'000;
// kNowUs as a UK day, the `today` of the query targets.
ledger::Day Today();

// Silences the ledger's and projections' info logs (one line per commit).
void QuietLogs();

// Prints `what` and aborts: the input that got here is a finding.
[[noreturn]] void Fail(absl::string_view what);

bool IsValidUtf8(absl::string_view text);
// Every string field of `message`, recursively, is valid UTF-8 (proto3
// requires it: gRPC cannot send a reply that breaks this).
bool StringsAreUtf8(const google::protobuf::Message& message);

// A status message that is not valid UTF-8 fails the input when the
// environment has ATTENDANCE_FUZZ_UTF8=1; otherwise it is counted and the
// first few are printed, because the fix (issue 10, finding 5) is not in yet.
void CheckMessageUtf8(const absl::Status& status, absl::string_view where);
// The number of invalid messages seen (reported at exit when non-zero).
std::uint64_t InvalidUtf8Messages();

// The school every ledger input runs against, written through the ledger's
// own commands: school "s1" with settings and the 2025 calendar of
// tests/support/fixtures.cc, pupils p1..p3 (year 7, on roll from
// 2025-09-01) and p4 (year 8, left on 2025-09-30), a week of marks
// (2025-09-08..12) for p1..p3, one amendment, one letter, one update; and a
// second school "s2" with settings only. Returns the first error, if any.
absl::Status SetUpSchool(ledger::Ledger& ledger);

// A ledger in a fresh temp dir (sync off, clock fixed at kNowUs) with
// SetUpSchool applied. Aborts if that fails.
struct FuzzLedger {
  FuzzLedger();
  ~FuzzLedger();
  testing::TempDir dir;
  std::unique_ptr<ledger::Ledger> ledger;
};

// Every event of `ledger`, in log order.
std::vector<v1::EventEnvelope> AllEvents(const ledger::Ledger& ledger);

}  // namespace attendance::fuzz
