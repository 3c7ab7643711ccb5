#pragma once
// The broker's connection to NATS (the NATS C client, libnats). libnats runs
// its own threads: every message and connection event is handed to the
// broker's event loop (io_context), and nothing of the broker is touched
// from those threads. Incoming messages wait in a bounded inbox between the
// two; when the loop falls that far behind, messages are dropped and
// counted. Publishing is called from the loop; while NATS is unreachable
// libnats keeps what is published in its reconnect buffer (bounded too).
#include "broker/cluster.hpp"
#include "common/net.hpp"

#include <spdlog/logger.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::broker {

struct nats_config {
    std::vector<std::string> servers; // nats://host:port, tried in turn
    std::string name = "aiot-broker"; // the client name shown by nats-server
    std::size_t max_inbox_messages = 100000;
    int reconnect_buffer_bytes = 8 << 20;
    std::chrono::milliseconds reconnect_wait{250};
};

class nats_link {
public:
    struct handlers {
        // A message on one of the subscribed subjects, on the loop.
        std::function<void(std::string_view subject, std::string_view data)> message;
        // Connected (first time or again) or lost, on the loop.
        std::function<void(bool connected)> status;
    };
    struct counters {
        std::uint64_t published = 0;
        std::uint64_t publish_failed = 0;
        std::uint64_t received = 0;
        std::uint64_t dropped = 0; // the inbox was full
    };

    nats_link(net::io_context& ioc, nats_config cfg, handlers h,
              std::shared_ptr<spdlog::logger> log);
    ~nats_link();
    nats_link(const nats_link&) = delete;
    nats_link& operator=(const nats_link&) = delete;

    // Connects (or keeps trying in the background when no server answers
    // yet) and subscribes; when connected, returns once the server has the
    // subscriptions (at most 2 s). Throws std::runtime_error on a bad
    // setting.
    void start(const std::vector<std::string>& subjects);
    // False when libnats refused it (closed, or its buffer is full).
    bool publish(const publication& p);
    // Publishes `last` (if any), waits up to `flush` for it to be written,
    // then closes. No handler is called afterwards.
    void close(const publication* last, std::chrono::milliseconds flush);
    bool connected() const;
    counters stats() const;

    // Ends libnats' own threads, once no link is left (end of main).
    static void shutdown_library();

    struct shared; // between the loop and libnats' threads (nats_link.cpp)

private:
    std::shared_ptr<shared> shared_;
    std::shared_ptr<spdlog::logger> log_;
    nats_config cfg_;
    std::uint64_t published_ = 0;
    std::uint64_t publish_failed_ = 0;
    bool closed_ = false;
};

} // namespace aiot::broker
