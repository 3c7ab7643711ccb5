#include "broker/nats_link.hpp"

#include <nats/nats.h>
#include <spdlog/fmt/ranges.h>

#include <deque>
#include <mutex>
#include <stdexcept>
#include <utility>

namespace aiot::broker {

// Shared by the loop and libnats' threads. libnats gets a plain pointer to
// it as the callbacks' closure and may call one after the connection is
// destroyed (its closed callback runs on a thread of its own): a shared
// block is therefore never freed while the process runs (see ~nats_link).
struct nats_link::shared : std::enable_shared_from_this<shared> {
    shared(net::io_context& io, handlers hs, std::shared_ptr<spdlog::logger> l,
           std::size_t max_inbox)
        : ioc(io), h(std::move(hs)), log(std::move(l)), max_inbox_messages(max_inbox)
    {
    }

    net::io_context& ioc;
    handlers h; // called on the loop only
    std::shared_ptr<spdlog::logger> log;
    const std::size_t max_inbox_messages;

    std::mutex m;
    std::deque<std::pair<std::string, std::string>> inbox; // guarded by m
    bool open = true;                                      // guarded by m
    std::atomic<std::uint64_t> received{0};
    std::atomic<std::uint64_t> dropped{0};
    std::atomic<bool> connected{false};

    // The loop's side.
    bool loop_open = true;
    natsOptions* opts = nullptr;
    natsConnection* conn = nullptr;
    std::vector<natsSubscription*> subs;

    // From a libnats thread: run f on the loop unless the link is closed.
    template <typename F>
    void to_loop(F f)
    {
        std::lock_guard lock(m);
        if (open) {
            net::post(ioc, [self = shared_from_this(), f = std::move(f)]() mutable {
                if (self->loop_open) {
                    f(*self);
                }
            });
        }
    }

    void drain()
    {
        std::deque<std::pair<std::string, std::string>> batch;
        {
            std::lock_guard lock(m);
            batch.swap(inbox);
        }
        for (const auto& [subject, data] : batch) {
            if (!loop_open) {
                return;
            }
            h.message(subject, data);
        }
    }
};

namespace {

std::string status_text(natsStatus s)
{
    const char* last = nats_GetLastError(nullptr);
    std::string text = natsStatus_GetText(s);
    if (last != nullptr && *last != '\0') {
        text += std::string(" (") + last + ")";
    }
    return text;
}

std::string connected_url(natsConnection* nc)
{
    char url[256] = {};
    if (natsConnection_GetConnectedUrl(nc, url, sizeof url) == NATS_OK) {
        return url;
    }
    return "?";
}

// Blocks of links already destroyed (see nats_link::shared). Touched on
// the loop only, and never destroyed: not even at exit, when a libnats
// thread may still hold a closure (the list stays reachable, so it is no
// leak).
std::vector<std::shared_ptr<void>>& graveyard()
{
    static auto* blocks = new std::vector<std::shared_ptr<void>>;
    return *blocks;
}

void on_message(natsConnection*, natsSubscription*, natsMsg* msg, void* closure)
{
    auto* s = static_cast<nats_link::shared*>(closure);
    std::string subject = natsMsg_GetSubject(msg);
    std::string data(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
    natsMsg_Destroy(msg);
    bool wake = false;
    {
        std::lock_guard lock(s->m);
        if (!s->open) {
            return;
        }
        if (s->inbox.size() >= s->max_inbox_messages) {
            ++s->dropped;
            return;
        }
        wake = s->inbox.empty();
        s->inbox.emplace_back(std::move(subject), std::move(data));
        ++s->received;
        if (wake) {
            net::post(s->ioc, [self = s->shared_from_this()] {
                if (self->loop_open) {
                    self->drain();
                }
            });
        }
    }
}

void connected_event(natsConnection* nc, void* closure, std::string_view how)
{
    auto* s = static_cast<nats_link::shared*>(closure);
    s->connected = true;
    s->to_loop([how, url = connected_url(nc)](nats_link::shared& self) {
        self.log->info("NATS: connected{} to {}", how, url);
        self.h.status(true);
    });
}

void on_connected(natsConnection* nc, void* closure) { connected_event(nc, closure, ""); }

void on_reconnected(natsConnection* nc, void* closure)
{
    connected_event(nc, closure, " again,");
}

void on_disconnected(natsConnection*, void* closure)
{
    auto* s = static_cast<nats_link::shared*>(closure);
    s->connected = false;
    s->to_loop([](nats_link::shared& self) {
        self.log->warn("NATS: connection lost, reconnecting (what is published meanwhile is "
                       "buffered)");
        self.h.status(false);
    });
}

void on_error(natsConnection*, natsSubscription*, natsStatus err, void* closure)
{
    auto* s = static_cast<nats_link::shared*>(closure);
    s->to_loop([err](nats_link::shared& self) {
        self.log->warn("NATS: {}", natsStatus_GetText(err));
    });
}

void check(natsStatus s, const char* what)
{
    if (s != NATS_OK) {
        throw std::runtime_error(std::string("NATS: ") + what + ": " + status_text(s));
    }
}

} // namespace

nats_link::nats_link(net::io_context& ioc, nats_config cfg, handlers h,
                     std::shared_ptr<spdlog::logger> log)
    : shared_(std::make_shared<shared>(ioc, std::move(h), log, cfg.max_inbox_messages)),
      log_(std::move(log)),
      cfg_(std::move(cfg))
{
}

nats_link::~nats_link()
{
    close(nullptr, std::chrono::milliseconds(0));
    for (auto* sub : shared_->subs) {
        natsSubscription_Destroy(sub);
    }
    if (shared_->conn != nullptr) {
        natsConnection_Destroy(shared_->conn);
    }
    if (shared_->opts != nullptr) {
        natsOptions_Destroy(shared_->opts);
    }
    graveyard().push_back(shared_);
}

void nats_link::start(const std::vector<std::string>& subjects)
{
    if (cfg_.servers.empty()) {
        throw std::runtime_error("NATS: no server URL");
    }
    // One delivery thread for every subscription: messages reach the loop
    // in the order nats-server sent them, whatever their subject.
    nats_SetMessageDeliveryPoolSize(1);
    auto* s = shared_.get();
    check(natsOptions_Create(&s->opts), "options");
    std::vector<const char*> urls;
    for (const auto& u : cfg_.servers) {
        urls.push_back(u.c_str());
    }
    check(natsOptions_SetServers(s->opts, urls.data(), static_cast<int>(urls.size())),
          "server URLs");
    check(natsOptions_SetName(s->opts, cfg_.name.c_str()), "name");
    check(natsOptions_SetNoEcho(s->opts, true), "no echo");
    check(natsOptions_SetMaxReconnect(s->opts, -1), "reconnect");
    check(natsOptions_SetReconnectWait(s->opts, cfg_.reconnect_wait.count()), "reconnect wait");
    check(natsOptions_SetReconnectBufSize(s->opts, cfg_.reconnect_buffer_bytes),
          "reconnect buffer");
    // A server gone without closing the connection is noticed in ~10 s.
    check(natsOptions_SetPingInterval(s->opts, 5000), "ping interval");
    check(natsOptions_SetMaxPingsOut(s->opts, 2), "pings");
    check(natsOptions_UseGlobalMessageDelivery(s->opts, true), "delivery");
    check(natsOptions_SetRetryOnFailedConnect(s->opts, true, on_connected, s), "retry");
    check(natsOptions_SetReconnectedCB(s->opts, on_reconnected, s), "callback");
    check(natsOptions_SetDisconnectedCB(s->opts, on_disconnected, s), "callback");
    check(natsOptions_SetErrorHandler(s->opts, on_error, s), "callback");

    const auto st = natsConnection_Connect(&s->conn, s->opts);
    if (st == NATS_OK) {
        s->connected = true;
        log_->info("NATS: connected to {}", connected_url(s->conn));
    } else if (st == NATS_NOT_YET_CONNECTED) {
        log_->warn("NATS: no server answers yet ({}): serving alone, retrying every {} ms",
                   fmt::join(cfg_.servers, ", "), cfg_.reconnect_wait.count());
    } else {
        check(st, "connect");
    }
    for (const auto& subject : subjects) {
        natsSubscription* sub = nullptr;
        check(natsConnection_Subscribe(&sub, s->conn, subject.c_str(), on_message, s),
              "subscribe");
        s->subs.push_back(sub);
    }
    if (s->connected) {
        // One round trip: nats-server has the subscriptions when start()
        // returns (what others publish from then on reaches this broker).
        natsConnection_FlushTimeout(s->conn, 2000);
    }
}

bool nats_link::publish(const publication& p)
{
    if (closed_ || shared_->conn == nullptr) {
        return false;
    }
    const auto st = natsConnection_Publish(shared_->conn, p.subject.c_str(), p.data.data(),
                                           static_cast<int>(p.data.size()));
    if (st != NATS_OK) {
        if (publish_failed_++ == 0 || publish_failed_ % 10000 == 0) {
            log_->warn("NATS: publishing on {} failed ({}); {} failure(s) so far", p.subject,
                       natsStatus_GetText(st), publish_failed_);
        }
        return false;
    }
    ++published_;
    return true;
}

void nats_link::close(const publication* last, std::chrono::milliseconds flush)
{
    if (closed_) {
        return;
    }
    auto* s = shared_.get();
    if (s->conn != nullptr) {
        if (last != nullptr) {
            publish(*last);
        }
        if (flush.count() > 0 && s->connected) {
            natsConnection_FlushTimeout(s->conn, flush.count());
        }
    }
    closed_ = true;
    {
        std::lock_guard lock(s->m);
        s->open = false;
        s->inbox.clear();
    }
    s->loop_open = false;
    for (auto* sub : s->subs) {
        natsSubscription_Unsubscribe(sub);
    }
    if (s->conn != nullptr) {
        natsConnection_Close(s->conn);
    }
}

void nats_link::shutdown_library()
{
    nats_CloseAndWait(2000);
}

bool nats_link::connected() const
{
    return !closed_ && shared_->connected;
}

nats_link::counters nats_link::stats() const
{
    return {published_, publish_failed_, shared_->received, shared_->dropped};
}

} // namespace aiot::broker
