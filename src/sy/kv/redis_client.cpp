#include "sy/kv/redis_client.hpp"

#include "sy/kv/hiredis_conn.hpp"

#include <hiredis/hiredis.h>
#include <openssl/evp.h>

#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <sys/time.h>
#include <thread>

#include <boost/asio/use_awaitable.hpp>

namespace sy::kv {

namespace {

Error unavailable(std::string why) {
    return Error::make(Errc::kServiceUnavailable, "redis: " + std::move(why));
}

using detail::convert;

struct ReplyPtr {
    redisReply* r = nullptr;
    ~ReplyPtr() {
        if (r != nullptr) {
            freeReplyObject(r);
        }
    }
};

class PromiseCompletion final : public RedisClient::Completion {
public:
    explicit PromiseCompletion(std::promise<Result<RedisReply>>& p) : p_(p) {}
    void complete(Result<RedisReply> r) override { p_.set_value(std::move(r)); }

private:
    std::promise<Result<RedisReply>>& p_;
};

class IgnoreCompletion final : public RedisClient::Completion {
public:
    void complete(Result<RedisReply>) override {}
};

}  // namespace

Result<RedisOptions> RedisOptions::from_url(std::string_view url) {
    RedisOptions o;
    constexpr std::string_view kScheme = "redis://";
    if (!url.starts_with(kScheme)) {
        return Error::make(Errc::kBadRequest, "redis url: expected redis://host[:port][/db]");
    }
    std::string_view rest = url.substr(kScheme.size());
    if (auto at = rest.rfind('@'); at != std::string_view::npos) {
        std::string_view cred = rest.substr(0, at);
        rest = rest.substr(at + 1);
        if (auto colon = cred.find(':'); colon != std::string_view::npos) {
            o.username = std::string(cred.substr(0, colon));
            o.password = std::string(cred.substr(colon + 1));
        } else {
            o.password = std::string(cred);
        }
    }
    if (auto slash = rest.find('/'); slash != std::string_view::npos) {
        std::string_view db = rest.substr(slash + 1);
        rest = rest.substr(0, slash);
        if (!db.empty()) {
            auto [p, ec] = std::from_chars(db.data(), db.data() + db.size(), o.db);
            if (ec != std::errc() || p != db.data() + db.size() || o.db < 0) {
                return Error::make(Errc::kBadRequest, "redis url: bad database number");
            }
        }
    }
    if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
        std::string_view port = rest.substr(colon + 1);
        auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), o.port);
        if (ec != std::errc() || p != port.data() + port.size() || o.port <= 0 ||
            o.port > 65535) {
            return Error::make(Errc::kBadRequest, "redis url: bad port");
        }
        rest = rest.substr(0, colon);
    }
    if (rest.empty()) {
        return Error::make(Errc::kBadRequest, "redis url: missing host");
    }
    o.host = std::string(rest);
    return o;
}

RedisScript::RedisScript(std::string body) : body_(std::move(body)) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(body_.data(), body_.size(), md, &len, EVP_sha1(), nullptr);
    static constexpr char kHex[] = "0123456789abcdef";
    sha1_.reserve(2 * len);
    for (unsigned int i = 0; i < len; ++i) {
        sha1_.push_back(kHex[md[i] >> 4]);
        sha1_.push_back(kHex[md[i] & 0xf]);
    }
}

struct RedisClient::Impl {
    struct Job {
        std::vector<std::string> argv;
        std::string script_body;
        std::unique_ptr<Completion> done;
    };

    RedisOptions opts;
    std::mutex mu;
    std::condition_variable cv;
    std::deque<Job> queue;
    bool stopping = false;
    std::atomic<bool> up{false};
    std::thread thread;

    // I/O thread only.
    redisContext* ctx = nullptr;
    std::chrono::steady_clock::time_point next_attempt{};

    ~Impl() {
        if (ctx != nullptr) {
            redisFree(ctx);
        }
    }

    void drop_connection() {
        if (ctx != nullptr) {
            redisFree(ctx);
            ctx = nullptr;
        }
        up = false;
        next_attempt = std::chrono::steady_clock::now() + opts.reconnect_backoff;
    }

    // Synchronous round trip on the connection (NOSCRIPT retries).
    redisReply* run(const std::vector<std::string>& argv) { return detail::run_argv(ctx, argv); }

    bool ensure_connected(std::string& why) {
        if (ctx != nullptr) {
            return true;
        }
        if (std::chrono::steady_clock::now() < next_attempt) {
            why = "not connected (retrying)";
            return false;
        }
        ctx = detail::open_connection(opts, why);
        if (ctx == nullptr) {
            drop_connection();
            return false;
        }
        up = true;
        return true;
    }

    void process(std::vector<Job>& batch) {
        std::string why;
        if (!ensure_connected(why)) {
            for (Job& j : batch) {
                j.done->complete(unavailable(why));
            }
            return;
        }
        for (const Job& j : batch) {
            std::vector<const char*> ptrs;
            std::vector<std::size_t> lens;
            for (const auto& a : j.argv) {
                ptrs.push_back(a.data());
                lens.push_back(a.size());
            }
            redisAppendCommandArgv(ctx, static_cast<int>(j.argv.size()), ptrs.data(),
                                   lens.data());
        }
        std::size_t i = 0;
        for (; i < batch.size(); ++i) {
            ReplyPtr r;
            if (redisGetReply(ctx, reinterpret_cast<void**>(&r.r)) != REDIS_OK || r.r == nullptr) {
                break;
            }
            Job& j = batch[i];
            if (!j.script_body.empty() && r.r->type == REDIS_REPLY_ERROR &&
                std::string_view(r.r->str, r.r->len).starts_with("NOSCRIPT")) {
                continue;  // re-sent as EVAL below, after the pipeline is drained
            }
            j.done->complete(convert(r.r));
            j.done.reset();
        }
        if (i < batch.size()) {
            std::string err = ctx->errstr[0] != '\0' ? ctx->errstr : "connection lost";
            drop_connection();
            for (; i < batch.size(); ++i) {
                if (batch[i].done) {
                    batch[i].done->complete(unavailable(err));
                    batch[i].done.reset();
                }
            }
        }
        for (Job& j : batch) {
            if (!j.done) {
                continue;
            }
            std::string err = "connection lost";
            if (ctx != nullptr) {
                std::vector<std::string> argv = j.argv;
                argv[0] = "EVAL";
                argv[1] = j.script_body;
                ReplyPtr r{run(argv)};
                if (r.r != nullptr) {
                    j.done->complete(convert(r.r));
                    continue;
                }
                err = ctx->errstr;
                drop_connection();
            }
            j.done->complete(unavailable(err));
        }
    }

    void loop() {
        std::vector<Job> batch;
        for (;;) {
            {
                std::unique_lock lock(mu);
                cv.wait(lock, [&] { return stopping || !queue.empty(); });
                if (stopping) {
                    break;
                }
                while (!queue.empty() && batch.size() < opts.max_batch) {
                    batch.push_back(std::move(queue.front()));
                    queue.pop_front();
                }
            }
            process(batch);
            batch.clear();
        }
        std::deque<Job> rest;
        {
            std::lock_guard lock(mu);
            rest.swap(queue);
        }
        for (Job& j : rest) {
            j.done->complete(unavailable("client stopped"));
        }
    }
};

RedisClient::RedisClient(RedisOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->opts = std::move(options);
    impl_->opts.max_batch = std::max<std::size_t>(impl_->opts.max_batch, 1);
    impl_->thread = std::thread([impl = impl_.get()] { impl->loop(); });
}

RedisClient::~RedisClient() {
    {
        std::lock_guard lock(impl_->mu);
        impl_->stopping = true;
    }
    impl_->cv.notify_one();
    impl_->thread.join();
}

bool RedisClient::connected() const { return impl_->up.load(); }

void RedisClient::submit(std::vector<std::string> argv,
                         std::string script_body,
                         std::unique_ptr<Completion> done) {
    if (argv.empty()) {
        done->complete(Error::make(Errc::kBadRequest, "redis: empty command"));
        return;
    }
    {
        std::lock_guard lock(impl_->mu);
        if (!impl_->stopping && impl_->queue.size() < impl_->opts.max_queue) {
            impl_->queue.push_back({std::move(argv), std::move(script_body), std::move(done)});
            impl_->cv.notify_one();
            return;
        }
    }
    done->complete(unavailable("queue full"));
}

boost::asio::awaitable<Result<RedisReply>> RedisClient::command(std::vector<std::string> argv) {
    co_return co_await async_command(std::move(argv), std::string(), boost::asio::use_awaitable);
}

namespace {
std::vector<std::string> evalsha_argv(const RedisScript& script,
                                      std::vector<std::string>& keys,
                                      std::vector<std::string>& args) {
    std::vector<std::string> argv;
    argv.reserve(3 + keys.size() + args.size());
    argv.emplace_back("EVALSHA");
    argv.push_back(script.sha1());
    argv.push_back(std::to_string(keys.size()));
    for (auto& k : keys) {
        argv.push_back(std::move(k));
    }
    for (auto& a : args) {
        argv.push_back(std::move(a));
    }
    return argv;
}
}  // namespace

boost::asio::awaitable<Result<RedisReply>> RedisClient::eval(const RedisScript& script,
                                                            std::vector<std::string> keys,
                                                            std::vector<std::string> args) {
    co_return co_await async_command(evalsha_argv(script, keys, args), script.body(),
                                     boost::asio::use_awaitable);
}

void RedisClient::eval_detached(const RedisScript& script,
                                std::vector<std::string> keys,
                                std::vector<std::string> args) {
    submit(evalsha_argv(script, keys, args), script.body(), std::make_unique<IgnoreCompletion>());
}

Result<RedisReply> RedisClient::command_blocking(std::vector<std::string> argv) {
    std::promise<Result<RedisReply>> p;
    auto f = p.get_future();
    submit(std::move(argv), std::string(), std::make_unique<PromiseCompletion>(p));
    return f.get();
}

}  // namespace sy::kv
