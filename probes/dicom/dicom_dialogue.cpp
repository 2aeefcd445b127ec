#include "probes/dicom/dicom_dialogue.hpp"

#include <cstdio>

#include "probes/dicom/dicom_pdu.hpp"
#include "probes/probe.hpp"

namespace fedprobe {

namespace {

std::string hex16(int v) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "0x%04X", v & 0xffff);
    return buf;
}

AppStep verdict(Outcome o, std::string detail) {
    AppStep s;
    s.verdict = AppVerdict{o, std::move(detail)};
    return s;
}

}  // namespace

DicomDialogue::DicomDialogue(std::string called_ae, std::string calling_ae,
                             std::uint16_t message_id, std::optional<TlsSettings> tls)
    : called_(std::move(called_ae)),
      calling_(std::move(calling_ae)),
      message_id_(message_id),
      tls_(std::move(tls)) {}

std::string DicomDialogue::opening() {
    return associate_rq(called_, calling_);
}

AppStep DicomDialogue::received(std::string_view bytes) {
    AppStep out;
    if (buffer_.size() + bytes.size() > kMaxAnswer)
        return verdict(Outcome::mismatch,
                       "more than " + std::to_string(kMaxAnswer) + " bytes without a whole PDU");
    buffer_.append(bytes);
    while (true) {
        Pdu pdu;
        std::string why;
        PduRead read = read_pdu(buffer_, pdu, kMaxAnswer - 6, why);
        if (read == PduRead::more) return out;
        if (read == PduRead::bad)
            return verdict(Outcome::mismatch, "the answer is not DICOM: " + why);
        AppStep step = on_pdu(pdu);
        buffer_.erase(0, pdu.size);
        out.send += step.send;
        if (step.verdict) {
            out.verdict = step.verdict;
            return out;
        }
    }
}

AppStep DicomDialogue::settle(AppVerdict v) {
    settled_ = std::move(v);
    state_ = State::releasing;
    AppStep s;
    s.send = release_rq();
    return s;
}

AppStep DicomDialogue::on_pdu(const Pdu& pdu) {
    const auto type = static_cast<PduType>(pdu.type);
    if (type == PduType::abort) {
        auto a = parse_abort(pdu.body);
        if (state_ == State::releasing && settled_)
            return verdict(settled_->outcome, settled_->detail);
        return verdict(Outcome::mismatch,
                       std::string("the association was aborted (A-ABORT) by the ") +
                           (a && a->source == 2 ? "service provider" : "service user") +
                           (a ? ", reason " + std::to_string(a->reason) : std::string()));
    }
    switch (state_) {
        case State::associating: {
            if (type == PduType::associate_rj) {
                auto rj = parse_associate_rj(pdu.body);
                if (!rj) return verdict(Outcome::mismatch, "a truncated A-ASSOCIATE-RJ");
                result_.reject_result = reject_result_label(rj->result);
                result_.reject_source = reject_source_label(rj->source);
                result_.reject_reason = reject_reason_label(rj->source, rj->reason);
                state_ = State::done;
                return verdict(Outcome::mismatch,
                               "association rejected (A-ASSOCIATE-RJ): " + result_.reject_result +
                                   ", by the " + result_.reject_source + ", " +
                                   result_.reject_reason + " (calling AE " + calling_ +
                                   ", called AE " + called_ + ")");
            }
            if (type != PduType::associate_ac)
                return verdict(Outcome::mismatch,
                               "PDU type " + std::to_string(pdu.type) +
                                   " where an A-ASSOCIATE-AC or -RJ was expected");
            const int pc = accepted_context_result(pdu.body);
            if (pc != 0) {
                state_ = State::releasing;
                settled_ = AppVerdict{
                    Outcome::mismatch,
                    pc < 0 ? "the A-ASSOCIATE-AC carries no answer for the Verification context"
                           : "the Verification SOP Class was not accepted (presentation context "
                             "result " +
                                 std::to_string(pc) + ")"};
                AppStep s;
                s.send = release_rq();
                return s;
            }
            state_ = State::echoing;
            AppStep s;
            s.send = echo_rq(message_id_);
            return s;
        }
        case State::echoing: {
            if (type != PduType::p_data)
                return verdict(Outcome::mismatch, "PDU type " + std::to_string(pdu.type) +
                                                      " where the C-ECHO-RSP was expected");
            std::string why;
            if (!gather_command(pdu.body, command_, why)) {
                if (why.empty()) return {};  // more fragments to come
                return verdict(Outcome::mismatch, why);
            }
            auto rsp = parse_echo_rsp(command_, why);
            if (!rsp) return verdict(Outcome::mismatch, why);
            if (rsp->command_field != 0x8030)
                return verdict(Outcome::mismatch, "command " + hex16(rsp->command_field) +
                                                      " where a C-ECHO-RSP "
                                                      "(0x8030) was expected");
            if (rsp->responding_to != message_id_)
                return verdict(Outcome::mismatch,
                               "a C-ECHO-RSP to message " + std::to_string(rsp->responding_to) +
                                   ", not this probe's " + std::to_string(message_id_));
            result_.echo_status = rsp->status;
            if (rsp->status == 0) return settle({Outcome::ok, "C-ECHO succeeded"});
            return settle({Outcome::mismatch, "C-ECHO status " + hex16(rsp->status)});
        }
        case State::releasing:
            if (type == PduType::release_rp || type == PduType::release_rq) {
                state_ = State::done;
                AppStep s;
                if (type == PduType::release_rq) s.send = release_rp();  // a release collision
                s.verdict = settled_;
                return s;
            }
            return verdict(Outcome::mismatch, "PDU type " + std::to_string(pdu.type) +
                                                  " where the A-RELEASE-RP was expected");
        case State::done:
            break;
    }
    return {};
}

AppVerdict DicomDialogue::closed() {
    if (settled_) return *settled_;  // the echo was judged; only the release's reply is missing
    if (state_ == State::associating)
        return {Outcome::mismatch, buffer_.empty()
                                       ? "the server closed the connection without answering the "
                                         "association request"
                                       : "the server closed the connection inside a PDU"};
    return {Outcome::mismatch, "the server closed the association before the C-ECHO-RSP"};
}

std::optional<AppVerdict> DicomDialogue::timed_out() {
    return settled_;
}

void DicomDialogue::fill(ProbeResult& r, const AppFacts& facts) const {
    DicomResult d = result_;
    d.app = facts;
    r.kind = std::move(d);
}

}  // namespace fedprobe
