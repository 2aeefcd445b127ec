// The dicom kind's probe: AppProbe with a DicomDialogue, a fresh message ID per probe.
#include "probes/app/app_probe.hpp"
#include "probes/dicom/dicom_dialogue.hpp"
#include "probes/dicom/dicom_kind.hpp"

namespace fedprobe {

std::unique_ptr<Probe> DicomKind::make_probe(EventLoop& loop) {
    auto next_id = std::make_shared<std::uint16_t>(1);
    return std::make_unique<AppProbe>(loop, [next_id](const ProbeRequest& req) {
        const DicomParams& p = req.as<DicomKind>();
        std::uint16_t id = (*next_id)++;
        if (*next_id == 0) *next_id = 1;
        return std::make_unique<DicomDialogue>(
            p.called_ae, p.calling_ae, id,
            p.tls ? std::optional<TlsSettings>(p.tls_settings) : std::nullopt);
    });
}

}  // namespace fedprobe
