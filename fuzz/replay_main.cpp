// Replays files through a fuzz target: `NAME_replay DIR|FILE...`. Used by the test suite to
// run the seed corpora (and any crash a fuzzing run saved) under ASan/UBSan with g++.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>
#include <vector>

#include "fuzz/fuzz_target.hpp"

namespace {

bool replay(const std::filesystem::path& file) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        std::fprintf(stderr, "cannot read %s\n", file.c_str());
        return false;
    }
    std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    std::size_t files = 0;
    for (int i = 1; i < argc; ++i) {
        std::error_code ec;
        const std::filesystem::path arg(argv[i]);
        if (std::filesystem::is_directory(arg, ec)) {
            for (const auto& e : std::filesystem::recursive_directory_iterator(arg, ec)) {
                if (!e.is_regular_file()) continue;
                if (!replay(e.path())) return 1;
                ++files;
            }
        } else {
            if (!replay(arg)) return 1;
            ++files;
        }
        if (ec) {
            std::fprintf(stderr, "%s: %s\n", argv[i], ec.message().c_str());
            return 1;
        }
    }
    if (files == 0) {
        std::fprintf(stderr, "no inputs: the corpus is missing\n");
        return 1;
    }
    std::printf("%zu inputs replayed without a crash\n", files);
    return 0;
}
