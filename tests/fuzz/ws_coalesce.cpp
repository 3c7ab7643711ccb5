// The broker's batches for web clients (ws::append_coalesced): the input
// is a list of messages (separated by '\n', so none holds one) with, in
// between, control frames (a 0x01 byte: a ping, its payload up to the next
// separator), and a size limit chosen by its first two bytes. Whatever the
// input, the coalesced bytes decode, with the client's own decoder, into
// the messages in order (each line one message), the control frames in
// their places, and no frame over the limit unless it holds one message.
#include "broker/ws/frame.hpp"
#include "fuzz_check.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace ws = aiot::broker::ws;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 2) {
        return 0;
    }
    const std::size_t limit = 1 + ((static_cast<std::size_t>(data[0]) << 8) | data[1]) % 4096;
    std::string_view rest(reinterpret_cast<const char*>(data) + 2, size - 2);
    std::vector<std::shared_ptr<const std::string>> frames;
    std::vector<std::string> want; // messages, and "\x01payload" for a ping
    while (true) {
        const auto end = rest.find('\n');
        const auto item = rest.substr(0, end);
        if (!item.empty() && item.front() == '\x01') {
            const auto payload = item.substr(1, 125);
            frames.push_back(std::make_shared<const std::string>(ws::encode_frame(ws::opcode::ping, payload)));
            want.push_back("\x01" + std::string(payload));
        } else if (!item.empty()) {
            frames.push_back(std::make_shared<const std::string>(ws::encode_frame(ws::opcode::text, item)));
            want.emplace_back(item);
        }
        if (end == std::string_view::npos) {
            break;
        }
        rest.remove_prefix(end + 1);
    }
    std::string out;
    const auto appended = ws::append_coalesced(out, frames, limit);
    AIOT_FUZZ_CHECK(appended <= frames.size());

    // The client's decoder, with no UTF-8 check in the way: binary-safe
    // comparison of what came out with what went in.
    ws::decoder d(ws::role::client, 1u << 20);
    std::vector<std::string> got;
    std::size_t events = 0;
    bool failed = false;
    d.feed(std::span<char>(out.data(), out.size()), [&](const ws::event& e) {
        ++events;
        if (e.type == ws::event::kind::error) {
            // Only invalid UTF-8 may be refused: the same bytes one message
            // a frame would be refused too.
            AIOT_FUZZ_CHECK(e.code == ws::close_code::invalid_payload);
            failed = true;
            return;
        }
        if (e.type == ws::event::kind::ping) {
            got.push_back("\x01" + std::string(e.payload));
            return;
        }
        AIOT_FUZZ_CHECK(e.type == ws::event::kind::message && e.op == ws::opcode::text);
        AIOT_FUZZ_CHECK(e.payload.size() <= limit || e.payload.find('\n') == std::string_view::npos);
        std::string_view lines = e.payload;
        while (true) {
            const auto end = lines.find('\n');
            got.emplace_back(lines.substr(0, end));
            if (end == std::string_view::npos) {
                break;
            }
            lines.remove_prefix(end + 1);
        }
    });
    if (failed) {
        return 0;
    }
    AIOT_FUZZ_CHECK(events == appended);
    AIOT_FUZZ_CHECK(got == want);
    return 0;
}
