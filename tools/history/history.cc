// The history as dated steps: the year plans turned into ledger commands,
// day by day, in the order of their source times.
#include "history/history.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <variant>
#include <vector>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <google/protobuf/text_format.h>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "history/history_plan.h"
#include "ledger/clock.h"

namespace attendance::history {
namespace {

using ledger::FormatDate;
using ledger::Principal;

const Principal kAdmin{"School Admin", "admin"};
const Principal kOffice{"Mrs A. Office", "attendance_officer"};

v1::SchoolSettings Settings() {
  v1::SchoolSettings settings;
  settings.set_school_name("Oakfield School (synthetic history)");
  settings.set_am_register_closes("09:20");
  settings.set_pm_register_closes("13:30");
  settings.set_min_possible_sessions(20);
  settings.set_n_code_deadline_school_days(5);
  settings.set_retention_years(6);
  for (std::uint32_t w : {4u, 6u, 10u, 12u}) settings.add_rolling_window_weeks(w);
  settings.set_persistent_absence_exclusive(false);
  settings.set_severe_absence_exclusive(false);
  return settings;
}

// Collects one day's steps, then hands them on in time order.
class DayBuffer {
 public:
  DayBuffer(const HistoryOptions& options, const std::function<void(const Step&)>& emit)
      : options_(options), emit_(emit) {}

  template <typename Request>
  void Add(Day day, int minute, int second, const Principal& actor, Request request,
           const std::string& id) {
    if (day > options_.until) return;
    request.set_school_id(options_.school_id);
    request.set_request_id(absl::StrCat("hist-", options_.school_id, "-", id));
    steps_.push_back(
        {LocalInstantUs(day, minute) + second * 1'000'000LL, actor, std::move(request)});
  }
  void Flush() {
    std::stable_sort(steps_.begin(), steps_.end(),
                     [](const Step& a, const Step& b) { return a.at_us < b.at_us; });
    for (const Step& s : steps_) emit_(s);
    steps_.clear();
  }

 private:
  const HistoryOptions& options_;
  const std::function<void(const Step&)>& emit_;
  std::vector<Step> steps_;
};

v1::EnrolPupilRequest Enrol(const PupilRecord& r) {
  v1::EnrolPupilRequest req;
  *req.mutable_pupil() = r.pupil;
  req.set_on_roll_from(FormatDate(r.on_roll_from));
  return req;
}

// A school day's registers as ImportHistory requests, as the school's
// system holds them once their amendments are made: every class's AM and PM
// marks, taken by the class teacher at the register's time, each with the
// office's amendments at their own times. At most kImportMarks marks a
// request, whole classes each.
class RegisterImporter {
 public:
  static constexpr int kImportMarks = 5000;

  RegisterImporter(const School& school, const YearPlan& year,
                   const std::map<std::string, std::vector<size_t>>& classes)
      : school_(school), year_(year), classes_(classes) {
    for (size_t k = 0; k < year.pupils.size(); ++k) {
      for (const Amendment& a : year.pupils[k].amendments) {
        amendments_[{a.day, k, a.session}].push_back(&a);
      }
    }
    for (auto& [mark, list] : amendments_) {
      std::stable_sort(list.begin(), list.end(), [](const Amendment* a, const Amendment* b) {
        return std::pair(a->amend_day, a->minute) < std::pair(b->amend_day, b->minute);
      });
    }
  }

  // Imports the registers of school day `day` on `import_on` at 18:00, with
  // the amendments made by the end of `cut` (all of them without).
  void Emit(size_t day, Day import_on, std::optional<Day> cut, DayBuffer& out) const {
    const Day d = year_.days[day];
    const std::string date = FormatDate(d);
    v1::ImportHistoryRequest request;
    int chunk = 0;
    auto send = [&] {
      if (request.marks().empty()) return;
      std::string id = absl::StrCat("import-", date, "-", chunk++);
      if (cut) absl::StrAppend(&id, "-to-", FormatDate(*cut));
      request.set_source(kSource);
      out.Add(import_on, 18 * 60, 0, kAdmin, std::move(request), id);
      request = v1::ImportHistoryRequest();
    };
    int class_no = 0;
    for (const auto& [key, members] : classes_) {
      v1::ImportHistoryRequest register_marks;
      for (int s = 0; s < 2; ++s) {
        const v1::Session session = s == 0 ? v1::AM : v1::PM;
        const int minute = s == 0 ? 8 * 60 + 46 + class_no % 12 : 13 * 60 + 3 + class_no % 10;
        const std::int64_t taken_at =
            LocalInstantUs(d, minute) + (class_no * 17) % 60 * 1'000'000LL;
        for (size_t k : members) {
          const Entry& e = year_.pupils[k].entries[day][static_cast<size_t>(s)];
          if (e.code.empty()) continue;
          v1::ImportedMark* mark = register_marks.add_marks();
          mark->set_pupil_id(school_.records[year_.pupils[k].record].pupil.pupil_id());
          mark->set_date(date);
          mark->set_session(session);
          mark->set_code(e.code);
          mark->set_minutes_late(e.minutes_late);
          mark->set_comment(e.comment);
          mark->mutable_taken_by()->set_name(year_.class_teacher.at(key));
          mark->mutable_taken_by()->set_role("teacher");
          mark->set_taken_at_us(taken_at);
          auto found = amendments_.find({day, k, session});
          if (found == amendments_.end()) continue;
          for (const Amendment* a : found->second) {
            const Day on = year_.days[a->amend_day];
            if (cut && on > *cut) break;
            v1::ImportedAmendment* amendment = mark->add_amendments();
            amendment->set_amended_code(a->code);
            amendment->set_minutes_late(a->minutes_late);
            amendment->set_reason(a->reason);
            amendment->mutable_amended_by()->set_name(kOffice.name);
            amendment->mutable_amended_by()->set_role(kOffice.role);
            amendment->set_amended_at_us(LocalInstantUs(on, a->minute) + 30'000'000LL);
          }
        }
      }
      ++class_no;
      if (request.marks_size() + register_marks.marks_size() > kImportMarks) send();
      for (v1::ImportedMark& mark : *register_marks.mutable_marks()) {
        *request.add_marks() = std::move(mark);
      }
    }
    send();
  }

 private:
  static constexpr const char* kSource = "Oakfield MIS (synthetic history)";
  const School& school_;
  const YearPlan& year_;
  const std::map<std::string, std::vector<size_t>>& classes_;
  std::map<std::tuple<size_t, size_t, int>, std::vector<const Amendment*>> amendments_;
};

// Everything the school recorded in one academic year.
void EmitYear(const School& school, const YearPlan& year, bool first_year, DayBuffer& out) {
  const std::string ay = absl::StrCat(year.academic_year);
  const Day first = year.days.front();
  // Before the year: its calendar; for the first year also the settings,
  // the policy and the roll; later years promote their pupils and enrol
  // the new intake.
  if (first_year) {
    v1::SetSchoolSettingsRequest settings;
    *settings.mutable_settings() = Settings();
    out.Add(first - 12, 9 * 60, 0, kAdmin, settings, "settings");
    v1::SetEscalationPolicyRequest policy;
    google::protobuf::TextFormat::ParseFromString(PolicyText(), policy.mutable_policy());
    out.Add(first - 12, 9 * 60 + 5, 0, kOffice, policy, "escalation-policy");
  }
  v1::SetSchoolCalendarRequest calendar;
  *calendar.mutable_calendar() = year.calendar_set;
  out.Add(first - 12, 9 * 60 + 10, 0, kAdmin, calendar, absl::StrCat(ay, "-calendar"));
  for (size_t i : year.promoted) {
    v1::UpdatePupilRequest req;
    *req.mutable_pupil() = school.records[i].pupil;
    req.set_effective_from(FormatDate(first));
    out.Add(first - 5, 10 * 60, 0, kAdmin, req,
            absl::StrCat(ay, "-promote-", school.records[i].pupil.pupil_id()));
  }
  for (size_t i : year.intake) {
    out.Add(first - 5, 11 * 60, 0, kAdmin, Enrol(school.records[i]),
            absl::StrCat("enrol-", school.records[i].pupil.pupil_id()));
  }
  out.Flush();

  std::map<std::string, std::vector<size_t>> classes;  // class key -> PupilYear indexes
  for (size_t i = 0; i < year.pupils.size(); ++i) classes[year.pupils[i].class_key].push_back(i);
  // What happens on day i, by pupil.
  std::vector<std::vector<std::pair<size_t, const Letter*>>> letters(year.days.size());
  std::vector<std::vector<std::pair<size_t, const Action*>>> actions(year.days.size());
  // Each school day's registers are imported once their last amendment is
  // made: on the school day imports[i] lists.
  std::vector<std::vector<size_t>> imports(year.days.size());
  std::vector<size_t> import_day(year.days.size());
  for (size_t day = 0; day < year.days.size(); ++day) import_day[day] = day;
  for (size_t k = 0; k < year.pupils.size(); ++k) {
    for (const Amendment& a : year.pupils[k].amendments) {
      import_day[a.day] = std::max(import_day[a.day], a.amend_day);
    }
    for (const Letter& l : year.pupils[k].letters) letters[l.day].push_back({k, &l});
    for (const Action& a : year.pupils[k].actions) actions[a.day].push_back({k, &a});
  }
  for (size_t day = 0; day < year.days.size(); ++day) imports[import_day[day]].push_back(day);
  const RegisterImporter importer(school, year, classes);

  size_t day = 0;
  for (; day < year.days.size(); ++day) {
    const Day d = year.days[day];
    if (d > school.options.until) break;
    const std::string date = FormatDate(d);
    for (const PupilYear& p : year.pupils) {
      const PupilRecord& r = school.records[p.record];
      if (r.on_roll_from == d && d != first) {
        out.Add(d, 8 * 60 + 10, 0, kAdmin, Enrol(r), absl::StrCat("enrol-", r.pupil.pupil_id()));
      }
    }
    int letter_no = 0;
    for (const auto& [k, l] : letters[day]) {
      const std::string& pupil_id = school.records[year.pupils[k].record].pupil.pupil_id();
      v1::RecordLetterRequest req;
      req.set_pupil_id(pupil_id);
      req.set_letter_id(l->letter_id);
      req.set_channel(letter_no % 3 == 0 ? v1::EMAIL : v1::POST);
      req.set_sent_on(date);
      req.set_note(l->note);
      out.Add(d, 14 * 60 + 30 + letter_no++ % 90, 0, kOffice, std::move(req),
              absl::StrCat(ay, "-letter-", pupil_id, "-", l->letter_id));
    }
    for (const auto& [k, a] : actions[day]) {
      const std::string& pupil_id = school.records[year.pupils[k].record].pupil.pupil_id();
      v1::RecordActionRequest req = a->request;
      req.set_pupil_id(pupil_id);
      req.set_happened_on(date);
      const int minute = req.kind() == v1::HOME_VISIT_MADE ? 11 * 60 : 16 * 60;
      out.Add(d, minute, 0, kOffice, std::move(req),
              absl::StrCat("action-", pupil_id, "-", a->request.action_id()));
    }
    for (const PupilYear& p : year.pupils) {
      const PupilRecord& r = school.records[p.record];
      if (!r.last_day || *r.last_day != d) continue;
      v1::RemoveFromRollRequest req;
      req.set_pupil_id(r.pupil.pupil_id());
      req.set_last_day_on_roll(date);
      req.set_reason(d == year.days.back() ? "End of the final year: moved on to the next school"
                                           : "Moved away; common transfer file sent");
      out.Add(d, 16 * 60 + 30, 0, kAdmin, std::move(req),
              absl::StrCat("leave-", r.pupil.pupil_id()));
    }
    for (size_t marked : imports[day]) importer.Emit(marked, d, std::nullopt, out);
    out.Flush();
  }
  // Cut at `until`: the days whose amendments are not all made yet are
  // imported as they stand that evening (their N codes still open).
  for (size_t later = day; later < year.days.size(); ++later) {
    for (size_t marked : imports[later]) {
      if (marked < day) importer.Emit(marked, school.options.until, school.options.until, out);
    }
  }
  out.Flush();
}

}  // namespace

std::int64_t LocalInstantUs(ledger::Day day, int minute_of_day) {
  static const absl::TimeZone zone = [] {
    absl::TimeZone tz;
    absl::LoadTimeZone(ledger::kSchoolTimeZone, &tz);
    return tz;
  }();
  const absl::CivilDay civil = absl::CivilDay(1970, 1, 1) + day;
  const absl::CivilSecond at(civil.year(), civil.month(), civil.day(), minute_of_day / 60,
                             minute_of_day % 60, 0);
  return absl::ToUnixMicros(absl::FromCivil(at, zone));
}

absl::Status GenerateHistory(const HistoryOptions& options,
                             const std::function<void(const Step&)>& emit) {
  if (options.school_id.empty()) return absl::InvalidArgumentError("school_id: must not be empty");
  if (options.pupils < 1 || options.pupils > 20000) {
    return absl::InvalidArgumentError(
        absl::StrCat("pupils: ", options.pupils, " is not between 1 and 20000"));
  }
  if (options.years < 1 || options.years > 10) {
    return absl::InvalidArgumentError(
        absl::StrCat("years: ", options.years, " is not between 1 and 10"));
  }
  if (options.first_academic_year < 2000 || options.first_academic_year > 2100) {
    return absl::InvalidArgumentError(absl::StrCat(
        "first_academic_year: ", options.first_academic_year, " is not between 2000 and 2100"));
  }
  School school;
  school.options = options;
  school.secondary = options.pupils > 840;
  school.year_groups =
      school.secondary ? std::vector<int>{7, 8, 9, 10, 11} : std::vector<int>{0, 1, 2, 3, 4, 5, 6};
  Random rng(options.seed);
  DayBuffer out(options, emit);
  for (int y = 0; y < options.years; ++y) {
    const YearPlan year = PlanYear(school, options.first_academic_year + y, rng);
    if (year.days.front() - 12 > options.until) break;
    EmitYear(school, year, y == 0, out);
  }
  return absl::OkStatus();
}

absl::StatusOr<std::uint64_t> HistoryDigest(const HistoryOptions& options) {
  std::uint64_t h = 1469598103934665603ULL;  // FNV-1a
  auto mix = [&h](const std::string& bytes) {
    for (char c : bytes) h = (h ^ static_cast<unsigned char>(c)) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
  };
  absl::Status status = GenerateHistory(options, [&](const Step& step) {
    mix(absl::StrCat(step.at_us, "|", step.actor.name, "|", step.actor.role));
    std::visit(
        [&](const auto& request) {
          std::string bytes;
          google::protobuf::io::StringOutputStream stream(&bytes);
          google::protobuf::io::CodedOutputStream coded(&stream);
          coded.SetSerializationDeterministic(true);
          request.SerializeToCodedStream(&coded);
          coded.Trim();
          mix(absl::StrCat(request.GetTypeName(), "|"));
          mix(bytes);
        },
        step.request);
  });
  if (!status.ok()) return status;
  return h;
}

}  // namespace attendance::history
