#include "verify_indexes.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "attendance/v1/ledger_service.pb.h"
#include "keys.h"
#include "method.h"
#include "rocks_status.h"

namespace attendance::ledger {
namespace {

absl::string_view Absl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// A session's mark as the log has it: the last MarkRecorded / MarkAmended.
struct LogMark {
  std::string key;
  Position position = 0;
  std::string code;
};

// The events that carry one (school, request id).
struct LogRequest {
  Position first = 0;
  Position last = 0;
  std::uint64_t count = 0;
  bool has_record = false;
};

std::string DescribeMarkKey(std::string_view key) {
  auto mark = keys::DecodeMark(key);
  if (!mark) return absl::StrCat("undecodable key 0x", absl::BytesToHexString(Absl(key)));
  const char* session = mark->session == v1::AM ? "AM" : mark->session == v1::PM ? "PM" : "?";
  return absl::StrCat("school ", Quoted(mark->school), " ", FormatDate(mark->day), " ", session,
                      " pupil ", Quoted(mark->pupil));
}

std::string DescribeRequestKey(std::string_view key) {
  auto request = keys::DecodeRequest(key);
  if (!request) return absl::StrCat("undecodable key 0x", absl::BytesToHexString(Absl(key)));
  return absl::StrCat("school ", Quoted(request->school), " request id ",
                      Quoted(request->request_id));
}

std::string Range(Position first, Position last) {
  return first == last ? absl::StrCat("position ", first)
                       : absl::StrCat("positions ", first, "..", last);
}

absl::Status MarksError(std::string_view key, const std::string& what) {
  return absl::DataLossError(absl::StrCat("marks index: ", DescribeMarkKey(key), ": ", what));
}

absl::Status RequestsError(std::string_view key, const std::string& what) {
  return absl::DataLossError(absl::StrCat("requests index: ", DescribeRequestKey(key), ": ", what));
}

// The positions a command's stored response names: its one event, or, for a
// response with a last_position (DecideLeave and the marks it writes after
// its event), position..last_position.
template <typename Response>
std::optional<std::pair<Position, Position>> SinglePosition(std::string_view bytes) {
  Response r;
  if (!r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || r.position() == 0) {
    return std::nullopt;
  }
  Position last = r.position();
  if constexpr (requires { r.last_position(); }) {
    if (r.last_position() < r.position()) return std::nullopt;
    last = r.last_position();
  }
  return std::pair{r.position(), last};
}

// ImportHistory names a range, or no events at all when every mark was
// already there: (0, 0).
template <>
std::optional<std::pair<Position, Position>> SinglePosition<v1::ImportHistoryResponse>(
    std::string_view bytes) {
  v1::ImportHistoryResponse r;
  if (!r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
      r.last_position() < r.first_position() ||
      (r.first_position() == 0) != (r.marks_written() == 0) ||
      (r.first_position() != 0 &&
       r.marks_written() + r.amendments_written() != r.last_position() - r.first_position() + 1)) {
    return std::nullopt;
  }
  return std::pair{r.first_position(), r.last_position()};
}

// The positions a stored response names, by the method byte the request log
// stores (enum Method: 'M' and ledger/command_table.h's tags).
std::optional<std::pair<Position, Position>> ResponsePositions(char method,
                                                               std::string_view bytes) {
  switch (method) {
    case static_cast<char>(Method::kRecordMarks): {
      v1::RecordMarksResponse r;
      if (!r.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) ||
          r.first_position() == 0 || r.last_position() < r.first_position() ||
          r.recorded() != r.last_position() - r.first_position() + 1) {
        return std::nullopt;
      }
      return std::pair{r.first_position(), r.last_position()};
    }
#define ATTENDANCE_CASE(Name, Request, Response, tag, access) \
  case tag:                                                   \
    return SinglePosition<v1::Response>(bytes);
      ATTENDANCE_LEDGER_COMMANDS(ATTENDANCE_CASE)
#undef ATTENDANCE_CASE
    default:
      return std::nullopt;
  }
}

// Reads the log once, collecting each session's last mark and the
// positions of each request id.
absl::Status ReadLog(rocksdb::DB& db, const ColumnFamilies& cf, const rocksdb::ReadOptions& read,
                     std::vector<LogMark>& marks,
                     absl::flat_hash_map<std::string, LogRequest>& requests,
                     IndexVerification& report) {
  rocksdb::ReadOptions scan = read;
  scan.readahead_size = 2 << 20;
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(scan, cf.events));
  v1::EventEnvelope event;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    const std::string_view value = it->value().ToStringView();
    const Position position = key.size() == 8 ? keys::GetFixed64(key) : 0;
    if (position == 0 || value.size() < kHashSize ||
        !event.ParseFromArray(value.data() + kHashSize,
                              static_cast<int>(value.size() - kHashSize))) {
      return absl::DataLossError(absl::StrCat("events: position ", position, " (key 0x",
                                              absl::BytesToHexString(Absl(key)),
                                              ") does not decode"));
    }
    const v1::MarkRecorded* recorded = event.has_mark_recorded() ? &event.mark_recorded() : nullptr;
    const v1::MarkAmended* amended = event.has_mark_amended() ? &event.mark_amended() : nullptr;
    if (recorded || amended) {
      // The same key and value group.cc writes.
      const std::string& date = recorded ? recorded->date() : amended->date();
      const v1::Session session = recorded ? recorded->session() : amended->session();
      marks.push_back(
          {keys::Mark(event.school_id(), event.pupil_id(), ParseDate(date).value_or(0), session),
           position, recorded ? recorded->code() : amended->amended_code()});
    }
    if (!event.request_id().empty()) {
      LogRequest& request = requests[keys::Request(event.school_id(), event.request_id())];
      if (request.count == 0) request.first = position;
      request.last = position;
      ++request.count;
    }
    report.events = position;
  }
  return FromRocks(it->status(), "events: read");
}

absl::Status CompareMarks(rocksdb::DB& db, const ColumnFamilies& cf,
                          const rocksdb::ReadOptions& read, std::vector<LogMark>& log,
                          IndexVerification& report) {
  // Log order among equal keys is kept, so the last of a run is the
  // session's current mark.
  std::stable_sort(log.begin(), log.end(),
                   [](const LogMark& a, const LogMark& b) { return a.key < b.key; });
  std::size_t kept = 0;
  for (std::size_t i = 0; i < log.size(); ++i) {
    if (i + 1 < log.size() && log[i + 1].key == log[i].key) continue;
    if (kept != i) log[kept] = std::move(log[i]);
    ++kept;
  }
  log.resize(kept);

  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(read, cf.marks));
  it->SeekToFirst();
  std::size_t i = 0;
  for (;;) {
    if (!it->Valid()) {
      if (auto s = FromRocks(it->status(), "marks index: read"); !s.ok()) return s;
      if (i == log.size()) break;
    }
    const int order = !it->Valid()      ? 1
                      : i == log.size() ? -1
                                        : it->key().compare(rocksdb::Slice(log[i].key));
    if (order > 0) {
      return MarksError(log[i].key,
                        absl::StrCat("missing from the index; the log's mark is position ",
                                     log[i].position, " code ", Quoted(log[i].code)));
    }
    const std::string_view key = it->key().ToStringView();
    const std::string_view value = it->value().ToStringView();
    if (value.size() < 8) return MarksError(key, "the stored value is truncated");
    const Position stored = keys::GetFixed64(value);
    const std::string_view code = value.substr(8);
    if (order < 0) {
      return MarksError(key, absl::StrCat("the index has position ", stored, " code ", Quoted(code),
                                          ", but no event in the log marks it"));
    }
    if (stored != log[i].position || code != log[i].code) {
      return MarksError(key, absl::StrCat("the index has position ", stored, " code ", Quoted(code),
                                          ", the log has position ", log[i].position, " code ",
                                          Quoted(log[i].code)));
    }
    ++report.marks;
    ++i;
    it->Next();
  }
  return absl::OkStatus();
}

absl::Status CompareRequests(rocksdb::DB& db, const ColumnFamilies& cf,
                             const rocksdb::ReadOptions& read,
                             absl::flat_hash_map<std::string, LogRequest>& log,
                             IndexVerification& report) {
  std::unique_ptr<rocksdb::Iterator> it(db.NewIterator(read, cf.requests));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    const std::string_view key = it->key().ToStringView();
    const std::string_view value = it->value().ToStringView();
    if (!keys::DecodeRequest(key)) return RequestsError(key, "the key does not decode");
    if (value.size() < kHashSize + 1) return RequestsError(key, "the record is truncated");
    auto named = ResponsePositions(value[kHashSize], value.substr(kHashSize + 1));
    if (!named) return RequestsError(key, "the stored response does not decode");
    auto found = log.find(std::string(key));
    if (named->first == 0) {  // a request that wrote nothing (an import already there)
      if (found == log.end()) {
        ++report.requests;
        continue;
      }
      return RequestsError(key, absl::StrCat("the record names no events, but ",
                                             Range(found->second.first, found->second.last),
                                             " carry this request id"));
    }
    if (found == log.end()) {
      return RequestsError(key,
                           absl::StrCat("the record names ", Range(named->first, named->second),
                                        ", but no event carries this request id"));
    }
    LogRequest& events = found->second;
    if (events.first != named->first || events.last != named->second ||
        events.count != events.last - events.first + 1) {
      return RequestsError(
          key, absl::StrCat("the record names ", Range(named->first, named->second),
                            ", the events carrying this request id are at ",
                            Range(events.first, events.last), " (", events.count, " events)"));
    }
    events.has_record = true;
    ++report.requests;
  }
  if (auto s = FromRocks(it->status(), "requests index: read"); !s.ok()) return s;
  const std::pair<const std::string, LogRequest>* first_missing = nullptr;
  for (const auto& entry : log) {
    if (!entry.second.has_record &&
        (first_missing == nullptr || entry.second.first < first_missing->second.first)) {
      first_missing = &entry;
    }
  }
  if (first_missing != nullptr) {
    return RequestsError(
        first_missing->first,
        absl::StrCat("no record, but ",
                     Range(first_missing->second.first, first_missing->second.last),
                     " carry this request id (a retry would write them again)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<IndexVerification> VerifyLedgerIndexes(rocksdb::DB& db, const ColumnFamilies& cf) {
  // One group's events and index entries are one WriteBatch, so a snapshot
  // holds whole groups: the indexes must agree with its log exactly.
  struct SnapshotGuard {
    rocksdb::DB& db;
    const rocksdb::Snapshot* snapshot;
    ~SnapshotGuard() { db.ReleaseSnapshot(snapshot); }
  } guard{db, db.GetSnapshot()};
  rocksdb::ReadOptions read;
  read.snapshot = guard.snapshot;
  read.verify_checksums = true;

  IndexVerification report;
  std::vector<LogMark> marks;
  absl::flat_hash_map<std::string, LogRequest> requests;
  if (auto s = ReadLog(db, cf, read, marks, requests, report); !s.ok()) return s;
  if (auto s = CompareMarks(db, cf, read, marks, report); !s.ok()) return s;
  if (auto s = CompareRequests(db, cf, read, requests, report); !s.ok()) return s;

  // Every block of every table file, the checkpoints' and the default
  // family's included, against its checksum.
  if (auto s = FromRocks(db.VerifyChecksum(read), "table file checksums"); !s.ok()) return s;
  std::vector<rocksdb::LiveFileMetaData> files;
  db.GetLiveFilesMetaData(&files);
  report.files = files.size();
  return report;
}

}  // namespace attendance::ledger
