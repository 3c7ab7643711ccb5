#include "broker_rotation.hpp"

namespace aiot::common {

broker_rotation::broker_rotation(std::size_t count) : count_(count == 0 ? 1 : count) {}

void broker_rotation::connected()
{
    failed_ = 0;
}

broker_rotation::next_step broker_rotation::lost()
{
    failed_ = 0;
    advance();
    return next_step::after_backoff;
}

broker_rotation::next_step broker_rotation::attempt_failed()
{
    advance();
    if (++failed_ < count_) {
        return next_step::now;
    }
    failed_ = 0; // a new round starts after the delay
    return next_step::after_backoff;
}

void broker_rotation::advance()
{
    current_ = (current_ + 1) % count_;
}

} // namespace aiot::common
