// The Redis client and the Redis rate limiter against a real redis-server started on a free
// port in a temporary directory (no persistence). Skipped only when redis-server is absent
// (scripts/install-deps.sh installs it).
#include "sy/ratelimit/redis_limiter.hpp"  // self-contained header check

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <csignal>
#include <filesystem>
#include <netinet/in.h>
#include <optional>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/thread_pool.hpp>

#include "sy/kv/redis_client.hpp"
#include "unit/ratelimit/fake_clock.hpp"

namespace sy {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace net = boost::asio;
using ratelimit::Descriptor;
using ratelimit::Limits;
using ratelimit::RedisLimiter;
using ratelimit::Request;
using ratelimit::Reservation;

std::optional<std::string> find_redis_server() {
    if (const char* env = std::getenv("REDIS_SERVER")) {
        return std::string(env);
    }
    for (const char* dir : {"/usr/bin", "/usr/local/bin", "/usr/sbin"}) {
        fs::path p = fs::path(dir) / "redis-server";
        if (fs::exists(p)) {
            return p.string();
        }
    }
    return std::nullopt;
}

int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

// One redis-server child process.
class RedisServer {
public:
    bool start(const std::string& binary, int port) {
        port_ = port;
        if (dir_.empty()) {
            char tmpl[] = "/tmp/sy-redis-XXXXXX";
            dir_ = ::mkdtemp(tmpl);
        }
        const std::string log = dir_ + "/redis.log";
        pid_ = ::fork();
        if (pid_ == 0) {
            std::string p = std::to_string(port);
            ::execl(binary.c_str(), binary.c_str(), "--port", p.c_str(), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--dir", dir_.c_str(), "--daemonize",
                    "no", "--loglevel", "warning", "--logfile", log.c_str(),
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
        kv::RedisOptions o;
        o.port = port;
        o.reconnect_backoff = 0ms;
        kv::RedisClient probe(o);
        for (int i = 0; i < 200; ++i) {  // up to 10 s for the server to listen
            auto r = probe.command_blocking({"PING"});
            if (r && r->str == "PONG") {
                return true;
            }
            std::this_thread::sleep_for(50ms);
        }
        return false;
    }
    void stop() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
    }
    ~RedisServer() {
        stop();
        if (!dir_.empty()) {
            std::error_code ec;
            fs::remove_all(dir_, ec);
        }
    }
    int port() const { return port_; }

private:
    pid_t pid_ = -1;
    int port_ = 0;
    std::string dir_;
};

class RedisTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() {
        auto bin = find_redis_server();
        if (!bin) {
            return;
        }
        binary_ = *bin;
        server_ = new RedisServer();
        if (!server_->start(binary_, free_port())) {
            delete server_;
            server_ = nullptr;
        }
    }
    static void TearDownTestSuite() {
        delete server_;
        server_ = nullptr;
    }
    void SetUp() override {
        if (binary_.empty()) {
            GTEST_SKIP() << "redis-server not installed";
        }
        ASSERT_NE(server_, nullptr) << "redis-server did not start";
        client_ = std::make_unique<kv::RedisClient>(options());
        ASSERT_TRUE(client_->command_blocking({"FLUSHALL"}));
    }
    static kv::RedisOptions options() {
        kv::RedisOptions o;
        o.port = server_->port();
        o.reconnect_backoff = 20ms;
        return o;
    }
    // Waits until every command queued on `c` so far (e.g. detached settles) has run.
    static void drain(kv::RedisClient& c) { ASSERT_TRUE(c.command_blocking({"PING"})); }

    static inline std::string binary_;
    static inline RedisServer* server_ = nullptr;
    std::unique_ptr<kv::RedisClient> client_;
};

template <class T>
net::awaitable<void> store_result(net::awaitable<T> aw, std::optional<T>* out) {
    out->emplace(co_await std::move(aw));
}

template <class T>
T run(net::awaitable<T> aw) {
    net::io_context io;
    std::optional<T> out;
    net::co_spawn(io, store_result(std::move(aw), &out), net::detached);
    io.run();
    return std::move(*out);
}

std::string header(const std::vector<Header>& hs, std::string_view name) {
    for (const Header& h : hs) {
        if (h.name == name) {
            return h.value;
        }
    }
    return "<absent>";
}

Request key_request(Limits l, std::int64_t estimate = 0) {
    Request r;
    r.add(Descriptor::api_key("hash1", l));
    r.estimated_tokens = estimate;
    return r;
}

TEST_F(RedisTest, ClientCommandsErrorsAndScripts) {
    auto set = run(client_->command({"SET", "k", "v w"}));
    ASSERT_TRUE(set);
    EXPECT_EQ(set->str, "OK");
    auto get = run(client_->command({"GET", "k"}));
    ASSERT_TRUE(get);
    EXPECT_EQ(get->type, kv::RedisReply::Type::kString);
    EXPECT_EQ(get->str, "v w");
    auto nil = run(client_->command({"GET", "absent"}));
    ASSERT_TRUE(nil);
    EXPECT_EQ(nil->type, kv::RedisReply::Type::kNil);
    auto err = run(client_->command({"INCR", "k"}));
    ASSERT_TRUE(err);
    EXPECT_TRUE(err->is_error());

    kv::RedisScript script("return {KEYS[1], ARGV[1], 7}");
    EXPECT_EQ(script.sha1().size(), 40U);
    ASSERT_TRUE(client_->command_blocking({"SCRIPT", "FLUSH"}));
    auto ev = run(client_->eval(script, {"a"}, {"b"}));  // NOSCRIPT -> EVAL fallback
    ASSERT_TRUE(ev);
    ASSERT_EQ(ev->type, kv::RedisReply::Type::kArray);
    ASSERT_EQ(ev->elements.size(), 3U);
    EXPECT_EQ(ev->elements[0].str, "a");
    EXPECT_EQ(ev->elements[2].integer, 7);
    auto again = run(client_->eval(script, {"c"}, {"d"}));  // cached now: EVALSHA
    ASSERT_TRUE(again);
    EXPECT_EQ(again->elements[0].str, "c");
}

TEST_F(RedisTest, TwoInstancesSharingRedisBehaveAsOne) {
    ratelimit::test::FakeClock clock;
    kv::RedisClient other_client(options());
    RedisLimiter a(*client_, {}, clock.clock());
    RedisLimiter b(other_client, {}, clock.clock());
    const Limits l{.rpm = 5};
    int admitted = 0;
    for (int i = 0; i < 5; ++i) {
        RedisLimiter& lim = i % 2 == 0 ? a : b;
        auto r = run(lim.check_and_reserve(key_request(l)));
        ASSERT_TRUE(r) << i << ": " << r.error().message;
        ++admitted;
        EXPECT_EQ(header(r->headers(), "x-ratelimit-api_key-remaining-requests"),
                  std::to_string(5 - admitted));
        clock.advance(1s);
    }
    clock.advance(500ms);  // t = 5.5 s
    for (RedisLimiter* lim : {&a, &b}) {
        auto r = run(lim->check_and_reserve(key_request(l)));  // the (N+1)-th, on either
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().http_status(), 429);
        EXPECT_EQ(header(r.error().headers, "retry-after"), "55");  // first one leaves at 60 s
        EXPECT_EQ(header(r.error().headers, "rate_limit_type"), "requests");
        EXPECT_EQ(header(r.error().headers, "x-ratelimit-api_key-remaining-requests"), "0");
    }
    EXPECT_TRUE(a.redis_up());
    clock.advance(54500ms);  // t = 60 s: the first request has left the window
    EXPECT_TRUE(run(b.check_and_reserve(key_request(l))));
    EXPECT_FALSE(run(a.check_and_reserve(key_request(l))));
}

TEST_F(RedisTest, TokensReserveAndSettleAcrossInstances) {
    ratelimit::test::FakeClock clock;
    kv::RedisClient other_client(options());
    RedisLimiter a(*client_, {}, clock.clock());
    RedisLimiter b(other_client, {}, clock.clock());
    const Limits l{.tpm = 100};
    auto r1 = run(a.check_and_reserve(key_request(l, 60)));
    ASSERT_TRUE(r1);
    EXPECT_EQ(header(r1->headers(), "x-ratelimit-api_key-remaining-tokens"), "40");
    auto r2 = run(b.check_and_reserve(key_request(l, 60)));
    ASSERT_TRUE(r2);  // used 60 < 100: admitted, may overshoot by itself
    auto r3 = run(a.check_and_reserve(key_request(l, 1)));
    ASSERT_FALSE(r3);
    EXPECT_EQ(header(r3.error().headers, "rate_limit_type"), "tokens");
    r1->settle(10);  // 50 back
    r2->cancel();    // 60 back
    drain(*client_);
    drain(other_client);
    auto r4 = run(b.check_and_reserve(key_request(l, 0)));
    ASSERT_TRUE(r4);
    EXPECT_EQ(header(r4->headers(), "x-ratelimit-api_key-remaining-tokens"), "90");
    r4->settle(500);
    drain(other_client);
    clock.advance(2s);
    auto r5 = run(a.check_and_reserve(key_request(l, 0)));
    ASSERT_FALSE(r5);
    EXPECT_EQ(header(r5.error().headers, "retry-after"), "58");
}

TEST_F(RedisTest, ParallelSlotsAreSharedReleasedAndLeased) {
    ratelimit::test::FakeClock clock;
    kv::RedisClient other_client(options());
    RedisLimiter a(*client_, {}, clock.clock());
    RedisLimiter b(other_client, {}, clock.clock());
    Request req = key_request({.max_parallel = 2});
    req.lease = 10s;
    auto s1 = run(a.check_and_reserve(req));
    auto s2 = run(b.check_and_reserve(req));
    ASSERT_TRUE(s1);
    ASSERT_TRUE(s2);
    auto s3 = run(a.check_and_reserve(req));
    ASSERT_FALSE(s3);
    EXPECT_EQ(header(s3.error().headers, "rate_limit_type"), "max_parallel_requests");
    EXPECT_EQ(header(s3.error().headers, "retry-after"), "1");
    s1 = Reservation{};  // released (destroyed without settle)
    drain(*client_);
    auto s4 = run(b.check_and_reserve(req));
    ASSERT_TRUE(s4);
    // A crashed instance: its slots come back when their lease expires.
    s2.value() = Reservation{};
    drain(other_client);
    auto leaked = run(a.check_and_reserve(req));  // held, as by an instance that then crashes
    ASSERT_TRUE(leaked);
    EXPECT_FALSE(run(a.check_and_reserve(req)));
    clock.advance(11s);
    auto after_lease = run(a.check_and_reserve(req));
    EXPECT_TRUE(after_lease);
}

TEST_F(RedisTest, AdmissionIsAtomicAcrossScopes) {
    ratelimit::test::FakeClock clock;
    RedisLimiter lim(*client_, {}, clock.clock());
    auto req = [] {
        Request r;
        r.add(Descriptor::api_key("k", {.rpm = 10}));
        r.add(Descriptor::user("u", {.rpm = 1}));
        return r;
    };
    ASSERT_TRUE(run(lim.check_and_reserve(req())));
    for (int i = 0; i < 3; ++i) {
        auto r = run(lim.check_and_reserve(req()));
        ASSERT_FALSE(r);
        EXPECT_NE(r.error().message.find("for user: u."), std::string::npos);
    }
    Request key_only;
    key_only.add(Descriptor::api_key("k", {.rpm = 10}));
    auto k = run(lim.check_and_reserve(key_only));
    ASSERT_TRUE(k);
    EXPECT_EQ(header(k->headers(), "x-ratelimit-api_key-remaining-requests"), "8");
}

net::awaitable<void> hammer(ratelimit::Limiter& lim, std::atomic<int>& admitted, int n) {
    for (int i = 0; i < n; ++i) {
        Request r;
        r.add(Descriptor::api_key("shared", {.rpm = 50, .tpm = 1000000, .max_parallel = 1000}));
        r.estimated_tokens = 3;
        auto res = co_await lim.check_and_reserve(std::move(r));
        if (res) {
            admitted.fetch_add(1);
            res->settle(4);
        }
    }
}

TEST_F(RedisTest, ConcurrentCoroutinesOnTwoInstancesNeverExceedTheLimit) {
    ratelimit::test::FakeClock clock;
    kv::RedisClient other_client(options());
    RedisLimiter a(*client_, {}, clock.clock());
    RedisLimiter b(other_client, {}, clock.clock());
    std::atomic<int> admitted{0};
    net::thread_pool pool(4);
    for (int i = 0; i < 16; ++i) {
        net::co_spawn(pool, hammer(i % 2 == 0 ? a : b, admitted, 20), net::detached);
    }
    pool.join();
    EXPECT_EQ(admitted.load(), 50);
}

TEST_F(RedisTest, FailOpenAndFailClosedWhenRedisIsDown) {
    kv::RedisOptions dead;
    dead.port = free_port();  // nothing listens there
    dead.connect_timeout = 200ms;
    kv::RedisClient down(dead);
    ratelimit::test::FakeClock clock;
    RedisLimiter open(down, {}, clock.clock());
    auto r = run(open.check_and_reserve(key_request({.rpm = 1})));
    EXPECT_TRUE(r);  // admitted by the local fallback
    EXPECT_FALSE(open.redis_up());
    EXPECT_FALSE(run(open.check_and_reserve(key_request({.rpm = 1}))));  // local limits still hold
    RedisLimiter closed(down, {.fail_closed = true}, clock.clock());
    auto c = run(closed.check_and_reserve(key_request({.rpm = 1})));
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().http_status(), 503);
    EXPECT_FALSE(down.connected());
}

TEST_F(RedisTest, ClientReconnectsAfterARedisRestart) {
    RedisServer own;
    const int port = free_port();
    ASSERT_TRUE(own.start(binary_, port));
    kv::RedisOptions o;
    o.port = port;
    o.reconnect_backoff = 10ms;
    o.command_timeout = 300ms;
    kv::RedisClient c(o);
    ASSERT_TRUE(c.command_blocking({"SET", "x", "1"}));
    EXPECT_TRUE(c.connected());
    own.stop();
    auto failed = c.command_blocking({"GET", "x"});
    ASSERT_FALSE(failed);
    EXPECT_EQ(failed.error().code, Errc::kServiceUnavailable);
    EXPECT_FALSE(c.connected());
    ASSERT_TRUE(own.start(binary_, port));  // start() itself polls until PING answers
    std::this_thread::sleep_for(20ms);      // past the client's reconnect backoff
    auto ok = c.command_blocking({"PING"});
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->str, "PONG");
    EXPECT_TRUE(c.connected());
}

}  // namespace
}  // namespace sy
