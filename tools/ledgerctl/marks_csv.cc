#include "marks_csv.h"

#include <map>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ledger/clock.h"
#include "ledger/codes.h"
#include "ledger/types.h"

namespace attendance::ledgerctl {
namespace {

namespace v1 = ::attendance::v1;

enum Column {
  kPupil,
  kDate,
  kSession,
  kCode,
  kMinutes,
  kComment,
  kOriginal,
  kAmended,
  kReason,
  kAmendedBy,
  kAmendedAt,
  kTakenAt,
  kTakenBy,
  kColumns
};

// Header names, normalised (lower case, no spaces, `_` or `-`).
const std::map<std::string, Column>& Aliases() {
  static const auto* aliases = new std::map<std::string, Column>{
      {"personid", kPupil},
      {"studentid", kPupil},
      {"pupilid", kPupil},
      {"pupil", kPupil},
      {"attendancedate", kDate},
      {"date", kDate},
      {"sessiondate", kDate},
      {"sessionname", kSession},
      {"session", kSession},
      {"attendancemark", kCode},
      {"attendancecode", kCode},
      {"code", kCode},
      {"mark", kCode},
      {"minslate", kMinutes},
      {"minuteslate", kMinutes},
      {"comments", kComment},
      {"comment", kComment},
      {"originalcode", kOriginal},
      {"originalmark", kOriginal},
      {"amendedcode", kAmended},
      {"amendedmark", kAmended},
      {"reason", kReason},
      {"amendmentreason", kReason},
      {"amendedby", kAmendedBy},
      {"amendedat", kAmendedAt},
      {"amendeddate", kAmendedAt},
      {"takenat", kTakenAt},
      {"recordedat", kTakenAt},
      {"markedat", kTakenAt},
      {"takenby", kTakenBy},
      {"recordedby", kTakenBy},
      {"employeeid", kTakenBy},
  };
  return *aliases;
}

std::string Normalise(absl::string_view name) {
  std::string out;
  for (char c : name) {
    if (c == ' ' || c == '_' || c == '-' || c == '\t') continue;
    out += absl::ascii_tolower(static_cast<unsigned char>(c));
  }
  return out;
}

// "2025-09-08", "2025-09-08T00:00:00", "2025-09-08 00:00" or "08/09/2025".
std::optional<ledger::Day> ParseImportDate(absl::string_view text, std::string& iso) {
  if (text.size() >= 10 && text[2] == '/' && text[5] == '/') {
    iso = absl::StrCat(text.substr(6, 4), "-", text.substr(3, 2), "-", text.substr(0, 2));
    if (text.size() > 10 && text[10] != ' ') return std::nullopt;
  } else {
    if (text.size() > 10 && text[10] != 'T' && text[10] != ' ') return std::nullopt;
    iso = std::string(text.substr(0, 10));
  }
  return ledger::ParseDate(iso);
}

// The checks the ledger makes of a code on its own: it exists on that day,
// and only L and U carry minutes late.
std::string CheckCode(absl::string_view what, const std::string& code, ledger::Day day,
                      const std::string& date) {
  if (code.empty()) return absl::StrCat(what, " is empty");
  if (ledger::LookupCode(code, day) == nullptr) {
    return ledger::IsKnownCode(code)
               ? absl::StrCat(what, " \"", code, "\" is not valid for a session on ", date)
               : absl::StrCat(what, " \"", code, "\" is not an attendance code");
  }
  return "";
}

}  // namespace

std::optional<std::int64_t> ParseImportTime(absl::string_view text) {
  static const absl::TimeZone* const kLondon = [] {
    auto* tz = new absl::TimeZone();
    absl::LoadTimeZone(ledger::kSchoolTimeZone, tz);
    return tz;
  }();
  const std::string input(absl::StripAsciiWhitespace(text));
  // Formats with a zone first; the rest are school-local.
  static constexpr const char* kFormats[] = {"%Y-%m-%d%ET%H:%M:%E*S%Ez", "%Y-%m-%d %H:%M:%E*S%Ez",
                                             "%Y-%m-%d%ET%H:%M:%E*S",    "%Y-%m-%d %H:%M:%E*S",
                                             "%Y-%m-%d%ET%H:%M",         "%Y-%m-%d %H:%M",
                                             "%d/%m/%Y %H:%M:%S",        "%d/%m/%Y %H:%M"};
  for (const char* format : kFormats) {
    absl::Time time;
    std::string error;
    if (absl::ParseTime(format, input, *kLondon, &time, &error)) return absl::ToUnixMicros(time);
  }
  return std::nullopt;
}

absl::StatusOr<std::vector<CsvRecord>> ParseCsv(absl::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF") text.remove_prefix(3);
  std::vector<CsvRecord> records;
  CsvRecord record;
  std::string field;
  int line = 1;
  record.line = 1;
  bool quoted = false;
  int quote_line = 0;
  bool record_has_content = false;
  auto end_field = [&] {
    record.fields.push_back(std::move(field));
    field.clear();
  };
  auto end_record = [&] {
    end_field();
    if (record_has_content || record.fields.size() > 1 || !record.fields[0].empty()) {
      records.push_back(std::move(record));
    }
    record = CsvRecord();
    record.line = line;
    record_has_content = false;
  };
  for (size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
        // A Windows line break inside a field is kept as "\n".
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    switch (c) {
      case '"':
        quoted = true;
        quote_line = line;
        record_has_content = true;
        break;
      case ',':
        end_field();
        break;
      case '\r':
        break;  // CRLF; a bare CR inside a field is dropped too
      case '\n':
        ++line;
        end_record();
        break;
      default:
        field += c;
    }
  }
  if (quoted) {
    return absl::InvalidArgumentError(
        absl::StrCat("line ", quote_line, ": a quoted field is never closed"));
  }
  if (!field.empty() || !record.fields.empty() || record_has_content) end_record();
  return records;
}

absl::StatusOr<MarksFile> ParseMarksCsv(absl::string_view text) {
  absl::StatusOr<std::vector<CsvRecord>> records = ParseCsv(text);
  if (!records.ok()) return records.status();
  if (records->empty()) return absl::InvalidArgumentError("the file is empty (no header)");
  int index[kColumns];
  std::fill(std::begin(index), std::end(index), -1);
  const CsvRecord& header = records->front();
  for (size_t i = 0; i < header.fields.size(); ++i) {
    auto it = Aliases().find(Normalise(header.fields[i]));
    if (it != Aliases().end() && index[it->second] < 0) index[it->second] = static_cast<int>(i);
  }
  const char* const kRequired[] = {"pupil (PersonID, student_id or pupil_id)",
                                   "date (AttendanceDate or date)",
                                   "session (SessionName or session)"};
  for (int c = kPupil; c <= kSession; ++c) {
    if (index[c] < 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", header.line, ": the header has no ", kRequired[c], " column"));
    }
  }
  if (index[kCode] < 0 && index[kAmended] < 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "line ", header.line, ": the header has no code (AttendanceMark or code) column"));
  }

  MarksFile file;
  // (pupil, date, session) -> the line that first had it, and its row.
  std::map<std::tuple<std::string, std::string, int>, std::pair<int, size_t>> seen;
  for (size_t r = 1; r < records->size(); ++r) {
    const CsvRecord& record = (*records)[r];
    ++file.data_rows;
    auto cell = [&](Column column) -> std::string {
      const int i = index[column];
      if (i < 0 || static_cast<size_t>(i) >= record.fields.size()) return "";
      return std::string(absl::StripAsciiWhitespace(record.fields[static_cast<size_t>(i)]));
    };
    auto fail = [&](std::string message) {
      file.errors.push_back({record.line, std::move(message)});
    };

    ImportRow row;
    row.line = record.line;
    v1::Mark& mark = row.mark;
    mark.set_pupil_id(cell(kPupil));
    if (mark.pupil_id().empty()) {
      fail("pupil id is empty");
      continue;
    }
    std::string iso;
    const std::string date_text = cell(kDate);
    const std::optional<ledger::Day> day = ParseImportDate(date_text, iso);
    if (!day) {
      fail(absl::StrCat("date \"", date_text, "\" is not YYYY-MM-DD or DD/MM/YYYY"));
      continue;
    }
    mark.set_date(iso);
    const std::string session = absl::AsciiStrToUpper(cell(kSession));
    if (session == "AM") {
      mark.set_session(v1::AM);
    } else if (session == "PM") {
      mark.set_session(v1::PM);
    } else {
      fail(absl::StrCat("session \"", cell(kSession), "\" is not AM or PM"));
      continue;
    }
    const std::string code = cell(kCode);
    const std::string original = cell(kOriginal);
    const std::string amended = cell(kAmended);
    std::string problem;
    if (!original.empty() || !amended.empty()) {
      if (original.empty() || amended.empty()) {
        fail("an amendment needs both original_code and amended_code");
        continue;
      }
      if (!code.empty() && code != amended) {
        fail(absl::StrCat("code \"", code, "\" is neither empty nor the amended code \"", amended,
                          "\""));
        continue;
      }
      if (original == amended) {
        fail(absl::StrCat("the amendment does not change the code (\"", original, "\")"));
        continue;
      }
      ImportedAmendment amendment;
      amendment.line = record.line;
      amendment.amended_code = amended;
      amendment.reason = cell(kReason);
      amendment.amended_by = cell(kAmendedBy);
      amendment.amended_at = cell(kAmendedAt);
      if (amendment.reason.empty()) {
        fail("an amendment needs a reason");
        continue;
      }
      if (!amendment.amended_at.empty()) {
        const std::optional<std::int64_t> at = ParseImportTime(amendment.amended_at);
        if (!at) {
          fail(absl::StrCat("amended_at \"", amendment.amended_at,
                            "\" is not a time (YYYY-MM-DDTHH:MM:SS[Z or +HH:MM], or "
                            "DD/MM/YYYY HH:MM)"));
          continue;
        }
        amendment.amended_at_us = *at;
      }
      problem = CheckCode("original_code", original, *day, iso);
      if (problem.empty()) problem = CheckCode("amended_code", amended, *day, iso);
      mark.set_code(original);
      row.amendments.push_back(std::move(amendment));
    } else {
      problem = CheckCode("code", code, *day, iso);
      mark.set_code(code);
    }
    if (!problem.empty()) {
      fail(problem);
      continue;
    }
    const std::string minutes_text = cell(kMinutes);
    if (!minutes_text.empty()) {
      std::uint32_t minutes = 0;
      if (!absl::SimpleAtoi(minutes_text, &minutes) || minutes > 300) {
        fail(absl::StrCat("minutes late \"", minutes_text,
                          "\" is not a whole number from 0 to 300"));
        continue;
      }
      // Minutes go with whichever code carries them.
      ImportedAmendment* amendment = row.amendments.empty() ? nullptr : &row.amendments.back();
      const bool recorded_late = ledger::TakesMinutesLate(mark.code());
      const bool amended_late = amendment && ledger::TakesMinutesLate(amendment->amended_code);
      if (minutes > 0 && !recorded_late && !amended_late) {
        fail(absl::StrCat("minutes late ", minutes, " given for code \"",
                          amendment ? amendment->amended_code : mark.code(),
                          "\" (only L and U carry minutes late)"));
        continue;
      }
      if (recorded_late) mark.set_minutes_late(minutes);
      if (amended_late) amendment->minutes_late = minutes;
    }
    mark.set_comment(cell(kComment));
    row.taken_by = cell(kTakenBy);
    const std::string taken_at = cell(kTakenAt);
    if (!taken_at.empty()) {
      const std::optional<std::int64_t> at = ParseImportTime(taken_at);
      if (!at) {
        fail(absl::StrCat("taken_at \"", taken_at,
                          "\" is not a time (YYYY-MM-DDTHH:MM:SS[Z or +HH:MM], or "
                          "DD/MM/YYYY HH:MM)"));
        continue;
      }
      row.taken_at_us = *at;
    }
    auto [it, inserted] =
        seen.emplace(std::make_tuple(mark.pupil_id(), iso, static_cast<int>(mark.session())),
                     std::make_pair(record.line, file.rows.size()));
    if (!inserted) {
      // A later entry of the same session's history: it amends the code
      // the session has so far.
      ImportRow& earlier = file.rows[it->second.second];
      const std::string& so_far =
          earlier.amendments.empty() ? earlier.mark.code() : earlier.amendments.back().amended_code;
      if (!row.amendments.empty() && mark.code() == so_far) {
        earlier.amendments.push_back(std::move(row.amendments.front()));
        continue;
      }
      fail(absl::StrCat(
          "repeats line ", it->second.first, " (pupil \"", mark.pupil_id(), "\", ", iso, " ",
          session, ")",
          row.amendments.empty()
              ? ""
              : absl::StrCat("; its original_code \"", mark.code(),
                             "\" is not the session's code so far, \"", so_far, "\"")));
      continue;
    }
    file.rows.push_back(std::move(row));
  }
  return file;
}

}  // namespace attendance::ledgerctl
