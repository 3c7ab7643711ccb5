// history_bench: what the dashboard's history store costs, without sockets.
// Fills a fresh database file as the recorder would (batches of --batch
// rows, --nodes nodes with one value a second each over --hours hours,
// oldest first), then asks --queries one-hour series of random nodes.
// Prints rows/s, bytes per row and query latency (p50/p99/max).
#include "dashboard/history/store.hpp"

#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

namespace h = aiot::dashboard::history;
using clock_type = std::chrono::steady_clock;

int main(int argc, char** argv)
{
    CLI::App app{"history_bench: throughput and query latency of the dashboard's history store"};
    int nodes = 1000;
    double hours = 1.0;
    int batch = 20000;
    int queries = 200;
    std::string file;
    app.add_option("--nodes", nodes, "Nodes, one value a second each")->check(CLI::Range(1, 100000));
    app.add_option("--hours", hours, "Hours of values")->check(CLI::Range(0.01, 24.0));
    app.add_option("--batch", batch, "Rows per transaction")->check(CLI::Range(1, 1000000));
    app.add_option("--queries", queries, "One-hour series asked")->check(CLI::Range(1, 100000));
    app.add_option("--file", file, "Database file (default: a fresh one in the temp folder)");
    CLI11_PARSE(app, argc, argv);
    const bool own_file = file.empty();
    if (own_file) {
        file = (std::filesystem::temp_directory_path() /
                fmt::format("aiot-history-bench-{}.db", std::random_device{}()))
                   .string();
    }
    const auto seconds = static_cast<long>(hours * 3600);
    const std::int64_t start_ms = 1'700'000'000'000;
    std::uint64_t rows = 0;
    double insert_s = 0;
    {
        h::store db(file);
        std::vector<std::string> keys;
        for (int n = 0; n < nodes; ++n) {
            keys.push_back(fmt::format("coap:{:016X}", 0xA000000000000000ull + n));
        }
        std::vector<h::sample> pending;
        pending.reserve(static_cast<std::size_t>(batch));
        const auto t0 = clock_type::now();
        for (long s = 0; s < seconds; ++s) {
            for (int n = 0; n < nodes; ++n) {
                h::sample v;
                v.node = keys[static_cast<std::size_t>(n)];
                v.resource = "temperature";
                v.at = start_ms + s * 1000 + n % 1000;
                v.text = fmt::format("{}.{}°C", 15 + (s + n) % 15, (s * 7 + n) % 10);
                v.number = h::leading_number(v.text);
                pending.push_back(std::move(v));
                if (pending.size() == static_cast<std::size_t>(batch)) {
                    db.append(pending, {});
                    rows += pending.size();
                    pending.clear();
                }
            }
        }
        db.append(pending, {});
        rows += pending.size();
        insert_s = std::chrono::duration<double>(clock_type::now() - t0).count();
        const auto st = db.stats();
        fmt::print("stored {} rows ({} nodes x {} s) in {:.2f} s: {:.0f} rows/s, batches of {}\n",
                   rows, nodes, seconds, insert_s, static_cast<double>(rows) / insert_s, batch);
        fmt::print("file: {:.1f} MB in use, {:.1f} MB per million rows ({:.0f} bytes a row)\n",
                   static_cast<double>(st.used_bytes) / 1e6,
                   static_cast<double>(st.used_bytes) / 1e6 / (static_cast<double>(rows) / 1e6),
                   static_cast<double>(st.used_bytes) / static_cast<double>(rows));

        std::mt19937 rng(42);
        std::vector<double> ms;
        std::size_t points = 0;
        const auto until = start_ms + seconds * 1000;
        for (int q = 0; q < queries; ++q) {
            const auto& key = keys[rng() % keys.size()];
            const auto t = clock_type::now();
            const auto got = db.query(key, "temperature", until - 3'600'000, until, 100'000);
            ms.push_back(std::chrono::duration<double, std::milli>(clock_type::now() - t).count());
            points += got.size();
        }
        std::sort(ms.begin(), ms.end());
        fmt::print("one-hour series ({} points on average): p50 {:.2f} ms, p99 {:.2f} ms, max {:.2f} "
                   "ms over {} queries\n",
                   points / static_cast<std::size_t>(queries), ms[ms.size() / 2],
                   ms[std::min(ms.size() - 1, ms.size() * 99 / 100)], ms.back(), queries);
    }
    if (own_file) {
        std::error_code ec;
        for (const char* suffix : {"", "-wal", "-shm"}) {
            std::filesystem::remove(file + suffix, ec);
        }
    }
    return 0;
}
