#include "coap_logic.hpp"

#include "common/logging.hpp"
#include "gateways/coap/link_format.hpp"
#include "gateways/coap/payload.hpp"

#include <spdlog/spdlog.h>

namespace aiot::gw::coap {

namespace {

std::string received(std::string_view payload)
{
    std::string text = "Received '";
    text.append(payload);
    text += '\'';
    return text;
}

// The value a node sent, as text the broker can carry.
std::string valid_value(std::string_view uid, std::string_view name, std::string_view value,
                        spdlog::logger& log)
{
    auto text = to_valid_utf8(value);
    if (text != value) {
        log.warn("node '{}': value of '{}' is not valid UTF-8; invalid bytes replaced by U+FFFD",
                 uid, name);
    }
    return text;
}

} // namespace

std::string code_text(std::uint8_t code)
{
    return fmt::format("{}.{:02}", code >> 5, code & 0x1f);
}

coap_logic::coap_logic(logic_config config, std::shared_ptr<spdlog::logger> log,
                       std::function<time_point()> clock)
    : config_(config),
      log_(log ? std::move(log) : common::get_logger("gw.coap")),
      table_(config.max_nodes, config.max_nodes_per_address),
      queue_(config.queue),
      retries_(config.retry),
      clock_(clock ? std::move(clock) : std::function<time_point()>(std::chrono::steady_clock::now))
{
}

void coap_logic::emit(node_event e, then_fn then)
{
    events_.push_back(std::move(e));
    then_.push_back(std::move(then));
}

std::vector<node_event> coap_logic::take_node_events()
{
    taken_ = std::exchange(then_, {});
    return std::exchange(events_, {});
}

std::optional<coap_reply> coap_logic::applied(const std::vector<registry_status>& statuses)
{
    std::optional<coap_reply> reply;
    auto taken = std::exchange(taken_, {});
    for (std::size_t i = 0; i < taken.size() && i < statuses.size(); ++i) {
        if (taken[i]) {
            if (auto r = taken[i](statuses[i])) {
                reply = std::move(r);
            }
        }
    }
    return reply;
}

coap_reply coap_logic::refuse(std::string_view what, const peer& from, std::uint8_t code,
                              std::string reason)
{
    // The reply goes out at once (libcoap answers in the handler): an
    // address that keeps failing costs log lines, not a delay.
    ++stats_.refused;
    if (refusals_.refused(from.address, clock_()).log) {
        log_->warn("{} from {} refused ({}): {}", what, from.address, code_text(code), reason);
    } else {
        log_->debug("{} from {} refused ({}): {}", what, from.address, code_text(code), reason);
    }
    flush_refusals();
    return {code, std::move(reason)};
}

void coap_logic::flush_refusals()
{
    const auto now = clock_();
    if (now < next_summary_) {
        return;
    }
    next_summary_ = now + std::chrono::seconds(1);
    for (const auto& s : refusals_.take_summaries(now)) {
        log_->warn("{}: {} more requests refused in the last interval (not logged one by one)",
                   s.address, s.count);
    }
}

bool coap_logic::repeated(std::string_view what, const coap_node* n, const peer& from)
{
    if (!from.message_id || !table_.repeated(n->uid, *from.message_id)) {
        return false;
    }
    log_->debug("{} from {} (node '{}'): message ID {} again, a retransmission: answered, not "
                "acted on twice",
                what, from.address, n->uid, *from.message_id);
    return true;
}

std::optional<coap_reply> coap_logic::check_size(std::string_view what, std::string_view payload,
                                                 const peer& from)
{
    if (payload.size() <= config_.max_payload) {
        return std::nullopt;
    }
    return refuse(what, from, code::too_large,
                  fmt::format("payload of {} bytes, at most {}", payload.size(),
                              config_.max_payload));
}

coap_reply coap_logic::on_alive(std::string_view payload, const peer& from)
{
    if (auto too_large = check_size("POST /alive", payload, from)) {
        return *too_large;
    }
    const auto parsed = parse_alive(payload);
    if (!parsed) {
        return refuse("POST /alive", from, code::bad_request,
                      fmt::format("{} in '{}'", parsed.error, printable(payload)));
    }
    const auto& uid = parsed.value->uid;
    if (const auto* known = table_.find(uid);
        known && known->address == from.address && repeated("POST /alive", known, from)) {
        return {code::changed, received(payload)};
    }
    const auto out = table_.alive(uid, parsed.value->reset, from.address, from.scope_id);
    if (out.action == alive_action::created && from.message_id) {
        table_.repeated(uid, *from.message_id);
    }
    switch (out.action) {
    case alive_action::refused:
        return refuse("POST /alive", from, code::unavailable,
                      fmt::format("too many nodes (at most {})", config_.max_nodes));
    case alive_action::address_full:
        return refuse("POST /alive", from, code::unavailable,
                      fmt::format("node '{}': this address already has {} nodes (limit per "
                                  "address)",
                                  printable(uid), config_.max_nodes_per_address));
    case alive_action::move_refused: {
        const auto* n = table_.find(uid);
        return refuse("POST /alive", from, code::forbidden,
                      fmt::format("node '{}' is live at {}: an alive from another address does "
                                  "not move it (a reset does, once the old address stops "
                                  "answering)",
                                  printable(uid), n ? n->address : "?"));
    }
    case alive_action::move_pending: {
        const auto* n = table_.find(uid);
        log_->warn("node '{}' at {}: reset from {}; checking that the old address stopped "
                   "answering before moving it",
                   uid, n->address, from.address);
        coap_request probe;
        probe.uid = n->uid;
        probe.kind = request_kind::probe;
        probe.method = coap_method::get;
        probe.address = n->address;
        probe.scope_id = n->scope_id;
        probe.path = ".well-known/core";
        if (!queue_.push(std::move(probe))) {
            table_.cancel_move(uid);
            return refuse("POST /alive", from, code::unavailable,
                          "too many requests waiting; reset from a new address not checked");
        }
        return {code::changed, received(payload)};
    }
    default: break;
    }
    apply(uid, out, from);
    return {code::changed, received(payload)};
}

void coap_logic::apply(const std::string& uid, const alive_outcome& out, const peer& from)
{
    if (!out.displaced.empty()) {
        log_->warn("address {} now belongs to node '{}' (was node '{}')", from.address, uid,
                   out.displaced);
    }
    switch (out.action) {
    case alive_action::refused:
    case alive_action::address_full:
    case alive_action::move_refused:
    case alive_action::move_pending:
        return;
    case alive_action::created:
        emit(node_event::added(uid, {{"ip", from.address}}),
             [this, uid, from](registry_status st) -> std::optional<coap_reply> {
                 if (st == registry_status::exists) {
                     emit(node_event::changed(uid, "ip", from.address));
                     return std::nullopt;
                 }
                 if (st == registry_status::ok) {
                     return std::nullopt;
                 }
                 table_.forget(uid);
                 queue_.drop_all(uid);
                 retries_.reset(uid);
                 return refuse("POST /alive", from,
                               st == registry_status::too_many_nodes ? code::unavailable
                                                                      : code::bad_request,
                               fmt::format("node '{}': {}", printable(uid), to_string(st)));
             });
        log_->debug("node '{}' at {}: new", uid, from.address);
        break;
    case alive_action::reset:
        emit(node_event::was_reset(uid, {"ip"}));
        if (out.address_changed) {
            emit(node_event::changed(uid, "ip", from.address));
        }
        log_->info("node '{}' at {}: reset, discovering it again", uid, from.address);
        break;
    case alive_action::refreshed:
        emit(node_event::seen(uid));
        if (out.discover) {
            log_->info("node '{}' at {}: alive, trying its discovery again", uid, from.address);
        } else {
            log_->debug("node '{}' at {}: alive", uid, from.address);
        }
        break;
    }
    if (out.discover) {
        retries_.reset(uid); // an alive or a reset starts afresh
        start_discovery(*table_.find(uid));
    }
}

coap_reply coap_logic::on_server(std::string_view payload, const peer& from)
{
    if (auto too_large = check_size("POST /server", payload, from)) {
        return *too_large;
    }
    const auto parsed = parse_server(payload);
    if (!parsed) {
        return refuse("POST /server", from, code::bad_request,
                      fmt::format("{} in '{}'", parsed.error, printable(payload)));
    }
    const auto* n = table_.find_by_address(from.address);
    if (!n) {
        return refuse("POST /server", from, code::not_found,
                      "unknown node address (no alive from it yet)");
    }
    if (repeated("POST /server", n, from)) {
        return {code::changed, received(payload)};
    }
    const auto& [name, raw] = *parsed.value;
    emit(node_event::changed(n->uid, std::string(name), valid_value(n->uid, name, raw, *log_)),
         [this, uid = n->uid, name = std::string(name), from](registry_status st)
             -> std::optional<coap_reply> {
             if (st == registry_status::ok) {
                 return std::nullopt;
             }
             return refuse("POST /server", from,
                           st == registry_status::value_too_large ? code::too_large
                                                                  : code::bad_request,
                           fmt::format("node '{}', resource '{}': {}", uid, printable(name),
                                       to_string(st)));
         });
    return {code::changed, received(payload)};
}

void coap_logic::start_discovery(const coap_node& n)
{
    queue_.drop_discovery(n.uid);
    coap_request r;
    r.uid = n.uid;
    r.kind = request_kind::well_known;
    r.generation = table_.start_discovery(n.uid);
    r.method = coap_method::get;
    r.address = n.address;
    r.scope_id = n.scope_id;
    r.path = ".well-known/core";
    const auto generation = r.generation;
    if (!queue_.push(std::move(r))) {
        table_.discovery_failed(n.uid, generation);
        discovery_failed(n.uid, n.address, "too many requests waiting");
    }
}

void coap_logic::discovery_failed(const std::string& uid, const std::string& address,
                                  const std::string& why)
{
    const auto next = retries_.failed(uid, clock_());
    ++stats_.discovery_failures;
    if (!next) {
        ++stats_.discoveries_abandoned;
        log_->warn("node '{}' at {}: discovery failed ({}); no retry left, tried again at its "
                   "next alive",
                   uid, address, why);
    } else if (next->retry == 1) {
        log_->warn("node '{}' at {}: discovery failed ({}); retrying in {} ms, then with "
                   "backoff (at most {} times before its next alive)",
                   uid, address, why, next->delay.count(), retries_.limits().max_retries);
    } else {
        log_->debug("node '{}' at {}: discovery failed ({}); retry {} in {} ms", uid, address,
                    why, next->retry, next->delay.count());
    }
}

void coap_logic::on_retry_timer()
{
    for (const auto& uid : retries_.take_due(clock_())) {
        const auto* n = table_.find(uid);
        if (!n || n->discovery != discovery_state::failed) {
            retries_.reset(uid); // gone, or started again meanwhile
            continue;
        }
        log_->debug("node '{}' at {}: trying its discovery again", uid, n->address);
        start_discovery(*n);
    }
}

void coap_logic::on_write(const write_command& w)
{
    const auto* n = table_.find(w.uid);
    if (!n) {
        log_->warn("write {} to node '{}' dropped: not a CoAP node here", printable(w.endpoint),
                   printable(w.uid));
        return;
    }
    if (split_path(w.endpoint).empty()) {
        log_->warn("write to node '{}' dropped: empty endpoint", printable(w.uid));
        return;
    }
    if (w.payload.size() > config_.max_payload) {
        log_->warn("write {} to node '{}' dropped: payload of {} bytes, at most {}",
                   printable(w.endpoint), w.uid, w.payload.size(), config_.max_payload);
        return;
    }
    coap_request r;
    r.uid = w.uid;
    r.kind = request_kind::write;
    r.method = coap_method::put;
    r.address = n->address;
    r.scope_id = n->scope_id;
    r.path = w.endpoint;
    r.payload = w.payload;
    if (!queue_.push(std::move(r))) {
        log_->warn("write {} to node '{}' dropped: too many requests waiting for it",
                   printable(w.endpoint), w.uid);
        return;
    }
    log_->debug("node '{}': PUT /{} '{}' (from client {})", w.uid, printable(w.endpoint),
                printable(w.payload), printable(w.src));
}

void coap_logic::on_result(std::uint64_t request_id, const coap_result& r)
{
    const auto req = queue_.complete(request_id);
    if (!req) {
        log_->debug("result for unknown request {} ignored", request_id);
        return;
    }
    switch (req->kind) {
    case request_kind::well_known: on_well_known(*req, r); break;
    case request_kind::resource: on_resource(*req, r); break;
    case request_kind::write: on_write_result(*req, r); break;
    case request_kind::probe: on_probe(*req, r); break;
    }
}

void coap_logic::on_probe(const coap_request& req, const coap_result& r)
{
    const auto* n = table_.find(req.uid);
    if (!n || n->pending_address.empty()) {
        return;
    }
    if (r.answered) {
        log_->warn("node '{}' still answers at {}: the reset from {} is ignored (a node with "
                   "the same uid elsewhere, or a hijack attempt)",
                   req.uid, req.address, n->pending_address);
        table_.cancel_move(req.uid);
        return;
    }
    peer from{n->pending_address, n->pending_scope, std::nullopt};
    log_->info("node '{}': old address {} does not answer ({}); moving it to {}", req.uid,
               req.address, r.error, from.address);
    apply(req.uid, table_.confirm_move(req.uid), from);
}

void coap_logic::on_well_known(const coap_request& req, const coap_result& r)
{
    if (!table_.running(req.uid, req.generation)) {
        log_->debug("node '{}': answer of an older discovery ignored", req.uid);
        return;
    }
    if (!r.answered || r.code != code::content) {
        table_.discovery_failed(req.uid, req.generation);
        discovery_failed(req.uid, req.address,
                         "GET /.well-known/core: " + (r.answered ? code_text(r.code) : r.error));
        return;
    }
    const auto list = parse_link_format(r.payload);
    if (list.errors > 0) {
        log_->warn("node '{}': {} damaged item(s) in /.well-known/core skipped", req.uid,
                   list.errors);
    }
    const auto paths = local_paths(list.links, config_.max_resources);
    const auto* n = table_.find(req.uid);
    std::size_t queued = 0;
    for (const auto& path : paths) {
        coap_request get;
        get.uid = req.uid;
        get.kind = request_kind::resource;
        get.generation = req.generation;
        get.method = coap_method::get;
        get.address = n->address;
        get.scope_id = n->scope_id;
        get.path = path;
        if (!queue_.push(std::move(get))) {
            log_->warn("node '{}': too many requests waiting; {} resource(s) not read", req.uid,
                       paths.size() - queued);
            break;
        }
        ++queued;
    }
    log_->debug("node '{}': {} resource(s) to read", req.uid, queued);
    if (const auto state = table_.discovery_listed(req.uid, req.generation, queued);
        state && *state != discovery_state::running) {
        discovery_ended(req.uid, *state);
    }
}

void coap_logic::on_resource(const coap_request& req, const coap_result& r)
{
    if (!table_.running(req.uid, req.generation)) {
        log_->debug("node '{}': GET /{} of an older discovery ignored", req.uid, req.path);
        return;
    }
    const auto read = [this, req, answered = r.answered](bool stored) {
        if (const auto state = table_.discovery_read(req.uid, req.generation, answered, stored);
            state && *state != discovery_state::running) {
            discovery_ended(req.uid, *state);
        }
    };
    if (r.answered && r.code == code::content) {
        emit(node_event::changed(req.uid, req.path,
                                 valid_value(req.uid, req.path, r.payload, *log_)),
             [this, req, read](registry_status st) -> std::optional<coap_reply> {
                 if (st != registry_status::ok) {
                     log_->warn("node '{}': resource '{}' not kept: {}", req.uid, req.path,
                                to_string(st));
                 }
                 read(st == registry_status::ok);
                 return std::nullopt;
             });
        return;
    }
    if (r.answered) {
        log_->debug("node '{}': GET /{} answered {}: skipped", req.uid, req.path,
                    code_text(r.code));
    } else {
        log_->debug("node '{}': GET /{}: {}", req.uid, req.path, r.error);
    }
    read(false);
}

void coap_logic::discovery_ended(const std::string& uid, discovery_state state)
{
    const auto* n = table_.find(uid);
    if (state == discovery_state::done) {
        retries_.reset(uid);
        log_->info("node '{}': discovery done, {} resource(s)", uid, n->found);
    } else {
        discovery_failed(uid, n->address,
                         fmt::format("incomplete: {} resource(s) read, some did not answer",
                                     n->found));
    }
}

void coap_logic::on_write_result(const coap_request& req, const coap_result& r)
{
    if (!r.answered || r.code != code::changed) {
        log_->warn("node '{}': PUT /{} '{}' failed: {}", req.uid, req.path, printable(req.payload),
                   r.answered ? code_text(r.code) : r.error);
        return;
    }
    if (!table_.find(req.uid)) {
        log_->debug("node '{}' is gone; PUT /{} result dropped", req.uid, req.path);
        return;
    }
    log_->debug("node '{}': PUT /{} '{}' done", req.uid, req.path, printable(req.payload));
    emit(node_event::changed(req.uid, req.path, req.payload));
}

void coap_logic::on_node_expired(const std::string& uid)
{
    retries_.reset(uid);
    if (table_.forget(uid)) {
        queue_.drop_all(uid);
        log_->info("node '{}' forgotten", uid);
    }
}

} // namespace aiot::gw::coap
