#pragma once

// The demo school planned in memory, before anything is written: pupils,
// their register entries for the autumn term, amendments and letters.
// Private to the demo library (demo_school.cc loads the plan through the
// ledger's commands).
#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "attendance/v1/events.pb.h"
#include "demo/demo_school.h"
#include "ledger/types.h"

namespace attendance::demo {

using ledger::Day;

enum class Profile { kGood, kMid, kPersistent, kSevere };

// One register entry as planned.
struct Entry {
  std::string code;  // empty = not possible (not on roll); "#" = closed
  std::uint32_t minutes_late = 0;
  std::string comment;
};

struct PlannedAmendment {
  size_t day_index = 0;  // the school day the N was recorded on
  v1::Session session = v1::AM;
  std::string amended_code;
  std::string reason;
  size_t amend_on = 0;  // the school day the amendment is made (after marks)
};

struct DemoPupil {
  v1::Pupil pupil;
  std::string class_key;  // e.g. "y3a": part of request ids
  Day on_roll_from = 0;
  std::optional<Day> last_day;
  Profile profile = Profile::kGood;
  // One entry per term day of the autumn term, [0] = AM, [1] = PM.
  std::vector<std::array<Entry, 2>> plan;
  std::vector<PlannedAmendment> amendments;
};

struct PlannedLetter {
  size_t pupil = 0;
  std::string letter_id;
  v1::LetterChannel channel = v1::POST;
  size_t send_on = 0;  // school day index
  std::string note;
};

struct Plan {
  v1::SchoolSettings settings;
  v1::SchoolCalendarSet calendar;
  std::vector<Day> days;  // term days of the autumn term, closures included
  size_t autumn1_days = 0;
  std::vector<DemoPupil> pupils;
  std::map<std::string, std::string> class_teacher;  // class key -> teacher name
  std::vector<PlannedLetter> letters;
  size_t leaver = 0;
};

std::string SessionName(v1::Session s);

// The whole plan, deterministic from options.seed.
Plan MakePlan(const DemoOptions& options);

}  // namespace attendance::demo
