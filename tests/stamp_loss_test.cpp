// The loss arithmetic of a stateful reflector's counts: forward and backward apart, packets
// after the last reply left unattributed, reordering, and a reflector that restarts.
#include "probes/stamp/stamp_loss.hpp"

#include <doctest/doctest.h>

using namespace fedprobe;

TEST_CASE("no loss: every reply's counts agree") {
    StampLoss l;
    for (std::uint32_t s = 0; s < 10; ++s)
        l.reply(s, s);
    CHECK(l.forward_lost() == 0);
    CHECK(l.backward_lost() == 0);
    CHECK(l.replies() == 10);
}

TEST_CASE("forward loss: the reflector's count falls behind ours") {
    StampLoss l;
    // 0..9 sent; 3 and 7 never arrived: the reflector numbered 8 packets.
    std::uint32_t r = 0;
    for (std::uint32_t s = 0; s < 10; ++s)
        if (s != 3 && s != 7) l.reply(s, r++);
    CHECK(l.forward_lost() == 2);
    CHECK(l.backward_lost() == 0);
}

TEST_CASE("backward loss: the reflector answered, the answer did not come back") {
    StampLoss l;
    for (std::uint32_t s = 0; s < 10; ++s)
        if (s != 4) l.reply(s, s);  // reply 4 lost on the way back
    CHECK(l.forward_lost() == 0);
    CHECK(l.backward_lost() == 1);
}

TEST_CASE("both ways at once, and a packet after the last reply is not yet attributed") {
    StampLoss l;
    // sent 0..11. 2 lost forward; reply to 5 lost backward; 10 and 11 unanswered so far.
    l.reply(0, 0);
    l.reply(1, 1);
    l.reply(3, 2);
    l.reply(4, 3);
    l.reply(6, 5);
    l.reply(7, 6);
    l.reply(8, 7);
    l.reply(9, 8);
    CHECK(l.forward_lost() == 1);
    CHECK(l.backward_lost() == 1);
    l.reply(12, 9);  // 10 and 11 went missing on the way there
    CHECK(l.forward_lost() == 3);
    CHECK(l.backward_lost() == 1);
}

TEST_CASE("a reordered reply is not loss") {
    StampLoss l;
    l.reply(0, 0);
    l.reply(2, 2);
    CHECK(l.backward_lost() == 1);
    l.reply(1, 1);  // it was only late
    CHECK(l.backward_lost() == 0);
    CHECK(l.forward_lost() == 0);
}

TEST_CASE("a reflector that restarts its count starts a new baseline and keeps the old losses") {
    StampLoss l;
    l.reply(0, 0);
    l.reply(2, 1);  // one lost forward
    CHECK(l.forward_lost() == 1);
    l.reply(3, 0);  // restarted: its count begins again
    CHECK(l.forward_lost() == 1);
    l.reply(4, 1);
    l.reply(6, 2);  // 5 lost forward after the restart
    CHECK(l.forward_lost() == 2);
    CHECK(l.backward_lost() == 0);
}
