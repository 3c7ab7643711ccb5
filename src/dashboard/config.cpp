#include "config.hpp"

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

} // namespace aiot::dashboard
