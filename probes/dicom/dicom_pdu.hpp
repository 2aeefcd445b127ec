// The DICOM upper layer's PDUs a verification needs (PS3.8 9.3), written and read as bytes,
// and the C-ECHO command set (PS3.7 9.3.5) in implicit VR little endian. Pure functions; any
// thread. Every reader takes untrusted bytes: it is a fuzz target (fuzz/dicom_pdu_fuzz.cpp).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fedprobe {

inline constexpr std::string_view kVerificationSopClass = "1.2.840.10008.1.1";
inline constexpr std::string_view kImplicitVrLittleEndian = "1.2.840.10008.1.2";
inline constexpr std::string_view kDicomApplicationContext = "1.2.840.10008.3.1.1.1";
// fedprobe's Implementation Class UID: a UUID-derived UID (PS3.5 B.2), since fedprobe has no
// registered root.
inline constexpr std::string_view kFedprobeImplementationUid =
    "2.25.19948795422387215309411488616074194923";
inline constexpr std::uint8_t kEchoContextId = 1;
inline constexpr std::uint32_t kMaxPduReceive = 16384;  // what fedprobe says it accepts

enum class PduType : std::uint8_t {
    associate_rq = 1,
    associate_ac = 2,
    associate_rj = 3,
    p_data = 4,
    release_rq = 5,
    release_rp = 6,
    abort = 7,
};

// 1-16 characters of the default repertoire, not all spaces, no backslash (PS3.5 6.2, AE).
bool valid_ae_title(std::string_view ae);
// The site's id in upper case, cut to 16, other characters than letters, digits, - and _ as -.
std::string dicom_default_calling_ae(std::string_view site);

std::string associate_rq(std::string_view called_ae, std::string_view calling_ae);
std::string echo_rq(std::uint16_t message_id);  // a P-DATA-TF holding the C-ECHO-RQ
std::string release_rq();
std::string release_rp();

// One whole PDU at the front of `bytes`: its type and body (after the 6-byte header).
struct Pdu {
    std::uint8_t type = 0;
    std::string_view body;
    std::size_t size = 0;  // header included
};
enum class PduRead { more, whole, bad };
// `why` says what is wrong when bad (an unknown type, a length beyond `max_length`).
PduRead read_pdu(std::string_view bytes, Pdu& out, std::size_t max_length, std::string& why);

// A-ASSOCIATE-AC: the result of the presentation context fedprobe proposed (0: acceptance;
// -1: the AC does not carry it).
int accepted_context_result(std::string_view body);

struct AssociateReject {
    int result = 0, source = 0, reason = 0;
};
std::optional<AssociateReject> parse_associate_rj(std::string_view body);
// Label values and words for people: "permanent", "service_user",
// "calling_ae_not_recognized"; "other" beyond the standard's values.
std::string_view reject_result_label(int result);
std::string_view reject_source_label(int source);
std::string_view reject_reason_label(int source, int reason);

struct AbortInfo {
    int source = 0, reason = 0;
};
std::optional<AbortInfo> parse_abort(std::string_view body);

// The command set of P-DATA-TF PDVs, gathered across PDUs until the last fragment.
struct EchoResponse {
    std::uint16_t command_field = 0;
    std::uint16_t responding_to = 0;
    int status = -1;
};
// Appends this PDU's command fragments to `command`; true once the last one came. `why` is set
// (and false returned) when the PDVs are malformed or carry a data set.
bool gather_command(std::string_view p_data_body, std::string& command, std::string& why);
std::optional<EchoResponse> parse_echo_rsp(std::string_view command, std::string& why);

}  // namespace fedprobe
