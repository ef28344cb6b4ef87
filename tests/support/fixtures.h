#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "attendance/v1/ledger_service.pb.h"
#include "ledger/ledger.h"
#include "support/temp_dir.h"

namespace attendance::testing {

inline const ledger::Principal kTeacher{"Ms T. Teacher", "teacher"};
inline const ledger::Principal kOfficer{"Mr O. Officer", "attendance_officer"};

// Autumn 2025: 2025-09-03..2025-10-24 and 2025-11-03..2025-12-19, with an
// INSET closure on 2025-09-19 (a Friday) and a year-7 closure on the
// morning of 2025-10-01.
v1::SetSchoolCalendarRequest Calendar2025(const std::string& school_id);
v1::SetSchoolSettingsRequest Settings(const std::string& school_id);
v1::EnrolPupilRequest Enrol(const std::string& school_id, const std::string& pupil_id,
                            const std::string& from = "2025-09-01", int year_group = 7);
v1::Mark MakeMark(const std::string& pupil_id, const std::string& date, v1::Session session,
                  const std::string& code);

// A ledger in a temp dir with school "s1" set up (settings, 2025 calendar)
// and pupils p1..p<pupils> enrolled from 2025-09-01 in year 7.
struct LedgerFixture {
  explicit LedgerFixture(int pupils = 3);
  void Reopen();

  TempDir dir;
  // The ledger's clock (microseconds since the epoch); tests may move it.
  // Default 2025-10-09 08:53:20 UTC (09:53 BST), a Thursday in Autumn 1.
  std::atomic<std::int64_t> now_us{1'760'000'000'000'000};
  std::unique_ptr<ledger::Ledger> ledger;
};

}  // namespace attendance::testing
