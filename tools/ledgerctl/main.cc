// ledgerctl: the command-line client of ledgerd (README, "ledgerctl").
#include "cli.h"
#include "command_table.h"

int main(int argc, char** argv) {
  return attendance::ledgerctl::Main(attendance::ledgerctl::AllCommands(), argc, argv);
}
