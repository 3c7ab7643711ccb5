// The Python-style config file (--config FILE): any text either parses or
// throws config_error naming the origin and line; what parses is sane.
#include "common/config_file.hpp"
#include "fuzz_check.hpp"
#include "fuzz_util.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace aiot::common;
    const auto text = aiot::fuzz::as_text(data, size);
    try {
        int last_line = 0;
        for (const auto& e : parse_config(text, "fuzz.conf")) {
            AIOT_FUZZ_CHECK(!e.name.empty());
            AIOT_FUZZ_CHECK(e.line > last_line); // one entry per line, in order
            last_line = e.line;
        }
    } catch (const config_error& e) {
        AIOT_FUZZ_CHECK(std::string_view(e.what()).starts_with("fuzz.conf:"));
    }
    return 0;
}
