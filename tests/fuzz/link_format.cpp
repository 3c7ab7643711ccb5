// A node's answer to GET /.well-known/core (RFC 6690 link format) and the
// resource paths the CoAP gateway reads from it.
#include "fuzz_check.hpp"
#include "fuzz_util.hpp"
#include "gateways/coap/link_format.hpp"

#include <cstddef>
#include <cstdint>
#include <set>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace aiot::gw::coap;
    const auto text = aiot::fuzz::as_text(data, size);
    const auto list = parse_link_format(text, 16);
    AIOT_FUZZ_CHECK(list.links.size() <= 16);
    for (const auto& l : list.links) {
        l.param("rt");
        l.param("");
    }
    const auto paths = local_paths(list.links, 8);
    AIOT_FUZZ_CHECK(paths.size() <= 8);
    std::set<std::string> seen;
    for (const auto& p : paths) {
        AIOT_FUZZ_CHECK(!p.empty() && p.front() != '/');
        AIOT_FUZZ_CHECK(p != ".well-known/core");
        AIOT_FUZZ_CHECK(p.find_first_of("?#") == std::string::npos);
        AIOT_FUZZ_CHECK(seen.insert(p).second); // no duplicates
    }
    return 0;
}
