// AuditServiceImpl's reads of single sessions' marks: a session's mark
// history (GetMarkHistory) and a register as it stood (GetRegisterAsOf).
#include "services/audit_service.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "google/protobuf/arena.h"
#include "ledger/text_checks.h"
#include "projections/audit_index.h"
#include "projections/mark_history.h"
#include "services/grpc_status.h"

namespace attendance::services {
namespace {

absl::StatusOr<ledger::Day> CheckSession(absl::string_view date, v1::Session session) {
  absl::StatusOr<ledger::Day> day = ledger::CheckDate(date, "date");
  if (!day.ok()) return day.status();
  if (session != v1::AM && session != v1::PM) {
    return absl::InvalidArgumentError(
        absl::StrCat("session: ", static_cast<int>(session), " is not AM or PM"));
  }
  return day;
}

void ToProto(const projections::MarkHistoryEntry& entry, v1::MarkHistoryEntry& out) {
  out.set_position(entry.position);
  out.set_amendment(entry.amendment);
  out.set_code(entry.code);
  out.set_original_code(entry.original_code);
  out.set_reason(entry.reason);
  *out.mutable_by() = entry.actor;
  out.set_at_us(entry.recorded_at_us);
  if (!entry.imported_from.empty()) {
    out.set_imported_from(entry.imported_from);
    out.set_recorded_at_us(entry.imported_at_us);
    *out.mutable_imported_by() = entry.imported_by;
  }
}

// The same entry straight from an indexed mark or amendment (as
// projections::DecodeMarkHistoryEntry, then ToProto, without the copy in
// between), and the time "as of" goes by.
std::int64_t EntryTime(const v1::EventEnvelope& event) {
  const std::int64_t source = event.has_mark_recorded() ? event.mark_recorded().taken_at_us()
                                                        : event.mark_amended().amended_at_us();
  return source != 0 ? source : event.recorded_at_us();
}

void ToProto(const v1::EventEnvelope& event, v1::MarkHistoryEntry& out) {
  out.set_position(event.position());
  out.set_at_us(EntryTime(event));
  const std::string* imported_from;
  if (event.has_mark_recorded()) {
    const v1::MarkRecorded& recorded = event.mark_recorded();
    out.set_code(recorded.code());
    *out.mutable_by() = recorded.has_taken_by() ? recorded.taken_by() : event.actor();
    imported_from = &recorded.imported_from();
  } else {
    const v1::MarkAmended& amended = event.mark_amended();
    out.set_amendment(true);
    out.set_code(amended.amended_code());
    out.set_original_code(amended.original_code());
    out.set_reason(amended.reason());
    *out.mutable_by() = amended.has_amended_by() ? amended.amended_by() : event.actor();
    imported_from = &amended.imported_from();
  }
  if (!imported_from->empty()) {
    out.set_imported_from(*imported_from);
    out.set_recorded_at_us(event.recorded_at_us());
    *out.mutable_imported_by() = event.actor();
  }
}

}  // namespace

grpc::Status AuditServiceImpl::GetMarkHistory(grpc::ServerContext* context,
                                              const v1::GetMarkHistoryRequest* req,
                                              v1::MarkHistory* resp) {
  absl::StatusOr<Caller> caller =
      options_.auth->Authorize(*context, "GetMarkHistory", Action::kReadAudit, req->school_id());
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (absl::Status s = ledger::CheckId(req->school_id(), "school_id"); !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (absl::Status s = ledger::CheckId(req->pupil_id(), "pupil_id"); !s.ok()) {
    return ToGrpcStatus(s);
  }
  absl::StatusOr<ledger::Day> day = CheckSession(req->date(), req->session());
  if (!day.ok()) return ToGrpcStatus(day.status());
  if (absl::Status s = AwaitPosition(*context, *history_, req->min_position()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  auto entries = history_->History(req->school_id(), req->pupil_id(), *day, req->session());
  if (!entries.ok()) return ToGrpcStatus(entries.status());
  if (entries->empty()) {
    return ToGrpcStatus(absl::NotFoundError(absl::StrCat(
        "school ", ledger::Quoted(req->school_id()), " pupil ", ledger::Quoted(req->pupil_id()),
        " ", req->date(), " ", v1::Session_Name(req->session()), " has no mark")));
  }
  resp->set_school_id(req->school_id());
  resp->set_pupil_id(req->pupil_id());
  resp->set_date(req->date());
  resp->set_session(req->session());
  for (const projections::MarkHistoryEntry& entry : *entries) ToProto(entry, *resp->add_entries());
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::GetRegisterAsOf(grpc::ServerContext* context,
                                               const v1::GetRegisterAsOfRequest* req,
                                               v1::RegisterAsOf* resp) {
  absl::StatusOr<Caller> caller =
      options_.auth->Authorize(*context, "GetRegisterAsOf", Action::kReadAudit, req->school_id());
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  if (absl::Status s = ledger::CheckId(req->school_id(), "school_id"); !s.ok()) {
    return ToGrpcStatus(s);
  }
  absl::StatusOr<ledger::Day> day = CheckSession(req->date(), req->session());
  if (!day.ok()) return ToGrpcStatus(day.status());
  if (req->as_of_us() < 0) {
    return ToGrpcStatus(
        absl::InvalidArgumentError(absl::StrCat("as_of_us: ", req->as_of_us(), " is negative")));
  }
  if (absl::Status s =
          ledger::CheckText(req->class_name(), "class_name", false, ledger::kMaxNameLength);
      !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (absl::Status s = AwaitPosition(*context, *index_, req->min_position()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  const std::int64_t as_of = req->as_of_us() == 0 ? options_.clock.NowUs() : req->as_of_us();
  // The school's pupils, decoded once and kept between calls.
  absl::StatusOr<SchoolRollCache::RollPtr> roll = index_->SchoolRoll(req->school_id());
  if (!roll.ok()) return ToGrpcStatus(roll.status());
  resp->set_school_id(req->school_id());
  resp->set_date(req->date());
  resp->set_session(req->session());
  resp->set_as_of_us(as_of);
  // One pass over the register's entries (each pupil's in log order),
  // straight into the lines; the entries are parsed on an arena, which
  // frees them all at once.
  google::protobuf::Arena arena;
  const std::string prefix = projections::RegisterKey(req->school_id(), *day, req->session());
  const SchoolRollCache::Details unknown;
  std::string pupil_id;  // whose entries come now
  std::size_t pupils = 0;
  v1::RegisterLine* line = nullptr;  // null: the pupil is filtered out
  absl::Status decode_error;
  absl::Status s = index_->Scan(prefix, prefix, [&](std::string_view key, std::string_view value) {
    const std::string_view pupil = projections::RegisterKeyPupil(key, prefix.size());
    if (pupil.empty()) {
      decode_error = absl::DataLossError("audit index: undecodable register entry");
      return false;
    }
    if (pupils == 0 || pupil != pupil_id) {
      if (pupils == kMaxRegisterLines) return false;
      ++pupils;
      pupil_id.assign(pupil.data(), pupil.size());
      auto found = (*roll)->find(absl::string_view(pupil.data(), pupil.size()));
      const SchoolRollCache::Details& details = found != (*roll)->end() ? found->second : unknown;
      line = nullptr;
      if ((!req->has_year_group() || details.year_group == req->year_group()) &&
          (req->class_name().empty() || details.class_name == req->class_name())) {
        line = resp->add_lines();
        line->set_pupil_id(pupil_id);
        line->set_year_group(details.year_group);
        line->set_class_name(details.class_name);
      }
    }
    if (line == nullptr) return true;
    auto* event = google::protobuf::Arena::CreateMessage<v1::EventEnvelope>(&arena);
    if (!event->ParseFromArray(value.data(), static_cast<int>(value.size())) ||
        !(event->has_mark_recorded() || event->has_mark_amended())) {
      decode_error = absl::DataLossError("audit index: undecodable register entry");
      return false;
    }
    if (EntryTime(*event) <= as_of) {
      // The last in log order of those by then.
      v1::MarkHistoryEntry* entry = line->mutable_as_of_entry();
      entry->Clear();
      ToProto(*event, *entry);
      line->set_code(entry->code());
    } else {
      ToProto(*event, *line->add_changed_since());
    }
    return true;
  });
  if (!s.ok()) return ToGrpcStatus(s);
  if (!decode_error.ok()) return ToGrpcStatus(decode_error);
  // Lines in id order (the index orders ids by length first).
  auto by_id = [](const v1::RegisterLine* a, const v1::RegisterLine* b) {
    return a->pupil_id() < b->pupil_id();
  };
  auto* lines = resp->mutable_lines();
  if (!std::is_sorted(lines->pointer_begin(), lines->pointer_end(), by_id)) {
    std::sort(lines->pointer_begin(), lines->pointer_end(), by_id);
  }
  return grpc::Status::OK;
}

}  // namespace attendance::services
