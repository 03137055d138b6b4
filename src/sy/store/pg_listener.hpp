#pragma once
// A PostgreSQL LISTEN on its own connection and thread: the invalidation channel between gateway
// instances that share a PostgreSQL but no Redis (auth-budgets-limits.md §11.3, README D11).
//
// The thread connects, runs LISTEN, then calls `on_connect` (the caller reloads its state there,
// so nothing notified while this instance was away or reconnecting is missed) and hands every
// notification's payload to `on_notify`. It waits on PQsocket with poll() in short slices so
// stop() returns promptly, and reconnects after a failure with a growing back-off (0.2 s .. 5 s).
//
// Thread safety: start()/stop() from any thread; the callbacks run on the listener thread.

#include <atomic>
#include <functional>
#include <string>
#include <string_view>
#include <thread>

namespace sy::store {

class PgListener {
public:
    using OnConnect = std::function<void()>;
    using OnNotify = std::function<void(std::string_view payload)>;

    PgListener(std::string url, std::string channel, OnConnect on_connect, OnNotify on_notify);
    ~PgListener();  // stop()
    PgListener(const PgListener&) = delete;
    PgListener& operator=(const PgListener&) = delete;

    void start();
    void stop();
    bool listening() const { return listening_.load(); }

private:
    void run();
    bool session();  // one connection's life; true when it had been listening

    std::string url_;
    std::string channel_;
    OnConnect on_connect_;
    OnNotify on_notify_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> listening_{false};
    std::thread thread_;
};

// `SELECT pg_notify(channel, payload)` text for Store::query (both bound as parameters).
inline constexpr std::string_view kNotifySql = "SELECT pg_notify(?, ?)";

}  // namespace sy::store
