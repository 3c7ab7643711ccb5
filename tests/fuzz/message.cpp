// JSON messages from web pages, gateways and the broker: parse_message and
// what is done with a parsed message (serialize, write requests, values),
// and a gateway core handed the text as a broker message. Run with
// -max_len=4096 (scripts/fuzz): JSON nested thousands deep is a known
// crash being fixed separately (a depth limit at parse time).
#include "common/message.hpp"
#include "fuzz_check.hpp"
#include "fuzz_util.hpp"
#include "gateways/core/gateway_core.hpp"

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

using namespace aiot;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto text = fuzz::as_text(data, size);
    const auto parsed = common::parse_message(text);
    if (!parsed) {
        AIOT_FUZZ_CHECK(!parsed.error.empty() && parsed.error.size() <= 123);
    } else {
        const auto& body = parsed.msg->body;
        AIOT_FUZZ_CHECK(body.is_object());
        // What the broker forwards parses again to the same message.
        const auto again = common::parse_message(common::serialize(body));
        AIOT_FUZZ_CHECK(again && again.msg->type == parsed.msg->type);
        if (const auto w = common::parse_write_request(body)) {
            AIOT_FUZZ_CHECK(body.contains("data"));
        }
        for (const auto& [key, value] : body.items()) {
            common::value_text(value);
        }
    }

    // A gateway with one node receives the text from the broker.
    static const auto log = fuzz::quiet_logger("gw");
    gw::gateway_core core(gw::core_config{"Fuzz"}, log);
    core.broker_connected(gw::time_point{});
    core.node_added("node-1", gw::time_point{}, {{"led", common::json("0")}});
    core.take_output();
    core.broker_message(text);
    const auto out = core.take_output();
    for (const auto& m : out.to_broker) {
        AIOT_FUZZ_CHECK(common::parse_message(m));
    }
    return 0;
}
