#include "sy/http/server.hpp"

#include <sys/socket.h>

#include <boost/asio/socket_base.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <thread>

#include "sy/core/number_text.hpp"

namespace sy::http {

using namespace std::string_view_literals;

struct SessionEntry {
    TimedStream* stream = nullptr;
    bool busy = false;
};

// State of a connection's client watch, shared with the pending readiness wait: its handler may
// run after the exchange (or the whole session) ended, and then finds the watch disarmed.
struct ClientWatch {
    Exchange* ex = nullptr;  // the exchange being watched; null when disarmed
    std::uint64_t generation = 0;  // bumped per exchange: completions of older waits are ignored
    bool armed = false;            // a wait was started for the current exchange
    // Links in the worker's list of watches deferred to the next tick.
    ClientWatch* prev = nullptr;
    ClientWatch* next = nullptr;
    bool listed = false;
};

namespace {
// How long an operation runs before its client watch is armed (and so the longest time a
// disconnect goes unnoticed).
constexpr auto kWatchTick = std::chrono::milliseconds(50);
}  // namespace

namespace {

// RAII registration of a session in its worker's list (worker thread only).
class SessionRegistration {
public:
    SessionRegistration(std::list<SessionEntry*>& list, SessionEntry* e) : list_(list) {
        it_ = list_.insert(list_.end(), e);
    }
    ~SessionRegistration() { list_.erase(it_); }
    SessionRegistration(const SessionRegistration&) = delete;
    SessionRegistration& operator=(const SessionRegistration&) = delete;

private:
    std::list<SessionEntry*>& list_;
    std::list<SessionEntry*>::iterator it_;
};

class ActiveCount {
public:
    explicit ActiveCount(std::atomic<std::size_t>& c) : c_(c) { c_.fetch_add(1); }
    ~ActiveCount() { c_.fetch_sub(1); }
    ActiveCount(const ActiveCount&) = delete;
    ActiveCount& operator=(const ActiveCount&) = delete;

private:
    std::atomic<std::size_t>& c_;
};

void append_hex(std::string& out, std::size_t n) {
    char buf[20];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, n, 16);
    (void)ec;
    out.append(buf, p);
}

// After an early error response (413, 431) the client may still be sending its body. Closing at
// once would reset the connection and the client could lose the response; read and discard for
// a bounded time first (nginx's lingering close).
Task<void> lingering_close(TimedStream& stream) {
    boost::system::error_code ec;
    stream.socket().shutdown(tcp::socket::shutdown_send, ec);
    constexpr std::size_t kMaxDiscard = 128 * 1024 * 1024;
    std::size_t discarded = 0;
    std::array<char, 16 * 1024> sink{};
    stream.expires_after(std::chrono::seconds(2));
    while (discarded < kMaxDiscard) {
        auto [rec, n] = co_await stream.async_read_some(net::buffer(sink), kNoThrow);
        if (rec) {
            break;
        }
        discarded += n;
    }
}

}  // namespace

// ---------------- Exchange ----------------

Exchange::Exchange(TimedStream& stream,
                   beast::flat_buffer& buffer,
                   std::string& out,
                   const std::shared_ptr<ClientWatch>& watch,
                   std::pmr::memory_resource& arena,
                   Request&& req,
                   const ServerLimits& limits,
                   Worker& worker,
                   const std::string& client_ip)
    : stream_(stream),
      buffer_(buffer),
      req_(std::move(req)),
      limits_(limits),
      worker_(worker),
      client_ip_(client_ip),
      out_(out),
      watch_(watch),
      arena_(arena) {
    out_.clear();
    keep_alive_ = req_.keep_alive();
}

namespace {

// Serialises a response head by hand: one contiguous buffer, no serializer state machine.
template <class Fields>
void append_head(std::string& out, int status, std::string_view reason, const Fields& fields) {
    out += "HTTP/1.1 "sv;
    append_int(out, status);
    out += ' ';
    out.append(reason.data(), reason.size());
    out += "\r\n"sv;
    for (const auto& f : fields) {
        out.append(f.name_string().data(), f.name_string().size());
        out += ": "sv;
        out.append(f.value().data(), f.value().size());
        out += "\r\n"sv;
    }
}

std::string_view reason_of(unsigned status, std::string_view given) {
    if (!given.empty()) {
        return given;
    }
    auto r = bhttp::obsolete_reason(static_cast<bhttp::status>(status));
    std::string_view v{r.data(), r.size()};
    return v == "<unknown-status>" ? std::string_view("Unknown") : v;
}

// RFC 9110: 1xx and 204 responses carry no Content-Length and no body.
bool bodiless_status(int status) { return status < 200 || status == 204; }

}  // namespace

Task<bool> Exchange::respond(Response& res) {
    responded_ = true;
    if (client_gone_) {
        co_return false;
    }
    if (worker_.draining()) {
        keep_alive_ = false;
    }
    res.erase(bhttp::field::content_length);
    res.erase(bhttp::field::connection);
    res.erase(bhttp::field::transfer_encoding);
    out_.clear();
    append_head(out_, res.result_int(), reason_of(res.result_int(), res.reason()), res.base());
    if (!bodiless_status(res.result_int())) {
        out_ += "Content-Length: "sv;
        append_int(out_, static_cast<std::int64_t>(res.body().size()));
        out_ += "\r\n"sv;
    }
    out_ += keep_alive_ ? "\r\n"sv : "Connection: close\r\n\r\n"sv;
    bool head_only = req_.method() == bhttp::verb::head || bodiless_status(res.result_int());
    std::array<net::const_buffer, 2> bufs{net::buffer(out_),
                                          head_only ? net::const_buffer{} : net::buffer(res.body())};
    stream_.expires_after(limits_.write_timeout);
    auto [ec, n] = co_await net::async_write(stream_, bufs, kNoThrow);
    bytes_sent_ += n;
    out_.clear();
    if (ec) {
        client_gone_ = true;
        keep_alive_ = false;
        co_return false;
    }
    co_return true;
}

Task<bool> Exchange::respond_raw(int status, std::string_view header_lines, std::string_view body) {
    responded_ = true;
    if (client_gone_) {
        co_return false;
    }
    if (worker_.draining()) {
        keep_alive_ = false;
    }
    out_.clear();
    out_ += "HTTP/1.1 "sv;
    append_int(out_, status);
    out_ += ' ';
    out_ += reason_of(static_cast<unsigned>(status), {});
    out_ += "\r\n"sv;
    out_ += header_lines;
    out_ += "Content-Length: "sv;
    append_int(out_, static_cast<std::int64_t>(body.size()));
    out_ += keep_alive_ ? "\r\n\r\n"sv : "\r\nConnection: close\r\n\r\n"sv;
    bool head_only = req_.method() == bhttp::verb::head;
    std::array<net::const_buffer, 2> bufs{net::buffer(out_),
                                          head_only ? net::const_buffer{} : net::buffer(body)};
    stream_.expires_after(limits_.write_timeout);
    auto [ec, n] = co_await net::async_write(stream_, bufs, kNoThrow);
    bytes_sent_ += n;
    out_.clear();
    if (ec) {
        client_gone_ = true;
        keep_alive_ = false;
        co_return false;
    }
    co_return true;
}

void Exchange::begin_stream(bhttp::response<bhttp::empty_body> head) {
    responded_ = true;
    streaming_ = true;
    if (worker_.draining()) {
        keep_alive_ = false;
    }
    head.erase(bhttp::field::content_length);
    head.erase(bhttp::field::connection);
    head.erase(bhttp::field::transfer_encoding);
    out_.clear();
    append_head(out_, head.result_int(), reason_of(head.result_int(), head.reason()), head.base());
    out_ += keep_alive_ ? "Transfer-Encoding: chunked\r\n\r\n"
                        : "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
}

void Exchange::begin_stream_raw(std::string_view header_lines) {
    responded_ = true;
    streaming_ = true;
    if (worker_.draining()) {
        keep_alive_ = false;
    }
    out_.clear();
    out_ += "HTTP/1.1 200 OK\r\n"sv;
    out_ += header_lines;
    if (req_.version() < 11) {
        // HTTP/1.0 has no chunked encoding: the body ends when the connection closes.
        chunked_ = false;
        keep_alive_ = false;
        out_ += "Connection: close\r\n\r\n"sv;
        return;
    }
    out_ += keep_alive_ ? "Transfer-Encoding: chunked\r\n\r\n"
                        : "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
}

Task<bool> Exchange::write_pending() {
    if (client_gone_) {
        co_return false;
    }
    stream_.expires_after(limits_.write_timeout);
    auto [ec, n] = co_await net::async_write(stream_, net::buffer(out_), kNoThrow);
    bytes_sent_ += n;
    out_.clear();
    if (ec) {
        client_gone_ = true;
        keep_alive_ = false;
        co_return false;
    }
    co_return true;
}

Task<bool> Exchange::write_chunk(std::string_view data, bool last) {
    if (!chunked_) {
        out_.append(data);
        co_return co_await write_pending();
    }
    if (!data.empty()) {
        append_hex(out_, data.size());
        out_ += "\r\n"sv;
        out_.append(data);
        out_ += "\r\n"sv;
    }
    if (last) {
        out_ += "0\r\n\r\n"sv;
    }
    co_return co_await write_pending();
}

Task<bool> Exchange::end_stream() { co_return co_await write_chunk({}, true); }

void Exchange::arm_watch() {
    std::uint64_t gen = watch_->generation;
    // A readiness wait reads nothing until the socket becomes readable; Asio starts it with an
    // EPOLL_CTL_MOD, which reports readiness (data, EOF, reset) that is already there.
    stream_.socket().async_wait(
        tcp::socket::wait_read, [w = watch_, gen](const boost::system::error_code& ec) {
            if (w->ex == nullptr || w->generation != gen) {
                return;  // disarmed, or a wait of an earlier exchange
            }
            w->ex->on_client_readable(ec);
        });
}

void Exchange::on_client_readable(const boost::system::error_code& ec) {
    if (!ec) {
        auto space = buffer_.prepare(4096);
        ssize_t n = ::recv(stream_.socket().native_handle(), space.data(), space.size(),
                           MSG_DONTWAIT);
        if (n > 0) {
            // The client sent more bytes (a pipelined request): keep them for the session; the
            // watch ends here.
            buffer_.commit(static_cast<std::size_t>(n));
            return;
        }
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            arm_watch();  // spurious readiness
            return;
        }
    }
    // End of stream, a reset, or the socket closed under the watch (forced shutdown).
    client_gone_ = true;
    keep_alive_ = false;
    if (on_gone_ && *on_gone_) {
        (*on_gone_)();
    }
}

Exchange::WatchScope::WatchScope(Exchange& ex, const std::function<void()>& on_gone) : ex_(ex) {
    ex.on_gone_ = &on_gone;
    ++ex.watch_->generation;
    ex.watch_->ex = &ex;
    ex.watch_->armed = false;
    ex.worker_.defer_watch(ex.watch_.get());
}

Exchange::WatchScope::~WatchScope() {
    ClientWatch& w = *ex_.watch_;
    ex_.on_gone_ = nullptr;
    w.ex = nullptr;
    ex_.worker_.drop_watch(&w);
    if (w.armed) {
        w.armed = false;
        boost::system::error_code ec;
        ex_.stream_.socket().cancel(ec);  // the pending wait, if any (no other operation is pending on it now)
    }
}

Task<bool> Exchange::run_watching_client(Task<void>& op, const std::function<void()>& on_gone) {
    {
        WatchScope scope(*this, on_gone);
        co_await std::move(op);
    }
    co_return !client_gone_;
}

// ---------------- Worker ----------------

void Worker::defer_watch(ClientWatch* w) {
    if (w->listed) {
        return;
    }
    w->prev = nullptr;
    w->next = deferred_watches_;
    if (deferred_watches_) {
        deferred_watches_->prev = w;
    }
    deferred_watches_ = w;
    w->listed = true;
    if (!watch_tick_running_) {
        watch_tick_running_ = true;
        watch_tick_.expires_after(kWatchTick);
        watch_tick_.async_wait([this](const boost::system::error_code& ec) {
            watch_tick_running_ = false;
            if (!ec) {
                on_watch_tick();
            }
        });
    }
}

void Worker::drop_watch(ClientWatch* w) {
    if (!w->listed) {
        return;
    }
    if (w->prev) {
        w->prev->next = w->next;
    } else {
        deferred_watches_ = w->next;
    }
    if (w->next) {
        w->next->prev = w->prev;
    }
    w->prev = w->next = nullptr;
    w->listed = false;
}

void Worker::on_watch_tick() {
    // Every operation still running now gets its client watch; the tick stops until the next
    // deferral.
    while (ClientWatch* w = deferred_watches_) {
        drop_watch(w);
        if (w->ex) {
            w->armed = true;
            w->ex->arm_watch();
        }
    }
}

Worker::Worker(int index, const ServerLimits& limits, RequestHandler& handler)
    : index_(index), limits_(limits), handler_(handler) {}

Worker::~Worker() { stop_and_join(); }

Status Worker::open(const tcp::endpoint& ep) {
    boost::system::error_code ec;
    acceptor_.open(ep.protocol(), ec);
    if (!ec) {
        acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    }
    if (!ec) {
        int one = 1;
        if (::setsockopt(acceptor_.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) !=
            0) {
            return Error::make(Errc::kInternal, "setsockopt(SO_REUSEPORT) failed");
        }
        acceptor_.bind(ep, ec);
    }
    if (!ec) {
        acceptor_.listen(net::socket_base::max_listen_connections, ec);
    }
    if (ec) {
        return Error::make(Errc::kInternal,
                           "cannot listen on " + ep.address().to_string() + ":" +
                               std::to_string(ep.port()) + ": " + ec.message());
    }
    return ok_status();
}

std::uint16_t Worker::local_port() const {
    boost::system::error_code ec;
    auto ep = acceptor_.local_endpoint(ec);
    return ec ? 0 : ep.port();
}

void Worker::start() {
    net::co_spawn(io_, accept_loop(), net::detached);
    thread_ = std::thread([this] {
        for (;;) {
            try {
                io_.run();
                break;
            } catch (...) {
                // An exception escaping a handler is a bug; keep the worker alive.
            }
        }
    });
}

void Worker::begin_drain() {
    draining_.store(true);
    net::post(io_, [this] {
        boost::system::error_code ec;
        acceptor_.close(ec);
        for (SessionEntry* s : sessions_) {
            if (!s->busy) {
                s->stream->socket().shutdown(tcp::socket::shutdown_both, ec);
                s->stream->close();
            }
        }
    });
}

void Worker::force_close() {
    draining_.store(true);
    net::post(io_, [this] {
        boost::system::error_code ec;
        acceptor_.close(ec);
        for (SessionEntry* s : sessions_) {
            s->stream->socket().shutdown(tcp::socket::shutdown_both, ec);
            s->stream->close();
        }
    });
}

void Worker::stop_and_join() {
    io_.stop();
    if (thread_.joinable()) {
        thread_.join();
    }
}

Task<void> Worker::accept_loop() {
    for (;;) {
        auto [ec, sock] = co_await acceptor_.async_accept(kNoThrow);
        if (ec) {
            if (ec == net::error::operation_aborted || !acceptor_.is_open()) {
                co_return;
            }
            if (ec == net::error::no_descriptors || ec == net::error::no_buffer_space) {
                // Out of file descriptors: back off briefly instead of spinning.
                net::steady_timer t(io_, std::chrono::milliseconds(50));
                co_await t.async_wait(kNoThrow);
            }
            continue;
        }
        if (draining_.load()) {
            boost::system::error_code ignored;
            sock.close(ignored);
            continue;
        }
        if (active_.load(std::memory_order_relaxed) >= limits_.max_connections_per_worker) {
            // Bounded: past the cap a connection is closed at once rather than queued.
            refused_.fetch_add(1, std::memory_order_relaxed);
            boost::system::error_code ignored;
            sock.close(ignored);
            continue;
        }
        boost::system::error_code opt_ec;
        sock.set_option(tcp::no_delay(true), opt_ec);
        net::co_spawn(io_, session(std::move(sock)), net::detached);
    }
}

Task<void> Worker::session(tcp::socket sock) {
    ActiveCount active(active_);
    TimedStream stream(std::move(sock));
    beast::flat_buffer buffer;
    buffer.reserve(16 * 1024);  // reads are sized by free capacity; avoid 512-byte reads
    SessionEntry entry{&stream, false};
    std::string client_ip;
    std::string out;  // response heads and chunks, reused by every exchange of the connection
    auto watch = std::make_shared<ClientWatch>();
    // Header fields of each request (and of its upstream response) are allocated here; the arena
    // is reset before every request, its extra blocks (past the inline 4 KiB) given back then.
    std::array<std::byte, 4096> arena_buf;
    std::pmr::monotonic_buffer_resource arena(arena_buf.data(), arena_buf.size());
    {
        boost::system::error_code ec;
        auto ep = stream.socket().remote_endpoint(ec);
        if (!ec) {
            client_ip = ep.address().to_string();
        }
    }
    SessionRegistration reg(sessions_, &entry);

    for (;;) {
        entry.busy = false;
        if (draining_.load(std::memory_order_relaxed) && buffer.size() == 0) {
            break;
        }
        if (buffer.size() == 0) {
            // Idle keep-alive wait for the first byte of the next request.
            stream.expires_after(limits_.idle_timeout);
            auto [ec, n] = co_await stream.async_read_some(buffer.prepare(8192), kNoThrow);
            if (ec) {
                break;
            }
            buffer.commit(n);
        }
        entry.busy = true;
        arena.release();  // nothing of the previous exchange is alive any more
        bhttp::request_parser<bhttp::string_body, FieldsAlloc> parser(
            std::piecewise_construct, std::make_tuple(), std::make_tuple(FieldsAlloc(&arena)));
        parser.header_limit(static_cast<std::uint32_t>(limits_.max_header_bytes));
        parser.body_limit(limits_.max_body_bytes);
        stream.expires_after(limits_.read_timeout);
        boost::system::error_code ec = co_await read_message(stream, buffer, parser, true);
        // The head is screened (auth, limits) before a body that is still on its way is read;
        // a body already in the buffer (the common case: one segment) costs nothing to take.
        // (content_length_remaining() is only defined once the head is complete.)
        bool body_buffered = false;
        if (!ec && parser.is_header_done() && !parser.is_done()) {
            auto remaining = parser.content_length_remaining();
            body_buffered = remaining && buffer.size() >= *remaining;
        }
        if (!ec && !parser.is_done() && !body_buffered) {
            if (auto early = handler_.screen_head(parser.get())) {
                early->keep_alive(false);
                early->prepare_payload();
                stream.expires_after(limits_.write_timeout);
                co_await bhttp::async_write(stream, *early, kNoThrow);
                co_await lingering_close(stream);
                break;
            }
        }
        if (!ec) {
            // The head is in and within limits (a Content-Length over the body limit has failed
            // already): let a client waiting on `Expect: 100-continue` send its body now.
            auto expect = parser.get().find(bhttp::field::expect);
            if (expect != parser.get().end() && beast::iequals(expect->value(), "100-continue") &&
                !parser.is_done()) {
                static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
                auto [wec, wn] = co_await net::async_write(stream, net::buffer(kContinue), kNoThrow);
                ec = wec;
            }
        }
        if (!ec && !parser.is_done()) {
            ec = co_await read_message(stream, buffer, parser, false);
        }
        if (ec) {
            int status = 0;
            std::string msg;
            if (ec == bhttp::error::body_limit) {
                status = 413;
                msg = "Request body too large. The limit is " +
                      std::to_string(limits_.max_body_bytes / (1024 * 1024)) +
                      " MB (general_settings.max_request_size_mb).";
            } else if (ec == bhttp::error::header_limit) {
                status = 431;
                msg = "Request header fields too large.";
            } else if (ec.category() == make_error_code(bhttp::error::end_of_stream).category() &&
                       ec != bhttp::error::end_of_stream && ec != bhttp::error::partial_message) {
                status = 400;
                msg = "Malformed HTTP request: " + ec.message();
            }
            if (status != 0) {
                Response res = handler_.protocol_error(status, msg);
                res.keep_alive(false);
                res.prepare_payload();
                stream.expires_after(limits_.write_timeout);
                co_await bhttp::async_write(stream, res, kNoThrow);
                co_await lingering_close(stream);
            }
            break;
        }
        Exchange ex(stream, buffer, out, watch, arena, parser.release(), limits_, *this, client_ip);
        co_await handler_.handle(ex);
        if (!ex.responded()) {
            Response res = handler_.protocol_error(500, "The request was not answered.");
            co_await ex.respond(res);
        }
        if (!ex.keep_alive()) {
            break;
        }
        if (out.capacity() > 64 * 1024) {
            std::string().swap(out);  // bounded: a large response does not pin its buffer
        }
    }
    boost::system::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_send, ignored);
    stream.close();
}

// ---------------- Server ----------------

Server::Server(ServerOptions opts, RequestHandler& handler)
    : opts_(std::move(opts)), handler_(handler) {}

Server::~Server() {
    stop();
    workers_.clear();
}

Result<std::uint16_t> Server::listen() {
    boost::system::error_code ec;
    auto addr = net::ip::make_address(opts_.host, ec);
    if (ec) {
        return Error::make(Errc::kInternal, "invalid --host address: " + opts_.host);
    }
    int n = opts_.num_workers < 1 ? 1 : opts_.num_workers;
    std::uint16_t port = opts_.port;
    if (port != 0) {
        // SO_REUSEPORT would let a second gateway on the same port silently take half of the
        // traffic: probe with a plain bind first, so that a port in use is an error.
        net::io_context probe_io;
        tcp::acceptor probe(probe_io);
        boost::system::error_code pec;
        probe.open(addr.is_v6() ? tcp::v6() : tcp::v4(), pec);
        if (!pec) {
            // SO_REUSEADDR tolerates TIME_WAIT leftovers of a previous run, not a live listener.
            probe.set_option(net::socket_base::reuse_address(true), pec);
            probe.bind(tcp::endpoint(addr, port), pec);
        }
        if (pec == net::error::address_in_use) {
            return Error::make(Errc::kInternal, "cannot listen on " + opts_.host + ":" +
                                                    std::to_string(port) +
                                                    ": address already in use");
        }
    }
    for (int i = 0; i < n; ++i) {
        auto w = std::make_unique<Worker>(i, opts_.limits, handler_);
        auto st = w->open(tcp::endpoint(addr, port));
        if (!st) {
            return std::move(st).error();
        }
        if (port == 0) {
            port = w->local_port();
        }
        workers_.push_back(std::move(w));
    }
    return port;
}

void Server::start() {
    for (auto& w : workers_) {
        w->start();
    }
}

void Server::begin_drain() {
    for (auto& w : workers_) {
        w->begin_drain();
    }
}

bool Server::wait_idle(Duration max_wait) {
    auto deadline = Clock::now() + max_wait;
    while (active_connections() > 0) {
        if (Clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return true;
}

void Server::stop() {
    if (stopped_) {
        return;
    }
    stopped_ = true;
    // Terminal step of shutdown: close what is left so that every session coroutine runs to its
    // end (rather than being destroyed while suspended), then stop the event loops.
    for (auto& w : workers_) {
        w->force_close();
    }
    wait_idle(std::chrono::seconds(2));
    for (auto& w : workers_) {
        w->stop_and_join();
    }
    // The workers (and their io_contexts) stay alive until ~Server: objects with sockets on them
    // (upstream pools) must be destroyed first.
}

std::uint64_t Server::refused_connections() const {
    std::uint64_t n = 0;
    for (const auto& w : workers_) {
        n += w->refused_connections();
    }
    return n;
}

std::size_t Server::active_connections() const {
    std::size_t n = 0;
    for (const auto& w : workers_) {
        n += w->active_connections();
    }
    return n;
}

}  // namespace sy::http
