// The DICOM verification dialogue against an exchange recorded with DCMTK's storescp 3.6.7:
// whole, byte by byte and cut short; rejections, aborts and answers that are not DICOM.
#include <doctest/doctest.h>

#include "probes/dicom/dicom_dialogue.hpp"
#include "probes/dicom/dicom_pdu.hpp"
#include "probes/probe.hpp"

using namespace fedprobe;

namespace {

std::string unhex(std::string_view h) {
    std::string out;
    for (std::size_t i = 0; i + 1 < h.size(); i += 2)
        out += static_cast<char>(std::stoi(std::string(h.substr(i, 2)), nullptr, 16));
    return out;
}

// storescp's answers to fedprobe's A-ASSOCIATE-RQ (called ANY-SCP, calling KENT-NHS), its
// C-ECHO-RQ (message ID 1; the P-DATA came in two writes) and its A-RELEASE-RQ.
const std::string kAc = unhex(
    "0200000000b800010000414e592d5343502020202020202020204b454e542d4e48532020202020202020000000"
    "000000000000000000000000000000000000000000000000000000000010000015312e322e3834302e31303030"
    "382e332e312e312e31210000190100000040000011312e322e3834302e31303030382e312e3250000"
    "03a51000004000040005200001b312e322e3237362e302e373233303031302e332e302e332e362e3755000"
    "00f4f464649535f44434d544b5f333637");
const std::string kEchoRsp = unhex(
    "0400000000540000005001030000000004000000420000000000020012000000312e322e3834302e31303030"
    "382e312e310000000001020000003080000020010200000001000000000802000000010100000009020000"
    "000000");
const std::string kReleaseRp = unhex("06000000000400000000");
// What storescp was sent, recorded beside them.
const std::string kRqSent = unhex(
    "0100000000d600010000414e592d5343502020202020202020204b454e542d4e48532020202020202020000000"
    "000000000000000000000000000000000000000000000000000000000010000015312e322e3834302e31303030"
    "382e332e312e312e312000002e0100000030000011312e322e3834302e31303030382e312e314000001131"
    "2e322e3834302e31303030382e312e325000004351000004000040005200002b322e32352e3139393438373935"
    "3432323338373231353330393431313438383631363037343139343932335500000846454450524f4245");
const std::string kEchoSent = unhex(
    "04000000004a0000004601030000000004000000380000000000020012000000312e322e3834302e31303030"
    "382e312e3100000000010200000030000000100102000000010000000008020000000101");

DicomDialogue dialogue() {
    return DicomDialogue("ANY-SCP", "KENT-NHS", 1);
}

// Feeds `answers` in pieces of `piece` bytes; returns what was sent and the verdict.
std::pair<std::string, std::optional<AppVerdict>> run(DicomDialogue& d,
                                                      const std::vector<std::string>& answers,
                                                      std::size_t piece) {
    std::string sent = d.opening();
    for (const std::string& a : answers)
        for (std::size_t i = 0; i < a.size(); i += piece) {
            AppStep s = d.received(a.substr(i, piece));
            sent += s.send;
            if (s.verdict) return {sent, s.verdict};
        }
    return {sent, std::nullopt};
}

}  // namespace

TEST_CASE("what fedprobe sends is what storescp accepted, byte for byte") {
    CHECK(associate_rq("ANY-SCP", "KENT-NHS") == kRqSent);
    CHECK(echo_rq(1) == kEchoSent);
    CHECK(release_rq() == unhex("05000000000400000000"));
}

TEST_CASE("associate, echo, release: ok, whole and byte by byte") {
    for (std::size_t piece : {std::size_t{100000}, std::size_t{1}, std::size_t{7}}) {
        CAPTURE(piece);
        auto d = dialogue();
        auto [sent, v] = run(d, {kAc, kEchoRsp, kReleaseRp}, piece);
        REQUIRE(v);
        CHECK(v->outcome == Outcome::ok);
        CHECK(sent == kRqSent + kEchoSent + release_rq());
        ProbeResult r;
        d.fill(r, {});
        CHECK(r.as<DicomKind>()->echo_status == 0);
        CHECK(r.as<DicomKind>()->reject_result.empty());
    }
}

TEST_CASE("an echo that succeeded stays ok when the release goes unanswered") {
    auto d = dialogue();
    auto [sent, v] = run(d, {kAc, kEchoRsp}, 100000);
    CHECK_FALSE(v);
    REQUIRE(d.timed_out());
    CHECK(d.timed_out()->outcome == Outcome::ok);
    CHECK(d.closed().outcome == Outcome::ok);
}

TEST_CASE("A-ASSOCIATE-RJ: a mismatch with its result, source and reason as labels") {
    auto d = dialogue();
    auto [sent, v] = run(d, {unhex("03000000000400010107")}, 100000);
    REQUIRE(v);
    CHECK(v->outcome == Outcome::mismatch);
    CHECK(v->detail.find("permanent, by the service_user, called_ae_not_recognized") !=
          std::string::npos);
    ProbeResult r;
    d.fill(r, {});
    const DicomResult* res = r.as<DicomKind>();
    CHECK(res->reject_result == "permanent");
    CHECK(res->reject_source == "service_user");
    CHECK(res->reject_reason == "called_ae_not_recognized");
    CHECK(reject_reason_label(1, 3) == "calling_ae_not_recognized");
    CHECK(reject_reason_label(3, 1) == "temporary_congestion");
    CHECK(reject_reason_label(9, 200) == "other");
    CHECK(reject_result_label(77) == "other");
}

TEST_CASE("the Verification context refused, an abort, a failed echo status") {
    std::string refused = kAc;
    // the presentation context item's result byte: 0x21, 0, len(2), id, 0, RESULT
    refused[refused.find(std::string("\x21\x00\x00\x19\x01\x00", 6)) + 6] = 3;
    auto d = dialogue();
    auto [sent, v] = run(d, {refused, kReleaseRp}, 100000);
    REQUIRE(v);
    CHECK(v->outcome == Outcome::mismatch);
    CHECK(v->detail.find("not accepted (presentation context result 3)") != std::string::npos);
    CHECK(sent == kRqSent + release_rq());  // released politely, no echo sent

    auto a = dialogue();
    auto [s2, aborted] = run(a, {kAc, unhex("07000000000400000202")}, 100000);
    REQUIRE(aborted);
    CHECK(aborted->detail.find("aborted (A-ABORT) by the service provider, reason 2") !=
          std::string::npos);

    std::string failed = kEchoRsp;
    failed[failed.size() - 2] = '\x12';  // status 0x0112: SOP class not supported
    failed[failed.size() - 1] = '\x01';
    auto f = dialogue();
    auto [s3, status] = run(f, {kAc, failed, kReleaseRp}, 100000);
    REQUIRE(status);
    CHECK(status->outcome == Outcome::mismatch);
    CHECK(status->detail == "C-ECHO status 0x0112");
}

TEST_CASE("answers that are not DICOM, too long, or cut short") {
    auto http = dialogue();
    auto [s1, v1] = run(http, {"HTTP/1.1 400 Bad Request\r\n"}, 100000);
    REQUIRE(v1);
    CHECK(v1->detail.find("not DICOM") != std::string::npos);

    auto huge = dialogue();
    auto [s2, v2] = run(huge, {unhex("02000fffffff")}, 100000);  // a 268 MB PDU announced
    REQUIRE(v2);
    CHECK(v2->detail.find("beyond the") != std::string::npos);

    auto cut = dialogue();
    auto [s3, v3] = run(cut, {kAc.substr(0, 40)}, 1);
    CHECK_FALSE(v3);
    CHECK(cut.closed().detail.find("inside a PDU") != std::string::npos);
    CHECK_FALSE(cut.timed_out());  // the driver judges the silence

    auto noecho = dialogue();
    run(noecho, {kAc}, 100000);
    CHECK(noecho.closed().detail.find("before the C-ECHO-RSP") != std::string::npos);

    // A P-DATA whose PDV length runs past the PDU.
    auto bad = dialogue();
    auto [s4, v4] = run(bad, {kAc, unhex("04000000000a000000ff010300000000")}, 100000);
    REQUIRE(v4);
    CHECK(v4->detail.find("does not fit") != std::string::npos);
}

TEST_CASE("AE titles") {
    CHECK(valid_ae_title("ANY-SCP"));
    CHECK_FALSE(valid_ae_title(""));
    CHECK_FALSE(valid_ae_title("                "));
    CHECK_FALSE(valid_ae_title("SEVENTEEN-CHARS-X"));
    CHECK_FALSE(valid_ae_title("A\\B"));
    CHECK(dicom_default_calling_ae("kent-nhs") == "KENT-NHS");
    CHECK(dicom_default_calling_ae("a.very.long.site.name") == "A-VERY-LONG-SITE");
}
