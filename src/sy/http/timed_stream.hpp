#pragma once
// A TCP stream with a deadline per operation, for both legs of the proxy (client sessions and
// upstream connections); the drop-in replacement of beast::tcp_stream on the hot path.
//
// Same contract as beast::tcp_stream: expires_after()/expires_at() set a deadline for the
// operations that follow; when it passes while an operation is pending, the socket is closed
// and the operation completes with beast::error::timeout. The difference is the cost: Beast
// arms a timer per operation (a timer-queue insert and cancel, and one more handler through the
// scheduler, per read and write). Here an operation with a deadline only joins its
// io_context's list of watched streams (two pointer writes); one timer per io_context
// (DeadlineService) wakes at the earliest deadline of the list, closes what has expired and
// sleeps until the next. Deadlines are pushed forward on every request, so that timer mostly
// stays armed at a time that has already been pushed back and wakes rarely.
//
// Invariant: a TimedStream is not destroyed or moved while one of its operations is pending
// (the completion refers to it); coroutines that await their operations keep it. The exception
// is the io_context's own shutdown, where pending operations are destroyed uninvoked. A
// violation stops the process with a message instead of corrupting memory later.
//
// Thread safety: a stream and its io_context's DeadlineService are used by that io_context's
// thread only.

#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/execution_context.hpp>
#include <limits>
#include <utility>

#include "sy/http/asio.hpp"

namespace sy::http {

class TimedStream;

// The per-io_context sweeper of expired stream deadlines.
class DeadlineService : public net::execution_context::service {
public:
    using key_type = DeadlineService;
    static net::execution_context::id id;

    explicit DeadlineService(net::execution_context& ctx);
    ~DeadlineService() override;

    // The io_context's instance (created on first use).
    static DeadlineService& of(const tcp::socket::executor_type& ex);

    void watch(TimedStream& s);
    void unwatch(TimedStream& s);
    // A watched stream's deadline moved earlier than the wake-up time: wake earlier.
    void deadline_lowered(Clock::time_point t);
    std::size_t watched() const { return watched_; }
    bool shut_down() const { return shut_down_; }

private:
    void shutdown() override;
    void arm(Clock::time_point t);
    void on_wake();

    net::io_context& io_;
    std::unique_ptr<net::steady_timer> timer_;
    Clock::time_point wake_at_ = Clock::time_point::max();
    TimedStream* head_ = nullptr;
    std::size_t watched_ = 0;
    std::uint64_t arm_generation_ = 0;
    bool shut_down_ = false;
};

namespace detail {

// Completion handler of a TimedStream operation: ends the operation's watch, turns an abort
// caused by the deadline into beast::error::timeout, then calls the caller's handler. Its
// executor, allocator and cancellation slot are the caller's (see the associator below).
template <class Handler>
class TimedOp {
public:
    TimedOp(TimedStream& s, Handler&& h) : s_(&s), h_(std::move(h)) {}

    template <class... Args>
    void operator()(boost::system::error_code ec, Args&&... args);

    const Handler& handler() const noexcept { return h_; }

private:
    TimedStream* s_;
    Handler h_;
};

}  // namespace detail

class TimedStream {
public:
    using executor_type = tcp::socket::executor_type;
    using socket_type = tcp::socket;
    static constexpr Clock::time_point kNever = Clock::time_point::max();

    explicit TimedStream(net::io_context& io) : socket_(io), svc_(&DeadlineService::of(socket_.get_executor())) {}
    explicit TimedStream(tcp::socket&& s)
        : socket_(std::move(s)), svc_(&DeadlineService::of(socket_.get_executor())) {}
    TimedStream(TimedStream&& o) noexcept;
    TimedStream& operator=(TimedStream&&) = delete;
    TimedStream(const TimedStream&) = delete;
    TimedStream& operator=(const TimedStream&) = delete;
    ~TimedStream();

    executor_type get_executor() noexcept { return socket_.get_executor(); }
    tcp::socket& socket() noexcept { return socket_; }
    // For asio::ssl::stream layered on top.
    using lowest_layer_type = tcp::socket;
    lowest_layer_type& lowest_layer() noexcept { return socket_; }
    const lowest_layer_type& lowest_layer() const noexcept { return socket_; }

    // The deadline of the operations started from now on (and of those pending).
    void expires_after(Duration d) { expires_at(Clock::now() + d); }
    void expires_at(Clock::time_point t);
    void expires_never() { expires_at(kNever); }
    Clock::time_point expiry() const noexcept { return deadline_; }

    void close() {
        boost::system::error_code ec;
        socket_.close(ec);
    }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return net::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, const MutableBuffers& b) {
                socket_.async_read_some(b, timed(std::move(handler)));
            },
            token, buffers);
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return net::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto handler, const ConstBuffers& b) {
                socket_.async_write_some(b, timed(std::move(handler)));
            },
            token, buffers);
    }

    // Connects to the first endpoint of `endpoints` that accepts, under the deadline.
    template <class Endpoints, class Token>
    auto async_connect(const Endpoints& endpoints, Token&& token) {
        return net::async_initiate<Token, void(boost::system::error_code, tcp::endpoint)>(
            [this](auto handler, const Endpoints& eps) {
                net::async_connect(socket_, eps, timed(std::move(handler)));
            },
            token, endpoints);
    }

private:
    friend class DeadlineService;
    template <class>
    friend class detail::TimedOp;

    // The caller's handler wrapped for one operation that starts now (under the deadline).
    template <class Handler>
    detail::TimedOp<Handler> timed(Handler h) {
        begin_op();
        return detail::TimedOp<Handler>(*this, std::move(h));
    }
    void begin_op() {
        if (pending_ == 0) {
            timed_out_ = false;  // reported once, by the operations the deadline ended
        }
        ++pending_;
        if (deadline_ != kNever && !watched_) {
            svc_->watch(*this);
        }
    }
    // Returns whether the operation ended because the deadline passed.
    bool end_op() {
        if (--pending_ == 0 && watched_) {
            svc_->unwatch(*this);
        }
        return timed_out_;
    }

    tcp::socket socket_;
    DeadlineService* svc_;
    Clock::time_point deadline_ = kNever;
    int pending_ = 0;
    bool timed_out_ = false;
    // Links in the DeadlineService's list (while an operation with a deadline is pending).
    bool watched_ = false;
    TimedStream* prev_ = nullptr;
    TimedStream* next_ = nullptr;
};

namespace detail {

template <class Handler>
template <class... Args>
void TimedOp<Handler>::operator()(boost::system::error_code ec, Args&&... args) {
    if (s_->end_op() && ec) {
        ec = beast::error::timeout;
    }
    std::move(h_)(ec, std::forward<Args>(args)...);
}

}  // namespace detail
}  // namespace sy::http

// The operation's handler carries the caller's associations (executor, allocator, cancellation
// slot), as Asio's own composed operations do.
template <template <typename, typename> class Associator, class Handler, class DefaultCandidate>
struct boost::asio::associator<Associator, sy::http::detail::TimedOp<Handler>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type get(
        const sy::http::detail::TimedOp<Handler>& h) noexcept {
        return Associator<Handler, DefaultCandidate>::get(h.handler());
    }
    static auto get(const sy::http::detail::TimedOp<Handler>& h, const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler(), c)) {
        return Associator<Handler, DefaultCandidate>::get(h.handler(), c);
    }
};
