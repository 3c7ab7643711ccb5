#include "mqttsn_logic.hpp"

#include "common/logging.hpp"
#include "common/overloaded.hpp"
#include "common/text.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace aiot::gw::mqttsn {

namespace {

using common::overloaded;

// Untrusted text in a log line: common::printable, kept short.
std::string excerpt(std::string_view text) { return common::printable(text, 40); }

} // namespace

mqttsn_logic::mqttsn_logic(logic_config config, std::shared_ptr<spdlog::logger> log)
    : config_(std::move(config)),
      log_(log ? std::move(log) : common::get_logger("gw.mqttsn")),
      warning_budget_(config_.warnings_per_tick)
{
}

void mqttsn_logic::reject(const std::string& peer, const std::string& reason)
{
    ++dropped_;
    if (warning_budget_ > 0) {
        --warning_budget_;
        log_->warn("{}: {}", peer, reason);
    } else {
        ++unlogged_;
        log_->debug("{}: {}", peer, reason);
    }
}

void mqttsn_logic::send(const std::string& peer, const packet& p)
{
    auto bytes = encode(p);
    if (!bytes.empty()) {
        out_.push_back({peer, std::move(bytes)});
    }
}

bool mqttsn_logic::valid_topic(std::string_view name) const
{
    if (name.empty() || name.size() > config_.max_topic_bytes) {
        return false;
    }
    return std::none_of(name.begin(), name.end(), [](char ch) {
        const auto c = static_cast<unsigned char>(ch);
        return c == 0 || c == '+' || c == '#' || c < 0x20 || c == 0x7f;
    });
}

std::string mqttsn_logic::topic_of(const client* c, const flags& f, std::uint16_t id) const
{
    switch (f.id_type) {
    case topic_id_type::predefined: {
        const auto it = config_.predefined.find(id);
        return it == config_.predefined.end() ? std::string() : it->second;
    }
    case topic_id_type::short_name:
        return short_topic_name(id);
    case topic_id_type::normal:
        if (c != nullptr) {
            const auto it = c->topics.find(id);
            if (it != c->topics.end()) {
                return it->second;
            }
        }
        return {};
    }
    return {};
}

void mqttsn_logic::datagram(const std::string& peer, std::string_view bytes, time_point now)
{
    const auto r = decode(bytes);
    if (!r) {
        reject(peer, fmt::format("datagram of {} octets dropped: {}", bytes.size(), r.error));
        return;
    }
    const auto& p = *r.value;
    const auto it = clients_.find(peer);
    client* c = it == clients_.end() ? nullptr : &it->second;
    if (c != nullptr) {
        c->last_heard = now;
    }
    log_->debug("{}: {} ({} octets)", peer, to_string(type_of(p)), bytes.size());

    // Packets any peer may send.
    if (const auto* x = std::get_if<connect>(&p)) {
        on_connect(peer, *x, now);
        return;
    }
    if (std::holds_alternative<searchgw>(p)) {
        send(peer, gwinfo{config_.gateway_id, {}});
        return;
    }
    if (const auto* x = std::get_if<publish>(&p); x && x->f.qos == -1) {
        on_publish(peer, c, *x);
        return;
    }
    if (c == nullptr) {
        if (const auto* x = std::get_if<publish>(&p); x && x->f.qos == 1) {
            // the client thinks it is connected (this gateway restarted?)
            reject(peer, fmt::format("PUBLISH from a client that is not connected: PUBACK "
                                     "invalid topic id"));
            send(peer, puback{x->topic_id, x->msg_id, return_code::invalid_topic_id});
            return;
        }
        if (std::holds_alternative<pingreq>(p) || std::holds_alternative<disconnect>(p) ||
            std::holds_alternative<publish>(p) || std::holds_alternative<register_>(p) ||
            std::holds_alternative<subscribe>(p) || std::holds_alternative<unsubscribe>(p)) {
            reject(peer, fmt::format("{} from a client that is not connected: DISCONNECT",
                                     to_string(type_of(p))));
            send(peer, disconnect{});
            return;
        }
        reject(peer,
               fmt::format("{} from a client that is not connected dropped", to_string(type_of(p))));
        return;
    }

    // The will dialogue after a CONNECT with the Will flag.
    if (c->st == client::state::awaiting_will_topic) {
        if (const auto* x = std::get_if<willtopic>(&p)) {
            if (x->topic.empty()) {
                c->will = false;
                finish_connect(peer, *c);
                return;
            }
            if (!valid_topic(x->topic)) {
                reject(peer, "will topic refused: empty, too long or with a wildcard");
                send(peer, connack{return_code::not_supported});
                drop(peer, false, "refused will topic");
                return;
            }
            c->will_topic = x->topic;
            c->st = client::state::awaiting_will_message;
            send(peer, willmsgreq{});
            return;
        }
    } else if (c->st == client::state::awaiting_will_message) {
        if (const auto* x = std::get_if<willmsg>(&p)) {
            c->will_message = x->message;
            c->will = true;
            finish_connect(peer, *c);
            return;
        }
    }
    if (c->st != client::state::active) {
        reject(peer, fmt::format("{} dropped: the will dialogue is not finished",
                                 to_string(type_of(p))));
        return;
    }

    std::visit(overloaded{
                   [&](const publish& x) { on_publish(peer, c, x); },
                   [&](const register_& x) { on_register(peer, *c, x); },
                   [&](const puback& x) { on_puback(*c, x); },
                   [&](const regack&) {}, // the gateway never registers topics itself
                   [&](const subscribe& x) { on_subscribe(peer, *c, x); },
                   [&](const unsubscribe& x) { on_unsubscribe(peer, *c, x); },
                   [&](const pingreq&) { send(peer, pingresp{}); },
                   [&](const pingresp&) {},
                   [&](const disconnect& x) {
                       send(peer, disconnect{});
                       drop(peer, false,
                            x.duration ? "DISCONNECT with a sleep duration (sleeping clients "
                                         "are not supported: session ended)"
                                       : "DISCONNECT");
                   },
                   [&](const willtopicupd& x) {
                       if (x.topic.empty()) {
                           c->will = false;
                       } else if (valid_topic(x.topic)) {
                           c->will_topic = x.topic;
                           c->will = true;
                       } else {
                           send(peer, willtopicresp{return_code::not_supported});
                           return;
                       }
                       send(peer, willtopicresp{return_code::accepted});
                   },
                   [&](const willmsgupd& x) {
                       c->will_message = x.message;
                       send(peer, willmsgresp{return_code::accepted});
                   },
                   [&](const pubrel& x) { send(peer, pubcomp{x.msg_id}); },
                   [&](const auto& x) {
                       reject(peer, fmt::format("unexpected {} from a client dropped",
                                                to_string(type_of(packet{x}))));
                   },
               },
               p);
}

void mqttsn_logic::on_connect(const std::string& peer, const connect& p, time_point now)
{
    if (p.protocol_id != 0x01) {
        reject(peer, fmt::format("CONNECT with protocol id 0x{:02x} refused (want 0x01)",
                                 p.protocol_id));
        send(peer, connack{return_code::not_supported});
        return;
    }
    if (p.client_id.empty() || p.client_id.size() > config_.max_client_id_bytes) {
        reject(peer, fmt::format("CONNECT refused: client id of {} octets (1 to {})",
                                 p.client_id.size(), config_.max_client_id_bytes));
        send(peer, connack{return_code::not_supported});
        return;
    }
    const auto existing = clients_.find(peer);
    if (existing == clients_.end() && clients_.size() >= config_.max_clients) {
        reject(peer, fmt::format("CONNECT of '{}' refused: {} clients already (limit)",
                                 excerpt(p.client_id), clients_.size()));
        send(peer, connack{return_code::congestion});
        return;
    }
    // Another session with this client id (the client moved): ends.
    for (auto it = clients_.begin(); it != clients_.end(); ++it) {
        if (it->first != peer && it->second.client_id == p.client_id) {
            log_->info("{}: client '{}' connected again from {}", it->first,
                       excerpt(p.client_id), peer);
            clients_.erase(it);
            break;
        }
    }
    client fresh;
    if (existing != clients_.end() && !p.f.clean_session) {
        fresh = std::move(existing->second); // keep topics and subscriptions
        fresh.inflight.clear();
    }
    fresh.client_id = p.client_id;
    fresh.keep_alive = std::chrono::seconds(p.duration);
    fresh.last_heard = now;
    fresh.will = false;
    auto& c = clients_[peer] = std::move(fresh);
    if (p.f.will) {
        c.st = client::state::awaiting_will_topic;
        send(peer, willtopicreq{});
        return;
    }
    c.st = client::state::active;
    finish_connect(peer, c);
}

void mqttsn_logic::finish_connect(const std::string& peer, client& c)
{
    c.st = client::state::active;
    send(peer, connack{return_code::accepted});
    log_->info("{}: client '{}' connected (keep-alive {} s, {} clients)", peer,
               excerpt(c.client_id), c.keep_alive.count(), clients_.size());
}

void mqttsn_logic::on_register(const std::string& peer, client& c, const register_& p)
{
    if (!valid_topic(p.topic_name)) {
        reject(peer, fmt::format("REGISTER of '{}' refused: empty, longer than {} octets or a "
                                 "wildcard",
                                 excerpt(p.topic_name), config_.max_topic_bytes));
        send(peer, regack{0, p.msg_id, return_code::not_supported});
        return;
    }
    for (const auto& [id, name] : c.topics) {
        if (name == p.topic_name) {
            send(peer, regack{id, p.msg_id, return_code::accepted});
            return;
        }
    }
    if (c.topics.size() >= config_.max_topics) {
        reject(peer, fmt::format("REGISTER of '{}' refused: {} topics registered (limit)",
                                 excerpt(p.topic_name), c.topics.size()));
        send(peer, regack{0, p.msg_id, return_code::congestion});
        return;
    }
    std::uint16_t id = c.next_topic_id;
    while (id == 0 || id == 0xffff || c.topics.count(id) > 0) {
        ++id;
    }
    c.next_topic_id = static_cast<std::uint16_t>(id + 1);
    c.topics[id] = p.topic_name;
    send(peer, regack{id, p.msg_id, return_code::accepted});
}

void mqttsn_logic::on_publish(const std::string& peer, client* c, const publish& p)
{
    if (p.f.qos == 2) {
        reject(peer, "PUBLISH QoS 2 refused (not supported)");
        send(peer, puback{p.topic_id, p.msg_id, return_code::not_supported});
        return;
    }
    if (p.f.qos == -1 && p.f.id_type == topic_id_type::normal) {
        reject(peer, "PUBLISH QoS -1 dropped: needs a predefined or short topic");
        return;
    }
    const auto topic = topic_of(c, p.f, p.topic_id);
    if (topic.empty()) {
        reject(peer, fmt::format("PUBLISH to unknown topic id {} ({}) refused", p.topic_id,
                                 p.f.id_type == topic_id_type::predefined ? "predefined"
                                                                          : "registered"));
        if (p.f.qos == 1) {
            send(peer, puback{p.topic_id, p.msg_id, return_code::invalid_topic_id});
        }
        return;
    }
    if (p.f.qos == 1) {
        send(peer, puback{p.topic_id, p.msg_id, return_code::accepted});
    }
    // a duplicate QoS 1 publish goes through again: the topic logic is
    // idempotent for the aiot topics (a value set twice, a check twice)
    publishes_.push_back({c ? c->client_id : std::string(), topic, p.data});
}

void mqttsn_logic::on_puback(client& c, const puback& p)
{
    const auto it = std::find_if(c.inflight.begin(), c.inflight.end(),
                                 [&](const auto& m) { return m.msg_id == p.msg_id; });
    if (it != c.inflight.end()) {
        if (p.rc != return_code::accepted) {
            log_->warn("client '{}' refused a publish (return code {})", excerpt(c.client_id),
                       static_cast<int>(p.rc));
        }
        c.inflight.erase(it);
    }
}

void mqttsn_logic::on_subscribe(const std::string& peer, client& c, const subscribe& p)
{
    const int granted = std::min(std::max(p.f.qos, 0), 1);
    std::string topic;
    std::uint16_t id = 0;
    switch (p.f.id_type) {
    case topic_id_type::predefined: {
        const auto it = config_.predefined.find(p.topic_id);
        if (it == config_.predefined.end()) {
            reject(peer, fmt::format("SUBSCRIBE to unknown predefined topic id {}", p.topic_id));
            send(peer, suback{flags{.qos = granted}, p.topic_id, p.msg_id,
                              return_code::invalid_topic_id});
            return;
        }
        topic = it->second;
        id = p.topic_id;
        break;
    }
    case topic_id_type::short_name:
        topic = p.topic_name;
        id = short_topic_id(p.topic_name);
        break;
    case topic_id_type::normal:
        topic = p.topic_name;
        if (!valid_topic(topic)) {
            reject(peer, fmt::format("SUBSCRIBE to '{}' refused: wildcards are not supported, "
                                     "or empty or longer than {} octets",
                                     excerpt(topic), config_.max_topic_bytes));
            send(peer, suback{flags{.qos = granted}, 0, p.msg_id, return_code::not_supported});
            return;
        }
        break;
    }
    auto sub = std::find_if(c.subscriptions.begin(), c.subscriptions.end(),
                            [&](const auto& s) { return s.topic == topic; });
    if (sub == c.subscriptions.end()) {
        if (c.subscriptions.size() >= config_.max_subscriptions) {
            reject(peer, fmt::format("SUBSCRIBE to '{}' refused: {} subscriptions (limit)",
                                     excerpt(topic), c.subscriptions.size()));
            send(peer, suback{flags{.qos = granted}, 0, p.msg_id, return_code::congestion});
            return;
        }
        c.subscriptions.push_back({topic, granted});
    } else {
        sub->qos = granted;
    }
    if (p.f.id_type == topic_id_type::normal) {
        // the topic id the gateway will publish with: register it
        for (const auto& [tid, name] : c.topics) {
            if (name == topic) {
                id = tid;
            }
        }
        if (id == 0) {
            if (c.topics.size() >= config_.max_topics) {
                c.subscriptions.erase(std::find_if(c.subscriptions.begin(), c.subscriptions.end(),
                                                   [&](const auto& s) { return s.topic == topic; }));
                reject(peer, fmt::format("SUBSCRIBE to '{}' refused: {} topics registered (limit)",
                                         excerpt(topic), c.topics.size()));
                send(peer, suback{flags{.qos = granted}, 0, p.msg_id, return_code::congestion});
                return;
            }
            id = c.next_topic_id;
            while (id == 0 || id == 0xffff || c.topics.count(id) > 0) {
                ++id;
            }
            c.next_topic_id = static_cast<std::uint16_t>(id + 1);
            c.topics[id] = topic;
        }
    }
    log_->debug("{}: client '{}' subscribed to '{}' (id {}, QoS {})", peer, excerpt(c.client_id),
                excerpt(topic), id, granted);
    send(peer, suback{flags{.qos = granted}, id, p.msg_id, return_code::accepted});
}

void mqttsn_logic::on_unsubscribe(const std::string& peer, client& c, const unsubscribe& p)
{
    std::string topic = p.topic_name;
    if (p.f.id_type == topic_id_type::predefined) {
        const auto it = config_.predefined.find(p.topic_id);
        topic = it == config_.predefined.end() ? std::string() : it->second;
    }
    std::erase_if(c.subscriptions, [&](const auto& s) { return s.topic == topic; });
    send(peer, unsuback{p.msg_id});
}

void mqttsn_logic::deliver(std::string_view topic, std::string_view payload, time_point now)
{
    for (auto& [peer, c] : clients_) {
        if (c.st != client::state::active) {
            continue;
        }
        const auto sub = std::find_if(c.subscriptions.begin(), c.subscriptions.end(),
                                      [&](const auto& s) { return s.topic == topic; });
        if (sub == c.subscriptions.end()) {
            continue;
        }
        publish p;
        p.data = std::string(payload);
        p.f.qos = sub->qos;
        bool found = false;
        for (const auto& [id, name] : config_.predefined) {
            if (name == topic) {
                p.f.id_type = topic_id_type::predefined;
                p.topic_id = id;
                found = true;
            }
        }
        if (!found && topic.size() == 2) {
            p.f.id_type = topic_id_type::short_name;
            p.topic_id = short_topic_id(topic);
            found = true;
        }
        for (const auto& [id, name] : c.topics) {
            if (!found && name == topic) {
                p.topic_id = id;
                found = true;
            }
        }
        if (!found) {
            continue; // subscribed by name: registered at SUBACK
        }
        if (p.f.qos == 1) {
            if (c.inflight.size() >= config_.max_inflight) {
                reject(peer, fmt::format("publish to '{}' for client '{}' dropped: {} "
                                         "unacknowledged (limit)",
                                         excerpt(topic), excerpt(c.client_id), c.inflight.size()));
                continue;
            }
            p.msg_id = c.next_msg_id++;
            if (c.next_msg_id == 0) {
                c.next_msg_id = 1;
            }
            auto bytes = encode(p);
            if (bytes.empty()) {
                continue;
            }
            p.f.dup = true;
            c.inflight.push_back({p.msg_id, encode(p), now + config_.retry_interval, 0});
            out_.push_back({peer, std::move(bytes)});
        } else {
            send(peer, p);
        }
    }
}

void mqttsn_logic::drop(const std::string& peer, bool lost, const std::string& why)
{
    const auto it = clients_.find(peer);
    if (it == clients_.end()) {
        return;
    }
    auto& c = it->second;
    log_->info("{}: client '{}' {} ({} clients left)", peer, excerpt(c.client_id), why,
               clients_.size() - 1);
    if (lost && c.will) {
        publishes_.push_back({c.client_id, c.will_topic, c.will_message});
    }
    clients_.erase(it);
}

void mqttsn_logic::tick(time_point now)
{
    if (unlogged_ > 0) {
        log_->warn("{} more bad MQTT-SN datagrams dropped (not logged one by one)", unlogged_);
        unlogged_ = 0;
    }
    warning_budget_ = config_.warnings_per_tick;
    std::vector<std::string> lost;
    for (auto& [peer, c] : clients_) {
        // the spec suggests 1.5 times the keep-alive period
        if (c.keep_alive.count() > 0 && now - c.last_heard > c.keep_alive * 3 / 2) {
            lost.push_back(peer);
            continue;
        }
        for (auto it = c.inflight.begin(); it != c.inflight.end();) {
            if (now < it->next_retry) {
                ++it;
                continue;
            }
            if (it->retries >= config_.max_retries) {
                log_->warn("{}: publish {} to client '{}' dropped: no PUBACK after {} tries",
                           peer, it->msg_id, excerpt(c.client_id), it->retries + 1);
                it = c.inflight.erase(it);
                continue;
            }
            ++it->retries;
            it->next_retry = now + config_.retry_interval;
            out_.push_back({peer, it->bytes});
            ++it;
        }
    }
    for (const auto& peer : lost) {
        drop(peer, true, "lost: keep-alive timeout");
    }
}

std::vector<outgoing> mqttsn_logic::take_datagrams()
{
    return std::exchange(out_, {});
}

std::vector<client_publish> mqttsn_logic::take_publishes()
{
    return std::exchange(publishes_, {});
}

const mqttsn_logic::client* mqttsn_logic::find(std::string_view peer) const
{
    const auto it = clients_.find(peer);
    return it == clients_.end() ? nullptr : &it->second;
}

} // namespace aiot::gw::mqttsn
