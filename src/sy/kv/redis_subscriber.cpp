#include "sy/kv/redis_subscriber.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <chrono>

namespace sy::kv {
namespace {

constexpr int kPollSliceMs = 200;

timeval to_tv(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<long>(ms.count() / 1000);
    tv.tv_usec = static_cast<long>((ms.count() % 1000) * 1000);
    return tv;
}

RedisReply convert(const redisReply* r) {
    RedisReply out;
    switch (r->type) {
        case REDIS_REPLY_INTEGER:
            out.type = RedisReply::Type::kInteger;
            out.integer = r->integer;
            break;
        case REDIS_REPLY_STRING:
            out.type = RedisReply::Type::kString;
            out.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_STATUS:
            out.type = RedisReply::Type::kStatus;
            out.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_ERROR:
            out.type = RedisReply::Type::kError;
            out.str.assign(r->str, r->len);
            break;
        case REDIS_REPLY_ARRAY:
            out.type = RedisReply::Type::kArray;
            for (std::size_t i = 0; i < r->elements; ++i) {
                out.elements.push_back(convert(r->element[i]));
            }
            break;
        default:
            break;
    }
    return out;
}

struct Ctx {
    redisContext* c = nullptr;
    ~Ctx() {
        if (c != nullptr) {
            redisFree(c);
        }
    }
};

Result<RedisReply> run_blocking(redisContext* c, const std::vector<std::string>& argv) {
    std::vector<const char*> ptrs;
    std::vector<std::size_t> lens;
    for (const auto& a : argv) {
        ptrs.push_back(a.data());
        lens.push_back(a.size());
    }
    auto* r = static_cast<redisReply*>(
        redisCommandArgv(c, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
    if (r == nullptr) {
        return Error::make(Errc::kServiceUnavailable, "redis: connection lost");
    }
    RedisReply out = convert(r);
    freeReplyObject(r);
    return out;
}

}  // namespace

RedisSubscriber::RedisSubscriber(RedisOptions options, std::vector<std::string> channels,
                                 OnConnect on_connect, OnMessage on_message)
    : opts_(std::move(options)),
      channels_(std::move(channels)),
      on_connect_(std::move(on_connect)),
      on_message_(std::move(on_message)) {}

RedisSubscriber::~RedisSubscriber() { stop(); }

void RedisSubscriber::start() {
    if (!thread_.joinable()) {
        thread_ = std::thread([this] { run(); });
    }
}

void RedisSubscriber::stop() {
    stopping_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
}

void RedisSubscriber::run() {
    while (!stopping_) {
        session();
        subscribed_ = false;
        // Back-off before reconnecting, in slices so stop() stays prompt.
        auto until = std::chrono::steady_clock::now() + opts_.reconnect_backoff;
        while (!stopping_ && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
}

bool RedisSubscriber::session() {
    Ctx ctx;
    ctx.c = redisConnectWithTimeout(opts_.host.c_str(), opts_.port, to_tv(opts_.connect_timeout));
    if (ctx.c == nullptr || ctx.c->err != 0) {
        return !stopping_;
    }
    redisSetTimeout(ctx.c, to_tv(opts_.command_timeout));
    redisEnableKeepAlive(ctx.c);
    auto cmd = [&](const std::vector<std::string>& argv) { return run_blocking(ctx.c, argv); };
    if (!opts_.password.empty()) {
        auto r = opts_.username.empty() ? cmd({"AUTH", opts_.password})
                                        : cmd({"AUTH", opts_.username, opts_.password});
        if (!r || r->is_error()) {
            return !stopping_;
        }
    }
    if (opts_.db != 0) {
        auto r = cmd({"SELECT", std::to_string(opts_.db)});
        if (!r || r->is_error()) {
            return !stopping_;
        }
    }
    std::vector<std::string> sub{"SUBSCRIBE"};
    sub.insert(sub.end(), channels_.begin(), channels_.end());
    {
        std::vector<const char*> ptrs;
        std::vector<std::size_t> lens;
        for (const auto& a : sub) {
            ptrs.push_back(a.data());
            lens.push_back(a.size());
        }
        if (redisAppendCommandArgv(ctx.c, static_cast<int>(sub.size()), ptrs.data(),
                                   lens.data()) != REDIS_OK) {
            return !stopping_;
        }
        // One confirmation per channel (read with the command timeout).
        for (std::size_t i = 0; i < channels_.size(); ++i) {
            void* raw = nullptr;
            if (redisGetReply(ctx.c, &raw) != REDIS_OK || raw == nullptr) {
                return !stopping_;
            }
            freeReplyObject(raw);
        }
    }
    if (on_connect_) {
        on_connect_();
    }
    subscribed_ = true;
    while (!stopping_) {
        // Drain replies already buffered, then wait for the socket.
        void* raw = nullptr;
        if (redisGetReplyFromReader(ctx.c, &raw) != REDIS_OK) {
            return !stopping_;
        }
        if (raw == nullptr) {
            pollfd p{ctx.c->fd, POLLIN, 0};
            int n = ::poll(&p, 1, kPollSliceMs);
            if (n < 0) {
                return !stopping_;
            }
            if (n == 0) {
                continue;
            }
            if (redisBufferRead(ctx.c) != REDIS_OK) {
                return !stopping_;
            }
            continue;
        }
        auto* r = static_cast<redisReply*>(raw);
        if (r->type == REDIS_REPLY_ARRAY && r->elements == 3 &&
            r->element[0]->type == REDIS_REPLY_STRING &&
            std::string_view(r->element[0]->str, r->element[0]->len) == "message" && on_message_) {
            on_message_(std::string_view(r->element[1]->str, r->element[1]->len),
                        std::string_view(r->element[2]->str, r->element[2]->len));
        }
        freeReplyObject(r);
    }
    return false;
}

}  // namespace sy::kv
