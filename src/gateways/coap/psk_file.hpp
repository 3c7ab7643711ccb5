#pragma once
// The pre-shared keys of CoAP nodes talking DTLS (--coap-psk-file), one
// per line:
//
//     # comment
//     node-1 = 0x00112233445566778899aabbccddeeff   (hex: "0x" and pairs of digits)
//     node-2 = a text key                           (anything else: the text itself)
//
// Blank lines and lines starting with '#' are skipped; identity and key are
// trimmed of blanks; the first '=' separates them. Sans-I/O: the caller
// reads the file.
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace aiot::gw::coap {

// libcoap's limits (COAP_DTLS_MAX_PSK_IDENTITY, COAP_DTLS_MAX_PSK).
inline constexpr std::size_t max_psk_identity = 64;
inline constexpr std::size_t max_psk_key = 64;

struct psk_file {
    std::map<std::string, std::string, std::less<>> keys; // identity -> key bytes
    std::string error; // empty: valid; else "line N: what is wrong"
};

// Parses the text of a PSK file. Any bad line makes the whole file invalid
// (error set, keys empty): a key that is silently skipped would look like a
// node with the wrong key. At most max_entries identities.
psk_file parse_psk_file(std::string_view text, std::size_t max_entries = 100000);

// A key as written in the file or on a command line: "0x" + hex digits (an
// even number of them) gives those bytes, anything else the text itself.
// nullopt (why set) when it is empty, bad hex, or longer than max_psk_key.
std::optional<std::string> decode_psk_key(std::string_view text, std::string* why = nullptr);

} // namespace aiot::gw::coap
