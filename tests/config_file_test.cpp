#include "config/config_file.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>

using namespace fedprobe;

namespace {
struct TempDir {
    std::string path;
    TempDir() {
        char tmpl[] = "/tmp/fedprobe-config-file-XXXXXX";
        REQUIRE(mkdtemp(tmpl) != nullptr);
        path = tmpl;
    }
    ~TempDir() { std::system(("rm -rf " + path).c_str()); }
    std::string write(const std::string& name, const std::string& text) {
        std::ofstream(path + "/" + name, std::ios::binary) << text;
        return path + "/" + name;
    }
};
}  // namespace

TEST_CASE("a regular file is read whole, NUL bytes and all") {
    TempDir d;
    std::string text = "[fedprobe]\nsite = \"a\"\n";
    text.push_back('\0');
    text += "tail";
    auto r = read_config_file(d.write("fed.toml", text));
    REQUIRE(r.ok());
    CHECK(*r == text);
    auto empty = read_config_file(d.write("empty.toml", ""));
    REQUIRE(empty.ok());
    CHECK(empty->empty());
}

TEST_CASE("a file over the limit is refused with its size and the limit") {
    TempDir d;
    auto at_limit = read_config_file(d.write("ok.toml", std::string(100, '#')), 100);
    REQUIRE(at_limit.ok());
    CHECK(at_limit->size() == 100);
    auto over = read_config_file(d.write("big.toml", std::string(101, '#')), 100);
    REQUIRE_FALSE(over.ok());
    CHECK(over.status().message().find("is 101 bytes") != std::string::npos);
    CHECK(over.status().message().find("at most 100") != std::string::npos);
}

TEST_CASE("directories, devices and FIFOs are refused at once, never read or waited on") {
    TempDir d;
    auto dir = read_config_file(d.path);
    REQUIRE_FALSE(dir.ok());
    CHECK(dir.status().message().find("is a directory") != std::string::npos);

    auto zero = read_config_file("/dev/zero");
    REQUIRE_FALSE(zero.ok());
    CHECK(zero.status().message().find("character device") != std::string::npos);

    std::string fifo = d.path + "/fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    auto t0 = std::chrono::steady_clock::now();
    auto f = read_config_file(fifo);  // no writer: a blocking open would never return
    CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(1));
    REQUIRE_FALSE(f.ok());
    CHECK(f.status().message().find("is a FIFO") != std::string::npos);
}

TEST_CASE("a missing or unreadable file says why") {
    auto r = read_config_file("/nonexistent/fed.toml");
    REQUIRE_FALSE(r.ok());
    CHECK(r.status().message() == "cannot open the file: No such file or directory");
}
