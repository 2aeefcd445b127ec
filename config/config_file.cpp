#include "config/config_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace fedprobe {
namespace {

const char* kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

class Fd {
  public:
    explicit Fd(int fd) : fd_(fd) {}
    ~Fd() {
        if (fd_ >= 0) close(fd_);
    }
    Fd(const Fd&) = delete;
    Fd& operator=(const Fd&) = delete;
    int get() const { return fd_; }

  private:
    int fd_;
};

}  // namespace

Result<std::string> read_bounded(std::istream& in, std::size_t max_bytes, std::string_view name) {
    std::string text;
    char buf[65536];
    while (in.read(buf, sizeof buf) || in.gcount() > 0) {
        text.append(buf, static_cast<std::size_t>(in.gcount()));
        if (text.size() > max_bytes)
            return Status::error(std::string(name) + ": more than " +
                                 std::to_string(max_bytes / (1024 * 1024)) + " MiB");
    }
    if (in.bad()) return Status::error(std::string(name) + ": read error");
    return text;
}

Result<std::string> read_config_file(const std::string& path, std::size_t max_bytes,
                                     std::string_view what) {
    const bool config = what == "a config file";
    // O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer forever. It
    // changes nothing for the regular file that is the only thing read.
    Fd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
    if (fd.get() < 0)
        return config ? Status::from_errno("cannot open the file", errno)
                      : Status::error(std::strerror(errno));  // the caller names the file
    struct stat st {};
    if (fstat(fd.get(), &st) != 0) return Status::from_errno("cannot stat the file", errno);
    if (!S_ISREG(st.st_mode))
        return Status::error(std::string("is ") + kind_of(st.st_mode) + ", not a regular file" +
                             (config ? "; --config takes a federation TOML file" : ""));
    auto too_big = [&](std::size_t size) {
        return Status::error("is " + std::to_string(size) + " bytes; " + std::string(what) +
                             " may be at most " + std::to_string(max_bytes) + " (" +
                             std::to_string(max_bytes / (1024 * 1024)) + " MiB)");
    };
    if (static_cast<std::uintmax_t>(st.st_size) > max_bytes)
        return too_big(static_cast<std::size_t>(st.st_size));
    std::string text;
    text.resize(static_cast<std::size_t>(st.st_size));
    std::size_t got = 0;
    // Read until end of file: the file may change while it is read, but never past the limit.
    for (;;) {
        if (got == text.size()) {
            if (text.size() > max_bytes) return too_big(text.size());
            text.resize(std::min(max_bytes + 1, text.size() + 4096));
        }
        ssize_t n = read(fd.get(), text.data() + got, text.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            return Status::from_errno("cannot read the file", errno);
        }
        if (n == 0) break;
        got += static_cast<std::size_t>(n);
    }
    text.resize(got);
    if (got > max_bytes) return too_big(got);
    return text;
}

}  // namespace fedprobe
