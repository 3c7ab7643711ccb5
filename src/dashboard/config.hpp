#pragma once
// Everything aiot-dashboard is told at start: the common options, the HTTP
// server's own, and the page options (PROTOCOL.md section 7).
#include "common/cli.hpp"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>

namespace aiot::dashboard {

struct config {
    common::common_options common; // broker_host/broker_port: what the page opens

    // HTTP server
    std::uint16_t web_port = 8080;
    std::string bind = "::"; // dual-stack; falls back to 0.0.0.0 without IPv6
    std::filesystem::path static_path; // empty: default_static_path()
    std::chrono::seconds http_timeout{30}; // idle keep-alive and one request/response
    std::size_t max_connections = 512;
    // https only when both are set (--tls-cert, --tls-key: PEM files; the
    // certificate file may hold the chain). TLS 1.2 at least.
    std::filesystem::path tls_cert;
    std::filesystem::path tls_key;
    std::chrono::seconds handshake_timeout{10};

    // Page options
    std::string title = "IoT Dashboard";
    std::string logo;        // URL, or a local image file served at /_aiot/logo
    std::string favicon;     // URL, or a local image file served at /_aiot/favicon
    std::string camera_url;  // image or MJPEG stream shown in a camera card
    std::string map_api_key; // accepted and handed to the page
    std::string map_tile_url;   // "" or none: no tiles (country shapes, nothing leaves the machine)
    bool broker_ssl = false; // the page opens wss:// instead of ws://

    // History and API (the dashboard records what the broker sends)
    bool history = true;                  // --no-history: live values only
    std::filesystem::path history_db;     // empty: default_history_db()
    unsigned history_days = 7;            // rows older than this are deleted
    unsigned history_max_mb = 256;        // the oldest rows go beyond this
};

// ~/.pyaiot/history.db (the folder pyaiot keeps its keys in), or
// ./history.db when HOME is not set.
std::filesystem::path default_history_db();

// The installed web folder when it holds index.html, else the source tree's
// web/ (so a build folder works without installing).
std::filesystem::path default_static_path();

} // namespace aiot::dashboard
