// libFuzzer target: bytes -> AttendanceState::Decode, the checkpoint a
// restart resumes from. Decode must refuse (DATA_LOSS) what is not an
// encoding, and what it accepts must be a state the queries can run on and
// that encodes and decodes to itself.
#include <cstdint>
#include <string_view>

#include "fuzz_support.h"
#include "projections/attendance_state.h"
#include "query_checks.h"

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  attendance::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace attendance;
  using namespace attendance::fuzz;
  absl::StatusOr<projections::AttendanceState> state = projections::AttendanceState::Decode(
      std::string_view(reinterpret_cast<const char*>(data), size));
  if (!state.ok()) {
    if (state.status().code() != absl::StatusCode::kDataLoss) {
      Fail("Decode refused with " + state.status().ToString() + ", not DATA_LOSS");
    }
    CheckMessageUtf8(state.status(), "Decode");
    return 0;
  }
  const std::string encoded = state->Encode();
  absl::StatusOr<projections::AttendanceState> again =
      projections::AttendanceState::Decode(encoded);
  if (!again.ok()) Fail("Decode(Encode(Decode(bytes))): " + again.status().ToString());
  if (again->Encode() != encoded) Fail("Encode(Decode(Encode(s))) != Encode(s)");
  QueryEverything(*state, 2, 4, ledger::DayFromCivil(2025, 9, 12));
  return 0;
}
