// Property tests: every figure the queries give, for every pupil, window and
// a spread of as-of dates, equals the brute-force model's (brute_force.h) on
// random histories; and a rebuild from position 1 equals the incremental
// fold, restarted from checkpoints, byte for byte.
#include <catch2/catch.hpp>

#include "brute_force.h"
#include "projections/attendance_queries.h"
#include "projections/attendance_state.h"
#include "random_history.h"

namespace attendance::projections {
namespace {

using testing::BruteForce;
using testing::D;

std::vector<Day> AsOfDates(const testing::RandomHistoryOptions& o) {
  std::vector<Day> dates = {D("2024-07-19"), D("2024-08-19"), D("2024-09-02"), D("2025-10-24"),
                            D("2025-10-10"), D("2025-12-25"), o.last_day + 40};
  for (Day d = o.first_day; d <= o.last_day; d += 29) dates.push_back(d);
  return dates;
}

std::map<std::string, int> CodeCounts(const v1::AttendanceFigures& f) {
  std::map<std::string, int> m;
  for (const v1::CodeCount& c : f.code_counts()) m[c.code()] = static_cast<int>(c.sessions());
  return m;
}

void CheckFigures(const v1::AttendanceFigures& f, const testing::BruteCounts& b) {
  CHECK(f.possible_sessions() == static_cast<std::uint32_t>(b.possible));
  CHECK(f.attended_sessions() == static_cast<std::uint32_t>(b.attended));
  CHECK(f.authorised_absence() == static_cast<std::uint32_t>(b.authorised));
  CHECK(f.unauthorised_absence() == static_cast<std::uint32_t>(b.unauthorised));
  CHECK(f.late_before_close() == static_cast<std::uint32_t>(b.late_l));
  CHECK(f.late_after_close() == static_cast<std::uint32_t>(b.late_u));
  CHECK(CodeCounts(f) == b.per_code);
  CHECK(f.persistent_absence() == b.pa);
  CHECK(f.severe_absence() == b.sa);
}

TEST_CASE("every pupil figure equals a brute-force recomputation", "[projections][property]") {
  for (std::uint32_t seed : {1u, 2u, 3u}) {
    testing::RandomHistoryOptions options;
    options.seed = seed;
    options.pupils = 24;
    const std::vector<v1::EventEnvelope> events = testing::RandomHistory(options);
    AttendanceState state;
    for (const v1::EventEnvelope& e : events) state.Apply(e);
    const BruteForce brute(events);

    int exactly_10 = 0, exactly_50 = 0, amended_as_of_checks = 0;
    for (Day as_of : AsOfDates(options)) {
      for (int i = 0; i < options.pupils; ++i) {
        const std::string id = "p" + std::to_string(i);
        INFO("seed " << seed << " pupil " << id << " as of " << ledger::FormatDate(as_of));
        v1::GetPupilAttendanceRequest req;
        req.set_school_id("school-1");
        req.set_pupil_id(id);
        req.set_as_of(ledger::FormatDate(as_of));
        absl::StatusOr<v1::PupilAttendance> report = QueryPupilAttendance(state, req, 0);
        if (!brute.RollOf(id, as_of).known) {
          CHECK(report.status().code() == absl::StatusCode::kNotFound);
          continue;
        }
        REQUIRE(report.ok());
        CHECK(report->windows_size() == 3 + 3 + 4);
        for (const v1::WindowFigures& wf : report->windows()) {
          INFO("window " << wf.window().label());
          const auto [first, last] = brute.Window(wf.window(), as_of);
          if (first > last) {
            CHECK(wf.window().first_day().empty());
          } else {
            CHECK(wf.window().first_day() == ledger::FormatDate(first));
            CHECK(wf.window().last_day() == ledger::FormatDate(last));
          }
          const testing::BruteCounts b = brute.Count(id, first, last, as_of);
          CheckFigures(wf.figures(), b);
          const int absent = b.authorised + b.unauthorised;
          if (b.possible > 0 && 10 * absent == b.possible) ++exactly_10;
          if (b.possible > 0 && 2 * absent == b.possible) ++exactly_50;
          if (as_of < options.last_day) ++amended_as_of_checks;
        }
      }
    }
    // The boundaries this test exists for were really exercised.
    CHECK(exactly_10 > 0);
    CHECK(exactly_50 > 0);
    CHECK(amended_as_of_checks > 0);
  }
}

TEST_CASE("every cohort figure is the brute-force sum over its members",
          "[projections][property]") {
  testing::RandomHistoryOptions options;
  options.seed = 7;
  options.pupils = 40;
  const std::vector<v1::EventEnvelope> events = testing::RandomHistory(options);
  AttendanceState state;
  for (const v1::EventEnvelope& e : events) state.Apply(e);
  const BruteForce brute(events);

  std::vector<v1::Window> windows(3);
  windows[0].set_kind(v1::ACADEMIC_YEAR_TO_DATE);
  windows[1].set_kind(v1::PREVIOUS_ACADEMIC_YEAR);
  windows[1].set_years_back(1);
  windows[2].set_kind(v1::ROLLING_SCHOOL_WEEKS);
  windows[2].set_weeks(6);
  for (Day as_of : AsOfDates(options)) {
    for (const v1::Window& window : windows) {
      INFO("as of " << ledger::FormatDate(as_of) << " window " << window.ShortDebugString());
      v1::GetCohortAttendanceRequest req;
      req.set_school_id("school-1");
      req.set_as_of(ledger::FormatDate(as_of));
      *req.mutable_window() = window;
      req.add_group_by(v1::YEAR_GROUP);
      req.add_group_by(v1::DISADVANTAGED);
      absl::StatusOr<v1::CohortAttendanceResponse> resp = QueryCohorts(state, req, 0);
      REQUIRE(resp.ok());

      const auto [first, last] = brute.Window(window, as_of);
      const bool current = window.kind() != v1::PREVIOUS_ACADEMIC_YEAR;
      struct Sum {
        int pupils = 0, possible = 0, attended = 0, unauth = 0, pa = 0, sa = 0;
      };
      std::map<std::vector<std::string>, Sum> expected;
      Sum whole;
      for (int i = 0; i < options.pupils; ++i) {
        const std::string id = "p" + std::to_string(i);
        const BruteForce::Roll roll = brute.RollOf(id, as_of);
        if (!roll.known) continue;
        const bool member =
            current ? roll.from <= as_of && (!roll.last || as_of <= *roll.last)
                    : first <= last && roll.from <= last && (!roll.last || *roll.last >= first);
        if (!member) continue;
        const v1::Pupil p = brute.DetailsOf(id, current ? as_of : std::min(last, as_of), as_of);
        const testing::BruteCounts b = brute.Count(id, first, last, as_of);
        if (b.possible == 0) continue;  // not an enrolment with a session in the window
        for (Sum* s :
             {&whole,
              &expected[{std::to_string(p.year_group()), p.pupil_premium() ? "true" : "false"}]}) {
          ++s->pupils;
          s->possible += b.possible;
          s->attended += b.attended;
          s->unauth += b.unauthorised;
          s->pa += b.pa ? 1 : 0;
          s->sa += b.sa ? 1 : 0;
        }
      }
      CHECK(resp->whole_school().pupils() == static_cast<std::uint32_t>(whole.pupils));
      CHECK(resp->whole_school().figures().possible_sessions() ==
            static_cast<std::uint32_t>(whole.possible));
      CHECK(resp->whole_school().figures().attended_sessions() ==
            static_cast<std::uint32_t>(whole.attended));
      CHECK(resp->whole_school().persistent_absence_pupils() ==
            static_cast<std::uint32_t>(whole.pa));
      CHECK(resp->whole_school().severe_absence_pupils() == static_cast<std::uint32_t>(whole.sa));
      if (whole.possible > 0) {
        // Sum then divide, never an average of percentages.
        CHECK(resp->whole_school().figures().attendance_percent() ==
              Approx(100.0 * whole.attended / whole.possible));
      }
      std::map<std::vector<std::string>, Sum> got;
      for (const v1::CohortRow& row : resp->rows()) {
        Sum& s = got[{row.key().begin(), row.key().end()}];
        s.pupils = static_cast<int>(row.pupils());
        s.possible = static_cast<int>(row.figures().possible_sessions());
        s.attended = static_cast<int>(row.figures().attended_sessions());
        s.unauth = static_cast<int>(row.figures().unauthorised_absence());
        s.pa = static_cast<int>(row.persistent_absence_pupils());
        s.sa = static_cast<int>(row.severe_absence_pupils());
      }
      REQUIRE(got.size() == expected.size());
      for (const auto& [key, s] : expected) {
        INFO("cohort " << key[0] << "/" << key[1]);
        const Sum& g = got[key];
        CHECK(g.pupils == s.pupils);
        CHECK(g.possible == s.possible);
        CHECK(g.attended == s.attended);
        CHECK(g.unauth == s.unauth);
        CHECK(g.pa == s.pa);
        CHECK(g.sa == s.sa);
      }
    }
  }
}

TEST_CASE("the pupil list is sorted by attendance and filtered like the pupil figures",
          "[projections][property]") {
  testing::RandomHistoryOptions options;
  options.seed = 11;
  options.pupils = 40;
  const std::vector<v1::EventEnvelope> events = testing::RandomHistory(options);
  AttendanceState state;
  for (const v1::EventEnvelope& e : events) state.Apply(e);

  v1::ListPupilAttendanceRequest req;
  req.set_school_id("school-1");
  req.set_as_of("2026-02-10");
  req.set_page_size(7);
  std::vector<v1::PupilRow> all;
  for (int page = 0; page < 20; ++page) {
    absl::StatusOr<v1::ListPupilAttendanceResponse> resp = QueryPupilList(state, req, 0);
    REQUIRE(resp.ok());
    all.insert(all.end(), resp->pupils().begin(), resp->pupils().end());
    if (resp->next_page_token().empty()) {
      CHECK(all.size() == resp->total_size());
      break;
    }
    req.set_page_token(resp->next_page_token());
  }
  REQUIRE(all.size() > 10);
  for (std::size_t i = 1; i < all.size(); ++i) {
    const auto& a = all[i - 1].figures();
    const auto& b = all[i].figures();
    if (b.possible_sessions() == 0) continue;
    REQUIRE(a.possible_sessions() > 0);
    CHECK(std::uint64_t{a.attended_sessions()} * b.possible_sessions() <=
          std::uint64_t{b.attended_sessions()} * a.possible_sessions());
  }
  req.clear_page_token();
  req.set_page_size(1000);
  req.set_only_persistent_absence(true);
  absl::StatusOr<v1::ListPupilAttendanceResponse> pa = QueryPupilList(state, req, 0);
  REQUIRE(pa.ok());
  std::size_t expected_pa = 0;
  for (const v1::PupilRow& row : all) expected_pa += row.figures().persistent_absence() ? 1 : 0;
  CHECK(static_cast<std::size_t>(pa->pupils_size()) == expected_pa);
  CHECK(expected_pa > 0);
}

TEST_CASE("a rebuild from position 1 equals the incremental fold restarted from checkpoints",
          "[projections][property][rebuild]") {
  testing::RandomHistoryOptions options;
  options.seed = 5;
  options.pupils = 170;
  const std::vector<v1::EventEnvelope> events = testing::RandomHistory(options);
  REQUIRE(events.size() > 100000);

  AttendanceState rebuilt;
  for (const v1::EventEnvelope& e : events) rebuilt.Apply(e);

  // Incremental: fold in uneven chunks, checkpointing (encode, decode) after
  // each one as the runner does across restarts.
  AttendanceState incremental;
  std::mt19937 rng(99);
  std::size_t next = 0;
  int restarts = 0;
  while (next < events.size()) {
    const std::size_t n = 1 + std::uniform_int_distribution<std::size_t>(0, 20000)(rng);
    for (std::size_t end = std::min(events.size(), next + n); next < end; ++next) {
      incremental.Apply(events[next]);
    }
    absl::StatusOr<AttendanceState> restored = AttendanceState::Decode(incremental.Encode());
    REQUIRE(restored.ok());
    incremental = std::move(*restored);
    ++restarts;
  }
  CHECK(restarts > 5);
  CHECK(incremental.position() == events.size());
  const std::string a = rebuilt.Encode();
  const std::string b = incremental.Encode();
  CHECK(a.size() == b.size());
  CHECK(a == b);

  // And field by field, through the queries.
  for (int i = 0; i < options.pupils; i += 7) {
    v1::GetPupilAttendanceRequest req;
    req.set_school_id("school-1");
    req.set_pupil_id("p" + std::to_string(i));
    for (const char* as_of : {"2025-03-01", "2026-07-20"}) {
      req.set_as_of(as_of);
      auto x = QueryPupilAttendance(rebuilt, req, 0);
      auto y = QueryPupilAttendance(incremental, req, 0);
      REQUIRE(x.ok() == y.ok());
      if (x.ok()) CHECK(x->SerializeAsString() == y->SerializeAsString());
    }
  }

  SECTION("a corrupt checkpoint is DATA_LOSS, not a crash") {
    std::string bytes = a;
    CHECK(AttendanceState::Decode(bytes.substr(0, bytes.size() / 2)).status().code() ==
          absl::StatusCode::kDataLoss);
    bytes[4] = 9;  // version
    CHECK(AttendanceState::Decode(bytes).status().code() == absl::StatusCode::kDataLoss);
    CHECK(AttendanceState::Decode("").status().code() == absl::StatusCode::kDataLoss);

    // Found by tests/fuzz (checkpoint_decode): a session code outside the
    // code table, which the queries index by.
    testing::EventLog one_mark;
    one_mark.Mark("p1", D("2025-09-08"), v1::AM, "/");
    AttendanceState small;
    for (const v1::EventEnvelope& e : one_mark.events()) small.Apply(e);
    std::string encoded = small.Encode();
    REQUIRE(AttendanceState::Decode(encoded).ok());
    encoded[encoded.size() - 2] = static_cast<char>(200);  // the year's last session; no changes
    CHECK(AttendanceState::Decode(encoded).status().code() == absl::StatusCode::kDataLoss);
    // A pupil id that is not UTF-8, which no reply could carry.
    std::string bad_id = small.Encode();
    bad_id[bad_id.find("p1")] = '\xff';
    CHECK(AttendanceState::Decode(bad_id).status().code() == absl::StatusCode::kDataLoss);
  }
}

}  // namespace
}  // namespace attendance::projections
