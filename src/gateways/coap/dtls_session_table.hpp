#pragma once
// Which DTLS session reaches a node, sans-I/O. A node that posts over DTLS
// is asked (discovery, writes) over the session it opened, not at
// --node-port; the table keeps one owning handle per node address ("address%
// scope"), its latest session. When that session ends (the node closed it,
// or libcoap gave up on it) the handle is handed back to be released and
// the address is remembered as ended: requests to it are refused until the
// node posts again, instead of going in clear to --node-port or into a dead
// session. A plain post from the address forgets both. Bounded: at most
// max_entries live sessions and as many ended addresses (when full, the
// first key in order goes; that node is reached again when it posts).
//
// Session is an owning handle with get() (the endpoint's session_ptr over
// libcoap's reference count; a unique_ptr in the tests).
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

namespace aiot::gw::coap {

template <class Session>
class dtls_session_table {
public:
    using raw = decltype(std::declval<const Session&>().get());

    explicit dtls_session_table(std::size_t max_entries) : max_(max_entries) {}

    // The session `s` is raw; make() turns it into a new owning handle,
    // called only when the table does not hold `s` for `key` already.
    template <class Make>
    void posted_dtls(const std::string& key, raw s, Make&& make)
    {
        ended_.erase(key);
        const auto it = live_.find(key);
        if (it != live_.end()) {
            if (it->second.get() != s) {
                it->second = make(s);
            }
            return;
        }
        if (max_ == 0) {
            return;
        }
        if (live_.size() >= max_) {
            live_.erase(live_.begin());
        }
        live_.emplace(key, make(s));
    }

    // The node at `key` posted in clear: it is reached at --node-port again.
    void posted_plain(const std::string& key)
    {
        live_.erase(key);
        ended_.erase(key);
    }

    struct ended_session {
        std::string key;
        Session handle; // to release outside libcoap's callbacks
    };
    // Session `s` ended. nullopt when no node was reached over it (e.g. a
    // one-shot client): nothing to forget.
    std::optional<ended_session> ended(raw s)
    {
        for (auto it = live_.begin(); it != live_.end(); ++it) {
            if (it->second.get() != s) {
                continue;
            }
            ended_session out{it->first, std::move(it->second)};
            live_.erase(it);
            if (ended_.size() >= max_ && !ended_.empty()) {
                ended_.erase(ended_.begin());
            }
            if (max_ > 0) {
                ended_.insert(out.key);
            }
            return out;
        }
        return std::nullopt;
    }

    enum class route {
        clear,   // not a DTLS node (or not known): --node-port
        session, // over the session found
        ended,   // its session ended: refuse until it posts again
    };
    struct lookup {
        route how = route::clear;
        raw session{}; // with route::session
    };
    lookup find(const std::string& key) const
    {
        if (const auto it = live_.find(key); it != live_.end()) {
            return {route::session, it->second.get()};
        }
        return {ended_.count(key) > 0 ? route::ended : route::clear, raw{}};
    }

    std::size_t live() const { return live_.size(); }
    std::size_t ended_count() const { return ended_.size(); }

private:
    std::size_t max_;
    std::map<std::string, Session> live_;
    std::set<std::string> ended_;
};

} // namespace aiot::gw::coap
