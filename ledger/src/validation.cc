#include "validation.h"

#include <cstdio>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "ledger/codes.h"

namespace attendance::ledger {
namespace {

constexpr const char* kWeekdays[] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                     "Friday", "Saturday", "Sunday"};

std::string YearName(int year) {
  return absl::StrCat(year, "-", (year + 1) % 100 < 10 ? "0" : "", (year + 1) % 100);
}

std::string Q(absl::string_view v) { return Quoted(std::string_view(v.data(), v.size())); }

}  // namespace

absl::Status CheckActor(const Principal& actor) {
  // The transport (services/) authenticates every call and answers
  // UNAUTHENTICATED itself; a principal without a name or role reaching the
  // ledger is a caller's mistake, said in the ledger's own words.
  if (actor.name.empty() || actor.role.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("principal: name ", Q(actor.name), ", role ", Q(actor.role),
                     ": a command needs an authenticated principal with a name and a role"));
  }
  // Stored in every event the actor writes: keep them short and printable.
  for (const auto& [what, value] :
       {std::pair{"principal.name", &actor.name}, std::pair{"principal.role", &actor.role}}) {
    if (const std::size_t chars = Utf8Length(*value); chars > kMaxActorLength) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", chars, " characters is longer than ", kMaxActorLength));
    }
    if (!IsValidUtf8(*value)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": ", Quoted(*value), " is not valid UTF-8"));
    }
    for (char c : *value) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        return absl::InvalidArgumentError(
            absl::StrCat(what, ": ", Quoted(*value), " contains a control character"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckSession(v1::Session session, absl::string_view field) {
  if (session != v1::AM && session != v1::PM) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", static_cast<int>(session), " is not AM or PM"));
  }
  return absl::OkStatus();
}

absl::StatusOr<SchoolState*> CheckSchool(HotState& state, absl::string_view school_id) {
  if (auto s = CheckId(school_id, "school_id"); !s.ok()) return s;
  SchoolState* school = state.FindSchool(school_id);
  if (school == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "school_id: \"", school_id, "\" is not a known school (SetSchoolSettings creates it)"));
  }
  return school;
}

absl::Status CheckNotErased(const PupilState& pupil, absl::string_view pupil_id,
                            absl::string_view field) {
  if (pupil.erased_at == 0) return absl::OkStatus();
  return absl::FailedPreconditionError(
      absl::StrCat(field, ": \"", pupil_id, "\" had its personal data erased at position ",
                   pupil.erased_at, " and takes no new entries (enrol under a new pupil id)"));
}

absl::StatusOr<PupilState*> CheckPupil(HotState& state, SchoolState& school,
                                       absl::string_view pupil_id, absl::string_view field) {
  if (auto s = CheckId(pupil_id, field); !s.ok()) return s;
  PupilState* pupil = state.FindPupil(school, pupil_id);
  if (pupil == nullptr || pupil->roll.empty()) {
    return absl::NotFoundError(
        absl::StrCat(field, ": \"", pupil_id, "\" is not a pupil of this school"));
  }
  if (auto s = CheckNotErased(*pupil, pupil_id, field); !s.ok()) return s;
  return pupil;
}

const char* SessionName(v1::Session session) { return session == v1::AM ? "AM" : "PM"; }

absl::StatusOr<MarkTarget> CheckMarkTarget(HotState& state, SchoolState& school,
                                           absl::string_view pupil_id, absl::string_view date,
                                           v1::Session session, absl::string_view code,
                                           std::uint32_t minutes_late, const std::string& prefix) {
  auto pupil = CheckPupil(state, school, pupil_id, prefix + "pupil_id");
  if (!pupil.ok()) return pupil.status();
  auto day = CheckDate(date, prefix + "date");
  if (!day.ok()) return day.status();
  if (absl::Status s = CheckSession(session, prefix + "session"); !s.ok()) return s;
  if (absl::Status s = CheckCodeOnDay(school, **pupil, *day, session, code, minutes_late, prefix);
      !s.ok()) {
    return s;
  }
  return MarkTarget{*pupil, *day};
}

absl::Status CheckNotRepeated(absl::flat_hash_map<std::uint64_t, int>& seen, int index,
                              const MarkTarget& target, v1::Session session,
                              absl::string_view pupil_id, absl::string_view date) {
  const std::uint64_t key =
      (static_cast<std::uint64_t>(target.pupil->index) << 32) |
      (static_cast<std::uint64_t>(static_cast<std::uint32_t>(target.day)) << 2) |
      static_cast<std::uint64_t>(session);
  if (auto [it, inserted] = seen.emplace(key, index); !inserted) {
    return absl::InvalidArgumentError(absl::StrCat("marks[", index, "]: repeats marks[", it->second,
                                                   "] (pupil \"", pupil_id, "\", ", date, " ",
                                                   SessionName(session), ")"));
  }
  return absl::OkStatus();
}

absl::Status CheckCodeOnDay(const SchoolState& school, const PupilState& pupil, Day day,
                            v1::Session session, absl::string_view code, std::uint32_t minutes_late,
                            absl::string_view prefix) {
  const std::string date = FormatDate(day);
  const std::string_view code_sv(code.data(), code.size());
  const CodeInfo* info = LookupCode(code_sv, day);
  if (info == nullptr) {
    if (!IsKnownCode(code_sv)) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, "code: ", Q(code), " is not an attendance code"));
    }
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "code: ", Q(code), " is not valid for a session on ", date,
                     day >= CodeSet2024Start() ? " (removed from the code set on 2024-08-19)"
                                               : " (a 2024 code, valid from 2024-08-19)"));
  }
  if (minutes_late > 0 && !TakesMinutesLate(code_sv)) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "minutes_late: ", minutes_late,
                                                   " given for code \"", code,
                                                   "\"; only L and U carry minutes late"));
  }
  if (minutes_late > kMaxMinutesLate) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "minutes_late: ", minutes_late, " is more than ", kMaxMinutesLate));
  }
  const int year = AcademicYearOf(day);
  if (!school.calendar.HasYear(year)) {
    return absl::FailedPreconditionError(absl::StrCat(prefix, "date: ", date,
                                                      ": the school has no calendar for ",
                                                      YearName(year), " (SetSchoolCalendar)"));
  }
  if (!school.calendar.IsTermDay(day)) {
    return absl::InvalidArgumentError(
        absl::StrCat(prefix, "date: ", date, " is not a school day (",
                     Weekday(day) >= 5 ? kWeekdays[Weekday(day)] : "outside term time", ")"));
  }
  if (code != "#" && school.calendar.IsClosed(day, session, pupil.year_group)) {
    return absl::InvalidArgumentError(absl::StrCat(prefix, "code: \"", code, "\" on ", date,
                                                   ", a planned closure for year group ",
                                                   pupil.year_group, "; record \"#\""));
  }
  if (!pupil.OnRoll(day)) {
    return absl::FailedPreconditionError(
        absl::StrCat(prefix, "date: the pupil is not on roll on ", date));
  }
  return absl::OkStatus();
}

bool IsPlannedCode(absl::string_view code) {
  static constexpr absl::string_view kPlanned[] = {"C", "C1", "C2", "J1", "S", "M", "R", "E",
                                                   "K", "V",  "P",  "W",  "B", "D", "X", "#"};
  for (absl::string_view planned : kPlanned) {
    if (code == planned) return true;
  }
  return false;
}

namespace {

std::string TimeOfDay(int minute) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d:%02d", minute / 60, minute % 60);
  return buf;
}

std::uint32_t PlannedHorizonDays(const v1::SchoolSettings& settings) {
  return settings.planned_codes_horizon_days() == 0 ? kDefaultPlannedCodesHorizonDays
                                                    : settings.planned_codes_horizon_days();
}

}  // namespace

int RegisterOpens(const v1::SchoolSettings& settings, v1::Session session) {
  const std::string& set =
      session == v1::AM ? settings.am_register_opens() : settings.pm_register_opens();
  const char* fallback = session == v1::AM ? kDefaultAmRegisterOpens : kDefaultPmRegisterOpens;
  return ParseTimeOfDay(set).value_or(*ParseTimeOfDay(fallback));
}

absl::Status CheckSessionHasBegun(const v1::SchoolSettings& settings, Day day, v1::Session session,
                                  absl::string_view code, const LocalTime& now,
                                  absl::string_view date_field) {
  const int opens = RegisterOpens(settings, session);
  if (day < now.day || (day == now.day && now.minute_of_day >= opens)) return absl::OkStatus();
  const char* session_name = session == v1::AM ? "AM" : "PM";
  const std::string when = absl::StrCat(FormatDate(day), " ", session_name);
  if (!IsPlannedCode(code)) {
    return absl::FailedPreconditionError(absl::StrCat(
        date_field, ": ", when, " has not begun (its register opens at ", TimeOfDay(opens), " ",
        kSchoolTimeZone, " time; now ", FormatDate(now.day), " ", TimeOfDay(now.minute_of_day),
        "): a register records what happened, so ", Q(code),
        " cannot be entered ahead; only planned codes (C C1 C2 J1 S M R E K V P W B D X #) can"));
  }
  const std::uint32_t horizon = PlannedHorizonDays(settings);
  if (day - now.day > static_cast<Day>(horizon)) {
    return absl::FailedPreconditionError(absl::StrCat(
        date_field, ": ", when, " is ", day - now.day, " days ahead of ", FormatDate(now.day),
        "; the planned code ", Q(code), " may be entered at most ", horizon,
        " days ahead (settings.planned_codes_horizon_days)"));
  }
  return absl::OkStatus();
}

absl::Status CheckSettings(const v1::SchoolSettings& settings, absl::string_view field) {
  if (auto s = CheckText(settings.school_name(), absl::StrCat(field, ".school_name"), true);
      !s.ok()) {
    return s;
  }
  for (auto [name, value] : {std::pair{"am_register_opens", &settings.am_register_opens()},
                             std::pair{"am_register_closes", &settings.am_register_closes()},
                             std::pair{"pm_register_opens", &settings.pm_register_opens()},
                             std::pair{"pm_register_closes", &settings.pm_register_closes()}}) {
    if (!value->empty() && !ParseTimeOfDay(*value)) {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ".", name, ": ", Quoted(*value), " is not a time (HH:MM)"));
    }
  }
  const int am_opens = RegisterOpens(settings, v1::AM);
  const int pm_opens = RegisterOpens(settings, v1::PM);
  if (am_opens >= pm_opens) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".pm_register_opens: ", TimeOfDay(pm_opens),
                     " is not after the AM register opens (", TimeOfDay(am_opens), ")"));
  }
  for (auto [name, value, opens] :
       {std::tuple{"am_register_closes", &settings.am_register_closes(), am_opens},
        std::tuple{"pm_register_closes", &settings.pm_register_closes(), pm_opens}}) {
    if (!value->empty() && *ParseTimeOfDay(*value) <= opens) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".", name, ": ", *value,
                                                     " is not after the register opens (",
                                                     TimeOfDay(opens), ")"));
    }
  }
  if (settings.planned_codes_horizon_days() > kMaxPlannedCodesHorizonDays) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".planned_codes_horizon_days: ", settings.planned_codes_horizon_days(),
                     " is more than ", kMaxPlannedCodesHorizonDays));
  }
  if (settings.retention_years() != 0 && settings.retention_years() < 3) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".retention_years: ", settings.retention_years(), " is below the 3-year minimum"));
  }
  if (settings.n_code_deadline_school_days() > 30) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".n_code_deadline_school_days: ", settings.n_code_deadline_school_days(),
        " is more than 30"));
  }
  if (settings.min_possible_sessions() > 400) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".min_possible_sessions: ", settings.min_possible_sessions(),
                     " is more than a year's 380 sessions"));
  }
  if (settings.rolling_window_weeks_size() > 8) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ".rolling_window_weeks: ", settings.rolling_window_weeks_size(),
                     " windows is more than 8"));
  }
  for (int i = 0; i < settings.rolling_window_weeks_size(); ++i) {
    const auto weeks = settings.rolling_window_weeks(i);
    if (weeks < 1 || weeks > 52) {
      return absl::InvalidArgumentError(absl::StrCat(field, ".rolling_window_weeks[", i,
                                                     "]: ", weeks, " is not between 1 and 52"));
    }
    for (int j = 0; j < i; ++j) {
      if (settings.rolling_window_weeks(j) == weeks) {
        return absl::InvalidArgumentError(
            absl::StrCat(field, ".rolling_window_weeks[", i, "]: ", weeks, " repeats [", j, "]"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPupilDetails(const v1::Pupil& pupil, absl::string_view field) {
  if (auto s = CheckId(pupil.pupil_id(), absl::StrCat(field, ".pupil_id")); !s.ok()) return s;
  if (auto s =
          CheckText(pupil.given_name(), absl::StrCat(field, ".given_name"), true, kMaxNameLength);
      !s.ok()) {
    return s;
  }
  if (auto s =
          CheckText(pupil.family_name(), absl::StrCat(field, ".family_name"), true, kMaxNameLength);
      !s.ok()) {
    return s;
  }
  if (!pupil.date_of_birth().empty()) {
    if (auto d = CheckDate(pupil.date_of_birth(), absl::StrCat(field, ".date_of_birth")); !d.ok()) {
      return d.status();
    }
  }
  if (pupil.year_group() < -1 || pupil.year_group() > 14) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".year_group: ", pupil.year_group(),
                                                   " is not between -1 (nursery) and 14"));
  }
  if (auto s =
          CheckText(pupil.class_name(), absl::StrCat(field, ".class_name"), false, kMaxNameLength);
      !s.ok()) {
    return s;
  }
  if (auto s = CheckText(pupil.school_reference(), absl::StrCat(field, ".school_reference"), false,
                         kMaxIdLength);
      !s.ok()) {
    return s;
  }
  if (!v1::Sex_IsValid(pupil.sex())) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".sex: ", pupil.sex(), " is unknown"));
  }
  if (!v1::SendStatus_IsValid(pupil.send())) {
    return absl::InvalidArgumentError(absl::StrCat(field, ".send: ", pupil.send(), " is unknown"));
  }
  return CheckCarers(pupil, field);
}

absl::Status CheckCarers(const v1::Pupil& pupil, absl::string_view field) {
  if (pupil.carers_size() > kMaxCarers) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ".carers: ", pupil.carers_size(), " carers is more than the limit of ", kMaxCarers));
  }
  for (int i = 0; i < pupil.carers_size(); ++i) {
    const v1::Carer& carer = pupil.carers(i);
    const std::string prefix = absl::StrCat(field, ".carers[", i, "].");
    if (auto s = CheckId(carer.carer_id(), prefix + "carer_id"); !s.ok()) return s;
    for (int j = 0; j < i; ++j) {
      if (pupil.carers(j).carer_id() == carer.carer_id()) {
        return absl::InvalidArgumentError(
            absl::StrCat(prefix, "carer_id: ", Q(carer.carer_id()), " repeats carers[", j, "]"));
      }
    }
    if (carer.given_name().empty() && carer.family_name().empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, "family_name: a carer needs a given or family name"));
    }
    if (auto s = CheckText(carer.given_name(), prefix + "given_name", false, kMaxNameLength);
        !s.ok()) {
      return s;
    }
    if (auto s = CheckText(carer.family_name(), prefix + "family_name", false, kMaxNameLength);
        !s.ok()) {
      return s;
    }
    if (!v1::CarerRelationship_IsValid(carer.relationship())) {
      return absl::InvalidArgumentError(
          absl::StrCat(prefix, "relationship: ", carer.relationship(), " is unknown"));
    }
  }
  return absl::OkStatus();
}

}  // namespace attendance::ledger
