// What a websocket node sends the ws gateway ({"type":"update","data":{...}}).
#include "common/message.hpp"
#include "fuzz_check.hpp"
#include "fuzz_util.hpp"
#include "gateways/ws/node_message.hpp"

#include <cstddef>
#include <cstdint>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    using namespace aiot;
    const auto m = gw::ws::parse_node_message(fuzz::as_text(data, size), 8);
    if (m.valid()) {
        AIOT_FUZZ_CHECK(m.updates.size() <= 8);
        for (const auto& u : m.updates) {
            common::value_text(u.value);
            common::serialize(u.value);
        }
    } else {
        AIOT_FUZZ_CHECK(m.error.size() <= 123);
    }
    return 0;
}
