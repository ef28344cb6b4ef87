#include "demo/demo_school.h"

#include <string>
#include <vector>

#include <google/protobuf/text_format.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "demo/demo_plan.h"
#include "demo/demo_policy.h"
#include "ledger/calendar.h"

namespace attendance::demo {
namespace {

using ledger::FormatDate;
using ledger::Principal;

// Wraps a ledger error with the request id of the command that failed.
absl::Status Annotate(const absl::Status& status, const std::string& request_id) {
  if (status.ok()) return status;
  return absl::Status(status.code(), absl::StrCat(request_id, ": ", status.message()));
}

}  // namespace

absl::Status LoadDemo(ledger::Ledger& ledger, const DemoOptions& options) {
  if (options.school_id.empty()) {
    return absl::InvalidArgumentError("school_id: must not be empty");
  }
  if (options.pupils < 1 || options.pupils > 5000) {
    return absl::InvalidArgumentError(
        absl::StrCat("pupils: ", options.pupils, " is not between 1 and 5000"));
  }
  const Plan plan = MakePlan(options);
  const Principal admin{"Demo Loader", "admin"};
  const Principal office{"Mrs A. Office", "attendance_officer"};
  const std::string prefix = absl::StrCat("demo-", options.school_id, "-", options.academic_year);

  {
    v1::SetSchoolSettingsRequest req;
    req.set_school_id(options.school_id);
    req.set_request_id(prefix + "-settings");
    *req.mutable_settings() = plan.settings;
    if (auto r = ledger.SetSchoolSettings(admin, req); !r.ok()) {
      return Annotate(r.status(), req.request_id());
    }
  }
  {
    v1::SetSchoolCalendarRequest req;
    req.set_school_id(options.school_id);
    req.set_request_id(prefix + "-calendar");
    *req.mutable_calendar() = plan.calendar;
    if (auto r = ledger.SetSchoolCalendar(admin, req); !r.ok()) {
      return Annotate(r.status(), req.request_id());
    }
  }
  {
    v1::SetEscalationPolicyRequest req;
    req.set_school_id(options.school_id);
    req.set_request_id(prefix + "-escalation-policy");
    if (!google::protobuf::TextFormat::ParseFromString(DemoPolicyText(), req.mutable_policy())) {
      return absl::InternalError("the built-in demo escalation policy does not parse");
    }
    if (auto r = ledger.SetEscalationPolicy(office, req); !r.ok()) {
      return Annotate(r.status(), req.request_id());
    }
  }
  auto enrol = [&](const DemoPupil& p) -> absl::Status {
    v1::EnrolPupilRequest req;
    req.set_school_id(options.school_id);
    req.set_request_id(absl::StrCat(prefix, "-enrol-", p.pupil.pupil_id()));
    *req.mutable_pupil() = p.pupil;
    req.set_on_roll_from(FormatDate(p.on_roll_from));
    return Annotate(ledger.EnrolPupil(admin, req).status(), req.request_id());
  };
  // Pupils on roll from the first day are enrolled before the year starts;
  // joiners on the morning they arrive.
  for (const DemoPupil& p : plan.pupils) {
    if (p.on_roll_from == plan.days.front()) {
      if (absl::Status s = enrol(p); !s.ok()) return s;
    }
  }

  // Classes in a stable order, with their pupils.
  std::map<std::string, std::vector<size_t>> classes;
  for (size_t i = 0; i < plan.pupils.size(); ++i) classes[plan.pupils[i].class_key].push_back(i);

  for (size_t day = 0; day < plan.days.size() && plan.days[day] <= options.today; ++day) {
    const Day d = plan.days[day];
    const std::string date = FormatDate(d);
    for (const DemoPupil& p : plan.pupils) {
      if (p.on_roll_from == d && d != plan.days.front()) {
        if (absl::Status s = enrol(p); !s.ok()) return s;
      }
    }
    // Each class teacher takes the AM register, then the PM register.
    for (v1::Session session : {v1::AM, v1::PM}) {
      const size_t s = session == v1::AM ? 0 : 1;
      for (const auto& [class_key, members] : classes) {
        v1::RecordMarksRequest req;
        req.set_school_id(options.school_id);
        req.set_request_id(
            absl::StrCat(prefix, "-marks-", date, "-", SessionName(session), "-", class_key));
        for (size_t i : members) {
          const Entry& e = plan.pupils[i].plan[day][s];
          if (e.code.empty()) continue;
          v1::Mark* mark = req.add_marks();
          mark->set_pupil_id(plan.pupils[i].pupil.pupil_id());
          mark->set_date(date);
          mark->set_session(session);
          mark->set_code(e.code);
          mark->set_minutes_late(e.minutes_late);
          mark->set_comment(e.comment);
        }
        if (req.marks().empty()) continue;
        const Principal teacher{plan.class_teacher.at(class_key), "teacher"};
        if (auto r = ledger.RecordMarks(teacher, req); !r.ok()) {
          return Annotate(r.status(), req.request_id());
        }
      }
    }
    // The office resolves N codes once the reason is known.
    for (const DemoPupil& p : plan.pupils) {
      for (const PlannedAmendment& a : p.amendments) {
        if (a.amend_on != day) continue;
        v1::AmendMarkRequest req;
        req.set_school_id(options.school_id);
        const std::string n_date = FormatDate(plan.days[a.day_index]);
        req.set_request_id(absl::StrCat(prefix, "-amend-", p.pupil.pupil_id(), "-", n_date, "-",
                                        SessionName(a.session)));
        req.set_pupil_id(p.pupil.pupil_id());
        req.set_date(n_date);
        req.set_session(a.session);
        req.set_amended_code(a.amended_code);
        req.set_reason(a.reason);
        req.set_expected_code("N");
        if (auto r = ledger.AmendMark(office, req); !r.ok()) {
          return Annotate(r.status(), req.request_id());
        }
      }
    }
    for (const PlannedLetter& letter : plan.letters) {
      if (letter.send_on != day) continue;
      const DemoPupil& p = plan.pupils[letter.pupil];
      v1::RecordLetterRequest req;
      req.set_school_id(options.school_id);
      req.set_request_id(
          absl::StrCat(prefix, "-letter-", p.pupil.pupil_id(), "-", letter.letter_id));
      req.set_pupil_id(p.pupil.pupil_id());
      req.set_letter_id(letter.letter_id);
      req.set_channel(letter.channel);
      req.set_sent_on(date);
      req.set_note(letter.note);
      if (auto r = ledger.RecordLetter(office, req); !r.ok()) {
        return Annotate(r.status(), req.request_id());
      }
    }
    const DemoPupil& leaver = plan.pupils[plan.leaver];
    if (leaver.last_day && *leaver.last_day == d) {
      v1::RemoveFromRollRequest req;
      req.set_school_id(options.school_id);
      req.set_request_id(absl::StrCat(prefix, "-leave-", leaver.pupil.pupil_id()));
      req.set_pupil_id(leaver.pupil.pupil_id());
      req.set_last_day_on_roll(date);
      req.set_reason("Moved to another school; common transfer file sent");
      if (auto r = ledger.RemoveFromRoll(admin, req); !r.ok()) {
        return Annotate(r.status(), req.request_id());
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace attendance::demo
