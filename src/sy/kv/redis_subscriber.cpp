#include "sy/kv/redis_subscriber.hpp"

#include "sy/kv/hiredis_conn.hpp"

#include <hiredis/hiredis.h>
#include <poll.h>

#include <chrono>

namespace sy::kv {
namespace {

constexpr int kPollSliceMs = 200;

struct Ctx {
    redisContext* c = nullptr;
    ~Ctx() {
        if (c != nullptr) {
            redisFree(c);
        }
    }
};

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
    std::string why;
    Ctx ctx;
    ctx.c = detail::open_connection(opts_, why);
    if (ctx.c == nullptr) {
        return !stopping_;
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
