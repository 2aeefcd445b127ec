#include "probes/ldap/ldap_ber.hpp"

namespace fedprobe {

namespace {

std::string tlv(std::uint8_t tag, std::string_view value) {
    std::string s;
    s += static_cast<char>(tag);
    if (value.size() < 0x80) {
        s += static_cast<char>(value.size());
    } else {  // two length octets are plenty for what fedprobe sends
        s += '\x82';
        s += static_cast<char>(value.size() >> 8);
        s += static_cast<char>(value.size() & 0xff);
    }
    s += value;
    return s;
}
std::string integer(std::uint8_t tag, int v) {
    // Small non-negative values only: one or two octets, never a leading bit that reads negative.
    std::string b;
    if (v < 0x80)
        b += static_cast<char>(v);
    else {
        b += static_cast<char>((v >> 8) & 0xff);
        b += static_cast<char>(v & 0xff);
        if (static_cast<unsigned char>(b[0]) & 0x80) b.insert(b.begin(), '\0');
    }
    return tlv(tag, b);
}
std::string message(int id, const std::string& op) {
    return tlv(0x30, integer(0x02, id) + op);
}

// Reads a non-negative INTEGER or ENUMERATED of at most 4 octets.
std::optional<int> small_int(std::string_view v) {
    if (v.empty() || v.size() > 4 || (static_cast<unsigned char>(v[0]) & 0x80)) return std::nullopt;
    int out = 0;
    for (char c : v)
        out = out << 8 | static_cast<unsigned char>(c);
    return out;
}

}  // namespace

std::string ldap_starttls_request(int id) {
    return message(id, tlv(0x77, tlv(0x80, kStartTlsOid)));
}

std::string ldap_rootdse_search(int id) {
    std::string req;
    req += tlv(0x04, "");                    // baseObject: the RootDSE
    req += tlv(0x0a, std::string(1, '\0'));  // scope: baseObject
    req += tlv(0x0a, std::string(1, '\0'));  // derefAliases: never
    req += integer(0x02, 0);                 // sizeLimit
    req += integer(0x02, 10);                // timeLimit, seconds
    req += tlv(0x01, std::string(1, '\0'));  // typesOnly: false
    req += tlv(0x87, "objectClass");         // filter: present
    req += tlv(0x30, tlv(0x04, "namingContexts") + tlv(0x04, "supportedLDAPVersion"));
    return message(id, tlv(0x63, req));
}

std::string ldap_unbind(int id) {
    return message(id, tlv(0x42, ""));
}

BerRead read_ber(std::string_view b, Ber& out, std::size_t max_length, std::string& why) {
    if (b.size() < 2) return BerRead::more;
    const std::uint8_t first = static_cast<std::uint8_t>(b[1]);
    std::size_t header = 2, length = first;
    if (first & 0x80) {
        const std::size_t n = first & 0x7f;
        if (n == 0 || n > 4) {
            why = n == 0 ? "an indefinite BER length (LDAP allows only definite ones)"
                         : "a BER length of " + std::to_string(n) + " octets";
            return BerRead::bad;
        }
        if (b.size() < 2 + n) return BerRead::more;
        length = 0;
        for (std::size_t i = 0; i < n; ++i)
            length = length << 8 | static_cast<std::uint8_t>(b[2 + i]);
        header = 2 + n;
    }
    if (length > max_length) {
        why = "a BER element of " + std::to_string(length) + " bytes";
        return BerRead::bad;
    }
    if (b.size() < header + length) return BerRead::more;
    out.tag = static_cast<std::uint8_t>(b[0]);
    out.value = b.substr(header, length);
    out.size = header + length;
    return BerRead::whole;
}

std::optional<LdapMessage> parse_ldap_message(std::string_view seq, std::string& why) {
    LdapMessage m;
    Ber id, op;
    if (read_ber(seq, id, seq.size(), why) != BerRead::whole || id.tag != 0x02) {
        why = "an LDAPMessage without a messageID";
        return std::nullopt;
    }
    auto mid = small_int(id.value);
    if (!mid) {
        why = "an LDAPMessage with a messageID out of range";
        return std::nullopt;
    }
    m.message_id = *mid;
    std::string_view rest = seq.substr(id.size);
    if (read_ber(rest, op, rest.size(), why) != BerRead::whole) {
        why = "an LDAPMessage without a protocolOp";
        return std::nullopt;
    }
    m.op = op.tag;
    if (op.tag == 0x78 || op.tag == 0x65) {  // an LDAPResult: resultCode, matchedDN, message
        Ber code, dn, diag;
        std::string_view v = op.value;
        if (read_ber(v, code, v.size(), why) != BerRead::whole || code.tag != 0x0a) {
            why = "an LDAP result without a resultCode";
            return std::nullopt;
        }
        m.result_code = small_int(code.value).value_or(-1);
        v = v.substr(code.size);
        if (read_ber(v, dn, v.size(), why) == BerRead::whole) {
            v = v.substr(dn.size);
            if (read_ber(v, diag, v.size(), why) == BerRead::whole && diag.tag == 0x04)
                m.diagnostic = std::string(diag.value.substr(0, 200));
        }
        why.clear();
    } else if (op.tag == 0x64) {  // SearchResultEntry: objectName, attributes
        Ber name, attrs;
        std::string_view v = op.value;
        if (read_ber(v, name, v.size(), why) != BerRead::whole ||
            read_ber(v.substr(name.size), attrs, v.size(), why) != BerRead::whole) {
            why = "a truncated SearchResultEntry";
            return std::nullopt;
        }
        std::string_view list = attrs.value;
        while (!list.empty()) {
            Ber attr, type, vals;
            if (read_ber(list, attr, list.size(), why) != BerRead::whole ||
                read_ber(attr.value, type, attr.value.size(), why) != BerRead::whole ||
                read_ber(attr.value.substr(type.size), vals, attr.value.size(), why) !=
                    BerRead::whole) {
                why = "a malformed attribute in a SearchResultEntry";
                return std::nullopt;
            }
            if (type.value == "namingContexts") {
                int n = 0;
                std::string_view each = vals.value;
                Ber one;
                while (!each.empty() && read_ber(each, one, each.size(), why) == BerRead::whole) {
                    ++n;
                    each = each.substr(one.size);
                }
                m.naming_contexts = n;
            }
            list = list.substr(attr.size);
        }
        why.clear();
    }
    return m;
}

std::string_view ldap_result_name(int code) {
    switch (code) {
        case 0:
            return "success";
        case 1:
            return "operationsError";
        case 2:
            return "protocolError";
        case 8:
            return "strongerAuthRequired";
        case 13:
            return "confidentialityRequired";
        case 48:
            return "inappropriateAuthentication";
        case 49:
            return "invalidCredentials";
        case 50:
            return "insufficientAccessRights";
        case 51:
            return "busy";
        case 52:
            return "unavailable";
        case 53:
            return "unwillingToPerform";
    }
    return "other";
}

}  // namespace fedprobe
