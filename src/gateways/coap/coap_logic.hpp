#pragma once
// The CoAP gateway's decisions (PROTOCOL.md section 4), sans-I/O: what a
// POST to /alive or /server means, when to discover a node, what to read
// and write on it, and what each answer changes. The adapter hands in what
// arrived (payload and source address, request results) and carries out
// the requests from take_requests(). Node changes come out as data
// (take_node_events()); the adapter applies them to the gateway service and
// hands the statuses back (applied()), which may change the reply to the
// POST being handled.
#include "common/refusal_log.hpp"
#include "gateways/core/fwd.hpp"
#include "gateways/core/gateway_core.hpp"
#include "gateways/core/node_event.hpp"
#include "gateways/coap/discovery_retry.hpp"
#include "gateways/coap/node_table.hpp"
#include "gateways/coap/request_queue.hpp"

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::gw::coap {

// CoAP response codes as on the wire: class << 5 | detail.
namespace code {
constexpr std::uint8_t make(unsigned cls, unsigned detail)
{
    return static_cast<std::uint8_t>(cls << 5 | detail);
}
inline constexpr std::uint8_t changed = make(2, 4);
inline constexpr std::uint8_t content = make(2, 5);
inline constexpr std::uint8_t bad_request = make(4, 0);
inline constexpr std::uint8_t forbidden = make(4, 3);
inline constexpr std::uint8_t not_found = make(4, 4);
inline constexpr std::uint8_t too_large = make(4, 13);
inline constexpr std::uint8_t unavailable = make(5, 3);
} // namespace code

// "2.04", "4.13", ...
std::string code_text(std::uint8_t code);

// Who sent a request.
struct peer {
    std::string address; // no port; IPv4-mapped IPv6 written as IPv4
    std::uint32_t scope_id = 0;
    // The request's message ID: a repeated one from a known node is a
    // retransmission, answered again but not acted on twice.
    std::optional<std::uint16_t> message_id{};
};

// The answer to a node's POST.
struct coap_reply {
    std::uint8_t code = code::changed;
    std::string payload;
};

// How one of our requests ended.
struct coap_result {
    bool answered = false; // false: timed out, reset, unreachable, not sent
    std::uint8_t code = 0;
    std::string payload;
    std::string error; // why there is no answer
};

struct logic_config {
    std::size_t max_nodes = 10000;
    std::size_t max_nodes_per_address = 4; // one live node, and uids it had before reboots
    std::size_t max_payload = 1024;  // bytes of a POST /alive, /server or a write
    std::size_t max_resources = 64;  // paths read in one discovery
    queue_limits queue{};
    retry_limits retry{}; // failed discoveries tried again before the next alive
};

class coap_logic {
public:
    // `clock` (steady_clock::now if empty) times the aggregation of refusal
    // warnings (per source address, 3 logged per 10 s, the rest summed up)
    // and the retries of failed discoveries.
    coap_logic(logic_config config, std::shared_ptr<spdlog::logger> log,
               std::function<time_point()> clock = {});

    // POST /alive and POST /server from `from`; returns the reply.
    coap_reply on_alive(std::string_view payload, const peer& from);
    coap_reply on_server(std::string_view payload, const peer& from);
    // A web client's write, routed by the gateway core.
    void on_write(const write_command& w);
    // One of the requests from take_requests() ended.
    void on_result(std::uint64_t request_id, const coap_result& r);
    // The gateway core removed the node for silence.
    void on_node_expired(const std::string& uid);
    // Logs the summaries of refusals not logged one by one (at most once a
    // second; the endpoint calls it after each batch of packets).
    void flush_refusals();

    // When on_retry_timer() has discoveries to start (nullopt: none now).
    std::optional<time_point> next_retry() const { return retries_.next_due(); }
    // Starts the failed discoveries that are due (then take_requests()).
    void on_retry_timer();

    // True if discovery reads wait to be sent.
    bool reads_waiting() const { return queue_.queued() > queue_.writes_queued(); }
    // Requests to send now (ids set), of them at most max_reads discovery
    // reads (writes are not counted).
    std::vector<coap_request> take_requests(
        std::size_t max_reads = std::numeric_limits<std::size_t>::max())
    {
        return queue_.take_ready(max_reads);
    }
    // Node changes decided since the last call, in order.
    std::vector<node_event> take_node_events();
    // The statuses of the last take_node_events(), in the same order. May
    // decide more node events (take them again until none is left). A
    // refusal that replaces the reply to the POST being handled is
    // returned; nullopt otherwise.
    std::optional<coap_reply> applied(const std::vector<registry_status>& statuses);

    const node_table& nodes() const { return table_; }
    const request_queue& requests() const { return queue_; }

    // Running totals, for the metrics.
    struct counters {
        std::uint64_t refused = 0;              // POSTs answered with an error
        std::uint64_t discovery_failures = 0;   // discoveries (or retries) that failed
        std::uint64_t discoveries_abandoned = 0; // failed with no retry left
    };
    const counters& stats() const { return stats_; }

private:
    void start_discovery(const coap_node& n);
    void on_well_known(const coap_request& req, const coap_result& r);
    void on_resource(const coap_request& req, const coap_result& r);
    void on_write_result(const coap_request& req, const coap_result& r);
    void on_probe(const coap_request& req, const coap_result& r);
    // Carries out what the node table decided for an alive or reset (a
    // refusal by the cache comes through applied()).
    void apply(const std::string& uid, const alive_outcome& out, const peer& from);
    void discovery_ended(const std::string& uid, discovery_state state);
    // The node's discovery failed (why: for the log): schedules a retry.
    void discovery_failed(const std::string& uid, const std::string& address,
                          const std::string& why);
    coap_reply refuse(std::string_view what, const peer& from, std::uint8_t code,
                      std::string reason);
    // A retransmission of a post already handled (logged at debug).
    bool repeated(std::string_view what, const coap_node* n, const peer& from);
    std::optional<coap_reply> check_size(std::string_view what, std::string_view payload,
                                         const peer& from);

    // What to do once the cache answered an event (nullopt: keep the reply).
    using then_fn = std::function<std::optional<coap_reply>(registry_status)>;
    void emit(node_event e, then_fn then = {});

    logic_config config_;
    std::vector<node_event> events_;
    std::vector<then_fn> then_;   // one per event in events_
    std::vector<then_fn> taken_;  // one per event of the last take_node_events()
    std::shared_ptr<spdlog::logger> log_;
    node_table table_;
    request_queue queue_;
    discovery_retry retries_;
    std::function<time_point()> clock_;
    common::refusal_log refusals_;
    time_point next_summary_{};
    counters stats_;
};

} // namespace aiot::gw::coap
