// HL7 v2 over MLLP, as one probe sees it: the message framed (0x0B message 0x1C 0x0D), the
// acknowledgement unframed and read (MSH, MSA), and the verdict. Pure functions and a
// Dialogue; no socket. Any thread (each dialogue belongs to one probe).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/app/dialogue.hpp"

namespace fedprobe {

// The default message: an MSH alone, processing ID T (training), type NMD^N02 (application
// management data), from application FEDPROBE at facility SITE. An interface team routes
// sending application FEDPROBE to a null channel; nothing in it is clinical.
std::string default_hl7_message(std::string_view site);
// `message` with MSH-7 set to `timestamp` and MSH-10 to `control_id` (the fields are added when
// the MSH is shorter), segments ended by \r as HL7 wants ("\n" and "\r\n" become "\r").
std::string hl7_with_control_id(std::string_view message, std::string_view control_id,
                                std::string_view timestamp);
std::string mllp_frame(std::string_view message);

struct Hl7Ack {
    std::string code;        // MSA-1
    std::string control_id;  // MSA-2
    std::string text;        // MSA-3, or ERR's text: for logs only
};
// Reads an acknowledgement; nullopt with `why` when it is not one.
std::optional<Hl7Ack> parse_hl7_ack(std::string_view message, std::string& why);
// MSA-1 as a label value: one of AA AE AR CA CE CR, else "other".
std::string_view mllp_ack_label(std::string_view code);

class MllpDialogue : public Dialogue {
  public:
    // `message` is sent as it is (its control ID already set); `accept`: codes that are ok.
    MllpDialogue(std::string message, std::string control_id, std::vector<std::string> accept);
    std::string opening() override;
    AppStep received(std::string_view bytes) override;
    AppVerdict closed() override;
    void fill(ProbeResult& r, const AppFacts& facts) const override;

  private:
    std::string message_, control_id_;
    std::vector<std::string> accept_;
    std::string buffer_;
    std::string ack_;  // the label, once an acknowledgement was read
};

}  // namespace fedprobe
