#include "support/mark_writers.h"

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>

#include "ledger/calendar.h"
#include "support/fixtures.h"

namespace attendance::testing {

std::size_t WriteRegistersConcurrently(ledger::Ledger& ledger, int writers, int pupils_per_writer,
                                       const std::vector<const char*>& codes, const char* first_day,
                                       const char* last_day) {
  ledger::SchoolCalendar calendar;
  calendar.Set(Calendar2025("s1").calendar());
  const ledger::Day first = *ledger::ParseDate(first_day);
  const ledger::Day last = *ledger::ParseDate(last_day);
  std::atomic<std::size_t> recorded{0};
  std::atomic<bool> failed{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w) {
    threads.emplace_back([&, w] {
      std::size_t n = static_cast<std::size_t>(w);
      for (ledger::Day d = first; d <= last && !failed; ++d) {
        if (!calendar.IsSchoolDay(d)) continue;
        for (v1::Session s : {v1::AM, v1::PM}) {
          if (calendar.IsClosed(d, s, 7)) continue;
          v1::RecordMarksRequest request;
          request.set_school_id("s1");
          request.set_request_id("w" + std::to_string(w) + "-" + ledger::FormatDate(d) + "-" +
                                 v1::Session_Name(s));
          for (int i = 1; i <= pupils_per_writer; ++i) {
            const std::string pupil = "p" + std::to_string(w * pupils_per_writer + i);
            *request.add_marks() =
                MakeMark(pupil, ledger::FormatDate(d), s, codes[n++ % codes.size()]);
          }
          auto response = ledger.RecordMarks(kTeacher, request);
          if (!response.ok()) {
            failed = true;
            return;
          }
          recorded += response->recorded();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  if (failed) throw std::runtime_error("a register batch was refused");
  return recorded;
}

}  // namespace attendance::testing
