#include "ctf.h"

#include <memory>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "ledger/codes.h"
#include "ledger/types.h"

namespace attendance::ledgerctl {
namespace {

namespace v1 = ::attendance::v1;

// The XML a CTF needs: elements with their text and line, attributes
// skipped, the five predefined entities and character references, comments,
// CDATA, the declaration and processing instructions. No DTDs, no
// namespaces (a CTF uses neither).
struct Element {
  std::string name;
  std::string text;
  int line = 0;
  std::vector<std::unique_ptr<Element>> children;

  const Element* Child(absl::string_view child) const {
    for (const auto& c : children) {
      if (c->name == child) return c.get();
    }
    return nullptr;
  }
  std::string ChildText(absl::string_view child) const {
    const Element* c = Child(child);
    return c ? std::string(absl::StripAsciiWhitespace(c->text)) : "";
  }
};

class XmlParser {
 public:
  explicit XmlParser(absl::string_view text) : text_(text) {}

  absl::StatusOr<std::unique_ptr<Element>> Parse() {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    std::unique_ptr<Element> root;
    std::vector<Element*> open;
    while (pos_ < text_.size()) {
      if (text_[pos_] != '<') {
        const size_t end = std::min(text_.find('<', pos_), text_.size());
        const absl::string_view chars = text_.substr(pos_, end - pos_);
        if (open.empty()) {
          if (!absl::StripAsciiWhitespace(chars).empty()) return Error("text outside the root");
        } else if (absl::Status s = Decode(chars, open.back()->text); !s.ok()) {
          return s;
        }
        Advance(end);
        continue;
      }
      if (Starts("<?")) {
        if (!Skip("?>")) return Error("a processing instruction is never closed");
      } else if (Starts("<!--")) {
        if (!Skip("-->")) return Error("a comment is never closed");
      } else if (Starts("<![CDATA[")) {
        const size_t end = text_.find("]]>", pos_);
        if (end == absl::string_view::npos || open.empty()) return Error("a stray CDATA section");
        const absl::string_view cdata = text_.substr(pos_ + 9, end - pos_ - 9);
        open.back()->text.append(cdata.data(), cdata.size());
        Advance(end + 3);
      } else if (Starts("<!")) {
        return Error("a DOCTYPE or DTD (not used by a CTF)");
      } else if (Starts("</")) {
        const size_t end = text_.find('>', pos_);
        if (end == absl::string_view::npos) return Error("a closing tag is never closed");
        const std::string name(absl::StripAsciiWhitespace(text_.substr(pos_ + 2, end - pos_ - 2)));
        if (open.empty() || open.back()->name != name) {
          return Error(absl::StrCat("</", name, "> closes ",
                                    open.empty() ? "nothing" : "<" + open.back()->name + ">"));
        }
        open.pop_back();
        Advance(end + 1);
      } else {
        const size_t end = text_.find('>', pos_);
        if (end == absl::string_view::npos) return Error("a tag is never closed");
        absl::string_view tag = text_.substr(pos_ + 1, end - pos_ - 1);
        const bool empty = !tag.empty() && tag.back() == '/';
        if (empty) tag.remove_suffix(1);
        const size_t name_end = tag.find_first_of(" \t\r\n");
        auto element = std::make_unique<Element>();
        element->name = std::string(tag.substr(0, name_end));
        element->line = line_;
        if (element->name.empty()) return Error("a tag without a name");
        Element* raw = element.get();
        if (open.empty()) {
          if (root) return Error("a second root element");
          root = std::move(element);
        } else {
          open.back()->children.push_back(std::move(element));
        }
        if (!empty) open.push_back(raw);
        Advance(end + 1);
      }
    }
    if (!open.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", open.back()->line, ": <", open.back()->name, "> is never closed"));
    }
    if (!root) return Error("no root element");
    return root;
  }

 private:
  bool Starts(absl::string_view prefix) const {
    return text_.substr(pos_, prefix.size()) == prefix;
  }
  bool Skip(absl::string_view end) {
    const size_t at = text_.find(end, pos_);
    if (at == absl::string_view::npos) return false;
    Advance(at + end.size());
    return true;
  }
  void Advance(size_t to) {
    for (; pos_ < to; ++pos_) {
      if (text_[pos_] == '\n') ++line_;
    }
  }
  absl::Status Error(absl::string_view what) const {
    return absl::InvalidArgumentError(absl::StrCat("line ", line_, ": ", what));
  }
  absl::Status Decode(absl::string_view chars, std::string& out) const {
    for (size_t i = 0; i < chars.size(); ++i) {
      if (chars[i] != '&') {
        out += chars[i];
        continue;
      }
      const size_t semi = chars.find(';', i);
      if (semi == absl::string_view::npos) return Error("an '&' without ';'");
      const absl::string_view entity = chars.substr(i + 1, semi - i - 1);
      if (entity == "amp") {
        out += '&';
      } else if (entity == "lt") {
        out += '<';
      } else if (entity == "gt") {
        out += '>';
      } else if (entity == "quot") {
        out += '"';
      } else if (entity == "apos") {
        out += '\'';
      } else if (!entity.empty() && entity[0] == '#') {
        std::uint32_t code = 0;
        const bool hex = entity.size() > 1 && (entity[1] == 'x' || entity[1] == 'X');
        if (!(hex ? absl::SimpleHexAtoi(entity.substr(2), &code)
                  : absl::SimpleAtoi(entity.substr(1), &code)) ||
            code == 0 || code > 0x10FFFF) {
          return Error(absl::StrCat("a bad character reference &", entity, ";"));
        }
        AppendUtf8(code, out);
      } else {
        return Error(absl::StrCat("an unknown entity &", entity, ";"));
      }
      i = semi;
    }
    return absl::OkStatus();
  }
  static void AppendUtf8(std::uint32_t c, std::string& out) {
    if (c < 0x80) {
      out += static_cast<char>(c);
    } else if (c < 0x800) {
      out += static_cast<char>(0xC0 | (c >> 6));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else if (c < 0x10000) {
      out += static_cast<char>(0xE0 | (c >> 12));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (c >> 18));
      out += static_cast<char>(0x80 | ((c >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((c >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (c & 0x3F));
    }
  }

  absl::string_view text_;
  size_t pos_ = 0;
  int line_ = 1;
};

// "123-4567", "1234567" or "123 4567" -> "1234567".
std::string Digits(absl::string_view estab) {
  std::string out;
  for (char c : estab) {
    if (absl::ascii_isdigit(static_cast<unsigned char>(c))) out += c;
  }
  return out;
}

void ReadYear(const Element& year, const std::string& upn, CtfAttendance& out) {
  const Element* sessions = year.Child("AttendSessions");
  auto fail = [&](int line, std::string message) {
    out.marks.errors.push_back({line, absl::StrCat("pupil ", upn, ": ", message)});
  };
  if (sessions == nullptr) {
    fail(year.line, "YearData has no AttendSessions (only totals): nothing to import");
    return;
  }
  const std::string start_text = sessions->ChildText("AttendanceStartDate");
  const Element* marks = sessions->Child("AttendanceMarks");
  const int line = marks ? marks->line : sessions->line;
  const std::optional<ledger::Day> start = ledger::ParseDate(start_text.substr(0, 10));
  if (!start) {
    fail(sessions->line,
         absl::StrCat("AttendanceStartDate \"", start_text, "\" is not YYYY-MM-DD"));
    return;
  }
  if (marks == nullptr) {
    fail(sessions->line, "AttendSessions has no AttendanceMarks");
    return;
  }
  ++out.years;
  const std::vector<std::string> codes =
      absl::StrSplit(std::string(absl::StripAsciiWhitespace(marks->text)), ',');
  for (size_t i = 0; i < codes.size(); ++i) {
    const std::string code(absl::StripAsciiWhitespace(codes[i]));
    if (code.empty() || code == "-") continue;
    ++out.marks.data_rows;
    const ledger::Day day = *start + static_cast<ledger::Day>(i / 2);
    const v1::Session session = i % 2 == 0 ? v1::AM : v1::PM;
    const std::string date = ledger::FormatDate(day);
    const std::string where =
        absl::StrCat("session ", i + 1, " (", date, session == v1::AM ? " AM" : " PM", ")");
    if (ledger::LookupCode(code, day) == nullptr) {
      fail(line, absl::StrCat(where, ": \"", code, "\" is not ",
                              ledger::IsKnownCode(code) ? "valid for a session on " + date
                                                        : std::string("an attendance code")));
      continue;
    }
    ImportRow row;
    row.line = line;
    row.mark.set_pupil_id(upn);
    row.mark.set_date(date);
    row.mark.set_session(session);
    row.mark.set_code(code);
    out.marks.rows.push_back(std::move(row));
  }
}

}  // namespace

absl::StatusOr<CtfAttendance> ParseCtfAttendance(absl::string_view xml, absl::string_view estab) {
  absl::StatusOr<std::unique_ptr<Element>> root = XmlParser(xml).Parse();
  if (!root.ok()) return root.status();
  if ((*root)->name != "CTfile") {
    return absl::InvalidArgumentError(absl::StrCat("line ", (*root)->line, ": the root is <",
                                                   (*root)->name, ">, not a CTF's <CTfile>"));
  }
  CtfAttendance out;
  std::string wanted = Digits(estab);
  if (wanted.empty()) {
    const Element* header = (*root)->Child("Header");
    const Element* source = header ? header->Child("SourceSchool") : nullptr;
    if (source == nullptr) {
      return absl::InvalidArgumentError(
          "the file has no Header/SourceSchool: give --estab LEA-ESTAB");
    }
    wanted = Digits(source->ChildText("LEA") + source->ChildText("Estab"));
  }
  if (wanted.size() != 7) {
    return absl::InvalidArgumentError(absl::StrCat("the establishment \"", wanted,
                                                   "\" is not an LEA and establishment number "
                                                   "(seven digits, e.g. 123-4567)"));
  }
  out.estab = absl::StrCat(wanted.substr(0, 3), "-", wanted.substr(3));
  const Element* pupils = (*root)->Child("CTFpupilData");
  if (pupils == nullptr) {
    return absl::InvalidArgumentError("the file has no CTFpupilData");
  }
  for (const auto& pupil : pupils->children) {
    if (pupil->name != "Pupil") continue;
    const std::string upn = pupil->ChildText("UPN");
    const Element* attendance = pupil->Child("Attendance");
    if (attendance == nullptr) continue;
    if (upn.empty()) {
      out.marks.errors.push_back({pupil->line, "a Pupil with attendance has no UPN"});
      continue;
    }
    bool any = false;
    for (const auto& year : attendance->children) {
      if (year->name != "YearData") continue;
      if (Digits(year->ChildText("LEA") + year->ChildText("Estab")) != wanted) continue;
      if (out.school_name.empty()) out.school_name = year->ChildText("SchoolName");
      ReadYear(*year, upn, out);
      any = true;
    }
    if (any) ++out.pupils;
  }
  return out;
}

}  // namespace attendance::ledgerctl
