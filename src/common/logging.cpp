#include "logging.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>

#include <mutex>

namespace aiot::common {
namespace {

std::mutex mutex;
spdlog::sink_ptr shared_sink;

spdlog::sink_ptr sink()
{
    if (!shared_sink) {
        shared_sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    }
    return shared_sink;
}

} // namespace

void init_logging(bool debug)
{
    std::lock_guard lock(mutex);
    spdlog::set_pattern("%Y-%m-%d %H:%M:%S.%e %^%-5l%$ [%n] %v");
    spdlog::set_level(debug ? spdlog::level::debug : spdlog::level::info);
    spdlog::flush_on(spdlog::level::info);
}

std::shared_ptr<spdlog::logger> get_logger(const std::string& name)
{
    std::lock_guard lock(mutex);
    if (auto existing = spdlog::get(name)) {
        return existing;
    }
    auto logger = std::make_shared<spdlog::logger>(name, sink());
    // initialize_logger applies the global level, pattern and flush level.
    spdlog::initialize_logger(logger);
    return logger;
}

} // namespace aiot::common
