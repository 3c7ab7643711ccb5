#include "message.hpp"

namespace aiot::common {

std::string_view to_string(message_type t)
{
    switch (t) {
    case message_type::new_: return "new";
    case message_type::update: return "update";
    case message_type::out: return "out";
    case message_type::reset: return "reset";
    }
    return "?";
}

std::optional<message_type> message_type_from(std::string_view name)
{
    if (name == "new") return message_type::new_;
    if (name == "update") return message_type::update;
    if (name == "out") return message_type::out;
    if (name == "reset") return message_type::reset;
    return std::nullopt;
}

std::string truncate_close_reason(std::string_view reason, std::size_t max_bytes)
{
    if (reason.size() <= max_bytes) {
        return std::string(reason);
    }
    static constexpr std::string_view ellipsis = "...";
    std::size_t cut = max_bytes - ellipsis.size();
    // Step back over UTF-8 continuation bytes so no character is split.
    while (cut > 0 && (static_cast<unsigned char>(reason[cut]) & 0xC0) == 0x80) {
        --cut;
    }
    return std::string(reason.substr(0, cut)) + std::string(ellipsis);
}

parse_result parse_message(std::string_view text)
{
    parse_result r;
    auto parsed = parse_json(text);
    const auto invalid = [&](std::string_view problem) {
        r.problem = problem;
        r.error = truncate_close_reason("Invalid message '" + std::string(text) + "'.");
        return r;
    };
    if (!parsed) {
        return invalid(to_string(parsed.error));
    }
    auto& value = *parsed.value;
    if (!value.is_object()) {
        return invalid("not a JSON object");
    }
    const auto type = value.find("type");
    if (type == value.end()) {
        return invalid("no type");
    }
    std::optional<message_type> t;
    if (type->is_string()) {
        t = message_type_from(type->get_ref<const std::string&>());
    }
    if (!t) {
        r.problem = "unknown type";
        r.error = truncate_close_reason("Invalid message type '" +
                                        (type->is_string() ? type->get<std::string>()
                                                           : serialize(*type)) +
                                        "'.");
        return r;
    }
    r.msg = message{*t, std::move(value)};
    return r;
}

json make_new(std::string_view uid, std::string_view dst)
{
    return {{"type", "new"}, {"uid", uid}, {"dst", dst}};
}

json make_update(std::string_view uid, std::string_view endpoint, json data,
                 std::string_view dst)
{
    return {{"type", "update"}, {"uid", uid}, {"endpoint", endpoint},
            {"data", std::move(data)}, {"dst", dst}};
}

json make_out(std::string_view uid)
{
    return {{"type", "out"}, {"uid", uid}};
}

json make_reset(std::string_view uid)
{
    return {{"type", "reset"}, {"uid", uid}};
}

json make_keepalive()
{
    return {{"type", "update"}, {"uid", "alive"}};
}

std::string value_text(const json& value)
{
    return value.is_string() ? value.get<std::string>() : serialize(value);
}

std::optional<write_request> parse_write_request(const json& msg)
{
    if (!msg.is_object()) {
        return std::nullopt;
    }
    const auto data = msg.find("data");
    if (data == msg.end() || !data->is_object() || data->size() != 3) {
        return std::nullopt;
    }
    const auto uid = data->find("uid");
    const auto endpoint = data->find("endpoint");
    const auto payload = data->find("payload");
    if (uid == data->end() || endpoint == data->end() || payload == data->end() ||
        !uid->is_string() || !endpoint->is_string()) {
        return std::nullopt;
    }
    write_request w;
    w.uid = uid->get<std::string>();
    w.endpoint = endpoint->get<std::string>();
    w.payload = value_text(*payload);
    const auto src = msg.find("src");
    if (src != msg.end() && src->is_string()) {
        w.src = src->get<std::string>();
    }
    return w;
}

} // namespace aiot::common
