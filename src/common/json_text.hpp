#pragma once
// JSON text in and out, the one place where aiot parses and writes JSON.
//
// In: any valid JSON, refused when nested deeper than a small limit, before
// anything walks it (a deep value would otherwise exhaust the stack of every
// recursive walk: serialisation, comparison, copies).
//
// Out: the bytes the original Python services emit, json.dumps(value,
// ensure_ascii=False): ", " and ": " separators, object keys in insertion
// order, non-ASCII as UTF-8, control characters as lower-case \u00XX, floats
// as Python's repr. Peers of pyaiot compare messages as text, so these
// bytes are part of the protocol (docs/PROTOCOL.md, "Bytes").
#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace aiot::common {

// Objects keep their keys in the order they were inserted or parsed.
using json = nlohmann::ordered_json;

// Nesting allowed in any JSON text from outside: containers inside
// containers, the outermost counting 1. aiot's own messages need 3.
inline constexpr std::size_t max_json_depth = 64;

enum class json_error { none, syntax, too_deep };

struct json_parse_result {
    std::optional<json> value;
    json_error error = json_error::none;

    explicit operator bool() const { return value.has_value(); }
};

// The deepest nesting of `text`, counting only until `limit` is passed
// (returns limit + 1 then). Brackets inside strings do not count. For
// invalid JSON the result is meaningless but finite.
std::size_t json_depth(std::string_view text, std::size_t limit = max_json_depth);

// Parses `text`: too_deep when nested deeper than max_depth (checked before
// parsing), syntax when it is not valid JSON. Duplicate keys keep the first
// position and the last value, as Python's json.loads does.
json_parse_result parse_json(std::string_view text, std::size_t max_depth = max_json_depth);

// A short text for logs: "invalid JSON", "JSON nested too deep".
std::string_view to_string(json_error e);

// Python's json.dumps(value, ensure_ascii=False). Invalid UTF-8 in strings
// is written as U+FFFD. Values nested deeper than max_json_depth (only
// possible for values built in code) are cut: the too-deep part is written
// as null.
std::string serialize(const json& value);
void serialize_to(std::string& out, const json& value);

// Python's repr() of a float ("1.5", "1e-05", "1e+16", "-0.0", "NaN").
std::string python_float_repr(double value);

} // namespace aiot::common
