#pragma once
#include <string>
#include <string_view>

namespace aiot::dashboard {

// Content-Type for a file name, by its extension (case-insensitive);
// application/octet-stream when unknown. Text types carry charset=utf-8.
std::string_view mime_type(std::string_view file_name);

// The extension of a file name (after its last '/'), in lower case and
// without the dot; empty if there is none (".hidden" has none).
std::string file_extension(std::string_view file_name);

} // namespace aiot::dashboard
