// TimedStream: per-operation deadlines swept by one timer per io_context (the replacement of
// beast::tcp_stream), and the server's idle and read timeouts that rest on it.
#include "sy/http/timed_stream.hpp"

#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <optional>

#include "sy/http/server.hpp"
#include "ok_handler.hpp"
#include "support/http_client.hpp"

namespace sy::http {
namespace {

using namespace std::chrono_literals;

// A connected pair of sockets on loopback: `server` wrapped in a TimedStream, `peer` raw.
struct Pair {
    net::io_context io;
    tcp::acceptor acc{io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)};
    tcp::socket peer{io};
    std::optional<TimedStream> server;

    Pair() {
        peer.connect(acc.local_endpoint());
        server.emplace(acc.accept());
    }
};

struct ReadResult {
    boost::system::error_code ec;
    std::size_t n = 0;
    Clock::time_point at{};
    bool done = false;
};

// Runs `io` until `done` (the sweeper's timer may stay armed for a later deadline, so the
// io_context does not run out of work by itself), at most `limit`.
void run_until(net::io_context& io, const bool& done, Clock::duration limit = 5s) {
    auto until = Clock::now() + limit;
    while (!done && Clock::now() < until) {
        io.run_one_until(until);
    }
}

Task<void> read_into(TimedStream& s, std::array<char, 64>& buf, ReadResult& r) {
    auto [ec, n] = co_await s.async_read_some(net::buffer(buf), kNoThrow);
    r.ec = ec;
    r.n = n;
    r.at = Clock::now();
    r.done = true;
}

Task<void> write_into(TimedStream& s, std::string_view text, ReadResult& r) {
    auto [ec, n] = co_await net::async_write(s, net::buffer(text), kNoThrow);
    r.ec = ec;
    r.n = n;
    r.done = true;
}

TEST(TimedStream, ReadPastItsDeadlineTimesOutAndClosesTheSocket) {
    Pair p;
    std::array<char, 64> buf{};
    ReadResult r;
    auto t0 = Clock::now();
    p.server->expires_after(150ms);
    net::co_spawn(p.io, read_into(*p.server, buf, r), net::detached);
    run_until(p.io, r.done);
    ASSERT_TRUE(r.done);
    EXPECT_EQ(r.ec, beast::error::timeout) << r.ec.message();
    EXPECT_GE(r.at - t0, 150ms);
    EXPECT_LT(r.at - t0, 2s);
    EXPECT_FALSE(p.server->socket().is_open());
    EXPECT_EQ(DeadlineService::of(p.server->get_executor()).watched(), 0u);
}

TEST(TimedStream, DataBeforeTheDeadlineCompletesNormally) {
    Pair p;
    std::array<char, 64> buf{};
    ReadResult r;
    p.server->expires_after(2s);
    net::co_spawn(p.io, read_into(*p.server, buf, r), net::detached);
    net::write(p.peer, net::buffer(std::string_view("hello")));
    run_until(p.io, r.done);
    ASSERT_TRUE(r.done);
    EXPECT_FALSE(r.ec) << r.ec.message();
    EXPECT_EQ(std::string_view(buf.data(), r.n), "hello");
    EXPECT_TRUE(p.server->socket().is_open());
    // The completed operation left the watch list.
    EXPECT_EQ(DeadlineService::of(p.server->get_executor()).watched(), 0u);
}

TEST(TimedStream, NoDeadlineNeverTimesOut) {
    Pair p;
    std::array<char, 64> buf{};
    ReadResult r;
    p.server->expires_after(50ms);
    p.server->expires_never();
    net::co_spawn(p.io, read_into(*p.server, buf, r), net::detached);
    p.io.run_for(300ms);
    EXPECT_FALSE(r.done);  // still waiting
    net::write(p.peer, net::buffer(std::string_view("x")));
    run_until(p.io, r.done);
    ASSERT_TRUE(r.done);
    EXPECT_FALSE(r.ec);
}

TEST(TimedStream, EachStreamExpiresAtItsOwnDeadline) {
    Pair a;
    // A second pair on the same io_context: one DeadlineService watches both.
    tcp::acceptor acc(a.io, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0));
    tcp::socket peer_b(a.io);
    peer_b.connect(acc.local_endpoint());
    TimedStream b(acc.accept());
    std::array<char, 64> buf_a{}, buf_b{};
    ReadResult ra, rb;
    auto t0 = Clock::now();
    a.server->expires_after(100ms);
    b.expires_after(400ms);
    net::co_spawn(a.io, read_into(*a.server, buf_a, ra), net::detached);
    net::co_spawn(a.io, read_into(b, buf_b, rb), net::detached);
    run_until(a.io, rb.done);
    ASSERT_TRUE(ra.done && rb.done);
    EXPECT_EQ(ra.ec, beast::error::timeout);
    EXPECT_EQ(rb.ec, beast::error::timeout);
    EXPECT_GE(ra.at - t0, 100ms);
    EXPECT_LT(ra.at - t0, 400ms);  // the earlier deadline did not wait for the later one
    EXPECT_GE(rb.at - t0, 400ms);
}

TEST(TimedStream, ADeadlineLoweredWhileAReadIsPendingAppliesToIt) {
    Pair p;
    std::array<char, 64> buf{};
    ReadResult r;
    auto t0 = Clock::now();
    p.server->expires_after(30s);
    net::co_spawn(p.io, read_into(*p.server, buf, r), net::detached);
    p.io.poll();  // the read is pending, the sweeper asleep until +30 s
    p.server->expires_after(100ms);
    run_until(p.io, r.done);
    ASSERT_TRUE(r.done);
    EXPECT_EQ(r.ec, beast::error::timeout);
    EXPECT_LT(r.at - t0, 2s);
}

TEST(TimedStream, CloseWithoutDeadlineIsAnAbortNotATimeout) {
    Pair p;
    std::array<char, 64> buf{};
    ReadResult r;
    p.server->expires_after(30s);
    net::co_spawn(p.io, read_into(*p.server, buf, r), net::detached);
    p.io.poll();
    p.server->close();
    run_until(p.io, r.done);
    ASSERT_TRUE(r.done);
    EXPECT_EQ(r.ec, net::error::operation_aborted) << r.ec.message();
}

TEST(TimedStream, WritesAreTimedToo) {
    Pair p;
    // The peer never reads: the write blocks once the socket buffers are full.
    std::string big(32 * 1024 * 1024, 'x');
    ReadResult r;
    p.server->expires_after(200ms);
    net::co_spawn(p.io, write_into(*p.server, big, r), net::detached);
    run_until(p.io, r.done);
    ASSERT_TRUE(r.done);
    EXPECT_EQ(r.ec, beast::error::timeout) << r.ec.message();
    EXPECT_LT(r.n, big.size());
}

// ---------------- the server's timeouts ----------------

using test_support::OkHandler;

// How long the server takes to close `c`'s connection (a server that never closes it leaves the
// blocking read waiting; the test binary's ctest TIMEOUT ends the run).
Clock::duration time_until_closed(test::HttpClient& c) {
    auto t0 = Clock::now();
    EXPECT_TRUE(c.server_closed());
    return Clock::now() - t0;
}

struct TimedServer {
    OkHandler handler;
    Server server;
    std::uint16_t port = 0;

    explicit TimedServer(ServerLimits limits) : server(options(limits), handler) {
        auto p = server.listen();
        EXPECT_TRUE(p);
        port = p ? *p : 0;
        server.start();
    }
    ~TimedServer() { server.stop(); }

    static ServerOptions options(ServerLimits limits) {
        ServerOptions o;
        o.host = "127.0.0.1";
        o.port = 0;
        o.num_workers = 1;
        o.limits = limits;
        return o;
    }
};

TEST(ServerTimeouts, AnIdleKeepAliveConnectionIsClosedAfterTheIdleTimeout) {
    ServerLimits limits;
    limits.idle_timeout = 300ms;
    TimedServer s(limits);
    test::HttpClient c(s.port);
    ASSERT_EQ(c.get("/").status, 200);
    auto waited = time_until_closed(c);
    EXPECT_GE(waited, 250ms);
    EXPECT_LT(waited, 5s);
}

TEST(ServerTimeouts, ARequestThatStopsHalfWayIsClosedAfterTheReadTimeout) {
    ServerLimits limits;
    limits.read_timeout = 300ms;
    limits.idle_timeout = 30s;
    TimedServer s(limits);
    test::HttpClient c(s.port);
    net::write(c.stream().socket(), net::buffer(std::string_view("GET / HTTP/1.1\r\nHost: x\r\n")));
    auto waited = time_until_closed(c);
    EXPECT_GE(waited, 250ms);
    EXPECT_LT(waited, 5s);
}

TEST(ServerTimeouts, ABusyConnectionIsNotClosedByAnEarlierDeadline) {
    // Requests keep arriving well within every timeout: none of the deadlines that were set
    // (and pushed forward) along the way closes the connection.
    ServerLimits limits;
    limits.idle_timeout = 200ms;
    limits.read_timeout = 200ms;
    TimedServer s(limits);
    test::HttpClient c(s.port);
    auto until = Clock::now() + 600ms;
    int n = 0;
    while (Clock::now() < until) {
        ASSERT_EQ(c.get("/").status, 200) << "request " << n;
        ++n;
    }
    EXPECT_GT(n, 10);
}

}  // namespace
}  // namespace sy::http
