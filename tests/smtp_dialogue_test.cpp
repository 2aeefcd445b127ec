// The SMTP dialogue against replies recorded from aiosmtpd 1.4.3 (Debian's python3-aiosmtpd),
// whole, byte by byte and cut short; STARTTLS; refusals and answers that are not SMTP.
#include <doctest/doctest.h>

#include "probes/probe.hpp"
#include "probes/smtp/smtp_dialogue.hpp"

using namespace fedprobe;

namespace {

const std::string kGreeting = "220 localhost Python SMTP 1.4.3\r\n";
// The EHLO reply came in two segments.
const std::string kEhlo = "250-localhost\r\n250-8BITMIME\r\n250-STARTTLS\r\n250 HELP\r\n";
const std::string kReady = "220 Ready to start TLS\r\n";
const std::string kBye = "221 Bye\r\n";

SmtpParams params(bool starttls) {
    SmtpParams p;
    p.starttls = starttls;
    p.helo = "kent-nhs.fedprobe.invalid";
    return p;
}

// Feeds `answers` in pieces; returns what was sent, whether TLS was asked for, and the verdict.
struct Run {
    std::string sent;
    bool start_tls = false;
    std::optional<AppVerdict> verdict;
};
Run run(SmtpDialogue& d, const std::vector<std::string>& answers, std::size_t piece) {
    Run r;
    r.sent = d.opening();
    for (const std::string& a : answers)
        for (std::size_t i = 0; i < a.size(); i += piece) {
            AppStep s = d.received(a.substr(i, piece));
            r.sent += s.send;
            if (s.start_tls) {
                r.start_tls = true;
                AppStep after = d.tls_ready();
                r.sent += after.send;
            }
            if (s.verdict) {
                r.verdict = s.verdict;
                return r;
            }
        }
    return r;
}

int code_of(const SmtpDialogue& d) {
    ProbeResult r;
    d.fill(r, {});
    return r.as<SmtpKind>()->code;
}

}  // namespace

TEST_CASE("greeting, EHLO, QUIT: ok, whole and byte by byte; no mail is sent") {
    for (std::size_t piece : {std::size_t{4096}, std::size_t{1}, std::size_t{5}}) {
        CAPTURE(piece);
        SmtpDialogue d(params(false));
        auto r = run(d, {kGreeting, kEhlo, kBye}, piece);
        REQUIRE(r.verdict);
        CHECK(r.verdict->outcome == Outcome::ok);
        CHECK(r.sent == "EHLO kent-nhs.fedprobe.invalid\r\nQUIT\r\n");
        CHECK_FALSE(r.start_tls);
        CHECK(code_of(d) == 221);
    }
}

TEST_CASE("STARTTLS: asked for after EHLO offers it, EHLO again over TLS, then QUIT") {
    SmtpDialogue d(params(true));
    REQUIRE(d.tls());
    CHECK_FALSE(d.tls()->from_start);
    auto r = run(d, {kGreeting, kEhlo, kReady, kEhlo, kBye}, 3);
    REQUIRE(r.verdict);
    CHECK(r.verdict->outcome == Outcome::ok);
    CHECK(r.start_tls);
    CHECK(
        r.sent ==
        "EHLO kent-nhs.fedprobe.invalid\r\nSTARTTLS\r\nEHLO kent-nhs.fedprobe.invalid\r\nQUIT\r\n");
}

TEST_CASE("STARTTLS not offered (stripped on the way) or refused is a mismatch") {
    SmtpDialogue stripped(params(true));
    auto r = run(stripped, {kGreeting, "250-localhost\r\n250 HELP\r\n"}, 4096);
    REQUIRE(r.verdict);
    CHECK(r.verdict->outcome == Outcome::mismatch);
    CHECK(r.verdict->detail.find("does not offer STARTTLS") != std::string::npos);

    SmtpDialogue refused(params(true));
    auto r2 = run(refused, {kGreeting, kEhlo, "454 TLS not available\r\n"}, 4096);
    REQUIRE(r2.verdict);
    CHECK(r2.verdict->detail == "STARTTLS answered 454 'TLS not available'");
}

TEST_CASE("a refusing greeting, a refused EHLO and answers that are not SMTP") {
    SmtpDialogue busy(params(false));
    auto r = run(busy, {"554 5.3.2 no service for your network\r\n"}, 4096);
    REQUIRE(r.verdict);
    CHECK(r.verdict->outcome == Outcome::mismatch);
    CHECK(r.verdict->detail == "greeting 554 '5.3.2 no service for your network'");
    CHECK(code_of(busy) == 554);

    SmtpDialogue http(params(false));
    auto r2 = run(http, {"HTTP/1.1 400 Bad Request\r\n"}, 1);
    REQUIRE(r2.verdict);
    CHECK(r2.verdict->detail.find("not SMTP") != std::string::npos);

    SmtpDialogue mixed(params(false));
    auto r3 = run(mixed, {kGreeting, "250-a\r\n550 b\r\n"}, 4096);
    REQUIRE(r3.verdict);
    CHECK(r3.verdict->detail.find("different codes") != std::string::npos);
}

TEST_CASE("closed early, endless lines and oversized replies") {
    SmtpDialogue silent(params(false));
    CHECK(silent.closed().detail.find("without a greeting") != std::string::npos);
    SmtpDialogue quitting(params(false));
    run(quitting, {kGreeting, kEhlo}, 4096);
    CHECK(quitting.closed().outcome == Outcome::ok);  // closed after QUIT without its 221

    SmtpDialogue endless(params(false));
    std::string chunk = "250-" + std::string(4092, 'x');
    std::optional<AppVerdict> v;
    std::size_t fed = 0;
    for (int i = 0; i < 2560 && !v; ++i) {
        v = endless.received(chunk).verdict;
        fed += chunk.size();
        chunk.assign(4096, 'x');
    }
    REQUIRE(v);
    CHECK(fed <= kMaxAnswer + 4096);
}
