#include "rocks_info_log.h"

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <string>
#include <string_view>

#include "logger.h"

namespace attendance::ledger {
namespace {

spdlog::level::level_enum ToSpdlog(rocksdb::InfoLogLevel level) {
  switch (level) {
    case rocksdb::InfoLogLevel::DEBUG_LEVEL:
      return spdlog::level::trace;
    case rocksdb::InfoLogLevel::INFO_LEVEL:
    case rocksdb::InfoLogLevel::HEADER_LEVEL:
      return spdlog::level::debug;
    case rocksdb::InfoLogLevel::WARN_LEVEL:
      return spdlog::level::warn;
    default:
      return spdlog::level::err;
  }
}

// The lowest RocksDB level spdlog would print, so that RocksDB does not
// format lines nobody will see.
rocksdb::InfoLogLevel ThresholdFor(spdlog::level::level_enum level) {
  if (level <= spdlog::level::trace) return rocksdb::InfoLogLevel::DEBUG_LEVEL;
  if (level <= spdlog::level::debug) return rocksdb::InfoLogLevel::INFO_LEVEL;
  if (level <= spdlog::level::warn) return rocksdb::InfoLogLevel::WARN_LEVEL;
  return rocksdb::InfoLogLevel::ERROR_LEVEL;
}

class SpdlogInfoLog final : public rocksdb::Logger {
 public:
  SpdlogInfoLog() : rocksdb::Logger(ThresholdFor(Log().level())) {}

  // The base class asserts in this overload; RocksDB calls it for lines
  // logged without a level.
  void Logv(const char* format, va_list ap) override {
    Write(rocksdb::InfoLogLevel::INFO_LEVEL, format, ap);
  }

  void Logv(const rocksdb::InfoLogLevel level, const char* format, va_list ap) override {
    if (level < GetInfoLogLevel()) return;
    Write(level, format, ap);
  }

  void LogHeader(const char* format, va_list ap) override {
    Write(rocksdb::InfoLogLevel::HEADER_LEVEL, format, ap);
  }

 private:
  static void Write(rocksdb::InfoLogLevel level, const char* format, va_list ap) {
    const spdlog::level::level_enum to = ToSpdlog(level);
    if (!Log().should_log(to)) return;
    char small[512];
    va_list copy;
    va_copy(copy, ap);
    const int n = std::vsnprintf(small, sizeof(small), format, copy);
    va_end(copy);
    if (n < 0) return;
    std::string large;
    std::string_view line(small, std::min(static_cast<std::size_t>(n), sizeof(small) - 1));
    if (static_cast<std::size_t>(n) >= sizeof(small)) {
      large.resize(static_cast<std::size_t>(n) + 1);
      std::vsnprintf(large.data(), large.size(), format, ap);
      line = std::string_view(large.data(), static_cast<std::size_t>(n));
    }
    while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.remove_suffix(1);
    Log().log(to, "rocksdb: {}", line);
  }
};

}  // namespace

std::shared_ptr<rocksdb::Logger> NewSpdlogInfoLog() { return std::make_shared<SpdlogInfoLog>(); }

}  // namespace attendance::ledger
