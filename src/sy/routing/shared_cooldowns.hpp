#pragma once
// Deployment cooldowns shared by every gateway instance through Redis (router.md §4.4, README
// D10): a cooldown started on one instance is written to `deployment:<model_id>:cooldown` (LiteLLM's
// key and value shape, TTL = the cooldown) and announced on a pub/sub channel; every instance
// applies it to its local state at once, and reads the keys again whenever its subscription
// (re)connects. Selection keeps reading local atomics only: Redis is never on the request path.
//
// Thread safety: publish() from any thread (never blocks: queued on the Redis client); the
// subscriber applies messages on its own thread through DeploymentState's atomics.

#include <memory>
#include <string>

#include "sy/kv/redis_client.hpp"
#include "sy/kv/redis_subscriber.hpp"
#include "sy/routing/model_table.hpp"

namespace sy::routing {

inline constexpr std::string_view kCooldownChannel = "switchyard:cooldowns";

class SharedCooldowns {
public:
    SharedCooldowns(kv::RedisClient& client, kv::RedisOptions subscriber_options,
                    const ModelTable& table);
    ~SharedCooldowns();

    void start();
    void stop();

    // Announces a cooldown that this instance just started.
    void publish(const DeploymentRuntime& d, double seconds, int status, const std::string& reason);

    // Applies one channel message (exposed for tests).
    void apply(std::string_view payload);

private:
    void snapshot();
    DeploymentRuntime* find(std::string_view id) const;

    kv::RedisClient& client_;
    const ModelTable& table_;
    std::string instance_id_;
    kv::RedisScript script_;
    std::unique_ptr<kv::RedisSubscriber> subscriber_;
};

}  // namespace sy::routing
