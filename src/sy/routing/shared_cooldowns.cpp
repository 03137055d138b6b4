#include "sy/routing/shared_cooldowns.hpp"

#include <boost/json.hpp>
#include <chrono>

#include "sy/core/ids.hpp"

namespace sy::routing {
namespace {

namespace json = boost::json;

constexpr std::string_view kPublishScript = R"lua(
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
redis.call('PUBLISH', ARGV[3], ARGV[4])
return 1
)lua";

std::string key_for(std::string_view id) { return "deployment:" + std::string(id) + ":cooldown"; }

}  // namespace

SharedCooldowns::SharedCooldowns(kv::RedisClient& client, kv::RedisOptions subscriber_options,
                                 const ModelTable& table)
    : client_(client),
      table_(table),
      instance_id_(new_call_id()),
      script_(std::string(kPublishScript)) {
    subscriber_ = std::make_unique<kv::RedisSubscriber>(
        std::move(subscriber_options), std::vector<std::string>{std::string(kCooldownChannel)},
        [this] { snapshot(); },
        [this](std::string_view, std::string_view payload) { apply(payload); });
}

SharedCooldowns::~SharedCooldowns() { stop(); }

void SharedCooldowns::start() { subscriber_->start(); }

void SharedCooldowns::stop() { subscriber_->stop(); }

DeploymentRuntime* SharedCooldowns::find(std::string_view id) const {
    for (const auto& d : table_.deployments()) {
        if (d->cfg->id == id) {
            return d.get();
        }
    }
    return nullptr;
}

void SharedCooldowns::publish(const DeploymentRuntime& d, double seconds, int status,
                              const std::string& reason) {
    auto ms = static_cast<std::int64_t>(seconds * 1000.0);
    if (ms <= 0) {
        return;
    }
    auto epoch = std::chrono::duration<double>(
                     std::chrono::system_clock::now().time_since_epoch()).count();
    json::object value{{"exception_received", reason.substr(0, 50)},
                       {"status_code", std::to_string(status)},
                       {"timestamp", epoch},
                       {"cooldown_time", seconds}};
    json::object msg{{"model_id", d.cfg->id},
                     {"cooldown_ms", ms},
                     {"status", status},
                     {"reason", reason.substr(0, 200)},
                     {"origin", instance_id_}};
    client_.eval_detached(script_, {key_for(d.cfg->id)},
                          {json::serialize(value), std::to_string(ms),
                           std::string(kCooldownChannel), json::serialize(msg)});
}

void SharedCooldowns::apply(std::string_view payload) {
    boost::system::error_code ec;
    auto v = json::parse(payload, ec);
    if (ec || !v.is_object()) {
        return;
    }
    const auto& o = v.get_object();
    auto* id = o.if_contains("model_id");
    auto* ms = o.if_contains("cooldown_ms");
    if (id == nullptr || !id->is_string() || ms == nullptr || !ms->is_int64()) {
        return;
    }
    if (auto* origin = o.if_contains("origin");
        origin != nullptr && origin->is_string() && origin->get_string() == instance_id_) {
        return;  // ours, already applied
    }
    DeploymentRuntime* d = find(id->get_string());
    if (d == nullptr) {
        return;  // another instance's config has a deployment we do not know
    }
    double seconds = static_cast<double>(ms->get_int64()) / 1000.0;
    auto now = SteadyClock::now();
    if (d->state->cooldown_remaining_s(now) >= seconds) {
        return;
    }
    int status = 0;
    if (auto* s = o.if_contains("status"); s != nullptr && s->is_int64()) {
        status = static_cast<int>(s->get_int64());
    }
    std::string reason;
    if (auto* r = o.if_contains("reason"); r != nullptr && r->is_string()) {
        reason = std::string(r->get_string());
    }
    d->state->start_cooldown(now, seconds, status, "cooled down by another instance: " + reason);
}

void SharedCooldowns::snapshot() {
    for (const auto& d : table_.deployments()) {
        auto ttl = client_.command_blocking({"PTTL", key_for(d->cfg->id)});
        if (!ttl || ttl->type != kv::RedisReply::Type::kInteger || ttl->integer <= 0) {
            continue;
        }
        json::object msg{{"model_id", d->cfg->id},
                         {"cooldown_ms", ttl->integer},
                         {"status", 0},
                         {"reason", "cooldown found in Redis"}};
        apply(json::serialize(msg));
    }
}

}  // namespace sy::routing
