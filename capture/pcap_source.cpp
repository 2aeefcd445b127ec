#include "capture/pcap_source.hpp"

#include <cstring>

#include "capture/frame.hpp"

namespace fedprobe {

// IPv6 has no tcp[] or icmp6[] accessors in libpcap's filter language: the offsets assume no
// extension headers, which is what a SYN or an ICMPv6 error carries in practice; the frame
// parser itself walks extension headers wherever a frame got through.
#define FEDPROBE_FILTER                                         \
    "((tcp and tcp[tcpflags] & (tcp-syn|tcp-rst|tcp-fin) != 0)" \
    " or (icmp and (icmp[icmptype] == icmp-unreach"             \
    " or icmp[icmptype] == icmp-timxceed))"                     \
    " or (ip6 and ip6[6] == 6 and ip6[53] & 0x07 != 0)"         \
    " or (ip6 and ip6[6] == 58 and (ip6[40] == 1 or ip6[40] == 3)))"
const char* const kCaptureFilter = FEDPROBE_FILTER " or (vlan and " FEDPROBE_FILTER ")";

namespace {

struct Call {
    PcapSource::Handler handler;
    void* user;
};

void on_packet(u_char* user, const pcap_pkthdr* h, const u_char* bytes) {
    auto* call = reinterpret_cast<Call*>(user);
    // Opened with nanosecond precision: tv_usec holds nanoseconds.
    std::int64_t ts = std::int64_t{h->ts.tv_sec} * 1'000'000'000 + h->ts.tv_usec;
    call->handler(call->user, ts, {bytes, h->caplen});
}

Status check_link(pcap_t* p, const std::string& what) {
    int dlt = pcap_datalink(p);
    if (link_type_supported(dlt)) return {};
    const char* name = pcap_datalink_val_to_name(dlt);
    return Status::error(what + ": link type " + (name ? name : std::to_string(dlt)) +
                         " is not supported (Ethernet, Linux cooked, raw IP or loopback are)");
}

}  // namespace

Result<std::unique_ptr<PcapSource>> PcapSource::open_file(const std::string& path) {
    char err[PCAP_ERRBUF_SIZE] = "";
    pcap_t* p =
        pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p) return Status::error(path + ": " + err);
    std::unique_ptr<PcapSource> src(new PcapSource(p));
    if (auto s = check_link(p, path); !s.ok()) return s;
    src->link_type_ = pcap_datalink(p);
    return src;
}

Result<std::unique_ptr<PcapSource>> PcapSource::open_live(const std::string& interface,
                                                          const LiveOptions& o) {
    char err[PCAP_ERRBUF_SIZE] = "";
    pcap_t* p = pcap_create(interface.c_str(), err);
    if (!p) return Status::error(interface + ": " + err);
    std::unique_ptr<PcapSource> src(new PcapSource(p));
    // Promiscuous, for a mirror (SPAN) port, where what is seen is addressed to others.
    if (pcap_set_snaplen(p, kCaptureSnaplen) != 0 || pcap_set_promisc(p, 1) != 0 ||
        pcap_set_immediate_mode(p, 0) != 0 || pcap_set_buffer_size(p, o.buffer_bytes) != 0 ||
        pcap_set_timeout(p, static_cast<int>(o.timeout.count())) != 0 ||
        pcap_set_tstamp_precision(p, PCAP_TSTAMP_PRECISION_NANO) != 0)
        return Status::error(interface + ": " + pcap_geterr(p));
    int rc = pcap_activate(p);
    if (rc < 0) {
        std::string why = pcap_statustostr(rc);
        if (rc == PCAP_ERROR_NO_SUCH_DEVICE) why = "no such interface";
        if (rc == PCAP_ERROR_PERM_DENIED) why = "permission denied (needs CAP_NET_RAW)";
        const char* detail = pcap_geterr(p);
        if (detail && *detail) why += std::string(" (") + detail + ")";
        return Status::error(interface + ": " + why);
    }
    if (auto s = check_link(p, interface); !s.ok()) return s;
    bpf_program prog{};
    if (pcap_compile(p, &prog, kCaptureFilter, 1, PCAP_NETMASK_UNKNOWN) != 0) {
        // A link type without VLAN tags (Linux cooked, raw IP) has no "vlan" to filter on.
        if (pcap_compile(p, &prog, "(" FEDPROBE_FILTER ")", 1, PCAP_NETMASK_UNKNOWN) != 0)
            return Status::error(interface + ": the capture filter: " + pcap_geterr(p));
    }
    rc = pcap_setfilter(p, &prog);
    pcap_freecode(&prog);
    if (rc != 0) return Status::error(interface + ": setting the filter: " + pcap_geterr(p));
    if (pcap_setnonblock(p, 1, err) != 0) return Status::error(interface + ": " + err);
    if (pcap_get_selectable_fd(p) < 0)
        return Status::error(interface + ": no descriptor to wait on");
    src->link_type_ = pcap_datalink(p);
    return src;
}

PcapSource::~PcapSource() {
    pcap_close(pcap_);
}

int PcapSource::selectable_fd() const {
    return pcap_get_selectable_fd(pcap_);
}

Result<std::uint64_t> PcapSource::dispatch(Handler handler, void* user, int max) {
    Call call{handler, user};
    int n = pcap_dispatch(pcap_, max, on_packet, reinterpret_cast<u_char*>(&call));
    if (n == PCAP_ERROR) return Status::error(pcap_geterr(pcap_));
    if (n < 0) return Status::error("capture stopped");
    return static_cast<std::uint64_t>(n);
}

Result<PcapSource::Stats> PcapSource::stats() const {
    pcap_stat ps{};
    if (pcap_stats(pcap_, &ps) != 0) return Status::error(pcap_geterr(pcap_));
    return Stats{ps.ps_recv, ps.ps_drop};
}

}  // namespace fedprobe
