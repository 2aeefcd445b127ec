#include "probes/smtp/smtp_dialogue.hpp"

#include <algorithm>
#include <cctype>

#include "config/diagnostic.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

namespace {

AppStep verdict(Outcome o, std::string detail) {
    AppStep s;
    s.verdict = AppVerdict{o, std::move(detail)};
    return s;
}
AppStep send(std::string bytes) {
    AppStep s;
    s.send = std::move(bytes);
    return s;
}
std::string text_of(const SmtpReply& r) {
    std::string t = r.lines.empty() ? "" : r.lines.front();
    return quote_excerpt(t);
}

}  // namespace

ReplyRead read_smtp_reply(std::string& buffer, SmtpReply& out, std::string& why) {
    SmtpReply r;
    std::size_t at = 0;
    while (true) {
        const std::size_t end = buffer.find('\n', at);
        // Checked on a partial line too: an answer that is not SMTP is told at once.
        const std::string_view line = std::string_view(buffer).substr(
            at, end == std::string::npos ? std::string::npos : end - at);
        const std::size_t have = std::min<std::size_t>(line.size(), 4);
        for (std::size_t i = 0; i < std::min<std::size_t>(have, 3); ++i)
            if (!std::isdigit(static_cast<unsigned char>(line[i]))) {
                why = "the answer is not SMTP: " + quote_excerpt(buffer.substr(0, 64));
                return ReplyRead::bad;
            }
        if (have == 4 && line[3] != ' ' && line[3] != '-' && line[3] != '\r') {
            why = "the answer is not SMTP: " + quote_excerpt(buffer.substr(0, 64));
            return ReplyRead::bad;
        }
        if (end == std::string::npos) return ReplyRead::more;
        std::string_view text = line.size() > 4 ? line.substr(4) : std::string_view();
        if (!text.empty() && text.back() == '\r') text.remove_suffix(1);
        const int code = std::stoi(std::string(line.substr(0, 3)));
        if (r.code && code != r.code) {
            why = "an SMTP reply whose lines carry different codes";
            return ReplyRead::bad;
        }
        r.code = code;
        r.lines.emplace_back(text);
        at = end + 1;
        if (line.size() < 4 || line[3] != '-') {
            buffer.erase(0, at);
            out = std::move(r);
            return ReplyRead::whole;
        }
    }
}

SmtpDialogue::SmtpDialogue(SmtpParams params) : params_(std::move(params)) {}

AppStep SmtpDialogue::received(std::string_view bytes) {
    if (buffer_.size() + bytes.size() > kMaxAnswer)
        return verdict(Outcome::mismatch,
                       "more than " + std::to_string(kMaxAnswer) + " bytes without a whole reply");
    buffer_.append(bytes);
    AppStep out;
    while (true) {
        SmtpReply reply;
        std::string why;
        ReplyRead read = read_smtp_reply(buffer_, reply, why);
        if (read == ReplyRead::more) return out;
        if (read == ReplyRead::bad) return verdict(Outcome::mismatch, why);
        AppStep step = on_reply(reply);
        out.send += step.send;
        out.start_tls = step.start_tls;
        if (step.verdict || step.start_tls) {
            out.verdict = step.verdict;
            return out;
        }
    }
}

AppStep SmtpDialogue::on_reply(const SmtpReply& r) {
    code_ = r.code;
    const std::string ehlo = "EHLO " + params_.helo + "\r\n";
    switch (state_) {
        case State::greeting:
            if (r.code != 220)
                return verdict(Outcome::mismatch,
                               "greeting " + std::to_string(r.code) + " " + text_of(r));
            state_ = State::ehlo;
            return send(ehlo);
        case State::ehlo:
        case State::ehlo_again:
            if (r.code != 250)
                return verdict(Outcome::mismatch,
                               "EHLO answered " + std::to_string(r.code) + " " + text_of(r));
            if (state_ == State::ehlo && params_.starttls) {
                const bool offered = std::any_of(r.lines.begin(), r.lines.end(), [](const auto& l) {
                    std::string u = l.substr(0, 8);
                    for (char& c : u)
                        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
                    return u == "STARTTLS";
                });
                if (!offered)
                    return verdict(Outcome::mismatch,
                                   "the server does not offer STARTTLS (something on the way may "
                                   "strip it from the EHLO reply)");
                state_ = State::starttls;
                return send("STARTTLS\r\n");
            }
            state_ = State::quit;
            return send("QUIT\r\n");
        case State::starttls: {
            if (r.code != 220)
                return verdict(Outcome::mismatch,
                               "STARTTLS answered " + std::to_string(r.code) + " " + text_of(r));
            state_ = State::tls;
            AppStep s;
            s.start_tls = true;
            return s;
        }
        case State::quit:
            state_ = State::done;
            if (r.code != 221)
                return verdict(Outcome::mismatch,
                               "QUIT answered " + std::to_string(r.code) + " " + text_of(r));
            return verdict(Outcome::ok, params_.starttls ? "EHLO, STARTTLS and QUIT answered"
                                                         : "EHLO and QUIT answered");
        case State::tls:
        case State::done:
            break;
    }
    return verdict(Outcome::mismatch, "an SMTP reply nothing asked for: " + std::to_string(r.code));
}

AppStep SmtpDialogue::tls_ready() {
    state_ = State::ehlo_again;
    buffer_.clear();  // nothing sent in clear before the handshake counts after it (RFC 3207)
    return send("EHLO " + params_.helo + "\r\n");
}

AppVerdict SmtpDialogue::closed() {
    if (state_ == State::quit) return {Outcome::ok, "the server closed after QUIT"};
    if (state_ == State::greeting && buffer_.empty())
        return {Outcome::mismatch, "the server closed the connection without a greeting"};
    return {Outcome::mismatch, "the server closed the connection in the middle of the dialogue"};
}

void SmtpDialogue::fill(ProbeResult& r, const AppFacts& facts) const {
    r.kind = SmtpResult{code_, facts};
}

}  // namespace fedprobe
