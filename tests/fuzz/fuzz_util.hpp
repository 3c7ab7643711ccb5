#pragma once
// Small helpers shared by the fuzz targets (tests/fuzz/*.cpp).
#include <spdlog/logger.h>
#include <spdlog/sinks/null_sink.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

namespace aiot::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size)
{
    return {reinterpret_cast<const char*>(data), size};
}

// Splits text at every `sep` (the pieces may be empty).
inline std::vector<std::string_view> split(std::string_view text, char sep)
{
    std::vector<std::string_view> out;
    while (true) {
        const auto at = text.find(sep);
        out.push_back(text.substr(0, at));
        if (at == std::string_view::npos) {
            return out;
        }
        text.remove_prefix(at + 1);
    }
}

// A logger at debug level that writes nowhere: log lines are still
// formatted (untrusted text goes through fmt), but the run stays quiet.
inline std::shared_ptr<spdlog::logger> quiet_logger(const char* name)
{
    auto log = std::make_shared<spdlog::logger>(name, std::make_shared<spdlog::sinks::null_sink_st>());
    log->set_level(spdlog::level::debug);
    return log;
}

} // namespace aiot::fuzz
