// The dashboard's request target to file path: whatever the target, an
// accepted path has only plain segments that cannot leave the web root.
#include "dashboard/url_path.hpp"
#include "fuzz_check.hpp"
#include "fuzz_util.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace aiot::dashboard;
    const auto r = parse_url_path(aiot::fuzz::as_text(data, size));
    if (r.status != path_status::ok) {
        AIOT_FUZZ_CHECK(!r.reason.empty());
        return 0;
    }
    for (const auto& s : r.segments) {
        AIOT_FUZZ_CHECK(!s.empty());
        AIOT_FUZZ_CHECK(s.front() != '.'); // no dot segment, no hidden name
        AIOT_FUZZ_CHECK(s.find_first_of(std::string_view("/\\\0", 3)) == std::string::npos);
        for (const char c : s) {
            AIOT_FUZZ_CHECK(static_cast<unsigned char>(c) >= 0x20 && c != 0x7F);
        }
    }
    return 0;
}
