#include "exporters/packed_labels.hpp"

#include <cstring>

namespace fedprobe {

namespace {

void put_varint(std::string& out, std::uint64_t v) {
    while (v >= 0x80) {
        out.push_back(static_cast<char>((v & 0x7f) | 0x80));
        v >>= 7;
    }
    out.push_back(static_cast<char>(v));
}

// Reads a varint written by put_varint; the block is our own, so it is well formed.
std::uint64_t get_varint(const char*& p) {
    std::uint64_t v = 0;
    for (int shift = 0;; shift += 7) {
        const auto byte = static_cast<unsigned char>(*p++);
        v |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
        if (!(byte & 0x80)) return v;
    }
}

}  // namespace

std::uint32_t LabelNames::id(std::string_view name) {
    if (auto it = ids_.find(name); it != ids_.end()) return it->second;
    const auto id = static_cast<std::uint32_t>(names_.size());
    names_.push_back(&ids_.emplace(std::string(name), id).first->first);
    return id;
}

PackedLabels::PackedLabels(const Labels& labels, LabelNames& names) {
    std::string body;
    for (const auto& [name, value] : labels) {
        if (value.empty()) continue;
        put_varint(body, names.id(name));
        put_varint(body, value.size());
        body.append(value);
    }
    if (body.empty()) return;
    std::string head;
    put_varint(head, body.size());
    block_ = std::make_unique_for_overwrite<char[]>(head.size() + body.size());
    std::memcpy(block_.get(), head.data(), head.size());
    std::memcpy(block_.get() + head.size(), body.data(), body.size());
}

std::size_t PackedLabels::bytes() const {
    if (!block_) return 0;
    const char* p = block_.get();
    const auto size = get_varint(p);
    return static_cast<std::size_t>(p - block_.get()) + size;
}

void PackedLabels::view(const LabelNames& names,
                        std::vector<text_exposition::LabelView>& out) const {
    out.clear();
    if (!block_) return;
    const char* p = block_.get();
    const auto size = get_varint(p);
    const char* end = p + size;
    while (p < end) {
        const auto id = static_cast<std::uint32_t>(get_varint(p));
        const auto n = get_varint(p);
        out.emplace_back(names.name(id), std::string_view(p, n));
        p += n;
    }
}

std::vector<std::pair<std::string, std::string>> PackedLabels::unpack(
    const LabelNames& names) const {
    std::vector<text_exposition::LabelView> views;
    view(names, views);
    std::vector<std::pair<std::string, std::string>> out;
    out.reserve(views.size());
    for (const auto& [name, value] : views)
        out.emplace_back(name, value);
    return out;
}

bool operator==(const PackedLabels& a, const PackedLabels& b) {
    const std::size_t n = a.bytes();
    return n == b.bytes() && (n == 0 || std::memcmp(a.block_.get(), b.block_.get(), n) == 0);
}

}  // namespace fedprobe
