// aiot-broker: routes messages between gateways (/gw) and web clients (/ws).
#include "broker/nats_link.hpp"
#include "broker/server.hpp"
#include "broker/ws/handshake.hpp"
#include "common/cli.hpp"
#include "common/keys.hpp"
#include "common/logging.hpp"
#include "common/stop_signals.hpp"
#include "common/system.hpp"

#include <CLI/CLI.hpp>

#include <spdlog/fmt/ranges.h>

int main(int argc, char** argv)
{
    namespace common = aiot::common;
    CLI::App app{"aiot-broker: websocket broker between gateways (/gw) and web clients (/ws)"};
    common::common_options opts;
    aiot::broker::server_config cfg;
    std::uint64_t idle_timeout_s = 120;
    std::uint64_t handshake_timeout_s = 10;
    common::add_common_options(app, opts, "aiot-broker");
    app.add_option("--bind", cfg.bind_address, "Listen address (:: is IPv6 and IPv4)");
    app.add_option("--max-message-size", cfg.max_message_size,
                   "Largest message accepted, in bytes (larger: close 1009)")
        ->check(CLI::PositiveNumber);
    app.add_option("--max-queue-messages", cfg.max_queue_messages,
                   "Messages waiting for one connection before it is dropped as too slow")
        ->check(CLI::PositiveNumber);
    app.add_option("--max-queue-bytes", cfg.max_queue_bytes,
                   "Bytes waiting for one connection before it is dropped as too slow")
        ->check(CLI::PositiveNumber);
    std::size_t high_water_mb = cfg.client_queues.high_water >> 20;
    std::size_t low_water_mb = cfg.client_queues.low_water >> 20;
    app.add_option("--clients-high-water-mb", high_water_mb,
                   "When all web clients' queues together hold more MiB than this, gateways "
                   "are not read until they drain (docs/deployment.md)")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
    app.add_option("--clients-low-water-mb", low_water_mb,
                   "Gateways are read again when web clients' queues hold less MiB than this")
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
    app.add_option("--token-max-age", cfg.token_max_age_s,
                   "Refuse gateway tokens older than this many seconds (0: never expire)");
    app.add_option("--idle-timeout", idle_timeout_s,
                   "Ping a silent connection after half this many seconds, close it at the "
                   "end (0: never)");
    app.add_option("--handshake-timeout", handshake_timeout_s,
                   "Seconds a new connection has to complete its upgrade request")
        ->check(CLI::PositiveNumber);
    double tls_handshake_timeout_s = 10;
    app.add_option("--tls-cert", cfg.tls_cert,
                   "PEM certificate (chain) of the broker: with --tls-key, the port speaks "
                   "TLS only (wss://, https:// for /metrics)");
    app.add_option("--tls-key", cfg.tls_key, "PEM private key of --tls-cert (unencrypted)");
    app.add_option("--tls-handshake-timeout", tls_handshake_timeout_s,
                   "Seconds a new connection has to complete its TLS handshake")
        ->check(CLI::Range(0.01, 3600.0));
    std::vector<std::string> allowed_origins;
    app.add_option("--allowed-origins", allowed_origins,
                   "Web clients (/ws) are accepted only from these page origins, e.g. "
                   "https://dash.example.org (default: any origin, as the original; see "
                   "docs/deployment.md)")
        ->delimiter(',');
    app.add_option("--nats", cfg.nats_servers,
                   "NATS server URL(s), nats://host:4222[,...]: brokers on the same NATS share "
                   "their gateways' nodes and their web clients (docs/PROTOCOL.md; off by "
                   "default)")
        ->delimiter(',');
    app.add_option("--nats-prefix", cfg.cluster.prefix,
                   "First token(s) of every NATS subject: one deployment per prefix");
    app.add_option("--broker-id", cfg.broker_id,
                   "This broker's id on NATS (letters, digits, _ and -; default: random at "
                   "each start)");
    double peer_timeout_s = 3;
    double heartbeat_s = 1;
    app.add_option("--nats-heartbeat", heartbeat_s, "Seconds between this broker's heartbeats")
        ->check(CLI::Range(0.05, 60.0));
    app.add_option("--nats-peer-timeout", peer_timeout_s,
                   "A broker not heard from for this many seconds is gone: its nodes are out")
        ->check(CLI::Range(0.1, 3600.0));
    if (const auto code = common::parse_command_line(app, argc, argv)) {
        return *code;
    }

    common::init_logging(opts.debug);
    const auto log = common::get_logger("broker");
    if (low_water_mb >= high_water_mb) {
        log->error("--clients-low-water-mb ({}) must be below --clients-high-water-mb ({})",
                   low_water_mb, high_water_mb);
        return 2;
    }
    cfg.client_queues.high_water = high_water_mb << 20;
    cfg.client_queues.low_water = low_water_mb << 20;
    try {
        cfg.keys = common::load_keys(opts.key_file);
        for (const auto& w : common::key_permission_warnings(opts.key_file)) {
            log->warn("{}", w);
        }
    } catch (const common::key_error& e) {
        log->error("{}", e.what());
        return 1;
    }
    cfg.port = opts.broker_port;
    for (const auto& origin : allowed_origins) {
        if (auto o = aiot::broker::normalized_origin(origin); !o.empty()) {
            cfg.allowed_origins.push_back(std::move(o));
        }
    }
    if (cfg.allowed_origins.empty()) {
        log->info("web clients accepted from any origin (--allowed-origins not set)");
    } else {
        log->info("web clients accepted only from: {}", fmt::join(cfg.allowed_origins, ", "));
    }
    const auto ms = [](double s) {
        return std::chrono::milliseconds(static_cast<std::int64_t>(s * 1000));
    };
    cfg.cluster.heartbeat = ms(heartbeat_s);
    cfg.cluster.peer_timeout = ms(peer_timeout_s);
    if (cfg.cluster.peer_timeout <= cfg.cluster.heartbeat) {
        log->error("--nats-peer-timeout ({} s) must be longer than --nats-heartbeat ({} s)",
                   peer_timeout_s, heartbeat_s);
        return 2;
    }
    if (!aiot::broker::cluster::valid_prefix(cfg.cluster.prefix) ||
        (!cfg.broker_id.empty() && !aiot::broker::cluster::valid_id(cfg.broker_id))) {
        log->error("--nats-prefix and --broker-id take letters, digits, _ and - (the prefix: "
                   "tokens joined by dots)");
        return 2;
    }
    cfg.idle_timeout = std::chrono::seconds(idle_timeout_s);
    cfg.handshake_timeout = std::chrono::seconds(handshake_timeout_s);
    cfg.tls_handshake_timeout = ms(tls_handshake_timeout_s);
    const auto fds = common::raise_fd_limit();
    log->info("open file limit: {} before, {} now", fds.before, fds.after);

    aiot::net::io_context ioc{1};
    {
        aiot::broker::server srv(ioc, cfg);
        try {
            srv.start();
        } catch (const std::exception& e) {
            log->error("{}", e.what());
            return 1;
        }
        // A second signal ends the process at once.
        common::stop_signals signals(ioc, [&](int sig) {
            log->info("signal {} received, shutting down", sig);
            srv.stop();
        });
        ioc.run();
    } // the server, and with it its NATS connection and subscriptions, is gone
    if (!cfg.nats_servers.empty()) {
        // Only once every NATS object is destroyed: with the connection
        // still alive this waited its whole 2 s, and libnats could drop
        // messages still queued for delivery without freeing them.
        aiot::broker::nats_link::shutdown_library();
    }
    log->info("stopped");
    return 0;
}
