#pragma once
// Small text helpers for bytes that come off the network: UTF-8 checks and
// repair, blank trimming, and the one sanitiser for untrusted text in log
// lines (so a peer cannot forge a log line or send terminal escapes).
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aiot::common {

// U+FFFD in UTF-8.
inline constexpr std::string_view replacement_character = "\xEF\xBF\xBD";

// The length of the valid UTF-8 sequence at the start of text (1 for
// ASCII), or 0 if it does not start with one (overlong forms, surrogates
// and code points past U+10FFFF are invalid).
std::size_t utf8_sequence_length(std::string_view text);

// Whether all of text is valid UTF-8.
bool valid_utf8(std::string_view text);

// For text that arrives in pieces: the length of its longest prefix made of
// whole valid sequences, provided the bytes after it (at most 3) can still
// begin a valid sequence; std::nullopt if text can no longer be the start
// of valid UTF-8.
std::optional<std::size_t> utf8_valid_prefix(std::string_view text);

// text with every invalid UTF-8 sequence replaced by U+FFFD.
std::string to_valid_utf8(std::string_view text);

// Blanks (space, tab, CR, LF) removed at both ends.
std::string_view trim(std::string_view text);

// text with its ASCII letters in lower case (for case-insensitive names).
std::string ascii_lower(std::string_view text);

// Whether text holds a C0 control character or DEL.
bool has_control(std::string_view text);

// Untrusted text made safe for one log line: invalid UTF-8 replaced,
// control characters (newlines, ESC...) and backslashes written as \xNN,
// cut after max_bytes of input (marked with "..."). Use it for every
// argument of a log call that a peer chose.
std::string printable(std::string_view text, std::size_t max_bytes = 80);

// "host:port", or "[v6]:port" for an IPv6 address (one already in brackets
// is left as it is): the authority of a URL, and how logs show an endpoint.
std::string host_port(std::string_view host, std::uint16_t port);

// The name=value items of a request target's query (after '?', up to
// '#'), in order, as they are written (not percent-decoded); empty items
// are skipped, an item without '=' has an empty value.
std::vector<std::pair<std::string_view, std::string_view>> query_items(std::string_view target);

} // namespace aiot::common
