// Websocket conformance, differentially (issue 17): every case, in the
// spirit of the Autobahn testsuite's groups, runs over raw TCP with
// hand-made masked frames against four targets: aiot-broker's /ws and /gw
// and the same paths of beast_reference_server (Boost.Beast's
// websocket::stream). Each target must show the outcome the case expects
// from RFC 6455: the frames answered, the close code (or none), whether the
// TCP connection was ended, whether the connection is still usable, and how
// many of the case's messages were routed on. Where the broker is allowed to
// differ (a deliberate policy), the case says so with its RFC section.
//
// Observing a target: an observer connection on the other path receives
// what the case connection's messages are routed to (a /gw message reaches
// /ws connections and the reverse, in both servers), and a marker
// connection on the case's path sends a message after the case: once the
// observer has the marker, everything the case routed has arrived.
// Usability: a ping answered with a pong, then a message routed on.
#include "common/fernet.hpp"
#include "common/keys.hpp"
#include "broker/ws/frame.hpp"
#include "broker/ws/client_handshake.hpp"
#include "support/process.hpp"
#include "support/system_helpers.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <deque>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

// Frames are written with designated initializers that name only what a
// case changes; GCC 12 warns about every member left to its default.
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"

namespace {

using namespace std::chrono_literals;
using aiot::test::process;
namespace common = aiot::common;
namespace ws = aiot::broker::ws;
using steady = std::chrono::steady_clock;

constexpr std::size_t max_message_size = 1024 * 1024; // aiot-broker's default
constexpr auto answer_timeout = 3s; // only reached when an outcome is wrong

// ---------------------------------------------------------------- frames

enum class length_form { minimal, bits16, bits64 };

struct frame_spec {
    bool fin = true;
    std::uint8_t rsv = 0;   // RSV1..3 as bits 0x40, 0x20, 0x10
    std::uint8_t op = 0x1;
    std::string payload;
    bool masked = true;
    length_form form = length_form::minimal;
    std::optional<std::uint64_t> declared_length = std::nullopt; // a length header that lies
};

std::string frame(const frame_spec& f)
{
    std::string out;
    out.push_back(static_cast<char>((f.fin ? 0x80 : 0) | f.rsv | f.op));
    const std::uint64_t n = f.declared_length.value_or(f.payload.size());
    const std::uint8_t mask_bit = f.masked ? 0x80 : 0;
    auto form = f.form;
    if (form == length_form::minimal) {
        form = n < 126 ? length_form::minimal : n <= 0xFFFF ? length_form::bits16
                                                             : length_form::bits64;
    }
    if (form == length_form::minimal) {
        out.push_back(static_cast<char>(mask_bit | n));
    } else if (form == length_form::bits16) {
        out.push_back(static_cast<char>(mask_bit | 126));
        out.push_back(static_cast<char>(n >> 8));
        out.push_back(static_cast<char>(n & 0xFF));
    } else {
        out.push_back(static_cast<char>(mask_bit | 127));
        for (int shift = 56; shift >= 0; shift -= 8) {
            out.push_back(static_cast<char>((n >> shift) & 0xFF));
        }
    }
    const std::uint8_t key[4] = {0x37, 0xFA, 0x21, 0x3D};
    if (f.masked) {
        out.append(reinterpret_cast<const char*>(key), 4);
    }
    for (std::size_t i = 0; i < f.payload.size(); ++i) {
        const auto b = static_cast<std::uint8_t>(f.payload[i]);
        out.push_back(static_cast<char>(f.masked ? b ^ key[i & 3] : b));
    }
    return out;
}

std::string text(std::string payload, bool fin = true)
{
    return frame({.fin = fin, .op = 0x1, .payload = std::move(payload)});
}
std::string binary(std::string payload, bool fin = true)
{
    return frame({.fin = fin, .op = 0x2, .payload = std::move(payload)});
}
std::string continuation(std::string payload, bool fin = true)
{
    return frame({.fin = fin, .op = 0x0, .payload = std::move(payload)});
}
std::string ping(std::string payload) { return frame({.op = 0x9, .payload = std::move(payload)}); }
std::string pong(std::string payload) { return frame({.op = 0xA, .payload = std::move(payload)}); }
std::string close_frame(std::string payload)
{
    return frame({.op = 0x8, .payload = std::move(payload)});
}
std::string close_with(std::uint16_t code, std::string_view reason = {})
{
    std::string p;
    p.push_back(static_cast<char>(code >> 8));
    p.push_back(static_cast<char>(code & 0xFF));
    p.append(reason);
    return close_frame(std::move(p));
}

// ---------------------------------------------------------------- wire

// One raw websocket client connection; every read is bounded by a deadline.
class wire {
public:
    struct frame_event {
        enum class kind { message, ping, pong, close, error, eof, timeout } type;
        std::string payload;
        std::uint16_t code = 0;
    };

    explicit wire(std::uint16_t port)
        : fd_(aiot::test::connect_loopback(port, true)),
          connected_(fd_ >= 0),
          decoder_(ws::role::client, 8 * max_message_size)
    {
    }
    ~wire() { ::close(fd_); }
    wire(const wire&) = delete;
    wire& operator=(const wire&) = delete;

    // Opening handshake on target; protocol is sent as Sec-WebSocket-Protocol.
    bool upgrade(const std::string& target, const std::string& protocol)
    {
        const std::string key = "x3JJHMbDL1EzLkh9GBhXDw==";
        if (!connected_ ||
            !write(aiot::broker::ws::client_handshake_request("127.0.0.1", target, key, protocol))) {
            return false;
        }
        // One byte at a time: nothing after the head may be taken from the socket.
        std::string head;
        const auto deadline = steady::now() + 5s;
        char c = 0;
        while (head.find("\r\n\r\n") == std::string::npos) {
            if (!readable(deadline) || ::recv(fd_, &c, 1, 0) != 1) {
                return false;
            }
            head.push_back(c);
        }
        return aiot::broker::ws::client_handshake_accepted(head, key);
    }

    bool write(std::string_view bytes)
    {
        while (!bytes.empty()) {
            const auto n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
            if (n <= 0) {
                return false;
            }
            bytes.remove_prefix(static_cast<std::size_t>(n));
        }
        return true;
    }

    // The next frame (or eof / timeout / a decoding error).
    frame_event next(steady::time_point deadline)
    {
        while (events_.empty()) {
            if (eof_) {
                return {frame_event::kind::eof, {}, 0};
            }
            if (!readable(deadline)) {
                return {frame_event::kind::timeout, {}, 0};
            }
            receive_some();
        }
        auto e = std::move(events_.front());
        events_.pop_front();
        return e;
    }

    // Reads and drops whatever has already arrived (no waiting).
    void discard_pending()
    {
        while (!eof_ && readable(steady::now())) {
            receive_some();
        }
        events_.clear();
    }

private:
    bool readable(steady::time_point deadline)
    {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
        pollfd p{fd_, POLLIN, 0};
        return ::poll(&p, 1, static_cast<int>(std::max<long>(0, left.count()))) > 0;
    }

    void receive_some()
    {
        char buf[65536];
        const auto n = ::recv(fd_, buf, sizeof buf, 0);
        if (n <= 0) {
            eof_ = true;
            return;
        }
        decoder_.feed(std::span<char>(buf, static_cast<std::size_t>(n)), [this](const ws::event& e) {
            using k = ws::event::kind;
            using fk = frame_event::kind;
            switch (e.type) {
            case k::message:
                events_.push_back({fk::message, std::string(e.payload), 0});
                break;
            case k::ping:
                events_.push_back({fk::ping, std::string(e.payload), 0});
                break;
            case k::pong:
                events_.push_back({fk::pong, std::string(e.payload), 0});
                break;
            case k::close:
                events_.push_back({fk::close, std::string(e.reason), e.code});
                break;
            case k::error:
                events_.push_back({fk::error, std::string(e.reason), e.code});
                break;
            }
        });
    }

    int fd_ = -1;
    bool connected_ = false;
    bool eof_ = false;
    ws::decoder decoder_;
    std::deque<frame_event> events_;
};

// ---------------------------------------------------------------- cases

enum class path { ws, gw };

// Builds the case's messages: valid for the broker on that path (a client's
// update goes to every gateway, a gateway's new with dst "all" to every
// subscribed client) and tagged so the observer can count them.
struct case_context {
    path p;
    std::string tag;

    // A message of exactly `size` bytes (at least the bare message's size),
    // optionally with `inner` (valid UTF-8 or not) inside its string.
    std::string message(std::size_t size = 0, std::string_view inner = {}) const
    {
        // The padding is not in the uid: the broker logs a new node's uid.
        // Each gateway message announces a node of its own: a page gets
        // one new per node until its out (docs/PROTOCOL.md).
        static int nodes = 0;
        std::string head = p == path::ws ? R"({"type":"update","data":")"
                                         : R"({"type":"new","dst":"all","uid":")" + tag + "." +
                                               std::to_string(++nodes) + R"(","pad":")";
        head += tag;
        head += inner;
        const std::string tail = "\"}";
        std::string m = head;
        if (size > head.size() + tail.size()) {
            m.append(size - head.size() - tail.size(), 'a');
        }
        return m + tail;
    }
};

// What a target did with a case.
struct outcome {
    std::vector<std::string> answers;      // frames before the probe / close
    std::optional<std::uint16_t> close;    // the server's close code
    bool tcp_closed = false;               // the server ended the TCP connection
    bool usable = false;                   // ping answered and a message routed on afterwards
    int delivered = 0;                     // case messages routed to the observer

    bool operator==(const outcome&) const = default;
};

std::ostream& operator<<(std::ostream& os, const outcome& o)
{
    os << "{answers [";
    for (const auto& a : o.answers) {
        os << (a.size() > 40 ? a.substr(0, 40) + "...(" + std::to_string(a.size()) + ")" : a)
           << "; ";
    }
    os << "], close " << (o.close ? std::to_string(*o.close) : "none")
       << ", tcp_closed " << o.tcp_closed << ", usable " << o.usable << ", delivered "
       << o.delivered << "}";
    return os;
}

struct expectation {
    std::vector<std::string> answers;
    std::optional<std::uint16_t> close;
    int delivered = 0;

    outcome as_outcome() const
    {
        return {answers, close, close.has_value(), !close.has_value(), delivered};
    }
};

expectation usable(int delivered, std::vector<std::string> answers = {})
{
    return {std::move(answers), std::nullopt, delivered};
}
expectation closes(std::uint16_t code, int delivered = 0,
                   std::vector<std::string> answers = {})
{
    return {std::move(answers), code, delivered};
}

struct conformance_case {
    std::string name;
    std::string group;
    std::function<std::string(const case_context&)> bytes;
    expectation expected;
    // The case's own bytes end with the client's close frame.
    bool client_closes = false;
    // Sent one byte per write instead of all at once.
    bool byte_by_byte = false;
    // A documented difference: what Beast, or the broker, does instead,
    // and why that is accepted (with the RFC 6455 section).
    std::optional<outcome> beast_expected = std::nullopt;
    std::optional<outcome> broker_expected = std::nullopt;
    std::string difference = {};
};

std::string pong_answer(std::string_view payload) { return "pong:" + std::string(payload); }

std::vector<conformance_case> all_cases()
{
    std::vector<conformance_case> c;
    using ctx = case_context;
    auto add = [&c](std::string group, std::string name,
                    std::function<std::string(const ctx&)> bytes, expectation e,
                    bool client_closes = false) {
        c.push_back({std::move(name), std::move(group), std::move(bytes), std::move(e),
                     client_closes});
    };

    // Framing (RFC 6455 5.2): each length form at its edges.
    for (const std::size_t size : {std::size_t{125}, std::size_t{126}, std::size_t{65535},
                                   std::size_t{65536}, max_message_size}) {
        add("framing", "text_of_" + std::to_string(size) + "_bytes",
            [size](const ctx& x) { return text(x.message(size)); }, usable(1));
    }
    add("framing", "binary_message_routed_like_text",
        [](const ctx& x) { return binary(x.message()); }, usable(1));
    add("framing", "two_messages_in_one_write",
        [](const ctx& x) { return text(x.message()) + text(x.message(60)); }, usable(2));
    c.push_back({"message_one_byte_per_write", "framing",
                 [](const ctx& x) { return ping("p") + text(x.message(300)); },
                 usable(1, {pong_answer("p")}), false, true});
    // 5.2: "the minimal number of bytes MUST be used to encode the length".
    add("framing", "non_minimal_16_bit_length",
        [](const ctx& x) {
            return frame({.payload = x.message(100), .form = length_form::bits16});
        },
        closes(ws::close_code::protocol_error));
    add("framing", "non_minimal_64_bit_length",
        [](const ctx& x) {
            return frame({.payload = x.message(300), .form = length_form::bits64});
        },
        closes(ws::close_code::protocol_error));
    add("framing", "empty_first_fragment",
        [](const ctx& x) { return text("", false) + continuation(x.message()); }, usable(1));
    add("framing", "empty_last_fragment",
        [](const ctx& x) { return text(x.message(), false) + continuation(""); }, usable(1));

    // Ping and pong (5.5.2, 5.5.3; 5.5: control payloads are at most 125).
    add("ping", "ping_empty", [](const ctx&) { return ping(""); }, usable(0, {pong_answer("")}));
    add("ping", "ping_125_bytes", [](const ctx&) { return ping(std::string(125, '\xfe')); },
        usable(0, {pong_answer(std::string(125, '\xfe'))}));
    add("ping", "ping_126_bytes", [](const ctx&) { return ping(std::string(126, 'x')); },
        closes(ws::close_code::protocol_error));
    // Three pings in one write arrive in one read.
    add("ping", "three_pings_at_once",
        [](const ctx&) { return ping("a") + ping("b") + ping("c"); },
        usable(0, {pong_answer("a"), pong_answer("b"), pong_answer("c")}));
    c.back().broker_expected = usable(0, {pong_answer("c")}).as_outcome();
    c.back().difference =
        "policy: the broker keeps at most one pong waiting and a newer ping replaces it, so a "
        "peer that pings and never reads cannot grow its queue; 5.5.3 allows answering only "
        "the most recent of unanswered pings";
    add("ping", "unsolicited_pong", [](const ctx&) { return pong("hello"); }, usable(0));
    add("ping", "pong_126_bytes", [](const ctx&) { return pong(std::string(126, 'x')); },
        closes(ws::close_code::protocol_error));
    add("ping", "ping_between_messages",
        [](const ctx& x) { return text(x.message()) + ping("mid") + text(x.message(70)); },
        usable(2, {pong_answer("mid")}));

    // Reserved bits without a negotiated extension (5.2: MUST fail).
    for (const std::uint8_t rsv : {0x40, 0x20, 0x10}) {
        const std::string bit = rsv == 0x40 ? "1" : rsv == 0x20 ? "2" : "3";
        add("reserved_bits", "rsv" + bit + "_on_text",
            [rsv](const ctx& x) { return frame({.rsv = rsv, .payload = x.message()}); },
            closes(ws::close_code::protocol_error));
        add("reserved_bits", "rsv" + bit + "_on_ping",
            [rsv](const ctx&) { return frame({.rsv = rsv, .op = 0x9, .payload = "p"}); },
            closes(ws::close_code::protocol_error));
    }
    add("reserved_bits", "rsv_after_a_good_message",
        [](const ctx& x) { return text(x.message()) + frame({.rsv = 0x70, .payload = "x"}); },
        closes(ws::close_code::protocol_error, 1));

    // Reserved opcodes (5.2: MUST fail).
    for (const std::uint8_t op : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
        add("opcodes", "opcode_" + std::to_string(op),
            [op](const ctx&) { return frame({.op = op, .payload = "x"}); },
            closes(ws::close_code::protocol_error));
    }
    // 5.1: a server MUST close on an unmasked client frame.
    add("opcodes", "unmasked_text",
        [](const ctx& x) { return frame({.payload = x.message(), .masked = false}); },
        closes(ws::close_code::protocol_error));
    add("opcodes", "unmasked_ping",
        [](const ctx&) { return frame({.op = 0x9, .payload = "p", .masked = false}); },
        closes(ws::close_code::protocol_error));

    // Fragmentation (5.4).
    add("fragmentation", "text_in_three_fragments",
        [](const ctx& x) {
            const auto m = x.message(200);
            return text(m.substr(0, 10), false) + continuation(m.substr(10, 100), false) +
                   continuation(m.substr(110));
        },
        usable(1));
    add("fragmentation", "binary_in_two_fragments",
        [](const ctx& x) {
            const auto m = x.message(90);
            return binary(m.substr(0, 30), false) + continuation(m.substr(30));
        },
        usable(1));
    add("fragmentation", "continuation_without_start",
        [](const ctx& x) { return continuation(x.message()); },
        closes(ws::close_code::protocol_error));
    add("fragmentation", "unfinished_continuation_without_start",
        [](const ctx& x) { return continuation(x.message(), false); },
        closes(ws::close_code::protocol_error));
    add("fragmentation", "new_message_before_the_end",
        [](const ctx& x) {
            const auto m = x.message();
            return text(m.substr(0, 5), false) + text(x.message());
        },
        closes(ws::close_code::protocol_error));
    add("fragmentation", "pings_between_fragments",
        [](const ctx& x) {
            const auto m = x.message(150);
            return text(m.substr(0, 50), false) + ping("a") + continuation(m.substr(50, 50), false) +
                   pong("unsolicited") + continuation(m.substr(100));
        },
        usable(1, {pong_answer("a")}));
    add("fragmentation", "fragmented_ping",
        [](const ctx&) {
            return frame({.fin = false, .op = 0x9, .payload = "a"}) + continuation("b");
        },
        closes(ws::close_code::protocol_error));
    add("fragmentation", "close_between_fragments",
        [](const ctx& x) { return text(x.message().substr(0, 8), false) + close_with(1000); },
        closes(1000), true);

    // UTF-8 (8.1: invalid text MUST fail the connection, 1007 by 7.4.1).
    add("utf8", "valid_multibyte_text",
        [](const ctx& x) { return text(x.message(0, "\xce\xba\xe1\xbd\xb9\xf0\x9f\x98\x80")); },
        usable(1));
    add("utf8", "valid_multibyte_split_across_fragments",
        [](const ctx& x) {
            const auto m = x.message(0, "\xf0\x9f\x98\x80");
            const auto cut = m.find('\xf0') + 2;
            return text(m.substr(0, cut), false) + continuation(m.substr(cut));
        },
        usable(1));
    add("utf8", "invalid_text", [](const ctx& x) { return text(x.message(0, "\xc0\xaf")); },
        closes(ws::close_code::invalid_payload));
    add("utf8", "surrogate_in_text", [](const ctx& x) { return text(x.message(0, "\xed\xa0\x80")); },
        closes(ws::close_code::invalid_payload));
    add("utf8", "invalid_split_across_fragments",
        [](const ctx& x) {
            const auto m = x.message(0, "\xe2\x28\xa1");
            const auto cut = m.find('\xe2') + 1;
            return text(m.substr(0, cut), false) + continuation(m.substr(cut));
        },
        closes(ws::close_code::invalid_payload));
    // 8.1 wants the failure when the bytes are found invalid, not when the
    // message ends: a message that never ends must fail too.
    add("utf8", "invalid_in_unfinished_message",
        [](const ctx& x) { return text(x.message().substr(0, 8) + "\xff", false); },
        closes(ws::close_code::invalid_payload));
    add("utf8", "invalid_close_reason",
        [](const ctx&) { return close_with(1000, "ok\xff"); },
        closes(ws::close_code::invalid_payload), true);
    c.back().beast_expected = closes(ws::close_code::protocol_error).as_outcome();
    c.back().difference =
        "Beast answers a close reason that is not UTF-8 with 1002; 8.1 makes invalid UTF-8 "
        "fail the connection and 7.4.1 names 1007 for data inconsistent with its type (as "
        "Autobahn 7.5.1 expects), so the broker keeps 1007";
    add("utf8", "invalid_binary_message",
        [](const ctx& x) { return binary(x.message(0, "\xff")); }, usable(1));
    c.back().broker_expected = closes(ws::close_code::invalid_payload).as_outcome();
    c.back().difference =
        "policy: the broker reads binary messages as JSON text (as pyaiot does), so one that is "
        "not UTF-8 closes with 1007; a binary message has no UTF-8 rule in 5.6, so Beast routes it";

    // Close handshake (5.5.1, 7.4).
    for (const std::uint16_t code : {1000, 1001, 1003, 1007, 1008, 1011, 3000, 4999}) {
        add("close", "close_" + std::to_string(code),
            [code](const ctx&) { return close_with(code, "bye"); }, closes(code), true);
    }
    for (const std::uint16_t code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
        add("close", "invalid_close_" + std::to_string(code),
            [code](const ctx&) { return close_with(code); },
            closes(ws::close_code::protocol_error), true);
        if (code >= 5000) {
            // Beast's close reply carries the code back, which the test's
            // client (our decoder) cannot take: it ends the connection.
            c.back().beast_expected = outcome{{"undecodable: invalid close code"}, std::nullopt,
                                              true, false, 0};
            c.back().difference =
                "Beast accepts and echoes codes from 5000 up; 7.4.2 defines codes only up to "
                "4999 (4000-4999 private use), so the broker refuses them with 1002 (Autobahn "
                "7.9 treats undefined codes as invalid)";
        }
    }
    // 5.5.1: the reply "typically echos" the code; with none to echo, both
    // servers answer 1000.
    add("close", "close_without_code", [](const ctx&) { return close_frame(""); },
        closes(ws::close_code::normal), true);
    add("close", "close_one_byte_payload", [](const ctx&) { return close_frame("\x03"); },
        closes(ws::close_code::protocol_error), true);
    add("close", "close_reason_123_bytes",
        [](const ctx&) { return close_with(1000, std::string(123, 'r')); }, closes(1000), true);
    add("close", "close_reason_124_bytes",
        [](const ctx&) { return close_with(1000, std::string(124, 'r')); },
        closes(ws::close_code::protocol_error), true);
    add("close", "message_then_close",
        [](const ctx& x) { return text(x.message()) + close_with(1000); }, closes(1000, 1),
        true);
    add("close", "data_after_close_is_ignored",
        [](const ctx& x) { return close_with(1000) + text(x.message()); }, closes(1000, 0),
        true);

    // Limits: read_message_max / --max-message-size (7.4.1: 1009).
    add("limits", "frame_one_byte_above_the_limit",
        [](const ctx&) {
            return frame({.declared_length = max_message_size + 1});
        },
        closes(ws::close_code::too_big));
    add("limits", "fragments_one_byte_above_the_limit",
        [](const ctx& x) {
            return text(x.message(max_message_size), false) + continuation("a");
        },
        closes(ws::close_code::too_big));
    add("limits", "huge_64_bit_length",
        [](const ctx&) { return frame({.declared_length = std::uint64_t{1} << 62}); },
        closes(ws::close_code::too_big));
    return c;
}

// ---------------------------------------------------------------- targets

struct target {
    std::string name;
    std::uint16_t port;
    path p;
    std::string protocol;          // Sec-WebSocket-Protocol for the handshake
    std::unique_ptr<wire> observer; // on the other path
    std::unique_ptr<wire> marker;   // on the case's path
};

class environment {
public:
    environment()
    {
        keys_ = common::generate_keys();
        const auto key_file = (dir_ / "keys").string();
        common::save_keys(keys_, key_file, true);
        broker_ = std::make_unique<process>(
            AIOT_BROKER_BIN,
            std::vector<std::string>{"--key-file", key_file, "--bind", "127.0.0.1",
                                     "--broker-port", "0",
                                     "--idle-timeout", "0", "--debug"},
            dir_ / "broker.log");
        reference_ = std::make_unique<process>(
            AIOT_REFERENCE_BIN, std::vector<std::string>{"--port", "0"},
            dir_ / "reference.log");
        const auto broker_port = broker_->wait_for_bound_port("listening on");
        if (broker_port == 0) {
            throw std::runtime_error("broker did not start: " + broker_->log());
        }
        std::uint16_t reference_port = 0;
        if (!aiot::test::eventually([&] {
                const auto out = reference_->log();
                if (out.find('\n') == std::string::npos) {
                    return false;
                }
                reference_port = static_cast<std::uint16_t>(std::stoi(out));
                return true;
            })) {
            throw std::runtime_error("reference server did not start: " + reference_->log());
        }
        const auto token = "token, " + common::make_gateway_token(keys_);
        add("broker /ws", broker_port, path::ws, "", token);
        add("broker /gw", broker_port, path::gw, token, "");
        add("beast /ws", reference_port, path::ws, "", token);
        add("beast /gw", reference_port, path::gw, token, "");
    }

    std::vector<target>& targets() { return targets_; }
    std::string logs() const
    {
        return "---- broker ----\n" + broker_->log() + "---- reference ----\n" +
               reference_->log();
    }

private:
    void add(std::string name, std::uint16_t port, path p, std::string protocol,
             const std::string& gw_protocol)
    {
        target t{std::move(name), port, p, std::move(protocol), std::make_unique<wire>(port),
                 std::make_unique<wire>(port)};
        // The observer listens on the other path; a broker client must have
        // sent new to get broadcasts.
        if (p == path::ws) {
            if (!t.observer->upgrade("/gw", gw_protocol)) {
                throw std::runtime_error(t.name + ": observer handshake failed");
            }
        } else {
            if (!t.observer->upgrade("/ws", "") ||
                !t.observer->write(text(R"({"type":"new","data":"observer"})"))) {
                throw std::runtime_error(t.name + ": observer handshake failed");
            }
        }
        if (!t.marker->upgrade(p == path::ws ? "/ws" : "/gw", t.protocol)) {
            throw std::runtime_error(t.name + ": marker handshake failed");
        }
        targets_.push_back(std::move(t));
    }

    aiot::test::temp_dir dir_;
    common::key_pair keys_;
    std::unique_ptr<process> broker_;
    std::unique_ptr<process> reference_;
    std::vector<target> targets_;
};

environment* env = nullptr;
int next_tag = 0;

// Runs one case against one target, where `expected` (the case's RFC
// outcome, or the target's documented difference) gives the number of
// answers to wait for before the probe.
outcome run(target& t, const conformance_case& c, const outcome& expected)
{
    for (auto& x : env->targets()) {
        x.observer->discard_pending();
        x.marker->discard_pending();
    }
    const case_context ctx{t.p, "k" + std::to_string(++next_tag) + "z"};
    const case_context probe{t.p, "q" + std::to_string(next_tag) + "z"};
    outcome o;
    wire w(t.port);
    if (!w.upgrade(t.p == path::ws ? "/ws" : "/gw", t.protocol)) {
        o.answers.push_back("(handshake failed)");
        return o;
    }
    const auto bytes = c.bytes(ctx);
    bool written = true;
    if (c.byte_by_byte) {
        for (std::size_t i = 0; i < bytes.size() && written; ++i) {
            written = w.write(bytes.substr(i, 1));
        }
    } else {
        written = w.write(bytes);
    }
    if (!written) {
        o.answers.push_back("(write failed)");
    }

    // The expected answers come first; then (unless the case closed) the
    // probe ping, whose pong shows the connection still reads frames.
    // Waiting for the answers first matters: a server may answer only the
    // latest of several unanswered pings (5.5.3).
    auto deadline = steady::now() + answer_timeout;
    bool probing = false;
    bool pong_seen = false;
    for (;;) {
        if (!probing && !c.client_closes && o.answers.size() >= expected.answers.size()) {
            w.write(ping("probe"));
            probing = true;
        }
        const auto e = w.next(deadline);
        using k = wire::frame_event::kind;
        if (e.type == k::pong && probing && e.payload == "probe") {
            pong_seen = true;
            break;
        }
        if (e.type == k::pong) {
            o.answers.push_back(pong_answer(e.payload));
            continue;
        }
        if (e.type == k::close) {
            o.close = e.code;
            if (!c.client_closes) {
                w.write(close_with(e.code == ws::close_code::no_status ? 1000 : e.code));
            }
            // The server ends the TCP connection first (7.1.1).
            const auto end = w.next(steady::now() + answer_timeout);
            o.tcp_closed = end.type == k::eof;
            if (!o.tcp_closed) {
                o.answers.push_back("(after close) " + std::to_string(static_cast<int>(end.type)));
            }
            break;
        }
        if (e.type == k::eof) {
            o.tcp_closed = true;
            break;
        }
        if (e.type == k::timeout) {
            o.answers.push_back("(timeout)");
            break;
        }
        if (e.type == k::error) {
            o.answers.push_back("undecodable: " + e.payload);
            continue;
        }
        o.answers.push_back("frame " + std::to_string(static_cast<int>(e.type)) + ": " +
                            e.payload.substr(0, 60));
    }
    if (pong_seen) {
        w.write(text(probe.message()));
    }

    // Everything the case connection sent is processed: the marker's
    // message reaches the observer after all the case routed.
    const std::string marker_tag = "m" + std::to_string(next_tag) + "z";
    t.marker->write(text(case_context{t.p, marker_tag}.message()));
    // The probe message was sent on the case connection before the marker,
    // but on another socket: wait for the probe itself when one was sent.
    bool marker_seen = false;
    bool probe_seen = false;
    deadline = steady::now() + answer_timeout;
    while (!marker_seen || (pong_seen && !probe_seen)) {
        const auto e = t.observer->next(deadline);
        if (e.type != wire::frame_event::kind::message) {
            if (e.type == wire::frame_event::kind::timeout ||
                e.type == wire::frame_event::kind::eof) {
                break;
            }
            continue;
        }
        const bool is_out = e.payload.find(R"("type": "out")") != std::string::npos ||
                            e.payload.find(R"("type":"out")") != std::string::npos;
        if (is_out) {
            continue;
        }
        if (e.payload.find(ctx.tag) != std::string::npos) {
            ++o.delivered;
        }
        probe_seen = probe_seen || e.payload.find(probe.tag) != std::string::npos;
        marker_seen = marker_seen || e.payload.find(marker_tag) != std::string::npos;
    }
    if (!marker_seen) {
        o.answers.push_back("(marker not routed)");
    }
    o.usable = pong_seen && probe_seen;
    if (o.usable) {
        w.write(close_with(1000));
        const auto end = w.next(steady::now() + answer_timeout); // the close reply
        (void)end;
    }
    return o;
}

// One ctest test per group (each starts both servers once).
class ws_conformance : public ::testing::TestWithParam<std::string> {
protected:
    static void SetUpTestSuite()
    {
        try {
            env = new environment();
        } catch (const std::exception& e) {
            std::cerr << "environment: " << e.what() << "\n";
            env = nullptr;
        }
    }
    static void TearDownTestSuite()
    {
        delete env;
        env = nullptr;
    }
    void TearDown() override
    {
        if (HasFailure() && env) {
            const auto logs = env->logs();
            std::cerr << logs.substr(logs.size() > 20000 ? logs.size() - 20000 : 0);
        }
    }
};

TEST_P(ws_conformance, same_outcome_as_rfc_6455_on_every_target)
{
    ASSERT_NE(env, nullptr) << "the broker or the reference server did not start";
    int cases = 0;
    for (const auto& c : all_cases()) {
        if (c.group != GetParam()) {
            continue;
        }
        ++cases;
        const auto rfc = c.expected.as_outcome();
        for (auto& t : env->targets()) {
            const bool beast = t.name.starts_with("beast");
            const auto& special = beast ? c.beast_expected : c.broker_expected;
            const auto expected = special.value_or(rfc);
            const auto got = run(t, c, expected);
            EXPECT_EQ(got, expected) << c.group << "/" << c.name << " on " << t.name
                                     << (special ? " (documented difference: " + c.difference + ")"
                                                 : std::string());
        }
    }
    EXPECT_GT(cases, 0) << "no case in group " << GetParam();
}

INSTANTIATE_TEST_SUITE_P(groups, ws_conformance,
                         ::testing::Values("framing", "ping", "reserved_bits", "opcodes",
                                           "fragmentation", "utf8", "close", "limits"),
                         [](const ::testing::TestParamInfo<std::string>& param_info) {
                             return param_info.param;
                         });

} // namespace
