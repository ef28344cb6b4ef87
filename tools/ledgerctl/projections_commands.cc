// Subcommands of attendance.v1.Projections: one per RPC.
#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "attendance/v1/projections_service.grpc.pb.h"
#include "command_table.h"
#include "common.h"
#include "window_flags.h"

namespace attendance::ledgerctl {

namespace v1 = ::attendance::v1;

std::vector<Option> WindowOptions() {
  return {
      {"window", "KIND",
       "year-to-date (default), term, half-term, previous-year, weeks (the last --weeks school "
       "weeks)"},
      {"weeks", "N", "for --window weeks (default 4)"},
      {"years-back", "N", "for --window previous-year, 1..3 (default 1)"},
  };
}

v1::Window WindowFromFlags(const Args& args) {
  v1::Window window;
  if (!args.Has("window")) return window;
  const std::string kind = args.Get("window");
  if (kind == "year-to-date" || kind == "ytd") {
    window.set_kind(v1::ACADEMIC_YEAR_TO_DATE);
  } else if (kind == "term") {
    window.set_kind(v1::CURRENT_TERM);
  } else if (kind == "half-term") {
    window.set_kind(v1::CURRENT_HALF_TERM);
  } else if (kind == "previous-year") {
    window.set_kind(v1::PREVIOUS_ACADEMIC_YEAR);
    window.set_years_back(static_cast<std::uint32_t>(args.Int("years-back", 1, 1, 3)));
  } else if (kind == "weeks") {
    window.set_kind(v1::ROLLING_SCHOOL_WEEKS);
    window.set_weeks(static_cast<std::uint32_t>(args.Int("weeks", 4, 1, 52)));
  } else {
    args.Fail("--window: \"" + kind +
              "\" is not one of year-to-date, term, half-term, previous-year, weeks");
  }
  return window;
}

std::string WindowText(const v1::Window& window) {
  if (window.first_day().empty())
    return window.label().empty() ? "(no school days)" : window.label();
  return absl::StrCat(window.label(), " (", window.first_day(), "..", window.last_day(), ")");
}

namespace {

const Option kSchool{"school", "ID", "school id (required)"};
const Option kAsOf{"as-of", "YYYY-MM-DD",
                   "figures as they stood at the end of this day (default: today)"};
const Option kMinPosition{"min-position", "N",
                          "read your own writes: wait until the figures reflect this position"};

std::vector<std::string> FigureCells(const v1::AttendanceFigures& f) {
  return {absl::StrCat(f.possible_sessions()),  absl::StrCat(f.attended_sessions()),
          absl::StrCat(f.authorised_absence()), absl::StrCat(f.unauthorised_absence()),
          absl::StrCat(f.late_before_close()),  FormatPercent(f.attendance_percent())};
}
const std::vector<std::string> kFigureHeader = {"possible", "attended", "auth",
                                                "unauth",   "L",        "attendance %"};

std::vector<std::string> Concat(std::vector<std::string> a, const std::vector<std::string>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

int GetPupilAttendance(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::GetPupilAttendanceRequest request;
  request.set_school_id(args.Required("school"));
  request.set_pupil_id(args.Required("pupil"));
  request.set_as_of(args.Get("as-of"));
  request.set_min_position(static_cast<std::uint64_t>(args.Int("min-position", 0, 0, INT64_MAX)));
  auto stub = NewStub<v1::Projections>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  v1::PupilAttendance response;
  const grpc::Status status = stub->GetPupilAttendance(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status, "GetPupilAttendance", invocation.err);
  if (invocation.json) {
    PrintJson(response, invocation.out);
    return kExitOk;
  }
  const v1::Pupil& pupil = response.pupil();
  invocation.out << pupil.pupil_id() << " " << pupil.given_name() << " " << pupil.family_name()
                 << ", year " << pupil.year_group() << " " << pupil.class_name()
                 << (response.on_roll() ? ", on roll" : ", not on roll") << ", as of "
                 << response.as_of() << " (position " << response.position() << ")\n";
  Table table(Concat(Concat({"window"}, kFigureHeader), {"PA", "SA"}));
  for (const v1::WindowFigures& w : response.windows()) {
    table.Add(
        Concat(Concat({WindowText(w.window())}, FigureCells(w.figures())),
               {YesNo(w.figures().persistent_absence()), YesNo(w.figures().severe_absence())}));
  }
  table.Print(invocation.out);
  return kExitOk;
}

void AddCohortFilters(const Args& args, v1::ListPupilAttendanceRequest& request) {
  for (const std::string& filter : args.All("filter")) {
    const size_t eq = filter.find('=');
    if (eq == std::string::npos) args.Fail("--filter: \"" + filter + "\" is not ATTRIBUTE=VALUE");
    v1::CohortFilter* f = request.add_cohort();
    f->set_attribute(static_cast<v1::CohortAttribute>(
        ParseEnumFlag(args, "filter", filter.substr(0, eq), v1::CohortAttribute_descriptor())));
    f->set_value(filter.substr(eq + 1));
  }
}

int ListPupilAttendance(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::ListPupilAttendanceRequest request;
  request.set_school_id(args.Required("school"));
  if (args.Has("window")) *request.mutable_window() = WindowFromFlags(args);
  request.set_min_percent(args.Double("min-percent", 0));
  request.set_max_percent(args.Double("max-percent", 0));
  request.set_only_persistent_absence(args.Switch("persistent-absence"));
  request.set_only_severe_absence(args.Switch("severe-absence"));
  AddCohortFilters(args, request);
  request.set_descending(args.Switch("descending"));
  request.set_page_size(static_cast<std::uint32_t>(args.Int("page-size", 0, 0, 1000)));
  request.set_page_token(args.Get("page-token"));
  request.set_as_of(args.Get("as-of"));
  request.set_min_position(static_cast<std::uint64_t>(args.Int("min-position", 0, 0, INT64_MAX)));
  const bool all_pages = args.Switch("all");
  auto stub = NewStub<v1::Projections>(invocation);
  v1::ListPupilAttendanceResponse all;
  bool first_page = true;
  while (true) {
    grpc::ClientContext context;
    invocation.connection.Prepare(context);
    v1::ListPupilAttendanceResponse page;
    const grpc::Status status = stub->ListPupilAttendance(&context, request, &page);
    if (!status.ok()) return ReportRpcError(status, "ListPupilAttendance", invocation.err);
    // --all: every page in one answer, as if it had been one page.
    if (first_page) {
      all = std::move(page);
      first_page = false;
    } else {
      for (v1::PupilRow& row : *page.mutable_pupils()) *all.add_pupils() = std::move(row);
      all.set_next_page_token(page.next_page_token());
    }
    if (!all_pages || all.next_page_token().empty()) break;
    request.set_page_token(all.next_page_token());
    // Later pages at least as new as the first, so the pages add up.
    request.set_min_position(all.position());
  }
  if (invocation.json) {
    PrintJson(all, invocation.out);
    return kExitOk;
  }
  invocation.out << all.total_size() << " pupils, " << WindowText(all.window()) << ", as of "
                 << all.as_of() << " (position " << all.position() << ")\n";
  Table table(Concat(Concat({"pupil", "name", "year", "class"}, kFigureHeader), {"PA", "SA"}));
  for (const v1::PupilRow& row : all.pupils()) {
    table.Add(
        Concat(Concat({row.pupil().pupil_id(),
                       absl::StrCat(row.pupil().given_name(), " ", row.pupil().family_name()),
                       absl::StrCat(row.pupil().year_group()), row.pupil().class_name()},
                      FigureCells(row.figures())),
               {YesNo(row.figures().persistent_absence()), YesNo(row.figures().severe_absence())}));
  }
  table.Print(invocation.out);
  if (!all.next_page_token().empty()) {
    invocation.out << "more: --page-token " << all.next_page_token() << " (or --all)\n";
  }
  return kExitOk;
}

int GetCohortAttendance(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::GetCohortAttendanceRequest request;
  request.set_school_id(args.Required("school"));
  for (const std::string& list : args.All("group-by")) {
    for (absl::string_view attribute : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
      request.add_group_by(static_cast<v1::CohortAttribute>(
          ParseEnumFlag(args, "group-by", attribute, v1::CohortAttribute_descriptor())));
    }
  }
  if (args.Has("window")) *request.mutable_window() = WindowFromFlags(args);
  request.set_as_of(args.Get("as-of"));
  request.set_min_position(static_cast<std::uint64_t>(args.Int("min-position", 0, 0, INT64_MAX)));
  auto stub = NewStub<v1::Projections>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  v1::CohortAttendanceResponse response;
  const grpc::Status status = stub->GetCohortAttendance(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status, "GetCohortAttendance", invocation.err);
  if (invocation.json) {
    PrintJson(response, invocation.out);
    return kExitOk;
  }
  invocation.out << WindowText(response.window()) << ", as of " << response.as_of() << " (position "
                 << response.position() << ")\n";
  Table table(Concat(Concat({"cohort", "pupils"}, kFigureHeader),
                     {"PA pupils", "PA %", "SA pupils", "SA %"}));
  auto add = [&](const v1::CohortRow& row) {
    table.Add(Concat(
        Concat({absl::StrJoin(row.key(), " / "), absl::StrCat(row.pupils())},
               FigureCells(row.figures())),
        {absl::StrCat(row.persistent_absence_pupils()),
         FormatPercent(row.persistent_absence_rate()), absl::StrCat(row.severe_absence_pupils()),
         FormatPercent(row.severe_absence_rate())}));
  };
  add(response.whole_school());
  for (const v1::CohortRow& row : response.rows()) add(row);
  table.Print(invocation.out);
  if (!response.gaps().empty()) {
    Table gaps({"gap", "attendance points", "PA rate points"});
    for (const v1::CohortGap& gap : response.gaps()) {
      gaps.Add({gap.name(), FormatPercent(gap.attendance_gap_points()),
                FormatPercent(gap.persistent_absence_rate_gap_points())});
    }
    invocation.out << "\n";
    gaps.Print(invocation.out);
  }
  return kExitOk;
}

std::vector<Option> With(std::vector<Option> options, const std::vector<Option>& more) {
  options.insert(options.end(), more.begin(), more.end());
  return options;
}

}  // namespace

std::vector<Command> ProjectionsCommands() {
  const std::string group = "attendance.v1.Projections";
  return {
      {"pupil-attendance",
       group,
       "GetPupilAttendance: one pupil's figures for every window",
       "",
       {kSchool, {"pupil", "ID", "(required)"}, kAsOf, kMinPosition},
       GetPupilAttendance},
      {"list-pupils", group,
       "ListPupilAttendance: a school's pupils for one window, filtered, lowest attendance first",
       "",
       With(With({kSchool}, WindowOptions()),
            {{"min-percent", "P", "attendance at least P% (with --max-percent)"},
             {"max-percent", "P", "attendance at most P%"},
             {"persistent-absence", "", "only persistently absent pupils"},
             {"severe-absence", "", "only severely absent pupils"},
             {"filter", "ATTRIBUTE=VALUE",
              "cohort filter, e.g. year-group=3, disadvantaged=true, sex=FEMALE", true},
             {"descending", "", "highest attendance first"},
             {"page-size", "N", "1..1000 (default 100)"},
             {"page-token", "TOKEN", "the next page, from a previous answer"},
             {"all", "", "fetch every page"},
             kAsOf,
             kMinPosition}),
       ListPupilAttendance},
      {"cohort-attendance", group,
       "GetCohortAttendance: figures per cohort, PA and SA rates, and the gaps", "",
       With(With({kSchool,
                  {"group-by", "ATTRIBUTE[,ATTRIBUTE]",
                   "year-group, class-name, sex, send, disadvantaged, free-school-meals, eal, "
                   "child-in-need, child-protection-plan, looked-after (crossed; at most 4)",
                   true}},
                 WindowOptions()),
            {kAsOf, kMinPosition}),
       GetCohortAttendance},
  };
}

}  // namespace attendance::ledgerctl
