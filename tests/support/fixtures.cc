#include "support/fixtures.h"

#include <stdexcept>

namespace attendance::testing {

v1::SetSchoolCalendarRequest Calendar2025(const std::string& school_id) {
  v1::SetSchoolCalendarRequest request;
  request.set_school_id(school_id);
  v1::SchoolCalendarSet* calendar = request.mutable_calendar();
  calendar->set_academic_year(2025);
  v1::Term* autumn = calendar->add_terms();
  autumn->set_name("Autumn");
  v1::HalfTerm* a1 = autumn->add_half_terms();
  a1->set_name("Autumn 1");
  a1->set_first_day("2025-09-03");
  a1->set_last_day("2025-10-24");
  v1::HalfTerm* a2 = autumn->add_half_terms();
  a2->set_name("Autumn 2");
  a2->set_first_day("2025-11-03");
  a2->set_last_day("2025-12-19");
  v1::Closure* inset = calendar->add_closures();
  inset->set_date("2025-09-19");
  inset->set_reason("INSET");
  v1::Closure* y7 = calendar->add_closures();
  y7->set_date("2025-10-01");
  y7->set_session(v1::AM);
  y7->add_year_groups(7);
  y7->set_reason("Year 7 not due in");
  return request;
}

v1::SetSchoolSettingsRequest Settings(const std::string& school_id) {
  v1::SetSchoolSettingsRequest request;
  request.set_school_id(school_id);
  request.mutable_settings()->set_school_name("Test School");
  request.mutable_settings()->set_am_register_closes("09:25");
  request.mutable_settings()->set_pm_register_closes("13:10");
  return request;
}

v1::EnrolPupilRequest Enrol(const std::string& school_id, const std::string& pupil_id,
                            const std::string& from, int year_group) {
  v1::EnrolPupilRequest request;
  request.set_school_id(school_id);
  request.set_on_roll_from(from);
  v1::Pupil* pupil = request.mutable_pupil();
  pupil->set_pupil_id(pupil_id);
  pupil->set_given_name("Given " + pupil_id);
  pupil->set_family_name("Family");
  pupil->set_date_of_birth("2014-01-15");
  pupil->set_year_group(year_group);
  pupil->set_class_name("7A");
  pupil->set_sex(v1::FEMALE);
  return request;
}

v1::Mark MakeMark(const std::string& pupil_id, const std::string& date, v1::Session session,
                  const std::string& code) {
  v1::Mark mark;
  mark.set_pupil_id(pupil_id);
  mark.set_date(date);
  mark.set_session(session);
  mark.set_code(code);
  return mark;
}

LedgerFixture::LedgerFixture(int pupils) {
  Reopen();
  auto check = [](const absl::Status& s) {
    if (!s.ok()) throw std::runtime_error(s.ToString());
  };
  check(ledger->SetSchoolSettings(kOfficer, Settings("s1")).status());
  check(ledger->SetSchoolCalendar(kOfficer, Calendar2025("s1")).status());
  for (int i = 1; i <= pupils; ++i) {
    check(ledger->EnrolPupil(kOfficer, Enrol("s1", "p" + std::to_string(i))).status());
  }
}

void LedgerFixture::Reopen() {
  ledger.reset();
  ledger::LedgerOptions options;
  options.data_dir = dir.Sub("db");
  options.clock = ledger::Clock([this] { return now_us.load(); });
  options.hot_from = ledger::AcademicYearStart(2024);
  auto opened = ledger::Ledger::Open(options);
  if (!opened.ok()) throw std::runtime_error(opened.status().ToString());
  ledger = std::move(*opened);
}

}  // namespace attendance::testing
