#include "projections/mark_history.h"

#include "absl/strings/str_cat.h"
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

}  // namespace

std::string MarkHistorySessionKey(std::string_view school, std::string_view pupil, ledger::Day day,
                                  v1::Session session) {
  std::string key;
  PutId(key, school);
  PutId(key, pupil);
  PutBigEndian(key, static_cast<std::uint32_t>(day), 4);
  key.push_back(static_cast<char>(session));
  return key;
}

std::string MarkHistoryPupilPrefix(std::string_view school, std::string_view pupil) {
  std::string key;
  PutId(key, school);
  PutId(key, pupil);
  return key;
}

std::optional<std::string> ErasedEventValue(std::string_view value) {
  v1::EventEnvelope event;
  if (!event.ParseFromArray(value.data(), static_cast<int>(value.size()))) return std::nullopt;
  ledger::ClearPersonalFields(event);
  return event.SerializeAsString();
}

std::optional<std::pair<std::string, std::string>> MarkHistoryPut(const v1::EventEnvelope& event) {
  std::string_view pupil, date;
  v1::Session session;
  if (event.has_mark_recorded()) {
    pupil = event.mark_recorded().pupil_id();
    date = event.mark_recorded().date();
    session = event.mark_recorded().session();
  } else if (event.has_mark_amended()) {
    pupil = event.mark_amended().pupil_id();
    date = event.mark_amended().date();
    session = event.mark_amended().session();
  } else {
    return std::nullopt;
  }
  const std::optional<ledger::Day> day = ledger::ParseDate(date);
  if (!day) return std::nullopt;
  std::string key = MarkHistorySessionKey(event.school_id(), pupil, *day, session);
  PutBigEndian(key, event.position(), 8);
  v1::EventEnvelope stored = event;
  stored.clear_hash();
  stored.clear_prev_hash();
  return std::make_pair(std::move(key), stored.SerializeAsString());
}

absl::StatusOr<MarkHistoryEntry> DecodeMarkHistoryEntry(std::string_view value) {
  v1::EventEnvelope event;
  if (!event.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
      !(event.has_mark_recorded() || event.has_mark_amended())) {
    return absl::DataLossError("mark history: undecodable entry");
  }
  MarkHistoryEntry entry;
  entry.position = event.position();
  entry.recorded_at_us = event.recorded_at_us();
  if (event.has_mark_recorded()) {
    entry.code = event.mark_recorded().code();
    entry.actor =
        event.mark_recorded().has_taken_by() ? event.mark_recorded().taken_by() : event.actor();
    if (event.mark_recorded().taken_at_us() != 0) {
      entry.recorded_at_us = event.mark_recorded().taken_at_us();
    }
    entry.imported_from = event.mark_recorded().imported_from();
  } else {
    const v1::MarkAmended& amended = event.mark_amended();
    entry.amendment = true;
    entry.code = amended.amended_code();
    entry.original_code = amended.original_code();
    entry.reason = amended.reason();
    entry.actor = amended.has_amended_by() ? amended.amended_by() : event.actor();
    if (amended.amended_at_us() != 0) entry.recorded_at_us = amended.amended_at_us();
    entry.imported_from = amended.imported_from();
  }
  if (!entry.imported_from.empty()) {
    entry.imported_at_us = event.recorded_at_us();
    entry.imported_by = event.actor();
  }
  return entry;
}

}  // namespace attendance::projections
