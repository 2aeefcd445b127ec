// The LDAP RootDSE read against an exchange recorded with OpenLDAP's slapd 2.5 (Debian's),
// whole, byte by byte and cut short; StartTLS; refusals and answers that are not LDAP.
#include <doctest/doctest.h>

#include "probes/ldap/ldap_ber.hpp"
#include "probes/ldap/ldap_dialogue.hpp"
#include "probes/probe.hpp"

using namespace fedprobe;

namespace {

std::string unhex(std::string_view h) {
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
        out += static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16));
    return out;
}

// slapd's answers to a search with message ID 1: the RootDSE entry and SearchResultDone.
const std::string kEntry = unhex(
    "304e0201016449040030453026040e6e616d696e67436f6e74657874733114041264633d6b656e742d6e6873"
    "2c64633d6c6162301b0414737570706f727465644c44415056657273696f6e3103040133");
const std::string kDone = unhex("300c02010165070a010004000400");
// An ExtendedResponse with success, for StartTLS (message ID 1).
const std::string kStartTlsOk = unhex("300c02010178070a010004000400");

struct Run {
    std::string sent;
    bool start_tls = false;
    std::optional<AppVerdict> verdict;
};
Run run(LdapDialogue& d, const std::vector<std::string>& answers, std::size_t piece) {
    Run r;
    r.sent = d.opening();
    for (const std::string& a : answers)
        for (std::size_t i = 0; i < a.size(); i += piece) {
            AppStep s = d.received(a.substr(i, piece));
            r.sent += s.send;
            if (s.start_tls) {
                r.start_tls = true;
                r.sent += d.tls_ready().send;
            }
            if (s.verdict) {
                r.verdict = s.verdict;
                return r;
            }
        }
    return r;
}

// The same entry and done, renumbered for message ID 2 (after StartTLS).
std::string renumber(std::string m, int id) {
    m[4] = static_cast<char>(id);
    return m;
}

}  // namespace

TEST_CASE("the search sent is the one slapd answered, byte for byte (message ID 2 there)") {
    // what ldapsearch sent (timeLimit 0, "objectclass"), against ours (10 s, "objectClass")
    std::string theirs = unhex(
        "304b020102634604000a01000a0100020100020100010100870b6f626a656374636c6173733026040e6e61"
        "6d696e67436f6e74657874730414737570706f727465644c44415056657273696f6e");
    std::string ours = renumber(ldap_rootdse_search(1), 2);
    REQUIRE(ours.size() == theirs.size());
    ours[ours.find(std::string("\x02\x01\x0a", 3)) + 2] = 0;    // timeLimit 10 -> 0
    ours.replace(ours.find("objectClass"), 11, "objectclass");  // names are case-insensitive
    CHECK(ours == theirs);
    CHECK(ldap_unbind(3) == unhex("30050201034200"));
}

TEST_CASE("the RootDSE read: ok with its naming contexts, whole and byte by byte; then unbind") {
    for (std::size_t piece : {std::size_t{4096}, std::size_t{1}, std::size_t{3}}) {
        CAPTURE(piece);
        LdapDialogue d(LdapParams{});
        auto r = run(d, {kEntry, kDone}, piece);
        REQUIRE(r.verdict);
        CHECK(r.verdict->outcome == Outcome::ok);
        CHECK(r.verdict->detail == "RootDSE read, 1 naming contexts");
        CHECK(r.sent == ldap_rootdse_search(1) + ldap_unbind(2));
        ProbeResult res;
        d.fill(res, {});
        CHECK(res.as<LdapKind>()->result_code == 0);
    }
}

TEST_CASE("StartTLS first, then the search over TLS") {
    LdapParams p;
    p.starttls = true;
    LdapDialogue d(p);
    REQUIRE(d.tls());
    auto r = run(d, {kStartTlsOk, renumber(kEntry, 2), renumber(kDone, 2)}, 2);
    REQUIRE(r.verdict);
    CHECK(r.verdict->outcome == Outcome::ok);
    CHECK(r.start_tls);
    CHECK(r.sent == ldap_starttls_request(1) + ldap_rootdse_search(2) + ldap_unbind(3));
}

TEST_CASE("refusals: StartTLS, the search, no entry; a notice of disconnection") {
    LdapParams p;
    p.starttls = true;
    LdapDialogue tls(p);
    auto r = run(tls, {unhex("300c02010178070a010204000400")}, 4096);  // protocolError
    REQUIRE(r.verdict);
    CHECK(r.verdict->detail == "StartTLS refused: resultCode 2 (protocolError)");

    LdapDialogue denied(LdapParams{});
    // insufficientAccessRights, with a diagnosticMessage
    auto r2 = run(denied, {unhex("3011020101650c0a0132040004056e6f706521")}, 4096);
    REQUIRE(r2.verdict);
    CHECK(r2.verdict->outcome == Outcome::mismatch);
    CHECK(r2.verdict->detail ==
          "the RootDSE read was refused: resultCode 50 (insufficientAccessRights): 'nope!'");

    LdapDialogue empty(LdapParams{});
    auto r3 = run(empty, {kDone}, 4096);
    REQUIRE(r3.verdict);
    CHECK(r3.verdict->detail.find("without the RootDSE") != std::string::npos);

    LdapDialogue notice(LdapParams{});
    auto r4 = run(notice, {unhex("300c02010078070a013404000400")}, 4096);  // id 0, unavailable
    REQUIRE(r4.verdict);
    CHECK(r4.verdict->detail == "the server disconnected: resultCode 52 (unavailable)");
}

TEST_CASE("answers that are not LDAP, malformed, oversized or cut short") {
    LdapDialogue http(LdapParams{});
    auto r = run(http, {"HTTP/1.1 400 Bad Request\r\n"}, 4096);
    REQUIRE(r.verdict);
    CHECK(r.verdict->detail.find("not LDAP") != std::string::npos);

    LdapDialogue indefinite(LdapParams{});
    auto r2 = run(indefinite, {unhex("3080")}, 4096);
    REQUIRE(r2.verdict);
    CHECK(r2.verdict->detail.find("indefinite") != std::string::npos);

    LdapDialogue huge(LdapParams{});
    auto r3 = run(huge, {unhex("3084ffffffff")}, 4096);
    REQUIRE(r3.verdict);
    CHECK(r3.verdict->detail.find("BER element of") != std::string::npos);

    LdapDialogue other(LdapParams{});
    auto r4 = run(other, {renumber(kDone, 9)}, 4096);
    REQUIRE(r4.verdict);
    CHECK(r4.verdict->detail == "an answer to message 9, not this probe's 1");

    LdapDialogue cut(LdapParams{});
    auto r5 = run(cut, {kEntry.substr(0, 30)}, 1);
    CHECK_FALSE(r5.verdict);
    CHECK(cut.closed().detail.find("before the search was done") != std::string::npos);
}
