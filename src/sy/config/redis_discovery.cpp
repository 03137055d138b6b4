#include "sy/config/redis_discovery.hpp"

#include <boost/json.hpp>

namespace sy::config {
namespace {

namespace json = boost::json;

json::object parse(const std::string& text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    return !ec && v.is_object() ? std::move(v.get_object()) : json::object{};
}

std::string str(const json::object& o, std::string_view k) {
    if (auto* v = o.if_contains(k); v && v->is_string()) {
        return std::string(v->get_string());
    }
    return {};
}

std::optional<int> num(const json::object& o, std::string_view k) {
    if (auto* v = o.if_contains(k)) {
        if (v->is_int64()) {
            return static_cast<int>(v->get_int64());
        }
        if (v->is_string()) {
            try {
                return std::stoi(std::string(v->get_string()));
            } catch (...) {
                return std::nullopt;
            }
        }
    }
    return std::nullopt;
}

}  // namespace

std::string RedisEndpoint::display() const {
    if (!url.empty()) {
        // redis://[user:pass@]host:port/db -> host:port
        std::string rest = url.substr(url.find("://") == std::string::npos ? 0 : url.find("://") + 3);
        if (auto at = rest.rfind('@'); at != std::string::npos) {
            rest = rest.substr(at + 1);
        }
        if (auto slash = rest.find('/'); slash != std::string::npos) {
            rest = rest.substr(0, slash);
        }
        return rest;
    }
    return host + ":" + std::to_string(port);
}

std::optional<RedisEndpoint> discover_redis(const Settings& s, const EnvGetter& env) {
    RedisEndpoint e;
    // 1. cache_params (a Redis cache configuration)
    json::object cp = parse(s.litellm.cache_params_json);
    std::string cp_type = str(cp, "type");
    if (cp_type.empty() || cp_type == "redis") {
        std::string url = str(cp, "url");
        if (url.empty()) {
            url = str(cp, "redis_url");
        }
        if (!url.empty() || !str(cp, "host").empty()) {
            e.url = url;
            e.host = str(cp, "host");
            e.port = num(cp, "port").value_or(6379);
            e.username = str(cp, "username");
            e.password = str(cp, "password");
            e.db = num(cp, "db").value_or(0);
            e.source = "litellm_settings.cache_params";
            return e;
        }
    }
    // 2. router_settings.redis_*
    json::object rs = parse(s.router.other_settings_json);
    if (!str(rs, "redis_url").empty() || !str(rs, "redis_host").empty()) {
        e.url = str(rs, "redis_url");
        e.host = str(rs, "redis_host");
        e.port = num(rs, "redis_port").value_or(6379);
        e.password = str(rs, "redis_password");
        e.db = num(rs, "redis_db").value_or(0);
        e.source = "router_settings";
        return e;
    }
    // 3. environment
    auto get = [&](const char* name) -> std::string {
        const char* v = env ? env(name) : nullptr;
        return v != nullptr ? std::string(v) : std::string();
    };
    if (std::string url = get("REDIS_URL"); !url.empty()) {
        e.url = url;
        e.source = "REDIS_URL";
        return e;
    }
    if (std::string host = get("REDIS_HOST"); !host.empty()) {
        e.host = host;
        std::string port = get("REDIS_PORT");
        try {
            e.port = port.empty() ? 6379 : std::stoi(port);
        } catch (...) {
            e.port = 6379;
        }
        e.password = get("REDIS_PASSWORD");
        e.source = "REDIS_HOST";
        return e;
    }
    return std::nullopt;
}

}  // namespace sy::config
