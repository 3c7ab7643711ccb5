#include "common/metrics.hpp"

#include <fmt/format.h>

#include <cmath>

namespace aiot::common {

namespace {

std::string number_text(double v)
{
    if (std::isnan(v)) {
        return "NaN";
    }
    if (std::isinf(v)) {
        return v > 0 ? "+Inf" : "-Inf";
    }
    if (v == std::floor(v) && std::fabs(v) < 1e15) {
        return fmt::format("{}", static_cast<long long>(v));
    }
    return fmt::format("{}", v);
}

std::string escape_help(std::string_view text)
{
    std::string out;
    for (const char c : text) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

} // namespace

std::string metrics::escape_label(std::string_view value)
{
    std::string out;
    out.reserve(value.size());
    for (const char c : value) {
        if (c == '\\') {
            out += "\\\\";
        } else if (c == '"') {
            out += "\\\"";
        } else if (c == '\n') {
            out += "\\n";
        } else {
            out += c;
        }
    }
    return out;
}

std::string metrics::label_text(const metric_labels& labels)
{
    if (labels.empty()) {
        return {};
    }
    std::string out = "{";
    for (std::size_t i = 0; i < labels.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        out += labels[i].first;
        out += "=\"";
        out += escape_label(labels[i].second);
        out += '"';
    }
    out += '}';
    return out;
}

metrics::family& metrics::family_of(std::string_view name, std::string_view help, kind k)
{
    auto it = families_.find(name);
    if (it == families_.end()) {
        it = families_.emplace(std::string(name), family{}).first;
        it->second.help = std::string(help);
        it->second.type = k;
    }
    return it->second;
}

metric_cell& metrics::cell(std::string_view name, std::string_view help, kind k,
                           const metric_labels& labels)
{
    auto& slot = family_of(name, help, k).cells[label_text(labels)];
    if (!slot) {
        slot = std::make_unique<metric_cell>();
    }
    return *slot;
}

void metrics::computed(std::string_view name, std::string_view help, kind k,
                       std::function<double()> read, const metric_labels& labels)
{
    family_of(name, help, k).computed[label_text(labels)] = std::move(read);
}

std::string metrics::render() const
{
    std::string out;
    for (const auto& [name, f] : families_) {
        out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, escape_help(f.help), name,
                           f.type == kind::counter ? "counter" : "gauge");
        for (const auto& [labels, cell] : f.cells) {
            out += fmt::format("{}{} {}\n", name, labels, number_text(cell->value()));
        }
        for (const auto& [labels, read] : f.computed) {
            out += fmt::format("{}{} {}\n", name, labels, number_text(read()));
        }
    }
    return out;
}

} // namespace aiot::common
