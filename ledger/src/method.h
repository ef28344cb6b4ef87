#pragma once

#include "ledger/command_table.h"

namespace attendance::ledger {

// What the request log stores of each command's kind.
enum class Method : char {
  kRecordMarks = 'M',
#define ATTENDANCE_METHOD(Name, Request, Response, tag, access) k##Name = tag,
  ATTENDANCE_LEDGER_COMMANDS(ATTENDANCE_METHOD)
#undef ATTENDANCE_METHOD
};

}  // namespace attendance::ledger
