#pragma once
// Certificates for TLS tests and benches, made at run time with the
// `openssl` command line (never committed): a test CA and a server
// certificate for localhost and 127.0.0.1 signed by it, ECDSA P-256.
#include <filesystem>

namespace aiot::test {

struct test_pki {
    std::filesystem::path ca;   // PEM: what a client trusts
    std::filesystem::path cert; // PEM: the server's certificate
    std::filesystem::path key;  // PEM: its private key, unencrypted
};

// Writes them into dir (which must exist). Throws std::runtime_error naming
// the failing command (its output is in dir/openssl.log), e.g. when the
// openssl command is missing.
test_pki make_test_pki(const std::filesystem::path& dir);

} // namespace aiot::test
