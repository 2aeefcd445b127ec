// core/socket.cpp: the error-queue parse, on control data built here as the kernel lays it out
// and on data no kernel would send (a length past the buffer, a cut-off offender).
#include "core/socket.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <vector>

using namespace fedprobe;

namespace {

struct Control {
    alignas(cmsghdr) std::uint8_t bytes[256] = {};
    msghdr msg{};
    Control() {
        msg.msg_control = bytes;
        msg.msg_controllen = sizeof bytes;
    }
    // Appends one control message; `len_override` writes a cmsg_len other than the true one.
    cmsghdr* add(int level, int type, const void* data, std::size_t n,
                 std::size_t len_override = 0) {
        cmsghdr* c = used_ == 0 ? CMSG_FIRSTHDR(&msg) : CMSG_NXTHDR(&msg, last_);
        REQUIRE(c != nullptr);
        c->cmsg_level = level;
        c->cmsg_type = type;
        c->cmsg_len = len_override ? len_override : CMSG_LEN(n);
        std::memcpy(CMSG_DATA(c), data, n);
        used_ += CMSG_SPACE(n);
        last_ = c;
        return c;
    }
    void finish() { msg.msg_controllen = used_; }

  private:
    std::size_t used_ = 0;
    cmsghdr* last_ = nullptr;
};

std::vector<std::uint8_t> recverr(std::uint8_t type, std::uint8_t code, const char* offender,
                                  std::size_t offender_bytes = sizeof(sockaddr_in)) {
    sock_extended_err ee{};
    ee.ee_errno = EHOSTUNREACH;
    ee.ee_origin = SO_EE_ORIGIN_ICMP;
    ee.ee_type = type;
    ee.ee_code = code;
    ee.ee_info = 1400;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    inet_pton(AF_INET, offender, &sin.sin_addr);
    std::vector<std::uint8_t> out(sizeof ee + offender_bytes);
    std::memcpy(out.data(), &ee, sizeof ee);
    std::memcpy(out.data() + sizeof ee, &sin, offender_bytes);
    return out;
}

const std::uint8_t kQuote[] = {8, 0, 0, 0, 0x42, 0x42, 0, 7};

}  // namespace

TEST_CASE("an ICMP error with its sender and the quoted packet") {
    Control c;
    auto d = recverr(3, 13, "172.20.1.1");
    c.add(SOL_IP, IP_RECVERR, d.data(), d.size());
    c.finish();
    auto q = parse_error_queue(c.msg, kQuote);
    REQUIRE(q);
    CHECK(q->err == EHOSTUNREACH);
    CHECK(q->from_icmp());
    CHECK_FALSE(q->icmp_v6());
    CHECK(q->type == 3);
    CHECK(q->code == 13);
    CHECK(q->info == 1400);
    REQUIRE(q->offender);
    CHECK(q->offender->str() == "172.20.1.1");
    CHECK(q->quoted == std::vector<std::uint8_t>(std::begin(kQuote), std::end(kQuote)));
}

TEST_CASE("other control messages before the error are skipped") {
    Control c;
    int ttl = 64;
    c.add(SOL_IP, IP_TTL, &ttl, sizeof ttl);
    auto d = recverr(11, 0, "10.0.0.1");
    c.add(SOL_IP, IP_RECVERR, d.data(), d.size());
    c.finish();
    auto q = parse_error_queue(c.msg, kQuote);
    REQUIRE(q);
    CHECK(q->type == 11);
    CHECK(q->offender->str() == "10.0.0.1");
}

TEST_CASE("no error message: nothing") {
    Control c;
    int ttl = 64;
    c.add(SOL_IP, IP_TTL, &ttl, sizeof ttl);
    c.finish();
    CHECK_FALSE(parse_error_queue(c.msg, kQuote));
    msghdr empty{};
    CHECK_FALSE(parse_error_queue(empty, kQuote));
}

TEST_CASE("a cut-off offender address is left out, the error kept") {
    Control c;
    auto d = recverr(3, 1, "10.0.0.1", 6);  // family and port, half an address
    c.add(SOL_IP, IP_RECVERR, d.data(), d.size());
    c.finish();
    auto q = parse_error_queue(c.msg, kQuote);
    REQUIRE(q);
    CHECK(q->code == 1);
    CHECK_FALSE(q->offender);
}

TEST_CASE("lengths that do not fit are refused, never read past") {
    SUBCASE("cmsg_len too short for a sock_extended_err") {
        Control c;
        auto d = recverr(3, 1, "10.0.0.1");
        c.add(SOL_IP, IP_RECVERR, d.data(), d.size(), CMSG_LEN(4));
        c.finish();
        CHECK_FALSE(parse_error_queue(c.msg, kQuote));
    }
    SUBCASE("cmsg_len past the end of the control data") {
        Control c;
        auto d = recverr(3, 1, "10.0.0.1");
        c.add(SOL_IP, IP_RECVERR, d.data(), d.size(), CMSG_LEN(d.size()) + 64);
        c.finish();
        CHECK_FALSE(parse_error_queue(c.msg, kQuote));
    }
}

namespace {

// A UDP socket bound to 127.0.0.1 on a port of the kernel's choosing; its port.
int bound_udp(std::uint16_t& port) {
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
    socklen_t len = sizeof a;
    REQUIRE(getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0);
    port = ntohs(a.sin_port);
    return fd;
}

}  // namespace

TEST_CASE("a sender's queue goes out in batches, each packet reported in order with its errno") {
    std::uint16_t port = 0;
    int rx = bound_udp(port);
    int tx = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    REQUIRE(tx >= 0);
    const IpAddress to = *IpAddress::parse("127.0.0.1");
    PacketSender sender;
    const std::size_t n = 2 * PacketSender::kBatch + 5;  // three sendmmsg calls
    const std::size_t bad = PacketSender::kBatch + 2;    // one in the middle of the second
    for (std::size_t i = 0; i < n; ++i) {
        std::uint8_t payload[2] = {static_cast<std::uint8_t>(i), 0x5a};
        PacketOptions o;
        // A source this host does not own: the kernel refuses that one packet.
        if (i == bad) o.source = IpAddress::parse("192.0.2.55");
        sender.add(to, port, payload, o, 1000 + i);
    }
    CHECK(sender.size() == n);
    std::vector<std::pair<std::uint64_t, int>> reports;
    sender.flush(tx, [&](std::uint64_t tag, int err) {
        reports.emplace_back(tag, err);
        // A report may queue more: they wait for the next flush.
        if (tag == 1000) sender.add(to, port, std::vector<std::uint8_t>{0xff}, {}, 9999);
    });
    REQUIRE(reports.size() == n);
    for (std::size_t i = 0; i < n; ++i) {
        CHECK(reports[i].first == 1000 + i);
        if (i == bad)
            CHECK(reports[i].second != 0);
        else
            CHECK(reports[i].second == 0);
    }
    CHECK(sender.size() == 1);
    // What arrived: every packet but the refused one, in order.
    std::vector<int> got;
    std::uint8_t buf[16];
    while (recv(rx, buf, sizeof buf, 0) == 2)
        got.push_back(buf[0]);
    REQUIRE(got.size() == n - 1);
    for (std::size_t i = 0, j = 0; i < n; ++i)
        if (i != bad) CHECK(got[j++] == static_cast<int>(i));
    close(tx);
    close(rx);
}
