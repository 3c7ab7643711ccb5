#pragma once
// Several brokers as one (docs/PROTOCOL.md, "Several brokers: NATS"). The
// brokers of a deployment publish what their own gateways and web clients
// send on NATS subjects, and each one delivers what the others published to
// its own peers. This is the decision part, free of I/O: it says what to
// publish and turns what arrived into the router's deliveries. nats_link
// carries the texts.
//
// Each other broker is one "remote gateway" in this broker's router: its
// nodes are the ones it announced, and when it is gone (it said bye, or was
// silent for peer_timeout) the router sends `out` for them, except for the
// nodes some other gateway holds by then.
#include "broker/router.hpp"

#include <spdlog/logger.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace aiot::broker {

struct cluster_config {
    std::string prefix = "aiot"; // first subject token(s); one deployment per prefix
    std::chrono::milliseconds heartbeat{1000};
    // A broker not heard from for this long is gone: `out` for its nodes.
    std::chrono::milliseconds peer_timeout{3000};
    // Replay requests arriving within this time are served by one replay.
    std::chrono::milliseconds replay_delay{100};
};

struct publication {
    std::string subject;
    std::string data;
};

// What an event asks of the broker: deliveries to its own peers (the
// router's), and texts to publish.
struct cluster_output {
    std::vector<delivery> deliveries;
    std::vector<publication> publish;
};

class cluster {
public:
    using clock = std::chrono::steady_clock;

    // self_id: this broker's id, one subject token ([A-Za-z0-9_-]).
    cluster(cluster_config cfg, std::string self_id, router& r,
            std::shared_ptr<spdlog::logger> log);

    const std::string& id() const { return self_; }
    // Random at each start, sent with every heartbeat: a broker restarted
    // under the same --broker-id within the timeout is told from the one
    // that was there before (whose nodes are then out).
    const std::string& instance() const { return instance_; }
    // The subjects to subscribe to.
    std::vector<std::string> subscriptions() const;
    // Whether a prefix or id is usable as subject tokens.
    static bool valid_prefix(std::string_view prefix);
    static bool valid_id(std::string_view id);

    // --- this broker's own peers (texts as serialised for the clients) ---
    // A broadcast the router made of a local gateway's message (`new` or
    // `update` with dst all, `out`, `reset`).
    publication gateway_broadcast(std::string_view type, std::string text) const;
    // A local gateway's message whose dst is no client of this broker: for
    // the broker that has that client, or for the broker that asked for a
    // replay (dst "broker:<id>"). Nothing when no broker is known for dst.
    std::optional<publication> gateway_to(std::string_view dst, std::string_view type,
                                          std::string text) const;
    // A local client's message, as the router forwards it to the gateways.
    publication client_message(std::string_view type, std::string text) const;
    // A local client that had sent `new` left: the others forget where it was.
    publication client_left(std::string_view uuid) const;
    // Said when this broker stops, so that the others do not wait for the
    // timeout.
    publication goodbye() const;

    // --- what the others published ---------------------------------------
    cluster_output received(std::string_view subject, std::string_view data, clock::time_point now);

    // --- time: call every heartbeat / 4 or so -----------------------------
    // The heartbeat when due, `out` for brokers gone silent, replays due.
    cluster_output tick(clock::time_point now);

    std::size_t peer_count() const { return peers_.size(); }
    // Ids of the brokers heard from, for logs and tests.
    std::vector<std::string> peer_ids() const;
    // Remote web clients this broker knows the broker of.
    std::size_t remote_client_count() const { return client_home_.size(); }

private:
    struct peer {
        peer_id gateway; // its id in the router
        clock::time_point last_seen;
        std::string instance; // from its heartbeats
    };

    std::string subject(std::string_view kind, std::string_view rest) const;
    // The peer that published, made known (and asked to replay if it had
    // been given up for gone).
    peer& heard_from(std::string_view origin, clock::time_point now, cluster_output& out);
    void peer_gone(const std::string& origin, std::string_view why, cluster_output& out);
    void gateway_text(peer& p, std::string_view origin, std::string_view data, bool to_us,
                      cluster_output& out);

    cluster_config cfg_;
    std::string self_;
    std::string instance_;
    router& router_;
    std::shared_ptr<spdlog::logger> log_;
    std::map<std::string, peer, std::less<>> peers_;
    // Brokers given up for gone, with when: one of them heard from again
    // (it lost NATS for a while) is asked to replay its nodes.
    std::map<std::string, clock::time_point, std::less<>> gone_;
    // Remote client uuid -> its broker's id.
    std::unordered_map<std::string, std::string> client_home_;
    // Brokers that asked this one for a replay, and when it is due.
    std::vector<std::string> replay_for_;
    std::optional<clock::time_point> replay_at_;
    std::optional<clock::time_point> next_heartbeat_;
    peer_id next_gateway_ = peer_id{1} << 62; // apart from the sessions' ids
};

// A fresh broker id: 16 random hex digits.
std::string make_broker_id();

} // namespace aiot::broker
