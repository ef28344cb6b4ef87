#include "projections/attendance_queries.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <optional>

#include "absl/strings/str_cat.h"

namespace attendance::projections {
namespace {

// Limits on requests and replies (projections_service.proto, README
// "Limits"), so that a query's cost is bounded by the school's size and not
// by what the client sends.
constexpr std::uint32_t kDefaultPageSize = 100;
constexpr std::uint32_t kMaxPageSize = 1000;
// Cohort filters and group_by attributes: each attribute at most once.
constexpr int kMaxCohortFilters = 10;
constexpr int kMaxGroupBy = 4;
constexpr std::size_t kMaxCohortRows = 2000;

absl::StatusOr<Day> AsOf(const std::string& text, Day today) {
  if (text.empty()) return today;
  std::optional<Day> day = ledger::ParseDate(text);
  if (!day) {
    return absl::InvalidArgumentError(
        absl::StrCat("as_of: ", ledger::Quoted(text), " is not a date (YYYY-MM-DD)"));
  }
  return *day;
}

absl::StatusOr<const SchoolState*> School(const AttendanceState& state, const std::string& id) {
  if (id.empty()) return absl::InvalidArgumentError("school_id: must not be empty");
  const SchoolState* school = state.FindSchool(id);
  if (school == nullptr)
    return absl::NotFoundError(absl::StrCat("school_id: no school ", ledger::Quoted(id)));
  return school;
}

bool IsSend(const v1::Pupil& p) { return p.send() == v1::SEN_SUPPORT || p.send() == v1::EHC_PLAN; }

const char* Bool(bool b) { return b ? "true" : "false"; }

absl::Status CheckAttribute(v1::CohortAttribute attribute, const std::string& field) {
  if (attribute == v1::COHORT_ATTRIBUTE_UNSPECIFIED || !v1::CohortAttribute_IsValid(attribute)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", static_cast<int>(attribute), " is not a cohort attribute"));
  }
  return absl::OkStatus();
}

absl::Status CheckFilterValue(const v1::CohortFilter& f, const std::string& field) {
  if (absl::Status s = CheckAttribute(f.attribute(), absl::StrCat(field, ".attribute")); !s.ok()) {
    return s;
  }
  bool ok = true;
  switch (f.attribute()) {
    case v1::SEX: {
      v1::Sex sex;
      ok = v1::Sex_Parse(f.value(), &sex);
      break;
    }
    case v1::SEND:
      ok = f.value() == "SEND_NONE" || f.value() == "SEN_SUPPORT" || f.value() == "EHC_PLAN";
      break;
    case v1::DISADVANTAGED:
    case v1::FREE_SCHOOL_MEALS:
    case v1::EAL:
    case v1::CHILD_IN_NEED:
    case v1::CHILD_PROTECTION_PLAN:
    case v1::LOOKED_AFTER:
      ok = f.value() == "true" || f.value() == "false";
      break;
    default:
      break;
  }
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".value: ", ledger::Quoted(f.value()),
                                                   " is not a value of ",
                                                   v1::CohortAttribute_Name(f.attribute())));
  }
  return absl::OkStatus();
}

// An attribute used twice would only repeat a filter or a key column.
template <typename Repeated, typename AttributeOf>
absl::Status CheckNotRepeated(const Repeated& entries, int i, absl::string_view field,
                              AttributeOf attribute_of) {
  const int attribute = static_cast<int>(attribute_of(entries[i]));
  for (int earlier = 0; earlier < i; ++earlier) {
    if (static_cast<int>(attribute_of(entries[earlier])) == attribute) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, "[", i,
                       "]: ", v1::CohortAttribute_Name(static_cast<v1::CohortAttribute>(attribute)),
                       " repeats ", field, "[", earlier, "]"));
    }
  }
  return absl::OkStatus();
}

// Everything a query needs about a school as of a date.
struct SchoolAsOf {
  const SchoolState* school = nullptr;
  Day as_of = 0;
  ledger::SchoolCalendar scratch;
  const ledger::SchoolCalendar* calendar = nullptr;
  v1::SchoolSettings settings;
  AbsenceThresholds thresholds;

  SchoolAsOf(const SchoolState* s, Day day) : school(s), as_of(day) {
    calendar = &s->CalendarAsOf(day, &scratch);
    settings = s->SettingsAsOf(day);
    thresholds = ThresholdsOf(settings);
  }
  SchoolAsOf(const SchoolAsOf&) = delete;
};

v1::Pupil PupilDetails(const PupilState& pupil, Day day, Day as_of) {
  const v1::Pupil* details = pupil.AttributesAt(day, as_of);
  v1::Pupil out;
  if (details != nullptr) out = *details;
  out.set_pupil_id(pupil.id);
  return out;
}

// Pupils that pass a ListPupilAttendance request's filters, with their counts.
struct Row {
  const PupilState* pupil;
  AttendanceCounts counts;
};

bool LowerAttendance(const Row& a, const Row& b) {
  // No possible sessions: last in either order.
  if ((a.counts.possible == 0) != (b.counts.possible == 0)) return b.counts.possible == 0;
  const std::uint64_t lhs = std::uint64_t{a.counts.attended} * b.counts.possible;
  const std::uint64_t rhs = std::uint64_t{b.counts.attended} * a.counts.possible;
  if (lhs != rhs) return lhs < rhs;
  return a.pupil->id < b.pupil->id;
}

struct Aggregate {
  std::uint32_t pupils = 0;
  std::uint32_t pa = 0;
  std::uint32_t sa = 0;
  AttendanceCounts counts;

  // Like the DfE's enrolments, a pupil counts in a cohort's denominator only
  // with at least one possible session in the window (e.g. not a pupil who
  // joined today, or one whose sessions are all X).
  void Add(const AttendanceCounts& c, const AbsenceThresholds& t) {
    if (c.possible == 0) return;
    ++pupils;
    pa += IsPersistentAbsence(c, t) ? 1 : 0;
    sa += IsSevereAbsence(c, t) ? 1 : 0;
    counts.Add(c);
  }
  double PaRate() const { return pupils == 0 ? 0.0 : 100.0 * pa / pupils; }
  void ToProto(v1::CohortRow* row) const {
    row->set_pupils(pupils);
    FiguresToProto(counts, nullptr, row->mutable_figures());
    row->set_persistent_absence_pupils(pa);
    row->set_severe_absence_pupils(sa);
    row->set_persistent_absence_rate(PaRate());
    row->set_severe_absence_rate(pupils == 0 ? 0.0 : 100.0 * sa / pupils);
  }
};

void AddGap(const std::string& name, const Aggregate& a, const Aggregate& b,
            v1::CohortAttendanceResponse* resp) {
  if (a.counts.possible == 0 || b.counts.possible == 0) return;  // no gap to speak of
  v1::CohortGap* gap = resp->add_gaps();
  gap->set_name(name);
  gap->set_attendance_gap_points(AttendancePercent(a.counts) - AttendancePercent(b.counts));
  gap->set_persistent_absence_rate_gap_points(a.PaRate() - b.PaRate());
}

}  // namespace

std::string AttributeValue(const v1::Pupil& p, v1::CohortAttribute attribute) {
  switch (attribute) {
    case v1::YEAR_GROUP:
      return std::to_string(p.year_group());
    case v1::CLASS_NAME:
      return p.class_name();
    case v1::SEX:
      return v1::Sex_Name(p.sex());
    case v1::SEND:
      return p.send() == v1::SEND_STATUS_UNSPECIFIED ? "SEND_NONE" : v1::SendStatus_Name(p.send());
    case v1::DISADVANTAGED:
      return Bool(p.pupil_premium());
    case v1::FREE_SCHOOL_MEALS:
      return Bool(p.free_school_meals());
    case v1::EAL:
      return Bool(p.eal());
    case v1::CHILD_IN_NEED:
      return Bool(p.child_in_need());
    case v1::CHILD_PROTECTION_PLAN:
      return Bool(p.child_protection_plan());
    case v1::LOOKED_AFTER:
      return Bool(p.looked_after());
    default:
      return "all";
  }
}

bool InCohort(const PupilState& pupil, const ResolvedWindow& window, Day as_of) {
  if (!pupil.KnownAsOf(as_of)) return false;
  if (window.reaches_as_of) return pupil.OnRollDuring(as_of, as_of, as_of);
  return !window.empty() && pupil.OnRollDuring(window.first, window.last, as_of);
}

Day CohortDay(const ResolvedWindow& window, Day as_of) {
  return window.reaches_as_of || window.empty() ? as_of : std::min(window.last, as_of);
}

absl::StatusOr<v1::PupilAttendance> QueryPupilAttendance(const AttendanceState& state,
                                                         const v1::GetPupilAttendanceRequest& req,
                                                         Day today) {
  absl::StatusOr<Day> as_of = AsOf(req.as_of(), today);
  if (!as_of.ok()) return as_of.status();
  absl::StatusOr<const SchoolState*> school = School(state, req.school_id());
  if (!school.ok()) return school.status();
  if (req.pupil_id().empty()) return absl::InvalidArgumentError("pupil_id: must not be empty");
  const PupilState* pupil = (*school)->FindPupil(req.pupil_id());
  if (pupil == nullptr || !pupil->KnownAsOf(*as_of)) {
    return absl::NotFoundError(absl::StrCat("pupil_id: no pupil ", ledger::Quoted(req.pupil_id()),
                                            " in school ", ledger::Quoted(req.school_id())));
  }
  const SchoolAsOf ctx(*school, *as_of);
  v1::PupilAttendance out;
  out.set_school_id(req.school_id());
  *out.mutable_pupil() = PupilDetails(*pupil, *as_of, *as_of);
  out.set_on_roll(pupil->OnRollDuring(*as_of, *as_of, *as_of));
  out.set_as_of(ledger::FormatDate(*as_of));
  out.set_position(state.position());
  for (const WindowSpec& spec : ReportWindows(RollingWeeksOf(ctx.settings))) {
    const ResolvedWindow w = ResolveWindow(*ctx.calendar, spec, *as_of);
    v1::WindowFigures* wf = out.add_windows();
    WindowToProto(w, wf->mutable_window());
    FiguresToProto(pupil->Count(w.first, w.last, *as_of), &ctx.thresholds, wf->mutable_figures());
  }
  return out;
}

absl::StatusOr<v1::ListPupilAttendanceResponse> QueryPupilList(
    const AttendanceState& state, const v1::ListPupilAttendanceRequest& req, Day today) {
  absl::StatusOr<Day> as_of = AsOf(req.as_of(), today);
  if (!as_of.ok()) return as_of.status();
  absl::StatusOr<WindowSpec> spec = WindowSpecFromProto(req.window(), "window");
  if (!spec.ok()) return spec.status();
  const double lo = req.min_percent();
  const double hi = req.max_percent();
  const bool band = lo != 0.0 || hi != 0.0;
  if (band && !(lo >= 0.0 && lo <= hi && hi <= 100.0)) {
    return absl::InvalidArgumentError(absl::StrCat("min_percent, max_percent: [", lo, ", ", hi,
                                                   "] is not a band within [0, 100]"));
  }
  if (req.cohort_size() > kMaxCohortFilters) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cohort: ", req.cohort_size(), " filters is more than the limit of ", kMaxCohortFilters));
  }
  for (int i = 0; i < req.cohort_size(); ++i) {
    if (absl::Status s = CheckFilterValue(req.cohort(i), absl::StrCat("cohort[", i, "]"));
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckNotRepeated(req.cohort(), i, "cohort",
                                          [](const v1::CohortFilter& f) { return f.attribute(); });
        !s.ok()) {
      return s;
    }
  }
  const std::uint32_t page_size = req.page_size() == 0 ? kDefaultPageSize : req.page_size();
  if (page_size > kMaxPageSize) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_size: ", req.page_size(), " is not in 1..", kMaxPageSize));
  }
  std::size_t offset = 0;
  if (!req.page_token().empty()) {
    const std::string& t = req.page_token();
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), offset);
    if (ec != std::errc() || end != t.data() + t.size()) {
      return absl::InvalidArgumentError(
          absl::StrCat("page_token: ", ledger::Quoted(t), " is not a token"));
    }
  }
  absl::StatusOr<const SchoolState*> school = School(state, req.school_id());
  if (!school.ok()) return school.status();

  const SchoolAsOf ctx(*school, *as_of);
  const ResolvedWindow w = ResolveWindow(*ctx.calendar, *spec, *as_of);
  const Day cohort_day = CohortDay(w, *as_of);
  std::vector<Row> rows;
  for (const PupilState& pupil : (*school)->pupils) {
    if (!InCohort(pupil, w, *as_of)) continue;
    if (!req.cohort().empty()) {
      const v1::Pupil details = PupilDetails(pupil, cohort_day, *as_of);
      bool match = true;
      for (const v1::CohortFilter& f : req.cohort()) {
        match = match && AttributeValue(details, f.attribute()) == f.value();
      }
      if (!match) continue;
    }
    Row row{&pupil, pupil.Count(w.first, w.last, *as_of)};
    if (req.only_persistent_absence() && !IsPersistentAbsence(row.counts, ctx.thresholds)) continue;
    if (req.only_severe_absence() && !IsSevereAbsence(row.counts, ctx.thresholds)) continue;
    if (band) {
      const double pct = AttendancePercent(row.counts);
      if (row.counts.possible == 0 || pct < lo || pct > hi) continue;
    }
    rows.push_back(row);
  }
  std::sort(rows.begin(), rows.end(), LowerAttendance);
  if (req.descending()) {
    // Highest first, but pupils with no possible sessions still last.
    auto split = std::partition_point(rows.begin(), rows.end(),
                                      [](const Row& r) { return r.counts.possible != 0; });
    std::reverse(rows.begin(), split);
  }
  v1::ListPupilAttendanceResponse out;
  out.set_total_size(static_cast<std::uint32_t>(rows.size()));
  WindowToProto(w, out.mutable_window());
  if (offset > rows.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat("page_token: ", offset, " is past the last of ", rows.size(), " pupils"));
  }
  for (std::size_t i = offset; i < rows.size() && i - offset < page_size; ++i) {
    v1::PupilRow* row = out.add_pupils();
    *row->mutable_pupil() = PupilDetails(*rows[i].pupil, cohort_day, *as_of);
    FiguresToProto(rows[i].counts, &ctx.thresholds, row->mutable_figures());
  }
  if (rows.size() - offset > page_size) out.set_next_page_token(std::to_string(offset + page_size));
  out.set_as_of(ledger::FormatDate(*as_of));
  out.set_position(state.position());
  return out;
}

absl::StatusOr<v1::CohortAttendanceResponse> QueryCohorts(const AttendanceState& state,
                                                          const v1::GetCohortAttendanceRequest& req,
                                                          Day today) {
  absl::StatusOr<Day> as_of = AsOf(req.as_of(), today);
  if (!as_of.ok()) return as_of.status();
  absl::StatusOr<WindowSpec> spec = WindowSpecFromProto(req.window(), "window");
  if (!spec.ok()) return spec.status();
  if (req.group_by_size() > kMaxGroupBy) {
    return absl::InvalidArgumentError(absl::StrCat(
        "group_by: ", req.group_by_size(), " attributes is more than the limit of ", kMaxGroupBy));
  }
  for (int i = 0; i < req.group_by_size(); ++i) {
    if (absl::Status s = CheckAttribute(req.group_by(i), absl::StrCat("group_by[", i, "]"));
        !s.ok()) {
      return s;
    }
    if (absl::Status s = CheckNotRepeated(req.group_by(), i, "group_by",
                                          [](int attribute) { return attribute; });
        !s.ok()) {
      return s;
    }
  }
  absl::StatusOr<const SchoolState*> school = School(state, req.school_id());
  if (!school.ok()) return school.status();

  const SchoolAsOf ctx(*school, *as_of);
  const ResolvedWindow w = ResolveWindow(*ctx.calendar, *spec, *as_of);
  const Day cohort_day = CohortDay(w, *as_of);
  Aggregate whole, disadvantaged, not_disadvantaged, send, not_send, boys, girls;
  std::map<std::vector<std::string>, Aggregate> groups;
  std::vector<std::string> key;
  for (const PupilState& pupil : (*school)->pupils) {
    if (!InCohort(pupil, w, *as_of)) continue;
    const AttendanceCounts counts = pupil.Count(w.first, w.last, *as_of);
    if (counts.possible == 0) continue;  // see Aggregate::Add
    const v1::Pupil* details = pupil.AttributesAt(cohort_day, *as_of);
    const v1::Pupil& p = details != nullptr ? *details : v1::Pupil::default_instance();
    whole.Add(counts, ctx.thresholds);
    (p.pupil_premium() ? disadvantaged : not_disadvantaged).Add(counts, ctx.thresholds);
    (IsSend(p) ? send : not_send).Add(counts, ctx.thresholds);
    if (p.sex() == v1::MALE) boys.Add(counts, ctx.thresholds);
    if (p.sex() == v1::FEMALE) girls.Add(counts, ctx.thresholds);
    if (req.group_by().empty()) continue;
    key.clear();
    for (int attribute : req.group_by()) {
      key.push_back(AttributeValue(p, static_cast<v1::CohortAttribute>(attribute)));
    }
    groups[key].Add(counts, ctx.thresholds);
    if (groups.size() > kMaxCohortRows) {
      return absl::InvalidArgumentError(absl::StrCat(
          "group_by: crossing ", req.group_by_size(), " attributes gives more than the limit of ",
          kMaxCohortRows, " cohorts; group by fewer attributes"));
    }
  }
  v1::CohortAttendanceResponse out;
  WindowToProto(w, out.mutable_window());
  whole.ToProto(out.mutable_whole_school());
  out.mutable_whole_school()->add_key("all");
  for (const auto& [k, agg] : groups) {
    v1::CohortRow* row = out.add_rows();
    for (const std::string& part : k) row->add_key(part);
    agg.ToProto(row);
  }
  AddGap("disadvantaged vs not disadvantaged", disadvantaged, not_disadvantaged, &out);
  AddGap("SEND vs no SEND", send, not_send, &out);
  AddGap("boys vs girls", boys, girls, &out);
  out.set_position(state.position());
  out.set_as_of(ledger::FormatDate(*as_of));
  return out;
}

}  // namespace attendance::projections
