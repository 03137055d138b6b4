#include "sy/app/app.hpp"

#include <boost/asio/ssl/context.hpp>
#include <boost/json.hpp>

#include <condition_variable>
#include <shared_mutex>
#include <thread>

#include "sy/admin/management.hpp"
#include "sy/app/http_router.hpp"
#include "sy/app/invalidation.hpp"
#include "sy/auth/governor.hpp"
#include "sy/pipeline/governance.hpp"
#include "sy/pipeline/rate_limits.hpp"
#include "sy/pipeline/shared_budget.hpp"
#include "sy/ratelimit/local_limiter.hpp"
#include "sy/ratelimit/redis_limiter.hpp"
#include "sy/store/ledger.hpp"
#include "sy/store/pool.hpp"
#include "sy/store/store.hpp"
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
    std::unique_ptr<http::ClientTls> tls;
    std::vector<std::unique_ptr<http::UpstreamPool>> pools;
    // Store-backed services (issue 6).
    std::unique_ptr<store::StorePool> store_pool;
    std::unique_ptr<store::Store> store;
    std::unique_ptr<auth::Governor> gov;
    std::unique_ptr<store::SpendLedger> ledger;
    std::unique_ptr<admin::Management> mgmt;
    std::unique_ptr<pipeline::Governance> governance;
    std::unique_ptr<StoreServices> services;
    std::atomic<bool> db_ok{true};
    std::atomic<std::int64_t> db_down_since_ms{0};  // steady ms; 0 = the store answers
    std::mutex monitor_mu;
    std::condition_variable monitor_cv;
    bool monitor_stop = false;
    bool refresh_requested = false;  // a change was announced: reload now
    std::thread monitor;
    std::unique_ptr<Invalidation> invalidation;  // revocation fan-out (README D11)
    std::shared_mutex cache_mu;  // management writes (shared) vs. a reload (exclusive)
    std::unique_ptr<HttpRouter> router;

    Status connect_redis();
    Status open_store();
    void refresh();
    void run_monitor();
    void request_refresh();
    void stop_services();
    std::unique_ptr<http::Server> server;
    std::unique_ptr<pipeline::BackgroundProber> prober;  // background_health_checks
    // Shared coordination (README D10): present when a Redis is configured anywhere.
    std::optional<kv::RedisOptions> redis_opts;
    std::unique_ptr<kv::RedisClient> redis;
    std::unique_ptr<routing::SharedCooldowns> cooldowns;
    // Client rate limits (auth-budgets-limits.md §10): on the Redis when there is one. Declared
    // after `redis`, so destroyed before it.
    std::unique_ptr<ratelimit::Limiter> limiter;
    std::unique_ptr<pipeline::LimiterHook> limit_hook;
    std::unique_ptr<pipeline::RedisBudgets> shared_budgets;  // budgets across instances (D7/D10)
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

namespace {
constexpr auto kRefreshInterval = std::chrono::seconds(5);

// general_settings keys without a typed field (kept as JSON by the loader) that the store
// services read.
struct GeneralExtras {
    bool disable_spend_logs = false;
    double cached_keys_grace_s = 300;  // < 0: allow_requests_on_db_unavailable (no bound)
};

GeneralExtras general_extras(const config::GeneralSettings& g) {
    GeneralExtras out;
    boost::system::error_code ec;
    auto other = boost::json::parse(g.other_settings_json, ec);
    if (ec || !other.is_object()) {
        return out;
    }
    const auto& o = other.get_object();
    if (auto* v = o.if_contains("disable_spend_logs"); v && v->is_bool()) {
        out.disable_spend_logs = v->get_bool();
    }
    if (auto* v = o.if_contains("cached_keys_grace_period");
        v && v->is_number() && v->to_number<double>() >= 0) {
        out.cached_keys_grace_s = v->to_number<double>();
    }
    if (auto* v = o.if_contains("allow_requests_on_db_unavailable");
        v && v->is_bool() && v->get_bool()) {
        out.cached_keys_grace_s = -1;
    }
    return out;
}

// The spend WAL root (docs/deployment.md): general_settings.spend_wal_dir; else beside the SQLite
// file (its directory must be writable anyway); with PostgreSQL $XDG_STATE_HOME/switchyard/spend-wal
// (~/.local/state/...), falling back to beside database_path. Empty = no WAL (:memory: store).
std::string spend_wal_dir(const config::GeneralSettings& g, bool postgres) {
    if (!g.spend_wal_dir.empty()) {
        return g.spend_wal_dir;
    }
    bool file_db = !g.database_path.empty() && g.database_path != ":memory:";
    if (postgres) {
        const char* xdg = std::getenv("XDG_STATE_HOME");
        const char* home = std::getenv("HOME");
        if (xdg && *xdg == '/') {
            return std::string(xdg) + "/switchyard/spend-wal";
        }
        if (home && *home == '/') {
            return std::string(home) + "/.local/state/switchyard/spend-wal";
        }
    }
    return file_db ? g.database_path + "-spend-wal" : std::string();
}

// Spend per budget scope: the store's (every instance's flushed spend) plus this instance's rows
// not yet flushed. Other instances' unflushed spend (at most one ledger interval) and spend
// since the last reload are what an instance cannot see without Redis (docs/deployment.md).
std::vector<auth::StoredSpend> stored_spend(const std::unordered_map<std::string, double>& pending,
                                            const std::vector<store::Row>& keys,
                                            const std::vector<store::Row>& users,
                                            const std::vector<store::Row>& teams,
                                            const std::vector<store::Row>& customers) {
    std::vector<auth::StoredSpend> out;
    auto add = [&](std::string_view prefix, const std::vector<store::Row>& rows,
                   std::string_view id_col) {
        for (const auto& r : rows) {
            auto* id = r.if_contains(id_col);
            if (id == nullptr || !id->is_string()) {
                continue;
            }
            std::string scope = std::string(prefix) + std::string(id->get_string());
            auto* spend = r.if_contains("spend");
            auto* reset = r.if_contains("budget_reset_at");
            double v = spend && spend->is_number() ? spend->to_number<double>() : 0.0;
            if (auto it = pending.find(scope); it != pending.end()) {
                v += it->second;
            }
            out.push_back(auth::StoredSpend{
                std::move(scope), v,
                reset && reset->is_string() ? std::string(reset->get_string()) : std::string()});
        }
    };
    add("k:", keys, "token");
    add("u:", users, "user_id");
    add("t:", teams, "team_id");
    add("c:", customers, "user_id");
    return out;
}
}  // namespace

Status App::Impl::open_store() {
    const auto& g = settings->general;
    store::StoreOptions so;
    if (g.database_url && !g.database_url->empty()) {
        so.database_url = g.database_url->value;
        obs::info("store: PostgreSQL", {{"database_url", g.database_url->masked()}});
    } else {
        so.sqlite_path = g.database_path.empty() ? ":memory:" : g.database_path;
        obs::info("store: SQLite", {{"path", so.sqlite_path}});
    }
    auto opened = store::Store::open(so);
    if (!opened) {
        return Error::make(Errc::kServiceUnavailable,
                           "cannot open the database: " + opened.error().message);
    }
    store = std::move(opened).value();
    store::LedgerOptions lo;
    bool file_db = !g.database_path.empty() && g.database_path != ":memory:";
    lo.wal_dir = spend_wal_dir(g, !so.database_url.empty());
    lo.db_identity = store::wal_db_identity(so.database_url, so.sqlite_path);
    if (file_db) {
        lo.legacy_wal_path = g.database_path + "-spend.wal";  // before per-instance directories
    }
    ledger = std::make_unique<store::SpendLedger>(*store, lo);
    if (auto st = ledger->open(); !st) {
        return st;
    }
    auto replayed = ledger->replay();
    if (!replayed) {
        return Error::make(Errc::kServiceUnavailable,
                           "cannot replay the spend ledger: " + replayed.error().message);
    }
    gov = std::make_unique<auth::Governor>(so.database_url.empty());
    refresh();
    // The proxy-wide budget needs the spend of every row so far: a scan of the whole table,
    // so only when that budget is set (a large spend log would otherwise slow every start-up
    // and fill the SQLite page cache for nothing).
    double total_spend = 0.0;
    if (settings->litellm.max_budget) {
        auto total =
            store->query("SELECT COALESCE(SUM(\"spend\"), 0) FROM \"LiteLLM_SpendLogs\"", {});
        total_spend = total ? store::as_double(total->rows.at(0).at(0)).value_or(0.0) : 0.0;
    }
    gov->set_global_budget(settings->litellm.max_budget, total_spend);
    ledger->start();
    store_pool = std::make_unique<store::StorePool>(2);
    store::SpendLedger* l = ledger.get();
    mgmt = std::make_unique<admin::Management>(*settings, *store, *gov, [l] { l->flush(); });
    auto rl_opts = pipeline::RateLimitOptions::from_settings(*settings);
    if (redis) {
        limiter = std::make_unique<ratelimit::RedisLimiter>(
            *redis, ratelimit::RedisLimiterOptions{.fail_closed = rl_opts.fail_closed});
    } else {
        limiter = std::make_unique<ratelimit::LocalLimiter>();
    }
    limit_hook = std::make_unique<pipeline::LimiterHook>(*gov, *limiter, rl_opts);
    governance = std::make_unique<pipeline::Governance>(*gov, ledger.get(), limit_hook.get());
    const GeneralExtras extras = general_extras(settings->general);
    if (extras.disable_spend_logs) {
        governance->set_disable_spend_logs(true);
        obs::info("disable_spend_logs: calls without a cost write no spend-log row");
    }
    governance->report_unpriced(settings->model_list);
    if (redis) {
        // Lease = request timeout + 60 s (§6.4): a crashed instance's reservations expire.
        auto lease = std::chrono::seconds(
            static_cast<std::int64_t>(settings->router.timeout_s) + 60);
        shared_budgets = std::make_unique<pipeline::RedisBudgets>(*gov, *redis, lease);
        governance->set_shared_budgets(shared_budgets.get());
        obs::info("budgets: shared through redis (atomic check-and-reserve over all scopes)");
    } else {
        obs::info(std::string("budgets: per instance, spend from the store at every reload") +
                  (g.database_url ? " (other instances' spend seen within ~6 s)" : ""));
    }
    invalidation = std::make_unique<Invalidation>(redis.get(), redis_opts, *store,
                                                  so.database_url, [this] { request_refresh(); });
    obs::info(invalidation->describe());
    services = std::make_unique<StoreServices>(
        StoreServices{*store_pool, *store, *gov, *mgmt, *governance, db_ok,
                      invalidation.get(), &cache_mu});
    services->db_down_since_ms = &db_down_since_ms;
    services->cached_keys_grace_s = extras.cached_keys_grace_s;
    monitor = std::thread([this] { run_monitor(); });
    invalidation->start();
    return ok_status();
}

// Reloads the key cache from the store and records budget resets applied in memory.
void App::Impl::refresh() {
    bool ok = store->ping();
    if (ok) {
        // Read and parse without the governor's lock; only the swap takes it, and writes made
        // here meanwhile are kept (Governor::apply). No management write runs between reading
        // the rows and applying them (a reload woken by one change must not reinstate a row the
        // next change just deleted).
        std::unique_lock writes(cache_mu);
        std::uint64_t since = gov->version();
        std::uint64_t spend_since = 0;
        {
            // Not between a call's queued row and its settle (Governor::settle_gate).
            std::unique_lock gate(gov->settle_gate());
            spend_since = gov->spend_seq();
        }
        using Rows = Result<std::vector<store::Row>>;
        std::optional<Rows> keys, users, teams, customers;
        // The rows and this instance's unflushed spend, read with no flush in between.
        auto pending = ledger->pending_spend([&] {
            keys = store->find(store::keys_table(), {});
            users = store->find(store::users_table(), {});
            teams = store->find(store::teams_table(), {});
            customers = store->find(store::customers_table(), {});
        });
        ok = *keys && *users && *teams && *customers;
        if (ok) {
            auto snap = auth::Governor::build(keys->value(), users->value(), teams->value(),
                                              customers->value());
            gov->apply(std::move(*snap), since);
            // Rows queued under a key's old hash count toward the regenerated key.
            std::unordered_map<std::string, double> current;
            for (const auto& [scope, v] : pending) {
                current[gov->current_scope(scope)] += v;
            }
            gov->sync_spend(stored_spend(current, keys->value(), users->value(), teams->value(),
                                         customers->value()),
                            spend_since);
        }
    }
    for (const auto& r : ok ? gov->take_pending_resets() : std::vector<auth::PendingReset>{}) {
        const store::Table& t = r.scope == 'k'   ? store::keys_table()
                                : r.scope == 'u' ? store::users_table()
                                : r.scope == 't' ? store::teams_table()
                                                 : store::customers_table();
        store::Row ch{{"spend", 0.0}, {"budget_reset_at", r.new_reset_at}};
        (void)store->update(t, {r.id}, ch,
                            store::Filter{"budget_reset_at", "=", r.old_reset_at});
    }
    // A spend WAL that cannot be written makes the instance unready too (rows would be
    // acknowledged without being journaled).
    bool wal = !ledger || ledger->wal_ok();
    if (!wal) {
        obs::warn("spend ledger: write-ahead log not writable; readiness reports unhealthy");
    }
    if (ok) {
        db_down_since_ms.store(0);
    } else if (db_down_since_ms.load() == 0) {
        db_down_since_ms.store(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
    }
    if ((ok && wal) != db_ok.exchange(ok && wal) && wal) {
        if (ok) {
            obs::info("store: reachable again");
        } else {
            obs::warn("store: unreachable; serving cached keys, spend rows wait in the ledger");
        }
    }
}

// Another instance (or this one) announced a change: reload at once. Requests arriving during a
// reload cause one more reload after it, so a change committed mid-reload is never missed.
void App::Impl::request_refresh() {
    {
        std::lock_guard lk(monitor_mu);
        refresh_requested = true;
    }
    monitor_cv.notify_all();
}

void App::Impl::run_monitor() {
    std::unique_lock lk(monitor_mu);
    while (!monitor_stop) {
        monitor_cv.wait_for(lk, kRefreshInterval,
                            [&] { return monitor_stop || refresh_requested; });
        if (monitor_stop) {
            break;
        }
        refresh_requested = false;
        lk.unlock();
        refresh();
        lk.lock();
    }
}

void App::Impl::stop_services() {
    if (invalidation) {
        invalidation->stop();
    }
    {
        std::lock_guard lk(monitor_mu);
        monitor_stop = true;
    }
    monitor_cv.notify_all();
    if (monitor.joinable()) {
        monitor.join();
    }
    if (ledger) {
        ledger->stop();  // final flush of the spend rows (SIGTERM)
    }
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
    // Store calls still running complete into the workers' io_contexts: let them finish before
    // those are destroyed (statement_timeout bounds the wait on a stuck database).
    if (impl_->store_pool) {
        impl_->store_pool->stop();
    }
    impl_->prober.reset();
    impl_->pools.clear();
    impl_->server.reset();
    impl_->stop_services();
}

Result<std::uint16_t> App::start() {
    auto table = routing::ModelTable::build(impl_->settings);
    if (!table) {
        return std::move(table).error();
    }
    impl_->table = std::move(table).value();
    impl_->tls = http::make_client_tls_context();
    // Redis first: the rate limiter built with the store's services counts there.
    if (auto co = impl_->connect_redis(); !co) {
        return std::move(co).error();
    }
    auto st = impl_->open_store();
    if (!st) {
        return std::move(st).error();
    }
    impl_->router =
        std::make_unique<HttpRouter>(*impl_->table, life_, impl_->pools, impl_->services.get());
    if (auto co = start_coordination(); !co) {
        return std::move(co).error();
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

// Redis discovery (auth-budgets-limits.md §11.2): one client for everything shared.
Status App::Impl::connect_redis() {
    auto ep = config::discover_redis(*settings, [](const char* n) { return std::getenv(n); });
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
    redis_opts = opts;
    redis = std::make_unique<kv::RedisClient>(opts);
    return ok_status();
}

// What is shared through the Redis besides rate limits: deployment cooldowns.
Status App::start_coordination() {
    if (!impl_->redis || !impl_->redis_opts) {
        return ok_status();
    }
    impl_->cooldowns = std::make_unique<routing::SharedCooldowns>(
        *impl_->redis, *impl_->redis_opts, *impl_->table);
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
    impl_->stop_services();
    return clean;
}

}  // namespace sy::app
