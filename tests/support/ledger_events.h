#pragma once

// Reading back what a test wrote through the ledger: the events from a
// position, or the one at it (REQUIRE on a failed read).
#include <catch2/catch.hpp>
#include <vector>

#include "ledger/ledger.h"

namespace attendance::testing {

inline std::vector<v1::EventEnvelope> EventsFrom(const ledger::Ledger& ledger,
                                                 ledger::Position from) {
  std::vector<v1::EventEnvelope> events;
  REQUIRE(ledger
              .ForEachEvent(from,
                            [&](const v1::EventEnvelope& e) {
                              events.push_back(e);
                              return true;
                            })
              .ok());
  return events;
}

inline v1::EventEnvelope EventAt(const ledger::Ledger& ledger, ledger::Position position) {
  v1::EventEnvelope stored;
  REQUIRE(ledger
              .ForEachEvent(position,
                            [&](const v1::EventEnvelope& e) {
                              stored = e;
                              return false;
                            })
              .ok());
  return stored;
}

}  // namespace attendance::testing
