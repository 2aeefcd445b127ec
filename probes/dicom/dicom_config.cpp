// [targets.dicom]: the AE titles of the association.
#include "config/diagnostic.hpp"
#include "config/toml_reader.hpp"
#include "probes/dicom/dicom_kind.hpp"
#include "probes/dicom/dicom_pdu.hpp"

namespace fedprobe {

DicomOptions DicomKind::parse(OptionReader& r, const KindUse&) {
    std::vector<std::string_view> keys = {"called_ae", "calling_ae", "tls"};
    keys.insert(keys.end(), std::begin(kTlsKeys), std::end(kTlsKeys));
    r.check_keys(keys);
    DicomOptions o;
    o.tls = r.boolean("tls").value_or(false);
    o.tls_options = read_tls_options(r);
    for (auto [key, field] : {std::pair{"called_ae", &DicomOptions::called_ae},
                              std::pair{"calling_ae", &DicomOptions::calling_ae}}) {
        auto v = r.string(key);
        if (!v) continue;
        if (!valid_ae_title(*v))
            r.error(key, std::string("dicom.") + key + " " + quote_excerpt(*v) +
                             " is not an AE title: 1 to 16 printable characters, no backslash");
        else
            o.*field = *v;
    }
    return o;
}

DicomParams DicomKind::params(const DicomOptions* o, JobContext& c) {
    DicomParams p;
    p.called_ae = o && !o->called_ae.empty() ? o->called_ae : "ANY-SCP";
    p.calling_ae = o && !o->calling_ae.empty() ? o->calling_ae : dicom_default_calling_ae(c.site);
    p.tls = o && o->tls;
    p.tls_settings = tls_settings(o ? o->tls_options : TlsOptions{}, c, true);
    return p;
}

}  // namespace fedprobe
