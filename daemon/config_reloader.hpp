// Reading the federation file for a reload on a thread of its own, so that a large file never
// stalls probing, with the result handed back on the event loop's thread. A request while a
// load is running is remembered and served by one more load when it ends, so a burst of
// SIGHUPs reads the file at most twice, and the last read always sees the newest file.
//
// Every member function runs on the event loop's thread. The one worker thread it starts only
// reads the file and parses it (load_config_file shares nothing), then wakes the loop through
// an eventfd.
#pragma once

#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/event_loop.hpp"
#include "core/status.hpp"
#include "federation/loader.hpp"

namespace fedprobe {

class ConfigReloader {
  public:
    using Started = std::function<void()>;
    using Loaded = std::function<void(LoadResult)>;

    // `trust`: a reload needs the file's signatures as the start did (--trusted-keys).
    ConfigReloader(EventLoop& loop, std::string path, std::optional<std::string> site_override,
                   ConfigTrust trust, Started on_started, Loaded on_loaded);
    ~ConfigReloader();  // waits for a load that is running (bounded by the file size limit)
    ConfigReloader(const ConfigReloader&) = delete;
    ConfigReloader& operator=(const ConfigReloader&) = delete;

    Status init();   // the eventfd, watched on the loop
    void request();  // load now, or once more after the load that is running

  private:
    EventLoop& loop_;
    const std::string path_;
    const std::optional<std::string> site_override_;
    const ConfigTrust trust_;
    Started on_started_;
    Loaded on_loaded_;
    int event_fd_ = -1;
    std::thread worker_;
    bool loading_ = false;
    bool again_ = false;
    std::mutex mutex_;
    std::optional<LoadResult> result_;  // guarded by mutex_: written by the worker

    void start();
    void on_done();
};

}  // namespace fedprobe
