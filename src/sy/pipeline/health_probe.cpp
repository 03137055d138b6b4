#include "sy/pipeline/health_probe.hpp"

#include <boost/json.hpp>
#include <chrono>

#include "sy/observability/log.hpp"
#include "sy/pipeline/decode.hpp"
#include "sy/pipeline/provider_adapter.hpp"

namespace sy::pipeline {
namespace {

namespace json = boost::json;

constexpr double kMaxProbeTimeoutS = 30.0;

// model_info.health_check_model, for wildcard deployments.
std::string health_check_model(const config::Deployment& c) {
    boost::system::error_code ec;
    auto v = json::parse(c.model_info_json, ec);
    if (!ec && v.is_object()) {
        if (auto* m = v.get_object().if_contains("health_check_model"); m && m->is_string()) {
            return std::string(m->get_string());
        }
    }
    return {};
}

}  // namespace

http::Task<ProbeResult> probe(http::UpstreamPool& pool, const config::Settings& settings,
                              routing::DeploymentRuntime& d) {
    ProbeResult out;
    const config::Deployment& c = *d.cfg;
    std::string model = c.upstream_model;
    if (model.find('*') != std::string::npos) {
        std::string hc = health_check_model(c);
        // "openai/gpt-4o" style names: the part after the provider prefix goes upstream.
        if (auto slash = hc.find('/'); slash != std::string::npos) {
            hc = hc.substr(slash + 1);
        }
        model = hc;
    }
    if (!d.target || model.empty()) {
        out.skipped = true;
        co_return out;
    }
    bool embedding = c.mode == "embedding";
    providers::Route route = embedding ? providers::Route::kEmbeddings : providers::Route::kChat;
    std::string text = embedding
        ? R"({"model":"health-check","input":"ping"})"
        : R"({"model":"health-check","max_tokens":1,"messages":[{"role":"user","content":"ping"}]})";
    auto req = decode_request(route, text);
    if (!req) {
        out.error = req.error().message;
        co_return out;
    }
    auto plan = plan_upstream(d, settings, req.value(), model);
    if (!plan) {
        out.error = plan.error().message;
        co_return out;
    }
    double t = std::min(c.timeout_s.value_or(settings.router.timeout_s), kMaxProbeTimeoutS);
    http::UpstreamTimeouts timeouts;
    timeouts.connect = http::seconds_to_duration(std::min(t, config::kDefaultConnectTimeoutCapS));
    timeouts.first_byte = http::seconds_to_duration(t);
    timeouts.idle = timeouts.first_byte;
    http::UpstreamRequest up =
        providers::build_request(*d.target, plan->route, std::move(plan->body), model, false);
    auto t0 = std::chrono::steady_clock::now();
    auto r = co_await pool.send(up, timeouts);
    out.latency_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    providers::ErrorContext err_ctx{d.target->exception_label, c.model_name};
    if (!r) {
        out.error = providers::map_transport_error(r.error(), err_ctx, t).message;
    } else if (r->status < 200 || r->status >= 300) {
        out.status = r->status;
        std::vector<Header> headers = r->headers();
        out.error = map_upstream_error(d.target->shape, r->status, headers, r->body(), err_ctx).message;
    } else {
        out.status = r->status;
        out.ok = true;
    }
    d.state->set_checked(out.ok);
    co_return out;
}

BackgroundProber::BackgroundProber(http::net::io_context& io, http::UpstreamPool& pool,
                                   const routing::ModelTable& table, double interval_s)
    : io_(io), pool_(pool), table_(table), interval_s_(interval_s) {}

BackgroundProber::~BackgroundProber() { stop(); }

void BackgroundProber::start() {
    started_ = true;
    timer_ = std::make_unique<http::net::steady_timer>(io_);
    http::net::co_spawn(io_, loop(), http::net::detached);
}

http::Task<void> BackgroundProber::loop() {
    while (!stopping_.load()) {
        for (const auto& d : table_.deployments()) {
            if (stopping_.load()) {
                break;
            }
            auto r = co_await probe(pool_, table_.settings(), *d);
            if (!r.skipped && !r.ok) {
                obs::warn("health check failed for deployment " + d->cfg->id + " (" +
                          d->cfg->model_name + "): " + r.error);
            }
        }
        if (stopping_.load()) {
            break;
        }
        timer_->expires_after(http::seconds_to_duration(interval_s_));
        co_await timer_->async_wait(http::kNoThrow);
    }
    done_.set_value();
}

void BackgroundProber::stop() {
    if (!started_ || stopping_.exchange(true)) {
        return;
    }
    http::net::post(io_, [this] { timer_->cancel(); });
    // A probe in flight ends within its own deadline (at most 30 s).
    done_.get_future().wait_for(std::chrono::seconds(35));
}

}  // namespace sy::pipeline
