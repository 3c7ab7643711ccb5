#include "dashboard/live_feed.hpp"

#include "gateways/core/broker_uplink.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace aiot::dashboard {

namespace {

// How often the recorder's rows go to the database thread.
constexpr std::chrono::milliseconds flush_every{200};
// A batch is handed over early when it reaches this many rows.
constexpr std::size_t flush_rows = 20'000;

} // namespace

history::millis now_millis()
{
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

live_feed::live_feed(net::io_context& ioc, const config& cfg, common::metrics& registry,
                     std::shared_ptr<spdlog::logger> log)
    : ioc_(ioc), log_(std::move(log)), flush_timer_(ioc), metrics_(registry)
{
    if (cfg.history) {
        history::writer_config wc;
        wc.path = cfg.history_db.string();
        wc.keep = std::chrono::hours(24 * cfg.history_days);
        wc.max_bytes = static_cast<std::uint64_t>(cfg.history_max_mb) << 20;
        std::error_code ec;
        if (cfg.history_db.has_parent_path()) {
            std::filesystem::create_directories(cfg.history_db.parent_path(), ec);
        }
        writer_ = std::make_unique<history::writer>(std::move(wc), log_);
    } else {
        log_->info("history is off (--no-history): the API serves live values only");
    }
    gw::uplink_config uc;
    // The same brokers as the page's, in the same order, by the same scheme
    // (--broker-ssl): the uplink moves to the next one when one fails.
    uc.brokers = common::brokers(cfg.common);
    uc.tls = cfg.broker_ssl;
    uc.ca_file = cfg.common.broker_ca;
    uc.insecure = cfg.common.broker_insecure;
    uc.target = "/ws";
    uc.send_token = false;
    uc.user_agent = "aiot-dashboard";
    // The broker's fan-out to a web client can be large (a snapshot of
    // every node): the same limit as the page's.
    uc.max_incoming_bytes = 1u << 20;
    gw::broker_uplink::handlers h;
    h.connected = [this] {
        log_->info("recording what the broker sends (as a web client of /ws)");
        uplink_->send(R"({"type": "new", "data": "client"})");
    };
    h.disconnected = [this] { on_disconnected(); };
    h.message = [this](std::string_view text) { on_message(text); };
    uplink_ = std::make_unique<gw::broker_uplink>(ioc, std::move(uc), std::move(h), log_);

    using kind = common::metrics::kind;
    metrics_.computed("aiot_dashboard_broker_connected",
                      "1 while the dashboard's own connection to the broker is up", kind::gauge,
                      [this] { return connected() ? 1.0 : 0.0; });
    metrics_.computed("aiot_dashboard_nodes", "Live nodes known from the broker", kind::gauge,
                      [this] { return static_cast<double>(recorder_.nodes().size()); });
    if (writer_) {
        auto* w = writer_.get();
        metrics_.computed("aiot_dashboard_history_rows", "Values kept in the history", kind::gauge,
                          [w] { return static_cast<double>(w->rows_stored()); });
        metrics_.computed("aiot_dashboard_history_size_bytes",
                          "Bytes of the history file in use", kind::gauge,
                          [w] { return static_cast<double>(w->bytes_used()); });
        metrics_.computed("aiot_dashboard_history_written_total",
                          "Values and events written to the history", kind::counter,
                          [w] { return static_cast<double>(w->rows_written()); });
        metrics_.computed("aiot_dashboard_history_dropped_total",
                          "Values and events not written (the database fell behind, or failed)",
                          kind::counter, [w] { return static_cast<double>(w->rows_dropped()); });
    }
}

live_feed::~live_feed()
{
    stop();
}

void live_feed::start()
{
    uplink_->start();
    schedule_flush();
}

void live_feed::stop()
{
    if (stopping_) {
        return;
    }
    stopping_ = true;
    uplink_->stop();
    flush_timer_.cancel();
    flush();
}

bool live_feed::connected() const
{
    return uplink_->connected();
}

bool live_feed::send_write(std::string_view uid, std::string_view endpoint,
                           std::string_view payload)
{
    const nlohmann::json msg = {
        {"type", "update"},
        {"data", {{"uid", uid}, {"endpoint", endpoint}, {"payload", payload}}}};
    return uplink_->send(msg.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void live_feed::on_message(std::string_view text)
{
    const auto msg = nlohmann::json::parse(text, nullptr, false);
    if (msg.is_discarded()) {
        count("refused");
        if (refused_++ == 0) {
            log_->warn("broker sent a message that is not JSON; ignored (logged once)");
        }
        return;
    }
    if (const auto why = recorder_.on_message(msg, now_millis())) {
        log_->debug("broker message ignored: {}", *why);
        count("refused");
    } else {
        count(msg["type"].get_ref<const std::string&>());
    }
    if (writer_ && recorder_.pending_rows() >= flush_rows) {
        flush();
    }
}

void live_feed::count(std::string_view type)
{
    // A cell per type, found once: this runs for every message.
    for (auto& [name, cell] : by_type_) {
        if (name == type) {
            cell->inc();
            return;
        }
    }
    auto& cell = metrics_.counter("aiot_dashboard_broker_messages_total",
                                  "Messages from the broker, by type (refused: not understood)",
                                  {{"type", std::string(type)}});
    by_type_.emplace_back(std::string(type), &cell);
    cell.inc();
}

void live_feed::on_disconnected()
{
    recorder_.on_disconnect();
    flush();
}

void live_feed::schedule_flush()
{
    flush_timer_.expires_after(flush_every);
    flush_timer_.async_wait([this](const error_code& ec) {
        if (ec || stopping_) {
            return;
        }
        recorder_.tick(now_millis());
        flush();
        schedule_flush();
    });
}

void live_feed::flush()
{
    auto rows = recorder_.take();
    if (!writer_ || rows.empty()) {
        return;
    }
    const auto count = rows.size();
    const bool taken = writer_->append(std::move(rows));
    if (!taken && !dropping_) {
        log_->warn("history: the database falls behind; {} values dropped (and more until it "
                   "catches up)",
                   count);
    } else if (taken && dropping_) {
        log_->info("history: the database caught up ({} values dropped in all)",
                   writer_->rows_dropped());
    }
    dropping_ = !taken;
}

} // namespace aiot::dashboard
