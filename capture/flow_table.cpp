#include "capture/flow_table.hpp"

#include <cstring>

namespace fedprobe {

std::uint64_t HandshakeKey::hash() const {
    // Multiply-xorshift rounds over the addresses and ports: cheap, and a capture's many flows
    // between the same two hosts (differing in one port) still spread over the index.
    std::uint64_t w[4];
    std::memcpy(w, client.data(), 16);
    std::memcpy(w + 2, server.data(), 16);
    std::uint64_t h =
        (std::uint64_t{client_port} << 24 | std::uint64_t{server_port} << 8 | family) *
        0x9e3779b97f4a7c15ULL;
    for (std::uint64_t x : w) {
        h = (h ^ x) * 0xbf58476d1ce4e5b9ULL;
        h ^= h >> 29;
    }
    h *= 0x94d049bb133111ebULL;
    return h ^ (h >> 32);
}

FlowTable::FlowTable(std::size_t capacity) : entries_(capacity) {
    std::size_t cells = 16;
    while (cells < 2 * capacity)
        cells *= 2;
    index_.assign(cells, 0);
    mask_ = cells - 1;
    clear();
}

void FlowTable::clear() {
    std::fill(index_.begin(), index_.end(), 0);
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        Entry& e = entries_[i];
        if (e.used) ++e.generation;
        e.used = false;
        e.next_free = i + 1 < entries_.size() ? static_cast<Slot>(i + 1) : kNone;
    }
    free_ = entries_.empty() ? kNone : 0;
    size_ = 0;
}

FlowTable::Slot FlowTable::find(const HandshakeKey& key, std::uint64_t hash) const {
    const std::uint32_t t = tag(hash);
    for (std::uint64_t i = t & mask_;; i = (i + 1) & mask_) {
        const std::uint64_t c = index_[i];
        if (c == 0) return kNone;
        if (tag_of(c) == t && entries_[slot_of(c)].key == key) return slot_of(c);
    }
}

FlowTable::Slot FlowTable::insert(const HandshakeKey& key, std::uint64_t hash,
                                  const HandshakeFlow& flow) {
    if (free_ == kNone) return kNone;
    const Slot s = free_;
    Entry& e = entries_[s];
    free_ = e.next_free;
    e.key = key;
    e.flow = flow;
    e.used = true;
    const std::uint32_t t = tag(hash);
    e.tag = t;
    std::uint64_t i = t & mask_;
    while (index_[i] != 0)
        i = (i + 1) & mask_;
    index_[i] = cell(t, s);
    ++size_;
    return s;
}

void FlowTable::erase(Slot s) {
    Entry& e = entries_[s];
    const std::uint32_t t = e.tag;
    std::uint64_t i = t & mask_;
    while (index_[i] != cell(t, s))
        i = (i + 1) & mask_;
    // Backward shift: later cells of the same run that may live at i move up, so that a probe
    // never meets a gap before its key.
    for (std::uint64_t j = (i + 1) & mask_; index_[j] != 0; j = (j + 1) & mask_) {
        const std::uint64_t home = tag_of(index_[j]) & mask_;
        if (((j - home) & mask_) >= ((j - i) & mask_)) {
            index_[i] = index_[j];
            i = j;
        }
    }
    index_[i] = 0;
    e.used = false;
    ++e.generation;
    e.next_free = free_;
    free_ = s;
    --size_;
}

}  // namespace fedprobe
