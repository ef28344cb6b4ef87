// The subcommand table. Each service's subcommands live in their own file
// and come from one function; a new service adds its file and one line in
// command_table.cc.
#pragma once

#include <vector>

#include "cli.h"

namespace attendance::ledgerctl {

std::vector<Command> LedgerCommands();       // ledger_commands.cc
std::vector<Command> EventsCommands();       // events_commands.cc (Ledger.ReadEvents)
std::vector<Command> ProjectionsCommands();  // projections_commands.cc
std::vector<Command> ImportMarksCommands();  // import_marks.cc
std::vector<Command> ExportCommands();       // export_commands.cc
std::vector<Command> HealthCommands();       // health_commands.cc
std::vector<Command> EscalationCommands();   // escalation_commands.cc
std::vector<Command> AuditCommands();        // audit_commands.cc
std::vector<Command> AuditHeadCommands();    // audit_head_commands.cc
std::vector<Command> FeedsCommands();        // feeds_commands.cc
std::vector<Command> LeaveCommands();        // leave_commands.cc

// ListEscalations, ListFirstResponse, SimulatePolicy: escalation_commands.cc.
std::vector<Command> EscalationReportCommands();

// Every subcommand, grouped in the order `ledgerctl --help` lists them.
std::vector<Command> AllCommands();

}  // namespace attendance::ledgerctl
