#include "command_table.h"

namespace attendance::ledgerctl {

std::vector<Command> AllCommands() {
  // One line per service (or group of subcommands).
  using Group = std::vector<Command> (*)();
  static constexpr Group kGroups[] = {
      LedgerCommands, EventsCommands, ProjectionsCommands, ImportMarksCommands, ExportCommands,
  };
  std::vector<Command> commands;
  for (Group group : kGroups) {
    for (Command& command : group()) commands.push_back(std::move(command));
  }
  return commands;
}

}  // namespace attendance::ledgerctl
