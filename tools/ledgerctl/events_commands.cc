// Subcommands over attendance.v1.Ledger.ReadEvents.
#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "attendance/v1/ledger_service.grpc.pb.h"
#include "command_table.h"
#include "common.h"
#include "event_text.h"

namespace attendance::ledgerctl {
namespace {

namespace v1 = ::attendance::v1;

std::string SessionText(v1::Session session) { return EnumName(v1::Session_descriptor(), session); }

// The event's kind and a one-line summary of its payload.
std::pair<std::string, std::string> Describe(const v1::EventEnvelope& event) {
  switch (event.payload_case()) {
    case v1::EventEnvelope::kMarkRecorded: {
      const auto& m = event.mark_recorded();
      std::string text =
          absl::StrCat(m.date(), " ", SessionText(m.session()), " \"", m.code(), "\"");
      if (m.minutes_late() > 0) absl::StrAppend(&text, " ", m.minutes_late(), " min late");
      if (!m.comment().empty()) absl::StrAppend(&text, " (", m.comment(), ")");
      return {"mark", text};
    }
    case v1::EventEnvelope::kMarkAmended: {
      const auto& m = event.mark_amended();
      return {"amendment",
              absl::StrCat(m.date(), " ", SessionText(m.session()), " \"", m.original_code(),
                           "\" -> \"", m.amended_code(), "\": ", m.reason())};
    }
    case v1::EventEnvelope::kLetterSent: {
      const auto& l = event.letter_sent();
      return {"letter", absl::StrCat(l.letter_id(), " by ",
                                     EnumName(v1::LetterChannel_descriptor(), l.channel()), " on ",
                                     l.sent_on())};
    }
    case v1::EventEnvelope::kPupilEnrolled: {
      const auto& p = event.pupil_enrolled();
      return {"enrolled", absl::StrCat(p.pupil().given_name(), " ", p.pupil().family_name(),
                                       ", year ", p.pupil().year_group(), " ",
                                       p.pupil().class_name(), ", from ", p.on_roll_from())};
    }
    case v1::EventEnvelope::kPupilUpdated: {
      const auto& p = event.pupil_updated();
      return {"updated", absl::StrCat(p.pupil().given_name(), " ", p.pupil().family_name(),
                                      ", year ", p.pupil().year_group(), " ",
                                      p.pupil().class_name(), ", from ", p.effective_from())};
    }
    case v1::EventEnvelope::kPupilLeftRoll: {
      const auto& p = event.pupil_left_roll();
      return {"left roll", absl::StrCat("last day ", p.last_day_on_roll(),
                                        p.reason().empty() ? "" : ": " + p.reason())};
    }
    case v1::EventEnvelope::kSchoolCalendarSet: {
      const auto& c = event.school_calendar_set();
      return {"calendar", absl::StrCat(c.academic_year(), "-", (c.academic_year() + 1) % 100, ", ",
                                       c.terms_size(), " terms, ", c.closures_size(), " closures")};
    }
    case v1::EventEnvelope::kSchoolSettingsSet:
      return {"settings", event.school_settings_set().settings().school_name()};
    case v1::EventEnvelope::kEscalationPolicySet: {
      const auto& p = event.escalation_policy_set().policy();
      return {"policy", absl::StrCat(p.policy_id(), " version ", p.version())};
    }
    case v1::EventEnvelope::kActionRecorded: {
      const auto& a = event.action_recorded();
      return {
          "action",
          absl::StrCat(a.action_id(), " ", EnumName(v1::RecordedActionKind_descriptor(), a.kind()),
                       " on ", a.happened_on(), a.step_id().empty() ? "" : " for " + a.step_id(),
                       a.trigger_id().empty() ? "" : " for " + a.trigger_id())};
    }
    case v1::EventEnvelope::kLeaveRequested: {
      const auto& l = event.leave_requested();
      return {"leave request",
              absl::StrCat(l.leave_id(), " ", l.first_date(), " ", SessionText(l.first_session()),
                           "..", l.last_date(), " ", SessionText(l.last_session()), " by ",
                           l.requested_by(), ": ", l.reason())};
    }
    case v1::EventEnvelope::kLeaveDecided: {
      const auto& l = event.leave_decided();
      return {"leave decision",
              absl::StrCat(l.leave_id(), l.approved() ? " approved (" : " refused (",
                           l.sessions_recorded(), " sessions marked C): ", l.reason())};
    }
    case v1::EventEnvelope::kPersonalDataErased: {
      const auto& e = event.personal_data_erased();
      return {"erased", absl::StrCat("personal data (kept until ", e.retained_until(),
                                     "), authorised by ", e.authorised_by(), ": ", e.reason())};
    }
    default:
      return {"unknown", ""};
  }
}

// One event a line, also when a comment holds line breaks or tabs.
std::string OneLine(absl::string_view text) {
  return absl::StrReplaceAll(text, {{"\n", "\\n"}, {"\r", "\\r"}, {"\t", "\\t"}});
}

std::vector<std::string> Row(const v1::EventEnvelope& event) {
  auto [kind, raw_details] = Describe(event);
  if (event.personal_erased()) raw_details += " [personal data erased]";
  const std::string details = OneLine(raw_details);
  return {absl::StrCat(event.position()),
          FormatInstant(event.recorded_at_us()),
          event.school_id(),
          event.pupil_id(),
          kind,
          details,
          event.actor().name()};
}

int ReadEvents(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::ReadEventsRequest request;
  request.set_from_position(static_cast<std::uint64_t>(args.Int("from", 0, 0, INT64_MAX)));
  request.set_school_id(args.Get("school"));
  for (const std::string& list : args.All("type")) {
    for (absl::string_view type : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
      request.add_event_types(static_cast<v1::EventType>(
          ParseEnumFlag(args, "type", type, v1::EventType_descriptor())));
    }
  }
  request.set_max_events(static_cast<std::uint64_t>(args.Int("max", 0, 0, INT64_MAX)));
  request.set_follow(args.Switch("follow"));
  auto stub = NewStub<v1::Ledger>(invocation);
  grpc::ClientContext context;
  if (request.follow() && !args.Has("deadline")) {
    invocation.connection.PrepareUnbounded(context);
  } else {
    invocation.connection.Prepare(context);
  }
  auto reader = stub->ReadEvents(&context, request);
  const std::vector<std::string> header = {"position", "recorded (UTC)", "school", "pupil",
                                           "event",    "details",        "by"};
  Table table(header);
  v1::EventEnvelope event;
  bool first = true;
  while (reader->Read(&event)) {
    if (invocation.json) {
      PrintJson(event, invocation.out);
    } else if (request.follow()) {
      // Live: a line as each event arrives, not a table at the end.
      if (first) invocation.out << absl::StrJoin(header, "\t") << "\n";
      invocation.out << absl::StrJoin(Row(event), "\t") << std::endl;
    } else {
      table.Add(Row(event));
    }
    first = false;
  }
  const grpc::Status status = reader->Finish();
  if (!invocation.json && !request.follow()) table.Print(invocation.out);
  // A follow that ends at its deadline has done what was asked.
  if (request.follow() && status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
    return kExitOk;
  }
  if (!status.ok()) return ReportRpcError(status, "ReadEvents", invocation.err);
  return kExitOk;
}

}  // namespace

std::pair<std::string, std::string> DescribeEvent(const v1::EventEnvelope& event) {
  auto [kind, details] = Describe(event);
  return {kind, OneLine(details)};
}

std::vector<Command> EventsCommands() {
  return {
      {"read-events",
       "attendance.v1.Ledger (reads)",
       "ReadEvents: stored events in log order, one a line (--json: the envelopes, hashes "
       "included)",
       "",
       {{"school", "ID", "only this school's events (default: every school)"},
        {"from", "POSITION", "first position (default: the start)"},
        {"type", "TYPE[,TYPE]",
         "only these event types: mark-recorded, mark-amended, letter-sent, pupil-enrolled, "
         "pupil-updated, pupil-left-roll, school-calendar-set, school-settings-set",
         true},
        {"max", "N", "at most N events (default: no limit)"},
        {"follow", "", "keep printing new events until interrupted (or --deadline)"}},
       ReadEvents},
  };
}

}  // namespace attendance::ledgerctl
