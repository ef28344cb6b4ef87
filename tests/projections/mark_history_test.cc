// The mark-history fold: one key per mark or amendment, a session's entries
// neighbours in log order, and nothing for other events.
#include "projections/mark_history.h"

#include <catch2/catch.hpp>
#include <map>

#include "event_builders.h"

namespace attendance::projections {
namespace {

using testing::D;

SCENARIO("a session's history lists its first mark and every amendment in order",
         "[projections][mark_history]") {
  GIVEN("a mark, two amendments of it, and a mark of another pupil in between") {
    testing::EventLog log;
    log.Enrol(testing::MakePupil("p1", 7), D("2025-09-01"), D("2025-08-20"));
    log.Mark("p1", D("2025-09-08"), v1::AM, "N");
    log.Mark("p10", D("2025-09-08"), v1::AM, "/");
    log.Amend("p1", D("2025-09-08"), v1::AM, "N", "I", D("2025-09-09"));
    log.Mark("p1", D("2025-09-08"), v1::PM, "\\");
    log.Amend("p1", D("2025-09-08"), v1::AM, "I", "M", D("2025-09-10"));
    std::map<std::string, std::string> store;  // what a keyed store holds, in key order
    std::size_t puts = 0;
    for (const v1::EventEnvelope& e : log.events()) {
      if (auto put = MarkHistoryPut(e)) {
        store.insert(*put);
        ++puts;
      }
    }
    THEN("every mark and amendment has its own entry and the enrolment none") {
      CHECK(puts == 5);
      CHECK(store.size() == 5);
    }
    THEN("a prefix scan of p1's morning gives the mark then both amendments, in log order") {
      const std::string prefix = MarkHistorySessionKey("school-1", "p1", D("2025-09-08"), v1::AM);
      std::vector<MarkHistoryEntry> entries;
      for (auto it = store.lower_bound(prefix);
           it != store.end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
        auto entry = DecodeMarkHistoryEntry(it->second);
        REQUIRE(entry.ok());
        entries.push_back(*entry);
      }
      REQUIRE(entries.size() == 3);
      CHECK(!entries[0].amendment);
      CHECK(entries[0].code == "N");
      CHECK(entries[0].position == 2);
      CHECK(entries[1].amendment);
      CHECK(entries[1].original_code == "N");
      CHECK(entries[1].code == "I");
      CHECK(entries[1].reason == "test");
      CHECK(entries[1].position == 4);
      CHECK(entries[2].code == "M");
      CHECK(entries[2].recorded_at_us == testing::NoonUs(D("2025-09-10")));
    }
  }
  GIVEN("bytes that are not an entry") {
    THEN("decoding them is DATA_LOSS") {
      CHECK(absl::IsDataLoss(DecodeMarkHistoryEntry("\xff\xff garbage").status()));
    }
  }
}

}  // namespace
}  // namespace attendance::projections
