#pragma once
// The gateway's requests to its nodes (discovery reads, writes), bounded:
// at most max_in_flight in flight in total and max_in_flight_per_node per
// node, at most max_queued_per_node waiting per node. Nodes with waiting
// requests take turns, so a node that never answers only holds its own
// slots until its requests time out. No I/O: take_ready() hands out what
// may be sent now, complete() frees the slot.
#include <cstddef>
#include <cstdint>
#include <limits>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::gw::coap {

enum class request_kind {
    well_known, // GET /.well-known/core
    resource,   // GET of a discovered resource
    write,      // PUT from a web client
    probe,      // GET /.well-known/core of a node's old address: is it still there?
};

enum class coap_method { get, put };

struct coap_request {
    std::uint64_t id = 0; // set by take_ready(); unique, increasing
    std::string uid;
    request_kind kind = request_kind::well_known;
    std::uint64_t generation = 0; // the discovery it belongs to (0 for writes)
    coap_method method = coap_method::get;
    std::string address; // the node's address when the request was made
    std::uint32_t scope_id = 0;
    std::string path;    // without the leading '/', e.g. ".well-known/core"
    std::string payload; // PUT body
};

struct queue_limits {
    std::size_t max_in_flight = 256;
    std::size_t max_in_flight_per_node = 4;
    std::size_t max_queued_per_node = 96;
};

class request_queue {
public:
    explicit request_queue(queue_limits limits = {});

    // Queues a request; false when the node already has max_queued_per_node
    // waiting.
    bool push(coap_request r);
    // Drops the node's waiting discovery reads (not its writes).
    void drop_discovery(std::string_view uid);
    // Drops everything the node has waiting (requests in flight stay until
    // complete()).
    void drop_all(std::string_view uid);

    // The requests that may be sent now, with their ids, now in flight.
    // At most `max_reads` discovery reads are handed out by this call; the
    // writes at the front of their node's queue go first and are not
    // counted (the gateway's own reads give way to the nodes' packets while
    // it is behind on them; a person's click does not).
    std::vector<coap_request> take_ready(std::size_t max_reads = std::numeric_limits<std::size_t>::max());
    // Frees the request's slot; returns it, nullopt for an unknown id.
    std::optional<coap_request> complete(std::uint64_t id);

    std::size_t in_flight() const { return flying_.size(); }
    std::size_t queued() const { return queued_; }
    std::size_t writes_queued() const { return writes_queued_; }
    const queue_limits& limits() const { return limits_; }

private:
    struct node_queue {
        std::deque<coap_request> waiting;
        std::size_t in_flight = 0;
        bool listed = false;       // in turns_
        bool write_listed = false; // in write_turns_
    };

    void offer_turn(const std::string& uid, node_queue& q);
    void drop_if(std::string_view uid, bool writes_too);
    void erase_if_idle(std::map<std::string, node_queue, std::less<>>::iterator it);
    void launch(node_queue& q, std::vector<coap_request>& ready);
    std::vector<coap_request> take_writes();

    queue_limits limits_;
    std::uint64_t next_id_ = 1;
    std::size_t queued_ = 0;
    std::size_t writes_queued_ = 0;
    std::map<std::string, node_queue, std::less<>> nodes_;
    std::deque<std::string> turns_; // nodes that can send once there is room
    // Nodes with a write waiting, which go before the turns: a few (a
    // person's clicks), so a write stuck behind its node's read costs a
    // visit of this list, not a walk over every node's turn.
    std::deque<std::string> write_turns_;
    std::map<std::uint64_t, coap_request> flying_;
};

} // namespace aiot::gw::coap
