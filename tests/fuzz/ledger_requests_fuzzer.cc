// libFuzzer target: bytes -> one Ledger request -> a real ledger (RocksDB in
// a temp dir, opened once per process, sync off) holding the school of
// SetUpSchool, so that inputs reach the deep checks (codes on dates,
// closures, roll intervals, amendments, idempotency).
//
// Findings: a crash or sanitizer report; a rejected request that moved
// LastPosition; an accepted one that did not move it by its events (or a
// replay that did); a rejection with a code a client cannot act on
// (INTERNAL, UNKNOWN, DATA_LOSS, UNAVAILABLE...) or without a message; a
// replay answered differently from the original; a hash chain that stops
// verifying. Status messages that are not valid UTF-8: see CheckMessageUtf8.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "fuzz_support.h"
#include "proto_mutator.h"
#include "request_kinds.h"

namespace attendance::fuzz {
namespace {

using ledger::Position;

FuzzLedger* shared = nullptr;

// Outcomes by status code (OK = accepted, replays apart), printed at exit
// to show how deep the inputs got.
std::uint64_t outcomes[18] = {};
std::uint64_t replays = 0;

void CloseShared() {
  std::fprintf(stderr, "fuzz: ledger at position %llu; %llu replays;",
               static_cast<unsigned long long>(shared->ledger->LastPosition()),
               static_cast<unsigned long long>(replays));
  for (int code = 0; code < 18; ++code) {
    if (outcomes[code] == 0) continue;
    std::fprintf(stderr, " %s %llu",
                 absl::StatusCodeToString(static_cast<absl::StatusCode>(code)).c_str(),
                 static_cast<unsigned long long>(outcomes[code]));
  }
  std::fprintf(stderr, "\n");
  // Closed before its files go, so that no flush or compaction is still
  // writing them while the process ends.
  shared->ledger.reset();
  std::error_code ignored;
  std::filesystem::remove_all(shared->dir.path(), ignored);
}

void Count(const absl::Status& status, bool replayed) {
  if (replayed) {
    ++replays;
  } else {
    ++outcomes[static_cast<int>(status.code()) % 18];
  }
}

ledger::Ledger& SharedLedger() {
  if (shared == nullptr) {
    shared = new FuzzLedger();
    std::atexit(CloseShared);  // reports the outcomes and removes the ledger's files
  }
  return *shared->ledger;
}

const ledger::Principal& Actor(int index) {
  static const ledger::Principal kActors[kNumActors] = {
      {"Mr O. Officer", "attendance_officer"},
      {"Ms T. Teacher", "teacher"},
      {"", "teacher"},
      {"Mx C. Caretaker", "caretaker"},
  };
  return kActors[index % kNumActors];
}

// Responses of accepted requests by (kind, school, request id), to check
// that a replay answers exactly what the original did.
absl::flat_hash_map<std::string, std::string>& Answered() {
  static auto* answered = new absl::flat_hash_map<std::string, std::string>();
  return *answered;
}

void CheckRejected(const absl::Status& status, Position before, Position after,
                   absl::string_view what) {
  Count(status, false);
  CheckMessageUtf8(status, what);
  if (after != before) {
    Fail(absl::StrCat(what, ": rejected (", status.ToString(), ") but LastPosition moved from ",
                      before, " to ", after));
  }
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kAborted:
    case absl::StatusCode::kUnauthenticated:
    case absl::StatusCode::kPermissionDenied:
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kOutOfRange:
      break;
    default:
      Fail(absl::StrCat(what, ": rejected with a code no client can act on: ", status.ToString()));
  }
  if (status.message().empty()) Fail(absl::StrCat(what, ": rejected without a message"));
}

// `events`: how many events the request writes when it is not a replay.
template <typename Response>
void CheckAccepted(Response response, bool replayed, std::uint64_t events, Position before,
                   Position after, absl::string_view what, const std::string& key) {
  Count(absl::OkStatus(), replayed);
  if (replayed) {
    if (after != before) {
      Fail(absl::StrCat(what, ": replay moved LastPosition from ", before, " to ", after));
    }
  } else if (after != before + events) {
    Fail(absl::StrCat(what, ": accepted ", events, " events but LastPosition moved from ", before,
                      " to ", after));
  }
  if (key.empty()) return;
  response.set_replayed(false);
  std::string bytes = response.SerializeAsString();
  auto [it, inserted] = Answered().try_emplace(key, bytes);
  if (!inserted && !replayed) {
    Fail(absl::StrCat(what, ": request id ", key, " accepted a second time, not as a replay"));
  }
  if (!inserted && it->second != bytes) {
    Fail(absl::StrCat(what, ": replay of request id ", key, " answered ",
                      response.ShortDebugString(), ", not what the original did"));
  }
  if (inserted && replayed && !absl::StartsWith(key.substr(key.find('|') + 1), "s1|setup-")) {
    // Only the set-up's requests are accepted without being recorded here.
    Fail(absl::StrCat(what, ": replayed request id ", key, " that was never accepted"));
  }
}

std::string Key(absl::string_view kind, const std::string& school, const std::string& request_id) {
  if (request_id.empty()) return "";
  return absl::StrCat(kind, "|", school, "|", request_id);
}

template <typename Request>
bool Parse(const std::uint8_t* data, std::size_t size, Request* request) {
  return request->ParseFromArray(data, static_cast<int>(size));
}

// Runs a command returning WriteResponse (or AmendMarkResponse): one event.
template <typename Request, typename Method>
void RunSingleEvent(ledger::Ledger& ledger, const ledger::Principal& actor,
                    const std::uint8_t* data, std::size_t size, absl::string_view what,
                    Method method) {
  Request request;
  if (!Parse(data, size, &request)) return;
  const Position before = ledger.LastPosition();
  auto result = (ledger.*method)(actor, request);
  const Position after = ledger.LastPosition();
  if (!result.ok()) return CheckRejected(result.status(), before, after, what);
  if (!result->replayed() && result->position() != after) {
    Fail(absl::StrCat(what, ": answered position ", result->position(), " but LastPosition is ",
                      after));
  }
  CheckAccepted(*result, result->replayed(), 1, before, after, what,
                Key(what, request.school_id(), request.request_id()));
}

// Any other command of the table: one event.
template <typename Response, typename Request>
void RunCommand(ledger::Ledger& ledger, const ledger::Principal& actor, const std::uint8_t* data,
                std::size_t size, absl::string_view what,
                absl::StatusOr<Response> (ledger::Ledger::*method)(const ledger::Principal&,
                                                                   const Request&)) {
  RunSingleEvent<Request>(ledger, actor, data, size, what, method);
}

// ImportHistory: an event per mark and amendment it did not skip.
void RunCommand(ledger::Ledger& ledger, const ledger::Principal& actor, const std::uint8_t* data,
                std::size_t size, absl::string_view what,
                absl::StatusOr<v1::ImportHistoryResponse> (ledger::Ledger::*method)(
                    const ledger::Principal&, const v1::ImportHistoryRequest&)) {
  v1::ImportHistoryRequest request;
  if (!Parse(data, size, &request)) return;
  const Position before = ledger.LastPosition();
  auto result = (ledger.*method)(actor, request);
  const Position after = ledger.LastPosition();
  if (!result.ok()) return CheckRejected(result.status(), before, after, what);
  const std::uint64_t events = result->marks_written() + result->amendments_written();
  if (result->marks_written() + result->skipped() !=
          static_cast<std::uint32_t>(request.marks_size()) ||
      (events == 0) != (result->first_position() == 0) ||
      (events != 0 && result->last_position() - result->first_position() + 1 != events)) {
    Fail(absl::StrCat(what, ": ", request.marks_size(), " marks answered ",
                      result->ShortDebugString()));
  }
  if (!result->replayed() && events != 0 && result->last_position() != after) {
    Fail(absl::StrCat(what, ": answered ", result->ShortDebugString(), " but LastPosition is ",
                      after));
  }
  CheckAccepted(*result, result->replayed(), result->replayed() ? 0 : events, before, after, what,
                Key(what, request.school_id(), request.request_id()));
}

void RunMarks(ledger::Ledger& ledger, const ledger::Principal& actor, const std::uint8_t* data,
              std::size_t size, bool async) {
  v1::RecordMarksRequest request;
  if (!Parse(data, size, &request)) return;
  const absl::string_view what = async ? "RecordMarksAsync" : "RecordMarks";
  const Position before = ledger.LastPosition();
  absl::StatusOr<v1::RecordMarksResponse> result;
  if (async) {
    std::promise<absl::StatusOr<v1::RecordMarksResponse>> done;
    auto answer = done.get_future();
    ledger.RecordMarksAsync(actor, request, [&done](absl::StatusOr<v1::RecordMarksResponse> r) {
      done.set_value(std::move(r));
    });
    result = answer.get();
  } else {
    result = ledger.RecordMarks(actor, request);
  }
  const Position after = ledger.LastPosition();
  if (!result.ok()) return CheckRejected(result.status(), before, after, what);
  const auto marks = static_cast<std::uint64_t>(request.marks_size());
  if (result->recorded() != marks ||
      result->last_position() - result->first_position() + 1 != marks) {
    Fail(absl::StrCat(what, ": ", marks, " marks answered ", result->ShortDebugString()));
  }
  if (!result->replayed() && result->last_position() != after) {
    Fail(absl::StrCat(what, ": answered ", result->ShortDebugString(), " but LastPosition is ",
                      after));
  }
  // Both paths share one idempotency record, so they share one key.
  CheckAccepted(*result, result->replayed(), marks, before, after, what,
                Key("RecordMarks", request.school_id(), request.request_id()));
}

// Every so many inputs, the chain written since the last check must verify.
void VerifyNewEvents(ledger::Ledger& ledger) {
  static std::uint64_t inputs = 0;
  static Position verified = 0;
  if (++inputs % 512 != 0) return;
  const Position last = ledger.LastPosition();
  if (last == verified) return;
  if (absl::Status s = ledger.VerifyChain(verified + 1, last); !s.ok()) {
    Fail(absl::StrCat("VerifyChain(", verified + 1, ", ", last, "): ", s.ToString()));
  }
  verified = last;
}

std::unique_ptr<google::protobuf::Message> RequestOfKind(std::uint8_t header) {
  switch (static_cast<RequestKind>((header & 0x0f) % kNumRequestKinds)) {
    case kRecordMarks:
    case kRecordMarksAsync:
      return std::make_unique<v1::RecordMarksRequest>();
#define ATTENDANCE_REQUEST(Name, Request, Response, tag, access) \
  case k##Name:                                                  \
    return std::make_unique<v1::Request>();
      ATTENDANCE_LEDGER_COMMANDS(ATTENDANCE_REQUEST)
#undef ATTENDANCE_REQUEST
    case kNumRequestKinds:
      break;
  }
  return nullptr;
}

}  // namespace
}  // namespace attendance::fuzz

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size,
                                               std::size_t max_size, unsigned int seed) {
  return attendance::fuzz::MutateRequest(data, size, max_size, seed,
                                         attendance::fuzz::RequestOfKind);
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  attendance::fuzz::QuietLogs();
  attendance::fuzz::SharedLedger();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace attendance;
  using namespace attendance::fuzz;
  if (size == 0) return 0;
  ledger::Ledger& ledger = SharedLedger();
  const ledger::Principal& actor = Actor(data[0] >> 4);
  const auto kind = static_cast<RequestKind>((data[0] & 0x0f) % kNumRequestKinds);
  ++data;
  --size;
  using L = ledger::Ledger;
  switch (kind) {
    case kRecordMarks:
    case kRecordMarksAsync:
      RunMarks(ledger, actor, data, size, kind == kRecordMarksAsync);
      break;
#define ATTENDANCE_RUN(Name, Request, Response, tag, access) \
  case k##Name:                                              \
    RunCommand(ledger, actor, data, size, #Name, &L::Name);  \
    break;
      ATTENDANCE_LEDGER_COMMANDS(ATTENDANCE_RUN)
#undef ATTENDANCE_RUN
    case kNumRequestKinds:
      break;
  }
  VerifyNewEvents(ledger);
  return 0;
}
