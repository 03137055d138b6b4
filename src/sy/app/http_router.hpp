#pragma once
// The HTTP route table: maps method + path to the LLM pipeline, health and model routes, runs
// authentication first on every non-public route, and writes the access log line.
//
// Thread safety: immutable after construction; serves all workers.

#include <memory>
#include <shared_mutex>
#include <vector>

#include "sy/admin/management.hpp"
#include "sy/app/invalidation.hpp"
#include "sy/core/lifecycle.hpp"
#include "sy/http/server.hpp"
#include "sy/http/upstream.hpp"
#include "sy/pipeline/auth.hpp"
#include "sy/pipeline/call_context.hpp"
#include "sy/pipeline/llm_handler.hpp"
#include "sy/pipeline/route_access.hpp"
#include "sy/routing/model_table.hpp"
#include "sy/store/pool.hpp"

namespace sy::app {

// The store-backed services (issue 6); all outlive the router.
struct StoreServices {
    store::StorePool& pool;
    store::Store& store;
    auth::Governor& gov;
    admin::Management& mgmt;
    pipeline::Governance& governance;
    const std::atomic<bool>& db_ok;
    Invalidation* invalidation = nullptr;  // announces management writes to every instance
    // Held shared by management writes and exclusively by a cache reload (read the store, load
    // the cache), so a reload never reinstates what a concurrent write just changed.
    std::shared_mutex* cache_mu = nullptr;
    // Since when the store is unreachable (steady ms; 0 = reachable), and how long cached virtual
    // keys keep working meanwhile (auth-budgets-limits.md §11.4; < 0 = as long as it takes:
    // general_settings.allow_requests_on_db_unavailable).
    const std::atomic<std::int64_t>* db_down_since_ms = nullptr;
    double cached_keys_grace_s = 300;
};

class HttpRouter : public http::RequestHandler {
public:
    HttpRouter(const routing::ModelTable& table,
               const Lifecycle& life,
               std::vector<std::unique_ptr<http::UpstreamPool>>& pools,
               StoreServices* services = nullptr);

    http::Task<void> handle(http::Exchange& ex) override;
    http::Response protocol_error(int status, std::string_view message) override;
    std::optional<http::Response> screen_head(const http::Request& head) override;

    pipeline::LlmHandler& llm() { return llm_; }  // composition only (before serving)

private:
    http::Task<void> dispatch(http::Exchange& ex, pipeline::CallContext& ctx);
    http::Task<void> dispatch_other(http::Exchange& ex, pipeline::CallContext& ctx);
    std::unique_ptr<Error> admit_cached(const http::Request& req, std::string_view path,
                                        pipeline::CallContext& ctx, bool& slow) const;
    std::unique_ptr<Error> admit(const pipeline::Principal& principal,
                                        const http::Request& req, std::string_view path,
                                        pipeline::RouteClass rc, pipeline::CallContext& ctx) const;
    void access_log(const pipeline::CallContext& ctx) const;
    // authenticate, looking a key the cache does not know up in the store (off the worker).
    http::Task<Result<pipeline::Principal>> authenticate(const http::Request& req);
    http::Task<void> management(http::Exchange& ex, pipeline::CallContext& ctx,
                                std::string_view path, std::string_view query);

    const routing::ModelTable& table_;
    const Lifecycle& life_;
    StoreServices* services_;
    std::vector<std::unique_ptr<http::UpstreamPool>>& pools_;
    pipeline::Authenticator auth_;
    pipeline::LlmHandler llm_;
};

}  // namespace sy::app
