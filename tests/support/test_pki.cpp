#include "support/test_pki.hpp"

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <string>

namespace aiot::test {

namespace {

std::string quoted(const std::filesystem::path& p)
{
    // Appended piece by piece: "'" + s + "'" makes g++ 12 -O2 warn (a false
    // -Wrestrict).
    std::string out(1, '\'');
    out += p.string();
    out += '\'';
    return out;
}

void run(const std::string& command, const std::filesystem::path& log)
{
    const std::string full = command + " >>" + quoted(log) + " 2>&1 </dev/null";
    if (std::system(full.c_str()) != 0) {
        throw std::runtime_error("test certificates: '" + command + "' failed (see " +
                                 log.string() + ")");
    }
}

} // namespace

test_pki make_test_pki(const std::filesystem::path& dir)
{
    const test_pki pki{dir / "ca.pem", dir / "server.pem", dir / "server.key"};
    const auto ca_key = dir / "ca.key";
    const auto csr = dir / "server.csr";
    const auto ext = dir / "server.ext";
    const auto log = dir / "openssl.log";
    {
        std::ofstream out(ext);
        out << "subjectAltName = DNS:localhost, IP:127.0.0.1\n"
               "basicConstraints = CA:FALSE\n"
               "keyUsage = digitalSignature\n"
               "extendedKeyUsage = serverAuth\n";
    }
    const std::string ec = " -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";
    run("openssl req -x509" + ec + " -keyout " + quoted(ca_key) + " -out " + quoted(pki.ca) +
            " -days 2 -subj '/CN=aiot test CA'",
        log);
    run("openssl req" + ec + " -keyout " + quoted(pki.key) + " -out " + quoted(csr) +
            " -subj /CN=localhost",
        log);
    run("openssl x509 -req -in " + quoted(csr) + " -CA " + quoted(pki.ca) + " -CAkey " +
            quoted(ca_key) + " -CAcreateserial -CAserial " + quoted(dir / "ca.srl") + " -out " +
            quoted(pki.cert) + " -days 2 -extfile " + quoted(ext),
        log);
    return pki;
}

} // namespace aiot::test
