// The little of BER that an LDAP RootDSE read needs (RFC 4511 5.1, X.690 definite lengths):
// the requests written, the responses' LDAPMessages read. Pure functions over untrusted bytes
// (a fuzz target, fuzz/app_dialogue_fuzz.cpp); any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace fedprobe {

inline constexpr std::string_view kStartTlsOid = "1.3.6.1.4.1.1466.20037";

std::string ldap_starttls_request(int message_id);
std::string ldap_rootdse_search(int message_id);
std::string ldap_unbind(int message_id);

// One TLV at the front of `bytes`.
struct Ber {
    std::uint8_t tag = 0;
    std::string_view value;
    std::size_t size = 0;  // tag and length included
};
enum class BerRead { more, whole, bad };
BerRead read_ber(std::string_view bytes, Ber& out, std::size_t max_length, std::string& why);

// An LDAPMessage, as far as a RootDSE read cares.
struct LdapMessage {
    int message_id = -1;
    std::uint8_t op = 0;       // the protocolOp's tag: 0x78 ExtendedResponse, 0x64 entry, 0x65 done
    int result_code = -1;      // for responses that carry an LDAPResult
    std::string diagnostic;    // its diagnosticMessage
    int naming_contexts = -1;  // for an entry: how many namingContexts values it holds
};
std::optional<LdapMessage> parse_ldap_message(std::string_view sequence_value, std::string& why);
// RFC 4511 4.1.9's names for the codes a RootDSE read meets.
std::string_view ldap_result_name(int code);

}  // namespace fedprobe
