#include "sy/app/invalidation.hpp"

#include <boost/json.hpp>

#include "sy/core/ids.hpp"
#include "sy/observability/log.hpp"

namespace sy::app {
namespace {

namespace json = boost::json;

std::string str_member(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    if (v && v->is_string()) {
        return std::string(v->get_string());
    }
    if (v && v->is_array() && !v->get_array().empty() && v->get_array()[0].is_string()) {
        return std::string(v->get_array()[0].get_string());
    }
    return {};
}

// A raw key travels as its hash only (auth-budgets-limits.md §5).
std::string key_id(std::string k) { return k.rfind("sk-", 0) == 0 ? sha256_hex(k) : k; }

}  // namespace

std::optional<Change> change_of(std::string_view path, std::string_view body) {
    std::string_view rest = path.substr(path.rfind('/') + 1);
    if (rest == "info" || rest == "list") {
        return std::nullopt;
    }
    Change c;
    if (path.rfind("/key/", 0) == 0) {
        c.type = "key";
    } else if (path.rfind("/user/", 0) == 0) {
        c.type = "user";
    } else if (path.rfind("/team/", 0) == 0) {
        c.type = "team";
    } else if (path.rfind("/customer/", 0) == 0 || path.rfind("/end_user/", 0) == 0) {
        c.type = "customer";
    } else {
        return std::nullopt;  // spend reports
    }
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (!ec && v.is_object()) {
        const auto& o = v.get_object();
        if (c.type == "key") {
            std::string k = str_member(o, "key");
            c.id = key_id(k.empty() ? str_member(o, "keys") : std::move(k));
        } else if (c.type == "team") {
            c.id = str_member(o, "team_id");
        } else {
            std::string id = str_member(o, "user_id");
            c.id = id.empty() ? str_member(o, "user_ids") : std::move(id);
        }
    }
    if (c.type == "key" && c.id.empty() && path.size() > 16 &&
        path.substr(path.size() - 11) == "/regenerate") {
        c.id = key_id(std::string(path.substr(5, path.size() - 16)));  // /key/<key>/regenerate
    }
    return c;
}

Invalidation::Invalidation(kv::RedisClient* redis, std::optional<kv::RedisOptions> redis_opts,
                           store::Store& store, std::string pg_url, std::function<void()> wake)
    : mode_(redis && redis_opts ? Mode::kRedis
            : !pg_url.empty()   ? Mode::kPostgres
                                : Mode::kLocal),
      redis_(redis),
      store_(store),
      wake_(std::move(wake)) {
    auto on_message = [this](std::string_view) { wake_(); };
    if (mode_ == Mode::kRedis) {
        redis_sub_ = std::make_unique<kv::RedisSubscriber>(
            std::move(*redis_opts), std::vector<std::string>{std::string(kInvalidateChannel)},
            [this] { wake_(); },
            [on_message](std::string_view, std::string_view payload) { on_message(payload); });
    } else if (mode_ == Mode::kPostgres) {
        pg_listener_ = std::make_unique<store::PgListener>(
            std::move(pg_url), std::string(kInvalidateChannel), [this] { wake_(); }, on_message);
    }
}

Invalidation::~Invalidation() { stop(); }

std::string Invalidation::describe() const {
    switch (mode_) {
        case Mode::kRedis:
            return "key revocation: redis pub/sub (channel litellm:invalidate; other instances "
                   "reload within ~1 s)";
        case Mode::kPostgres:
            return "key revocation: postgres notify (channel litellm:invalidate; other instances "
                   "reload within ~1 s)";
        case Mode::kLocal:
            break;
    }
    return "key revocation: local only (cache reload every 5 s)";
}

void Invalidation::start() {
    if (redis_sub_) {
        redis_sub_->start();
    }
    if (pg_listener_) {
        pg_listener_->start();
    }
}

void Invalidation::stop() {
    if (redis_sub_) {
        redis_sub_->stop();
    }
    if (pg_listener_) {
        pg_listener_->stop();
    }
}

void Invalidation::publish(const Change& c) {
    if (mode_ == Mode::kLocal) {
        return;  // one instance: the write itself updated its cache
    }
    std::string msg = json::serialize(json::object{{"type", c.type}, {"id", c.id}});
    bool ok = false;
    std::string detail;
    if (mode_ == Mode::kRedis) {
        auto r = redis_->command_blocking({"PUBLISH", std::string(kInvalidateChannel), msg});
        ok = r && !r->is_error();
        detail = !r ? r.error().message : r->str;
    } else {
        auto r = store_.query(store::kNotifySql, {std::string(kInvalidateChannel), msg});
        ok = static_cast<bool>(r);
        detail = ok ? "" : r.error().message;
    }
    if (!ok) {
        obs::warn("key revocation: could not publish a change; other instances see it at their "
                  "next reload",
                  {{"type", c.type}, {"detail", detail}});
        wake_();
    }
}

}  // namespace sy::app
