// DICOM verification as one probe's conversation: associate, echo, release. A Dialogue
// (probes/app/dialogue.hpp): no socket, so its tests replay recorded exchanges byte by byte.
// One per probe; event loop thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "probes/app/dialogue.hpp"
#include "probes/dicom/dicom_kind.hpp"
#include "probes/dicom/dicom_pdu.hpp"

namespace fedprobe {

class DicomDialogue : public Dialogue {
  public:
    DicomDialogue(std::string called_ae, std::string calling_ae, std::uint16_t message_id,
                  std::optional<TlsSettings> tls = std::nullopt);
    std::string opening() override;
    const TlsSettings* tls() const override { return tls_ ? &*tls_ : nullptr; }
    AppStep received(std::string_view bytes) override;
    AppVerdict closed() override;
    std::optional<AppVerdict> timed_out() override;
    void fill(ProbeResult& r, const AppFacts& facts) const override;

  private:
    enum class State { associating, echoing, releasing, done };
    std::string called_, calling_;
    std::uint16_t message_id_;
    std::optional<TlsSettings> tls_;
    State state_ = State::associating;
    std::string buffer_;
    std::string command_;                // the C-ECHO-RSP's command set so far
    std::optional<AppVerdict> settled_;  // the echo's verdict, held while the release runs
    DicomResult result_;

    AppStep on_pdu(const Pdu& pdu);
    AppStep settle(AppVerdict v);  // the echo is judged: release the association politely
};

}  // namespace fedprobe
