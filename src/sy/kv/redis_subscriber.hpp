#pragma once
// A Redis pub/sub subscriber on its own thread and connection (a subscribed connection can do
// nothing else). Used for fan-out between gateway instances: deployment cooldowns, cache and key
// invalidation (README D10, D11).
//
// The thread connects, subscribes, and once Redis confirmed the subscription runs `on_connect`
// (the caller reads a snapshot of shared state there, through its own RedisClient, so nothing
// published while this instance was away or reconnecting is missed); then it hands every message
// to `on_message`. Handlers must be idempotent: a message may repeat what the snapshot read. It waits on the socket with poll() in short slices so
// stop() returns promptly, and reconnects after a failure with a back-off.
//
// Thread safety: start()/stop() from any thread; the callbacks run on the subscriber thread.

#include <atomic>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "sy/kv/redis_client.hpp"

namespace sy::kv {

class RedisSubscriber {
public:
    using OnConnect = std::function<void()>;
    using OnMessage = std::function<void(std::string_view channel, std::string_view payload)>;

    RedisSubscriber(RedisOptions options, std::vector<std::string> channels, OnConnect on_connect,
                    OnMessage on_message);
    ~RedisSubscriber();  // stop()
    RedisSubscriber(const RedisSubscriber&) = delete;
    RedisSubscriber& operator=(const RedisSubscriber&) = delete;

    void start();
    void stop();
    bool subscribed() const { return subscribed_.load(); }

private:
    void run();
    bool session();  // one connection's life; false when stopping

    RedisOptions opts_;
    std::vector<std::string> channels_;
    OnConnect on_connect_;
    OnMessage on_message_;
    std::atomic<bool> stopping_{false};
    std::atomic<bool> subscribed_{false};
    std::thread thread_;
};

}  // namespace sy::kv
