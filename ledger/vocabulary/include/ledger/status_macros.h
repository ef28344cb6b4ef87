#pragma once

// The ledger's one status macro: returns a non-OK absl::Status from the
// enclosing function, so that a validation reads as a list of checks. For
// ledger/src and the vocabulary only; other modules spell it out.
#include "absl/status/status.h"

#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    if (absl::Status _s = (expr); !_s.ok()) return _s; \
  } while (0)
