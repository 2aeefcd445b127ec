// What an application check's peer can send: the bytes through the MLLP, DICOM, SMTP and LDAP
// dialogues in pieces of any size, and through the reset watcher's packet readers. The first
// byte picks the parser (bits 0-2) and the piece size (the rest). A dialogue never keeps more than
// its bound, and once it has a verdict it is not fed again.
#include <algorithm>
#include <cstdlib>
#include <span>
#include <string_view>

#include "fuzz/fuzz_target.hpp"
#include "probes/app/reset_watcher.hpp"
#include "probes/dicom/dicom_dialogue.hpp"
#include "probes/ldap/ldap_ber.hpp"
#include "probes/ldap/ldap_dialogue.hpp"
#include "probes/mllp/mllp_dialogue.hpp"
#include "probes/probe.hpp"
#include "probes/smtp/smtp_dialogue.hpp"

using namespace fedprobe;

namespace {

void feed(Dialogue& d, std::string_view bytes, std::size_t piece) {
    d.opening();
    std::size_t sent = 0;
    for (std::size_t at = 0; at < bytes.size(); at += piece) {
        AppStep s = d.received(bytes.substr(at, piece));
        sent += s.send.size();
        if (sent > 4 * kMaxAnswer) std::abort();  // a peer must not make the probe chatter
        if (s.start_tls) sent += d.tls_ready().send.size();  // as if the handshake passed
        if (s.verdict) break;
    }
    d.closed();
    d.timed_out();
    ProbeResult r;
    d.fill(r, {});
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 1) return 0;
    const int mode = data[0] & 7;
    const std::size_t piece = std::max<std::size_t>(1, data[0] >> 3);
    std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
    if (mode == 0) {
        MllpDialogue d(hl7_with_control_id(default_hl7_message("fuzz"), "FP1", "20260101"), "FP1",
                       {});
        feed(d, bytes, piece);
        std::string why;
        parse_hl7_ack(bytes, why);
    } else if (mode == 1) {
        DicomDialogue d("ANY-SCP", "FUZZ", 1);
        feed(d, bytes, piece);
    } else if (mode == 2) {
        parse_seen_v4({data + 1, size - 1});
    } else if (mode == 3) {
        parse_seen_v6({data + 1, size - 1}, *IpAddress::parse("2001:db8::1"), 64);
    } else if (mode == 4 || mode == 6) {
        SmtpParams p;
        p.starttls = mode == 6;
        p.helo = "fuzz.invalid";
        SmtpDialogue d(p);
        feed(d, bytes, piece);
    } else {
        LdapParams p;
        p.starttls = mode == 7;
        LdapDialogue d(p);
        feed(d, bytes, piece);
        std::string why;
        parse_ldap_message(bytes, why);
    }
    return 0;
}
