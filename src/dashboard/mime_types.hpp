#pragma once
#include <string_view>

namespace aiot::dashboard {

// Content-Type for a file name, by its extension (case-insensitive);
// application/octet-stream when unknown. Text types carry charset=utf-8.
std::string_view mime_type(std::string_view file_name);

} // namespace aiot::dashboard
