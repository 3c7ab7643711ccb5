#pragma once
// std::visit with one lambda per alternative: overloaded{[](a&) {...}, ...}.

namespace aiot::common {

template <class... Ts>
struct overloaded : Ts... {
    using Ts::operator()...;
};
template <class... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

} // namespace aiot::common
