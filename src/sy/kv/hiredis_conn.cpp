#include "sy/kv/hiredis_conn.hpp"

namespace sy::kv::detail {

timeval to_timeval(std::chrono::milliseconds ms) {
    timeval tv{};
    tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
    tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
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
            out.elements.reserve(r->elements);
            for (std::size_t i = 0; i < r->elements; ++i) {
                out.elements.push_back(convert(r->element[i]));
            }
            break;
        default:
            out.type = RedisReply::Type::kNil;
            break;
    }
    return out;
}

redisReply* run_argv(redisContext* ctx, const std::vector<std::string>& argv) {
    std::vector<const char*> ptrs;
    std::vector<std::size_t> lens;
    ptrs.reserve(argv.size());
    lens.reserve(argv.size());
    for (const auto& a : argv) {
        ptrs.push_back(a.data());
        lens.push_back(a.size());
    }
    return static_cast<redisReply*>(
        redisCommandArgv(ctx, static_cast<int>(argv.size()), ptrs.data(), lens.data()));
}

redisContext* open_connection(const RedisOptions& opts, std::string& why) {
    redisContext* ctx =
        redisConnectWithTimeout(opts.host.c_str(), opts.port, to_timeval(opts.connect_timeout));
    if (ctx == nullptr || ctx->err != 0) {
        why = "connect " + opts.host + ":" + std::to_string(opts.port) + ": " +
              (ctx != nullptr ? ctx->errstr : "out of memory");
        if (ctx != nullptr) {
            redisFree(ctx);
        }
        return nullptr;
    }
    redisSetTimeout(ctx, to_timeval(opts.command_timeout));
    redisEnableKeepAlive(ctx);
    std::vector<std::vector<std::string>> setup;
    if (!opts.password.empty()) {
        if (opts.username.empty()) {
            setup.push_back({"AUTH", opts.password});
        } else {
            setup.push_back({"AUTH", opts.username, opts.password});
        }
    }
    if (opts.db != 0) {
        setup.push_back({"SELECT", std::to_string(opts.db)});
    }
    for (const auto& cmd : setup) {
        redisReply* r = run_argv(ctx, cmd);
        bool failed = r == nullptr || r->type == REDIS_REPLY_ERROR;
        if (r != nullptr) {
            freeReplyObject(r);
        }
        if (failed) {
            why = cmd[0] + " failed";  // never the password
            redisFree(ctx);
            return nullptr;
        }
    }
    return ctx;
}

}  // namespace sy::kv::detail
