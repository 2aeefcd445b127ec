#include "probes/kinds.hpp"

namespace fedprobe {

std::string kind_names() {
    std::string out;
    for (auto name : Kinds::names) {
        if (!out.empty()) out += ", ";
        out += name;
    }
    return out;
}

}  // namespace fedprobe
