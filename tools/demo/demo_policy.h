#pragma once

namespace attendance::demo {

// The escalation policy the demo school runs: seed 000's, All Saints CE
// Primary's Attendance Strategy 2024-25 (policies/000_...textproto, built in
// as protobuf text format), whose letter ids the demo's letters use.
const char* DemoPolicyText();

}  // namespace attendance::demo
