// Subcommands of attendance.v1.Audit that read marks: one per RPC. The
// streams are read to their end (and a truncated replay resumed) so that a
// table, a JSON line per item or a CSV holds everything asked for. The
// checks of the log itself (verify-ledger, ledger-head) are in
// audit_head_commands.cc.
#include <grpcpp/client_context.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "attendance/v1/audit_service.grpc.pb.h"
#include "command_table.h"
#include "common.h"
#include "event_text.h"

namespace attendance::ledgerctl {
namespace {

namespace v1 = ::attendance::v1;

const Option kSchool{"school", "ID", "school id (required)"};
const Option kMinPosition{"min-position", "N",
                          "read your own writes: wait until the answer reflects this position"};
const Option kOut{"out", "FILE", "with --csv: write here (default: stdout)"};

std::uint64_t MinPosition(const Args& args) {
  return static_cast<std::uint64_t>(args.Int("min-position", 0, 0, INT64_MAX));
}

std::string SessionText(v1::Session session) { return EnumName(v1::Session_descriptor(), session); }

v1::Session SessionFlag(const Args& args) {
  return static_cast<v1::Session>(
      ParseEnumFlag(args, "session", args.Required("session"), v1::Session_descriptor()));
}

std::string ActorText(const v1::Actor& actor) {
  if (actor.role().empty()) return actor.name();
  return absl::StrCat(actor.name(), " (", actor.role(), ")");
}

// "2025-09-10T09:15:00Z" (any RFC 3339 time), "2025-09-10" (its midnight,
// UTC) or microseconds since the epoch.
std::int64_t InstantFlag(const Args& args, absl::string_view flag) {
  const std::string text = args.Get(flag);
  std::int64_t micros = 0;
  if (absl::SimpleAtoi(text, &micros) && micros >= 0) return micros;
  absl::Time time;
  std::string error;
  if (absl::ParseTime(absl::RFC3339_full, text, &time, &error) ||
      absl::ParseTime("%Y-%m-%dT%H:%M", text, absl::UTCTimeZone(), &time, &error) ||
      absl::ParseTime("%Y-%m-%d", text, absl::UTCTimeZone(), &time, &error)) {
    return absl::ToUnixMicros(time);
  }
  args.Fail(absl::StrCat("--", flag, ": \"", text,
                         "\" is not a time (2025-09-10T09:15:00Z, 2025-09-10 or microseconds)"));
}

int GetMarkHistory(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::GetMarkHistoryRequest request;
  request.set_school_id(args.Required("school"));
  request.set_pupil_id(args.Required("pupil"));
  request.set_date(args.Required("date"));
  request.set_session(SessionFlag(args));
  request.set_min_position(MinPosition(args));
  auto stub = NewStub<v1::Audit>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  v1::MarkHistory response;
  const grpc::Status status = stub->GetMarkHistory(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status, "GetMarkHistory", invocation.err);
  if (invocation.json) {
    PrintJson(response, invocation.out);
    return kExitOk;
  }
  invocation.out << response.pupil_id() << " " << response.date() << " "
                 << SessionText(response.session()) << " at " << response.school_id() << ": "
                 << response.entries_size() << " entries\n";
  Table table({"position", "at (UTC)", "entry", "code", "was", "reason", "by", "imported"});
  for (const v1::MarkHistoryEntry& entry : response.entries()) {
    // Imported history: "at" is the source's time; when it came here, and who brought it.
    const std::string imported = entry.imported_from().empty()
                                     ? ""
                                     : absl::StrCat("from ", entry.imported_from(), " at ",
                                                    FormatInstant(entry.recorded_at_us()), " by ",
                                                    ActorText(entry.imported_by()));
    table.Add({absl::StrCat(entry.position()), FormatInstant(entry.at_us()),
               entry.amendment() ? "amendment" : "recorded", entry.code(), entry.original_code(),
               entry.reason(), ActorText(entry.by()), imported});
  }
  table.Print(invocation.out);
  return kExitOk;
}

const char kAmendmentsCsvHeader[] =
    "position,school_id,pupil_id,date,session,original_code,amended_code,reason,amended_by,"
    "amended_by_role,amended_at";

std::string AmendmentCsv(const v1::Amendment& a) {
  return absl::StrJoin(
      {absl::StrCat(a.position()), CsvField(a.school_id()), CsvField(a.pupil_id()), a.date(),
       SessionText(a.session()), CsvField(a.original_code()), CsvField(a.amended_code()),
       CsvField(a.reason()), CsvField(a.amended_by().name()), CsvField(a.amended_by().role()),
       FormatInstant(a.amended_at_us())},
      ",");
}

int ReplayAmendments(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::ReplayAmendmentsRequest request;
  request.set_school_id(args.Required("school"));
  const bool by_date = args.Has("from-date") || args.Has("to-date");
  if (by_date && (args.Has("amended-from") || args.Has("amended-to"))) {
    args.Fail(
        "give --from-date/--to-date (session dates) or --amended-from/--amended-to, not both");
  }
  if (by_date) {
    request.set_range(v1::BY_SESSION_DATE);
    request.set_from_date(args.Required("from-date"));
    request.set_to_date(args.Get("to-date"));
  } else {
    request.set_range(v1::BY_AMENDED_AT);
    if (args.Has("amended-from")) request.set_from_us(InstantFlag(args, "amended-from"));
    if (args.Has("amended-to")) request.set_to_us(InstantFlag(args, "amended-to"));
  }
  request.set_pupil_id(args.Get("pupil"));
  request.set_amender_name(args.Get("amender"));
  request.set_amender_role(args.Get("amender-role"));
  request.set_from_code(args.Get("from-code"));
  request.set_to_code(args.Get("to-code"));
  request.set_unauthorised_to_authorised(args.Switch("unauthorised-to-authorised"));
  request.set_max_results(static_cast<std::uint32_t>(args.Int("max-results", 0, 0, 100000)));
  request.set_min_position(MinPosition(args));
  const bool csv = args.Switch("csv");
  if (args.Has("out") && !csv) args.Fail("--out goes with --csv");
  OutFile output(invocation);
  if (!output.ok()) return kExitInvalid;
  std::ostream& out = csv ? output.stream() : invocation.out;
  if (csv) out << kAmendmentsCsvHeader << "\n";
  Table table(
      {"position", "amended at (UTC)", "pupil", "date", "session", "from", "to", "reason", "by"});
  auto stub = NewStub<v1::Audit>(invocation);
  std::uint64_t count = 0;
  int calls = 0;
  // Every page: a truncated answer is resumed where it stopped.
  while (true) {
    grpc::ClientContext context;
    invocation.connection.Prepare(context);
    auto reader = stub->ReplayAmendments(&context, request);
    v1::ReplayAmendmentsResponse page;
    v1::ReplayEnd end;
    while (reader->Read(&page)) {
      for (const v1::Amendment& a : page.amendments()) {
        ++count;
        if (csv) {
          out << AmendmentCsv(a) << "\n";
        } else if (invocation.json) {
          PrintJson(a, out);
        } else {
          table.Add({absl::StrCat(a.position()), FormatInstant(a.amended_at_us()), a.pupil_id(),
                     a.date(), SessionText(a.session()), a.original_code(), a.amended_code(),
                     a.reason(), ActorText(a.amended_by())});
        }
      }
      if (page.has_end()) end = page.end();
    }
    const grpc::Status status = reader->Finish();
    if (!status.ok()) return ReportRpcError(status, "ReplayAmendments", invocation.err);
    ++calls;
    if (!end.truncated()) break;
    request.set_resume_after(end.resume_after());
  }
  if (csv) {
    if (!output.path().empty()) {
      invocation.err << "wrote " << count << " amendments to " << output.path() << "\n";
    }
  } else if (!invocation.json) {
    table.Print(out);
    out << count << " amendments (" << calls << (calls == 1 ? " call" : " calls") << ")\n";
  }
  return kExitOk;
}

std::string EntryText(const v1::MarkHistoryEntry& entry) {
  return absl::StrCat(entry.original_code().empty() ? "" : entry.original_code() + "->",
                      entry.code(), " by ", entry.by().name(), " at ",
                      FormatInstant(entry.at_us()));
}

int GetRegisterAsOf(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::GetRegisterAsOfRequest request;
  request.set_school_id(args.Required("school"));
  request.set_date(args.Required("date"));
  request.set_session(SessionFlag(args));
  if (args.Has("as-of")) request.set_as_of_us(InstantFlag(args, "as-of"));
  if (args.Has("year-group")) {
    request.set_year_group(static_cast<std::int32_t>(args.Int("year-group", 0, -1, 14)));
  }
  request.set_class_name(args.Get("class"));
  request.set_min_position(MinPosition(args));
  auto stub = NewStub<v1::Audit>(invocation);
  grpc::ClientContext context;
  invocation.connection.Prepare(context);
  v1::RegisterAsOf response;
  const grpc::Status status = stub->GetRegisterAsOf(&context, request, &response);
  if (!status.ok()) return ReportRpcError(status, "GetRegisterAsOf", invocation.err);
  if (invocation.json) {
    PrintJson(response, invocation.out);
    return kExitOk;
  }
  invocation.out << response.school_id() << " " << response.date() << " "
                 << SessionText(response.session()) << " as it stood at "
                 << (response.as_of_us() == 0 ? "now" : FormatInstant(response.as_of_us())) << ": "
                 << response.lines_size() << " pupils\n";
  Table table({"pupil", "year", "class", "code then", "set by", "changed since"});
  for (const v1::RegisterLine& line : response.lines()) {
    std::vector<std::string> since;
    for (const v1::MarkHistoryEntry& entry : line.changed_since())
      since.push_back(EntryText(entry));
    table.Add({line.pupil_id(), absl::StrCat(line.year_group()), line.class_name(),
               line.code().empty() ? "(none)" : line.code(),
               line.has_as_of_entry() ? EntryText(line.as_of_entry()) : "",
               absl::StrJoin(since, "; ")});
  }
  table.Print(invocation.out);
  return kExitOk;
}

// "attendance_letters: (none) -> letter_1 (letter): attendance 93.8% (...)
// -> letter_1 due".
std::string StageChangeText(const v1::StageChange& change) {
  std::string text = absl::StrCat(
      change.ladder_id(), ": ", change.from_stage().empty() ? "(none)" : change.from_stage(),
      " -> ", change.to_stage(),
      change.action_id().empty() ? " (letter)" : absl::StrCat(" (action ", change.action_id(), ")"),
      ": ", change.sentence());
  if (change.basis_changed()) absl::StrAppend(&text, "; ", change.basis_note());
  return text;
}

int GetPupilTimeline(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::GetPupilTimelineRequest request;
  request.set_school_id(args.Required("school"));
  request.set_pupil_id(args.Required("pupil"));
  request.set_from_date(args.Get("from-date"));
  request.set_to_date(args.Get("to-date"));
  request.set_max_results(static_cast<std::uint32_t>(args.Int("max-results", 0, 0, 100000)));
  request.set_min_position(MinPosition(args));
  const bool csv = args.Switch("csv");
  if (args.Has("out") && !csv) args.Fail("--out goes with --csv");
  OutFile output(invocation);
  if (!output.ok()) return kExitInvalid;
  std::ostream& out = csv ? output.stream() : invocation.out;
  if (csv) out << "date,position,recorded_at,event,details,by,by_role\n";
  Table table({"date", "position", "recorded (UTC)", "event", "details", "by"});
  auto stub = NewStub<v1::Audit>(invocation);
  std::uint64_t count = 0;
  int calls = 0;
  // Every page: a truncated answer is resumed where it stopped.
  while (true) {
    grpc::ClientContext context;
    invocation.connection.Prepare(context);
    auto reader = stub->GetPupilTimeline(&context, request);
    v1::PupilTimelinePage page;
    v1::TimelineEnd end;
    while (reader->Read(&page)) {
      for (const v1::TimelineEntry& entry : page.entries()) {
        ++count;
        // A stage change is no stored event: no recording time, no actor.
        const bool stage = entry.has_stage_change();
        const auto [kind, details] =
            stage ? std::pair{std::string("stage"), StageChangeText(entry.stage_change())}
                  : DescribeEvent(entry.event());
        const std::string recorded = stage ? "" : FormatInstant(entry.event().recorded_at_us());
        if (csv) {
          out << absl::StrJoin({entry.date(), absl::StrCat(entry.position()), recorded, kind,
                                CsvField(details), CsvField(entry.event().actor().name()),
                                CsvField(entry.event().actor().role())},
                               ",")
              << "\n";
        } else if (invocation.json) {
          PrintJson(entry, out);
        } else {
          table.Add({entry.date(), absl::StrCat(entry.position()), recorded, kind, details,
                     entry.event().actor().name()});
        }
      }
      if (page.has_end()) end = page.end();
    }
    const grpc::Status status = reader->Finish();
    if (!status.ok()) return ReportRpcError(status, "GetPupilTimeline", invocation.err);
    ++calls;
    if (!end.truncated()) break;
    request.set_resume_after(end.resume_after());
  }
  if (csv && !output.path().empty()) {
    invocation.err << "wrote " << count << " entries to " << output.path() << "\n";
  }
  if (!csv && !invocation.json) {
    table.Print(out);
    out << count << " entries (" << calls << (calls == 1 ? " call" : " calls") << ")\n";
  }
  return kExitOk;
}

}  // namespace

std::vector<Command> AuditCommands() {
  const std::string group = "attendance.v1.Audit";
  const Option pupil{"pupil", "ID", "(required)"};
  const Option csv{"csv", "", "write CSV (with a header row) instead of a table"};
  const Option max_results{"max-results", "N", "at most N a call, 1..100000 (default 10000)"};
  return {
      {"mark-history",
       group,
       "GetMarkHistory: a session's first mark and every amendment, who and when",
       "",
       {kSchool,
        pupil,
        {"date", "YYYY-MM-DD", "(required)"},
        {"session", "AM|PM", "(required)"},
        kMinPosition},
       GetMarkHistory},
      {"replay-amendments",
       group,
       "ReplayAmendments: a school's amendments, filtered, every page (--csv: a spreadsheet)",
       "",
       {kSchool,
        {"amended-from", "TIME",
         "amended at or after (2025-09-10T09:15:00Z, 2025-09-10 or microseconds; default: the "
         "start)"},
        {"amended-to", "TIME", "amended before (default: no bound)"},
        {"from-date", "YYYY-MM-DD", "instead: sessions dated from this day"},
        {"to-date", "YYYY-MM-DD", "... to this day inclusive (default: --from-date)"},
        {"pupil", "ID", "only this pupil"},
        {"amender", "NAME", "only amendments by this name"},
        {"amender-role", "ROLE", "only by this role, e.g. attendance_officer"},
        {"from-code", "CODE", "only amendments from this code"},
        {"to-code", "CODE", "only amendments to this code"},
        {"unauthorised-to-authorised", "", "only G U O N changed to an authorised code"},
        max_results,
        csv,
        kOut,
        kMinPosition},
       ReplayAmendments},
      {"register-as-of",
       group,
       "GetRegisterAsOf: a whole register as it stood at a moment, and what changed since",
       "",
       {kSchool,
        {"date", "YYYY-MM-DD", "the session's date (required)"},
        {"session", "AM|PM", "(required)"},
        {"as-of", "TIME",
         "the moment (2025-09-10T09:15:00Z, 2025-09-10 or microseconds; "
         "default: now)"},
        {"year-group", "N", "only pupils now in this year group"},
        {"class", "NAME", "only pupils now in this class"},
        kMinPosition},
       GetRegisterAsOf},
      {"pupil-timeline",
       group,
       "GetPupilTimeline: one pupil's whole record in date order, every page (--csv: a "
       "spreadsheet)",
       "",
       {kSchool,
        pupil,
        {"from-date", "YYYY-MM-DD", "entries from this date (default: the first)"},
        {"to-date", "YYYY-MM-DD", "entries to this date inclusive (default: the last)"},
        max_results,
        csv,
        kOut,
        kMinPosition},
       GetPupilTimeline},
  };
}

}  // namespace attendance::ledgerctl
