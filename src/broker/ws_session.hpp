#pragma once
// One accepted websocket connection: our own framing (broker/ws/frame) on a
// plain TCP socket or on TLS (transport.hpp). Plain reads wait for
// readability and then read into the server's shared buffer, so an idle
// plain connection holds no buffer. TLS reads are async_read_some into the
// session's own buffer (tls_read_size bytes, made on the first read):
// bytes waiting inside OpenSSL do not make the socket readable, so waiting
// for readability could sleep on a message already received. Sends are
// shared, already framed messages; everything queued is written with one
// gathered write (small frames copied into one block, large ones by
// reference). The queue is bounded by count and bytes: a peer that
// falls behind is closed (1013) instead of slowing anyone else.
//
// One class for both kinds of peer: its role (a web client on /ws, a
// gateway on /gw) says which of the server's tables it joins and whether
// its queue counts in the backpressure (clients) or its reads may be
// paused (gateways).
#include "broker/router.hpp"
#include "broker/transport.hpp"
#include "broker/ws/frame.hpp"
#include "common/net.hpp"

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace aiot::broker {

class server;

enum class peer_role : std::uint8_t { client, gateway };

class ws_session : public std::enable_shared_from_this<ws_session> {
public:
    using frame_ptr = std::shared_ptr<const std::string>;

    // peer_name: "address:port"; peer_address: the address alone (for
    // per-address limits). uuid: the id the protocol knows a web client by
    // ("src", "dst"); empty for a gateway.
    ws_session(server& srv, peer_id id, peer_role role, transport stream,
               std::string peer_name, std::string peer_address, std::string uuid = {});
    ~ws_session();
    ws_session(const ws_session&) = delete;
    ws_session& operator=(const ws_session&) = delete;

    // Sends the handshake response, decodes bytes that came with the
    // request, then reads.
    void start(std::string handshake_response, std::string early_bytes);

    // A web client that asked for batches (/ws?batch=MS): its messages
    // go out at most once every `window`, those queued meanwhile merged
    // into one frame, one per line (ws::append_coalesced). A message after
    // a quiet spell still goes at once. Called before start().
    void set_batch_window(std::chrono::milliseconds window) { batch_window_ = window; }

    // Queues a framed message (nothing once closing).
    void send(const frame_ptr& frame);

    // Starts the closing handshake with code and reason; the connection is
    // cut if the peer does not answer within the close timeout (or
    // wait_limit if shorter).
    void close(std::uint16_t code, std::string_view reason,
               std::chrono::milliseconds wait_limit = std::chrono::milliseconds::max());

    // Called by the server's idle sweep: ping a quiet peer, close one that
    // stayed quiet after the ping.
    void idle_check();

    // Reading again after the server stopped reading from gateways
    // (backpressure): a paused session waits for readability again.
    void resume_reading();
    // Closes a client that made no progress while the broker held too much
    // for its clients (1013, its queue dropped).
    void drop_as_stuck(std::string_view why);
    // Bytes waiting for this peer, and when its writes last advanced (or
    // when its queue last started filling).
    std::size_t queued_bytes() const { return queued_bytes_; }
    std::chrono::steady_clock::time_point last_progress() const { return last_progress_; }

    peer_id id() const { return id_; }
    const std::string& peer_name() const { return peer_name_; }
    const std::string& peer_address() const { return peer_address_; }
    peer_role role() const { return role_; }
    const std::string& uuid() const { return uuid_; }
    bool closing() const { return phase_ != phase::open; }
    // "client <uuid>" or "gateway #<id>", for log lines.
    std::string describe() const;

    // Where the connection is. Allowed transitions (enter() asserts them):
    //   open          -> close_sent     we started the closing handshake
    //   open          -> shutting_down  the peer closed (our reply is queued)
    //                                   or broke the protocol (our close is
    //                                   queued)
    //   close_sent    -> shutting_down  the peer broke the protocol while we
    //                                   waited for its reply
    //   close_sent    -> finished       the peer's close reply arrived
    //   any but finished -> finished    I/O error, end of stream, close
    //                                   timeout
    // open: messages are read and sent. close_sent: our close frame is
    // queued; no more messages either way, only the peer's close reply is
    // awaited. shutting_down: the closing handshake is over on our side; once
    // the queue is written we send FIN (half_close) and wait for the peer's
    // FIN. finished: the socket is closed and the server was told (once).
    enum class phase : std::uint8_t { open, close_sent, shutting_down, finished };
    // Liveness for the idle sweep: heard (read something since the last
    // sweep) -> quiet (a sweep passed without input) -> pinged (a second
    // sweep sent a ping) -> the third sweep closes. Any input: heard.
    enum class liveness : std::uint8_t { heard, quiet, pinged };

private:
    static bool allowed(phase from, phase to);
    void enter(phase next);
    void do_wait_read();
    // Waits for readability, or parks when messages wait in deferred_.
    void wait_or_park();
    void on_readable(const error_code& ec);
    // TLS: one async_read_some finished (n bytes in tls_buffer_).
    void on_tls_read(const error_code& ec, std::size_t n);
    // Bytes read (either way): decoded, their events handled.
    void consume(std::span<char> bytes);
    void on_event(const ws::event& e);
    void send_control(std::string frame);
    // Answers a ping (while open). At most one pong waits in the queue: a
    // newer ping replaces the waiting answer (RFC 6455 5.5.3 allows
    // answering only the latest), so a peer that pings and never reads
    // cannot grow it.
    void send_pong(std::string frame);
    void schedule_write();
    // With a batch window: do_write now if the last write started a window
    // ago, else when it has (write_pending_ is set either way).
    void write_when_due();
    void do_write();
    // Fills buffers_ with writing_'s frames as they are (no batching).
    void gather_frames();
    void on_write(const error_code& ec);
    void arm_close_timer(std::chrono::milliseconds limit = std::chrono::milliseconds::max());
    void drop_queue();
    // Every change of queued_bytes_ goes through these (the server sums
    // the clients' bytes).
    void grow_queue(std::size_t bytes);
    void shrink_queue(std::size_t bytes);
    void half_close();
    void finish(std::string_view why);

    server& server_; // outlives every session (server.hpp, "Ownership")
    peer_id id_;
    peer_role role_;
    std::string peer_name_;
    std::string peer_address_;
    std::string uuid_;
    transport stream_;
    tcp::socket& socket_; // stream_'s TCP socket
    std::unique_ptr<char[]> tls_buffer_; // TLS reads only
    ws::decoder decoder_;
    net::steady_timer close_timer_;
    net::steady_timer batch_timer_;
    std::chrono::milliseconds batch_window_{0};
    std::chrono::steady_clock::time_point last_write_; // when the last write started

    std::vector<frame_ptr> queue_;    // waiting for the next write
    std::vector<frame_ptr> writing_;  // in the write under way
    std::vector<net::const_buffer> buffers_;
    std::string copied_;              // small frames of the write under way
    std::size_t queued_bytes_ = 0;    // both vectors
    std::chrono::steady_clock::time_point last_progress_;
    std::size_t pong_slot_ = no_pong; // index in queue_ of the waiting pong
    static constexpr std::size_t no_pong = static_cast<std::size_t>(-1);
    phase phase_ = phase::open;
    liveness liveness_ = liveness::heard;
    // The writer, apart from the phase (a write may be under way in any of
    // them): a do_write is posted or an async_write is pending. At most one.
    bool write_pending_ = false;
    // Readable, but not read while the server pauses gateways. No handler
    // is pending then, so the session holds itself alive until resumed.
    std::shared_ptr<ws_session> parked_;
    // Gateway messages decoded after the pause began (at most one read's
    // worth): routed when reading resumes, in order.
    std::deque<std::string> deferred_;
};

} // namespace aiot::broker
