#include "projections/audit_index.h"

#include "ledger/codes.h"
#include "ledger/personal_data.h"

namespace attendance::projections {
namespace {

void PutBigEndian(std::string& out, std::uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutId(std::string& out, std::string_view id) {
  PutBigEndian(out, id.size(), 2);
  out.append(id);
}

// Amendment times are after 1970, so the unsigned order is the time order.
std::uint64_t TimeKey(std::int64_t at_us) {
  return at_us < 0 ? 0 : static_cast<std::uint64_t>(at_us);
}

std::optional<ledger::CodeCategory> CategoryOf(std::string_view code) {
  for (const auto& entry : ledger::kCodeTable) {
    if (entry.info.code == code) return entry.info.category;
  }
  return std::nullopt;
}

}  // namespace

std::string AuditSchoolPrefix(AuditIndex index, std::string_view school) {
  std::string key(1, static_cast<char>(index));
  PutId(key, school);
  return key;
}

std::string AmendedAtKey(std::string_view school, std::int64_t at_us) {
  std::string key = AuditSchoolPrefix(AuditIndex::kAmendedAt, school);
  PutBigEndian(key, TimeKey(at_us), 8);
  return key;
}

std::string SessionDateKey(std::string_view school, ledger::Day day, v1::Session session) {
  std::string key = AuditSchoolPrefix(AuditIndex::kSessionDate, school);
  PutBigEndian(key, static_cast<std::uint32_t>(day), 4);
  if (session != v1::SESSION_UNSPECIFIED) key.push_back(static_cast<char>(session));
  return key;
}

std::string RegisterKey(std::string_view school, ledger::Day day, v1::Session session) {
  std::string key = AuditSchoolPrefix(AuditIndex::kRegister, school);
  PutBigEndian(key, static_cast<std::uint32_t>(day), 4);
  key.push_back(static_cast<char>(session));
  return key;
}

std::string PupilKey(std::string_view school, std::string_view pupil) {
  std::string key = AuditSchoolPrefix(AuditIndex::kPupil, school);
  PutId(key, pupil);
  return key;
}

std::string PupilEventPrefix(std::string_view school, std::string_view pupil) {
  std::string key = AuditSchoolPrefix(AuditIndex::kPupilEvent, school);
  PutId(key, pupil);
  return key;
}

std::string ErasablePrefix(std::string_view school, std::string_view pupil) {
  std::string key = AuditSchoolPrefix(AuditIndex::kErasable, school);
  PutId(key, pupil);
  return key;
}

std::vector<std::string> ErasableKeys(std::string_view value) {
  std::vector<std::string> keys;
  while (value.size() >= 2) {
    const std::size_t size =
        (static_cast<unsigned char>(value[0]) << 8) | static_cast<unsigned char>(value[1]);
    if (value.size() < 2 + size) break;
    keys.emplace_back(value.substr(2, size));
    value.remove_prefix(2 + size);
  }
  return keys;
}

std::string PupilEventKey(std::string_view school, std::string_view pupil, ledger::Day day) {
  std::string key = PupilEventPrefix(school, pupil);
  PutBigEndian(key, static_cast<std::uint32_t>(day), 4);
  return key;
}

std::optional<ledger::Day> EventDay(const v1::EventEnvelope& event) {
  std::string_view date;
  if (event.has_mark_recorded()) date = event.mark_recorded().date();
  if (event.has_mark_amended()) date = event.mark_amended().date();
  if (event.has_pupil_enrolled()) date = event.pupil_enrolled().on_roll_from();
  if (event.has_pupil_updated()) date = event.pupil_updated().effective_from();
  if (event.has_letter_sent()) date = event.letter_sent().sent_on();
  if (event.has_pupil_left_roll()) date = event.pupil_left_roll().last_day_on_roll();
  if (event.has_action_recorded()) date = event.action_recorded().happened_on();
  if (const std::optional<ledger::Day> day = ledger::ParseDate(date)) return day;
  if (event.recorded_at_us() < 0) return std::nullopt;
  return static_cast<ledger::Day>(event.recorded_at_us() / 86'400'000'000);
}

std::vector<std::pair<std::string, std::string>> AuditIndexPuts(const v1::EventEnvelope& event) {
  std::vector<std::pair<std::string, std::string>> puts;
  // Pupil events other than marks: the timeline's own entries (marks come
  // from the mark history, which already holds them by pupil and date).
  if (!event.pupil_id().empty() && !event.has_mark_recorded() && !event.has_mark_amended()) {
    if (const std::optional<ledger::Day> day = EventDay(event)) {
      std::string key = PupilEventKey(event.school_id(), event.pupil_id(), *day);
      PutBigEndian(key, event.position(), 8);
      v1::EventEnvelope stored = event;
      stored.clear_hash();
      stored.clear_prev_hash();
      puts.emplace_back(std::move(key), stored.SerializeAsString());
    }
  }
  const v1::Pupil* pupil = nullptr;
  if (event.has_pupil_enrolled()) pupil = &event.pupil_enrolled().pupil();
  if (event.has_pupil_updated()) pupil = &event.pupil_updated().pupil();
  if (pupil != nullptr) {
    v1::Pupil kept;
    kept.set_pupil_id(pupil->pupil_id());
    kept.set_year_group(pupil->year_group());
    kept.set_class_name(pupil->class_name());
    puts.emplace_back(PupilKey(event.school_id(), pupil->pupil_id()), kept.SerializeAsString());
    return puts;
  }
  std::string_view pupil_id, date;
  v1::Session session;
  if (event.has_mark_recorded()) {
    pupil_id = event.mark_recorded().pupil_id();
    date = event.mark_recorded().date();
    session = event.mark_recorded().session();
  } else if (event.has_mark_amended()) {
    pupil_id = event.mark_amended().pupil_id();
    date = event.mark_amended().date();
    session = event.mark_amended().session();
  } else {
    return puts;
  }
  const std::optional<ledger::Day> day = ledger::ParseDate(date);
  if (!day) return puts;
  v1::EventEnvelope stored = event;
  stored.clear_hash();
  stored.clear_prev_hash();
  // Whether an erasure must find these entries: moved out and back.
  v1::EventEnvelope personal;
  const bool erasable = ledger::MovePersonalFields(stored, personal);
  if (erasable) stored.MergeFrom(personal);
  const std::string value = stored.SerializeAsString();
  const std::size_t first_put = puts.size();
  std::string register_key = RegisterKey(event.school_id(), *day, session);
  PutId(register_key, pupil_id);
  PutBigEndian(register_key, event.position(), 8);
  puts.emplace_back(std::move(register_key), value);
  if (event.has_mark_amended()) {
    const std::int64_t at = event.mark_amended().amended_at_us() != 0
                                ? event.mark_amended().amended_at_us()
                                : event.recorded_at_us();
    std::string by_time = AmendedAtKey(event.school_id(), at);
    PutBigEndian(by_time, event.position(), 8);
    puts.emplace_back(std::move(by_time), value);
    std::string by_date = SessionDateKey(event.school_id(), *day, session);
    PutBigEndian(by_date, event.position(), 8);
    puts.emplace_back(std::move(by_date), value);
  }
  if (erasable) {
    std::string listed;
    for (std::size_t i = first_put; i < puts.size(); ++i) {
      PutBigEndian(listed, puts[i].first.size(), 2);
      listed.append(puts[i].first);
    }
    std::string key = ErasablePrefix(event.school_id(), pupil_id);
    PutBigEndian(key, event.position(), 8);
    puts.emplace_back(std::move(key), std::move(listed));
  }
  return puts;
}

absl::StatusOr<v1::EventEnvelope> DecodeIndexedEvent(std::string_view value) {
  v1::EventEnvelope event;
  if (!event.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
      !(event.has_mark_recorded() || event.has_mark_amended())) {
    return absl::DataLossError("audit index: undecodable entry");
  }
  return event;
}

std::string_view RegisterKeyPupil(std::string_view key, std::size_t prefix_size) {
  if (key.size() < prefix_size + 2) return {};
  const std::size_t size = (static_cast<unsigned char>(key[prefix_size]) << 8) |
                           static_cast<unsigned char>(key[prefix_size + 1]);
  if (key.size() < prefix_size + 2 + size) return {};
  return key.substr(prefix_size + 2, size);
}

bool IsUnauthorisedAbsence(std::string_view code) {
  return CategoryOf(code) == ledger::CodeCategory::kUnauthorisedAbsence;
}

bool IsAuthorisedAbsence(std::string_view code) {
  return CategoryOf(code) == ledger::CodeCategory::kAuthorisedAbsence;
}

}  // namespace attendance::projections
