// SMTP as one probe sees it (RFC 5321, STARTTLS RFC 3207): greeting, EHLO, STARTTLS when asked,
// QUIT. Replies are read whole (their last line "DDD text"), however the bytes arrive. A
// Dialogue: no socket. One per probe; event loop thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "probes/app/dialogue.hpp"
#include "probes/smtp/smtp_kind.hpp"

namespace fedprobe {

struct SmtpReply {
    int code = 0;
    std::vector<std::string> lines;  // each line's text after "DDD-" or "DDD "
};
enum class ReplyRead { more, whole, bad };
// Reads one whole reply at the front of `buffer` and removes it; `why` says what is wrong.
ReplyRead read_smtp_reply(std::string& buffer, SmtpReply& out, std::string& why);

class SmtpDialogue : public Dialogue {
  public:
    explicit SmtpDialogue(SmtpParams params);
    std::string opening() override { return {}; }  // the server speaks first
    const TlsSettings* tls() const override { return params_.starttls ? &params_.tls : nullptr; }
    AppStep tls_ready() override;
    AppStep received(std::string_view bytes) override;
    AppVerdict closed() override;
    void fill(ProbeResult& r, const AppFacts& facts) const override;

  private:
    enum class State { greeting, ehlo, starttls, tls, ehlo_again, quit, done };
    SmtpParams params_;
    State state_ = State::greeting;
    std::string buffer_;
    int code_ = 0;

    AppStep on_reply(const SmtpReply& r);
};

}  // namespace fedprobe
