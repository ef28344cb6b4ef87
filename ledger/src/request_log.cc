// Request ids (the "requests" column family): a retry of a request that
// was already answered gets the stored answer, from RocksDB or from a group
// still in flight, and never runs twice.
#include "absl/strings/str_cat.h"
#include "keys.h"
#include "rocks_ledger.h"
#include "rocks_status.h"
#include "validation.h"

namespace attendance::ledger {
namespace {

void MarkReplayed(google::protobuf::Message& response) {
  const auto* field = response.GetDescriptor()->FindFieldByName("replayed");
  if (field != nullptr) response.GetReflection()->SetBool(&response, field, true);
}

}  // namespace

std::string Fingerprint(Method method, const Principal& actor,
                        const google::protobuf::Message& request) {
  std::string bytes(1, static_cast<char>(method));
  bytes.append(actor.name);
  bytes.push_back('\0');
  {
    google::protobuf::io::StringOutputStream out(&bytes);
    google::protobuf::io::CodedOutputStream coded(&out);
    coded.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&coded);
  }
  return ChainHash("", bytes);
}

absl::Status CheckSubmission(const Principal& actor, const std::string& school_id,
                             const std::string& request_id) {
  if (auto s = CheckActor(actor); !s.ok()) return s;
  if (request_id.empty()) return absl::OkStatus();
  // Limits count characters, and values are quoted by Quoted, so that a
  // message never splits a multi-byte character (issue 10, finding 5).
  if (const std::size_t chars = Utf8Length(request_id); chars > 128) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id: ", chars, " characters is longer than 128"));
  }
  if (!IsValidUtf8(request_id)) {
    return absl::InvalidArgumentError(
        absl::StrCat("request_id: ", Quoted(request_id), " is not valid UTF-8"));
  }
  if (school_id.empty() || Utf8Length(school_id) > kMaxIdLength) {
    return absl::InvalidArgumentError(absl::StrCat("school_id: ", Quoted(school_id),
                                                   " must be 1 to ", kMaxIdLength, " characters"));
  }
  return absl::OkStatus();
}

void AnswerFromRecord(Job& job, std::string_view record) {
  if (record.size() < kHashSize + 1 || record.compare(0, kHashSize, job.fingerprint) != 0 ||
      record[kHashSize] != static_cast<char>(job.method)) {
    job.status = absl::AlreadyExistsError(absl::StrCat(
        "request_id: \"", job.request_id, "\" was already used for a different request"));
    return;
  }
  if (!job.response->ParseFromArray(record.data() + kHashSize + 1,
                                    static_cast<int>(record.size() - kHashSize - 1))) {
    job.status = absl::DataLossError("stored response for request id is undecodable");
    return;
  }
  MarkReplayed(*job.response);
}

// Looks the request id up among groups in flight, then in RocksDB; true if
// the job was answered.
bool RocksLedger::AnswerFromRequestLog(Job& job, const std::string& key) {
  if (auto it = inflight_requests_.find(key); it != inflight_requests_.end()) {
    AnswerFromRecord(job, it->second.value);
    return true;
  }
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf_.requests, key, &value);
  if (s.IsNotFound()) return false;
  if (!s.ok()) {
    job.status = FromRocks(s, "read request id");
    return true;
  }
  AnswerFromRecord(job, value);
  return true;
}

}  // namespace attendance::ledger
