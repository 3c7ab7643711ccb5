#pragma once
// Plausible readings for the simulated CoAP nodes (no I/O): a temperature
// and a pressure that drift a little between readings, and an IMU reading
// in RIOT's format ([{"type":"acc","values":[x,y,z]}, ...]).
#include <cstdint>
#include <random>
#include <string>

namespace aiot::utils {

class sensor_values {
public:
    explicit sensor_values(std::uint32_t seed);

    std::string temperature(); // "23°C"
    std::string pressure();    // "1013hPa"
    std::string imu();         // JSON text

private:
    int drift(int value, int low, int high);

    std::mt19937 random_;
    int temperature_;
    int pressure_;
};

} // namespace aiot::utils
