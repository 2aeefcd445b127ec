#include "daemon/config_reloader.hpp"

#include <malloc.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

namespace fedprobe {

ConfigReloader::ConfigReloader(EventLoop& loop, std::string path,
                               std::optional<std::string> site_override, ConfigTrust trust,
                               Started on_started, Loaded on_loaded)
    : loop_(loop),
      path_(std::move(path)),
      site_override_(std::move(site_override)),
      trust_(std::move(trust)),
      on_started_(std::move(on_started)),
      on_loaded_(std::move(on_loaded)) {}

ConfigReloader::~ConfigReloader() {
    if (worker_.joinable()) worker_.join();
    if (event_fd_ >= 0) {
        loop_.remove_fd(event_fd_);
        close(event_fd_);
    }
}

Status ConfigReloader::init() {
    event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (event_fd_ < 0) return Status::from_errno("eventfd", errno);
    return loop_.add_fd(event_fd_, EPOLLIN, [this](std::uint32_t) { on_done(); });
}

void ConfigReloader::request() {
    if (loading_) {
        again_ = true;
        return;
    }
    start();
}

void ConfigReloader::start() {
    loading_ = true;
    if (on_started_) on_started_();
    worker_ = std::thread([this] {
        LoadResult loaded = load_config_file(path_, site_override_, trust_);
        {
            std::lock_guard lock(mutex_);
            result_ = std::move(loaded);
        }
        // The parse tree is gone now; give its pages back, or a 8 MB file's few hundred MB
        // stay in this thread's malloc arena for the life of the process.
        malloc_trim(0);
        std::uint64_t one = 1;
        // Cannot fail short of a bug: the counter is far from overflowing and the fd is ours.
        (void)!write(event_fd_, &one, sizeof one);
    });
}

void ConfigReloader::on_done() {
    std::uint64_t count = 0;
    if (read(event_fd_, &count, sizeof count) != sizeof count) return;  // EAGAIN: not yet
    worker_.join();
    std::optional<LoadResult> loaded;
    {
        std::lock_guard lock(mutex_);
        loaded.swap(result_);
    }
    loading_ = false;
    if (loaded) on_loaded_(std::move(*loaded));
    if (again_) {
        again_ = false;
        start();
    }
}

}  // namespace fedprobe
