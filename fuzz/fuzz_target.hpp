// The entry point every fuzz target defines, as libFuzzer calls it. The same sources build
// two ways: with clang's -fsanitize=fuzzer for fuzzing (meson -Dfuzz=true, tools/fuzz), and
// with replay_main.cpp in every ordinary and sanitizer build, where the suite replays the
// seed corpora under fuzz/corpus/. One call at a time; any thread.
#pragma once

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);
