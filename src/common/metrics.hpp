#pragma once
// Prometheus metrics of a daemon (text exposition format 0.0.4): counters
// and gauges by name and labels, kept on the daemon's own thread, plus
// gauges computed when scraped (for figures other threads keep in
// atomics). No I/O: render() makes the text, the daemon's HTTP side
// serves it at GET /metrics.
//
// Names follow Prometheus conventions: aiot_<daemon>_<what>_<unit>,
// counters end in _total, sizes in _bytes, times in _seconds.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace aiot::common {

using metric_labels = std::vector<std::pair<std::string, std::string>>;

// One value of a family (one set of labels).
class metric_cell {
public:
    void inc(double by = 1) { value_ += by; }
    void set(double v) { value_ = v; }
    double value() const { return value_; }

private:
    double value_ = 0;
};

class metrics {
public:
    enum class kind { counter, gauge };

    // The cell of name{labels}, made on first use; the reference stays
    // valid as long as the registry. The first call for a name fixes its
    // help text and kind.
    metric_cell& counter(std::string_view name, std::string_view help,
                         const metric_labels& labels = {})
    {
        return cell(name, help, kind::counter, labels);
    }
    metric_cell& gauge(std::string_view name, std::string_view help,
                       const metric_labels& labels = {})
    {
        return cell(name, help, kind::gauge, labels);
    }
    metric_cell& cell(std::string_view name, std::string_view help, kind k,
                      const metric_labels& labels);
    // A gauge (or counter) read at each render().
    void computed(std::string_view name, std::string_view help, kind k,
                  std::function<double()> read, const metric_labels& labels = {});

    // The whole registry in the text format, families sorted by name.
    std::string render() const;

    // Label value escaping of the format: backslash, double quote, newline.
    static std::string escape_label(std::string_view value);

private:
    struct family {
        std::string help;
        kind type = kind::counter;
        std::map<std::string, std::unique_ptr<metric_cell>> cells; // by rendered labels
        std::map<std::string, std::function<double()>> computed;
    };
    family& family_of(std::string_view name, std::string_view help, kind k);
    static std::string label_text(const metric_labels& labels);

    std::map<std::string, family, std::less<>> families_;
};

// The content type a scrape expects.
constexpr std::string_view metrics_content_type = "text/plain; version=0.0.4; charset=utf-8";

} // namespace aiot::common
