#include "probes/dicom/dicom_pdu.hpp"

#include <cctype>

namespace fedprobe {

namespace {

void put16(std::string& s, std::uint16_t v) {
    s += static_cast<char>(v >> 8);
    s += static_cast<char>(v & 0xff);
}
void put32(std::string& s, std::uint32_t v) {
    put16(s, static_cast<std::uint16_t>(v >> 16));
    put16(s, static_cast<std::uint16_t>(v & 0xffff));
}
void put16le(std::string& s, std::uint16_t v) {
    s += static_cast<char>(v & 0xff);
    s += static_cast<char>(v >> 8);
}
void put32le(std::string& s, std::uint32_t v) {
    put16le(s, static_cast<std::uint16_t>(v & 0xffff));
    put16le(s, static_cast<std::uint16_t>(v >> 16));
}
std::uint8_t byte(std::string_view s, std::size_t i) {
    return static_cast<std::uint8_t>(s[i]);
}
std::uint16_t get16(std::string_view s, std::size_t i) {
    return static_cast<std::uint16_t>(byte(s, i) << 8 | byte(s, i + 1));
}
std::uint32_t get32(std::string_view s, std::size_t i) {
    return std::uint32_t{get16(s, i)} << 16 | get16(s, i + 2);
}
std::uint16_t get16le(std::string_view s, std::size_t i) {
    return static_cast<std::uint16_t>(byte(s, i) | byte(s, i + 1) << 8);
}
std::uint32_t get32le(std::string_view s, std::size_t i) {
    return get16le(s, i) | std::uint32_t{get16le(s, i + 2)} << 16;
}

std::string item(std::uint8_t type, std::string_view content) {
    std::string s;
    s += static_cast<char>(type);
    s += '\0';
    put16(s, static_cast<std::uint16_t>(content.size()));
    s += content;
    return s;
}

std::string pdu(PduType type, std::string_view body) {
    std::string s;
    s += static_cast<char>(type);
    s += '\0';
    put32(s, static_cast<std::uint32_t>(body.size()));
    s += body;
    return s;
}

std::string padded_ae(std::string_view ae) {
    std::string s(ae.substr(0, 16));
    s.resize(16, ' ');
    return s;
}

void element(std::string& s, std::uint16_t element_no, std::string_view value) {
    put16le(s, 0x0000);
    put16le(s, element_no);
    put32le(s, static_cast<std::uint32_t>(value.size()));
    s += value;
}
std::string us(std::uint16_t v) {
    std::string s;
    put16le(s, v);
    return s;
}

}  // namespace

bool valid_ae_title(std::string_view ae) {
    if (ae.empty() || ae.size() > 16) return false;
    bool any = false;
    for (char c : ae) {
        if (c < 0x20 || c > 0x7e || c == '\\') return false;
        any |= c != ' ';
    }
    return any;
}

std::string dicom_default_calling_ae(std::string_view site) {
    std::string ae;
    for (char c : site.substr(0, 16)) {
        const bool fine = std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_';
        ae += fine ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : '-';
    }
    return ae.empty() ? "FEDPROBE" : ae;
}

std::string associate_rq(std::string_view called_ae, std::string_view calling_ae) {
    std::string body;
    put16(body, 0x0001);  // protocol version 1
    put16(body, 0);
    body += padded_ae(called_ae);
    body += padded_ae(calling_ae);
    body.append(32, '\0');
    body += item(0x10, kDicomApplicationContext);
    std::string pc;
    pc += static_cast<char>(kEchoContextId);
    pc.append(3, '\0');
    pc += item(0x30, kVerificationSopClass);
    pc += item(0x40, kImplicitVrLittleEndian);
    body += item(0x20, pc);
    std::string user;
    std::string max_length;
    put32(max_length, kMaxPduReceive);
    user += item(0x51, max_length);
    user += item(0x52, kFedprobeImplementationUid);
    user += item(0x55, "FEDPROBE");
    body += item(0x50, user);
    return pdu(PduType::associate_rq, body);
}

std::string echo_rq(std::uint16_t message_id) {
    std::string elements;
    std::string uid(kVerificationSopClass);
    if (uid.size() % 2) uid += '\0';  // UI values are padded to even length with NUL
    element(elements, 0x0002, uid);
    element(elements, 0x0100, us(0x0030));  // C-ECHO-RQ
    element(elements, 0x0110, us(message_id));
    element(elements, 0x0800, us(0x0101));  // no data set
    std::string command;
    std::string length;
    put32le(length, static_cast<std::uint32_t>(elements.size()));
    element(command, 0x0000, length);
    command += elements;
    std::string pdv;
    put32(pdv, static_cast<std::uint32_t>(command.size() + 2));
    pdv += static_cast<char>(kEchoContextId);
    pdv += '\x03';  // a command, its last fragment
    pdv += command;
    return pdu(PduType::p_data, pdv);
}

std::string release_rq() {
    return pdu(PduType::release_rq, std::string(4, '\0'));
}
std::string release_rp() {
    return pdu(PduType::release_rp, std::string(4, '\0'));
}

PduRead read_pdu(std::string_view bytes, Pdu& out, std::size_t max_length, std::string& why) {
    if (bytes.empty()) return PduRead::more;
    const std::uint8_t type = byte(bytes, 0);
    if (type < 1 || type > 7) {
        why = "not a DICOM PDU (type byte " + std::to_string(type) + ")";
        return PduRead::bad;
    }
    if (bytes.size() < 6) return PduRead::more;
    const std::uint32_t length = get32(bytes, 2);
    if (length > max_length) {
        why = "a PDU of " + std::to_string(length) + " bytes, beyond the " +
              std::to_string(max_length) + " a verification needs";
        return PduRead::bad;
    }
    if (bytes.size() < 6 + std::size_t{length}) return PduRead::more;
    out.type = type;
    out.body = bytes.substr(6, length);
    out.size = 6 + std::size_t{length};
    return PduRead::whole;
}

int accepted_context_result(std::string_view body) {
    if (body.size() < 68) return -1;
    std::size_t at = 68;  // past version, reserved, AE titles and 32 reserved bytes
    while (at + 4 <= body.size()) {
        const std::uint8_t type = byte(body, at);
        const std::size_t len = get16(body, at + 2);
        if (at + 4 + len > body.size()) return -1;
        if (type == 0x21 && len >= 4 && byte(body, at + 4) == kEchoContextId)
            return byte(body, at + 6);
        at += 4 + len;
    }
    return -1;
}

std::optional<AssociateReject> parse_associate_rj(std::string_view body) {
    if (body.size() < 4) return std::nullopt;
    return AssociateReject{byte(body, 1), byte(body, 2), byte(body, 3)};
}

std::string_view reject_result_label(int result) {
    switch (result) {
        case 1:
            return "permanent";
        case 2:
            return "transient";
    }
    return "other";
}

std::string_view reject_source_label(int source) {
    switch (source) {
        case 1:
            return "service_user";
        case 2:
            return "service_provider_acse";
        case 3:
            return "service_provider_presentation";
    }
    return "other";
}

std::string_view reject_reason_label(int source, int reason) {
    if (source == 1) {
        switch (reason) {
            case 1:
                return "no_reason_given";
            case 2:
                return "application_context_not_supported";
            case 3:
                return "calling_ae_not_recognized";
            case 7:
                return "called_ae_not_recognized";
        }
    } else if (source == 2) {
        switch (reason) {
            case 1:
                return "no_reason_given";
            case 2:
                return "protocol_version_not_supported";
        }
    } else if (source == 3) {
        switch (reason) {
            case 1:
                return "temporary_congestion";
            case 2:
                return "local_limit_exceeded";
        }
    }
    return "other";
}

std::optional<AbortInfo> parse_abort(std::string_view body) {
    if (body.size() < 4) return std::nullopt;
    return AbortInfo{byte(body, 2), byte(body, 3)};
}

bool gather_command(std::string_view body, std::string& command, std::string& why) {
    std::size_t at = 0;
    bool last = false;
    while (at < body.size()) {
        if (at + 6 > body.size()) {
            why = "a P-DATA-TF with a truncated PDV";
            return false;
        }
        const std::uint32_t len = get32(body, at);
        if (len < 2 || len > body.size() - at - 4) {
            why = "a P-DATA-TF whose PDV length (" + std::to_string(len) + ") does not fit";
            return false;
        }
        const std::uint8_t header = byte(body, at + 5);
        if (!(header & 0x01)) {
            why = "a data set where the C-ECHO response's command was expected";
            return false;
        }
        command.append(body.substr(at + 6, len - 2));
        last = header & 0x02;
        at += 4 + len;
    }
    return last;
}

std::optional<EchoResponse> parse_echo_rsp(std::string_view command, std::string& why) {
    EchoResponse r;
    bool have_field = false;
    std::size_t at = 0;
    while (at + 8 <= command.size()) {
        const std::uint16_t group = get16le(command, at);
        const std::uint16_t elem = get16le(command, at + 2);
        const std::uint32_t len = get32le(command, at + 4);
        if (len > command.size() - at - 8) {
            why = "a command element longer than its command set";
            return std::nullopt;
        }
        std::string_view value = command.substr(at + 8, len);
        if (group == 0x0000 && len == 2) {
            if (elem == 0x0100) {
                r.command_field = get16le(value, 0);
                have_field = true;
            } else if (elem == 0x0120) {
                r.responding_to = get16le(value, 0);
            } else if (elem == 0x0900) {
                r.status = get16le(value, 0);
            }
        }
        at += 8 + len;
    }
    if (!have_field) {
        why = "a command set without a command field";
        return std::nullopt;
    }
    return r;
}

}  // namespace fedprobe
