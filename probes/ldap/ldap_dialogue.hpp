// An LDAP RootDSE read as one probe's conversation: [StartTLS,] a base-scope search of "" for
// namingContexts, an unbind. A Dialogue: no socket. One per probe; event loop thread.
#pragma once

#include <string>

#include "probes/app/dialogue.hpp"
#include "probes/ldap/ldap_kind.hpp"

namespace fedprobe {

class LdapDialogue : public Dialogue {
  public:
    explicit LdapDialogue(LdapParams params) : params_(std::move(params)) {}
    std::string opening() override;
    const TlsSettings* tls() const override { return params_.starttls ? &params_.tls : nullptr; }
    AppStep tls_ready() override;
    AppStep received(std::string_view bytes) override;
    AppVerdict closed() override;
    void fill(ProbeResult& r, const AppFacts& facts) const override;

  private:
    enum class State { starttls, search, done };
    LdapParams params_;
    State state_ = State::search;
    int id_ = 1;  // the request in flight
    std::string buffer_;
    int result_code_ = -1;
    int entries_ = 0, naming_contexts_ = -1;
};

}  // namespace fedprobe
