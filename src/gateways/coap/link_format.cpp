#include "link_format.hpp"

#include "common/text.hpp"

#include <algorithm>

namespace aiot::gw::coap {

namespace {

bool is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// Reads the text of one link-value list; each parse_* step advances pos_.
class link_parser {
public:
    link_parser(std::string_view text, std::size_t max_links) : text_(text), max_links_(max_links)
    {
    }

    link_list run()
    {
        while (true) {
            skip_separators();
            if (at_end()) {
                break;
            }
            if (peek() != '<') {
                ++result_.errors; // not a link: skip the item
                skip_item();
                continue;
            }
            auto l = parse_link();
            if (!l) {
                ++result_.errors;
                continue;
            }
            if (result_.links.size() < max_links_) {
                result_.links.push_back(std::move(*l));
            } else {
                ++result_.errors;
            }
        }
        return std::move(result_);
    }

private:
    bool at_end() const { return pos_ >= text_.size(); }
    char peek() const { return text_[pos_]; }

    void skip_blanks()
    {
        while (!at_end() && is_blank(peek())) {
            ++pos_;
        }
    }

    void skip_separators()
    {
        while (!at_end() && (is_blank(peek()) || peek() == ',')) {
            ++pos_;
        }
    }

    // Skips to the ',' that ends the current item (quotes respected).
    void skip_item()
    {
        bool quoted = false;
        while (!at_end()) {
            const char c = peek();
            if (quoted && c == '\\') {
                pos_ += 2;
                continue;
            }
            if (c == '"') {
                quoted = !quoted;
            } else if (c == ',' && !quoted) {
                return;
            }
            ++pos_;
        }
    }

    std::optional<link> parse_link()
    {
        ++pos_; // '<'
        const auto close = text_.find('>', pos_);
        if (close == std::string_view::npos) {
            pos_ = text_.size();
            return std::nullopt;
        }
        link l;
        l.target = std::string(common::trim(text_.substr(pos_, close - pos_)));
        pos_ = close + 1;
        while (true) {
            skip_blanks();
            if (at_end() || peek() == ',') {
                return l;
            }
            if (peek() != ';') {
                skip_item(); // garbage after the link: drop the item
                return std::nullopt;
            }
            ++pos_;
            if (auto p = parse_param()) {
                l.params.push_back(std::move(*p));
            }
        }
    }

    // After ';': name [ "=" ( token / quoted-string ) ]. nullopt for ";;".
    std::optional<link_param> parse_param()
    {
        skip_blanks();
        const auto start = pos_;
        while (!at_end() && !is_blank(peek()) && peek() != '=' && peek() != ';' &&
               peek() != ',') {
            ++pos_;
        }
        link_param p{std::string(text_.substr(start, pos_ - start)), std::nullopt};
        skip_blanks();
        if (!at_end() && peek() == '=') {
            ++pos_;
            skip_blanks();
            p.value = (!at_end() && peek() == '"') ? parse_quoted() : parse_token();
        }
        if (p.name.empty()) {
            if (p.value) {
                ++result_.errors; // "=value" without a name
            }
            return std::nullopt;
        }
        return p;
    }

    std::string parse_quoted()
    {
        ++pos_; // opening quote
        std::string value;
        while (!at_end()) {
            const char c = peek();
            ++pos_;
            if (c == '"') {
                return value;
            }
            if (c == '\\' && !at_end()) {
                value.push_back(peek());
                ++pos_;
                continue;
            }
            value.push_back(c);
        }
        ++result_.errors; // unterminated: keep what there is
        return value;
    }

    std::string parse_token()
    {
        const auto start = pos_;
        while (!at_end() && peek() != ';' && peek() != ',' && !is_blank(peek())) {
            ++pos_;
        }
        return std::string(text_.substr(start, pos_ - start));
    }

    std::string_view text_;
    std::size_t max_links_;
    std::size_t pos_ = 0;
    link_list result_;
};

} // namespace

const std::string* link::param(std::string_view name) const
{
    for (const auto& p : params) {
        if (p.name == name) {
            return p.value ? &*p.value : nullptr;
        }
    }
    return nullptr;
}

link_list parse_link_format(std::string_view text, std::size_t max_links)
{
    return link_parser(text, max_links).run();
}

std::vector<std::string> local_paths(const std::vector<link>& links, std::size_t max_paths)
{
    std::vector<std::string> paths;
    for (const auto& l : links) {
        std::string_view t = l.target;
        // Only "/path": a scheme ("coap://"), "//host" or a relative
        // reference points elsewhere.
        if (!t.starts_with('/') || t.starts_with("//") ||
            t.find_first_of("?#") != std::string_view::npos) {
            continue;
        }
        while (t.starts_with('/')) {
            t.remove_prefix(1);
        }
        while (t.ends_with('/')) {
            t.remove_suffix(1);
        }
        if (t.empty() || t == ".well-known/core") {
            continue;
        }
        // A resource name goes to web clients and into logs: no control
        // characters (an ANSI escape, a forged log line), valid UTF-8 only.
        if (common::has_control(t) || !common::valid_utf8(t)) {
            continue;
        }
        if (std::find(paths.begin(), paths.end(), t) != paths.end()) {
            continue;
        }
        if (paths.size() == max_paths) {
            break;
        }
        paths.emplace_back(t);
    }
    return paths;
}

} // namespace aiot::gw::coap
