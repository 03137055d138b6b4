#pragma once
// HTTP/1.1 server: thread-per-core workers, each with its own io_context and SO_REUSEPORT
// acceptor; one coroutine per connection owning its socket; keep-alive; bounded header and body
// sizes; idle and read timeouts; graceful drain.
//
// Thread safety: Server's public methods are called from the owning (main) thread. Handlers run
// on the worker thread that accepted the connection and never hop threads.

#include <atomic>
#include <functional>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "sy/core/error.hpp"
#include "sy/http/asio.hpp"
#include "sy/http/timed_stream.hpp"

namespace sy::http {

using Request = bhttp::request<bhttp::string_body, Fields>;
using Response = bhttp::response<bhttp::string_body>;

struct ServerLimits {
    std::size_t max_header_bytes = 16 * 1024;
    std::uint64_t max_body_bytes = 32ull * 1024 * 1024;
    Duration idle_timeout = std::chrono::seconds(75);
    Duration read_timeout = std::chrono::seconds(30);   // from first byte to full request
    Duration write_timeout = std::chrono::seconds(60);  // per write to the client
    std::size_t max_connections_per_worker = 16384;     // beyond: new connections are closed
};

class Worker;
struct SessionEntry;
struct ClientWatch;

// One request and its response on a client connection. Created by the session coroutine; the
// handler receives it by reference and must answer through it (respond() or the stream calls).
class Exchange {
public:
    // `out` is the connection's output buffer, reused from request to request.
    Exchange(TimedStream& stream,
             beast::flat_buffer& buffer,
             std::string& out,
             const std::shared_ptr<ClientWatch>& watch,
             std::pmr::memory_resource& arena,
             Request&& req,
             const ServerLimits& limits,
             Worker& worker,
             const std::string& client_ip);

    Request& request() { return req_; }
    const Request& request() const { return req_; }
    const std::string& client_ip() const { return client_ip_; }
    // The connection's per-request arena (reset before the next request): for header fields
    // that live no longer than this exchange, e.g. the upstream response's.
    std::pmr::memory_resource* arena() { return &arena_; }
    Worker& worker() { return worker_; }

    // Writes a complete response. Returns false when the client is gone.
    // `res` must be a named local of the caller (g++ 12 double-destroys temporaries that live
    // across a co_await when a suspended coroutine is destroyed).
    Task<bool> respond(Response& res);
    // Writes a complete response whose extra header lines ("Name: value\r\n"...) were built by
    // the caller; avoids a fields container on hot paths.
    Task<bool> respond_raw(int status, std::string_view header_lines, std::string_view body);

    // Chunked streaming. begin_stream() queues the head; write_chunk() sends it together with
    // the data; end_stream() sends the terminating chunk. Each returns false once the client is
    // gone, after which the stream must be abandoned.
    void begin_stream(bhttp::response<bhttp::empty_body> head);
    // 200 + caller-built header lines ("Name: value\r\n"...), chunked.
    void begin_stream_raw(std::string_view header_lines);
    Task<bool> write_chunk(std::string_view data, bool last = false);
    Task<bool> end_stream();

    // Runs `op` while watching the client socket. When the client disconnects (or the connection
    // is closed by a forced shutdown) while op runs, `on_gone` is called: it must make `op` finish
    // promptly (e.g. cancel the upstream call, cancel a timer); op is then awaited to its end and
    // false is returned. One watch covers a whole stream. The watch is a readiness wait on the
    // socket (no coroutine, no parallel group; Asio re-arms the epoll registration for it, so a
    // close that arrived before the wait started is still reported). It is armed only for
    // operations still running at the worker's next watch tick (every kWatchTick): the many
    // calls that end sooner cost no wait at all, and a disconnect is noticed within a tick.
    Task<bool> run_watching_client(Task<void>& op, const std::function<void()>& on_gone);
    // The same watch for the lifetime of a scope, around operations the caller awaits itself
    // (no coroutine of its own): `on_gone` must outlive the scope.
    class WatchScope {
    public:
        WatchScope(Exchange& ex, const std::function<void()>& on_gone);
        ~WatchScope();
        WatchScope(const WatchScope&) = delete;
        WatchScope& operator=(const WatchScope&) = delete;

    private:
        Exchange& ex_;
    };
    bool client_gone() const { return client_gone_; }

    bool responded() const { return responded_; }
    bool streaming() const { return streaming_; }
    bool keep_alive() const { return keep_alive_; }
    void set_keep_alive(bool v) { keep_alive_ = v; }
    std::uint64_t bytes_sent() const { return bytes_sent_; }

private:
    friend struct ClientWatch;
    friend class Worker;
    Task<bool> write_pending();
    void arm_watch();
    void on_client_readable(const boost::system::error_code& ec);

    TimedStream& stream_;
    beast::flat_buffer& buffer_;
    Request req_;
    const ServerLimits& limits_;
    Worker& worker_;
    const std::string& client_ip_;
    std::string& out_;
    const std::shared_ptr<ClientWatch>& watch_;
    std::pmr::memory_resource& arena_;
    const std::function<void()>* on_gone_ = nullptr;  // set while a watch runs
    bool responded_ = false;
    bool streaming_ = false;
    bool chunked_ = true;
    bool keep_alive_ = true;
    bool client_gone_ = false;
    std::uint64_t bytes_sent_ = 0;
};

// Implemented by the pipeline: answers one request.
class RequestHandler {
public:
    virtual ~RequestHandler() = default;
    // Must answer through ex (respond or a complete stream).
    virtual Task<void> handle(Exchange& ex) = 0;
    // Renders protocol-level errors (malformed HTTP, body or header too large) in the API's
    // error envelope.
    virtual Response protocol_error(int status, std::string_view message) = 0;
    // Called with the request head before the body is read. A response returned here is sent
    // at once and the connection closed, so an unauthenticated client cannot make the gateway
    // buffer a large body. Default: accept.
    virtual std::optional<Response> screen_head(const Request& head) {
        (void)head;
        return std::nullopt;
    }
};

struct ServerOptions {
    std::string host = "0.0.0.0";
    std::uint16_t port = 4000;
    int num_workers = 1;
    ServerLimits limits;
};

// One thread, one io_context, one acceptor. Sessions accepted here stay here.
class Worker {
public:
    Worker(int index, const ServerLimits& limits, RequestHandler& handler);
    ~Worker();
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;

    net::io_context& io() { return io_; }
    int index() const { return index_; }
    Status open(const tcp::endpoint& ep);  // bind with SO_REUSEPORT
    std::uint16_t local_port() const;
    void start();           // spawns the accept loop and the thread
    void begin_drain();     // thread-safe: stop accepting, close idle connections
    void force_close();     // thread-safe: close every connection, busy or not
    void stop_and_join();   // thread-safe
    std::size_t active_connections() const { return active_.load(); }
    std::uint64_t refused_connections() const { return refused_.load(); }
    bool draining() const { return draining_.load(std::memory_order_relaxed); }
    // Client watches waiting for the next watch tick to be armed (intrusive list; worker thread
    // only; used by Exchange).
    void defer_watch(ClientWatch* w);
    void drop_watch(ClientWatch* w);

private:
    friend class Exchange;
    Task<void> accept_loop();
    Task<void> session(tcp::socket sock);
    void on_watch_tick();

    int index_;
    const ServerLimits& limits_;
    RequestHandler& handler_;
    // Declared before io_ so that they outlive it: destroying the io_context destroys any
    // session coroutine still suspended, and those unregister themselves here.
    std::atomic<std::size_t> active_{0};
    std::atomic<std::uint64_t> refused_{0};
    std::atomic<bool> draining_{false};
    std::list<SessionEntry*> sessions_;  // touched only on this worker's thread
    ClientWatch* deferred_watches_ = nullptr;  // also unlinked from by destroyed sessions
    bool watch_tick_running_ = false;
    // One thread runs it and owns its sockets and timers (other threads only post to it), so
    // the reactor's per-socket locking is off; the scheduler's stays for those posts.
    net::io_context io_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
    tcp::acceptor acceptor_{io_};
    net::steady_timer watch_tick_{io_};
    std::thread thread_;
};

class Server {
public:
    Server(ServerOptions opts, RequestHandler& handler);
    ~Server();

    // Binds every worker's acceptor. Returns the bound port (useful with port 0).
    Result<std::uint16_t> listen();
    void start();
    void begin_drain();
    // Waits until no connection is active or the deadline passes. True when idle.
    bool wait_idle(Duration max_wait);
    // Joins the worker threads; io_contexts live until the Server is destroyed.
    void stop();
    std::size_t active_connections() const;
    std::size_t worker_count() const { return workers_.size(); }
    std::uint64_t refused_connections() const;
    net::io_context& worker_io(std::size_t i) { return workers_[i]->io(); }

private:
    ServerOptions opts_;
    RequestHandler& handler_;
    std::vector<std::unique_ptr<Worker>> workers_;
    bool stopped_ = false;
};

}  // namespace sy::http
