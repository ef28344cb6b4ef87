// import-marks: a school's marks from a CSV export (marks_csv.h), written as
// RecordMarks batches and, where a row gives one, an AmendMark.
//
// Idempotent: every request id is derived from what the request carries, so
// the same file gives the same requests and a second run is answered from
// the ledger's request log (replayed) and writes nothing. A batch the server
// refuses because of one mark (its message names marks[i]) is sent again
// without that row, under the id of the smaller batch (an unknown pupil takes
// all its rows out at once). When a session already has a mark (rows
// imported before in other batches), the school's marks are read once and
// every row whose session holds its code counts as already there; one that
// holds another code is refused (amend it instead).
#include <grpcpp/client_context.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "attendance/v1/ledger_service.grpc.pb.h"
#include "command_table.h"
#include "common.h"
#include "marks_csv.h"

namespace attendance::ledgerctl {
namespace {

namespace v1 = ::attendance::v1;

// RecordMarks' limit per batch (ledger_service.proto).
constexpr int kServerBatchLimit = 10000;

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

// The index i of a message starting "marks[i]", or -1.
int MarkIndex(const std::string& message) {
  if (message.rfind("marks[", 0) != 0) return -1;
  const size_t close = message.find(']');
  int index = -1;
  if (close == std::string::npos || !absl::SimpleAtoi(message.substr(6, close - 6), &index)) {
    return -1;
  }
  return index;
}

// The existing code in ALREADY_EXISTS' `already has mark "X"`, or "".
std::string ExistingCode(const std::string& message) {
  const std::string kMarker = "already has mark \"";
  const size_t at = message.find(kMarker);
  if (at == std::string::npos) return "";
  const size_t start = at + kMarker.size();
  const size_t end = message.find('"', start);
  return end == std::string::npos ? "" : message.substr(start, end - start);
}

bool RowLevel(grpc::StatusCode code) {
  return code == grpc::StatusCode::INVALID_ARGUMENT || code == grpc::StatusCode::NOT_FOUND ||
         code == grpc::StatusCode::FAILED_PRECONDITION ||
         code == grpc::StatusCode::ALREADY_EXISTS || code == grpc::StatusCode::ABORTED;
}

class Importer {
 public:
  Importer(Invocation& invocation, std::string school, bool all_or_nothing)
      : invocation_(invocation),
        stub_(NewStub<v1::Ledger>(invocation)),
        school_(std::move(school)),
        all_or_nothing_(all_or_nothing) {}

  // Sends one batch of rows; rows the server refuses are taken out and the
  // rest sent again. Returns false when the import must stop.
  bool RecordBatch(std::vector<const ImportRow*> pending, Outcome& outcome) {
    if (existing_loaded_ && !DropExisting(pending, outcome)) return false;
    while (!pending.empty()) {
      v1::RecordMarksRequest request;
      request.set_school_id(school_);
      for (const ImportRow* row : pending) *request.add_marks() = row->mark;
      request.set_request_id(DerivedRequestId("import-marks", invocation_, request));
      grpc::ClientContext context;
      invocation_.connection.Prepare(context);
      v1::RecordMarksResponse response;
      const grpc::Status status = stub_->RecordMarks(&context, request, &response);
      if (status.ok()) {
        (response.replayed() ? outcome.marks_already : outcome.marks_recorded) +=
            static_cast<int>(pending.size());
        return true;
      }
      const int index = MarkIndex(status.error_message());
      if (!RowLevel(status.error_code()) || index < 0 ||
          index >= static_cast<int>(pending.size())) {
        return Stop(status, "RecordMarks", outcome);
      }
      const ImportRow* row = pending[static_cast<size_t>(index)];
      const std::string existing = ExistingCode(status.error_message());
      if (status.error_code() == grpc::StatusCode::ALREADY_EXISTS && !existing.empty()) {
        // Rows imported before, in other batches: one read of the school's
        // marks finds them all, instead of one refused batch per row.
        if (!existing_loaded_) {
          if (!LoadExisting(outcome)) return false;
          if (!DropExisting(pending, outcome)) return false;
          continue;
        }
        pending.erase(pending.begin() + index);
        if (!AlreadyThere(*row, existing, outcome)) return false;
        continue;
      }
      // Without "marks[i]." (or "marks[i]: "): the line says which row.
      std::string message = status.error_message();
      const size_t cut = message.find_first_of(".:", message.find(']'));
      if (cut != std::string::npos) message = message.substr(cut + 1);
      if (!message.empty() && message[0] == ' ') message.erase(0, 1);
      // An unknown pupil: every row of that pupil is refused the same way.
      const bool whole_pupil =
          status.error_code() == grpc::StatusCode::NOT_FOUND && message.rfind("pupil_id", 0) == 0;
      const std::string pupil = row->mark.pupil_id();
      for (size_t i = pending.size(); i-- > 0;) {
        if (i == static_cast<size_t>(index) ||
            (whole_pupil && pending[i]->mark.pupil_id() == pupil)) {
          Reject(*pending[i], message, outcome);
          pending.erase(pending.begin() + static_cast<std::ptrdiff_t>(i));
        }
      }
      if (all_or_nothing_) return false;  // the batch held the whole file: nothing written
    }
    return true;
  }

  // One AmendMark per row with an amendment. The source's who and when go
  // into the reason: the ledger records its own caller and clock.
  bool Amend(const ImportRow& row, Outcome& outcome) {
    if (rejected_.count(&row) > 0 || amended_.count(&row) > 0) {
      if (amended_.count(&row) > 0) ++outcome.amendments_already;
      return true;
    }
    const ImportedAmendment& amendment = *row.amendment;
    v1::AmendMarkRequest request;
    request.set_school_id(school_);
    request.set_pupil_id(row.mark.pupil_id());
    request.set_date(row.mark.date());
    request.set_session(row.mark.session());
    request.set_amended_code(amendment.amended_code);
    std::string reason = amendment.reason;
    if (!amendment.amended_by.empty() || !amendment.amended_at.empty()) {
      absl::StrAppend(&reason, " (imported: amended");
      if (!amendment.amended_by.empty()) absl::StrAppend(&reason, " by ", amendment.amended_by);
      if (!amendment.amended_at.empty()) absl::StrAppend(&reason, " at ", amendment.amended_at);
      absl::StrAppend(&reason, ")");
    }
    request.set_reason(reason);
    request.set_minutes_late(amendment.minutes_late);
    request.set_expected_code(row.mark.code());
    request.set_request_id(DerivedRequestId("import-amend", invocation_, request));
    grpc::ClientContext context;
    invocation_.connection.Prepare(context);
    v1::AmendMarkResponse response;
    const grpc::Status status = stub_->AmendMark(&context, request, &response);
    if (status.ok()) {
      ++(response.replayed() ? outcome.amendments_already : outcome.amendments_recorded);
      return true;
    }
    if (!RowLevel(status.error_code())) return Stop(status, "AmendMark", outcome);
    outcome.errors.push_back({row.line, "amendment: " + status.error_message()});
    return true;
  }

 private:
  using SessionKey = std::tuple<std::string, std::string, int>;  // pupil, date, session

  static SessionKey KeyOf(const v1::Mark& mark) {
    return {mark.pupil_id(), mark.date(), static_cast<int>(mark.session())};
  }

  bool Stop(const grpc::Status& status, const std::string& method, Outcome& outcome) {
    outcome.stopped = status;
    outcome.stopped_method = method;
    return false;
  }

  void Reject(const ImportRow& row, std::string message, Outcome& outcome) {
    outcome.errors.push_back({row.line, std::move(message)});
    rejected_.insert(&row);
  }

  // The session already has `existing`: the row is there if that is its
  // code (or its amended code); otherwise it conflicts. False: stop (an
  // all-or-nothing import that cannot hold).
  bool AlreadyThere(const ImportRow& row, const std::string& existing, Outcome& outcome) {
    const bool amended = row.amendment && existing == row.amendment->amended_code;
    if (existing == row.mark.code() || amended) {
      ++outcome.marks_already;
      if (amended) amended_.insert(&row);
      return true;
    }
    Reject(row,
           absl::StrCat("pupil \"", row.mark.pupil_id(), "\" already has mark \"", existing,
                        "\" for ", row.mark.date(), " ", row.mark.session() == v1::AM ? "AM" : "PM",
                        ", not \"", row.mark.code(), "\" (amend it instead)"),
           outcome);
    return !all_or_nothing_;
  }

  // Every session's current code in the school, from ReadEvents.
  bool LoadExisting(Outcome& outcome) {
    v1::ReadEventsRequest request;
    request.set_school_id(school_);
    request.add_event_types(v1::MARK_RECORDED);
    request.add_event_types(v1::MARK_AMENDED);
    grpc::ClientContext context;
    invocation_.connection.PrepareUnbounded(context);
    auto reader = stub_->ReadEvents(&context, request);
    v1::EventEnvelope event;
    while (reader->Read(&event)) {
      if (event.has_mark_recorded()) {
        const v1::MarkRecorded& m = event.mark_recorded();
        existing_[{m.pupil_id(), m.date(), static_cast<int>(m.session())}] = m.code();
      } else if (event.has_mark_amended()) {
        const v1::MarkAmended& m = event.mark_amended();
        existing_[{m.pupil_id(), m.date(), static_cast<int>(m.session())}] = m.amended_code();
      }
    }
    const grpc::Status status = reader->Finish();
    if (!status.ok()) return Stop(status, "ReadEvents", outcome);
    existing_loaded_ = true;
    return true;
  }

  // Takes out of `pending` the rows whose session already has a mark.
  bool DropExisting(std::vector<const ImportRow*>& pending, Outcome& outcome) {
    std::vector<const ImportRow*> rest;
    for (const ImportRow* row : pending) {
      auto it = existing_.find(KeyOf(row->mark));
      if (it == existing_.end()) {
        rest.push_back(row);
      } else if (!AlreadyThere(*row, it->second, outcome)) {
        return false;
      }
    }
    pending = std::move(rest);
    return true;
  }

  Invocation& invocation_;
  std::unique_ptr<v1::Ledger::Stub> stub_;
  std::string school_;
  bool all_or_nothing_;
  std::set<const ImportRow*> rejected_;
  std::set<const ImportRow*> amended_;  // found already amended
  std::map<SessionKey, std::string> existing_;
  bool existing_loaded_ = false;
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

int ImportMarks(Invocation& invocation) {
  const Args& args = invocation.args;
  const std::string path = args.positional().front();
  const std::string school = args.Required("school");
  const bool all_or_nothing = args.Switch("all-or-nothing");
  const int batch = static_cast<int>(args.Int("batch", kServerBatchLimit, 1, kServerBatchLimit));
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    invocation.err << "ledgerctl: " << path << ": cannot read\n";
    return kExitInvalid;
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  absl::StatusOr<MarksFile> file = ParseMarksCsv(buffer.str());
  if (!file.ok()) {
    invocation.err << "ledgerctl: " << path << ": " << file.status().message() << "\n";
    return kExitInvalid;
  }
  Outcome outcome;
  if (args.Switch("dry-run") || (all_or_nothing && !file->errors.empty())) {
    PrintOutcome(invocation, path, *file, outcome, true);
    return file->errors.empty() ? kExitOk : kExitInvalid;
  }
  if (all_or_nothing && static_cast<int>(file->rows.size()) > batch) {
    invocation.err << "ledgerctl: " << path << ": " << file->rows.size()
                   << " marks do not fit in one batch of " << batch
                   << ", so --all-or-nothing cannot hold; split the file\n";
    return kExitInvalid;
  }
  Importer importer(invocation, school, all_or_nothing);
  bool going = true;
  for (size_t first = 0; going && first < file->rows.size(); first += static_cast<size_t>(batch)) {
    std::vector<const ImportRow*> pending;
    for (size_t i = first; i < file->rows.size() && i < first + static_cast<size_t>(batch); ++i) {
      pending.push_back(&file->rows[i]);
    }
    going = importer.RecordBatch(std::move(pending), outcome);
  }
  const bool wrote_nothing = all_or_nothing && !outcome.errors.empty();
  if (!wrote_nothing) {
    for (const ImportRow& row : file->rows) {
      if (!going) break;
      if (row.amendment) going = importer.Amend(row, outcome);
    }
  }
  PrintOutcome(invocation, path, *file, outcome, wrote_nothing);
  if (outcome.stopped)
    return ReportRpcError(*outcome.stopped, outcome.stopped_method, invocation.err);
  const size_t rejected = file->errors.size() + outcome.errors.size();
  if (rejected == 0) return kExitOk;
  const bool wrote_some = outcome.marks_recorded + outcome.marks_already +
                              outcome.amendments_recorded + outcome.amendments_already >
                          0;
  return wrote_nothing || !wrote_some ? kExitInvalid : kExitPartial;
}

}  // namespace

std::vector<Command> ImportMarksCommands() {
  return {
      {"import-marks",
       "Import and export (CSV)",
       "imports a school's marks (and their amendments) from a SIMS- or Wonde-shaped CSV; "
       "idempotent; errors by line",
       "FILE",
       {{"school", "ID", "the school the file's marks belong to (required)"},
        {"all-or-nothing", "",
         "check every row first and write nothing if any is bad (the file must fit one batch)"},
        {"dry-run", "", "check the rows that need no server, write nothing"},
        {"batch", "N", "marks per RecordMarks request, 1..10000 (default 10000)"}},
       ImportMarks,
       1,
       1},
  };
}

}  // namespace attendance::ledgerctl
