// The worklist's per-pupil results kept between calls (escalation_cache.h):
// over random histories applied event by event, with amendments, late
// marks, letters, actions, a settings change and a calendar change, the
// cached worklist equals the one evaluated afresh at every step; a new event
// for one pupil re-evaluates that pupil only; the memory bound holds. And
// SimulatePolicy's pupils shared among threads give the one-thread answer.
#include <google/protobuf/util/message_differencer.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <random>

#include "absl/strings/str_cat.h"
#include "escalation_helpers.h"
#include "event_builders.h"
#include "ledger/clock.h"
#include "projections/escalation.h"
#include "projections/escalation_queries.h"
#include "projections/escalation_reports.h"

namespace attendance::projections {
namespace {

using testing::D;
using testing::EventLog;

v1::EscalationPolicy SeedPolicy() { return esc_test::LoadPolicy(esc_test::kSeed000); }

v1::SchoolSettings Settings(const char* am_close, const char* pm_close) {
  v1::SchoolSettings settings;
  settings.set_school_name("Test");
  settings.set_am_register_closes(am_close);
  settings.set_pm_register_closes(pm_close);
  return settings;
}

// A random school: pupils with random marks (some unmarked, some recorded
// late), amendments days later, letters, home visits answering the
// trigger, a meeting with a review; the register close times and the
// calendar changed mid-way. Events in the order they were recorded.
std::vector<v1::EventEnvelope> RandomSchool(std::uint32_t seed, const v1::EscalationPolicy& policy,
                                            int pupils_at_least = 6) {
  std::mt19937 rng(seed);
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<std::uint32_t>(n)); };
  const std::vector<std::string> codes = {"/", "/", "/", "/", "/", "I", "M", "O", "N", "G", "U"};
  ledger::SchoolCalendar calendar;
  calendar.Set(testing::StandardCalendar(2025));
  EventLog log("school-1");
  log.Settings(Settings("09:20", "13:30"), D("2025-08-01"));
  log.Calendar(testing::StandardCalendar(2025), D("2025-08-01"));
  log.Policy(policy, D("2025-08-01"));
  log.Settings(Settings("09:30", "13:45"), D("2025-10-13"));
  log.Calendar(testing::StandardCalendar(2025, {D("2025-11-14")}), D("2025-11-03"));
  const int pupils = pupils_at_least + pick(6);
  for (int p = 0; p < pupils; ++p) {
    const std::string id = absl::StrCat("P", p);
    log.Enrol(testing::MakePupil(id, 4), D("2025-09-01") + (p % 4 == 3 ? pick(40) : 0),
              D("2025-08-20"));
    const bool truant = pick(3) == 0;
    for (Day d = D("2025-09-01"); d <= D("2025-12-12"); ++d) {
      if (!calendar.IsSchoolDay(d)) continue;
      for (int s = 0; s < 2; ++s) {
        if (pick(25) == 0) continue;  // register not taken for this pupil
        std::string code = codes[static_cast<std::size_t>(pick(static_cast<int>(codes.size())))];
        if (truant && pick(3) != 0) code = "O";
        const Day recorded = d + (pick(10) == 0 ? 1 + pick(3) : 0);
        const v1::Session session = s == 0 ? v1::AM : v1::PM;
        log.Mark(id, d, session, code, recorded);
        if (pick(7) == 0) {
          const std::string to = code == "O" ? "I" : "O";
          log.Amend(id, d, session, code, to, recorded + pick(15));
        }
      }
    }
    if (pick(2) == 0) log.Letter(id, "letter_1", D("2025-09-29") + pick(30));
    if (pick(2) == 0) {
      log.Action(id, absl::StrCat("visit-", p), v1::HOME_VISIT_MADE, D("2025-09-10") + pick(80))
          .set_trigger_id("home_visit_3_days");
    }
    if (pick(3) == 0) {
      const Day meeting = D("2025-09-15") + pick(60);
      v1::ActionRecorded& m = log.Action(id, absl::StrCat("meet-", p), v1::MEETING_HELD, meeting);
      m.set_step_id("letter_2");
      m.set_target_basis_points(9000 + static_cast<std::uint32_t>(pick(900)));
      m.set_review_on(ledger::FormatDate(meeting + 1 + pick(30)));
    }
  }
  std::vector<v1::EventEnvelope> events = log.events();
  std::stable_sort(events.begin(), events.end(),
                   [](const v1::EventEnvelope& a, const v1::EventEnvelope& b) {
                     return a.recorded_at_us() < b.recorded_at_us();
                   });
  for (std::size_t i = 0; i < events.size(); ++i) events[i].set_position(i + 1);
  return events;
}

v1::ListDueActionsResponse Worklist(const EscalationState& state, Day as_of, const char* time,
                                    bool superseded) {
  v1::ListDueActionsRequest request;
  request.set_school_id("school-1");
  request.set_as_of(ledger::FormatDate(as_of));
  request.set_as_of_time(time);
  request.set_include_superseded(superseded);
  request.set_page_size(kMaxDueActionsPage);
  absl::StatusOr<v1::ListDueActionsResponse> response = QueryDueActions(state, request, as_of);
  REQUIRE(response.ok());
  return *response;
}

v1::ListDueActionsResponse Uncached(const EscalationState& state, Day as_of, const char* time,
                                    bool superseded) {
  state.results().set_enabled(false);
  v1::ListDueActionsResponse response = Worklist(state, as_of, time, superseded);
  state.results().set_enabled(true);
  return response;
}

TEST_CASE("the worklist kept between calls equals the worklist evaluated afresh, event by event",
          "[escalation][cache][property]") {
  const v1::EscalationPolicy policy = SeedPolicy();
  // Minutes on both sides of each register's close, before and after the
  // settings change moves them.
  const std::vector<const char*> times = {"08:00", "09:20", "09:21", "09:31", "13:30",
                                          "13:31", "13:46", "23:00", ""};
  std::uint64_t hits = 0, invalidated = 0, compared = 0, with_actions = 0;
  for (std::uint32_t seed = 1; seed <= 8; ++seed) {
    const std::vector<v1::EventEnvelope> events = RandomSchool(seed, policy);
    std::mt19937 rng(seed * 7919);
    EscalationState state;
    std::size_t next = 3;  // settings, calendar, policy: the worklist needs a policy
    for (std::size_t i = 0; i < next; ++i) state.Apply(events[i]);
    // A handful of dates asked again and again, as an office refreshes its
    // worklist, while the history grows under them.
    std::vector<Day> dates;
    for (int i = 0; i < 4; ++i) dates.push_back(D("2025-09-08") + static_cast<Day>(rng() % 100));
    while (next < events.size()) {
      // Mostly a few events (a late mark, an amendment), sometimes a day's.
      const std::size_t step = rng() % 4 == 0 ? 1 + rng() % 120 : 1 + rng() % 4;
      for (std::size_t i = 0; i < step && next < events.size(); ++i) state.Apply(events[next++]);
      const Day latest = ledger::SchoolLocalDay(events[next - 1].recorded_at_us());
      for (int q = 0; q < 3; ++q) {
        const Day as_of = q == 0 ? latest : dates[rng() % dates.size()];
        const char* time = times[rng() % times.size()];
        const bool superseded = rng() % 2 == 0;
        INFO("seed " << seed << " after event " << next << " as of " << ledger::FormatDate(as_of)
                     << " " << time << (superseded ? " with superseded" : ""));
        const v1::ListDueActionsResponse cached = Worklist(state, as_of, time, superseded);
        const v1::ListDueActionsResponse fresh = Uncached(state, as_of, time, superseded);
        REQUIRE(google::protobuf::util::MessageDifferencer::Equals(cached, fresh));
        ++compared;
        if (cached.total() > 0) ++with_actions;
      }
    }
    hits += state.results().stats().hits;
    invalidated += state.results().stats().invalidated;
  }
  // The comparisons are only worth something if results were reused and
  // dropped along the way, and the lists were not empty.
  CHECK(compared > 500);
  CHECK(hits > 2 * compared);
  CHECK(invalidated > compared);
  CHECK(with_actions > compared / 2);
}

std::uint32_t DueFor(const v1::ListDueActionsResponse& r, const std::string& pupil,
                     const std::string& rule) {
  return static_cast<std::uint32_t>(std::count_if(
      r.actions().begin(), r.actions().end(),
      [&](const v1::DueAction& a) { return a.pupil_id() == pupil && a.rule_id() == rule; }));
}

TEST_CASE("a new event for a pupil changes that pupil's answer; the others' are kept",
          "[escalation][cache]") {
  const v1::EscalationPolicy policy = SeedPolicy();
  EventLog log("school-1");
  log.Settings(Settings("09:20", "13:30"), D("2025-08-01"));
  log.Calendar(testing::StandardCalendar(2025), D("2025-08-01"));
  log.Policy(policy, D("2025-08-01"));
  ledger::SchoolCalendar calendar;
  calendar.Set(testing::StandardCalendar(2025));
  for (const char* id : {"P1", "P2", "P3"}) {
    log.Enrol(testing::MakePupil(id, 4), D("2025-09-01"), D("2025-08-20"));
    for (Day d = D("2025-09-01"); d <= D("2025-10-02"); ++d) {
      if (!calendar.IsSchoolDay(d)) continue;
      log.Mark(id, d, v1::AM, "/");
      log.Mark(id, d, v1::PM, "\\");
    }
  }
  EscalationState state;
  for (const v1::EventEnvelope& e : log.events()) state.Apply(e);
  // Friday 3 October, before its morning register closes.
  const Day as_of = D("2025-10-03");
  v1::ListDueActionsResponse before = Worklist(state, as_of, "08:00", false);
  CHECK(DueFor(before, "P2", "home_visit_3_days") == 0);
  CHECK(Worklist(state, as_of, "08:00", false).total() == before.total());
  const EscalationResultCache::Stats warm = state.results().stats();
  CHECK(warm.hits == 3);

  // Three whole days of O for P2, amended on 2 October: the home visit
  // falls due for P2 only.
  EventLog more("school-1");
  for (const char* day : {"2025-09-29", "2025-09-30", "2025-10-01"}) {
    more.Amend("P2", D(day), v1::AM, "/", "O", D("2025-10-02"));
    more.Amend("P2", D(day), v1::PM, "\\", "O", D("2025-10-02"));
  }
  for (v1::EventEnvelope e : more.events()) {
    e.set_position(state.position() + 1);
    state.Apply(e);
  }
  const v1::ListDueActionsResponse after = Worklist(state, as_of, "08:00", false);
  CHECK(DueFor(after, "P2", "home_visit_3_days") == 1);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(after,
                                                           Uncached(state, as_of, "08:00", false)));
  const EscalationResultCache::Stats stats = state.results().stats();
  // P2 only: its due actions, then (on the page now) their explanations.
  CHECK(stats.misses - warm.misses == 2);
  CHECK(stats.hits - warm.hits == 2);                // P1 and P3 kept
  CHECK(stats.invalidated - warm.invalidated == 1);  // dropped once, then nothing left

  // The time of day within one register bucket is one result; past the
  // close it is another (register not taken for P1 and P3 this morning).
  Worklist(state, as_of, "09:00", false);
  CHECK(state.results().stats().misses == stats.misses);
  CHECK(DueFor(Worklist(state, as_of, "09:20", false), "P1", "register_not_taken") == 0);
  const v1::ListDueActionsResponse closed = Worklist(state, as_of, "09:21", false);
  // Each pupil's due actions, then the explanations of the three on the page.
  CHECK(state.results().stats().misses == stats.misses + 6);
  CHECK(DueFor(closed, "P1", "register_not_taken") == 1);

  // A school-level event drops the school's results.
  EventLog settings("school-1");
  settings.Settings(Settings("09:40", "13:30"), D("2025-10-02"));
  v1::EventEnvelope e = settings.events().front();
  e.set_position(state.position() + 1);
  state.Apply(e);
  CHECK(state.results().stats().entries == 0);
  const v1::ListDueActionsResponse later = Worklist(state, as_of, "09:21", false);
  CHECK(DueFor(later, "P1", "register_not_taken") == 0);  // now open until 09:40
}

// The result with every explanation left out, as EvaluatePupil gives it
// with explain = false.
v1::PupilEscalation WithoutExplanations(v1::PupilEscalation r) {
  for (v1::DueAction& due : *r.mutable_due()) due.clear_explanation();
  for (v1::DueAction& due : *r.mutable_superseded()) due.clear_explanation();
  for (v1::NearMiss& miss : *r.mutable_near_misses()) miss.clear_explanation();
  for (v1::BandPlacement& band : *r.mutable_bands()) band.clear_explanation();
  for (v1::LadderState& ladder : *r.mutable_ladders()) {
    if (ladder.has_monitoring()) ladder.mutable_monitoring()->clear_explanation();
  }
  return r;
}

TEST_CASE("an evaluation without explanations is the explained one with its explanations left out",
          "[escalation][cache][property]") {
  const v1::EscalationPolicy policy = SeedPolicy();
  std::uint64_t compared = 0, due = 0, superseded = 0, explained = 0;
  for (std::uint32_t seed = 1; seed <= 6; ++seed) {
    const std::vector<v1::EventEnvelope> events = RandomSchool(seed, policy);
    EscalationState state;
    for (const v1::EventEnvelope& e : events) state.Apply(e);
    const SchoolState* school = state.attendance().FindSchool("school-1");
    REQUIRE(school != nullptr);
    std::mt19937 rng(seed);
    for (int i = 0; i < 60; ++i) {
      const Day as_of = D("2025-09-08") + static_cast<Day>(rng() % 110);
      for (const PupilState& pupil : school->pupils) {
        ledger::SchoolCalendar scratch;
        EscalationInputs in = state.InputsFor("school-1", pupil.id, as_of, &scratch);
        in.as_of_minute = static_cast<int>(rng() % kEndOfDay);
        in.due_only = rng() % 2 == 0;
        INFO("seed " << seed << " pupil " << pupil.id << " as of " << ledger::FormatDate(as_of)
                     << (in.due_only ? " due only" : ""));
        const v1::PupilEscalation full = EvaluatePupil(in, as_of);
        in.explain = false;
        const v1::PupilEscalation light = EvaluatePupil(in, as_of);
        REQUIRE(google::protobuf::util::MessageDifferencer::Equals(WithoutExplanations(full),
                                                                   WithoutExplanations(light)));
        for (const v1::DueAction& d : light.due()) CHECK(d.explanation().sentence().empty());
        for (const v1::DueAction& d : full.due()) explained += !d.explanation().sentence().empty();
        ++compared;
        due += static_cast<std::uint64_t>(full.due_size());
        superseded += static_cast<std::uint64_t>(full.superseded_size());
      }
    }
  }
  CHECK(compared > 1000);
  CHECK(due > compared / 4);
  CHECK(superseded > 20);
  CHECK(explained == due);
}

// The worklist's pupils, each evaluated alone and explained, sorted as the
// worklist sorts: what every page, of any school size, must add up to.
std::vector<v1::DueAction> EveryPupilAlone(const EscalationState& state, Day as_of,
                                           bool with_superseded) {
  std::vector<v1::DueAction> expected;
  for (const PupilState& pupil : state.attendance().FindSchool("school-1")->pupils) {
    if (!pupil.OnRollDuring(as_of, as_of, as_of)) continue;
    ledger::SchoolCalendar scratch;
    EscalationInputs in = state.InputsFor("school-1", pupil.id, as_of, &scratch);
    in.due_only = true;
    const v1::PupilEscalation r = EvaluatePupil(in, as_of);
    expected.insert(expected.end(), r.due().begin(), r.due().end());
    if (with_superseded) {
      expected.insert(expected.end(), r.superseded().begin(), r.superseded().end());
    }
  }
  std::stable_sort(expected.begin(), expected.end(),
                   [](const v1::DueAction& a, const v1::DueAction& b) {
                     if (a.priority() != b.priority()) return a.priority() > b.priority();
                     return std::tie(a.due_on(), a.pupil_id(), a.rule_id()) <
                            std::tie(b.due_on(), b.pupil_id(), b.rule_id());
                   });
  return expected;
}

// The whole worklist for `as_of`, fetched page by page; every page says the
// list has `expected_total` actions.
std::vector<v1::DueAction> AllPages(const EscalationState& state, Day as_of, bool with_superseded,
                                    std::uint32_t page_size, std::size_t expected_total) {
  v1::ListDueActionsRequest request;
  request.set_school_id("school-1");
  request.set_as_of(ledger::FormatDate(as_of));
  request.set_include_superseded(with_superseded);
  request.set_page_size(page_size);
  std::vector<v1::DueAction> got;
  do {
    absl::StatusOr<v1::ListDueActionsResponse> page = QueryDueActions(state, request, as_of);
    REQUIRE(page.ok());
    CHECK(page->total() == expected_total);
    got.insert(got.end(), page->actions().begin(), page->actions().end());
    request.set_page_token(page->next_page_token());
  } while (!request.page_token().empty());
  return got;
}

void RequireSameActions(const std::vector<v1::DueAction>& got,
                        const std::vector<v1::DueAction>& expected) {
  REQUIRE(got.size() == expected.size());
  for (std::size_t k = 0; k < got.size(); ++k) {
    INFO("action " << k << ": " << got[k].ShortDebugString());
    REQUIRE(google::protobuf::util::MessageDifferencer::Equals(got[k], expected[k]));
  }
}

// escalation_batch.cc evaluates a worklist's pupils on two threads once
// there are enough of them (64 a thread): a school of 150 and more takes
// that path, whose answers must be the one-pupil-at-a-time answers.
TEST_CASE("a worklist evaluated on two threads equals every pupil evaluated alone",
          "[escalation][cache][property]") {
  const v1::EscalationPolicy policy = SeedPolicy();
  std::uint64_t listed = 0;
  for (std::uint32_t seed = 1; seed <= 2; ++seed) {
    const std::vector<v1::EventEnvelope> events = RandomSchool(seed, policy, 150);
    EscalationState state;
    for (const v1::EventEnvelope& e : events) state.Apply(e);
    REQUIRE(state.attendance().FindSchool("school-1")->pupils.size() >= 150);
    std::mt19937 rng(seed * 131);
    for (int i = 0; i < 4; ++i) {
      const Day as_of = D("2025-09-08") + static_cast<Day>(rng() % 110);
      const bool with_superseded = i % 2 == 0;
      INFO("seed " << seed << " as of " << ledger::FormatDate(as_of));
      const std::vector<v1::DueAction> expected = EveryPupilAlone(state, as_of, with_superseded);
      // Evaluated afresh on both threads, then kept.
      for (int pass = 0; pass < 2; ++pass) {
        state.results().set_enabled(pass == 1);
        RequireSameActions(
            AllPages(state, as_of, with_superseded, kMaxDueActionsPage, expected.size()), expected);
      }
      listed += expected.size();
    }
  }
  CHECK(listed > 200);
}

TEST_CASE("the worklist's pages equal every pupil evaluated with explanations, sorted",
          "[escalation][cache][property]") {
  const v1::EscalationPolicy policy = SeedPolicy();
  std::uint64_t listed = 0;
  for (std::uint32_t seed = 1; seed <= 5; ++seed) {
    const std::vector<v1::EventEnvelope> events = RandomSchool(seed, policy);
    EscalationState state;
    for (const v1::EventEnvelope& e : events) state.Apply(e);
    std::mt19937 rng(seed * 31);
    for (int i = 0; i < 12; ++i) {
      const Day as_of = D("2025-09-08") + static_cast<Day>(rng() % 110);
      const bool with_superseded = rng() % 2 == 0;
      INFO("seed " << seed << " as of " << ledger::FormatDate(as_of));
      // The worklist as first written: each pupil explained, all sorted.
      const std::vector<v1::DueAction> expected = EveryPupilAlone(state, as_of, with_superseded);
      // Paged (7 a page), twice: evaluated, then kept.
      for (int pass = 0; pass < 2; ++pass) {
        RequireSameActions(AllPages(state, as_of, with_superseded, 7, expected.size()), expected);
      }
      listed += expected.size();
    }
  }
  CHECK(listed > 100);
}

TEST_CASE("the cache stays within its memory bound; a decoded state starts empty",
          "[escalation][cache]") {
  const v1::EscalationPolicy policy = SeedPolicy();
  const std::vector<v1::EventEnvelope> events = RandomSchool(3, policy);
  EscalationState state;
  for (const v1::EventEnvelope& e : events) state.Apply(e);
  state.results().set_max_bytes(64 * 1024);
  for (Day d = D("2025-09-08"); d <= D("2025-12-12"); ++d) Worklist(state, d, "", true);
  const EscalationResultCache::Stats stats = state.results().stats();
  CHECK(stats.bytes <= 64 * 1024);
  CHECK(stats.evicted > 0);
  CHECK(stats.entries > 0);
  // A state decoded from a checkpoint starts with nothing kept.
  absl::StatusOr<EscalationState> decoded = EscalationState::Decode(state.Encode());
  REQUIRE(decoded.ok());
  CHECK(decoded->results().stats().entries == 0);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(
      Worklist(*decoded, D("2025-12-12"), "", true), Worklist(state, D("2025-12-12"), "", true)));
}

TEST_CASE("SimulatePolicy shared among threads equals one thread", "[escalation][simulation]") {
  const v1::EscalationPolicy policy = SeedPolicy();
  v1::SimulatePolicyRequest request;
  request.set_school_id("school-1");
  *request.mutable_policy() = policy;
  request.mutable_policy()->set_version("what-if");
  for (v1::Ladder& ladder : *request.mutable_policy()->mutable_ladders()) {
    for (v1::LadderStep& step : *ladder.mutable_steps()) {
      if (step.attendance().basis_points() == 9500)
        step.mutable_attendance()->set_basis_points(9400);
    }
  }
  request.set_from("2025-09-01");
  request.set_to("2025-12-12");
  std::uint32_t due = 0;
  for (std::uint32_t seed : {2u, 5u, 9u}) {
    INFO("seed " << seed);
    const std::vector<v1::EventEnvelope> events = RandomSchool(seed, policy);
    EscalationState state;
    for (const v1::EventEnvelope& e : events) state.Apply(e);
    absl::StatusOr<v1::SimulatePolicyResponse> one =
        SimulatePolicy(state, request, D("2025-12-12"), 1);
    REQUIRE(one.ok());
    for (unsigned threads : {2u, 3u}) {
      absl::StatusOr<v1::SimulatePolicyResponse> shared =
          SimulatePolicy(state, request, D("2025-12-12"), threads);
      REQUIRE(shared.ok());
      CHECK(google::protobuf::util::MessageDifferencer::Equals(*one, *shared));
    }
    for (const v1::HalfTermSimulation& h : one->half_terms()) {
      for (const v1::RuleTally& t : h.simulated()) due += t.due();
    }
  }
  CHECK(due > 10);  // the tallies compared are not all zeros
}

}  // namespace
}  // namespace attendance::projections
