// The machine's floor for the application checks, beside which fedprobe's own cost is read
// (bench/app_bench.py): the least a client can do for one tcp connect, and for one DICOM
// verification (associate, C-ECHO, release) against the same peers, with blocking sockets in a
// tight loop and no event loop, timers, results or series. Prints CPU-microseconds (user +
// system, getrusage) per iteration.
//
//     app_floor tcp PORT N | app_floor dicom PORT N     (to 127.0.0.1)
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "probes/dicom/dicom_pdu.hpp"

namespace {

double cpu_seconds() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_utime.tv_sec + u.ru_stime.tv_sec + (u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

// Reads one whole PDU; false on a short read or a reset.
bool read_pdu_blocking(int fd, std::string& buf) {
    buf.clear();
    char chunk[4096];
    while (true) {
        fedprobe::Pdu pdu;
        std::string why;
        auto r = fedprobe::read_pdu(buf, pdu, 1 << 20, why);
        if (r == fedprobe::PduRead::whole) return true;
        if (r == fedprobe::PduRead::bad) return false;
        ssize_t n = recv(fd, chunk, sizeof chunk, 0);
        if (n <= 0) return false;
        int on = 1;  // as the probe does: no 40 ms wait for a peer that writes a PDU in two
        setsockopt(fd, IPPROTO_TCP, TCP_QUICKACK, &on, sizeof on);
        buf.append(chunk, static_cast<std::size_t>(n));
    }
}

bool dicom_once(int port, std::uint16_t id) {
    int fd = connect_to(port);
    if (fd < 0) return false;
    std::string buf;
    const std::string rq = fedprobe::associate_rq("ANY-SCP", "FLOOR"), echo = fedprobe::echo_rq(id),
                      rel = fedprobe::release_rq();
    bool ok = send(fd, rq.data(), rq.size(), 0) == static_cast<ssize_t>(rq.size()) &&
              read_pdu_blocking(fd, buf) && buf[0] == 2 &&
              send(fd, echo.data(), echo.size(), 0) == static_cast<ssize_t>(echo.size()) &&
              read_pdu_blocking(fd, buf) &&
              send(fd, rel.data(), rel.size(), 0) == static_cast<ssize_t>(rel.size()) &&
              read_pdu_blocking(fd, buf);
    close(fd);
    return ok;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 4 || (std::strcmp(argv[1], "tcp") != 0 && std::strcmp(argv[1], "dicom") != 0)) {
        std::fprintf(stderr, "usage: app_floor tcp|dicom PORT N\n");
        return 2;
    }
    const bool dicom = std::strcmp(argv[1], "dicom") == 0;
    const int port = std::atoi(argv[2]), n = std::atoi(argv[3]);
    int failed = 0;
    const double c0 = cpu_seconds();
    for (int i = 0; i < n; ++i) {
        if (dicom) {
            failed += !dicom_once(port, static_cast<std::uint16_t>(i + 1));
        } else {
            int fd = connect_to(port);
            failed += fd < 0;
            if (fd >= 0) close(fd);
        }
    }
    const double c1 = cpu_seconds();
    std::printf("%s %d iterations, %d failed, %.1f CPU-us each\n", argv[1], n, failed,
                (c1 - c0) * 1e6 / n);
    return failed ? 1 : 0;
}
