#include "gateway_core.hpp"

#include "common/logging.hpp"
#include "common/message.hpp"

#include <spdlog/spdlog.h>

namespace aiot::gw {

namespace msg = aiot::common;

namespace {
constexpr std::string_view protocol_resource = "protocol";
}

gateway_core::gateway_core(core_config config, std::shared_ptr<spdlog::logger> log)
    : config_(std::move(config)),
      log_(log ? std::move(log) : common::get_logger("gw")),
      registry_(config_.limits)
{
}

void gateway_core::to_broker(const json& message)
{
    if (connected_) {
        out_.to_broker.push_back(msg::serialize(message));
    }
}

void gateway_core::announce(const node& n, std::string_view dst)
{
    to_broker(msg::make_new(n.uid, dst));
    for (const auto& r : n.resources) {
        to_broker(msg::make_update(n.uid, r.name, r.value, dst));
    }
}

void gateway_core::refused(std::string_view what, std::string_view uid,
                           registry_status s) const
{
    log_->warn("node '{}': {} refused: {}", uid, what, to_string(s));
}

registry_status gateway_core::node_added(std::string_view uid, time_point now,
                                         const std::vector<resource>& initial)
{
    const auto status = registry_.add(uid, now);
    if (status == registry_status::exists) {
        return status;
    }
    if (status != registry_status::ok) {
        refused("new node", uid, status);
        return status;
    }
    registry_.set_resource(uid, protocol_resource, config_.protocol);
    for (const auto& r : initial) {
        if (r.name == protocol_resource) {
            continue;
        }
        const auto s = registry_.set_resource(uid, r.name, r.value);
        if (s != registry_status::ok) {
            refused(fmt::format("resource '{}'", r.name), uid, s);
        }
    }
    log_->info("node '{}': new ({} nodes)", uid, registry_.size());
    announce(*registry_.find(uid), "all");
    return status;
}

registry_status gateway_core::resource_changed(std::string_view uid, std::string_view name,
                                               json value, time_point now)
{
    if (name == protocol_resource) {
        log_->debug("node '{}': resource 'protocol' is set by the gateway, ignored", uid);
        return registry_.touch(uid, now);
    }
    auto status = registry_.set_resource(uid, name, value);
    if (status != registry_status::ok) {
        refused(fmt::format("resource '{}'", name), uid, status);
        return status;
    }
    registry_.touch(uid, now);
    if (log_->should_log(spdlog::level::debug)) { // serialising costs, even unlogged
        log_->debug("node '{}': {} = {}", uid, name, msg::serialize(value));
    }
    to_broker(msg::make_update(uid, name, std::move(value), "all"));
    return status;
}

registry_status gateway_core::node_seen(std::string_view uid, time_point now)
{
    return registry_.touch(uid, now);
}

registry_status gateway_core::node_reset(std::string_view uid, time_point now,
                                         const std::vector<std::string>& keep)
{
    std::vector<std::string> kept = keep;
    kept.emplace_back(protocol_resource);
    const auto status = registry_.clear_resources(uid, kept);
    if (status != registry_status::ok) {
        return status;
    }
    registry_.touch(uid, now);
    log_->info("node '{}': reset", uid);
    to_broker(msg::make_reset(uid));
    return status;
}

bool gateway_core::node_removed(std::string_view uid)
{
    if (!registry_.remove(uid)) {
        return false;
    }
    log_->info("node '{}': out ({} nodes)", uid, registry_.size());
    to_broker(msg::make_out(uid));
    return true;
}

registry_status gateway_core::apply(const node_event& e, time_point now)
{
    switch (e.what) {
    case node_event::kind::add: return node_added(e.uid, now, e.initial);
    case node_event::kind::set: return resource_changed(e.uid, e.name, e.value, now);
    case node_event::kind::touch: return node_seen(e.uid, now);
    case node_event::kind::reset: return node_reset(e.uid, now, e.keep);
    case node_event::kind::remove:
        return node_removed(e.uid) ? registry_status::ok : registry_status::unknown_node;
    }
    return registry_status::unknown_node;
}

void gateway_core::broker_connected(time_point now)
{
    connected_ = true;
    next_keepalive_ = now + config_.keepalive_interval;
    log_->debug("announcing {} nodes to the broker", registry_.size());
    for (const auto& [uid, n] : registry_.nodes()) {
        announce(n, "all");
    }
}

void gateway_core::broker_disconnected()
{
    connected_ = false;
}

void gateway_core::broker_message(std::string_view text)
{
    const auto parsed = msg::parse_message(text);
    if (!parsed) {
        log_->warn("broker message ignored: {}", parsed.error);
        return;
    }
    const auto& body = parsed.msg->body;
    switch (parsed.msg->type) {
    case msg::message_type::new_: {
        const auto src = body.find("src");
        if (src == body.end() || !src->is_string() || src->get_ref<const std::string&>().empty()) {
            log_->warn("broker 'new' without a client id ignored");
            return;
        }
        const auto& client = src->get_ref<const std::string&>();
        log_->debug("client '{}': sending {} nodes", client, registry_.size());
        for (const auto& [uid, n] : registry_.nodes()) {
            announce(n, client);
        }
        return;
    }
    case msg::message_type::update: {
        auto request = msg::parse_write_request(body);
        if (!request) {
            log_->warn("broker 'update' ignored: not a write request");
            return;
        }
        if (!registry_.contains(request->uid)) {
            // Every gateway receives every write: most are for others.
            log_->debug("write for node '{}' ignored: not ours", request->uid);
            return;
        }
        log_->debug("node '{}': write {} = '{}' from client '{}'", request->uid,
                    request->endpoint, request->payload, request->src);
        out_.writes.push_back({std::move(request->uid), std::move(request->endpoint),
                               std::move(request->payload), std::move(request->src)});
        return;
    }
    case msg::message_type::out:
    case msg::message_type::reset:
        log_->debug("broker '{}' ignored", msg::to_string(parsed.msg->type));
        return;
    }
}

void gateway_core::tick(time_point now)
{
    if (config_.max_time.count() > 0) {
        for (auto& uid : registry_.expire(now, config_.max_time)) {
            log_->info("node '{}': not seen for {} s, out ({} nodes)", uid,
                       config_.max_time.count(), registry_.size());
            to_broker(msg::make_out(uid));
            out_.expired.push_back(std::move(uid));
        }
    }
    if (connected_ && config_.keepalive_interval.count() > 0 && now >= next_keepalive_) {
        to_broker(msg::make_keepalive());
        next_keepalive_ += config_.keepalive_interval;
        if (next_keepalive_ <= now) {
            // Ticks stopped for a while: no burst of keep-alives.
            next_keepalive_ = now + config_.keepalive_interval;
        }
    }
}

core_output gateway_core::take_output()
{
    return std::exchange(out_, core_output{});
}

} // namespace aiot::gw
