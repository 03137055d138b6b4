#pragma once
// Revocation fan-out between gateway instances (auth-budgets-limits.md §11.3, README D11): after
// a successful management write, publish `{type, id}` on `litellm:invalidate`; every instance
// that hears it (this one included) wakes its cache refresh at once, so a blocked or deleted key
// is rejected everywhere within about a second.
//
// Channels: Redis pub/sub when a Redis is configured (kv::RedisSubscriber); else PostgreSQL
// LISTEN/NOTIFY when the store is PostgreSQL (store::PgListener); else none (a single SQLite
// instance; other instances, if any, see changes at the next periodic reload). The receiver
// reloads the whole cache rather than one object: one reload serves any burst of messages, and
// the message's id is only informational. A (re)connected listener also wakes a reload, so a
// message lost while disconnected costs nothing.
//
// Thread safety: publish() blocks (a Redis round trip or one SQL statement): call it on the store
// pool. start()/stop() from the controlling thread; `wake` runs on the listener thread.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "sy/kv/redis_client.hpp"
#include "sy/kv/redis_subscriber.hpp"
#include "sy/store/pg_listener.hpp"
#include "sy/store/store.hpp"

namespace sy::app {

inline constexpr std::string_view kInvalidateChannel = "litellm:invalidate";

// What a management call changed: type "key" | "user" | "team" | "customer", and the id when the
// body names one (a key as its sha256 hash, never the raw key).
struct Change {
    std::string type;
    std::string id;
};

// The change made by a successful non-GET management call to `path`; nullopt for calls that
// change no cached object (spend reports, /key/generate's siblings that only read).
std::optional<Change> change_of(std::string_view path, std::string_view body);

class Invalidation {
public:
    enum class Mode : unsigned char { kRedis, kPostgres, kLocal };

    // `redis`/`redis_opts` when a Redis is configured; `pg_url` non-empty when the store is
    // PostgreSQL. `wake` asks for a cache reload (must not block).
    Invalidation(kv::RedisClient* redis, std::optional<kv::RedisOptions> redis_opts,
                 store::Store& store, std::string pg_url, std::function<void()> wake);
    ~Invalidation();  // stop()
    Invalidation(const Invalidation&) = delete;
    Invalidation& operator=(const Invalidation&) = delete;

    Mode mode() const { return mode_; }
    // The start-up log line: channel and revocation bound.
    std::string describe() const;

    void start();
    void stop();
    // Announces a change to every instance. Failures are logged; the periodic reload still
    // catches the change.
    void publish(const Change& c);

private:
    Mode mode_;
    kv::RedisClient* redis_;
    store::Store& store_;
    std::function<void()> wake_;
    std::unique_ptr<kv::RedisSubscriber> redis_sub_;
    std::unique_ptr<store::PgListener> pg_listener_;
};

}  // namespace sy::app
