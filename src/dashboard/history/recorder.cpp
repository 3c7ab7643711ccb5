#include "dashboard/history/recorder.hpp"

namespace aiot::dashboard::history {

std::string value_text(const nlohmann::json& value)
{
    if (value.is_string()) {
        return value.get<std::string>();
    }
    return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::optional<std::string> recorder::key_for(const live_node& node)
{
    auto text_of = [&](std::string_view resource) -> std::optional<std::string> {
        const auto it = node.resources.find(resource);
        if (it == node.resources.end()) {
            return std::nullopt;
        }
        auto text = value_text(it->second.value);
        if (text.empty()) {
            return std::nullopt;
        }
        return text;
    };
    if (node.protocol == "CoAP") {
        return "coap:" + node.uid;
    }
    if (node.protocol == "MQTT") {
        if (auto id = text_of("id")) {
            return "mqtt:" + *id;
        }
        return std::nullopt;
    }
    if (node.protocol == "WebSocket") {
        if (auto name = text_of("name")) {
            return "ws:" + *name;
        }
        return std::nullopt;
    }
    return std::nullopt;
}

std::optional<std::string> recorder::on_message(const nlohmann::json& message, millis now)
{
    if (!message.is_object()) {
        return "not a JSON object";
    }
    const auto type_it = message.find("type");
    const auto uid_it = message.find("uid");
    if (type_it == message.end() || !type_it->is_string()) {
        return "no type";
    }
    if (uid_it == message.end() || !uid_it->is_string()) {
        return "no uid";
    }
    const auto& type = type_it->get_ref<const std::string&>();
    const auto& uid = uid_it->get_ref<const std::string&>();
    auto it = nodes_.find(uid);
    if (type == "new") {
        if (it == nodes_.end()) {
            if (nodes_.size() >= max_nodes) {
                ++dropped_;
                return "too many nodes";
            }
            it = nodes_.emplace(uid, live_node{}).first;
            it->second.uid = uid;
            it->second.first_seen = now;
        }
        it->second.last_seen = now;
        out_.events.push_back({it->second.key, uid, "new", now});
        return std::nullopt;
    }
    if (it == nodes_.end()) {
        return type == "update" || type == "out" || type == "reset"
                   ? std::optional<std::string>("node " + uid + " was never announced")
                   : std::optional<std::string>("unknown type " + type);
    }
    auto& node = it->second;
    node.last_seen = now;
    if (type == "update") {
        const auto endpoint_it = message.find("endpoint");
        const auto data_it = message.find("data");
        if (endpoint_it == message.end() || !endpoint_it->is_string() || data_it == message.end()) {
            return "update without endpoint or data";
        }
        record(node, endpoint_it->get_ref<const std::string&>(), *data_it, now);
        return std::nullopt;
    }
    if (type == "out" || type == "reset") {
        settle_key(node, true);
        out_.events.push_back({node.key, uid, type, now});
        if (type == "out") {
            nodes_.erase(it);
        } else {
            // The node rebooted: what it had is gone, except what its
            // gateway knows of it.
            std::erase_if(node.resources, [](const auto& r) {
                return r.first != "protocol" && r.first != "ip" && r.first != "id";
            });
        }
        return std::nullopt;
    }
    return "unknown type " + type;
}

void recorder::record(live_node& node, std::string_view resource, const nlohmann::json& value,
                      millis now)
{
    if (resource.empty()) {
        return;
    }
    auto r = node.resources.find(resource);
    if (r == node.resources.end()) {
        if (node.resources.size() >= max_resources) {
            ++dropped_;
            return;
        }
        r = node.resources.emplace(std::string(resource), live_resource{}).first;
    }
    r->second.value = value;
    r->second.at = now;
    if (resource == "protocol" && value.is_string()) {
        node.protocol = value.get<std::string>();
    }
    sample s;
    s.resource = std::string(resource);
    s.at = now;
    s.text = value_text(value);
    if (s.text.size() > max_text) {
        s.text.resize(max_text);
    }
    s.number = value.is_number() ? std::optional<double>(value.get<double>())
                                 : (value.is_string() ? leading_number(s.text) : std::nullopt);
    if (!node.key.empty()) {
        s.node = node.key;
        out_.samples.push_back(std::move(s));
        return;
    }
    node.pending.push_back(std::move(s));
    settle_key(node, node.pending.size() >= pending_limit);
}

void recorder::settle_key(live_node& node, bool force)
{
    if (!node.key.empty()) {
        return;
    }
    auto key = key_for(node);
    if (!key && !force) {
        return;
    }
    node.key = key ? std::move(*key) : "uid:" + node.uid;
    for (auto& e : out_.events) {
        if (e.uid == node.uid && e.node.empty()) {
            e.node = node.key;
        }
    }
    for (auto& s : node.pending) {
        s.node = node.key;
        out_.samples.push_back(std::move(s));
    }
    node.pending.clear();
    node.pending.shrink_to_fit();
}

void recorder::tick(millis now)
{
    for (auto& [uid, node] : nodes_) {
        if (node.key.empty() && now - node.first_seen >= key_wait) {
            settle_key(node, true);
        }
    }
}

void recorder::on_disconnect()
{
    for (auto& [uid, node] : nodes_) {
        settle_key(node, true);
    }
    nodes_.clear();
}

const live_node* recorder::find(std::string_view uid) const
{
    const auto it = nodes_.find(uid);
    return it == nodes_.end() ? nullptr : &it->second;
}

batch recorder::take()
{
    batch b;
    // Events whose node has no key yet wait with it.
    std::erase_if(out_.events, [&](event& e) {
        if (e.node.empty()) {
            return false;
        }
        b.events.push_back(std::move(e));
        return true;
    });
    b.samples = std::move(out_.samples);
    out_.samples.clear();
    return b;
}

} // namespace aiot::dashboard::history
