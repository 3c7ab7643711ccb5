#include "mqtt_logic.hpp"

#include "common/logging.hpp"
#include "common/message.hpp"
#include "common/system.hpp"
#include "common/text.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace aiot::gw::mqtt {

namespace {

constexpr std::string_view check_topic = "node/check";
constexpr std::size_t excerpt_bytes = 40;

// A short, printable piece of untrusted input for a log line.
std::string excerpt(std::string_view text)
{
    return common::printable(text, excerpt_bytes);
}

// Splits a topic at '/' (at most 4 levels are looked at; more is an error).
std::vector<std::string_view> split_topic(std::string_view topic)
{
    std::vector<std::string_view> levels;
    while (levels.size() < 4) {
        const auto slash = topic.find('/');
        levels.push_back(topic.substr(0, slash));
        if (slash == std::string_view::npos) {
            return levels;
        }
        topic.remove_prefix(slash + 1);
    }
    levels.push_back(topic); // the rest: marks the topic as too deep
    return levels;
}

std::string node_topic(std::string_view node_id, std::string_view leaf)
{
    return fmt::format("node/{}/{}", node_id, leaf);
}

// Resource names the node may not use: the gateway sets `protocol`, and
// node/<id>/resources is the discovery topic.
bool reserved_resource(std::string_view name)
{
    return name == "protocol" || name == "resources";
}

} // namespace

bool valid_topic_level(std::string_view name, std::size_t max_bytes)
{
    if (name.empty() || name.size() > max_bytes) {
        return false;
    }
    return std::none_of(name.begin(), name.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c == '/' || c == '+' || c == '#' || c < 0x20 || c == 0x7f;
    });
}

mqtt_logic::mqtt_logic(logic_config config, std::shared_ptr<spdlog::logger> log,
                       std::function<std::string()> make_uid)
    : config_(config),
      log_(log ? std::move(log) : common::get_logger("gw.mqtt")),
      make_uid_(make_uid ? std::move(make_uid) : std::function<std::string()>(common::make_uuid)),
      warning_budget_(config.warnings_per_tick)
{
}

void mqtt_logic::reject(const std::string& reason)
{
    ++rejected_;
    if (warning_budget_ > 0) {
        --warning_budget_;
        log_->warn("{}", reason);
    } else {
        ++unlogged_;
        log_->debug("{}", reason);
    }
}

void mqtt_logic::connected(time_point now)
{
    connected_ = true;
    now_ = now;
    log_->info("MQTT session up: subscribing for {} known nodes", nodes_.size());
    // One request for everything (the client splits it into packets).
    subscribe_topics all{{std::string(check_topic)}};
    subscribe_topics values{{}, config_.values_qos};
    for (const auto& [id, n] : nodes_) {
        append_topics(id, n, all.topics, values.topics);
    }
    actions_.emplace_back(std::move(all));
    if (!values.topics.empty()) {
        actions_.emplace_back(std::move(values));
    }
    // Nodes answer gateway/check at once, so a restarted gateway (or one
    // that lost its session) learns its nodes without waiting 30 s.
    if (config_.check_interval.count() > 0) {
        actions_.emplace_back(publish_message{"gateway/check", ""});
        next_check_ = now + config_.check_interval;
    }
    for (auto& [id, n] : nodes_) {
        if (!n.discovered) {
            ask_resources(id, n);
        }
    }
}

void mqtt_logic::ask_resources(const std::string& node_id, node_state& n)
{
    n.asked = now_;
    if (++n.asks > 1) {
        ++rediscoveries_;
    }
    discover(node_id, "resources");
}

void mqtt_logic::disconnected()
{
    if (connected_) {
        log_->warn("MQTT session down ({} nodes kept)", nodes_.size());
    }
    connected_ = false;
}

void mqtt_logic::append_topics(const std::string& node_id, const node_state& n,
                               std::vector<std::string>& discovery,
                               std::vector<std::string>& values)
{
    discovery.push_back(node_topic(node_id, "resources"));
    for (const auto& r : n.resources) {
        values.push_back(node_topic(node_id, r));
    }
}

void mqtt_logic::discover(const std::string& node_id, std::string_view what)
{
    if (connected_) {
        actions_.emplace_back(
            publish_message{fmt::format("gateway/{}/discover", node_id), std::string(what),
                            config_.discovery_qos});
    }
}

void mqtt_logic::message(std::string_view topic, std::string_view payload)
{
    if (payload.size() > config_.max_payload_bytes) {
        reject(fmt::format("topic '{}': payload of {} bytes ignored (limit {})", excerpt(topic),
                           payload.size(), config_.max_payload_bytes));
        return;
    }
    const auto levels = split_topic(topic);
    if (levels.size() == 2 && levels[0] == "node" && levels[1] == "check") {
        on_check(payload);
        return;
    }
    if (levels.size() != 3 || levels[0] != "node") {
        reject(fmt::format("topic '{}' ignored: expected node/check or node/<id>/<resource>",
                           excerpt(topic)));
        return;
    }
    const auto it = nodes_.find(levels[1]);
    if (it == nodes_.end()) {
        reject(fmt::format("topic '{}' ignored: unknown node id", excerpt(topic)));
        return;
    }
    if (levels[2] == "resources") {
        on_resources(it->first, it->second, payload);
    } else {
        on_value(it->first, it->second, levels[2], payload);
    }
}

void mqtt_logic::on_check(std::string_view payload)
{
    const auto parsed = common::parse_json(payload);
    if (!parsed) {
        reject(fmt::format("node/check ignored: {}: '{}'", common::to_string(parsed.error),
                           excerpt(payload)));
        return;
    }
    const auto& j = *parsed.value;
    const auto id = j.is_object() ? j.find("id") : j.end();
    if (!j.is_object() || id == j.end() || !id->is_string()) {
        reject(fmt::format("node/check ignored: expected {{\"id\": \"<node id>\"}}, got '{}'",
                           excerpt(payload)));
        return;
    }
    const auto& node_id = id->get_ref<const std::string&>();
    if (!valid_topic_level(node_id, config_.max_name_bytes)) {
        reject(fmt::format("node/check ignored: node id '{}' is empty, longer than {} bytes or "
                           "contains '/', '+', '#' or a control character",
                           excerpt(node_id), config_.max_name_bytes));
        return;
    }
    if (const auto it = nodes_.find(node_id); it != nodes_.end()) {
        emit(node_event::seen(it->second.uid));
        const auto wait = config_.rediscover_interval * (1u << std::min(std::max(it->second.asks, 1u) - 1, 3u));
        if (!it->second.discovered && now_ - it->second.asked >= wait) {
            ask_resources(it->first, it->second); // the last request got no answer
        }
        return;
    }
    if (nodes_.size() >= config_.max_nodes && !evict_undiscovered(node_id)) {
        if (!full_) {
            log_->warn("node '{}' refused: {} nodes already (limit), all of them discovered; "
                       "refusing new nodes until one leaves",
                       node_id, nodes_.size());
            full_ = true;
        }
        ++rejected_;
        return;
    }
    full_ = false;
    auto uid = make_uid_();
    emit(node_event::added(uid, {{"id", node_id}}),
         [this, node_id, uid](registry_status st) { admitted(node_id, uid, st); });
}

void mqtt_logic::admitted(const std::string& node_id, const std::string& uid,
                          registry_status status)
{
    if (status != registry_status::ok) {
        log_->warn("node '{}' refused by the node cache: {}", node_id, to_string(status));
        return;
    }
    auto& n = nodes_[node_id];
    n.uid = uid;
    n.admitted = ++admissions_;
    undiscovered_.emplace(n.admitted, node_id);
    node_ids_[uid] = node_id;
    log_->info("node '{}': new MQTT node, uid '{}'", node_id, uid);
    if (connected_) {
        // A new node has no resources yet: its resource list only.
        actions_.emplace_back(subscribe_topics{{node_topic(node_id, "resources")}});
    }
    ask_resources(node_id, n);
}

void mqtt_logic::on_resources(const std::string& node_id, node_state& n,
                              std::string_view payload)
{
    const auto parsed = common::parse_json(payload);
    if (!parsed || !parsed.value->is_array()) {
        reject(fmt::format("node '{}': resource list ignored: expected a JSON list of names, got "
                           "'{}' ({})",
                           node_id, excerpt(payload),
                           parsed ? "not a list" : common::to_string(parsed.error)));
        return;
    }
    const auto& j = *parsed.value;
    std::vector<std::string> added;
    std::size_t refused = 0;
    std::size_t over_limit = 0;
    for (const auto& item : j) {
        if (!item.is_string()) {
            ++refused;
            continue;
        }
        const auto& name = item.get_ref<const std::string&>();
        if (!valid_topic_level(name, config_.max_name_bytes) || reserved_resource(name)) {
            ++refused;
            continue;
        }
        if (std::find(n.resources.begin(), n.resources.end(), name) != n.resources.end()) {
            continue;
        }
        if (n.resources.size() >= config_.max_resources) {
            ++over_limit;
            continue;
        }
        n.resources.push_back(name);
        added.push_back(name);
    }
    if (refused > 0) {
        reject(fmt::format("node '{}': {} resource names refused (not a string, reserved, empty, "
                           "too long or with '/', '+', '#')",
                           node_id, refused));
    }
    if (over_limit > 0) {
        reject(fmt::format("node '{}': {} resources beyond the limit of {} ignored", node_id,
                           over_limit, config_.max_resources));
    }
    if (!n.discovered) {
        undiscovered_.erase(n.admitted);
    }
    n.discovered = true;
    log_->debug("node '{}': {} resources ({} new)", node_id, n.resources.size(), added.size());
    if (!connected_) {
        return; // connected() subscribes them all
    }
    if (!added.empty()) {
        subscribe_topics s{{}, config_.values_qos};
        for (const auto& name : added) {
            s.topics.push_back(node_topic(node_id, name));
        }
        actions_.emplace_back(std::move(s));
    }
    discover(node_id, "values");
}

void mqtt_logic::on_value(const std::string& node_id, node_state& n, std::string_view resource,
                          std::string_view payload)
{
    if (std::find(n.resources.begin(), n.resources.end(), resource) == n.resources.end()) {
        reject(fmt::format("node '{}': value for unlisted resource '{}' ignored", node_id,
                           excerpt(resource)));
        return;
    }
    auto parsed = common::parse_json(payload);
    auto& j = parsed.value;
    const auto value = j && j->is_object() ? j->find("value") : json::iterator{};
    if (!j || !j->is_object() || value == j->end()) {
        reject(fmt::format("node '{}': {} ignored: expected {{\"value\": ...}}, got '{}'{}", node_id,
                           resource, excerpt(payload),
                           parsed.error == common::json_error::too_deep ? " (nested too deep)"
                                                                        : ""));
        return;
    }
    emit(node_event::changed(n.uid, std::string(resource), std::move(*value)));
}

bool mqtt_logic::evict_undiscovered(std::string_view for_node)
{
    if (undiscovered_.empty()) {
        return false;
    }
    const auto oldest = undiscovered_.begin();
    const auto node = nodes_.find(oldest->second);
    if (node == nodes_.end()) { // cannot happen: both maps change together
        undiscovered_.erase(oldest);
        return false;
    }
    ++evicted_;
    if (warning_budget_ > 0) {
        --warning_budget_;
        log_->warn("node table full ({} nodes): node '{}' removed to admit '{}' (it never sent its "
                   "resource list)",
                   nodes_.size(), node->first, excerpt(for_node));
    } else {
        ++unlogged_evictions_;
    }
    emit(node_event::removed(node->second.uid));
    forget(node);
    return true;
}

void mqtt_logic::forget(std::map<std::string, node_state, std::less<>>::iterator node)
{
    if (connected_) {
        unsubscribe_topics u;
        append_topics(node->first, node->second, u.topics, u.topics);
        actions_.emplace_back(std::move(u));
    }
    if (!node->second.discovered) {
        undiscovered_.erase(node->second.admitted);
    }
    node_ids_.erase(node->second.uid);
    nodes_.erase(node);
}

void mqtt_logic::tick(time_point now)
{
    now_ = now;
    if (unlogged_evictions_ > 0) {
        log_->warn("{} more undiscovered nodes removed to admit new ones (node table full)",
                   unlogged_evictions_);
        unlogged_evictions_ = 0;
    }
    if (unlogged_ > 0) {
        log_->warn("{} more invalid MQTT messages ignored (not logged one by one)", unlogged_);
        unlogged_ = 0;
    }
    warning_budget_ = config_.warnings_per_tick;
    if (!connected_ || config_.check_interval.count() <= 0 || now < next_check_) {
        return;
    }
    actions_.emplace_back(publish_message{"gateway/check", ""});
    next_check_ += config_.check_interval;
    if (next_check_ <= now) {
        next_check_ = now + config_.check_interval; // ticks stopped for a while: no burst
    }
}

void mqtt_logic::write(const write_command& w)
{
    const auto id = node_ids_.find(w.uid);
    if (id == node_ids_.end()) {
        log_->warn("write to '{}' of node '{}' dropped: not an MQTT node of this gateway",
                   w.endpoint, w.uid);
        return;
    }
    if (!valid_topic_level(w.endpoint, config_.max_name_bytes)) {
        log_->warn("node '{}': write dropped: endpoint '{}' cannot be a topic level", id->second,
                   excerpt(w.endpoint));
        return;
    }
    if (!connected_) {
        log_->warn("node '{}': write to '{}' dropped: not connected to the MQTT broker",
                   id->second, w.endpoint);
        return;
    }
    log_->debug("node '{}': {} <- '{}' (client '{}')", id->second, w.endpoint, excerpt(w.payload),
                excerpt(w.src));
    actions_.emplace_back(
        publish_message{fmt::format("gateway/{}/{}/set", id->second, w.endpoint), w.payload});
}

void mqtt_logic::node_expired(std::string_view uid)
{
    const auto id = node_ids_.find(uid);
    if (id == node_ids_.end()) {
        return;
    }
    const auto node = nodes_.find(id->second);
    if (node == nodes_.end()) {
        node_ids_.erase(id);
        return;
    }
    log_->info("node '{}': expired, unsubscribing its topics", id->second);
    forget(node);
}

void mqtt_logic::emit(node_event e, std::function<void(registry_status)> then)
{
    events_.push_back(std::move(e));
    then_.push_back(std::move(then));
}

std::vector<node_event> mqtt_logic::take_node_events()
{
    taken_ = std::exchange(then_, {});
    return std::exchange(events_, {});
}

void mqtt_logic::applied(const std::vector<registry_status>& statuses)
{
    auto taken = std::exchange(taken_, {});
    for (std::size_t i = 0; i < taken.size() && i < statuses.size(); ++i) {
        if (taken[i]) {
            taken[i](statuses[i]);
        }
    }
}

std::vector<action> mqtt_logic::take_actions()
{
    return std::exchange(actions_, {});
}

const mqtt_logic::node_state* mqtt_logic::find(std::string_view node_id) const
{
    const auto it = nodes_.find(node_id);
    return it == nodes_.end() ? nullptr : &it->second;
}

} // namespace aiot::gw::mqtt
