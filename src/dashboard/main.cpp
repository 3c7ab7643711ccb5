// aiot-dashboard: serves the dashboard page, which talks to the broker.
#include "common/cli.hpp"
#include "common/logging.hpp"
#include "common/net.hpp"
#include "common/stop_signals.hpp"
#include "common/system.hpp"
#include "dashboard/config.hpp"
#include "dashboard/server.hpp"

#include <CLI/CLI.hpp>

#include <exception>
#include <functional>

int main(int argc, char** argv)
{
    using namespace aiot;
    dashboard::config cfg;
    CLI::App app{"aiot-dashboard: the web page showing the nodes known to the aiot broker"};
    common::add_common_options(app, cfg.common, "aiot-dashboard");
    common::add_uplink_options(app, cfg.common);
    std::string static_path;
    int http_timeout = static_cast<int>(cfg.http_timeout.count());
    app.add_option("--web-port", cfg.web_port, "HTTP port of the dashboard");
    app.add_option("--web-bind", cfg.bind, "Address to listen on (:: is dual-stack)");
    common::command_line_only(app.add_option("--bind", cfg.bind, "Same as --web-bind"),
                              "web_bind");
    app.add_option("--static-path", static_path,
                   "Folder of the web page (default: the installed one, else the source tree's)");
    app.add_option("--title", cfg.title, "Title of the page");
    app.add_option("--logo", cfg.logo, "Logo image: a URL or a local file");
    app.add_option("--favicon", cfg.favicon, "Favicon: a URL or a local file");
    app.add_option("--camera-url", cfg.camera_url, "URL of a camera image or stream to show");
    app.add_option("--map-api-key", cfg.map_api_key, "API key handed to the page's map");
    app.add_option("--map-tile-url", cfg.map_tile_url,
                   "Map tile URL template ({z}/{x}/{y}) of a tile server; by default (or "
                   "'none') the map is drawn from country shapes served by the dashboard "
                   "and the page makes no request to another machine");
    // The same names as the broker's on purpose: one host certificate.
    auto* cert = app.add_option("--tls-cert", cfg.tls_cert,
                                "Certificate (PEM, chain allowed): serve https only (with "
                                "--tls-key)")
                     ->check(CLI::ExistingFile);
    auto* key = app.add_option("--tls-key", cfg.tls_key, "Private key (PEM) of --tls-cert")
                    ->check(CLI::ExistingFile);
    cert->needs(key);
    key->needs(cert);
    app.add_option("--http-timeout", http_timeout, "Seconds an idle or slow connection is kept")
        ->check(CLI::Range(1, 3600));
    std::string history_db;
    bool no_history = false;
    // History and API (docs/API.md): what the broker sends, recorded and
    // served at /api/.
    app.add_option("--history-db", history_db,
                   "SQLite file of the history (default: ~/.pyaiot/history.db)");
    app.add_option("--history-days", cfg.history_days, "Days of history kept")
        ->check(CLI::Range(1, 3650));
    app.add_option("--history-max-mb", cfg.history_max_mb,
                   "Size of the history in MB beyond which the oldest values go")
        ->check(CLI::Range(1, 1 << 20));
    app.add_flag("--no-history", no_history,
                 "Record nothing (the API still serves live values)");
    if (auto code = common::parse_command_line(app, argc, argv)) {
        return *code;
    }
    cfg.static_path =
        static_path.empty() ? dashboard::default_static_path() : std::filesystem::path{static_path};
    cfg.http_timeout = std::chrono::seconds(http_timeout);
    cfg.broker_ssl = cfg.common.broker_ssl; // the page and the live feed alike
    cfg.history = !no_history;
    cfg.history_db = history_db.empty() ? dashboard::default_history_db()
                                        : std::filesystem::path{history_db};

    common::init_logging(cfg.common.debug);
    auto log = common::get_logger("dashboard");
    try {
        common::raise_fd_limit();
        net::io_context ioc{1};
        dashboard::server server(ioc, cfg);
        // Signals first: a SIGTERM that comes as soon as the port is bound
        // (a test, a supervisor) is a clean stop, not a kill.
        // SIGHUP: render the page again (after an edit of index.html).
        net::signal_set hangup(ioc, SIGHUP);
        std::function<void(const error_code&, int)> on_hangup =
            [&](const error_code& ec, int) {
                if (ec) {
                    return;
                }
                log->info("SIGHUP: rendering the page again");
                server.reload();
                hangup.async_wait(on_hangup);
            };
        hangup.async_wait(on_hangup);
        // A second SIGINT or SIGTERM ends the process at once.
        common::stop_signals signals(ioc, [&](int signal) {
            log->info("signal {}: shutting down", signal);
            server.stop();
            error_code ignored;
            hangup.cancel(ignored);
        });
        server.start();
        const bool https = !cfg.tls_cert.empty();
        std::string urls;
        for (const auto& b : common::brokers(cfg.common)) {
            urls += fmt::format("{}{}://{}/ws", urls.empty() ? "" : ", ",
                                cfg.broker_ssl || https ? "wss" : "ws", common::authority(b));
        }
        log->info("the page reaches the broker at {}", urls);
        log->info("to accept only this page's web clients, start the broker with "
                  "--allowed-origins {}://<this host>:{} (the address you open the page at; "
                  "https:// behind a TLS proxy)",
                  https ? "https" : "http", server.local_endpoint().port());

        ioc.run();
    } catch (const std::exception& e) {
        log->error("{}", e.what());
        return 1;
    }
    log->info("stopped");
    return 0;
}
