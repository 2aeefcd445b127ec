#include "capture/flow_table.hpp"

#include <doctest/doctest.h>

#include <map>
#include <random>

using namespace fedprobe;

namespace {

HandshakeKey key(std::uint32_t n) {
    HandshakeKey k{};
    k.client[0] = 10;
    k.client[1] = static_cast<std::uint8_t>(n >> 16);
    k.server[0] = 198;
    k.client_port = static_cast<std::uint16_t>(n);
    k.server_port = 443;
    k.family = 2;
    return k;
}

}  // namespace

TEST_CASE("random inserts and erases agree with std::map, up to a full table") {
    FlowTable table(1000);
    std::map<std::uint32_t, FlowTable::Slot> model;
    std::mt19937 rng(7);
    for (int step = 0; step < 200000; ++step) {
        std::uint32_t n = rng() % 3000;
        auto it = model.find(n);
        if (it == model.end()) {
            HandshakeFlow f;
            f.isn = n;
            FlowTable::Slot s = table.insert(key(n), key(n).hash(), f);
            if (model.size() == 1000) {
                CHECK(s == FlowTable::kNone);  // full
                continue;
            }
            REQUIRE(s != FlowTable::kNone);
            model[n] = s;
        } else if (rng() % 2) {
            auto gen = table.generation(it->second);
            table.erase(it->second);
            CHECK(table.generation(it->second) == gen + 1);
            CHECK_FALSE(table.used(it->second));
            model.erase(it);
        }
        if (step % 997 == 0) {
            for (std::uint32_t m = 0; m < 3000; ++m) {
                auto s = table.find(key(m));
                auto want = model.find(m);
                REQUIRE((s == FlowTable::kNone) == (want == model.end()));
                if (s != FlowTable::kNone) {
                    CHECK(s == want->second);
                    CHECK(table.flow(s).isn == m);
                    CHECK(table.key(s) == key(m));
                }
            }
        }
        REQUIRE(table.size() == model.size());
    }
}

TEST_CASE("clear empties the table and moves every used slot's generation on") {
    FlowTable table(4);
    auto s = table.insert(key(1), key(1).hash(), HandshakeFlow{});
    auto gen = table.generation(s);
    table.clear();
    CHECK(table.size() == 0);
    CHECK(table.find(key(1)) == FlowTable::kNone);
    CHECK(table.generation(s) == gen + 1);
    for (std::uint32_t n = 0; n < 4; ++n)
        CHECK(table.insert(key(n), key(n).hash(), HandshakeFlow{}) != FlowTable::kNone);
}
