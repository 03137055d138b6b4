#pragma once
// A small Redis client for shared counters (rate limits, budgets, cooldowns; README D10).
//
// Threading model (chosen deliberately): hiredis 0.14 (Debian bookworm) has no Asio adapter, so
// the client owns ONE dedicated I/O thread with one blocking hiredis connection. Coroutines on
// the worker threads never touch the socket: command() queues the command and suspends; the
// I/O thread sends every queued command in one pipelined write, reads the replies, and posts
// each completion back to the awaiting coroutine's executor. Under load this batches many
// requests into one round trip; idle, it costs one round trip per command. A worker thread
// never blocks on Redis.
//
// Bounds: connect and per-command socket timeouts, a capped queue (a full queue fails at once
// with kServiceUnavailable), a capped batch size. After a connection failure the client waits
// `reconnect_backoff` before trying again and fails commands immediately meanwhile, so a dead
// Redis costs callers nothing but a fast error (callers decide fail-open or fail-closed).
//
// Thread safety: all public methods are thread-safe. The client must outlive every command it
// accepted and every executor it completes on (services outlive sessions by construction).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include "sy/core/error.hpp"

namespace sy::kv {

struct RedisOptions {
    std::string host = "127.0.0.1";
    int port = 6379;
    std::string username;  // ACL user (Redis 6+); empty = default
    std::string password;  // empty = no AUTH
    int db = 0;
    std::chrono::milliseconds connect_timeout{1000};
    std::chrono::milliseconds command_timeout{500};
    std::chrono::milliseconds reconnect_backoff{1000};
    std::size_t max_queue = 16384;
    std::size_t max_batch = 256;

    // redis://[[user]:password@]host[:port][/db]  (rediss:// is refused: no TLS in hiredis 0.14)
    static Result<RedisOptions> from_url(std::string_view url);
};

struct RedisReply {
    enum class Type : std::uint8_t { kNil, kInteger, kString, kStatus, kError, kArray };
    Type type = Type::kNil;
    std::int64_t integer = 0;
    std::string str;  // kString, kStatus, kError
    std::vector<RedisReply> elements;

    bool is_error() const { return type == Type::kError; }
};

// A Lua script, sent with EVALSHA; the client falls back to EVAL on NOSCRIPT (after a Redis
// restart or failover) without the caller noticing.
class RedisScript {
public:
    explicit RedisScript(std::string body);
    const std::string& body() const { return body_; }
    const std::string& sha1() const { return sha1_; }

private:
    std::string body_;
    std::string sha1_;
};

class RedisClient {
public:
    // Starts the I/O thread; connects lazily (the first command), so construction never fails
    // or blocks.
    explicit RedisClient(RedisOptions options);
    ~RedisClient();  // fails queued commands with kServiceUnavailable, joins the thread
    RedisClient(const RedisClient&) = delete;
    RedisClient& operator=(const RedisClient&) = delete;

    // Runs one command (argv[0] is the command name). The result is a Redis error reply as a
    // RedisReply of type kError, or an Error (kServiceUnavailable: not connected, timeout,
    // queue full) when no reply was read. Completes on the caller's executor.
    boost::asio::awaitable<Result<RedisReply>> command(std::vector<std::string> argv);

    // EVALSHA script keys... args..., with the NOSCRIPT fallback.
    boost::asio::awaitable<Result<RedisReply>> eval(const RedisScript& script,
                                                   std::vector<std::string> keys,
                                                   std::vector<std::string> args);

    // Fire and forget (e.g. settling a reservation): queued, result ignored.
    void eval_detached(const RedisScript& script,
                       std::vector<std::string> keys,
                       std::vector<std::string> args);

    // Blocks the calling thread until the reply arrives. For start-up and tests only; never
    // call it on a worker thread.
    Result<RedisReply> command_blocking(std::vector<std::string> argv);

    // True after the last connection attempt or command succeeded.
    bool connected() const;

    // Completion of one queued command; implemented for Asio handlers below.
    class Completion {
    public:
        virtual ~Completion() = default;
        virtual void complete(Result<RedisReply> r) = 0;
    };

    // Asio entry point: completion signature void(Result<RedisReply>).
    template <class Token>
    auto async_command(std::vector<std::string> argv, std::string script_body, Token&& token);

private:
    template <class Handler>
    class HandlerCompletion final : public Completion {
    public:
        explicit HandlerCompletion(Handler h)
            : handler_(std::move(h)),
              work_(boost::asio::make_work_guard(boost::asio::get_associated_executor(handler_))) {}
        void complete(Result<RedisReply> r) override {
            auto ex = boost::asio::get_associated_executor(handler_);
            boost::asio::post(ex, [h = std::move(handler_), r = std::move(r)]() mutable {
                std::move(h)(std::move(r));
            });
            work_.reset();
        }

    private:
        Handler handler_;
        boost::asio::executor_work_guard<boost::asio::associated_executor_t<Handler>> work_;
    };

    // script_body: non-empty for EVALSHA commands (re-sent as EVAL on NOSCRIPT).
    void submit(std::vector<std::string> argv,
                std::string script_body,
                std::unique_ptr<Completion> done);

    struct Impl;
    std::unique_ptr<Impl> impl_;
};

template <class Token>
auto RedisClient::async_command(std::vector<std::string> argv,
                                std::string script_body,
                                Token&& token) {
    return boost::asio::async_initiate<Token, void(Result<RedisReply>)>(
        [this](auto handler, std::vector<std::string> a, std::string body) {
            using H = std::decay_t<decltype(handler)>;
            submit(std::move(a), std::move(body),
                   std::make_unique<HandlerCompletion<H>>(std::move(handler)));
        },
        token, std::move(argv), std::move(script_body));
}

}  // namespace sy::kv
