// ImportHistory: another system's register with its own times and people.
// Every mark and amendment is judged as if it had been entered here at the
// source's time (a register records what happened: the session must have
// begun by then, unless the code is a planned one), and the whole request
// is checked before the first event is appended, so a rejected import
// writes nothing.
#include <algorithm>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "commands.h"
#include "ledger/clock.h"
#include "ledger/status_macros.h"
#include "validation.h"

namespace attendance::ledger {
namespace {

std::string Instant(std::int64_t us) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMicros(us), absl::UTCTimeZone());
}

// The source's person, if it names one; the importer otherwise.
v1::Actor SourceActor(const v1::Actor& given, const Principal& importer) {
  if (!given.name().empty()) return given;
  v1::Actor actor;
  actor.set_name(importer.name);
  actor.set_role(importer.role);
  return actor;
}

absl::Status CheckSourceActor(const v1::Actor& actor, const std::string& field) {
  RETURN_IF_ERROR(CheckText(actor.name(), field + ".name", false, kMaxActorLength));
  return CheckText(actor.role(), field + ".role", false, kMaxActorLength);
}

// A source time: 0 means now; otherwise not before `earliest` (the entry
// before it) and not after now.
absl::StatusOr<std::int64_t> CheckSourceTime(std::int64_t given, std::int64_t now_us,
                                             std::int64_t earliest, absl::string_view earlier,
                                             const std::string& field) {
  const std::int64_t at = given == 0 ? now_us : given;
  if (at < 0) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", given, " is before 1970"));
  }
  if (at > now_us) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", given, " (", Instant(given),
                                                   ") is in the future (now ", Instant(now_us),
                                                   ")"));
  }
  if (at < earliest) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": ", at, " (", Instant(at),
                                                   ") is before ", earlier, " (", Instant(earliest),
                                                   "); amendments come in time order"));
  }
  return at;
}

// The register rule at the source's time: INVALID_ARGUMENT, since the
// request contradicts itself (a time before its own session could be
// taken); without a source time (0), the rule at now, as RecordMarks.
absl::Status CheckTakenInTime(const SchoolState& school, Day day, v1::Session session,
                              const std::string& code, std::int64_t given, std::int64_t at,
                              const std::string& field) {
  absl::Status s =
      CheckSessionHasBegun(school.settings, day, session, code, SchoolLocalTime(at), field);
  if (s.ok() || given == 0) return s;
  return absl::InvalidArgumentError(
      absl::StrCat(s.message(), " (", field, " ", at, " is ", Instant(at), ")"));
}

// When a session's register opens, as an instant: a source that does not
// say when its marks were taken (SIMS' and Wonde's exports do not) has them
// taken then, as a register is (the 2024 regulations: at the start of each
// session).
std::int64_t RegisterOpensUs(const SchoolState& school, Day day, v1::Session session) {
  static const absl::TimeZone zone = [] {
    absl::TimeZone tz;  // UTC if the zone is missing; ledgerd refuses to start then
    absl::LoadTimeZone(kSchoolTimeZone, &tz);
    return tz;
  }();
  const absl::CivilMinute at =
      absl::CivilMinute(absl::CivilDay(1970, 1, 1) + day) + RegisterOpens(school.settings, session);
  return absl::ToUnixMicros(absl::FromCivil(at, zone));
}

struct CheckedMark {
  PupilState* pupil;
  std::int64_t taken_at;
  std::vector<std::int64_t> amended_at;
  bool skip;
};

}  // namespace

absl::Status PrepareImportHistory(CommandEnv& env, const v1::ImportHistoryRequest& request,
                                  v1::ImportHistoryResponse& response) {
  auto school = CheckSchool(env.state, request.school_id());
  if (!school.ok()) return school.status();
  if (env.actor.open_registers_only) {
    // The transport refuses a register-taker's token first (access.h); an
    // in-process caller with one is refused the same way.
    return absl::PermissionDeniedError(absl::StrCat(
        "principal: ", env.actor.name, " (role ", env.actor.role,
        ") records marks only for today's open registers; an import is the attendance office's"));
  }
  RETURN_IF_ERROR(CheckText(request.source(), "source", true, kMaxActorLength));
  if (request.marks().empty()) return absl::InvalidArgumentError("marks: the import is empty");
  if (request.marks_size() > kMaxMarksPerBatch) {
    return absl::InvalidArgumentError(absl::StrCat("marks: ", request.marks_size(),
                                                   " marks is more than the limit of ",
                                                   kMaxMarksPerBatch, " per import"));
  }
  // Sizes first, before any per-entry work.
  std::size_t events = 0;
  for (int i = 0; i < request.marks_size(); ++i) {
    const int amendments = request.marks(i).amendments_size();
    if (amendments > kMaxImportedAmendmentsPerMark) {
      return absl::InvalidArgumentError(absl::StrCat("marks[", i, "].amendments: ", amendments,
                                                     " amendments is more than the limit of ",
                                                     kMaxImportedAmendmentsPerMark, " per mark"));
    }
    events += 1 + static_cast<std::size_t>(amendments);
  }
  if (events > kMaxImportedEvents) {
    return absl::InvalidArgumentError(absl::StrCat("marks: ", events,
                                                   " marks and amendments is more than the limit "
                                                   "of ",
                                                   kMaxImportedEvents, " per import"));
  }

  const std::int64_t now_us = env.group.now_us();
  std::vector<CheckedMark> checked;
  checked.reserve(static_cast<std::size_t>(request.marks_size()));
  absl::flat_hash_map<std::uint64_t, int> seen;
  seen.reserve(static_cast<std::size_t>(request.marks_size()));
  for (int i = 0; i < request.marks_size(); ++i) {
    const v1::ImportedMark& mark = request.marks(i);
    const std::string prefix = absl::StrCat("marks[", i, "].");
    auto target = CheckMarkTarget(env.state, **school, mark.pupil_id(), mark.date(), mark.session(),
                                  mark.code(), mark.minutes_late(), prefix);
    if (!target.ok()) return target.status();
    RETURN_IF_ERROR(CheckText(mark.comment(), prefix + "comment", false));
    RETURN_IF_ERROR(CheckSourceActor(mark.taken_by(), prefix + "taken_by"));
    CheckedMark entry{target->pupil, 0, {}, false};
    auto taken = CheckSourceTime(mark.taken_at_us(), now_us, 0, "", prefix + "taken_at_us");
    if (!taken.ok()) return taken.status();
    entry.taken_at = mark.taken_at_us() != 0
                         ? *taken
                         : std::min(now_us, RegisterOpensUs(**school, target->day, mark.session()));
    RETURN_IF_ERROR(CheckTakenInTime(**school, target->day, mark.session(), mark.code(),
                                     mark.taken_at_us(), entry.taken_at, prefix + "taken_at_us"));
    const std::string* code = &mark.code();
    std::int64_t previous_at = entry.taken_at;
    for (int j = 0; j < mark.amendments_size(); ++j) {
      const v1::ImportedAmendment& amendment = mark.amendments(j);
      const std::string aprefix = absl::StrCat(prefix, "amendments[", j, "].");
      if (amendment.amended_code().empty()) {
        return absl::InvalidArgumentError(aprefix + "amended_code: must not be empty");
      }
      if (amendment.amended_code() == *code) {
        return absl::InvalidArgumentError(
            absl::StrCat(aprefix, "amended_code: ", Quoted(amendment.amended_code()),
                         " is already the mark's code then"));
      }
      RETURN_IF_ERROR(CheckCodeOnDay(**school, *target->pupil, target->day, mark.session(),
                                     amendment.amended_code(), amendment.minutes_late(),
                                     aprefix + "amended_"));
      RETURN_IF_ERROR(CheckText(amendment.reason(), aprefix + "reason", true));
      RETURN_IF_ERROR(CheckSourceActor(amendment.amended_by(), aprefix + "amended_by"));
      auto at =
          CheckSourceTime(amendment.amended_at_us(), now_us, previous_at,
                          j == 0 ? "the mark was taken" : absl::StrCat("amendments[", j - 1, "]"),
                          aprefix + "amended_at_us");
      if (!at.ok()) return at.status();
      RETURN_IF_ERROR(CheckTakenInTime(**school, target->day, mark.session(),
                                       amendment.amended_code(), amendment.amended_at_us(), *at,
                                       aprefix + "amended_at_us"));
      entry.amended_at.push_back(*at);
      previous_at = *at;
      code = &amendment.amended_code();
    }
    RETURN_IF_ERROR(
        CheckNotRepeated(seen, i, *target, mark.session(), mark.pupil_id(), mark.date()));
    auto existing = env.current_code(request.school_id(), mark.pupil_id(), *target->pupil,
                                     target->day, mark.session());
    if (!existing.ok()) return existing.status();
    if (!existing->empty()) {
      // The same import run again: its session holds what its history ends
      // with. Anything else is a history the ledger cannot merge.
      if (*existing != *code) {
        return absl::FailedPreconditionError(
            absl::StrCat("marks[", i, "]: pupil \"", mark.pupil_id(), "\" already has mark ",
                         Quoted(*existing), " for ", mark.date(), " ", SessionName(mark.session()),
                         ", but the imported history ends with ", Quoted(*code),
                         "; leave the mark out of the import, or amend it with AmendMark"));
      }
      entry.skip = true;
    }
    checked.push_back(std::move(entry));
  }

  std::uint32_t marks_written = 0, amendments_written = 0, skipped = 0;
  auto append = [&](v1::EventEnvelope& event, PupilState& pupil) {
    event.set_school_id(request.school_id());
    event.set_stream_version(pupil.version + 1);
    const Position position = env.group.Append(event, env.actor, env.request_id);
    if (response.first_position() == 0) response.set_first_position(position);
    response.set_last_position(position);
  };
  for (int i = 0; i < request.marks_size(); ++i) {
    const v1::ImportedMark& mark = request.marks(i);
    const CheckedMark& entry = checked[static_cast<std::size_t>(i)];
    if (entry.skip) {
      ++skipped;
      continue;
    }
    v1::EventEnvelope event;
    event.set_pupil_id(mark.pupil_id());
    v1::MarkRecorded* recorded = event.mutable_mark_recorded();
    recorded->set_pupil_id(mark.pupil_id());
    recorded->set_date(mark.date());
    recorded->set_session(mark.session());
    recorded->set_code(mark.code());
    recorded->set_minutes_late(mark.minutes_late());
    *recorded->mutable_taken_by() = SourceActor(mark.taken_by(), env.actor);
    recorded->set_comment(mark.comment());
    recorded->set_taken_at_us(entry.taken_at);
    recorded->set_imported_from(request.source());
    append(event, *entry.pupil);
    ++marks_written;
    const std::string* code = &mark.code();
    for (int j = 0; j < mark.amendments_size(); ++j) {
      const v1::ImportedAmendment& amendment = mark.amendments(j);
      v1::EventEnvelope change;
      change.set_pupil_id(mark.pupil_id());
      v1::MarkAmended* amended = change.mutable_mark_amended();
      amended->set_pupil_id(mark.pupil_id());
      amended->set_date(mark.date());
      amended->set_session(mark.session());
      amended->set_original_code(*code);
      amended->set_amended_code(amendment.amended_code());
      amended->set_reason(amendment.reason());
      *amended->mutable_amended_by() = SourceActor(amendment.amended_by(), env.actor);
      amended->set_amended_at_us(entry.amended_at[static_cast<std::size_t>(j)]);
      amended->set_minutes_late(amendment.minutes_late());
      amended->set_imported_from(request.source());
      append(change, *entry.pupil);
      ++amendments_written;
      code = &amendment.amended_code();
    }
  }
  response.set_marks_written(marks_written);
  response.set_amendments_written(amendments_written);
  response.set_skipped(skipped);
  return absl::OkStatus();
}

}  // namespace attendance::ledger
