// The alerting and recording rules shipped in alerts/, built into the binary (see
// shipped_rules.cpp.in). Any thread.
#pragma once

namespace fedprobe {

extern const char* const kShippedAlertRules;
extern const char* const kShippedRecordingRules;

}  // namespace fedprobe
