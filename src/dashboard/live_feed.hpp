#pragma once
// The dashboard's own connection to the broker, as a web client of /ws
// (it sends `new` like the page): every node event it receives goes to the
// recorder (the live table behind /api/nodes) and, unless history is off,
// to the database thread in batches. Writes asked through the API leave
// by the same connection, as the page's do.
#include "dashboard/config.hpp"
#include "dashboard/history/recorder.hpp"
#include "dashboard/history/writer.hpp"

#include "common/metrics.hpp"
#include "common/net.hpp"

#include <spdlog/logger.h>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aiot::gw {
class broker_uplink;
}

namespace aiot::dashboard {

class live_feed {
public:
    // Opens the history database (throws std::runtime_error naming the
    // file when it cannot) unless cfg.history is off.
    // Its figures go to `registry` (aiot_dashboard_*), which must outlive it.
    live_feed(net::io_context& ioc, const config& cfg, common::metrics& registry,
              std::shared_ptr<spdlog::logger> log);
    ~live_feed();
    live_feed(const live_feed&) = delete;
    live_feed& operator=(const live_feed&) = delete;

    void start();
    void stop();

    const history::recorder& recorder() const { return recorder_; }
    // nullptr when history is off.
    history::writer* writer() { return writer_.get(); }
    bool connected() const;
    // Sends the same `update` a page sends to act on a node; false when
    // the broker is not connected (or the queue is full).
    bool send_write(std::string_view uid, std::string_view endpoint, std::string_view payload);

private:
    void on_message(std::string_view text);
    void on_disconnected();
    void count(std::string_view type);
    void schedule_flush();
    void flush();

    net::io_context& ioc_;
    std::shared_ptr<spdlog::logger> log_;
    history::recorder recorder_;
    std::unique_ptr<history::writer> writer_;
    std::unique_ptr<gw::broker_uplink> uplink_;
    net::steady_timer flush_timer_;
    common::metrics& metrics_;
    // new, update, out, reset, refused: the only types a message that the
    // recorder accepted can have.
    std::vector<std::pair<std::string, common::metric_cell*>> by_type_;
    std::uint64_t refused_ = 0;
    bool stopping_ = false;
    bool dropping_ = false; // the writer refused the last batch
};

// Milliseconds since the Unix epoch, now.
history::millis now_millis();

} // namespace aiot::dashboard
