#include "config.hpp"

#include <cstdlib>
#include <system_error>

namespace aiot::dashboard {

std::filesystem::path default_static_path()
{
    const std::filesystem::path installed{AIOT_WEB_INSTALL_DIR};
    std::error_code ec;
    if (std::filesystem::is_regular_file(installed / "index.html", ec)) {
        return installed;
    }
    return std::filesystem::path{AIOT_WEB_SOURCE_DIR};
}

std::filesystem::path default_history_db()
{
    const char* home = std::getenv("HOME");
    if (home == nullptr || *home == '\0') {
        return "history.db";
    }
    return std::filesystem::path{home} / ".pyaiot" / "history.db";
}

} // namespace aiot::dashboard
