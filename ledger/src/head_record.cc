#include "head_record.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "group.h"  // ChainHash, kHashSize
#include "logger.h"

namespace attendance::ledger {
namespace {

constexpr char kMagic[] = "attendance ledger head v1";

// The check line guards against a torn or edited file being taken for a
// head record: the first 8 bytes of SHA-256 over the lines above it.
std::string CheckOf(absl::string_view body) {
  return absl::BytesToHexString(
      ChainHash("", std::string_view(body.data(), body.size())).substr(0, 8));
}

std::string Body(const LedgerHead& head) {
  return absl::StrCat(kMagic, "\nposition ", head.position, "\nhash ",
                      absl::BytesToHexString(head.hash), "\n");
}

bool IsHex(absl::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return s.size() % 2 == 0;
}

absl::Status ErrnoStatus(int err, absl::string_view what, const std::string& path) {
  std::string msg = absl::StrCat(what, " ", path, ": ", std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return absl::ResourceExhaustedError(msg);
  return absl::UnavailableError(msg);
}

absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus(errno, "write", path);
    }
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return absl::OkStatus();
}

std::string DirOf(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

std::string Short(absl::string_view hash) {
  return absl::BytesToHexString(hash.substr(0, std::min<std::size_t>(hash.size(), 8)));
}

// What an operator can do about a log that lost acknowledged events.
std::string OperatorAdvice(const std::string& data_dir) {
  return absl::StrCat(
      " Refusing to open, so that nothing is served from, or written over, a log that lost "
      "acknowledged events. To recover: restore the latest backup into an empty directory and "
      "start from it; or copy ",
      data_dir,
      " aside and inspect it read-only (e.g. `ldb --db=DIR --readonly --column_family=events "
      "scan`). Delete ",
      HeadRecordPath(data_dir), " only if you accept the loss.");
}

}  // namespace

std::string HeadRecordPath(const std::string& data_dir) { return data_dir + "/LEDGER-HEAD"; }

absl::StatusOr<std::optional<LedgerHead>> ReadHeadRecord(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return std::optional<LedgerHead>();
    return ErrnoStatus(errno, "open head record", path);
  }
  std::string text;
  char chunk[512];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof(chunk));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      return ErrnoStatus(err, "read head record", path);
    }
    if (n == 0 || text.size() > 4096) break;
    text.append(chunk, static_cast<std::size_t>(n));
  }
  ::close(fd);
  auto garbled = [&](absl::string_view why) {
    return absl::DataLossError(absl::StrCat(
        "head record ", path, " is unreadable (", why,
        "), so the recovered log cannot be checked against what was acknowledged. Inspect the "
        "log read-only; if it is complete, delete the file and start again"));
  };
  const auto check_at = text.rfind("check ");
  if (check_at == std::string::npos) return garbled("no check line");
  absl::string_view check(text);
  check.remove_prefix(check_at + 6);
  const absl::string_view body(text.data(), check_at);
  if (!check.empty() && check.back() == '\n') check.remove_suffix(1);
  if (check != CheckOf(body)) return garbled("check does not match");
  std::vector<absl::string_view> lines = absl::StrSplit(body, '\n', absl::SkipEmpty());
  if (lines.size() != 3 || lines[0] != kMagic) return garbled("unknown format");
  LedgerHead head;
  if (!absl::ConsumePrefix(&lines[1], "position ") || !absl::SimpleAtoi(lines[1], &head.position)) {
    return garbled("bad position line");
  }
  if (!absl::ConsumePrefix(&lines[2], "hash ") || !IsHex(lines[2])) return garbled("bad hash line");
  head.hash = absl::HexStringToBytes(lines[2]);
  if (head.position > 0 && head.hash.size() != kHashSize) return garbled("bad hash length");
  return std::optional<LedgerHead>(std::move(head));
}

absl::Status WriteHeadRecord(const std::string& path, const LedgerHead& head) {
  const std::string body = Body(head);
  const std::string text = absl::StrCat(body, "check ", CheckOf(body), "\n");
  const std::string temp = path + ".tmp";
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return ErrnoStatus(errno, "create", temp);
  absl::Status status = WriteAll(fd, text, temp);
  if (status.ok() && ::fsync(fd) != 0) status = ErrnoStatus(errno, "fsync", temp);
  if (::close(fd) != 0 && status.ok()) status = ErrnoStatus(errno, "close", temp);
  if (status.ok() && ::rename(temp.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus(errno, "rename to", path);
  }
  if (!status.ok()) {
    ::unlink(temp.c_str());
    return status;
  }
  // The rename is durable only once the directory is synced.
  const std::string dir = DirOf(path);
  const int dir_fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) return ErrnoStatus(errno, "open", dir);
  if (::fsync(dir_fd) != 0) status = ErrnoStatus(errno, "fsync", dir);
  ::close(dir_fd);
  return status;
}

absl::Status CheckRecoveredHead(const std::string& data_dir, const LedgerHead& recorded,
                                Position recovered_last, absl::string_view hash_at_recorded) {
  if (recorded.position == 0) return absl::OkStatus();
  const std::string path = HeadRecordPath(data_dir);
  const std::string what_now = OperatorAdvice(data_dir);
  if (recovered_last < recorded.position) {
    return absl::DataLossError(absl::StrCat(
        data_dir, ": the log RocksDB recovered ends at position ", recovered_last, ", but ", path,
        " records position ", recorded.position, " (hash ", Short(recorded.hash),
        "...) as acknowledged: positions ", recovered_last + 1, " to ", recorded.position,
        " are missing (a damaged or truncated WAL *.log, or a lost file).", what_now));
  }
  if (hash_at_recorded != recorded.hash) {
    return absl::DataLossError(absl::StrCat(
        data_dir, ": position ", recorded.position, " in the recovered log has hash ",
        Short(hash_at_recorded), "..., but ", path, " records hash ", Short(recorded.hash),
        "... for it: the log is not the one that was acknowledged.", what_now));
  }
  return absl::OkStatus();
}

absl::Status ExplainOpenFailure(const std::string& data_dir, const absl::Status& status) {
  if (!absl::IsDataLoss(status)) return status;
  std::string wals;
  std::error_code error;
  for (const auto& entry : std::filesystem::directory_iterator(data_dir, error)) {
    if (entry.path().extension() != ".log") continue;
    std::error_code size_error;
    const auto size = entry.file_size(size_error);
    absl::StrAppend(&wals, wals.empty() ? "" : ", ", entry.path().filename().string(), " (",
                    size_error ? 0 : size, " bytes)");
  }
  std::string acknowledged = "no head record";
  if (auto head = ReadHeadRecord(HeadRecordPath(data_dir)); head.ok() && *head) {
    acknowledged = absl::StrCat(HeadRecordPath(data_dir), " records position ", (*head)->position,
                                " (hash ", Short((*head)->hash), "...) as acknowledged");
  }
  return absl::DataLossError(absl::StrCat(
      status.message(), ". ", acknowledged, "; WAL files: ", wals.empty() ? "none" : wals,
      " (RocksDB's warning in the log names the file and offset it could not read).",
      OperatorAdvice(data_dir)));
}

HeadRecorder::HeadRecorder(std::string path, LedgerHead initial)
    : path_(std::move(path)), latest_(std::move(initial)) {
  if (auto s = WriteHeadRecord(path_, latest_); !s.ok()) {
    SPDLOG_LOGGER_WARN(&Log(), "head record not written (will retry): {}", s.ToString());
    dirty_ = true;
  }
  thread_ = std::thread([this] { Loop(); });
}

HeadRecorder::~HeadRecorder() { Stop().IgnoreError(); }

void HeadRecorder::Advance(Position position, absl::string_view hash) {
  {
    std::lock_guard lock(mu_);
    if (position <= latest_.position) return;
    latest_.position = position;
    latest_.hash.assign(hash.data(), hash.size());
    dirty_ = true;
  }
  cv_.notify_one();
}

void HeadRecorder::Loop() {
  using std::chrono::milliseconds;
  bool failing = false;
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [&] { return stopping_ || dirty_; });
    if (stopping_) return;
    LedgerHead head = latest_;
    dirty_ = false;
    lock.unlock();
    absl::Status s = WriteHeadRecord(path_, head);
    lock.lock();
    if (!s.ok()) {
      dirty_ = true;
      // Once per failure streak: a full disk fails every write.
      if (!failing) {
        SPDLOG_LOGGER_WARN(&Log(), "head record not written (will retry): {}", s.ToString());
      }
      failing = true;
      cv_.wait_for(lock, milliseconds(1000), [&] { return stopping_; });
      continue;
    }
    if (failing) SPDLOG_LOGGER_INFO(&Log(), "head record written again at {}", head.position);
    failing = false;
    cv_.wait_for(lock, milliseconds(kHeadMinIntervalMs), [&] { return stopping_; });
  }
}

absl::Status HeadRecorder::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stopped_) return absl::OkStatus();
    stopped_ = true;
    stopping_ = true;
  }
  cv_.notify_one();
  if (thread_.joinable()) thread_.join();
  return WriteHeadRecord(path_, latest_);
}

}  // namespace attendance::ledger
