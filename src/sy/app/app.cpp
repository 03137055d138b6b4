#include "sy/app/app.hpp"

#include <boost/asio/ssl/context.hpp>

#include "sy/app/http_router.hpp"
#include "sy/http/server.hpp"
#include "sy/http/upstream.hpp"
#include "sy/observability/log.hpp"
#include "sy/config/redis_discovery.hpp"
#include "sy/kv/redis_client.hpp"
#include "sy/pipeline/health_probe.hpp"
#include "sy/routing/shared_cooldowns.hpp"
#include "sy/routing/model_table.hpp"

namespace sy::app {

// Members in construction order; destroyed in reverse (server before the services it uses).
struct App::Impl {
    config::SettingsConstSharedPtr settings;
    http::ServerOptions server_opts;
    std::unique_ptr<routing::ModelTable> table;
    std::unique_ptr<http::net::ssl::context> tls;
    std::vector<std::unique_ptr<http::UpstreamPool>> pools;
    std::unique_ptr<HttpRouter> router;
    std::unique_ptr<http::Server> server;
    std::unique_ptr<pipeline::BackgroundProber> prober;  // background_health_checks
    // Shared coordination (README D10): present when a Redis is configured anywhere.
    std::unique_ptr<kv::RedisClient> redis;
    std::unique_ptr<routing::SharedCooldowns> cooldowns;
};

App::App(config::SettingsConstSharedPtr settings, AppOptions opts)
    : impl_(std::make_unique<Impl>()) {
    impl_->settings = std::move(settings);
    host_ = opts.host;
    const auto& g = impl_->settings->general;
    bool no_master = !g.master_key || g.master_key->empty();
    if (no_master && !g.allow_unauthenticated) {
        bool loopback = host_ == "127.0.0.1" || host_ == "::1" || host_ == "localhost";
        obs::warn(
            "no master_key configured: authentication is OFF and management routes are disabled. "
            "Set general_settings.master_key (or LITELLM_MASTER_KEY) before exposing the gateway.");
        if (!loopback) {
            obs::warn("listening on 127.0.0.1 only (not " + host_ +
                      ") because there is no master_key; set "
                      "general_settings.allow_unauthenticated: true to listen on other addresses");
            host_ = "127.0.0.1";
        }
    } else if (no_master) {
        obs::warn("no master_key configured and allow_unauthenticated is true: LLM routes are open "
                  "to anyone who can reach " + host_);
    }
    auto& so = impl_->server_opts;
    so.host = host_ == "localhost" ? "127.0.0.1" : host_;
    so.port = opts.port;
    so.num_workers = opts.num_workers;
    so.limits.max_header_bytes = g.max_header_bytes;
    so.limits.max_body_bytes = static_cast<std::uint64_t>(g.max_request_size_mb * 1024.0 * 1024.0);
    so.limits.idle_timeout = http::seconds_to_duration(g.idle_timeout_s);
    so.limits.read_timeout = http::seconds_to_duration(g.header_read_timeout_s);
}

App::~App() {
    // Threads first, then everything holding sockets of the workers' io_contexts, then the
    // io_contexts themselves.
    if (impl_->prober) {
        impl_->prober->stop();
    }
    if (impl_->cooldowns) {
        impl_->cooldowns->stop();
    }
    if (impl_->server) {
        impl_->server->stop();
    }
    impl_->prober.reset();
    impl_->pools.clear();
    impl_->server.reset();
}

Result<std::uint16_t> App::start() {
    auto table = routing::ModelTable::build(impl_->settings);
    if (!table) {
        return std::move(table).error();
    }
    impl_->table = std::move(table).value();
    impl_->tls = http::make_client_tls_context();
    impl_->router = std::make_unique<HttpRouter>(*impl_->table, life_, impl_->pools);
    if (auto st = start_coordination(); !st) {
        return std::move(st).error();
    }
    impl_->server = std::make_unique<http::Server>(impl_->server_opts, *impl_->router);
    auto port = impl_->server->listen();
    if (!port) {
        return std::move(port).error();
    }
    for (std::size_t i = 0; i < impl_->server->worker_count(); ++i) {
        impl_->pools.push_back(std::make_unique<http::UpstreamPool>(
            impl_->server->worker_io(i), *impl_->tls, http::PoolLimits{}));
    }
    impl_->server->start();
    const auto& g = impl_->settings->general;
    if (g.background_health_checks) {
        impl_->prober = std::make_unique<pipeline::BackgroundProber>(
            impl_->server->worker_io(0), *impl_->pools[0], *impl_->table,
            g.health_check_interval_s);
        impl_->prober->start();
    }
    life_.set(Phase::kReady);
    return port;
}

// Redis discovery (auth-budgets-limits.md §11.2) and what is shared through it.
Status App::start_coordination() {
    auto ep = config::discover_redis(*impl_->settings, [](const char* n) { return std::getenv(n); });
    if (!ep) {
        obs::info("coordination: local (single instance only)");
        return ok_status();
    }
    kv::RedisOptions opts;
    if (!ep->url.empty()) {
        auto parsed = kv::RedisOptions::from_url(ep->url);
        if (!parsed) {
            return Error::make(Errc::kBadRequest, "redis (" + ep->source + "): " +
                                                      parsed.error().message);
        }
        opts = std::move(parsed).value();
    } else {
        opts.host = ep->host;
        opts.port = ep->port;
        opts.username = ep->username;
        opts.password = ep->password;
        opts.db = ep->db;
    }
    obs::info("coordination: redis " + ep->display() + " (from " + ep->source + ")");
    impl_->redis = std::make_unique<kv::RedisClient>(opts);
    impl_->cooldowns =
        std::make_unique<routing::SharedCooldowns>(*impl_->redis, opts, *impl_->table);
    routing::SharedCooldowns* shared = impl_->cooldowns.get();
    impl_->router->llm().router().set_cooldown_observer(
        [shared](const routing::DeploymentRuntime& d, double seconds, int status,
                 const std::string& reason) { shared->publish(d, seconds, status, reason); });
    impl_->cooldowns->start();
    return ok_status();
}

bool App::shutdown() {
    life_.set(Phase::kDraining);
    if (!impl_->server) {
        return true;
    }
    if (impl_->prober) {
        impl_->prober->stop();
    }
    impl_->server->begin_drain();
    bool clean = impl_->server->wait_idle(
        http::seconds_to_duration(impl_->settings->general.graceful_shutdown_timeout_s));
    impl_->server->stop();
    return clean;
}

}  // namespace sy::app
