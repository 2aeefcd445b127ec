// A service of the federation ([services]): a transport and a port that crosses boundaries.
// Plain values; any thread.
#pragma once

#include <cstdint>
#include <string>

namespace fedprobe {

enum class Transport { tcp, udp };

struct Service {
    std::string name;
    Transport transport = Transport::tcp;
    std::uint16_t port = 0;
    // The kind that verifies the policy's flows of this service at the application layer
    // ("mllp", "dicom"); empty: the transport's own (tcp or udp).
    std::string check;
};

}  // namespace fedprobe
