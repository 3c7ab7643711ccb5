#include "system.hpp"

#include <openssl/rand.h>
#include <sys/resource.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <stdexcept>

namespace aiot::common {

std::string make_uuid()
{
    std::array<std::uint8_t, 16> b{};
    if (RAND_bytes(b.data(), static_cast<int>(b.size())) != 1) {
        throw std::runtime_error("RAND_bytes failed");
    }
    b[6] = static_cast<std::uint8_t>((b[6] & 0x0F) | 0x40);
    b[8] = static_cast<std::uint8_t>((b[8] & 0x3F) | 0x80);
    char out[37];
    std::snprintf(out, sizeof out,
                  "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
                  b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
                  b[13], b[14], b[15]);
    return out;
}

fd_limit raise_fd_limit()
{
    rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0) {
        return {};
    }
    fd_limit r{rl.rlim_cur, rl.rlim_cur};
    if (rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &rl) == 0) {
            r.after = rl.rlim_cur;
        }
    }
    return r;
}

} // namespace aiot::common
