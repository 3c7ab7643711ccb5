#pragma once
// The CoAP side of the gateway's nodes, as a plain state machine (no I/O):
// uid <-> address (keyed by uid; an address leads to the node that last
// posted from it) and the discovery state of each node:
//
//   none -> running -> done
//               \----> failed -> running (at the next alive)
//
// A reset starts a new discovery; results of an older one are recognised by
// their generation and ignored.
//
// A live node never moves on a plain alive from another address (uids are
// public: that would let anyone hijack a node). A reset from another
// address moves it only once its old address stopped answering (the logic
// probes it: move_pending, then confirm_move or cancel_move); an expired
// node is forgotten, and its uid is free again. An address holds at most
// max_per_address nodes (the live one and uids it used before a reboot).
#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace aiot::gw::coap {

enum class discovery_state { none, running, done, failed };
std::string_view to_string(discovery_state s);

struct coap_node {
    std::string uid;
    std::string address;        // "127.0.0.1", "::1", "fe80::1" (no port, no scope)
    std::uint32_t scope_id = 0; // of a link-local source address
    discovery_state discovery = discovery_state::none;
    std::uint64_t generation = 0; // of the current or last discovery
    std::size_t pending = 0;      // resource reads not finished yet
    std::size_t found = 0;        // resources read in this discovery
    bool lost = false;            // a resource read got no answer
    std::string pending_address;  // where a reset came from, while the old address is probed
    std::uint32_t pending_scope = 0;
    // Message IDs of its last posts, to recognise a retransmission.
    std::array<std::uint16_t, 8> recent_mids{};
    std::uint8_t mids = 0; // how many of recent_mids are set
    std::uint8_t next_mid_slot = 0;
};

enum class alive_action {
    created,   // unknown uid: a new node
    reset,     // known uid, `reset:` payload
    refreshed, // known uid, `alive:` payload, same address
    move_pending,  // known uid, `reset:` from a new address: probe the old one first
    move_refused,  // known uid, `alive:` from a new address: ignored
    refused,       // unknown uid and the table is full
    address_full,  // unknown uid and its address already holds max_per_address nodes
};

struct alive_outcome {
    alive_action action = alive_action::refused;
    bool discover = false;        // start a discovery now (start_discovery)
    bool address_changed = false; // also for a reset from a new address
    std::string displaced;        // uid that posted from this address before
};

class node_table {
public:
    explicit node_table(std::size_t max_nodes, std::size_t max_per_address = 4);

    // A node posted to /alive from `address`.
    alive_outcome alive(std::string_view uid, bool reset, std::string_view address,
                        std::uint32_t scope_id = 0);

    // Starts (or restarts) the node's discovery; returns its generation,
    // 0 if the uid is unknown.
    std::uint64_t start_discovery(std::string_view uid);
    // Whether `generation` is the node's running discovery.
    bool running(std::string_view uid, std::uint64_t generation) const;
    // The discovery listed `count` resources to read (0: done at once).
    // Each returns the state afterwards, or nullopt for a stale result.
    std::optional<discovery_state> discovery_listed(std::string_view uid,
                                                    std::uint64_t generation, std::size_t count);
    // One resource read ended: answered (any code) or not (timeout, reset);
    // stored: its value was kept. All answered: done, else failed.
    std::optional<discovery_state> discovery_read(std::string_view uid, std::uint64_t generation,
                                                  bool answered, bool stored);
    // /.well-known/core got no usable answer.
    std::optional<discovery_state> discovery_failed(std::string_view uid,
                                                    std::uint64_t generation);

    // The old address did not answer the probe: the node moves to the
    // pending address. Returns the outcome to carry out (a reset there).
    alive_outcome confirm_move(std::string_view uid);
    // The old address answered: the pending move is dropped.
    void cancel_move(std::string_view uid);

    // Whether the node posted message ID `mid` among its last few posts
    // (a CON retransmitted because our answer came late, RFC 7252 4.5);
    // records it if not. False for an unknown uid.
    bool repeated(std::string_view uid, std::uint16_t mid);

    bool forget(std::string_view uid);

    const coap_node* find(std::string_view uid) const;
    const coap_node* find_by_address(std::string_view address) const;
    std::size_t size() const { return nodes_.size(); }

private:
    coap_node* running_node(std::string_view uid, std::uint64_t generation);
    // Points `address` at the node; returns the uid it pointed at before.
    std::string bind_address(coap_node& n, std::string_view address, std::uint32_t scope_id);

    std::size_t max_nodes_;
    std::size_t max_per_address_;
    std::map<std::string, std::size_t, std::less<>> per_address_; // nodes whose address it is
    std::uint64_t next_generation_ = 1; // across nodes: a re-created uid starts afresh
    std::map<std::string, coap_node, std::less<>> nodes_;
    std::map<std::string, std::string, std::less<>> by_address_; // address -> uid
};

} // namespace aiot::gw::coap
