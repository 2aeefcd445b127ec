#include <doctest/doctest.h>

#include <vector>

#include "probes/icmp/echo_matcher.hpp"

using namespace fedprobe;
using V = EchoMatcher::Verdict;

namespace {

IcmpMessage reply(std::uint32_t key, std::uint32_t nonce) {
    IcmpMessage m;
    m.kind = IcmpMessage::Kind::echo_reply;
    m.id = static_cast<std::uint16_t>(key);  // raw: the identifier changes with every request
    m.seq = static_cast<std::uint16_t>(key >> 16);
    m.has_token = true;
    m.key = key;
    m.nonce = nonce;
    return m;
}

}  // namespace

TEST_CASE("a reply to a waiting request matches, with its round and send time") {
    EchoMatcher em;
    em.seed(0x00010000);
    auto key = em.add(7, 0xabc, 12345, nullptr);
    auto found = em.find(reply(key, 0xabc));
    CHECK(found.verdict == V::pending);
    CHECK(found.round == 7);
    CHECK(found.sent_ns == 12345);
}

TEST_CASE("a request's send time is the one it went at, after its wait in a send queue") {
    EchoMatcher em;
    auto key = em.add(7, 0xabc, 1000, nullptr);  // queued
    em.sent_at(key, 5000);                       // sent
    CHECK(em.find(reply(key, 0xabc)).sent_ns == 5000);
    em.answered(key);
    em.sent_at(key, 9000);  // only a waiting request's time moves
    CHECK(em.find(reply(key, 0xabc)).sent_ns == 5000);
    em.sent_at(key + 1, 9000);  // nor another key's
    CHECK(em.find(reply(key, 0xabc)).sent_ns == 5000);
}

TEST_CASE("wrong id, wrong sequence, wrong nonce: unmatched") {
    EchoMatcher em;
    auto key = em.add(1, 99, 0, nullptr);
    auto m = reply(key, 99);
    m.id ^= 1;
    CHECK(em.find(m).verdict == V::unmatched);
    m = reply(key, 99);
    m.seq ^= 1;
    CHECK(em.find(m).verdict == V::unmatched);
    CHECK(em.find(reply(key, 98)).verdict == V::unmatched);    // a token from another round
    CHECK(em.find(reply(key + 1, 99)).verdict == V::foreign);  // never issued: not our reply
}

TEST_CASE("ping sockets: the kernel owns the id, the sequence must still agree") {
    EchoMatcher em(false);
    auto key = em.add(1, 5, 0, nullptr);
    auto m = reply(key, 5);
    m.id = 0x4242;  // the kernel's id, not ours
    CHECK(em.find(m).verdict == V::pending);
    m.seq ^= 1;
    CHECK(em.find(m).verdict == V::unmatched);
}

TEST_CASE("duplicates and late replies are told apart from answers") {
    EchoMatcher em;
    auto a = em.add(3, 1, 0, nullptr);
    auto b = em.add(3, 1, 0, nullptr);
    em.answered(a);
    CHECK(em.find(reply(a, 1)).verdict == V::duplicate);
    em.expire(a, 3);
    em.expire(b, 3);
    CHECK(em.find(reply(b, 1)).verdict == V::late);
    CHECK(em.find(reply(a, 1)).verdict == V::late);
}

TEST_CASE("someone else's ping is foreign, not unmatched") {
    EchoMatcher em;
    em.add(1, 1, 0, nullptr);
    IcmpMessage m;
    m.kind = IcmpMessage::Kind::echo_reply;
    m.has_token = false;
    CHECK(em.find(m).verdict == V::foreign);
    m.kind = IcmpMessage::Kind::echo_request;  // our own request looped back
    m.has_token = true;
    CHECK(em.find(m).verdict == V::foreign);
}

TEST_CASE("another fedprobe's reply (a key this one never issued) is foreign, not unmatched") {
    // Two probers on one host, as `fedprobe check` beside the daemon: raw sockets see both's.
    EchoMatcher ours, theirs;
    ours.seed(1'000'000);
    theirs.seed(3'000'000'000u);
    std::vector<std::uint32_t> our_keys, their_keys;
    for (int i = 0; i < 100; ++i) {
        our_keys.push_back(ours.add(1, 7, 0, nullptr));
        their_keys.push_back(theirs.add(1, 9, 0, nullptr));
    }
    for (std::uint32_t k : their_keys)
        CHECK(ours.find(reply(k, 9)).verdict == V::foreign);
    CHECK(ours.find(reply(our_keys.back() + 1, 7)).verdict == V::foreign);  // not issued yet
    // One of ours with the wrong nonce is still unmatched.
    CHECK(ours.find(reply(our_keys[5], 9)).verdict == V::unmatched);
    CHECK(ours.find(reply(our_keys[5], 7)).verdict == V::pending);
}

TEST_CASE("an error quoting only id and sequence still finds its request (raw ids)") {
    EchoMatcher em;
    em.seed(0x12345678);
    auto key = em.add(9, 77, 0, nullptr);
    IcmpMessage err;
    err.kind = IcmpMessage::Kind::error;
    err.id = static_cast<std::uint16_t>(key);
    err.seq = static_cast<std::uint16_t>(key >> 16);
    err.has_token = false;
    auto found = em.find(err);
    CHECK(found.verdict == V::pending);
    CHECK(found.round == 9);
}

TEST_CASE("a failed send is forgotten; a wrapped ring reports whom it evicted") {
    EchoMatcher em;
    auto key = em.add(1, 1, 0, nullptr);
    em.forget(key);
    CHECK(em.find(reply(key, 1)).verdict == V::unmatched);

    EchoMatcher full;
    std::int64_t evicted = -2;
    full.add(42, 1, 0, &evicted);
    CHECK(evicted == -1);
    for (std::uint32_t i = 1; i < (1u << EchoMatcher::kMaxRingBits); ++i)
        full.add(1, 1, 0, nullptr);
    CHECK(full.capacity() == (1u << EchoMatcher::kMaxRingBits));
    full.add(2, 1, 0, &evicted);  // lands on round 42's slot, still waiting
    CHECK(evicted == 42);
}

TEST_CASE("the ring grows while requests wait, and they all still match after it grew") {
    EchoMatcher em;
    std::vector<std::uint32_t> keys;
    const std::size_t n = 3 * (std::size_t{1} << EchoMatcher::kMinRingBits) + 5;
    for (std::size_t i = 0; i < n; ++i) {
        std::int64_t evicted = -2;
        keys.push_back(em.add(7, 9, static_cast<std::int64_t>(i), &evicted));
        REQUIRE(evicted == -1);
    }
    CHECK(em.capacity() == 4 * (std::size_t{1} << EchoMatcher::kMinRingBits));
    for (auto k : keys) {
        auto found = em.find(reply(k, 9));
        REQUIRE(found.verdict == V::pending);
        CHECK(found.round == 7);
    }
    em.answered(keys.front());
    em.expire(keys.back(), 7);
    CHECK(em.find(reply(keys.front(), 9)).verdict == V::duplicate);
    CHECK(em.find(reply(keys.back(), 9)).verdict == V::late);
}

TEST_CASE("the ring stays small at a steady rate: old answered requests make room") {
    EchoMatcher em;
    const std::int64_t gap = EchoMatcher::kRememberNs / 100;  // 100 requests per memory span
    for (std::int64_t i = 0; i < 100'000; ++i) {
        auto k = em.add(1, 1, i * gap, nullptr);
        em.answered(k);
    }
    CHECK(em.capacity() == (std::size_t{1} << EchoMatcher::kMinRingBits));
    // Within the memory span a reply to an answered request is still a duplicate.
    auto k = em.add(1, 1, 100'000 * gap, nullptr);
    em.answered(k);
    CHECK(em.find(reply(k, 1)).verdict == V::duplicate);
}

TEST_CASE("a request sent less than kRememberNs ago is not overwritten: the ring grows") {
    EchoMatcher em;
    const std::size_t size = std::size_t{1} << EchoMatcher::kMinRingBits;
    auto first = em.add(1, 1, 0, nullptr);
    em.expire(first, 1);
    for (std::size_t i = 1; i < size; ++i)
        em.answered(em.add(1, 1, 1, nullptr));
    em.add(1, 1, EchoMatcher::kRememberNs - 1, nullptr);  // would land on `first`
    CHECK(em.capacity() == 2 * size);
    CHECK(em.find(reply(first, 1)).verdict == V::late);
}
