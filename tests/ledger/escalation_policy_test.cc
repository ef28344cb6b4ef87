// SetEscalationPolicy end to end in the ledger: a shipped policy file is
// accepted as an EscalationPolicySet on the school's stream, retries replay,
// and a policy that contradicts itself or the school writes nothing.
#include <google/protobuf/text_format.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "ledger/ledger.h"
#include "support/fixtures.h"

namespace attendance::testing {
namespace {

v1::SetEscalationPolicyRequest PolicyRequest(const std::string& file,
                                             const std::string& request_id) {
  std::ifstream in(std::filesystem::path(ATTENDANCE_POLICIES_DIR) / file);
  std::stringstream text;
  text << in.rdbuf();
  v1::SetEscalationPolicyRequest request;
  request.set_school_id("s1");
  request.set_request_id(request_id);
  REQUIRE(google::protobuf::TextFormat::ParseFromString(text.str(), request.mutable_policy()));
  return request;
}

constexpr const char* kSeed000 = "000_all_saints_ce_primary_attendance_strategy_2024_25.textproto";

TEST_CASE("SetEscalationPolicy appends an EscalationPolicySet; a retry replays", "[ledger]") {
  LedgerFixture f(1);
  const v1::SetEscalationPolicyRequest request = PolicyRequest(kSeed000, "policy-1");
  auto first = f.ledger->SetEscalationPolicy(kOfficer, request);
  REQUIRE(first.ok());
  CHECK_FALSE(first->replayed());
  CHECK(first->position() == f.ledger->LastPosition());
  auto again = f.ledger->SetEscalationPolicy(kOfficer, request);
  REQUIRE(again.ok());
  CHECK(again->replayed());
  CHECK(again->position() == first->position());
  v1::EventEnvelope stored;
  REQUIRE(f.ledger
              ->ForEachEvent(first->position(),
                             [&](const v1::EventEnvelope& e) {
                               stored = e;
                               return false;
                             })
              .ok());
  CHECK(stored.pupil_id().empty());  // the school's own stream
  CHECK(stored.actor().name() == kOfficer.name);
  REQUIRE(stored.has_escalation_policy_set());
  CHECK(stored.escalation_policy_set().policy().policy_id() == "all-saints-000-strategy-2024-25");
  // The same id with another policy is refused.
  v1::SetEscalationPolicyRequest other = request;
  other.mutable_policy()->set_version("2");
  CHECK(f.ledger->SetEscalationPolicy(kOfficer, other).status().code() ==
        absl::StatusCode::kAlreadyExists);
  f.Reopen();
  auto replayed = f.ledger->SetEscalationPolicy(kOfficer, request);
  REQUIRE(replayed.ok());
  CHECK(replayed->replayed());
}

TEST_CASE("SetEscalationPolicy refuses a contradictory policy and writes nothing", "[ledger]") {
  LedgerFixture f(1);
  const ledger::Position before = f.ledger->LastPosition();
  v1::SetEscalationPolicyRequest overlap = PolicyRequest(kSeed000, "bad-1");
  overlap.mutable_policy()->mutable_band_sets(0)->mutable_bands(1)->set_upper_inclusive(true);
  auto s = f.ledger->SetEscalationPolicy(kOfficer, overlap).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() ==
        "policy.band_sets[0] (\"tiers\").bands[1] (\"tier_3\"): overlaps band \"expect_monitor\"");

  v1::SetEscalationPolicyRequest unknown = PolicyRequest(kSeed000, "bad-2");
  unknown.set_school_id("nowhere");
  CHECK(f.ledger->SetEscalationPolicy(kOfficer, unknown).status().code() ==
        absl::StatusCode::kNotFound);

  // A school whose settings have no 12-week window cannot use Fast Track's.
  v1::SetSchoolSettingsRequest settings = Settings("s1");
  settings.mutable_settings()->add_rolling_window_weeks(10);
  REQUIRE(f.ledger->SetSchoolSettings(kOfficer, settings).ok());
  const ledger::Position after_settings = f.ledger->LastPosition();
  s = f.ledger->SetEscalationPolicy(kOfficer, PolicyRequest(kSeed000, "bad-3")).status();
  CHECK(s.code() == absl::StatusCode::kInvalidArgument);
  CHECK(s.message() ==
        "policy.triggers[0] (\"fast_track_10_in_12\").window.weeks: 12 school weeks is not one "
        "of the school's rolling windows (10)");
  CHECK(f.ledger->LastPosition() == after_settings);
  CHECK(after_settings == before + 1);
  // The national base only needs the 10-week window.
  CHECK(f.ledger
            ->SetEscalationPolicy(kOfficer,
                                  PolicyRequest("national_base_england_2024.textproto", "ok"))
            .ok());
}

}  // namespace
}  // namespace attendance::testing
