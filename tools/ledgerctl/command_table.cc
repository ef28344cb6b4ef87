#include "command_table.h"

namespace attendance::ledgerctl {

std::vector<Command> AllCommands() {
  // One line per service (or group of subcommands); the comments keep
  // clang-format from joining the lines, so that branches adding a service
  // each add a line and merge cleanly.
  using Group = std::vector<Command> (*)();
  static constexpr Group kGroups[] = {
      LedgerCommands,       // attendance.v1.Ledger's writes
      EventsCommands,       // attendance.v1.Ledger.ReadEvents
      ProjectionsCommands,  // attendance.v1.Projections
      ImportMarksCommands,  // CSV in
      ExportCommands,       // CSV out
      HealthCommands,       // grpc.health.v1.Health
      EscalationCommands,   // attendance.v1.Escalation, Ledger.SetEscalationPolicy
      AuditCommands,        // attendance.v1.Audit
      AuditHeadCommands,    // attendance.v1.Audit: VerifyLedger, GetLedgerHead
      FeedsCommands,        // attendance.v1.Feeds
      EscalationReportCommands,
      LeaveCommands,  // leave of absence: EvaluateLeaveRequest, RequestLeave, DecideLeave
  };
  std::vector<Command> commands;
  for (Group group : kGroups) {
    for (Command& command : group()) commands.push_back(std::move(command));
  }
  return commands;
}

}  // namespace attendance::ledgerctl
