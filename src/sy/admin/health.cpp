#include "sy/admin/health.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <ctime>

#include "sy/core/json_text.hpp"

namespace sy::admin {
namespace {

namespace json = boost::json;
constexpr std::int64_t kModelCreated = 1677610602;  // LiteLLM's constant

http::Response json_response(http::bhttp::status st, const json::value& v, unsigned version) {
    http::Response res{st, version};
    res.set(http::bhttp::field::content_type, "application/json");
    res.body() = json_text(v);
    return res;
}

std::string now_iso() {
    auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

json::object model_entry(std::string_view id) {
    return json::object{{"id", id}, {"object", "model"}, {"created", kModelCreated},
                        {"owned_by", "openai"}};
}

}  // namespace

http::Response liveliness(unsigned version) {
    return json_response(http::bhttp::status::ok, json::value("I'm alive!"), version);
}

http::Response readiness(const Lifecycle& life, unsigned version, bool db_ok) {
    bool ready = life.phase() == Phase::kReady && db_ok;
    json::object o{
        {"status", ready ? "connected" : "unhealthy"},
        {"db", db_ok ? "connected" : "Not connected"},
        {"cache", nullptr},
        {"litellm_version", kVersion},
        {"success_callbacks", json::array{}},
        {"last_updated", now_iso()},
    };
    if (!ready) {
        o["phase"] = life.phase() == Phase::kStarting ? "starting"
                     : life.phase() == Phase::kDraining ? "draining"
                                                        : "degraded";
    }
    return json_response(ready ? http::bhttp::status::ok : http::bhttp::status::service_unavailable,
                         o, version);
}

http::Response health(const routing::ModelTable& table,
                      std::string_view model_filter,
                      bool details,
                      unsigned version,
                      const std::map<std::string, pipeline::ProbeResult>* probes) {
    json::array healthy;
    json::array unhealthy;
    for (const auto& d : table.deployments()) {
        if (!model_filter.empty() && d->cfg->model_name != model_filter) {
            continue;
        }
        auto now = routing::SteadyClock::now();
        auto snap = d->state->snapshot(now, std::chrono::hours(1));
        json::object e{
            {"model", d->cfg->model},
            {"model_name", d->cfg->model_name},
            {"model_id", d->cfg->id},
            {"observed", snap.successes + snap.failures > 0},
            {"successes", snap.successes},
            {"failures", snap.failures},
            {"recent_attempts", snap.window_attempts},
            {"recent_failures", snap.window_failures},
            {"in_flight", snap.in_flight},
            {"cooldowns", snap.cooldowns},
        };
        if (snap.last_latency_us > 0) {
            e["last_latency_ms"] = static_cast<double>(snap.last_latency_us) / 1000.0;
        }
        if (snap.latency_median_s) {
            e["latency_median_s"] = *snap.latency_median_s;
        }
        if (snap.ttft_median_s) {
            e["ttft_median_s"] = *snap.ttft_median_s;
        }
        if (details && d->target) {
            e["api_base"] = d->target->url.display;
        }
        // Unhealthy: cooling down, its half-open probe in flight, or its last attempt failed.
        bool cooling = snap.cooldown_remaining_s > 0;
        if (cooling) {
            e["cooldown_remaining_s"] = snap.cooldown_remaining_s;
            e["state"] = snap.probing ? "half_open" : "cooling_down";
        } else {
            e["state"] = snap.consecutive_failures > 0 ? "failing" : "healthy";
        }
        bool checked_bad = snap.checked == routing::DeploymentState::Checked::kUnhealthy;
        if (snap.checked != routing::DeploymentState::Checked::kUnknown) {
            e["health_check"] = checked_bad ? "unhealthy" : "healthy";
        }
        if (probes) {
            if (auto it = probes->find(d->cfg->id); it != probes->end()) {
                const auto& p = it->second;
                json::object po{{"ok", p.ok}, {"skipped", p.skipped},
                                {"latency_ms", p.latency_ms}};
                if (p.status != 0) {
                    po["status"] = p.status;
                }
                if (details && !p.error.empty()) {
                    po["error"] = p.error;
                }
                e["probe"] = std::move(po);
            }
        }
        bool bad = cooling || snap.consecutive_failures > 0 || checked_bad;
        if (bad) {
            if (details) {
                e["error"] = snap.last_error;
            }
            e["last_status"] = snap.last_status;
            unhealthy.push_back(std::move(e));
        } else {
            healthy.push_back(std::move(e));
        }
    }
    json::object o;
    std::size_t hc = healthy.size();
    std::size_t uc = unhealthy.size();
    o["healthy_endpoints"] = std::move(healthy);
    o["unhealthy_endpoints"] = std::move(unhealthy);
    o["healthy_count"] = hc;
    o["unhealthy_count"] = uc;
    return json_response(http::bhttp::status::ok, o, version);
}

http::Response list_models(const routing::ModelTable& table, unsigned version,
                           const std::function<bool(const std::string&)>& visible) {
    json::array data;
    for (const auto& n : table.public_group_names()) {
        if (!visible || visible(n)) {
            data.push_back(model_entry(n));
        }
    }
    return json_response(http::bhttp::status::ok, json::object{{"object", "list"}, {"data", data}},
                         version);
}

std::optional<http::Response> get_model(const routing::ModelTable& table,
                                        std::string_view id,
                                        unsigned version) {
    for (const auto& n : table.public_group_names()) {
        if (n == id) {
            return json_response(http::bhttp::status::ok, model_entry(n), version);
        }
    }
    return std::nullopt;
}

}  // namespace sy::admin
