// The passive analysis run over a capture file (pcap or pcapng) instead of an interface: the
// same frame parser and handshake tracker, with the file's own timestamps. For
// `fedprobe passive --read` and its benchmark. Any thread; one call at a time per result.
#pragma once

#include <string>

#include "capture/handshake_tracker.hpp"
#include "capture/passive_counts.hpp"
#include "capture/passive_labels.hpp"
#include "core/status.hpp"
#include "federation/config.hpp"

namespace fedprobe {

struct OfflineAnalysis {
    PassiveLabels labels;
    PassiveCounts counts;
    // Handshakes the file ended on while they were still within their timeout: not counted.
    std::size_t unfinished = 0;
    // Set when the file could not be read to its end (cut short, corrupt): counts are up to there.
    std::string read_error;
};

// Fails when the file cannot be opened as a capture at all (missing, unreadable, not pcap).
Result<OfflineAnalysis> analyse_capture_file(const std::string& path, const Config& config);

}  // namespace fedprobe
