#include "probes/mllp/mllp_dialogue.hpp"

#include <algorithm>
#include <array>

#include "config/diagnostic.hpp"
#include "probes/mllp/mllp_kind.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

namespace {

constexpr char kStart = 0x0b, kEnd = 0x1c, kCr = 0x0d;

std::vector<std::string_view> split(std::string_view s, char sep) {
    std::vector<std::string_view> out;
    std::size_t at = 0;
    while (true) {
        std::size_t next = s.find(sep, at);
        out.push_back(s.substr(at, next == std::string_view::npos ? next : next - at));
        if (next == std::string_view::npos) return out;
        at = next + 1;
    }
}

// Segments, whatever line ends the sender used.
std::vector<std::string_view> segments(std::string_view message) {
    std::vector<std::string_view> out;
    std::size_t at = 0;
    while (at < message.size()) {
        std::size_t end = message.find_first_of("\r\n", at);
        if (end == std::string_view::npos) end = message.size();
        if (end > at) out.push_back(message.substr(at, end - at));
        at = end + 1;
    }
    return out;
}

}  // namespace

std::string default_hl7_message(std::string_view site) {
    std::string facility(site.substr(0, 20));
    std::replace_if(
        facility.begin(), facility.end(),
        [](char c) { return c == '|' || c == '^' || c == '~' || c == '\\' || c == '&'; }, '-');
    return "MSH|^~\\&|FEDPROBE|" + facility + "|||||NMD^N02^NMD_N02||T|2.5.1\r";
}

std::string hl7_with_control_id(std::string_view message, std::string_view control_id,
                                std::string_view timestamp) {
    std::vector<std::string_view> segs = segments(message);
    std::string out;
    for (std::size_t i = 0; i < segs.size(); ++i) {
        std::string seg(segs[i]);
        if (i == 0 && seg.size() >= 4 && seg.compare(0, 3, "MSH") == 0) {
            const char sep = seg[3];
            // MSH-1 is the separator itself, so MSH-n is field n-1 after splitting on it.
            std::vector<std::string_view> f = split(seg, sep);
            std::vector<std::string> fields(f.begin(), f.end());
            if (fields.size() < 11) fields.resize(11);
            fields[6] = std::string(timestamp);
            fields[9] = std::string(control_id);
            seg.clear();
            for (std::size_t k = 0; k < fields.size(); ++k)
                seg += (k ? std::string(1, sep) : "") + fields[k];
        }
        out += seg;
        out += kCr;
    }
    return out;
}

std::string mllp_frame(std::string_view message) {
    std::string out;
    out.reserve(message.size() + 3);
    out += kStart;
    out += message;
    out += kEnd;
    out += kCr;
    return out;
}

std::optional<Hl7Ack> parse_hl7_ack(std::string_view message, std::string& why) {
    std::vector<std::string_view> segs = segments(message);
    if (segs.empty() || segs[0].size() < 8 || segs[0].substr(0, 3) != "MSH") {
        why = "the answer is not HL7: no MSH segment first (" + quote_excerpt(message) + ")";
        return std::nullopt;
    }
    const char sep = segs[0][3];
    Hl7Ack ack;
    bool have_msa = false;
    for (std::string_view seg : segs) {
        std::vector<std::string_view> f = split(seg, sep);
        if (f[0] == "MSA" && !have_msa) {
            have_msa = true;
            ack.code = f.size() > 1 ? std::string(f[1]) : "";
            ack.control_id = f.size() > 2 ? std::string(f[2]) : "";
            if (f.size() > 3) ack.text = std::string(f[3]);
        } else if (f[0] == "ERR" && ack.text.empty() && f.size() > 1) {
            // v2.5's ERR-8 (user message), else the older ERR-1
            ack.text = std::string(f.size() > 8 && !f[8].empty() ? f[8] : f[1]);
        }
    }
    if (!have_msa) {
        why = "an HL7 message without an MSA segment: not an acknowledgement";
        return std::nullopt;
    }
    return ack;
}

std::string_view mllp_ack_label(std::string_view code) {
    static constexpr std::array<std::string_view, 6> kKnown = {"AA", "AE", "AR", "CA", "CE", "CR"};
    for (std::string_view k : kKnown)
        if (code == k) return k;
    return "other";
}

MllpDialogue::MllpDialogue(std::string message, std::string control_id,
                           std::vector<std::string> accept)
    : message_(std::move(message)), control_id_(std::move(control_id)), accept_(std::move(accept)) {
    if (accept_.empty()) accept_ = {"AA", "CA"};
}

std::string MllpDialogue::opening() {
    return mllp_frame(message_);
}

AppStep MllpDialogue::received(std::string_view bytes) {
    AppStep step;
    const std::size_t room = kMaxAnswer - buffer_.size();
    buffer_.append(bytes.substr(0, room));
    if (buffer_.empty()) return step;
    if (buffer_.front() != kStart) {
        step.verdict = AppVerdict{Outcome::mismatch,
                                  "the answer is not MLLP: it does not begin "
                                  "with 0x0B (" +
                                      quote_excerpt(buffer_) + ")"};
        return step;
    }
    const std::size_t end = buffer_.find(std::string{kEnd, kCr});
    if (end == std::string::npos) {
        if (buffer_.size() >= kMaxAnswer)
            step.verdict = AppVerdict{Outcome::mismatch, "no end of the MLLP frame in " +
                                                             std::to_string(kMaxAnswer) + " bytes"};
        return step;
    }
    std::string why;
    auto ack = parse_hl7_ack(std::string_view(buffer_).substr(1, end - 1), why);
    if (!ack) {
        step.verdict = AppVerdict{Outcome::mismatch, why};
        return step;
    }
    ack_ = std::string(mllp_ack_label(ack->code));
    if (ack->control_id != control_id_) {
        step.verdict = AppVerdict{Outcome::mismatch, "the acknowledgement is for control ID " +
                                                         quote_excerpt(ack->control_id) +
                                                         ", not this probe's " + control_id_};
        return step;
    }
    if (std::find(accept_.begin(), accept_.end(), ack->code) != accept_.end()) {
        step.verdict = AppVerdict{Outcome::ok, "acknowledged " + ack->code};
        return step;
    }
    step.verdict =
        AppVerdict{Outcome::mismatch,
                   "acknowledged " + quote_excerpt(ack->code) +
                       (ack->text.empty() ? std::string() : ": " + quote_excerpt(ack->text))};
    return step;
}

AppVerdict MllpDialogue::closed() {
    if (buffer_.empty())
        return {Outcome::mismatch, "the server closed the connection without an acknowledgement"};
    return {Outcome::mismatch,
            "the server closed the connection inside the acknowledgement's "
            "frame, after " +
                std::to_string(buffer_.size()) + " bytes"};
}

void MllpDialogue::fill(ProbeResult& r, const AppFacts& facts) const {
    MllpResult m;
    m.ack = ack_;
    m.app = facts;
    r.kind = std::move(m);
}

}  // namespace fedprobe
