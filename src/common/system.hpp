#pragma once
#include <string>

namespace aiot::common {

// A random (version 4) UUID in its 36-character text form.
std::string make_uuid();

// Raises the soft open-file limit as far as the hard limit allows.
// Returns {before, after}.
struct fd_limit {
    unsigned long before = 0;
    unsigned long after = 0;
};
fd_limit raise_fd_limit();

} // namespace aiot::common
