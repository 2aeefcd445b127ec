// The MLLP dialogue against recorded acknowledgements (the lab's interface engine), delivered
// whole, byte by byte and cut short; and the answers that are not MLLP or not HL7.
#include <doctest/doctest.h>

#include "probes/mllp/mllp_dialogue.hpp"
#include "probes/mllp/mllp_kind.hpp"
#include "probes/probe.hpp"

using namespace fedprobe;

namespace {

const std::string kId = "FP1a3fbec41dd5bb";
// Recorded from lab/listeners.py on port 2576 (AR) with tcpdump.
const std::string kAr = "\x0bMSH|^~\\&|||FEDPROBE|kent-nhs|20261206050135||ACK|ACK" + kId +
                        "|T|2.5.1\rMSA|AR|" + kId +
                        "|message rejected by the lab's interface engine\r\x1c\r";
std::string ack(const std::string& code, const std::string& id = kId) {
    return "\x0bMSH|^~\\&|ENGINE|TRUST|FEDPROBE|kent-nhs|20261206||ACK|A1|T|2.5.1\rMSA|" + code +
           "|" + id + "\r\x1c\r";
}

MllpDialogue dialogue() {
    return MllpDialogue(hl7_with_control_id(default_hl7_message("kent-nhs"), kId, "20261206"), kId,
                        {});
}

AppVerdict whole(const std::string& answer) {
    auto d = dialogue();
    AppStep s = d.received(answer);
    REQUIRE(s.verdict);
    return *s.verdict;
}

AppVerdict byte_by_byte(const std::string& answer) {
    auto d = dialogue();
    for (std::size_t i = 0; i < answer.size(); ++i) {
        AppStep s = d.received(answer.substr(i, 1));
        if (s.verdict) {
            CHECK(i == answer.size() - 1);  // judged on the last byte, not before
            return *s.verdict;
        }
    }
    FAIL("no verdict");
    return {};
}

std::string ack_label(const MllpDialogue& d) {
    ProbeResult r;
    d.fill(r, {});
    return r.as<MllpKind>()->ack;
}

}  // namespace

TEST_CASE("the message sent: framed, MSH-10 the control ID, processing ID T, one segment") {
    auto d = dialogue();
    std::string frame = d.opening();
    CHECK(frame.front() == '\x0b');
    CHECK(frame.substr(frame.size() - 2) == "\x1c\r");
    CHECK(frame == "\x0bMSH|^~\\&|FEDPROBE|kent-nhs|||20261206||NMD^N02^NMD_N02|" + kId +
                       "|T|2.5.1\r\x1c\r");
    // A message of the user's, with newlines: segments end in \r, its MSH-10 is replaced.
    std::string own =
        hl7_with_control_id("MSH|^~\\&|A|B|C|D|x||ADT^A01|OLD|P|2.3\nEVN|A01\n", "NEW", "T0");
    CHECK(own == "MSH|^~\\&|A|B|C|D|T0||ADT^A01|NEW|P|2.3\rEVN|A01\r");
    // A short MSH grows to hold MSH-10.
    CHECK(hl7_with_control_id("MSH|^~\\&", "ID", "T0") == "MSH|^~\\&|||||T0|||ID|\r");
    // Separators in a site's name cannot break the MSH.
    CHECK(default_hl7_message("a|b^c").find("|a-b-c|") != std::string::npos);
}

TEST_CASE("AA and CA are ok; AR, AE, CR are mismatches with the code and the text") {
    CHECK(whole(ack("AA")).outcome == Outcome::ok);
    CHECK(whole(ack("CA")).outcome == Outcome::ok);
    for (std::string code : {"AR", "AE", "CR", "CE"}) {
        CAPTURE(code);
        auto v = whole(ack(code));
        CHECK(v.outcome == Outcome::mismatch);
        CHECK(v.detail.find(code) != std::string::npos);
    }
    auto rec = whole(kAr);
    CHECK(rec.outcome == Outcome::mismatch);
    CHECK(rec.detail == "acknowledged 'AR': 'message rejected by the lab's interface engine'");
    auto d = dialogue();
    d.received(kAr);
    CHECK(ack_label(d) == "AR");
}

TEST_CASE("mllp.accept decides what is ok") {
    MllpDialogue d("MSH|^~\\&\r", kId, {"AA", "AE"});
    CHECK(d.received(ack("AE")).verdict->outcome == Outcome::ok);
    MllpDialogue strict("MSH|^~\\&\r", kId, {"AA"});
    CHECK(strict.received(ack("CA")).verdict->outcome == Outcome::mismatch);
}

TEST_CASE("byte by byte gives the same verdict on the last byte") {
    CHECK(byte_by_byte(ack("AA")).outcome == Outcome::ok);
    CHECK(byte_by_byte(kAr).outcome == Outcome::mismatch);
}

TEST_CASE("an acknowledgement of another message is a mismatch") {
    auto v = whole(ack("AA", "SOMEONE-ELSES"));
    CHECK(v.outcome == Outcome::mismatch);
    CHECK(v.detail.find("control ID 'SOMEONE-ELSES'") != std::string::npos);
}

TEST_CASE("answers that are not MLLP or not HL7") {
    auto http = whole("HTTP/1.1 400 Bad Request\r\n\r\n");
    CHECK(http.outcome == Outcome::mismatch);
    CHECK(http.detail.find("not MLLP") != std::string::npos);
    auto not_hl7 = whole("\x0bhello\x1c\r");
    CHECK(not_hl7.outcome == Outcome::mismatch);
    CHECK(not_hl7.detail.find("not HL7") != std::string::npos);
    auto no_msa = whole("\x0bMSH|^~\\&|A|B\rEVN|A01\r\x1c\r");
    CHECK(no_msa.detail.find("without an MSA") != std::string::npos);
    auto d = dialogue();
    d.received(ack("ZZ"));
    CHECK(ack_label(d) == "other");  // a bounded label whatever the peer sends
}

TEST_CASE("truncated, endless and oversized answers cost a bounded buffer") {
    auto d = dialogue();
    CHECK_FALSE(d.received(ack("AA").substr(0, 20)).verdict);
    auto closed = d.closed();
    CHECK(closed.outcome == Outcome::mismatch);
    CHECK(closed.detail.find("inside the acknowledgement's frame, after 20 bytes") !=
          std::string::npos);
    CHECK(dialogue().closed().detail.find("without an acknowledgement") != std::string::npos);

    auto endless = dialogue();
    std::string chunk(4096, 'x');
    chunk[0] = '\x0b';
    std::optional<AppVerdict> v;
    std::size_t fed = 0;
    for (int i = 0; i < 2560 && !v; ++i) {  // 10 MB offered
        v = endless.received(chunk).verdict;
        fed += chunk.size();
        chunk[0] = 'x';
    }
    REQUIRE(v);
    CHECK(fed <= kMaxAnswer + 4096);
    CHECK(v->detail.find("no end of the MLLP frame") != std::string::npos);
}
