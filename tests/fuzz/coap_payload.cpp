// What CoAP nodes send the gateway: POST /alive and /server payloads, and
// the answers to the gateway's own requests (the /.well-known/core link
// format, resource values, write results), through coap_logic and a real
// gateway_core. The input is lines; each line's first byte is the event,
// its second the node (one of four addresses), the rest the payload:
//   a  POST /alive          s  POST /server
//   r  2.05 answer to the oldest request      e  4.04 answer to it
//   t  no answer to it (timeout)              w  a web write "uid endpoint payload"
// Every line also goes through the payload parsers and text helpers.
#include "core_sink.hpp"
#include "fuzz_check.hpp"
#include "fuzz_util.hpp"
#include "gateways/coap/coap_logic.hpp"
#include "gateways/coap/payload.hpp"
#include "common/message.hpp"

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

using namespace aiot;
using namespace aiot::gw::coap;

namespace {

void check_helpers(std::string_view text)
{
    if (const auto a = parse_alive(text)) {
        AIOT_FUZZ_CHECK(!a.value->uid.empty());
        AIOT_FUZZ_CHECK(fuzz::utf8_ok(a.value->uid));
    } else {
        AIOT_FUZZ_CHECK(!a.error.empty());
    }
    if (const auto s = parse_server(text)) {
        AIOT_FUZZ_CHECK(!s.value->resource.empty());
    }
    AIOT_FUZZ_CHECK(fuzz::utf8_ok(to_valid_utf8(text)));
    const auto p = printable(text, 40);
    AIOT_FUZZ_CHECK(fuzz::utf8_ok(p));
    for (const auto& segment : split_path(text)) {
        AIOT_FUZZ_CHECK(!segment.empty());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const auto log = fuzz::quiet_logger("gw.coap");
    gw::gateway_core core(gw::core_config{"CoAP"}, log);
    logic_config config;
    config.max_nodes = 4;
    config.max_resources = 8;
    coap_logic logic(config, log);
    core.broker_connected(gw::time_point{});

    std::deque<coap_request> pending;
    for (const auto line : fuzz::split(fuzz::as_text(data, size), '\n')) {
        check_helpers(line);
        if (line.size() < 2) {
            continue;
        }
        const peer from{"127.0.0." + std::to_string(2 + (static_cast<unsigned char>(line[1]) & 3))};
        const auto payload = line.substr(2);
        switch (line[0]) {
        case 'a':
            logic.on_alive(payload, from);
            fuzz::settle(core, logic);
            break;
        case 's':
            logic.on_server(payload, from);
            fuzz::settle(core, logic);
            break;
        case 'r':
        case 'e':
        case 't':
            if (!pending.empty()) {
                const auto req = pending.front();
                pending.pop_front();
                coap_result r;
                if (line[0] != 't') {
                    r.answered = true;
                    r.code = line[0] == 'r' ? code::content : code::not_found;
                    r.payload = std::string(payload);
                } else {
                    r.error = "no answer";
                }
                logic.on_result(req.id, r);
                fuzz::settle(core, logic);
            }
            break;
        case 'w': {
            const auto parts = fuzz::split(payload, ' ');
            if (parts.size() >= 3) {
                logic.on_write({std::string(parts[0]), std::string(parts[1]),
                                std::string(parts[2]), "client"});
            }
            break;
        }
        default:
            break;
        }
        for (auto& req : logic.take_requests()) {
            pending.push_back(std::move(req));
        }
        for (const auto& m : core.take_output().to_broker) {
            AIOT_FUZZ_CHECK(common::parse_message(m)); // every message to the broker is valid
        }
    }
    AIOT_FUZZ_CHECK(logic.nodes().size() <= 4);
    return 0;
}
