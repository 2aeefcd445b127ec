#include "probes/ldap/ldap_dialogue.hpp"

#include "config/diagnostic.hpp"
#include "probes/ldap/ldap_ber.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

namespace {

AppStep verdict(Outcome o, std::string detail, std::string send = {}) {
    AppStep s;
    s.send = std::move(send);
    s.verdict = AppVerdict{o, std::move(detail)};
    return s;
}
std::string result_words(int code, const std::string& diagnostic) {
    return "resultCode " + std::to_string(code) + " (" + std::string(ldap_result_name(code)) + ")" +
           (diagnostic.empty() ? "" : ": " + quote_excerpt(diagnostic));
}

}  // namespace

std::string LdapDialogue::opening() {
    if (params_.starttls) {
        state_ = State::starttls;
        return ldap_starttls_request(id_);
    }
    return ldap_rootdse_search(id_);
}

AppStep LdapDialogue::tls_ready() {
    state_ = State::search;
    buffer_.clear();
    AppStep s;
    s.send = ldap_rootdse_search(++id_);
    return s;
}

AppStep LdapDialogue::received(std::string_view bytes) {
    if (buffer_.size() + bytes.size() > kMaxAnswer)
        return verdict(Outcome::mismatch,
                       "more than " + std::to_string(kMaxAnswer) + " bytes without a whole answer");
    buffer_.append(bytes);
    while (state_ != State::done && !buffer_.empty()) {
        Ber msg;
        std::string why;
        if (static_cast<std::uint8_t>(buffer_[0]) != 0x30)  // every LDAPMessage is a SEQUENCE
            return verdict(Outcome::mismatch,
                           "the answer is not LDAP: " + quote_excerpt(buffer_.substr(0, 32)));
        BerRead read = read_ber(buffer_, msg, kMaxAnswer, why);
        if (read == BerRead::more) return {};
        if (read == BerRead::bad || msg.tag != 0x30)
            return verdict(Outcome::mismatch,
                           "the answer is not LDAP: " +
                               (why.empty() ? quote_excerpt(buffer_.substr(0, 32)) : why));
        auto m = parse_ldap_message(msg.value, why);
        buffer_.erase(0, msg.size);
        if (!m) return verdict(Outcome::mismatch, "the answer is not LDAP: " + why);
        if (m->message_id == 0 && m->op == 0x78) {  // a Notice of Disconnection
            result_code_ = m->result_code;
            return verdict(Outcome::mismatch, "the server disconnected: " +
                                                  result_words(m->result_code, m->diagnostic));
        }
        if (m->message_id != id_)
            return verdict(Outcome::mismatch, "an answer to message " +
                                                  std::to_string(m->message_id) +
                                                  ", not this probe's " + std::to_string(id_));
        if (state_ == State::starttls) {
            if (m->op != 0x78) return verdict(Outcome::mismatch, "no ExtendedResponse to StartTLS");
            result_code_ = m->result_code;
            if (m->result_code != 0)
                return verdict(Outcome::mismatch,
                               "StartTLS refused: " + result_words(m->result_code, m->diagnostic));
            AppStep s;
            s.start_tls = true;
            return s;
        }
        if (m->op == 0x64) {  // an entry: the RootDSE
            ++entries_;
            if (m->naming_contexts >= 0) naming_contexts_ = m->naming_contexts;
            continue;
        }
        if (m->op == 0x73) continue;  // a referral: not what a RootDSE read needs
        if (m->op != 0x65)
            return verdict(Outcome::mismatch,
                           "protocolOp tag " + std::to_string(m->op) + " in answer to the search");
        state_ = State::done;
        result_code_ = m->result_code;
        const std::string unbind = ldap_unbind(id_ + 1);
        if (m->result_code != 0)
            return verdict(
                Outcome::mismatch,
                "the RootDSE read was refused: " + result_words(m->result_code, m->diagnostic),
                unbind);
        if (entries_ == 0)
            return verdict(Outcome::mismatch,
                           "the search succeeded without the RootDSE (anonymous reads hidden?)",
                           unbind);
        return verdict(
            Outcome::ok,
            "RootDSE read" + (naming_contexts_ >= 0
                                  ? ", " + std::to_string(naming_contexts_) + " naming contexts"
                                  : std::string()),
            unbind);
    }
    return {};
}

AppVerdict LdapDialogue::closed() {
    return {Outcome::mismatch,
            state_ == State::starttls
                ? "the server closed the connection instead of answering StartTLS"
                : "the server closed the connection before the search was done"};
}

void LdapDialogue::fill(ProbeResult& r, const AppFacts& facts) const {
    r.kind = LdapResult{result_code_, facts};
}

}  // namespace fedprobe
