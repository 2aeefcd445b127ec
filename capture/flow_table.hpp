// The handshake tracker's table: a fixed number of flow slots, found by key through an open-
// addressing index (linear probing, at most half full, backward-shift deletion). A slot keeps its
// place until erased, and a generation that changes when it is, so the tracker's expiry queues
// refer to slots directly and detect a slot that has been reused — no lookup by key to expire.
// Memory is fixed at construction: about 100 bytes a flow. One thread.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

namespace fedprobe {

struct HandshakeKey {
    std::array<std::uint8_t, 16> client, server;
    std::uint16_t client_port = 0, server_port = 0;
    std::uint8_t family = 0;
    friend bool operator==(const HandshakeKey&, const HandshakeKey&) = default;
    std::uint64_t hash() const;
};

struct HandshakeFlow {
    std::int64_t first_syn_ns = 0;
    std::int64_t last_syn_ns = 0;
    std::uint32_t isn = 0;
    std::uint16_t syns = 0;
    std::uint16_t src = 0, dst = 0, service = 0;  // label indices
    bool done = false;  // counted; kept as a tombstone until it lingers out
};

class FlowTable {
  public:
    using Slot = std::uint32_t;
    static constexpr Slot kNone = UINT32_MAX;

    explicit FlowTable(std::size_t capacity);

    // `hash` is key.hash(), computed once by the caller for a find and the insert after it.
    Slot find(const HandshakeKey& key, std::uint64_t hash) const;
    Slot find(const HandshakeKey& key) const { return find(key, key.hash()); }
    // kNone when every slot is taken. The key must not be in the table.
    Slot insert(const HandshakeKey& key, std::uint64_t hash, const HandshakeFlow& flow);
    void erase(Slot slot);
    void clear();

    HandshakeFlow& flow(Slot s) { return entries_[s].flow; }
    const HandshakeKey& key(Slot s) const { return entries_[s].key; }
    std::uint32_t generation(Slot s) const { return entries_[s].generation; }
    bool used(Slot s) const { return entries_[s].used; }
    std::size_t size() const { return size_; }
    std::size_t capacity() const { return entries_.size(); }

  private:
    struct Entry {
        HandshakeKey key;
        bool used = false;
        std::uint32_t tag = 0;  // of the key, to find its index cell when erased
        std::uint32_t generation = 0;
        Slot next_free = kNone;
        HandshakeFlow flow;
    };
    // An index cell: 0 when empty, else the key's 32-bit tag (which also gives its home cell)
    // above the slot + 1.
    static std::uint64_t cell(std::uint32_t tag, Slot s) {
        return std::uint64_t{tag} << 32 | (s + 1);
    }
    static std::uint32_t tag_of(std::uint64_t c) { return static_cast<std::uint32_t>(c >> 32); }
    static Slot slot_of(std::uint64_t c) { return static_cast<Slot>(c) - 1; }
    static std::uint32_t tag(std::uint64_t hash) { return static_cast<std::uint32_t>(hash >> 32); }

    std::vector<Entry> entries_;
    std::vector<std::uint64_t> index_;
    std::uint64_t mask_ = 0;
    Slot free_ = kNone;
    std::size_t size_ = 0;
};

}  // namespace fedprobe
