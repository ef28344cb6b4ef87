// ledger-backup: backups of a ledger's data directory, and verified restores.
//
//   ledger-backup create  --data DIR --backup-dir B [--keep N]
//   ledger-backup list    --backup-dir B
//   ledger-backup verify  --backup-dir B [--id N] [--deep]
//   ledger-backup restore --backup-dir B --to DIR [--id N]
//   ledger-backup purge   --backup-dir B --keep N
//
// `create` opens the ledger itself, so it is for a stopped server (or a
// copy); a running ledgerd takes its own online backups (--backup-dir).
// `verify` checks every file's size and checksum; --deep also restores into
// a temporary directory and verifies the hash chain and every index.
// `restore` verifies files, chain and indexes before it installs anything,
// and never writes into a non-empty directory. --id 0 (the default) is the
// latest backup. Exit status: 0 done, 1 failed (the first line of output
// says why), 2 bad usage.
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <spdlog/spdlog.h>

#include "absl/flags/flag.h"
#include "command_line/command_line.h"
#include "ledger/backup.h"
#include "ledger/ledger.h"

ABSL_FLAG(std::string, data, "", "the ledger's data directory (create)");
ABSL_FLAG(std::string, backup_dir, "", "the backups' directory");
ABSL_FLAG(std::string, to, "", "an empty directory to restore into (restore)");
ABSL_FLAG(std::uint32_t, id, 0, "the backup (verify, restore); 0: the latest");
ABSL_FLAG(std::optional<std::uint32_t>, keep, std::nullopt,
          "backups kept, the newest (create, purge); at least 1");
ABSL_FLAG(bool, deep, false, "verify: also restore into a temporary directory and verify it");

namespace {

namespace ledger = attendance::ledger;

constexpr const char* kUsage = R"(usage:
  ledger-backup create  --data DIR --backup-dir B [--keep N]
  ledger-backup list    --backup-dir B
  ledger-backup verify  --backup-dir B [--id N] [--deep]
  ledger-backup restore --backup-dir B --to DIR [--id N]
  ledger-backup purge   --backup-dir B --keep N
)";

struct Flags {
  std::string command;
  std::string data;
  std::string backup_dir;
  std::string to;
  std::uint32_t id = 0;
  std::uint32_t keep = 0;
  bool deep = false;
};

// Exits 0 on --help, 2 on bad usage (see command_line/command_line.h).
bool Parse(int argc, char** argv, Flags& flags) {
  constexpr std::string_view kProgram = "ledger-backup";
  const std::vector<std::string> rest =
      attendance::tools::ParseFlagsOrExit(argc, argv, kProgram, kUsage);
  if (rest.size() != 1) return false;
  flags.command = rest.front();
  flags.data = absl::GetFlag(FLAGS_data);
  flags.backup_dir = absl::GetFlag(FLAGS_backup_dir);
  flags.to = absl::GetFlag(FLAGS_to);
  flags.id = absl::GetFlag(FLAGS_id);
  if (const std::optional<std::uint32_t> keep = absl::GetFlag(FLAGS_keep); keep.has_value()) {
    if (*keep == 0) attendance::tools::ExitBadUsage(kProgram, "--keep 0: must be at least 1");
    flags.keep = *keep;
  }
  flags.deep = absl::GetFlag(FLAGS_deep);
  return !flags.backup_dir.empty();
}

std::string Time(std::int64_t unix_s) {
  char text[32];
  const std::time_t t = unix_s;
  std::tm tm{};
  gmtime_r(&t, &tm);
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

void Print(const ledger::BackupInfo& b) {
  std::cout << "backup " << b.id << "  " << Time(b.created_unix_s) << "  " << b.files << " files  "
            << b.size_bytes << " bytes  positions 1.." << b.acknowledged_before << " or more\n";
}

int Fail(const absl::Status& s) {
  std::cout << "FAILED: " << s.ToString() << "\n";
  return 1;
}

int Create(const Flags& flags) {
  if (flags.data.empty()) return Fail(absl::InvalidArgumentError("--data: required"));
  if (!std::filesystem::exists(flags.data)) {
    return Fail(absl::NotFoundError("--data " + flags.data + ": no such directory"));
  }
  ledger::LedgerOptions options;
  options.data_dir = flags.data;
  auto opened = ledger::Ledger::Open(options);
  if (!opened.ok()) {
    Fail(opened.status());
    std::cout << "(a running ledgerd holds its directory: its --backup-dir takes backups online)\n";
    return 1;
  }
  auto backup = (*opened)->CreateBackup(flags.backup_dir);
  if (!backup.ok()) return Fail(backup.status());
  Print(*backup);
  if (flags.keep > 0) {
    if (auto s = ledger::PurgeBackups(flags.backup_dir, flags.keep); !s.ok()) return Fail(s);
  }
  return 0;
}

int List(const Flags& flags) {
  auto backups = ledger::ListBackups(flags.backup_dir);
  if (!backups.ok()) return Fail(backups.status());
  for (const auto& b : *backups) Print(b);
  return 0;
}

int Verify(const Flags& flags) {
  if (auto s = ledger::VerifyBackup(flags.backup_dir, flags.id); !s.ok()) return Fail(s);
  std::cout << "OK: every file of backup "
            << (flags.id == 0 ? std::string("(latest)") : std::to_string(flags.id))
            << " matches its size and checksum\n";
  if (!flags.deep) return 0;
  char scratch[] = "/tmp/ledger-backup-verify-XXXXXX";
  if (mkdtemp(scratch) == nullptr) return Fail(absl::UnavailableError("cannot make a temp dir"));
  const std::string to = std::string(scratch) + "/restored";
  auto restored = ledger::RestoreBackup(flags.backup_dir, flags.id, to);
  std::error_code ignored;
  std::filesystem::remove_all(scratch, ignored);
  if (!restored.ok()) return Fail(restored.status());
  std::cout << "OK: restored and verified: hash chain over positions 1.." << restored->last_position
            << ", " << restored->verified.marks << " marks, " << restored->verified.requests
            << " request ids\n";
  return 0;
}

int Restore(const Flags& flags) {
  if (flags.to.empty()) return Fail(absl::InvalidArgumentError("--to: required"));
  auto restored = ledger::RestoreBackup(flags.backup_dir, flags.id, flags.to);
  if (!restored.ok()) return Fail(restored.status());
  std::cout << "OK: backup " << restored->backup.id << " restored to " << flags.to
            << ": hash chain verifies over positions 1.." << restored->last_position << ", "
            << restored->verified.marks << " marks and " << restored->verified.requests
            << " request ids agree with the log\n";
  return 0;
}

int Purge(const Flags& flags) {
  if (flags.keep == 0) return Fail(absl::InvalidArgumentError("--keep: required, at least 1"));
  if (auto s = ledger::PurgeBackups(flags.backup_dir, flags.keep); !s.ok()) return Fail(s);
  return List(flags);
}

}  // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  Flags flags;
  if (!Parse(argc, argv, flags)) {
    std::cerr << kUsage;
    return 2;
  }
  if (flags.command == "create") return Create(flags);
  if (flags.command == "list") return List(flags);
  if (flags.command == "verify") return Verify(flags);
  if (flags.command == "restore") return Restore(flags);
  if (flags.command == "purge") return Purge(flags);
  std::cerr << "ledger-backup: unknown command " << flags.command << "\n" << kUsage;
  return 2;
}
