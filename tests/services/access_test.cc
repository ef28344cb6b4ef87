// The role table, the tokens file and redaction: pure functions, no server.
#include <fstream>

#include <catch2/catch.hpp>

#include "services/access.h"
#include "services/token_store.h"
#include "support/temp_dir.h"

namespace attendance::testing {
namespace {

using services::Action;
using services::Caller;
using services::Role;

Caller Of(Role role, std::vector<std::string> schools, bool all = false) {
  Caller caller;
  caller.name = "someone";
  caller.role = role;
  caller.all_schools = all;
  for (auto& s : schools) caller.schools.insert(s);
  return caller;
}

TEST_CASE("each role may do exactly its actions, for its own schools only", "[access]") {
  const std::vector<Action> all_actions = {
      Action::kRecordMarks,  Action::kAmendMark,   Action::kRecordLetter, Action::kManagePupils,
      Action::kSetCalendar,  Action::kSetSettings, Action::kReadEvents,   Action::kReadProjections,
      Action::kRequestLeave, Action::kDecideLeave};
  struct Row {
    Role role;
    std::vector<Action> allowed;
  };
  const std::vector<Row> table = {
      {Role::kRegister, {Action::kRecordMarks}},
      {Role::kAttendanceOfficer, all_actions},
      {Role::kAuditor, {Action::kReadEvents, Action::kReadProjections}},
      {Role::kReporter, {Action::kReadEvents, Action::kReadProjections}},
  };
  for (const Row& row : table) {
    const Caller caller = Of(row.role, {"own"});
    for (Action action : all_actions) {
      const bool allowed =
          std::find(row.allowed.begin(), row.allowed.end(), action) != row.allowed.end();
      INFO(services::RoleName(row.role) << " action " << static_cast<int>(action));
      CHECK(services::Authorize(caller, action, "own").ok() == allowed);
      const absl::Status other = services::Authorize(caller, action, "other");
      CHECK(other.code() == absl::StatusCode::kPermissionDenied);
      // Without a school filter only an every-school caller may read.
      CHECK(services::Authorize(caller, action, "").code() == absl::StatusCode::kPermissionDenied);
    }
  }
  const Caller admin = Of(Role::kAdmin, {}, /*all=*/true);
  for (Action action : all_actions) {
    CHECK(services::Authorize(admin, action, "any-school").ok());
    CHECK(services::Authorize(admin, action, "").ok());
  }
}

TEST_CASE("a denial names the caller, the role, the action and the school", "[access]") {
  const absl::Status s =
      services::Authorize(Of(Role::kAuditor, {"own"}), Action::kAmendMark, "own");
  CHECK(s.message() == "someone (role auditor) may not amend marks");
  const absl::Status t =
      services::Authorize(Of(Role::kAttendanceOfficer, {"own"}), Action::kAmendMark, "other");
  CHECK(t.message() ==
        "someone (role attendance_officer) may not amend marks for school \"other\"");
}

TEST_CASE("tokens file: hashes only, roles, schools, names; errors name the line", "[access]") {
  const std::string officer = services::TokenStore::HashToken("officer-token");
  const std::string reporter = services::TokenStore::HashToken("reporter-token");
  const std::string admin = services::TokenStore::HashToken("admin-token");
  TempDir dir;
  const std::string path = dir.path() + "/tokens";
  std::ofstream(path) << "# comment\n\n"
                      << officer << "  attendance_officer  s1,s2  Mrs A. Officer\n"
                      << reporter << "\treporter+personal\ts1\tTrust dashboard\n"
                      << admin << " admin * Ops on call\n";
  auto store = services::TokenStore::Load(path);
  REQUIRE(store.ok());
  CHECK((*store)->size() == 3);
  auto found = (*store)->Find("officer-token");
  REQUIRE(found.has_value());
  CHECK(found->name == "Mrs A. Officer");
  CHECK(found->role == Role::kAttendanceOfficer);
  CHECK(found->schools.contains("s2"));
  CHECK_FALSE(found->all_schools);
  CHECK((*store)->Find("reporter-token")->personal_data);
  CHECK((*store)->Find("admin-token")->all_schools);
  CHECK_FALSE((*store)->Find("officer-token ").has_value());
  CHECK_FALSE((*store)->Find(officer).has_value());  // the hash itself is not a token
  CHECK_FALSE((*store)->Find("").has_value());

  // Revoking: the officer's line goes; a reload drops it at once.
  std::ofstream(path) << admin << " admin * Ops on call\n";
  REQUIRE((*store)->Reload().ok());
  CHECK_FALSE((*store)->Find("officer-token").has_value());
  CHECK((*store)->Find("admin-token").has_value());

  // A broken file keeps the table in force and names the line.
  std::ofstream(path) << admin << " admin * Ops\nnot-a-hash admin * X\n";
  const absl::Status bad = (*store)->Reload();
  CHECK(bad.code() == absl::StatusCode::kInvalidArgument);
  CHECK(bad.message() == path + ":2: the first field must be a token's SHA-256 in hex");
  CHECK((*store)->Find("admin-token").has_value());
}

TEST_CASE("tokens file rejects unknown roles, scoped admins and personal grants off reporters",
          "[access]") {
  const std::string h = services::TokenStore::HashToken("t");
  for (const std::string& line :
       {h + " teacher s1 X", h + " admin s1 X", h + " auditor+personal s1 X", h + " auditor s1",
        h + " auditor , X"}) {
    INFO(line);
    CHECK(services::TokenStore::Parse(line, "f").status().code() ==
          absl::StatusCode::kInvalidArgument);
  }
  CHECK(services::TokenStore::Parse(h + " auditor s1 X\n" + h + " admin * Y", "f")
            .status()
            .message() == "f:2: the same token hash appears twice");
}

TEST_CASE("redaction leaves the pupil id, year group and class only", "[access]") {
  v1::EventEnvelope event;
  v1::Pupil* pupil = event.mutable_pupil_enrolled()->mutable_pupil();
  pupil->set_pupil_id("P1");
  pupil->set_given_name("Ann");
  pupil->set_family_name("Smith");
  pupil->set_date_of_birth("2015-01-02");
  pupil->set_year_group(4);
  pupil->set_class_name("4B");
  pupil->set_child_protection_plan(true);
  pupil->set_looked_after(true);
  pupil->set_send(v1::EHC_PLAN);
  services::RedactEvent(event);
  CHECK(event.pupil_enrolled().pupil().pupil_id() == "P1");
  CHECK(event.pupil_enrolled().pupil().year_group() == 4);
  CHECK(event.pupil_enrolled().pupil().class_name() == "4B");
  CHECK(event.pupil_enrolled().pupil().given_name().empty());
  CHECK(event.pupil_enrolled().pupil().date_of_birth().empty());
  CHECK_FALSE(event.pupil_enrolled().pupil().child_protection_plan());
  CHECK_FALSE(event.pupil_enrolled().pupil().looked_after());
  CHECK(event.pupil_enrolled().pupil().send() == v1::SendStatus());
  CHECK(services::SeesPersonalData(Of(Role::kAuditor, {"s"})));
  CHECK_FALSE(services::SeesPersonalData(Of(Role::kReporter, {"s"})));
}

}  // namespace
}  // namespace attendance::testing
