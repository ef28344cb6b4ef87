// import-marks: a school's marks from a CSV export (marks_csv.h), with their
// amendments and, where the file gives them, the source's times and people,
// written through ImportHistory (the ledger keeps the source's history as
// such: ledger_service.proto).
//
// Idempotent: every request id is derived from what the request carries, so
// the same file gives the same requests and a second run is answered from
// the ledger's request log (replayed) and writes nothing; a session that
// already holds the code a row's history ends with is skipped by the ledger
// (rows imported before in other batches, or an export of the same school).
// A request the server refuses because of one row (its message names
// marks[i]) is sent again without that row, under the id of the smaller
// request (an unknown pupil takes all its rows out at once).
#include <grpcpp/client_context.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "attendance/v1/ledger_service.grpc.pb.h"
#include "command_table.h"
#include "common.h"
#include "ctf.h"
#include "import_marks.h"
#include "marks_csv.h"

namespace attendance::ledgerctl {
namespace {

namespace v1 = ::attendance::v1;

// ImportHistory's limits per request (ledger_service.proto): marks, and
// marks and amendments together.
constexpr int kServerBatchLimit = 10000;
constexpr size_t kServerEventLimit = 20000;

struct Outcome {
  int marks_recorded = 0;
  int marks_already = 0;  // replayed, or the session already had the row's code
  int amendments_recorded = 0;
  int amendments_already = 0;
  std::vector<RowError> errors;
  // A failure that is not one row's: the import stopped there.
  std::optional<grpc::Status> stopped;
  std::string stopped_method;
};

// The index in `prefix[i]` at the start of `text`, or -1.
int IndexAfter(absl::string_view text, absl::string_view prefix) {
  if (text.substr(0, prefix.size()) != prefix) return -1;
  const size_t close = text.find(']');
  int index = -1;
  if (close == absl::string_view::npos ||
      !absl::SimpleAtoi(text.substr(prefix.size(), close - prefix.size()), &index)) {
    return -1;
  }
  return index;
}

bool RowLevel(grpc::StatusCode code) {
  return code == grpc::StatusCode::INVALID_ARGUMENT || code == grpc::StatusCode::NOT_FOUND ||
         code == grpc::StatusCode::FAILED_PRECONDITION ||
         code == grpc::StatusCode::ALREADY_EXISTS || code == grpc::StatusCode::ABORTED;
}

size_t Events(const ImportRow& row) { return 1 + row.amendments.size(); }

v1::ImportedMark ToImported(const ImportRow& row) {
  v1::ImportedMark out;
  out.set_pupil_id(row.mark.pupil_id());
  out.set_date(row.mark.date());
  out.set_session(row.mark.session());
  out.set_code(row.mark.code());
  out.set_minutes_late(row.mark.minutes_late());
  out.set_comment(row.mark.comment());
  out.mutable_taken_by()->set_name(row.taken_by);
  out.set_taken_at_us(row.taken_at_us);
  for (const ImportedAmendment& a : row.amendments) {
    v1::ImportedAmendment* amendment = out.add_amendments();
    amendment->set_amended_code(a.amended_code);
    amendment->set_minutes_late(a.minutes_late);
    amendment->set_reason(a.reason);
    amendment->mutable_amended_by()->set_name(a.amended_by);
    amendment->set_amended_at_us(a.amended_at_us);
  }
  return out;
}

class Importer {
 public:
  Importer(Invocation& invocation, std::string school, std::string source, bool all_or_nothing)
      : invocation_(invocation),
        stub_(NewStub<v1::Ledger>(invocation)),
        school_(std::move(school)),
        source_(std::move(source)),
        all_or_nothing_(all_or_nothing) {}

  // Sends one request of rows; rows the server refuses are taken out and
  // the rest sent again. Returns false when the import must stop.
  bool ImportBatch(std::vector<const ImportRow*> pending, Outcome& outcome) {
    while (!pending.empty()) {
      v1::ImportHistoryRequest request;
      request.set_school_id(school_);
      request.set_source(source_);
      int amendments = 0;
      for (const ImportRow* row : pending) {
        *request.add_marks() = ToImported(*row);
        amendments += static_cast<int>(row->amendments.size());
      }
      request.set_request_id(DerivedRequestId("import-marks", invocation_, request));
      grpc::ClientContext context;
      invocation_.connection.Prepare(context);
      v1::ImportHistoryResponse response;
      const grpc::Status status = stub_->ImportHistory(&context, request, &response);
      if (status.ok()) {
        if (response.replayed()) {
          outcome.marks_already += static_cast<int>(pending.size());
          outcome.amendments_already += amendments;
        } else {
          outcome.marks_recorded += static_cast<int>(response.marks_written());
          outcome.marks_already += static_cast<int>(response.skipped());
          outcome.amendments_recorded += static_cast<int>(response.amendments_written());
          outcome.amendments_already +=
              amendments - static_cast<int>(response.amendments_written());
        }
        return true;
      }
      const std::string& full = status.error_message();
      const int index = IndexAfter(full, "marks[");
      if (!RowLevel(status.error_code()) || index < 0 ||
          index >= static_cast<int>(pending.size())) {
        return Stop(status, "ImportHistory", outcome);
      }
      const ImportRow* row = pending[static_cast<size_t>(index)];
      // Without "marks[i]." (or "marks[i]: "): the line says which row.
      std::string message = full;
      const size_t cut = message.find_first_of(".:", message.find(']'));
      if (cut != std::string::npos) message = message.substr(cut + 1);
      if (!message.empty() && message[0] == ' ') message.erase(0, 1);
      // An amendment's fault is on the line that gave it.
      int line = row->line;
      const int amendment = IndexAfter(message, "amendments[");
      if (amendment >= 0 && amendment < static_cast<int>(row->amendments.size())) {
        line = row->amendments[static_cast<size_t>(amendment)].line;
      }
      // An unknown pupil: every row of that pupil is refused the same way.
      const bool whole_pupil =
          status.error_code() == grpc::StatusCode::NOT_FOUND && message.rfind("pupil_id", 0) == 0;
      const std::string pupil = row->mark.pupil_id();
      for (size_t i = pending.size(); i-- > 0;) {
        if (i == static_cast<size_t>(index) ||
            (whole_pupil && pending[i]->mark.pupil_id() == pupil)) {
          outcome.errors.push_back(
              {i == static_cast<size_t>(index) ? line : pending[i]->line, message});
          pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
        }
      }
      if (all_or_nothing_) return false;  // the request held the whole file: nothing written
    }
    return true;
  }

 private:
  bool Stop(const grpc::Status& status, const std::string& method, Outcome& outcome) {
    outcome.stopped = status;
    outcome.stopped_method = method;
    return false;
  }

  Invocation& invocation_;
  std::unique_ptr<v1::Ledger::Stub> stub_;
  std::string school_;
  std::string source_;
  bool all_or_nothing_;
};

void PrintOutcome(Invocation& invocation, const std::string& path, const MarksFile& file,
                  const Outcome& outcome, bool wrote_nothing) {
  std::vector<RowError> errors = file.errors;
  errors.insert(errors.end(), outcome.errors.begin(), outcome.errors.end());
  std::sort(errors.begin(), errors.end(),
            [](const RowError& a, const RowError& b) { return a.line < b.line; });
  for (const RowError& error : errors) {
    invocation.err << path << ":" << error.line << ": " << error.message << "\n";
  }
  std::set<int> rejected_lines;
  for (const RowError& error : errors) rejected_lines.insert(error.line);
  if (invocation.json) {
    std::string json =
        absl::StrCat("{\"file\":", JsonString(path), ",\"rows\":", file.data_rows,
                     ",\"marks_recorded\":", outcome.marks_recorded,
                     ",\"marks_already_recorded\":", outcome.marks_already,
                     ",\"amendments_recorded\":", outcome.amendments_recorded,
                     ",\"amendments_already_recorded\":", outcome.amendments_already,
                     ",\"rows_rejected\":", rejected_lines.size(),
                     ",\"wrote_nothing\":", wrote_nothing ? "true" : "false", ",\"errors\":[");
    for (size_t i = 0; i < errors.size(); ++i) {
      absl::StrAppend(&json, i == 0 ? "" : ",", "{\"line\":", errors[i].line,
                      ",\"message\":", JsonString(errors[i].message), "}");
    }
    invocation.out << json << "]}\n";
    return;
  }
  invocation.out << path << ": " << file.data_rows << " rows: " << outcome.marks_recorded
                 << " marks recorded, " << outcome.marks_already << " already in the ledger, "
                 << outcome.amendments_recorded << " amendments recorded, "
                 << outcome.amendments_already << " already in the ledger, "
                 << rejected_lines.size() << " rows rejected"
                 << (wrote_nothing && !rejected_lines.empty() ? " (nothing written)" : "") << "\n";
}

std::optional<std::string> ReadFile(Invocation& invocation, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    invocation.err << "ledgerctl: " << path << ": cannot read\n";
    return std::nullopt;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

int ImportMarks(Invocation& invocation) {
  const std::string path = invocation.args.positional().front();
  const std::optional<std::string> text = ReadFile(invocation, path);
  if (!text) return kExitInvalid;
  absl::StatusOr<MarksFile> file = ParseMarksCsv(*text);
  if (!file.ok()) {
    invocation.err << "ledgerctl: " << path << ": " << file.status().message() << "\n";
    return kExitInvalid;
  }
  return RunImport(invocation, path, *file, std::filesystem::path(path).filename().string());
}

int ImportCtf(Invocation& invocation) {
  const std::string path = invocation.args.positional().front();
  const std::optional<std::string> text = ReadFile(invocation, path);
  if (!text) return kExitInvalid;
  absl::StatusOr<CtfAttendance> ctf = ParseCtfAttendance(*text, invocation.args.Get("estab"));
  if (!ctf.ok()) {
    invocation.err << "ledgerctl: " << path << ": " << ctf.status().message() << "\n";
    return kExitInvalid;
  }
  if (!invocation.json) {
    invocation.out << path << ": attendance of " << ctf->pupils << " pupils, " << ctf->years
                   << " years, at " << ctf->estab
                   << (ctf->school_name.empty() ? "" : " " + ctf->school_name) << "\n";
  }
  std::string source = absl::StrCat("CTF ", ctf->estab);
  if (!ctf->school_name.empty()) absl::StrAppend(&source, " ", ctf->school_name);
  return RunImport(invocation, path, ctf->marks, source);
}

}  // namespace

int RunImport(Invocation& invocation, const std::string& path, const MarksFile& file,
              const std::string& default_source) {
  const Args& args = invocation.args;
  const std::string school = args.Required("school");
  const std::string source = args.Get("source", default_source).substr(0, 200);
  const bool all_or_nothing = args.Switch("all-or-nothing");
  const int batch = static_cast<int>(args.Int("batch", kServerBatchLimit, 1, kServerBatchLimit));
  Outcome outcome;
  if (args.Switch("dry-run") || (all_or_nothing && !file.errors.empty())) {
    PrintOutcome(invocation, path, file, outcome, true);
    return file.errors.empty() ? kExitOk : kExitInvalid;
  }
  size_t file_events = 0;
  for (const ImportRow& row : file.rows) file_events += Events(row);
  if (all_or_nothing &&
      (static_cast<int>(file.rows.size()) > batch || file_events > kServerEventLimit)) {
    invocation.err << "ledgerctl: " << path << ": " << file.rows.size() << " marks and "
                   << file_events - file.rows.size() << " amendments do not fit in one request of "
                   << batch << " marks and " << kServerEventLimit
                   << " events, so --all-or-nothing cannot hold; split the file\n";
    return kExitInvalid;
  }
  Importer importer(invocation, school, source, all_or_nothing);
  bool going = true;
  // Requests of at most --batch marks and the server's limit of events.
  for (size_t first = 0; going && first < file.rows.size();) {
    std::vector<const ImportRow*> pending;
    size_t events = 0;
    while (first < file.rows.size() && static_cast<int>(pending.size()) < batch &&
           events + Events(file.rows[first]) <= kServerEventLimit) {
      events += Events(file.rows[first]);
      pending.push_back(&file.rows[first++]);
    }
    going = importer.ImportBatch(std::move(pending), outcome);
  }
  const bool wrote_nothing = all_or_nothing && !outcome.errors.empty();
  PrintOutcome(invocation, path, file, outcome, wrote_nothing);
  if (outcome.stopped)
    return ReportRpcError(*outcome.stopped, outcome.stopped_method, invocation.err);
  const size_t rejected = file.errors.size() + outcome.errors.size();
  if (rejected == 0) return kExitOk;
  const bool wrote_some = outcome.marks_recorded + outcome.marks_already +
                              outcome.amendments_recorded + outcome.amendments_already >
                          0;
  return wrote_nothing || !wrote_some ? kExitInvalid : kExitPartial;
}

const std::vector<Option>& ImportOptions() {
  static const std::vector<Option> options = {
      {"school", "ID", "the school the file's marks belong to (required)"},
      {"all-or-nothing", "",
       "check every row first and write nothing if any is bad (the file must fit one request)"},
      {"dry-run", "", "check the rows that need no server, write nothing"},
      {"batch", "N", "marks per ImportHistory request, 1..10000 (default 10000)"},
      {"source", "NAME",
       "the system the marks come from, stored with each (default: the file's name)"}};
  return options;
}

std::vector<Command> ImportMarksCommands() {
  return {
      {"import-marks", "Import and export (CSV)",
       "imports a school's marks, their amendments and the source's times from a SIMS- or "
       "Wonde-shaped CSV (ImportHistory); idempotent; errors by line",
       "FILE", ImportOptions(), ImportMarks, 1, 1},
      {"import-ctf", "Import and export (CSV)",
       "imports the attendance block of a Common Transfer File (session marks per pupil per "
       "year) through ImportHistory; pupils by UPN; idempotent; errors by line",
       "FILE",
       [] {
         std::vector<Option> options = ImportOptions();
         options.push_back({"estab", "LEA-ESTAB",
                            "the establishment whose YearData to import (default: the file's "
                            "SourceSchool)"});
         return options;
       }(),
       ImportCtf, 1, 1},
  };
}

}  // namespace attendance::ledgerctl
