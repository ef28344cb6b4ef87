// Writes the seed corpus of every fuzz target into <dir>/<target>/: a few
// valid (and a few nearly valid) requests, events and checkpoints, made
// against the school of SetUpSchool. Deterministic: the clock is fixed, so
// re-running it rewrites the same bytes.
//
//   build-fuzz/tests/fuzz/make_fuzz_corpus tests/fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "fuzz_support.h"
#include "google/protobuf/util/delimited_message_util.h"
#include "projections/attendance_queries.h"
#include "projections/attendance_state.h"
#include "request_kinds.h"
#include "support/fixtures.h"

namespace attendance::fuzz {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) Fail("cannot write " + (dir / name).string());
}

void WriteRequest(const fs::path& dir, const std::string& name, RequestKind kind,
                  const google::protobuf::Message& request, int actor = 0) {
  Write(
      dir, name,
      std::string(1, static_cast<char>(RequestHeader(kind, actor))) + request.SerializeAsString());
}

void WriteQuery(const fs::path& dir, const std::string& name, QueryKind kind,
                const google::protobuf::Message& request) {
  Write(dir, name, std::string(1, static_cast<char>(kind)) + request.SerializeAsString());
}

std::string Delimited(const std::vector<v1::EventEnvelope>& events, std::size_t from,
                      std::size_t to) {
  std::ostringstream out;
  for (std::size_t i = from; i < to && i < events.size(); ++i) {
    google::protobuf::util::SerializeDelimitedToOstream(events[i], &out);
  }
  return out.str();
}

// A meeting for p1 with a target and a review date (before kNowUs).
v1::RecordActionRequest MeetingAction() {
  v1::RecordActionRequest action;
  action.set_school_id("s1");
  action.set_request_id("fz-action-1");
  action.set_pupil_id("p1");
  action.set_action_id("meeting-1");
  action.set_kind(v1::MEETING_HELD);
  action.set_step_id("letter_2");
  action.set_happened_on("2025-10-06");
  action.set_outcome("Target agreed");
  action.set_target_basis_points(9600);
  action.set_review_on("2025-11-07");
  return action;
}

void LedgerRequests(const fs::path& dir) {
  v1::RecordMarksRequest marks;
  marks.set_school_id("s1");
  marks.set_request_id("fz-marks-1");
  *marks.add_marks() = testing::MakeMark("p1", "2025-09-15", v1::AM, "/");
  v1::Mark late = testing::MakeMark("p2", "2025-09-15", v1::AM, "L");
  late.set_minutes_late(12);
  late.set_comment("Bus late");
  *marks.add_marks() = late;
  *marks.add_marks() = testing::MakeMark("p3", "2025-09-15", v1::PM, "I");
  WriteRequest(dir, "record_marks", kRecordMarks, marks, 1);

  v1::RecordMarksRequest closure = marks;  // the INSET day and an unknown code
  closure.set_request_id("fz-marks-2");
  closure.mutable_marks(0)->set_date("2025-09-19");
  closure.mutable_marks(1)->set_code("H");
  WriteRequest(dir, "record_marks_rejected", kRecordMarks, closure, 1);

  v1::RecordMarksRequest year7_closed;  // p1 is in year 7, p4 in year 8 (and left on 30 Sep)
  year7_closed.set_school_id("s1");
  *year7_closed.add_marks() = testing::MakeMark("p1", "2025-10-01", v1::AM, "/");
  *year7_closed.add_marks() = testing::MakeMark("p4", "2025-10-01", v1::PM, "/");
  WriteRequest(dir, "record_marks_closure", kRecordMarks, year7_closed, 1);

  v1::RecordMarksRequest stream = marks;
  stream.set_request_id("fz-stream-1");
  for (v1::Mark& m : *stream.mutable_marks()) m.set_date("2025-09-16");
  WriteRequest(dir, "stream_marks", kRecordMarksAsync, stream, 1);

  v1::RecordMarksRequest euro;  // thirty "€": an id whose message gets cut inside a character
  std::string euros;
  for (int i = 0; i < 30; ++i) euros += "\xe2\x82\xac";
  euro.set_school_id(euros);
  *euro.add_marks() = testing::MakeMark("p1", "2025-09-15", v1::AM, "/");
  WriteRequest(dir, "record_marks_multibyte", kRecordMarks, euro, 1);

  v1::AmendMarkRequest amend;
  amend.set_school_id("s1");
  amend.set_request_id("fz-amend-1");
  amend.set_pupil_id("p3");
  amend.set_date("2025-09-10");
  amend.set_session(v1::AM);
  amend.set_amended_code("I");
  amend.set_reason("Parent phoned");
  amend.set_expected_code("N");
  WriteRequest(dir, "amend_mark", kAmendMark, amend);
  v1::AmendMarkRequest stale = amend;
  stale.set_request_id("fz-amend-2");
  stale.set_date("2025-09-11");
  stale.set_expected_code("/");
  stale.set_expected_stream_version(3);
  WriteRequest(dir, "amend_mark_stale", kAmendMark, stale);

  v1::RecordLetterRequest letter;
  letter.set_school_id("s1");
  letter.set_request_id("fz-letter-1");
  letter.set_pupil_id("p1");
  letter.set_letter_id("second-warning");
  letter.set_channel(v1::POST);
  letter.set_sent_on("2025-10-06");
  letter.set_note("Meeting offered");
  WriteRequest(dir, "record_letter", kRecordLetter, letter);

  v1::EnrolPupilRequest enrol = testing::Enrol("s1", "p5", "2025-10-06", 9);
  enrol.set_request_id("fz-enrol-1");
  enrol.mutable_pupil()->set_looked_after(true);
  WriteRequest(dir, "enrol_pupil", kEnrolPupil, enrol);
  WriteRequest(dir, "enrol_pupil_again", kEnrolPupil, testing::Enrol("s1", "p1"));

  v1::UpdatePupilRequest update;
  update.set_school_id("s1");
  update.set_request_id("fz-update-1");
  *update.mutable_pupil() = testing::Enrol("s1", "p2").pupil();
  update.mutable_pupil()->set_class_name("7C");
  update.mutable_pupil()->set_send(v1::EHC_PLAN);
  update.set_effective_from("2025-10-01");
  WriteRequest(dir, "update_pupil", kUpdatePupil, update);

  v1::RemoveFromRollRequest leave;
  leave.set_school_id("s1");
  leave.set_request_id("fz-leave-1");
  leave.set_pupil_id("p3");
  leave.set_last_day_on_roll("2025-10-03");
  leave.set_reason("Moved school");
  WriteRequest(dir, "remove_from_roll", kRemoveFromRoll, leave);

  v1::SetSchoolCalendarRequest calendar = testing::Calendar2025("s2");
  calendar.set_request_id("fz-calendar-1");
  WriteRequest(dir, "set_calendar", kSetSchoolCalendar, calendar);
  v1::SetSchoolCalendarRequest overlap = testing::Calendar2025("s1");
  overlap.mutable_calendar()->mutable_terms(0)->mutable_half_terms(1)->set_first_day("2025-10-20");
  WriteRequest(dir, "set_calendar_overlap", kSetSchoolCalendar, overlap);

  v1::SetSchoolSettingsRequest settings = testing::Settings("s1");
  settings.set_request_id("fz-settings-1");
  settings.mutable_settings()->set_min_possible_sessions(10);
  settings.mutable_settings()->set_n_code_deadline_school_days(5);
  settings.mutable_settings()->add_rolling_window_weeks(3);
  settings.mutable_settings()->add_rolling_window_weeks(8);
  settings.mutable_settings()->set_persistent_absence_exclusive(true);
  WriteRequest(dir, "set_settings", kSetSchoolSettings, settings);
  WriteRequest(dir, "set_settings_new_school", kSetSchoolSettings, testing::Settings("s3"));
  WriteRequest(dir, "set_settings_no_actor", kSetSchoolSettings, testing::Settings("s4"), 2);

  // A small escalation policy: a band set, a two-step ladder, a trigger.
  v1::SetEscalationPolicyRequest policy;
  policy.set_school_id("s1");
  policy.set_request_id("fz-policy-1");
  v1::EscalationPolicy* p = policy.mutable_policy();
  p->set_policy_id("fz-policy");
  p->set_version("1");
  v1::BandSet* bands = p->add_band_sets();
  bands->set_band_set_id("bands");
  bands->mutable_window()->set_kind(v1::POLICY_YEAR_TO_DATE);
  v1::Band* low = bands->add_bands();
  low->set_band_id("low");
  low->set_lower_inclusive(true);
  low->set_upper_basis_points(9000);
  v1::CountedTrigger* trigger = p->add_triggers();
  trigger->set_trigger_id("pn");
  trigger->set_kind(v1::COUNT_IN_WINDOW);
  trigger->set_unit(v1::SESSIONS);
  trigger->add_codes("O");
  trigger->set_threshold(10);
  trigger->mutable_window()->set_kind(v1::POLICY_ROLLING_SCHOOL_WEEKS);
  trigger->mutable_window()->set_weeks(10);
  v1::Ladder* ladder = p->add_ladders();
  ladder->set_ladder_id("letters");
  v1::LadderStep* first = ladder->add_steps();
  first->set_step_id("letter_1");
  first->set_action(v1::LETTER);
  first->mutable_attendance()->mutable_window()->set_kind(v1::POLICY_YEAR_TO_DATE);
  first->mutable_attendance()->set_basis_points(9500);
  first->mutable_attendance()->set_comparison(v1::BELOW);
  first->set_monitoring_school_days(10);
  first->set_improvement_kind(v1::YEAR_TO_DATE_RISES);
  v1::LadderStep* second = ladder->add_steps();
  second->set_step_id("letter_2");
  second->set_action(v1::LETTER);
  second->set_after_step("letter_1");
  second->set_no_improvement(true);
  WriteRequest(dir, "set_escalation_policy", kSetEscalationPolicy, policy);
  v1::SetEscalationPolicyRequest dangling = policy;
  dangling.mutable_policy()->mutable_ladders(0)->mutable_steps(1)->set_after_step("letter_9");
  WriteRequest(dir, "set_escalation_policy_dangling", kSetEscalationPolicy, dangling);

  WriteRequest(dir, "record_action", kRecordAction, MeetingAction());
  v1::RecordActionRequest notice = MeetingAction();  // a penalty notice without its parent
  notice.set_request_id("fz-action-2");
  notice.set_action_id("pn-1");
  notice.set_kind(v1::PENALTY_NOTICE_ISSUED);
  notice.clear_target_basis_points();
  notice.clear_review_on();
  notice.set_trigger_id("pn");
  WriteRequest(dir, "record_action_no_parent", kRecordAction, notice);

  // A leave request (p1 has no carers in the corpus's history: refused) and
  // an approval of it.
  v1::RequestLeaveRequest request_leave;
  request_leave.set_school_id("s1");
  request_leave.set_request_id("fz-leave-1");
  request_leave.set_pupil_id("p1");
  request_leave.set_leave_id("leave-1");
  request_leave.set_first_date("2025-10-20");
  request_leave.set_first_session(v1::AM);
  request_leave.set_last_date("2025-10-21");
  request_leave.set_last_session(v1::PM);
  request_leave.set_reason("family funeral");
  request_leave.set_requested_by("carer-1");
  WriteRequest(dir, "request_leave", kRequestLeave, request_leave);
  v1::DecideLeaveRequest decide;
  decide.set_school_id("s1");
  decide.set_request_id("fz-decide-1");
  decide.set_pupil_id("p1");
  decide.set_leave_id("leave-1");
  decide.set_approved(true);
  decide.set_reason("exceptional circumstances");
  WriteRequest(dir, "decide_leave", kDecideLeave, decide);
  // An imported week-later mark with two amendments at the source's times
  // (2025-09-15 09:05 BST, then the 16th and 17th), and the same import
  // with its amendments out of time order.
  v1::ImportHistoryRequest import;
  import.set_school_id("s1");
  import.set_request_id("fz-import-1");
  import.set_source("SIMS");
  v1::ImportedMark* imported = import.add_marks();
  imported->set_pupil_id("p2");
  imported->set_date("2025-09-15");
  imported->set_session(v1::AM);
  imported->set_code("N");
  imported->set_taken_at_us(1'757'923'500'000'000);
  imported->mutable_taken_by()->set_name("Miss C. Patel");
  for (const auto& [code, day] : {std::pair{"O", 1}, std::pair{"I", 2}}) {
    v1::ImportedAmendment* amendment = imported->add_amendments();
    amendment->set_amended_code(code);
    amendment->set_reason("parent replied");
    amendment->set_amended_at_us(1'757'923'500'000'000 + day * 86'400'000'000);
  }
  WriteRequest(dir, "import_history", kImportHistory, import);
  v1::ImportHistoryRequest disordered = import;
  disordered.set_request_id("fz-import-2");
  disordered.mutable_marks(0)->mutable_amendments(1)->set_amended_at_us(1'757'923'500'000'000);
  WriteRequest(dir, "import_history_disordered", kImportHistory, disordered);
}

void Queries(const fs::path& dir, const projections::AttendanceState& state) {
  v1::GetPupilAttendanceRequest pupil;
  pupil.set_school_id("s1");
  pupil.set_pupil_id("p1");
  WriteQuery(dir, "pupil", kPupilAttendance, pupil);
  pupil.set_pupil_id("p4");
  pupil.set_as_of("2025-09-12");
  WriteQuery(dir, "pupil_as_of", kPupilAttendance, pupil);

  v1::ListPupilAttendanceRequest list;
  list.set_school_id("s1");
  list.set_page_size(2);
  list.mutable_window()->set_kind(v1::CURRENT_TERM);
  WriteQuery(dir, "list", kPupilList, list);
  absl::StatusOr<v1::ListPupilAttendanceResponse> first =
      projections::QueryPupilList(state, list, Today());
  if (!first.ok() || first->next_page_token().empty()) Fail("no second page to seed");
  list.set_page_token(first->next_page_token());
  WriteQuery(dir, "list_page_2", kPupilList, list);

  v1::ListPupilAttendanceRequest filtered;
  filtered.set_school_id("s1");
  filtered.mutable_window()->set_kind(v1::ROLLING_SCHOOL_WEEKS);
  filtered.mutable_window()->set_weeks(4);
  filtered.set_min_percent(50);
  filtered.set_max_percent(95);
  filtered.set_descending(true);
  filtered.set_only_persistent_absence(true);
  v1::CohortFilter* year = filtered.add_cohort();
  year->set_attribute(v1::YEAR_GROUP);
  year->set_value("7");
  v1::CohortFilter* sex = filtered.add_cohort();
  sex->set_attribute(v1::SEX);
  sex->set_value("FEMALE");
  filtered.set_as_of("2025-09-30");
  WriteQuery(dir, "list_filtered", kPupilList, filtered);

  v1::GetCohortAttendanceRequest cohorts;
  cohorts.set_school_id("s1");
  cohorts.add_group_by(v1::YEAR_GROUP);
  cohorts.add_group_by(v1::SEND);
  WriteQuery(dir, "cohorts", kCohorts, cohorts);
  cohorts.clear_group_by();
  cohorts.add_group_by(v1::DISADVANTAGED);
  cohorts.mutable_window()->set_kind(v1::PREVIOUS_ACADEMIC_YEAR);
  cohorts.mutable_window()->set_years_back(1);
  cohorts.set_as_of("2026-09-02");
  WriteQuery(dir, "cohorts_previous_year", kCohorts, cohorts);
  cohorts.Clear();
  cohorts.set_school_id("s1");
  cohorts.mutable_window()->set_kind(v1::CURRENT_HALF_TERM);
  cohorts.add_group_by(v1::CLASS_NAME);
  WriteQuery(dir, "cohorts_half_term", kCohorts, cohorts);
}

int Main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <corpus dir>\n", argv[0]);
    return 2;
  }
  QuietLogs();
  const fs::path root = argv[1];
  for (const char* target : {"ledger_requests", "event_fold", "checkpoint_decode", "queries"}) {
    fs::remove_all(root / target);
  }

  std::vector<v1::EventEnvelope> events;
  {
    FuzzLedger ledger;
    // One action, so that event_fold has a seed of that kind too.
    if (auto s = ledger.ledger->RecordAction(testing::kOfficer, MeetingAction()); !s.ok()) {
      Fail("record action: " + s.status().ToString());
    }
    events = AllEvents(*ledger.ledger);
  }
  projections::AttendanceState state;
  for (const v1::EventEnvelope& event : events) state.Apply(event);

  LedgerRequests(root / "ledger_requests");
  Queries(root / "queries", state);

  // Event batches: the whole set-up, the school alone, one of each kind.
  const fs::path fold = root / "event_fold";
  Write(fold, "all", Delimited(events, 0, events.size()));
  Write(fold, "school_and_pupils", Delimited(events, 0, 6));
  std::vector<bool> seen(64, false);
  for (std::size_t i = 0; i < events.size(); ++i) {
    const auto kind = static_cast<std::size_t>(events[i].payload_case());
    if (kind < seen.size() && !seen[kind]) {
      seen[kind] = true;
      const std::string name =
          events[i].GetDescriptor()->FindFieldByNumber(static_cast<int>(kind))->name();
      Write(fold, "school_and_" + name, [&] {
        std::vector<v1::EventEnvelope> batch(events.begin(), events.begin() + 2);
        batch.push_back(events[i]);
        return Delimited(batch, 0, batch.size());
      }());
    }
  }

  // Checkpoints: the empty state, the school before and after its marks.
  const fs::path checkpoints = root / "checkpoint_decode";
  Write(checkpoints, "empty", projections::AttendanceState().Encode());
  projections::AttendanceState partial;
  for (std::size_t i = 0; i < 6 && i < events.size(); ++i) partial.Apply(events[i]);
  Write(checkpoints, "school_and_pupils", partial.Encode());
  Write(checkpoints, "all", state.Encode());
  return 0;
}

}  // namespace
}  // namespace attendance::fuzz

int main(int argc, char** argv) { return attendance::fuzz::Main(argc, argv); }
