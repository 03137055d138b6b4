#pragma once
// Active health checks (router.md §11, README D21): the cheapest real call a deployment answers
// (chat: one token; embeddings: one short input), run only when asked (`/health?probe=true` by
// an admin) or every `health_check_interval` when `background_health_checks: true`. A probe
// never adds router samples or cooldowns; it only sets the deployment's checked-health flag,
// which selection uses to skip unhealthy deployments while a healthy one is left.
//
// Thread safety: probe() runs on the calling worker with that worker's pool. BackgroundProber
// runs on one worker's io_context; start() and stop() may be called from any thread.

#include <atomic>
#include <future>
#include <memory>
#include <string>

#include "sy/http/upstream.hpp"
#include "sy/routing/model_table.hpp"

namespace sy::pipeline {

struct ProbeResult {
    bool skipped = false;  // not probeable (wildcard without health_check_model, LATER provider)
    bool ok = false;
    int status = 0;         // upstream status; 0 when none arrived
    std::string error;      // short reason when not ok (keys scrubbed by the error mappers)
    double latency_ms = 0;
};

// Probes `d` once with a deadline of min(deployment timeout, 30 s) and records the verdict.
http::Task<ProbeResult> probe(http::UpstreamPool& pool, const config::Settings& settings,
                              routing::DeploymentRuntime& d);

class BackgroundProber {
public:
    BackgroundProber(http::net::io_context& io, http::UpstreamPool& pool,
                     const routing::ModelTable& table, double interval_s);
    ~BackgroundProber();
    void start();
    // Stops the loop and waits (bounded) until it has left the pool alone.
    void stop();

private:
    http::Task<void> loop();

    http::net::io_context& io_;
    http::UpstreamPool& pool_;
    const routing::ModelTable& table_;
    double interval_s_;
    std::unique_ptr<http::net::steady_timer> timer_;
    std::atomic<bool> stopping_{false};
    std::promise<void> done_;
    bool started_ = false;
};

}  // namespace sy::pipeline
