#include "broker/ws_session.hpp"

#include "broker/server.hpp"
#include "common/text.hpp"

#include <cassert>

namespace aiot::broker {


namespace {

// A TLS session's read buffer: one TLS record's worth of plaintext.
constexpr std::size_t tls_read_size = 16 * 1024;
// Reads per readiness wake-up before others get a turn.
constexpr int max_reads_per_wakeup = 4;
// How long a peer presumed gone (silent, or not reading) gets for its close
// reply.
constexpr std::chrono::milliseconds quick_close{1000};
// Frames smaller than this are copied into one contiguous block per write:
// fewer, larger segments for the kernel than one iovec per frame.
constexpr std::size_t copy_below = 4096;
// Memory kept between writes; anything larger is given back when idle.
constexpr std::size_t keep_entries = 64;
constexpr std::size_t keep_bytes = 16 * 1024;
// The largest frame of merged messages for a client that asked for
// batches (a larger message still goes, alone).
constexpr std::size_t max_batch_payload = 64 * 1024;

template <class T>
void trim(std::vector<T>& v)
{
    if (v.empty() && v.capacity() > keep_entries) {
        std::vector<T>().swap(v);
    }
}

} // namespace

ws_session::ws_session(server& srv, peer_id id, peer_role role, transport stream,
                       std::string peer_name, std::string peer_address, std::string uuid)
    : server_(srv),
      id_(id),
      role_(role),
      peer_name_(std::move(peer_name)),
      peer_address_(std::move(peer_address)),
      uuid_(std::move(uuid)),
      stream_(std::move(stream)),
      socket_(stream_.socket()),
      decoder_(ws::role::server, srv.config().max_message_size),
      close_timer_(socket_.get_executor()),
      batch_timer_(socket_.get_executor())
{
}

ws_session::~ws_session() = default;

bool ws_session::allowed(phase from, phase to)
{
    switch (from) {
    case phase::open:
        return to != phase::open;
    case phase::close_sent:
        return to == phase::shutting_down || to == phase::finished;
    case phase::shutting_down:
        return to == phase::finished;
    case phase::finished:
        return false;
    }
    return false;
}

void ws_session::enter(phase next)
{
    assert(allowed(phase_, next) && "ws_session: transition not in the table (ws_session.hpp)");
    phase_ = next;
}

std::string ws_session::describe() const
{
    return role_ == peer_role::client ? "client " + uuid_ : "gateway #" + std::to_string(id_);
}

void ws_session::start(std::string handshake_response, std::string early_bytes)
{
    error_code ec;
    socket_.non_blocking(true, ec);
    socket_.set_option(tcp::no_delay(true), ec);
    send_control(std::move(handshake_response));
    server_.session_opened(*this);
    if (!early_bytes.empty() && phase_ != phase::finished) {
        decoder_.feed(std::span<char>(early_bytes.data(), early_bytes.size()),
                      [this](const ws::event& e) { on_event(e); });
    }
    wait_or_park();
}

void ws_session::do_wait_read()
{
    if (stream_.is_tls()) {
        if (!tls_buffer_) {
            tls_buffer_ = std::make_unique<char[]>(tls_read_size);
        }
        stream_.async_read_some(net::buffer(tls_buffer_.get(), tls_read_size),
                                [self = shared_from_this()](const error_code& ec, std::size_t n) {
                                    self->on_tls_read(ec, n);
                                });
        return;
    }
    socket_.async_wait(tcp::socket::wait_read,
                       [self = shared_from_this()](const error_code& ec) {
                           self->on_readable(ec);
                       });
}

void ws_session::on_readable(const error_code& ec)
{
    if (phase_ == phase::finished) {
        return;
    }
    if (ec) {
        finish(ec.message());
        return;
    }
    if (role_ == peer_role::gateway && server_.gateway_reads_paused()) {
        parked_ = shared_from_this(); // resume_reading() waits again
        return;
    }
    const auto buffer = server_.read_buffer();
    for (int i = 0; i < max_reads_per_wakeup && phase_ != phase::finished; ++i) {
        error_code read_ec;
        const std::size_t n = socket_.read_some(net::buffer(buffer.data(), buffer.size()), read_ec);
        if (read_ec == net::error::would_block || read_ec == net::error::try_again) {
            break;
        }
        if (read_ec) {
            finish(read_ec == net::error::eof ? "connection closed by peer" : read_ec.message());
            return;
        }
        consume(buffer.first(n));
        if (n < buffer.size() || !deferred_.empty()) {
            break;
        }
    }
    wait_or_park();
}

void ws_session::on_tls_read(const error_code& ec, std::size_t n)
{
    if (phase_ == phase::finished) {
        return;
    }
    if (ec) {
        finish(ec == net::error::eof || ec == ssl::error::stream_truncated
                   ? "connection closed by peer"
                   : ec.message());
        return;
    }
    // A gateway's bytes read after a pause began are decoded into
    // deferred_ (at most one read's worth), routed on resume_reading().
    consume(std::span<char>(tls_buffer_.get(), n));
    wait_or_park();
}

void ws_session::consume(std::span<char> bytes)
{
    liveness_ = liveness::heard;
    decoder_.feed(bytes, [this](const ws::event& e) { on_event(e); });
}

void ws_session::wait_or_park()
{
    if (phase_ == phase::finished) {
        return;
    }
    if (!deferred_.empty()) {
        parked_ = shared_from_this(); // resume_reading() routes them, then waits
        return;
    }
    if (stream_.is_tls() && role_ == peer_role::gateway && server_.gateway_reads_paused()) {
        parked_ = shared_from_this(); // a read now would only fill deferred_
        return;
    }
    do_wait_read();
}

void ws_session::resume_reading()
{
    if (!parked_) {
        return;
    }
    auto self = std::move(parked_); // leaves parked_ empty
    while (!deferred_.empty() && phase_ != phase::finished) {
        if (server_.gateway_reads_paused()) {
            parked_ = std::move(self);
            return;
        }
        const auto text = std::move(deferred_.front());
        deferred_.pop_front();
        if (phase_ == phase::open) {
            server_.session_message(*this, text);
        }
    }
    if (phase_ != phase::finished) {
        do_wait_read();
    }
}

void ws_session::on_event(const ws::event& e)
{
    if (phase_ == phase::finished) {
        return;
    }
    switch (e.type) {
    case ws::event::kind::message:
        if (phase_ != phase::open) {
            return; // closing: data is no longer processed
        }
        if (e.op == ws::opcode::binary && !common::valid_utf8(e.payload)) {
            server_.log().warn("{}: binary message is not UTF-8 text, closing", describe());
            close(ws::close_code::invalid_payload, "message is not UTF-8");
            return;
        }
        if (role_ == peer_role::gateway &&
            (server_.gateway_reads_paused() || !deferred_.empty())) {
            deferred_.emplace_back(e.payload); // bounded by one read (on_readable)
            return;
        }
        server_.session_message(*this, e.payload);
        return;
    case ws::event::kind::ping:
        if (phase_ == phase::open) {
            send_pong(*ws::control_reply(e));
        }
        return;
    case ws::event::kind::pong:
        return;
    case ws::event::kind::close:
        if (phase_ != phase::open) {
            finish("closing handshake done");
            return;
        }
        server_.log().debug("{}: peer closed with {} '{}'", describe(), e.code, e.reason);
        send_control(*ws::control_reply(e));
        enter(phase::shutting_down);
        arm_close_timer();
        return;
    case ws::event::kind::error:
        server_.count_close("protocol_error");
        server_.log().warn("{}: websocket protocol error ({}), closing with {}", describe(),
                           e.reason, e.code);
        if (phase_ == phase::open) {
            send_control(*ws::control_reply(e));
            arm_close_timer();
        }
        if (phase_ != phase::shutting_down) {
            enter(phase::shutting_down);
        }
        if (!write_pending_) {
            half_close();
        }
        return;
    }
}

void ws_session::send(const frame_ptr& frame)
{
    if (closing()) {
        return;
    }
    const auto& cfg = server_.config();
    if (queue_.size() + writing_.size() >= cfg.max_queue_messages ||
        queued_bytes_ + frame->size() > cfg.max_queue_bytes) {
        drop_as_stuck(fmt::format("too slow, {} messages / {} bytes waiting (limits {} / {})",
                                  queue_.size() + writing_.size(), queued_bytes_,
                                  cfg.max_queue_messages, cfg.max_queue_bytes));
        return;
    }
    grow_queue(frame->size());
    queue_.push_back(frame);
    schedule_write();
}

void ws_session::send_control(std::string frame)
{
    if (phase_ == phase::finished) {
        return;
    }
    grow_queue(frame.size());
    queue_.push_back(std::make_shared<const std::string>(std::move(frame)));
    schedule_write();
}

void ws_session::send_pong(std::string frame)
{
    if (pong_slot_ != no_pong) {
        auto& waiting = queue_[pong_slot_];
        shrink_queue(waiting->size());
        grow_queue(frame.size());
        waiting = std::make_shared<const std::string>(std::move(frame));
        return;
    }
    pong_slot_ = queue_.size(); // reset if send() drops the queue instead
    send(std::make_shared<const std::string>(std::move(frame)));
}

void ws_session::schedule_write()
{
    if (write_pending_) {
        return;
    }
    write_pending_ = true;
    if (batch_window_.count() > 0) {
        write_when_due();
        return;
    }
    // Deferred, so every message routed in this turn of the loop goes out
    // in the same gathered write.
    net::post(socket_.get_executor(), [self = shared_from_this()] { self->do_write(); });
}

void ws_session::write_when_due()
{
    const auto due = last_write_ + batch_window_;
    if (due <= std::chrono::steady_clock::now()) {
        net::post(socket_.get_executor(), [self = shared_from_this()] { self->do_write(); });
        return;
    }
    batch_timer_.expires_at(due);
    batch_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
        if (!ec) {
            self->do_write();
        }
    });
}

void ws_session::do_write()
{
    if (phase_ == phase::finished) {
        return;
    }
    if (queue_.empty()) {
        write_pending_ = false;
        if (phase_ == phase::shutting_down) {
            half_close();
        }
        return;
    }
    writing_.swap(queue_);
    pong_slot_ = no_pong;
    buffers_.clear();
    copied_.clear();
    if (batch_window_.count() > 0) {
        // Every message merged into as few frames as the size limit allows.
        last_write_ = std::chrono::steady_clock::now();
        ws::append_coalesced(copied_, writing_, max_batch_payload);
        buffers_.emplace_back(copied_.data(), copied_.size());
    } else {
        gather_frames();
    }
    net::async_write(stream_, buffers_,
                     [self = shared_from_this()](const error_code& ec, std::size_t) {
                         self->on_write(ec);
                     });
}

void ws_session::gather_frames()
{
    // Small frames are copied into copied_ (its size is known first, so it
    // is never reallocated while buffers point into it); large ones are
    // written from the shared frame itself.
    std::size_t small_bytes = 0;
    for (const auto& f : writing_) {
        small_bytes += f->size() < copy_below ? f->size() : 0;
    }
    copied_.reserve(small_bytes);
    std::size_t run_start = 0;
    for (const auto& f : writing_) {
        if (f->size() < copy_below) {
            copied_.append(*f);
            continue;
        }
        if (copied_.size() > run_start) {
            buffers_.emplace_back(copied_.data() + run_start, copied_.size() - run_start);
        }
        run_start = copied_.size();
        buffers_.emplace_back(f->data(), f->size());
    }
    if (copied_.size() > run_start) {
        buffers_.emplace_back(copied_.data() + run_start, copied_.size() - run_start);
    }
}

void ws_session::on_write(const error_code& ec)
{
    if (phase_ == phase::finished) {
        return;
    }
    if (ec) {
        finish(ec.message());
        return;
    }
    std::size_t written = 0;
    for (const auto& f : writing_) {
        written += f->size();
    }
    last_progress_ = std::chrono::steady_clock::now();
    shrink_queue(written);
    writing_.clear();
    trim(writing_);
    trim(queue_);
    buffers_.clear();
    trim(buffers_);
    if (copied_.capacity() > keep_bytes) {
        std::string().swap(copied_);
    }
    if (batch_window_.count() > 0 && !queue_.empty()) {
        write_when_due();
        return;
    }
    do_write();
}

void ws_session::drop_as_stuck(std::string_view why)
{
    if (closing()) {
        return;
    }
    server_.log().warn("{}: {}, dropping it", describe(), why);
    drop_queue();
    // It is not reading: its close reply is not worth a long wait.
    server_.count_close("too_slow");
    close(ws::close_code::try_again_later, "too slow, messages dropped", quick_close);
}

void ws_session::drop_queue()
{
    std::size_t dropped = 0;
    for (const auto& f : queue_) {
        dropped += f->size();
    }
    shrink_queue(dropped);
    queue_.clear();
    pong_slot_ = no_pong;
}

void ws_session::grow_queue(std::size_t bytes)
{
    if (queued_bytes_ == 0) {
        last_progress_ = server_.now(); // the wait starts now
    }
    queued_bytes_ += bytes;
    if (role_ == peer_role::client) {
        server_.client_queue_grew(bytes);
    }
}

void ws_session::shrink_queue(std::size_t bytes)
{
    queued_bytes_ -= bytes;
    if (role_ == peer_role::client) {
        server_.client_queue_shrank(bytes);
    }
}

void ws_session::close(std::uint16_t code, std::string_view reason,
                       std::chrono::milliseconds wait_limit)
{
    if (closing()) {
        return;
    }
    enter(phase::close_sent);
    send_control(ws::encode_close(code, reason));
    arm_close_timer(wait_limit);
}

void ws_session::arm_close_timer(std::chrono::milliseconds limit)
{
    close_timer_.expires_after(std::min(limit, server_.close_timeout()));
    close_timer_.async_wait([self = shared_from_this()](const error_code& ec) {
        if (!ec && self->phase_ != phase::finished) {
            self->server_.log().debug("{}: no close reply in time", self->describe());
            self->finish("close timeout");
        }
    });
}

void ws_session::idle_check()
{
    if (closing()) {
        return;
    }
    switch (liveness_) {
    case liveness::heard:
        liveness_ = liveness::quiet;
        return;
    case liveness::quiet:
        liveness_ = liveness::pinged;
        send_control(ws::encode_frame(ws::opcode::ping, {}));
        return;
    case liveness::pinged:
        break;
    }
    server_.log().info("{}: silent for too long, closing", describe());
    server_.count_close("idle");
    close(ws::close_code::going_away, "idle timeout", quick_close);
}

void ws_session::half_close()
{
    // Our last frame is out: send FIN and read (discarding) until the peer
    // closes too, so that unread bytes cannot turn into a reset that loses
    // the close frame. The close timer bounds the wait.
    stream_.shutdown_send();
}

void ws_session::finish(std::string_view why)
{
    if (phase_ == phase::finished) {
        return;
    }
    enter(phase::finished);
    // A parked session may be held only by itself: alive until we return.
    const auto keep_alive = std::move(parked_); // leaves parked_ empty
    deferred_.clear();
    server_.log().debug("{}: connection ends ({})", describe(), why);
    stream_.close();
    close_timer_.cancel();
    batch_timer_.cancel();
    queue_.clear();
    pong_slot_ = no_pong;
    shrink_queue(queued_bytes_); // the write under way is abandoned too
    server_.session_closed(*this);
}

} // namespace aiot::broker
