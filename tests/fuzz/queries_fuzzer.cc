// libFuzzer target: bytes -> one Projections request -> the query functions
// of projections/attendance_queries.h over a small fixed state: the fold of
// SetUpSchool's events, written once through a real ledger.
//
// Findings: a crash or sanitizer report; a rejection other than
// INVALID_ARGUMENT / NOT_FOUND / RESOURCE_EXHAUSTED, or without a message;
// an answer that breaks CheckAnswer. Status messages that are not valid
// UTF-8: see CheckMessageUtf8.
#include <cstdint>

#include "fuzz_support.h"
#include "projections/attendance_queries.h"
#include "projections/attendance_state.h"
#include "proto_mutator.h"
#include "query_checks.h"
#include "request_kinds.h"

namespace {

const attendance::projections::AttendanceState& FixedState() {
  static const auto* state = [] {
    auto* folded = new attendance::projections::AttendanceState();
    attendance::fuzz::FuzzLedger ledger;  // removed again when folded
    for (const auto& event : attendance::fuzz::AllEvents(*ledger.ledger)) folded->Apply(event);
    return folded;
  }();
  return *state;
}

std::unique_ptr<google::protobuf::Message> QueryOfKind(std::uint8_t header) {
  using namespace attendance;
  switch (static_cast<fuzz::QueryKind>(header % fuzz::kNumQueryKinds)) {
    case fuzz::kPupilAttendance:
      return std::make_unique<v1::GetPupilAttendanceRequest>();
    case fuzz::kPupilList:
      return std::make_unique<v1::ListPupilAttendanceRequest>();
    case fuzz::kCohorts:
      return std::make_unique<v1::GetCohortAttendanceRequest>();
    case fuzz::kNumQueryKinds:
      break;
  }
  return nullptr;
}

}  // namespace

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned int seed) {
  return attendance::fuzz::MutateRequest(data, size, max_size, seed, QueryOfKind);
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  attendance::fuzz::QuietLogs();
  FixedState();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace attendance;
  using namespace attendance::fuzz;
  if (size == 0) return 0;
  const projections::AttendanceState& state = FixedState();
  const ledger::Day today = Today();
  const auto kind = static_cast<QueryKind>(data[0] % kNumQueryKinds);
  const auto* body = data + 1;
  const int length = static_cast<int>(size - 1);
  switch (kind) {
    case kPupilAttendance: {
      v1::GetPupilAttendanceRequest request;
      if (!request.ParseFromArray(body, length)) return 0;
      CheckQuery(projections::QueryPupilAttendance(state, request, today), "QueryPupilAttendance");
      break;
    }
    case kPupilList: {
      v1::ListPupilAttendanceRequest request;
      if (!request.ParseFromArray(body, length)) return 0;
      CheckQuery(projections::QueryPupilList(state, request, today), "QueryPupilList");
      break;
    }
    case kCohorts: {
      v1::GetCohortAttendanceRequest request;
      if (!request.ParseFromArray(body, length)) return 0;
      CheckQuery(projections::QueryCohorts(state, request, today), "QueryCohorts");
      break;
    }
    case kNumQueryKinds:
      break;
  }
  return 0;
}
