#pragma once

#include <array>
#include <cstddef>
#include <string>

namespace aiot::test {

// An output buffer of `size` bytes followed by guard bytes: tests check that
// a formatter wrote nothing past `size` and left a NUL-terminated string.
class guarded_buffer {
public:
    explicit guarded_buffer(std::size_t size) : size_(size) { mem_.fill(guard); }

    char* data() { return mem_.data(); }
    std::size_t size() const { return size_; }

    bool guard_intact() const
    {
        for (std::size_t i = size_; i < mem_.size(); ++i) {
            if (mem_[i] != guard) {
                return false;
            }
        }
        return true;
    }

    // The text up to the first NUL inside the buffer ("<unterminated>" if none).
    std::string text() const
    {
        for (std::size_t i = 0; i < size_; ++i) {
            if (mem_[i] == '\0') {
                return std::string(mem_.data(), i);
            }
        }
        return "<unterminated>";
    }

private:
    static constexpr char guard = '#';
    std::size_t size_;
    std::array<char, 512> mem_{};
};

}  // namespace aiot::test
