// An event as the tables show it, shared by read-events and pupil-timeline.
#pragma once

#include <string>
#include <utility>

#include "attendance/v1/events.pb.h"

namespace attendance::ledgerctl {

// The event's kind ("mark", "amendment", "letter"...) and a one-line summary
// of its payload (line breaks and tabs written \n, \t). In events_commands.cc.
std::pair<std::string, std::string> DescribeEvent(const attendance::v1::EventEnvelope& event);

}  // namespace attendance::ledgerctl
