// Subcommands of attendance.v1.Feeds: one per RPC. Each prints a line per
// item as it arrives (--json: each message, one a line) and runs until
// interrupted, --deadline, or with --until-caught-up the caught-up marker.
#include <grpcpp/client_context.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "attendance/v1/feeds_service.grpc.pb.h"
#include "command_table.h"
#include "common.h"
#include "event_text.h"
#include "window_flags.h"

namespace attendance::ledgerctl {
namespace {

namespace v1 = ::attendance::v1;

const Option kAfterPosition{"after-position", "N",
                            "start after this position: 0 = the first event (default), or the "
                            "last position a previous run printed"};
const Option kUntilCaughtUp{"until-caught-up", "",
                            "exit 0 once the feed has reached the head (the caught-up marker)"};

std::uint64_t AfterPosition(const Args& args) {
  return static_cast<std::uint64_t>(args.Int("after-position", 0, 0, INT64_MAX));
}

// A feed runs until cancelled; --deadline bounds it when given.
void PrepareFeed(Invocation& invocation, grpc::ClientContext& context) {
  if (invocation.args.Has("deadline")) {
    invocation.connection.Prepare(context);
  } else {
    invocation.connection.PrepareUnbounded(context);
  }
}

// The flags that resume after the last message received: its position and,
// for a feed that follows the time, the turn it had reached (turned_to,
// turned_to_time; an empty time is the day's start, which needs no flag).
struct ResumePoint {
  std::uint64_t position = 0;
  std::string day;
  std::string time;
};

std::string ResumeFlags(const ResumePoint& at) {
  std::string flags = absl::StrCat("--after-position ", at.position);
  if (!at.day.empty()) absl::StrAppend(&flags, " --after-day ", at.day);
  if (!at.day.empty() && !at.time.empty()) absl::StrAppend(&flags, " --after-time ", at.time);
  return flags;
}

// The feed's last message said where to resume; a deadline, or our own
// cancel after the caught-up marker, is the end that was asked for.
int FinishFeed(Invocation& invocation, const grpc::Status& status, absl::string_view method,
               const ResumePoint& at, bool caught_up) {
  const bool asked_end = status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED ||
                         (caught_up && invocation.args.Switch("until-caught-up") &&
                          status.error_code() == grpc::StatusCode::CANCELLED);
  if (!status.ok() && !asked_end) {
    const int code = ReportRpcError(status, method, invocation.err);
    // Fell too far behind, or the server went away: the caller retries from here.
    if (code == kExitUnavailable) {
      invocation.err << "ledgerctl: resume with " << ResumeFlags(at) << "\n";
    }
    return code;
  }
  invocation.err << "ledgerctl: " << method << ": stopped at position " << at.position
                 << (caught_up ? " (caught up)" : "") << "; resume with " << ResumeFlags(at)
                 << "\n";
  return kExitOk;
}

// The markers as one line, in the table's output.
void PrintMarker(Invocation& invocation, std::uint64_t position, bool caught_up, bool fell_behind,
                 std::uint64_t head) {
  if (caught_up) {
    invocation.out << "-- caught up at position " << position << " (head " << head << ")"
                   << std::endl;
  }
  if (fell_behind) {
    invocation.out << "-- fell behind at position " << position << " (head " << head << ")"
                   << std::endl;
  }
}

int SubscribeEvents(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::SubscribeEventsRequest request;
  request.set_after_position(AfterPosition(args));
  request.set_from_now(args.Switch("from-now"));
  request.set_school_id(args.Get("school"));
  for (const std::string& list : args.All("type")) {
    for (absl::string_view type : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
      request.add_event_types(static_cast<v1::EventType>(
          ParseEnumFlag(args, "type", type, v1::EventType_descriptor())));
    }
  }
  for (const std::string& list : args.All("pupil")) {
    for (absl::string_view pupil : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
      request.add_pupil_ids(std::string(pupil));
    }
  }
  auto stub = NewStub<v1::Feeds>(invocation);
  grpc::ClientContext context;
  PrepareFeed(invocation, context);
  auto reader = stub->SubscribeEvents(&context, request);
  if (!invocation.json) {
    invocation.out << absl::StrJoin({"position", "recorded (UTC)", "school", "pupil", "event",
                                     "details", "by"},
                                    "\t")
                   << std::endl;
  }
  v1::SubscribeEventsResponse message;
  std::uint64_t position = request.after_position();
  bool caught_up = false;
  while (reader->Read(&message)) {
    position = message.position();
    caught_up = caught_up || message.caught_up();
    if (invocation.json) {
      invocation.out << ToJson(message) << std::endl;
    } else {
      for (const v1::EventEnvelope& event : message.events()) {
        const auto [kind, details] = DescribeEvent(event);
        invocation.out << absl::StrJoin({absl::StrCat(event.position()),
                                         FormatInstant(event.recorded_at_us()), event.school_id(),
                                         event.pupil_id(), kind, details, event.actor().name()},
                                        "\t")
                       << "\n";
      }
      invocation.out.flush();
      PrintMarker(invocation, message.position(), message.caught_up(), message.fell_behind(),
                  message.head());
    }
    if (message.caught_up() && args.Switch("until-caught-up")) {
      context.TryCancel();
      break;
    }
  }
  return FinishFeed(invocation, reader->Finish(), "SubscribeEvents", ResumePoint{position, "", ""},
                    caught_up);
}

std::string Band(bool persistent, bool severe) {
  return severe ? "severe" : (persistent ? "persistent" : "none");
}

// "(day turned) attendance_letters: letter_1 -> letter_2; due+ REVIEW meet-1 2025-10-10".
std::string DescribeEscalation(const v1::PupilChange& change) {
  std::vector<std::string> parts;
  if (change.time_driven()) parts.push_back("(day turned)");
  for (const v1::LadderChange& ladder : change.escalation().ladders()) {
    auto stage = [](const std::string& s) { return s.empty() ? std::string("not started") : s; };
    std::string text = absl::StrCat(ladder.ladder_id(), ": ", stage(ladder.stage_before()), " -> ",
                                    stage(ladder.stage()));
    if (ladder.has_monitoring()) {
      absl::StrAppend(&text, ", monitoring ", ladder.monitoring().ends_on(),
                      ladder.monitoring().running() ? " running" : " ended");
    }
    parts.push_back(text);
  }
  for (const auto* list : {&change.escalation().due_added(), &change.escalation().due_removed()}) {
    for (const v1::DueAction& due : *list) {
      parts.push_back(absl::StrCat(list == &change.escalation().due_added() ? "due+ " : "due- ",
                                   v1::ActionKind_Name(due.action()), " ", due.rule_id(), " ",
                                   due.due_on()));
    }
  }
  return absl::StrJoin(parts, "; ");
}

int SubscribeChanges(Invocation& invocation) {
  const Args& args = invocation.args;
  v1::SubscribeProjectionChangesRequest request;
  for (const std::string& list : args.All("school")) {
    for (absl::string_view school : absl::StrSplit(list, ',', absl::SkipWhitespace())) {
      request.add_school_ids(std::string(school));
    }
  }
  if (request.school_ids().empty()) args.Fail("--school is required");
  request.set_after_position(AfterPosition(args));
  if (args.Has("after-day")) request.set_after_day(args.Get("after-day"));
  if (args.Has("after-time")) request.set_after_time(args.Get("after-time"));
  if (args.Has("window")) *request.add_windows() = WindowFromFlags(args);
  auto stub = NewStub<v1::Feeds>(invocation);
  grpc::ClientContext context;
  PrepareFeed(invocation, context);
  auto reader = stub->SubscribeProjectionChanges(&context, request);
  if (!invocation.json) {
    invocation.out << absl::StrJoin(
                          {"position", "school", "pupil", "name", "as of", "window", "possible",
                           "attended", "attendance %", "band before", "band", "escalation"},
                          "\t")
                   << std::endl;
  }
  v1::SubscribeProjectionChangesResponse message;
  ResumePoint at{request.after_position(), request.after_day(), request.after_time()};
  bool caught_up = false;
  while (reader->Read(&message)) {
    at.position = message.position();
    if (!message.turned_to().empty()) {
      at.day = message.turned_to();
      at.time = message.turned_to_time();
    }
    caught_up = caught_up || message.caught_up();
    if (invocation.json) {
      invocation.out << ToJson(message) << std::endl;
    } else {
      for (const v1::PupilChange& change : message.changes()) {
        const v1::PupilAttendance& a = change.attendance();
        v1::WindowFigures first;
        if (!a.windows().empty()) first = a.windows(0);
        invocation.out
            << absl::StrJoin(
                   {absl::StrCat(message.position()), change.school_id(), a.pupil().pupil_id(),
                    absl::StrCat(a.pupil().given_name(), " ", a.pupil().family_name()), a.as_of(),
                    WindowText(first.window()), absl::StrCat(first.figures().possible_sessions()),
                    absl::StrCat(first.figures().attended_sessions()),
                    FormatPercent(first.figures().attendance_percent()),
                    Band(change.persistent_absence_before(), change.severe_absence_before()),
                    Band(change.persistent_absence(), change.severe_absence()),
                    DescribeEscalation(change)},
                   "\t")
            << "\n";
      }
      invocation.out.flush();
      PrintMarker(invocation, message.position(), message.caught_up(), message.fell_behind(),
                  message.head());
    }
    if (message.caught_up() && args.Switch("until-caught-up")) {
      context.TryCancel();
      break;
    }
  }
  return FinishFeed(invocation, reader->Finish(), "SubscribeProjectionChanges", at, caught_up);
}

std::vector<Option> With(std::vector<Option> options, const std::vector<Option>& more) {
  options.insert(options.end(), more.begin(), more.end());
  return options;
}

}  // namespace

std::vector<Command> FeedsCommands() {
  const std::string group = "attendance.v1.Feeds";
  return {
      {"subscribe-events",
       group,
       "SubscribeEvents: stored events, then live ones, a line each as they arrive",
       "",
       {kAfterPosition,
        {"from-now", "", "start at the head (--after-position ignored)"},
        {"school", "ID", "only this school's events (default: every school)"},
        {"type", "TYPE[,TYPE]",
         "only these event types (at most 8): mark-recorded, mark-amended, letter-sent, "
         "pupil-enrolled, pupil-updated, pupil-left-roll, school-calendar-set, "
         "school-settings-set, escalation-policy-set",
         true},
        {"pupil", "ID[,ID]", "only these pupils (needs --school; at most 1000)", true},
        kUntilCaughtUp},
       SubscribeEvents},
      {"subscribe-changes", group,
       "SubscribeProjectionChanges: pupils' figures as each event changes them, a line each", "",
       With({{"school", "ID[,ID]", "1 to 16 schools (required)", true},
             kAfterPosition,
             {"after-day", "YYYY-MM-DD",
              "with --after-position: the day turns there already received (the stderr hint)"},
             {"after-time", "HH:MM",
              "with --after-day: the register-close turns of that day already received (the "
              "stderr hint)"}},
            With(WindowOptions(), {kUntilCaughtUp})),
       SubscribeChanges},
  };
}

}  // namespace attendance::ledgerctl
