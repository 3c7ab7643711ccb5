#include "broker/cluster.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

namespace aiot::broker {

namespace {

constexpr std::string_view replay_dst_prefix = "broker:";
// Brokers given up for gone are remembered this long (and at most this
// many), to ask one that comes back for its nodes.
constexpr auto gone_memory = std::chrono::hours(1);
constexpr std::size_t gone_max = 4096;

bool token_char(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '-';
}

// Splits "a.b.c" into its tokens.
std::vector<std::string_view> tokens(std::string_view s)
{
    std::vector<std::string_view> out;
    while (true) {
        const auto dot = s.find('.');
        out.push_back(s.substr(0, dot));
        if (dot == std::string_view::npos) {
            return out;
        }
        s.remove_prefix(dot + 1);
    }
}

} // namespace

std::string make_broker_id()
{
    unsigned char bytes[8];
    if (RAND_bytes(bytes, sizeof bytes) != 1) {
        throw std::runtime_error("no random bytes for the broker id");
    }
    static constexpr char hex[] = "0123456789abcdef";
    std::string id;
    for (const auto b : bytes) {
        id += hex[b >> 4];
        id += hex[b & 15];
    }
    return id;
}

bool cluster::valid_id(std::string_view id)
{
    return !id.empty() && id.size() <= 64 && std::all_of(id.begin(), id.end(), token_char);
}

bool cluster::valid_prefix(std::string_view prefix)
{
    const auto t = tokens(prefix);
    return prefix.size() <= 128 && std::all_of(t.begin(), t.end(), valid_id);
}

cluster::cluster(cluster_config cfg, std::string self_id, router& r,
                 std::shared_ptr<spdlog::logger> log)
    : cfg_(std::move(cfg)),
      self_(std::move(self_id)),
      instance_(make_broker_id()),
      router_(r),
      log_(std::move(log))
{
    if (!valid_prefix(cfg_.prefix)) {
        throw std::invalid_argument("NATS subject prefix '" + cfg_.prefix +
                                    "' must be dot-separated tokens of letters, digits, _ and -");
    }
    if (!valid_id(self_)) {
        throw std::invalid_argument("broker id '" + self_ +
                                    "' must be letters, digits, _ and - (at most 64)");
    }
}

std::string cluster::subject(std::string_view kind, std::string_view rest) const
{
    std::string s;
    s.reserve(cfg_.prefix.size() + kind.size() + rest.size() + 2);
    s.append(cfg_.prefix).append(".").append(kind).append(".").append(rest);
    return s;
}

std::vector<std::string> cluster::subscriptions() const
{
    return {subject("gw", "*.*"),          subject("to", self_ + ".*.*"), subject("cl", "*.*"),
            subject("left", "*"),          subject("hb", "*"),            subject("bye", "*"),
            subject("sync", self_ + ".*")};
}

publication cluster::gateway_broadcast(std::string_view type, std::string text) const
{
    return {subject("gw", self_ + "." + std::string(type)), std::move(text)};
}

std::optional<publication> cluster::gateway_to(std::string_view dst, std::string_view type,
                                               std::string text) const
{
    std::string target;
    if (dst.starts_with(replay_dst_prefix)) {
        target = dst.substr(replay_dst_prefix.size());
    } else if (const auto it = client_home_.find(std::string(dst)); it != client_home_.end()) {
        target = it->second;
    }
    if (target.empty() || target == self_ || !valid_id(target)) {
        return std::nullopt;
    }
    return publication{subject("to", target + "." + self_ + "." + std::string(type)),
                       std::move(text)};
}

publication cluster::client_message(std::string_view type, std::string text) const
{
    return {subject("cl", self_ + "." + std::string(type)), std::move(text)};
}

publication cluster::client_left(std::string_view uuid) const
{
    return {subject("left", self_), std::string(uuid)};
}

publication cluster::goodbye() const
{
    return {subject("bye", self_), {}};
}

std::vector<std::string> cluster::peer_ids() const
{
    std::vector<std::string> ids;
    for (const auto& [id, p] : peers_) {
        ids.push_back(id);
    }
    return ids;
}

cluster::peer& cluster::heard_from(std::string_view origin, clock::time_point now,
                                   cluster_output& out)
{
    auto it = peers_.find(origin);
    if (it == peers_.end()) {
        const auto gw = next_gateway_++;
        router_.gateway_opened(gw);
        it = peers_.emplace(std::string(origin), peer{gw, now, {}}).first;
        if (const auto gone = gone_.find(origin); gone != gone_.end()) {
            gone_.erase(gone);
            log_->info("broker {} is back: asking it for its nodes", origin);
            out.publish.push_back({subject("sync", std::string(origin) + "." + self_), {}});
        } else {
            log_->info("broker {} joined ({} other broker(s))", origin, peers_.size());
        }
    }
    it->second.last_seen = now;
    return it->second;
}

void cluster::peer_gone(const std::string& origin, std::string_view why, cluster_output& out)
{
    const auto it = peers_.find(origin);
    if (it == peers_.end()) {
        return;
    }
    log_->warn("broker {} {}: its {} node(s) are out unless another gateway holds them", origin,
               why, router_.node_count(it->second.gateway));
    auto ds = router_.gateway_closed(it->second.gateway);
    std::move(ds.begin(), ds.end(), std::back_inserter(out.deliveries));
    std::erase_if(client_home_, [&](const auto& entry) { return entry.second == origin; });
    std::erase(replay_for_, origin);
    peers_.erase(it);
}

void cluster::gateway_text(peer& p, std::string_view origin, std::string_view data, bool to_us,
                           cluster_output& out)
{
    auto parsed = common::parse_message(data);
    if (!parsed) {
        log_->warn("broker {}: invalid gateway message ({}) dropped", origin, parsed.problem);
        return;
    }
    auto& msg = *parsed.msg;
    if (to_us) {
        // A replay this broker asked for goes to all its clients.
        const auto dst = msg.body.find("dst");
        if (dst != msg.body.end() && dst->is_string() &&
            dst->get_ref<const std::string&>() == std::string(replay_dst_prefix) + self_) {
            *dst = "all";
        }
    }
    auto ds = router_.gateway_message(p.gateway, std::move(msg));
    std::move(ds.begin(), ds.end(), std::back_inserter(out.deliveries));
}

cluster_output cluster::received(std::string_view subj, std::string_view data,
                                 clock::time_point now)
{
    cluster_output out;
    if (!subj.starts_with(cfg_.prefix) || subj.size() <= cfg_.prefix.size() + 1 ||
        subj[cfg_.prefix.size()] != '.') {
        log_->debug("NATS message on {} is not ours, dropped", subj);
        return out;
    }
    const auto t = tokens(subj.substr(cfg_.prefix.size() + 1));
    const auto kind = t[0];
    const auto bad = [&] {
        log_->warn("NATS message on unknown subject {} dropped", subj);
        return out;
    };
    if (t.size() < 2 || !valid_id(t[1])) {
        return bad();
    }
    if (kind == "gw" && t.size() == 3) {
        if (t[1] != self_) {
            gateway_text(heard_from(t[1], now, out), t[1], data, false, out);
        }
    } else if (kind == "to" && t.size() == 4 && valid_id(t[2])) {
        if (t[1] == self_ && t[2] != self_) {
            gateway_text(heard_from(t[2], now, out), t[2], data, true, out);
        }
    } else if (kind == "cl" && t.size() == 3) {
        if (t[1] == self_) {
            return out;
        }
        heard_from(t[1], now, out);
        auto parsed = common::parse_message(data);
        const auto src = parsed ? parsed.msg->body.find("src") : common::json::iterator{};
        if (!parsed || src == parsed.msg->body.end() || !src->is_string()) {
            log_->warn("broker {}: client message without a string src dropped", t[1]);
            return out;
        }
        client_home_[src->get<std::string>()] = std::string(t[1]);
        out.deliveries.push_back(
            delivery{delivery::target_kind::all_gateways, 0, std::move(parsed.msg->body), {}});
    } else if (kind == "left" && t.size() == 2) {
        if (t[1] != self_) {
            heard_from(t[1], now, out);
            const auto it = client_home_.find(std::string(data));
            if (it != client_home_.end() && it->second == t[1]) {
                client_home_.erase(it);
            }
        }
    } else if (kind == "hb" && t.size() == 2) {
        if (t[1] != self_) {
            const auto known = peers_.find(t[1]);
            if (known != peers_.end() && !known->second.instance.empty() && !data.empty() &&
                known->second.instance != data) {
                peer_gone(std::string(t[1]), "restarted (same id, new instance)", out);
            }
            heard_from(t[1], now, out).instance = std::string(data);
        }
    } else if (kind == "bye" && t.size() == 2) {
        if (t[1] != self_) {
            peer_gone(std::string(t[1]), "said goodbye", out);
        }
    } else if (kind == "sync" && t.size() == 3 && valid_id(t[2])) {
        if (t[1] == self_ && t[2] != self_) {
            heard_from(t[2], now, out);
            if (std::find(replay_for_.begin(), replay_for_.end(), t[2]) == replay_for_.end()) {
                replay_for_.emplace_back(t[2]);
            }
            if (!replay_at_) {
                replay_at_ = now + cfg_.replay_delay;
            }
        }
    } else {
        return bad();
    }
    return out;
}

cluster_output cluster::tick(clock::time_point now)
{
    cluster_output out;
    if (!next_heartbeat_ || now >= *next_heartbeat_) {
        out.publish.push_back({subject("hb", self_), instance_});
        next_heartbeat_ = now + cfg_.heartbeat;
    }
    std::vector<std::string> silent;
    for (const auto& [id, p] : peers_) {
        if (now - p.last_seen > cfg_.peer_timeout) {
            silent.push_back(id);
        }
    }
    for (const auto& id : silent) {
        peer_gone(id,
                  fmt::format("silent for more than {} ms", cfg_.peer_timeout.count()), out);
        gone_[id] = now;
    }
    std::erase_if(gone_, [&](const auto& g) { return now - g.second > gone_memory; });
    while (gone_.size() > gone_max) {
        gone_.erase(std::min_element(gone_.begin(), gone_.end(), [](const auto& a, const auto& b) {
            return a.second < b.second;
        }));
    }
    if (replay_at_ && now >= *replay_at_) {
        for (const auto& id : replay_for_) {
            // Every local gateway sends its nodes to "broker:<id>", which
            // gateway_to() publishes for that broker alone.
            log_->info("replaying this broker's nodes for broker {}", id);
            out.deliveries.push_back(delivery{
                delivery::target_kind::all_gateways, 0,
                common::json{{"type", "new"}, {"src", std::string(replay_dst_prefix) + id}}, {}});
        }
        replay_for_.clear();
        replay_at_.reset();
    }
    return out;
}

} // namespace aiot::broker
