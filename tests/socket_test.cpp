// core/socket.cpp: the error-queue parse, on control data built here as the kernel lays it out
// and on data no kernel would send (a length past the buffer, a cut-off offender).
#include "core/socket.hpp"

#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <sys/socket.h>

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
