// libFuzzer target: bytes -> size-delimited EventEnvelopes (as
// google::protobuf::util::SerializeDelimitedToOstream writes them) -> the
// attendance fold -> the checkpoint codec and the queries.
//
// Findings: a crash or sanitizer report; an encoding that does not decode,
// or decodes to a state that encodes differently or answers queries
// differently; a query answer that breaks CheckAnswer.
#include <cstdint>
#include <string>

#include "absl/strings/str_cat.h"
#include "fuzz_support.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "google/protobuf/util/delimited_message_util.h"
#include "projections/attendance_state.h"
#include "query_checks.h"

namespace {
// Enough for a school, its calendar and a few pupils' registers.
constexpr int kMaxEvents = 64;
}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  attendance::fuzz::QuietLogs();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace attendance;
  using namespace attendance::fuzz;
  google::protobuf::io::ArrayInputStream input(data, static_cast<int>(size));
  projections::AttendanceState state;
  v1::EventEnvelope event;
  for (int i = 0; i < kMaxEvents; ++i) {
    bool clean_eof = false;
    if (!google::protobuf::util::ParseDelimitedFromZeroCopyStream(&event, &input, &clean_eof)) {
      break;
    }
    state.Apply(event);
  }

  const std::string encoded = state.Encode();
  absl::StatusOr<projections::AttendanceState> decoded =
      projections::AttendanceState::Decode(encoded);
  if (!decoded.ok()) Fail("Decode(Encode(state)): " + decoded.status().ToString());
  if (decoded->Encode() != encoded) Fail("Encode(Decode(Encode(state))) != Encode(state)");
  if (decoded->position() != state.position()) Fail("Decode lost the position");

  const ledger::Day as_of = ledger::DayFromCivil(2025, 9, 12);
  const std::string answers = QueryEverything(state, 2, 1, as_of);
  if (QueryEverything(*decoded, 2, 1, as_of) != answers) {
    Fail(
        "the decoded state answers queries differently from the state it was "
        "encoded from");
  }
  return 0;
}
