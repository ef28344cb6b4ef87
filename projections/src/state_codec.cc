// AttendanceState::Encode / Decode: the checkpoint format.
//
// Hand-rolled rather than a protobuf message so that the 732-byte session
// arrays are copied as they are and the output is deterministic by
// construction. Layout (varints are LEB128, signed values zigzag):
//   "ATTP" version position school_count
//   per school: id, calendar_history, settings_history, pupil_count, pupils
//   per pupil:  id, attributes, roll, years
// Changing it: bump kVersion; an old checkpoint then fails to decode with
// DATA_LOSS and the runner rebuilds from position 1.
#include <cstring>

#include "absl/strings/str_cat.h"
#include "google/protobuf/stubs/common.h"
#include "projections/attendance_state.h"

namespace attendance::projections {
namespace {

constexpr std::string_view kMagic = "ATTP";
constexpr std::uint64_t kVersion = 2;  // 2: a session history entry is one fixed 32-bit word

class Writer {
 public:
  void U(std::uint64_t v) {
    while (v >= 0x80) {
      out_.push_back(static_cast<char>(v | 0x80));
      v >>= 7;
    }
    out_.push_back(static_cast<char>(v));
  }
  void S(std::int64_t v) {
    U((static_cast<std::uint64_t>(v) << 1) ^ static_cast<std::uint64_t>(v >> 63));
  }
  void Bytes(std::string_view s) {
    U(s.size());
    out_.append(s);
  }
  void Raw(const void* p, std::size_t n) { out_.append(static_cast<const char*>(p), n); }
  void Fixed32(std::uint32_t v) {  // little-endian, whatever the host
    for (int i = 0; i < 4; ++i) out_.push_back(static_cast<char>(v >> (8 * i)));
  }
  template <typename M>
  void Message(const M& m) {
    std::string bytes;
    m.SerializeToString(&bytes);
    Bytes(bytes);
  }
  std::string Take() { return std::move(out_); }

 private:
  std::string out_;
};

class Reader {
 public:
  explicit Reader(std::string_view in) : in_(in) {}
  bool ok() const { return ok_; }
  bool done() const { return pos_ == in_.size(); }

  std::uint64_t U() {
    std::uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= in_.size()) return Fail();
      const auto b = static_cast<unsigned char>(in_[pos_++]);
      v |= static_cast<std::uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    return Fail();
  }
  std::int64_t S() {
    const std::uint64_t v = U();
    return static_cast<std::int64_t>(v >> 1) ^ -static_cast<std::int64_t>(v & 1);
  }
  Day D() { return static_cast<Day>(S()); }
  std::string_view Bytes() {
    const std::uint64_t n = U();
    if (!ok_ || n > in_.size() - pos_) {
      Fail();
      return {};
    }
    std::string_view s = in_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  void Raw(void* p, std::size_t n) {
    if (n > in_.size() - pos_) {
      Fail();
      return;
    }
    std::memcpy(p, in_.data() + pos_, n);
    pos_ += n;
  }
  std::uint32_t Fixed32() {
    unsigned char b[4] = {};
    Raw(b, sizeof(b));
    return b[0] | (b[1] << 8) | (b[2] << 16) | (static_cast<std::uint32_t>(b[3]) << 24);
  }
  template <typename M>
  void Message(M* m) {
    std::string_view b = Bytes();
    if (ok_ && !m->ParseFromArray(b.data(), static_cast<int>(b.size()))) Fail();
  }
  // A decoded value the state cannot hold (the queries index arrays by it).
  void Require(bool valid) {
    if (!valid) Fail();
  }
  // A school or pupil id: replies carry it in proto3 strings, so it must pass
  // the UTF-8 check protobuf applies to them (every id Encode writes does).
  std::string_view Id() {
    std::string_view id = Bytes();
    Require(google::protobuf::internal::IsStructurallyValidUTF8(id.data(),
                                                                static_cast<int>(id.size())));
    return id;
  }
  // A count of items that each take at least one byte: bounds allocations
  // on corrupt input.
  std::size_t Count() {
    const std::uint64_t n = U();
    if (n > in_.size() - pos_) return static_cast<std::size_t>(Fail());
    return static_cast<std::size_t>(n);
  }

 private:
  std::uint64_t Fail() {
    ok_ = false;
    pos_ = in_.size();
    return 0;
  }
  std::string_view in_;
  std::size_t pos_ = 0;
  bool ok_ = true;
};

void EncodePupil(const PupilState& p, Writer& w) {
  w.Bytes(p.id);
  w.U(p.attributes.size());
  for (const AttributeVersion& v : p.attributes) {
    w.S(v.effective_from);
    w.S(v.recorded);
    w.Message(v.pupil);
  }
  w.U(p.roll.size());
  for (const RollChange& r : p.roll) {
    w.S(r.recorded);
    w.S(r.day);
    w.U(r.joins ? 1 : 0);
  }
  w.U(p.years.size());
  for (const PupilYear& y : p.years) {
    w.S(y.academic_year);
    w.S(y.max_recorded);
    w.Raw(y.codes.data(), y.codes.size());
    w.U(y.changes.words().size());
    for (std::uint32_t word : y.changes.words()) w.Fixed32(word);
  }
}

void DecodePupil(Reader& r, PupilState& p) {
  p.id = std::string(r.Id());
  p.attributes.resize(r.Count());
  for (AttributeVersion& v : p.attributes) {
    v.effective_from = r.D();
    v.recorded = r.D();
    r.Message(&v.pupil);
  }
  p.roll.resize(r.Count());
  for (RollChange& c : p.roll) {
    c.recorded = r.D();
    c.day = r.D();
    c.joins = r.U() != 0;
  }
  p.years.resize(r.Count());
  for (PupilYear& y : p.years) {
    // Dates have four-digit years, so a year outside them is a damaged
    // checkpoint (and would overflow the day arithmetic).
    const auto academic_year = r.S();
    r.Require(academic_year >= -1 && academic_year <= 9999);
    y.academic_year = static_cast<int>(academic_year);
    y.max_recorded = r.D();
    r.Raw(y.codes.data(), y.codes.size());
    for (CodeIndex code : y.codes) r.Require(code < kNumCodes);
    std::vector<std::uint32_t> words(r.Count());
    for (std::uint32_t& word : words) word = r.Fixed32();
    r.Require(y.changes.Assign(std::move(words)));
  }
}

}  // namespace

std::string AttendanceState::Encode() const {
  Writer w;
  w.Raw(kMagic.data(), kMagic.size());
  w.U(kVersion);
  w.U(position_);
  w.U(schools_.size());
  for (const auto& [id, school] : schools_) {  // std::map: id order
    w.Bytes(id);
    w.U(school->calendar_history.size());
    for (const auto& [recorded, c] : school->calendar_history) {
      w.S(recorded);
      w.Message(c);
    }
    w.U(school->settings_history.size());
    for (const auto& [recorded, s] : school->settings_history) {
      w.S(recorded);
      w.Message(s);
    }
    w.U(school->pupils.size());
    for (const PupilState& p : school->pupils) EncodePupil(p, w);
  }
  return w.Take();
}

absl::StatusOr<AttendanceState> AttendanceState::Decode(std::string_view bytes) {
  if (bytes.substr(0, kMagic.size()) != kMagic) {
    return absl::DataLossError("projection checkpoint: bad magic");
  }
  Reader r(bytes.substr(kMagic.size()));
  const std::uint64_t version = r.U();
  if (version != kVersion) {
    return absl::DataLossError(
        absl::StrCat("projection checkpoint: version ", version, ", expected ", kVersion));
  }
  AttendanceState state;
  state.position_ = r.U();
  const std::size_t schools = r.Count();
  for (std::size_t i = 0; i < schools && r.ok(); ++i) {
    auto school = std::make_unique<SchoolState>();
    school->id = std::string(r.Id());
    school->calendar_history.resize(r.Count());
    for (auto& [recorded, c] : school->calendar_history) {
      recorded = r.D();
      r.Message(&c);
      school->calendar.Set(c);
    }
    school->settings_history.resize(r.Count());
    for (auto& [recorded, s] : school->settings_history) {
      recorded = r.D();
      r.Message(&s);
    }
    school->pupils.resize(r.Count());
    for (std::size_t p = 0; p < school->pupils.size() && r.ok(); ++p) {
      DecodePupil(r, school->pupils[p]);
      school->pupil_index.emplace(school->pupils[p].id, static_cast<std::uint32_t>(p));
    }
    std::string id = school->id;
    state.schools_.emplace(std::move(id), std::move(school));
  }
  if (!r.ok() || !r.done())
    return absl::DataLossError("projection checkpoint: truncated or corrupt");
  return state;
}

}  // namespace attendance::projections
