#pragma once
// Deployment selection and outcome bookkeeping (router.md §2-§6): which deployment of a group an
// attempt goes to (cooldowns, rpm/tpm caps, max_parallel_requests, `order`, untried first, then
// the strategy), what an attempt's outcome does to the deployment (cooldown, latency and usage
// samples), and which groups a failed request falls back to.
//
// The retry/fallback loop itself is the pipeline's (it owns the sockets); everything it asks the
// router is a plain function of the group, the deployments' state and `now`.
//
// Thread safety: a Router is shared by all workers. Per-deployment state is in
// DeploymentRuntime::state (atomics + a small mutex); the smooth weighted round-robin state is per
// group behind the group's mutex.

#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "sy/routing/deployment_state.hpp"
#include "sy/routing/model_table.hpp"
#include "sy/routing/policy.hpp"

namespace sy::routing {

struct SelectInput {
    const ModelGroup* group = nullptr;
    std::span<DeploymentRuntime* const> tried;  // deployments this request already tried
    bool stream = false;
    std::uint64_t prompt_tokens = 0;  // estimate, for tpm caps
    TimePoint now;
};

struct Selection {
    DeploymentRuntime* deployment = nullptr;  // null: nothing eligible
    bool probe = false;                       // this attempt is the half-open probe
    // When nothing is eligible: why, and when to try again.
    enum class Why : std::uint8_t { kNone, kCooldown, kCapacity, kEmpty } why = Why::kNone;
    int retry_after_s = 0;
};

struct Outcome {
    enum class Kind : std::uint8_t { kSuccess, kFailure, kNeutral } kind = Kind::kSuccess;
    FailureClass cls = FailureClass::kNeutral;
    int status = 0;                        // status reported to /health
    std::string text;                      // error text for /health
    std::optional<double> retry_after_s;   // provider's hint
    double latency_s = 0;                  // whole attempt
    double ttft_s = -1;                    // streaming: time to first event, when seen
    bool stream = false;
    std::uint64_t completion_tokens = 0;
    std::uint64_t total_tokens = 0;
    bool probe = false;
};

class Router {
public:
    Router(const ModelTable& table, RouterPolicy policy);

    Selection select(const SelectInput& in) const;
    void record(DeploymentRuntime& d, const Outcome& o, TimePoint now) const;

    // Groups to fall back to after `group` failed with `cls` (§6), in order, without the
    // requested group, at most max_fallbacks. `request_fallbacks` (the body's list) wins.
    std::vector<std::string> fallbacks_for(std::string_view group, FailureClass cls,
                                           const std::vector<std::string>* request_fallbacks) const;

    // True when `group` still has a deployment that is neither cooling nor in `tried`.
    bool has_untried(const ModelGroup& group, std::span<DeploymentRuntime* const> tried,
                     TimePoint now) const;

    // Called after this instance starts a cooldown (shared with other instances through Redis).
    using CooldownObserver = std::function<void(const DeploymentRuntime&, double seconds,
                                                int status, const std::string& reason)>;
    void set_cooldown_observer(CooldownObserver f) { observer_ = std::move(f); }

    const RouterPolicy& policy() const { return policy_; }
    const ModelTable& table() const { return table_; }

private:
    DeploymentRuntime* pick(const ModelGroup& g, std::vector<std::size_t>& idx, bool stream,
                            TimePoint now) const;
    std::size_t swrr(const ModelGroup& g, const std::vector<std::size_t>& idx) const;
    bool over_caps(const DeploymentRuntime& d, std::uint64_t prompt_tokens, TimePoint now) const;

    const ModelTable& table_;
    RouterPolicy policy_;
    CooldownObserver observer_;  // set before serving; read-only afterwards
};

// Counts an attempt as in flight (least-busy, rpm usage) for its lifetime.
class AttemptLease {
public:
    AttemptLease(DeploymentState& s, TimePoint now) : s_(&s) { s_->begin_attempt(now); }
    ~AttemptLease() {
        if (s_) {
            s_->end_attempt();
        }
    }
    AttemptLease(const AttemptLease&) = delete;
    AttemptLease& operator=(const AttemptLease&) = delete;

private:
    DeploymentState* s_;
};

}  // namespace sy::routing
