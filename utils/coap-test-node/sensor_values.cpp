#include "sensor_values.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace aiot::utils {

sensor_values::sensor_values(std::uint32_t seed)
    : random_(seed),
      temperature_(std::uniform_int_distribution<int>(18, 26)(random_)),
      pressure_(std::uniform_int_distribution<int>(995, 1030)(random_))
{
}

int sensor_values::drift(int value, int low, int high)
{
    return std::clamp(value + std::uniform_int_distribution<int>(-1, 1)(random_), low, high);
}

std::string sensor_values::temperature()
{
    temperature_ = drift(temperature_, 10, 35);
    return fmt::format("{}°C", temperature_);
}

std::string sensor_values::pressure()
{
    pressure_ = drift(pressure_, 960, 1060);
    return fmt::format("{}hPa", pressure_);
}

std::string sensor_values::imu()
{
    std::normal_distribution<double> noise(0.0, 0.05);
    const auto axes = [&](double x, double y, double z) {
        return fmt::format("[{:.2f},{:.2f},{:.2f}]", x + noise(random_), y + noise(random_),
                           z + noise(random_));
    };
    return fmt::format(R"([{{"type":"acc","values":{}}},{{"type":"mag","values":{}}},)"
                       R"({{"type":"gyro","values":{}}}])",
                       axes(0, 0, 9.81), axes(0.2, 0.1, -0.4), axes(0, 0, 0));
}

} // namespace aiot::utils
