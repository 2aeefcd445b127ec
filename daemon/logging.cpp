#include "daemon/logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

#include <cstdlib>

namespace fedprobe {

bool setup_logging(const std::string& level) {
    auto lvl = spdlog::level::from_str(level);
    if (lvl == spdlog::level::off && level != "off") return false;
    std::shared_ptr<spdlog::logger> logger;
    // systemd sets JOURNAL_STREAM when stderr goes to the journal; log there with priorities.
    if (std::getenv("JOURNAL_STREAM") != nullptr) {
        logger = std::make_shared<spdlog::logger>(
            "fedprobe", std::make_shared<spdlog::sinks::systemd_sink_mt>("fedprobe"));
    } else {
        logger = spdlog::stderr_color_mt("fedprobe");
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %^%l%$ %v");
    }
    logger->set_level(lvl);
    spdlog::set_default_logger(logger);
    return true;
}

}  // namespace fedprobe
