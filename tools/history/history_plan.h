#pragma once

// The history planned one academic year at a time, before it becomes steps.
// Private to the history library.
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "attendance/v1/events.pb.h"
#include "history/history.h"
#include "ledger/calendar.h"
#include "ledger/types.h"

namespace attendance::history {

using ledger::Day;

// std::mt19937_64 is fully specified by the standard; the distributions are
// ours, so a seed gives the same history with any standard library.
class Random {
 public:
  explicit Random(std::uint64_t seed) : engine_(seed) {}
  // Uniform in [lo, hi].
  int Between(int lo, int hi) {
    const auto span = static_cast<std::uint64_t>(hi - lo) + 1;
    return lo + static_cast<int>(engine_() % span);
  }
  bool Permille(int permille) { return Between(0, 999) < permille; }
  template <typename T>
  const T& Pick(const std::vector<T>& items) {
    return items[static_cast<size_t>(Between(0, static_cast<int>(items.size()) - 1))];
  }

 private:
  std::mt19937_64 engine_;
};

enum class Profile { kGood, kMid, kPersistent, kSevere };

// One register entry as the teacher recorded it.
struct Entry {
  std::string code;  // empty = not on roll; "#" = closed
  std::uint32_t minutes_late = 0;
  const char* comment = "";
};

struct Amendment {
  size_t day = 0;  // index of the school day of the mark
  v1::Session session = v1::AM;
  std::string code;
  std::uint32_t minutes_late = 0;
  std::string reason;
  size_t amend_day = 0;  // index of the school day it was amended on
  int minute = 0;        // local time of day of the amendment
};

struct Letter {
  size_t day = 0;
  std::string letter_id;
  std::string note;
};

struct Action {
  size_t day = 0;
  v1::RecordActionRequest request;  // without school, request id, happened_on
};

// A pupil across the whole history.
struct PupilRecord {
  v1::Pupil pupil;
  int latent = 0;  // 0..999: how prone to absence, kept from year to year
  Day on_roll_from = 0;
  std::optional<Day> last_day;
  bool enrolled = false;
};

// A pupil's year: what the registers said and what followed.
struct PupilYear {
  size_t record = 0;  // index into the school's records
  std::string class_key;
  Profile profile = Profile::kGood;
  std::vector<std::array<Entry, 2>> entries;  // one per school day
  std::vector<Amendment> amendments;
  std::vector<Letter> letters;
  std::vector<Action> actions;
};

struct YearPlan {
  int academic_year = 0;
  v1::SchoolCalendarSet calendar_set;
  ledger::SchoolCalendar calendar;
  std::vector<Day> days;          // term days, closures included
  std::vector<size_t> half_ends;  // index of the last day of each half-term
  std::vector<PupilYear> pupils;
  std::map<std::string, std::string> class_teacher;  // class key -> name
  std::map<std::string, std::string> class_name;     // class key -> name
  // Pupils whose details change at the start of the year (rollover), and
  // joiners and leavers inside it, by record index.
  std::vector<size_t> promoted;
  std::vector<size_t> intake;  // on roll from the first day, new this year
};

// The school's state carried from one year to the next.
struct School {
  HistoryOptions options;
  bool secondary = false;
  std::vector<int> year_groups;
  std::vector<PupilRecord> records;
  int next_pupil_number = 1;
};

// Plans `academic_year` for `school` (adding joiners and leavers to its
// records): the pupils' registers, amendments, letters and actions.
YearPlan PlanYear(School& school, int academic_year, Random& rng);

// A new pupil in `year_group` for `academic_year`, with the national mix of
// attributes, numbered P0001, P0002, ...
PupilRecord NewPupil(School& school, int year_group, int academic_year, Random& rng);

// Absences, lates and N amendments for one pupil-year (history_absence.cc).
void PlanAttendance(const YearPlan& year, PupilYear& p, Random& rng);

// Letters and actions by the policy's ladder (history_escalation.cc).
void PlanEscalation(const YearPlan& year, PupilYear& p, Random& rng);

// Actions answering the policy's counted triggers, and the Fast Track
// letters (history_triggers.cc).
void PlanTriggerAnswers(const YearPlan& year, PupilYear& p, Random& rng);

std::string SessionName(v1::Session s);

// The escalation policy the school runs: seed 000's, All Saints CE
// Primary's Attendance Strategy 2024-25 (policies/000_...textproto, built in
// as protobuf text format), whose letter and step ids the history's letters
// and actions use.
const char* PolicyText();

}  // namespace attendance::history
