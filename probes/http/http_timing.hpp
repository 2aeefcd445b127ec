// libcurl reports cumulative times from the start of a transfer; dashboards want the time spent
// in each phase. Pure arithmetic, so it is unit-tested against libcurl's documented order.
#pragma once

#include <cstdint>

#include "probes/http/http_kind.hpp"

namespace fedprobe {

// CURLINFO_*_TIME_T values in microseconds; 0 for a point the transfer never reached.
struct CurlTimes {
    std::int64_t namelookup = 0;
    std::int64_t connect = 0;
    std::int64_t appconnect = 0;  // TLS handshake done; 0 for plain http
    std::int64_t pretransfer = 0;
    std::int64_t starttransfer = 0;  // first response byte
    std::int64_t total = 0;
};

// resolve = namelookup; connect = connect - namelookup; tls = appconnect - connect;
// processing = starttransfer - pretransfer (request sent to first byte);
// transfer = total - starttransfer. A phase whose end was not reached is 0.
HttpPhases http_phases(const CurlTimes& t);

}  // namespace fedprobe
