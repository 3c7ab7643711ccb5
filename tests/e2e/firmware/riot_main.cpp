// main() of the RIOT end-to-end tests: when the RIOT applications are built
// and we are root, re-executes this program in a private network and PID
// namespace (unshare --net --pid --fork --kill-child --mount-proc), where
// the tests make their bridge and TAPs. Otherwise the tests skip and say why.
#include "riot_netns.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <unistd.h>

int main(int argc, char** argv)
{
    using namespace aiot::test::riot;
    bool listing = false;
    for (int i = 1; i < argc; ++i) {
        listing = listing || std::strncmp(argv[i], "--gtest_list_tests", 18) == 0;
    }
    if (!listing && std::getenv(netns_env) == nullptr && ::geteuid() == 0 &&
        std::filesystem::exists(apps_dir())) {
        ::setenv(netns_env, "1", 1);
        std::vector<char*> args;
        for (const char* a : {"unshare", "--net", "--pid", "--fork", "--kill-child",
                              "--mount-proc", "--"}) {
            args.push_back(const_cast<char*>(a));
        }
        for (int i = 0; i < argc; ++i) {
            args.push_back(argv[i]);
        }
        args.push_back(nullptr);
        ::execvp("unshare", args.data());
        ::unsetenv(netns_env); // could not: the tests skip and say why
    }
    if (std::getenv(netns_env) != nullptr) {
        // the namespace's loopback starts down; the fixtures' free-port
        // probes need it before any test sets up its bridge
        std::string log;
        if (!run("ip link set lo up", log)) {
            ::unsetenv(netns_env);
        }
    }
    testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}
