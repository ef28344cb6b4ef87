// AuditServiceImpl's streams and their cursors: amendments replayed by time
// or date (ReplayAmendments) and a pupil's timeline (GetPupilTimeline).
#include "services/audit_service.h"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "audit_stages.h"
#include "ledger/codes.h"
#include "ledger/text_checks.h"
#include "projections/audit_index.h"
#include "services/grpc_status.h"

namespace attendance::services {
namespace {

// Index entries a ReplayAmendments call reads under one iterator before it
// lets go of it to write to the client (a slow client pins nothing).
constexpr std::size_t kKeysPerScan = 4096;
// Amendments a ReplayAmendments message, or entries a GetPupilTimeline
// message, carries at most.
constexpr std::size_t kPageSize = 1000;

v1::Amendment ToAmendment(const v1::EventEnvelope& event) {
  const v1::MarkAmended& amended = event.mark_amended();
  v1::Amendment out;
  out.set_position(event.position());
  out.set_school_id(event.school_id());
  out.set_pupil_id(amended.pupil_id());
  out.set_date(amended.date());
  out.set_session(amended.session());
  out.set_original_code(amended.original_code());
  out.set_amended_code(amended.amended_code());
  out.set_reason(amended.reason());
  *out.mutable_amended_by() = amended.has_amended_by() ? amended.amended_by() : event.actor();
  out.set_amended_at_us(amended.amended_at_us() != 0 ? amended.amended_at_us()
                                                     : event.recorded_at_us());
  out.set_imported_from(amended.imported_from());
  return out;
}

bool Matches(const v1::ReplayAmendmentsRequest& req, const v1::Amendment& a) {
  if (!req.pupil_id().empty() && a.pupil_id() != req.pupil_id()) return false;
  if (!req.amender_name().empty() && a.amended_by().name() != req.amender_name()) return false;
  if (!req.amender_role().empty() && a.amended_by().role() != req.amender_role()) return false;
  if (!req.from_code().empty() && a.original_code() != req.from_code()) return false;
  if (!req.to_code().empty() && a.amended_code() != req.to_code()) return false;
  if (req.unauthorised_to_authorised() && !(projections::IsUnauthorisedAbsence(a.original_code()) &&
                                            projections::IsAuthorisedAbsence(a.amended_code()))) {
    return false;
  }
  return true;
}

// The scan bounds of a replay: the index, where to start, where to stop
// (exclusive; empty = the school's end).
struct ReplayRange {
  std::string prefix;
  std::string start;
  std::string end;
};

absl::StatusOr<ReplayRange> CheckReplay(const v1::ReplayAmendmentsRequest& req) {
  if (absl::Status s = ledger::CheckId(req.school_id(), "school_id"); !s.ok()) return s;
  if (!req.pupil_id().empty()) {
    if (absl::Status s = ledger::CheckId(req.pupil_id(), "pupil_id"); !s.ok()) return s;
  }
  if (absl::Status s = ledger::CheckText(req.amender_name(), "amender_name", false, 200); !s.ok()) {
    return s;
  }
  if (absl::Status s = ledger::CheckText(req.amender_role(), "amender_role", false, 200); !s.ok()) {
    return s;
  }
  for (const auto& [code, field] :
       {std::pair{&req.from_code(), "from_code"}, std::pair{&req.to_code(), "to_code"}}) {
    if (!code->empty() && !ledger::IsKnownCode(*code)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": ", ledger::Quoted(*code), " is not a register code"));
    }
  }
  if (req.max_results() > AuditServiceImpl::kMaxReplayResults) {
    return absl::InvalidArgumentError(absl::StrCat("max_results: ", req.max_results(),
                                                   " is more than the limit of ",
                                                   AuditServiceImpl::kMaxReplayResults));
  }
  ReplayRange range;
  switch (req.range()) {
    case v1::BY_AMENDED_AT:
      if (req.from_us() < 0 || (req.to_us() != 0 && req.to_us() <= req.from_us())) {
        return absl::InvalidArgumentError(
            absl::StrCat("to_us: ", req.to_us(), " is not after from_us ", req.from_us()));
      }
      range.prefix =
          projections::AuditSchoolPrefix(projections::AuditIndex::kAmendedAt, req.school_id());
      range.start = projections::AmendedAtKey(req.school_id(), req.from_us());
      if (req.to_us() != 0) range.end = projections::AmendedAtKey(req.school_id(), req.to_us());
      break;
    case v1::BY_SESSION_DATE: {
      absl::StatusOr<ledger::Day> from = ledger::CheckDate(req.from_date(), "from_date");
      if (!from.ok()) return from.status();
      ledger::Day to = *from;
      if (!req.to_date().empty()) {
        absl::StatusOr<ledger::Day> parsed = ledger::CheckDate(req.to_date(), "to_date");
        if (!parsed.ok()) return parsed.status();
        to = *parsed;
      }
      if (to < *from) {
        return absl::InvalidArgumentError(
            absl::StrCat("to_date: ", req.to_date(), " is before from_date ", req.from_date()));
      }
      range.prefix =
          projections::AuditSchoolPrefix(projections::AuditIndex::kSessionDate, req.school_id());
      range.start = projections::SessionDateKey(req.school_id(), *from);
      range.end = projections::SessionDateKey(req.school_id(), to + 1);
      break;
    }
    default:
      return absl::InvalidArgumentError(absl::StrCat("range: ", static_cast<int>(req.range()),
                                                     " is not BY_AMENDED_AT or BY_SESSION_DATE"));
  }
  if (!req.resume_after().empty()) {
    if (req.resume_after().compare(0, range.prefix.size(), range.prefix) != 0 ||
        req.resume_after() < range.start) {
      return absl::InvalidArgumentError(
          "resume_after: not a position of this school's range (give end.resume_after of a call "
          "with the same range)");
    }
    // The first key after it.
    range.start = req.resume_after() + std::string(1, '\0');
  }
  return range;
}

// Where a timeline resumes: after the `ordinal`-th (from 0) of its
// entries sharing one date and position (a letter, then the stage changes
// it made). On the wire: the pupil's 'L' key of the day, the position (8
// bytes) and the ordinal (4), big-endian, so the school and pupil are
// checked with the rest.
struct TimelineCursor {
  std::string date;
  ledger::Position position = 0;
  std::uint32_t ordinal = 0;
};

std::string TimelineCursorBytes(std::string_view school, std::string_view pupil, ledger::Day day,
                                ledger::Position position, std::uint32_t ordinal) {
  std::string bytes = projections::PupilEventKey(school, pupil, day);
  for (int i = 7; i >= 0; --i) bytes.push_back(static_cast<char>((position >> (8 * i)) & 0xff));
  for (int i = 3; i >= 0; --i) bytes.push_back(static_cast<char>((ordinal >> (8 * i)) & 0xff));
  return bytes;
}

std::uint64_t BigEndianAt(std::string_view bytes, std::size_t offset, int size) {
  std::uint64_t v = 0;
  for (int i = 0; i < size; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[offset + i]);
  return v;
}

// The cursor in `resume_after`, which must be one of this pupil's
// timeline inside first..last.
absl::StatusOr<TimelineCursor> CheckTimelineResume(const v1::GetPupilTimelineRequest& req,
                                                   ledger::Day first, ledger::Day last) {
  const std::string prefix = projections::PupilEventPrefix(req.school_id(), req.pupil_id());
  const std::string_view bytes = req.resume_after();
  const auto invalid = [] {
    return absl::InvalidArgumentError(
        "resume_after: not an entry of this pupil's timeline in these dates (give "
        "end.resume_after or an entry's resume_after of a call for the same pupil and dates)");
  };
  if (bytes.size() != prefix.size() + 4 + 8 + 4 || bytes.substr(0, prefix.size()) != prefix) {
    return invalid();
  }
  const auto day = static_cast<ledger::Day>(BigEndianAt(bytes, prefix.size(), 4));
  if (day < first || day > last) return invalid();
  TimelineCursor cursor;
  cursor.date = ledger::FormatDate(day);
  cursor.position = BigEndianAt(bytes, prefix.size() + 4, 8);
  cursor.ordinal = static_cast<std::uint32_t>(BigEndianAt(bytes, prefix.size() + 12, 4));
  return cursor;
}

}  // namespace

grpc::Status AuditServiceImpl::ReplayAmendments(
    grpc::ServerContext* context, const v1::ReplayAmendmentsRequest* req,
    grpc::ServerWriter<v1::ReplayAmendmentsResponse>* writer) {
  absl::StatusOr<Caller> caller =
      options_.auth->Authorize(*context, "ReplayAmendments", Action::kReadAudit, req->school_id());
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  absl::StatusOr<ReplayRange> range = CheckReplay(*req);
  if (!range.ok()) return ToGrpcStatus(range.status());
  if (absl::Status s = AwaitPosition(*context, *index_, req->min_position()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  const std::uint32_t limit = req->max_results() == 0 ? kDefaultReplayResults : req->max_results();
  std::uint32_t sent = 0;
  std::string cursor = range->start;
  std::string last_sent;
  bool finished = false;
  std::vector<std::pair<std::string, v1::Amendment>> batch;
  v1::ReplayAmendmentsResponse page;
  while (!finished && sent < limit) {
    if (context->IsCancelled()) return {grpc::StatusCode::CANCELLED, "cancelled"};
    batch.clear();
    std::size_t visited = 0;
    std::string next;
    finished = true;
    absl::Status decode_error;
    absl::Status s =
        index_->Scan(range->prefix, cursor, [&](std::string_view key, std::string_view value) {
          if (!range->end.empty() && key >= range->end) return false;
          if (visited == kKeysPerScan || batch.size() == kPageSize ||
              sent + batch.size() == limit) {
            next.assign(key.data(), key.size());
            finished = false;
            return false;
          }
          ++visited;
          absl::StatusOr<v1::EventEnvelope> event = projections::DecodeIndexedEvent(value);
          if (!event.ok() || !event->has_mark_amended()) {
            decode_error = absl::DataLossError("audit index: undecodable amendment");
            return false;
          }
          v1::Amendment amendment = ToAmendment(*event);
          if (Matches(*req, amendment)) batch.emplace_back(std::string(key), std::move(amendment));
          return true;
        });
    if (!s.ok()) return ToGrpcStatus(s);
    if (!decode_error.ok()) return ToGrpcStatus(decode_error);
    cursor = std::move(next);
    if (batch.empty()) continue;
    sent += static_cast<std::uint32_t>(batch.size());
    last_sent = std::move(batch.back().first);
    for (auto& [key, amendment] : batch) *page.add_amendments() = std::move(amendment);
    if (!finished && sent < limit) {
      if (!writer->Write(page)) return {grpc::StatusCode::CANCELLED, "client went away"};
      page.Clear();
    }
  }
  page.mutable_end()->set_amendments(sent);
  if (!finished) {
    page.mutable_end()->set_truncated(true);
    page.mutable_end()->set_resume_after(last_sent);
  }
  writer->WriteLast(page, grpc::WriteOptions());
  return grpc::Status::OK;
}

grpc::Status AuditServiceImpl::GetPupilTimeline(grpc::ServerContext* context,
                                                const v1::GetPupilTimelineRequest* req,
                                                grpc::ServerWriter<v1::PupilTimelinePage>* writer) {
  absl::StatusOr<Caller> caller =
      options_.auth->Authorize(*context, "GetPupilTimeline", Action::kReadAudit, req->school_id());
  if (!caller.ok()) return ToGrpcStatus(caller.status());
  for (const auto& [value, field] :
       {std::pair{&req->school_id(), "school_id"}, std::pair{&req->pupil_id(), "pupil_id"}}) {
    if (absl::Status s = ledger::CheckId(*value, field); !s.ok()) return ToGrpcStatus(s);
  }
  // Unbounded: from 1970 to well past any school's records.
  ledger::Day first = 0, last = 1'000'000;
  if (!req->from_date().empty()) {
    absl::StatusOr<ledger::Day> day = ledger::CheckDate(req->from_date(), "from_date");
    if (!day.ok()) return ToGrpcStatus(day.status());
    first = std::max<ledger::Day>(0, *day);
  }
  if (!req->to_date().empty()) {
    absl::StatusOr<ledger::Day> day = ledger::CheckDate(req->to_date(), "to_date");
    if (!day.ok()) return ToGrpcStatus(day.status());
    last = *day;
  }
  if (last < first) {
    return ToGrpcStatus(absl::InvalidArgumentError(
        absl::StrCat("to_date: ", req->to_date(), " is before from_date ", req->from_date())));
  }
  if (req->max_results() > kMaxReplayResults) {
    return ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
        "max_results: ", req->max_results(), " is more than the limit of ", kMaxReplayResults)));
  }
  std::optional<TimelineCursor> cursor;
  if (!req->resume_after().empty()) {
    absl::StatusOr<TimelineCursor> checked = CheckTimelineResume(*req, first, last);
    if (!checked.ok()) return ToGrpcStatus(checked.status());
    cursor = std::move(*checked);
  }
  if (absl::Status s = AwaitPosition(*context, *history_, req->min_position()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (absl::Status s = AwaitPosition(*context, *index_, req->min_position()); !s.ok()) {
    return ToGrpcStatus(s);
  }
  if (options_.escalation != nullptr) {
    if (absl::Status s = AwaitPosition(*context, *options_.escalation_model, req->min_position());
        !s.ok()) {
      return ToGrpcStatus(s);
    }
  }
  const std::size_t limit = req->max_results() == 0 ? kDefaultReplayResults : req->max_results();
  // The order of the merge, and the cursor's place in it.
  auto order_key = [](const v1::TimelineEntry& entry) {
    return std::pair<const std::string&, std::uint64_t>(entry.date(), entry.position());
  };
  auto before_cursor = [&](const v1::TimelineEntry& entry) {
    return cursor && order_key(entry) < std::pair<const std::string&, std::uint64_t>(
                                            cursor->date, cursor->position);
  };
  auto at_cursor = [&](const v1::TimelineEntry& entry) {
    return cursor && entry.date() == cursor->date && entry.position() == cursor->position;
  };
  // Each source in its own date order, at least limit + 1 from each after
  // the cursor (and the one at it), if it has them: the first limit + 1 of
  // the merge after the cursor are among them. Add returns whether the
  // entry counts.
  std::vector<v1::TimelineEntry> entries;
  absl::Status decode_error;
  auto add = [&](std::string_view value) {
    v1::TimelineEntry& entry = entries.emplace_back();
    std::optional<ledger::Day> day;
    if (entry.mutable_event()->ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      day = projections::EventDay(entry.event());
    }
    if (!day) {
      decode_error = absl::DataLossError("audit index: undecodable timeline entry");
      return false;
    }
    entry.set_date(ledger::FormatDate(*day));
    entry.set_position(entry.event().position());
    if (before_cursor(entry)) {
      entries.pop_back();
      return false;
    }
    return !at_cursor(entry);
  };
  // Resumed: the sources from the cursor's day (the stage changes are
  // still evaluated over the whole range, below).
  const ledger::Day scan_first = cursor ? *ledger::ParseDate(cursor->date) : first;
  // The mark history orders a date's entries by session first: past the
  // limit, the rest of that date still comes (a PM mark may precede an AM
  // amendment in log order).
  std::size_t from_marks = 0;
  std::string stop_date;
  absl::Status s =
      history_->ScanPupil(req->school_id(), req->pupil_id(), scan_first, last, [&](auto value) {
        const std::size_t before = entries.size();
        const bool counted = add(value);
        if (!decode_error.ok()) return false;
        if (entries.size() > before && !stop_date.empty() && entries.back().date() != stop_date) {
          entries.pop_back();
          return false;
        }
        if (counted && ++from_marks == limit + 1) stop_date = entries.back().date();
        return true;
      });
  if (!s.ok()) return ToGrpcStatus(s);
  if (!decode_error.ok()) return ToGrpcStatus(decode_error);
  const std::string prefix = projections::PupilEventPrefix(req->school_id(), req->pupil_id());
  const std::string end = projections::PupilEventKey(req->school_id(), req->pupil_id(), last + 1);
  std::size_t from_events = 0;
  s = index_->Scan(prefix,
                   projections::PupilEventKey(req->school_id(), req->pupil_id(), scan_first),
                   [&](std::string_view key, std::string_view value) {
                     if (key >= end) return false;
                     if (add(value)) ++from_events;
                     return decode_error.ok() && from_events <= limit;
                   });
  if (!s.ok()) return ToGrpcStatus(s);
  if (!decode_error.ok()) return ToGrpcStatus(decode_error);
  if (options_.escalation != nullptr) {
    // Evaluated as of the range's end, or today for an open range (a
    // stage is as of a day's end: a future day adds nothing).
    const ledger::Day as_of = std::min(last, options_.clock.Today());
    std::vector<v1::TimelineEntry> stages =
        options_.escalation->Read([&](const projections::EscalationState& state) {
          return StageChangeEntries(state, req->school_id(), req->pupil_id(), first, last, as_of);
        });
    for (v1::TimelineEntry& stage : stages) entries.push_back(std::move(stage));
  }
  // A stage change comes after the letter or action (same date and
  // position) that made it.
  std::stable_sort(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
    if (a.date() != b.date()) return a.date() < b.date();
    if (a.position() != b.position()) return a.position() < b.position();
    return a.has_stage_change() < b.has_stage_change();
  });
  // Resumed: past the entries before the cursor and the cursor's own.
  std::size_t begin = 0;
  while (begin < entries.size() && before_cursor(entries[begin])) ++begin;
  for (std::uint32_t skipped = 0;
       begin < entries.size() && at_cursor(entries[begin]) && skipped <= cursor->ordinal;
       ++skipped) {
    ++begin;
  }
  const bool truncated = entries.size() - begin > limit;
  const std::size_t stop = truncated ? begin + limit : entries.size();
  v1::PupilTimelinePage page;
  std::uint32_t ordinal = 0;  // of entries[i] among those of its date and position
  std::string previous_date;  // entries[i - 1]'s (moved out by then)
  ledger::Position previous_position = 0;
  for (std::size_t i = 0; i < stop; ++i) {
    ordinal =
        i > 0 && previous_date == entries[i].date() && previous_position == entries[i].position()
            ? ordinal + 1
            : 0;
    previous_date = entries[i].date();
    previous_position = entries[i].position();
    if (i < begin) continue;
    v1::TimelineEntry& entry = entries[i];
    entry.set_resume_after(TimelineCursorBytes(req->school_id(), req->pupil_id(),
                                               *ledger::ParseDate(entry.date()), entry.position(),
                                               ordinal));
    if (i + 1 == stop && truncated) page.mutable_end()->set_resume_after(entry.resume_after());
    *page.add_entries() = std::move(entry);
    if (page.entries_size() == static_cast<int>(kPageSize) && i + 1 < stop) {
      if (!writer->Write(page)) return {grpc::StatusCode::CANCELLED, "client went away"};
      page.Clear();
    }
  }
  page.mutable_end()->set_entries(static_cast<std::uint32_t>(stop - begin));
  page.mutable_end()->set_truncated(truncated);
  writer->WriteLast(page, grpc::WriteOptions());
  return grpc::Status::OK;
}

}  // namespace attendance::services
