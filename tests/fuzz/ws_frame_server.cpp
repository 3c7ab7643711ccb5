// The broker's websocket decoder (server role: masked frames from clients),
// fed in chunks of a size the input chooses. Checks what every event
// promises and that every control reply is one valid frame.
#include "broker/ws/frame.hpp"
#include "fuzz_check.hpp"
#include "ws_frame_checks.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size < 1) {
        return 0;
    }
    return aiot::fuzz::feed_decoder(aiot::broker::ws::role::server, data, size);
}
