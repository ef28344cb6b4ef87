// export-marks and export-figures: a school's register (from ReadEvents) and
// its figures (from ListPupilAttendance) as CSV.
#include <grpcpp/client_context.h>

#include <map>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "attendance/v1/ledger_service.grpc.pb.h"
#include "attendance/v1/projections_service.grpc.pb.h"
#include "command_table.h"
#include "common.h"
#include "marks_csv.h"
#include "window_flags.h"

namespace attendance::ledgerctl {
namespace {

namespace v1 = ::attendance::v1;

// A session's register entry as the log has it now.
struct SessionEntry {
  std::string code;
  std::uint32_t minutes_late = 0;
  std::string comment;
  std::string original_code;  // set once amended
  std::string reason;
  std::string amended_by;
  std::int64_t amended_at_us = 0;
};

int ExportMarks(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::ReadEventsRequest request;
  request.set_school_id(args.Required("school"));
  request.add_event_types(v1::MARK_RECORDED);
  request.add_event_types(v1::MARK_AMENDED);
  const std::string only_pupil = args.Get("pupil");
  auto stub = NewStub<v1::Ledger>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  auto reader = stub->ReadEvents(&context, request);
  // Sorted by date, session, pupil: a register's marks together.
  std::map<std::tuple<std::string, int, std::string>, SessionEntry> sessions;
  v1::EventEnvelope event;
  while (reader->Read(&event)) {
    if (!only_pupil.empty() && event.pupil_id() != only_pupil) continue;
    if (event.has_mark_recorded()) {
      const v1::MarkRecorded& m = event.mark_recorded();
      SessionEntry& entry = sessions[{m.date(), m.session(), m.pupil_id()}];
      entry.code = m.code();
      entry.minutes_late = m.minutes_late();
      entry.comment = m.comment();
    } else if (event.has_mark_amended()) {
      const v1::MarkAmended& m = event.mark_amended();
      SessionEntry& entry = sessions[{m.date(), m.session(), m.pupil_id()}];
      if (entry.original_code.empty()) entry.original_code = m.original_code();
      entry.code = m.amended_code();
      entry.minutes_late = m.minutes_late();
      entry.reason = m.reason();
      entry.amended_by = m.amended_by().role().empty() ? m.amended_by().name()
                                                       : absl::StrCat(m.amended_by().name(), " (",
                                                                      m.amended_by().role(), ")");
      entry.amended_at_us = m.amended_at_us();
    }
  }
  const grpc::Status status = reader->Finish();
  if (!status.ok()) return ReportRpcError(status, "ReadEvents", invocation.err);
  OutFile output(invocation);
  if (!output.ok()) return kExitInvalid;
  std::ostream& out = output.stream();
  out << kMarksCsvHeader << "\n";
  for (const auto& [key, entry] : sessions) {
    const auto& [date, session, pupil] = key;
    const bool amended = !entry.original_code.empty();
    out << absl::StrJoin({CsvField(pupil), date, EnumName(v1::Session_descriptor(), session),
                          CsvField(entry.code),
                          entry.minutes_late > 0 ? absl::StrCat(entry.minutes_late) : "",
                          CsvField(entry.comment), CsvField(entry.original_code),
                          amended ? CsvField(entry.code) : "", CsvField(entry.reason),
                          CsvField(entry.amended_by), FormatInstant(entry.amended_at_us)},
                         ",")
        << "\n";
  }
  if (!args.Get("out").empty()) {
    invocation.err << "wrote " << sessions.size() << " marks to " << args.Get("out") << "\n";
  }
  return kExitOk;
}

int ExportFigures(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::ListPupilAttendanceRequest request;
  request.set_school_id(args.Required("school"));
  if (args.Has("window")) *request.mutable_window() = WindowFromFlags(args);
  request.set_as_of(args.Get("as-of"));
  request.set_page_size(1000);
  auto stub = NewStub<v1::Projections>(invocation);
  std::vector<v1::PupilRow> rows;
  while (true) {
    grpc::ClientContext context;
    invocation.connection.Prepare(context);
    v1::ListPupilAttendanceResponse page;
    const grpc::Status status = stub->ListPupilAttendance(&context, request, &page);
    if (!status.ok()) return ReportRpcError(status, "ListPupilAttendance", invocation.err);
    for (v1::PupilRow& row : *page.mutable_pupils()) rows.push_back(std::move(row));
    if (page.next_page_token().empty()) break;
    request.set_page_token(page.next_page_token());
    request.set_min_position(page.position());
  }
  // In pupil order, like a spreadsheet of the roll.
  std::sort(rows.begin(), rows.end(), [](const v1::PupilRow& a, const v1::PupilRow& b) {
    return a.pupil().pupil_id() < b.pupil().pupil_id();
  });
  OutFile output(invocation);
  if (!output.ok()) return kExitInvalid;
  std::ostream& out = output.stream();
  out << "pupil_id,given_name,family_name,year_group,class_name,possible_sessions,"
         "attended_sessions,authorised_absence,unauthorised_absence,late_before_close,"
         "late_after_close,attendance_percent,absence_percent,persistent_absence,"
         "severe_absence\n";
  for (const v1::PupilRow& row : rows) {
    const v1::Pupil& p = row.pupil();
    const v1::AttendanceFigures& f = row.figures();
    out << absl::StrJoin(
               {CsvField(p.pupil_id()), CsvField(p.given_name()), CsvField(p.family_name()),
                absl::StrCat(p.year_group()), CsvField(p.class_name()),
                absl::StrCat(f.possible_sessions()), absl::StrCat(f.attended_sessions()),
                absl::StrCat(f.authorised_absence()), absl::StrCat(f.unauthorised_absence()),
                absl::StrCat(f.late_before_close()), absl::StrCat(f.late_after_close()),
                FormatPercent(f.attendance_percent()), FormatPercent(f.absence_percent()),
                std::string(f.persistent_absence() ? "true" : "false"),
                std::string(f.severe_absence() ? "true" : "false")},
               ",")
        << "\n";
  }
  return kExitOk;
}

std::vector<Option> With(std::vector<Option> options, const std::vector<Option>& more) {
  options.insert(options.end(), more.begin(), more.end());
  return options;
}

}  // namespace

std::vector<Command> ExportCommands() {
  const std::string group = "Import and export (CSV)";
  return {
      {"export-marks",
       group,
       "a school's register as CSV, one row per session with its current code and last "
       "amendment (the columns import-marks reads)",
       "",
       {{"school", "ID", "(required)"},
        {"pupil", "ID", "only this pupil's record"},
        {"out", "FILE", "write here (default: stdout)"}},
       ExportMarks},
      {"export-figures", group, "every pupil's figures for one window as CSV", "",
       With(With({{"school", "ID", "(required)"}}, WindowOptions()),
            {{"as-of", "YYYY-MM-DD", "figures as they stood at the end of this day"},
             {"out", "FILE", "write here (default: stdout)"}}),
       ExportFigures},
  };
}

}  // namespace attendance::ledgerctl
