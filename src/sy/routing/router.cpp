#include "sy/routing/router.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>

namespace sy::routing {
namespace {

using config::RoutingStrategy;

bool contains(std::span<DeploymentRuntime* const> v, const DeploymentRuntime* d) {
    return std::find(v.begin(), v.end(), d) != v.end();
}

bool caps_apply(RoutingStrategy s) {
    return s == RoutingStrategy::kUsageBased || s == RoutingStrategy::kLatencyBased ||
           s == RoutingStrategy::kCostBased;
}

const std::vector<std::string>* rule_targets(const std::vector<config::FallbackRule>& rules,
                                             std::string_view group) {
    for (const auto& r : rules) {
        if (r.group == group) {
            return &r.targets;
        }
    }
    return nullptr;
}

}  // namespace

Router::Router(const ModelTable& table, RouterPolicy policy)
    : table_(table), policy_(std::move(policy)) {}

bool Router::over_caps(const DeploymentRuntime& d, std::uint64_t prompt_tokens,
                       TimePoint now) const {
    const auto& c = *d.cfg;
    if (c.max_parallel_requests && d.state->in_flight() >= *c.max_parallel_requests) {
        return true;
    }
    if (!caps_apply(policy_.strategy) || (!c.rpm && !c.tpm)) {
        return false;
    }
    auto u = d.state->usage(now);
    if (c.rpm && u.attempts + 1 > static_cast<std::uint64_t>(*c.rpm)) {
        return true;
    }
    return c.tpm && u.tokens + prompt_tokens > static_cast<std::uint64_t>(*c.tpm);
}

Selection Router::select(const SelectInput& in) const {
    Selection out;
    const ModelGroup& g = *in.group;
    if (g.members.empty()) {
        out.why = Selection::Why::kEmpty;
        return out;
    }
    // Fast path: one deployment, no limits, never cooled.
    if (g.members.size() == 1) {
        DeploymentRuntime* d = g.members.front();
        auto gate = d->state->gate(in.now);
        if (gate == DeploymentState::Gate::kOpen && !over_caps(*d, in.prompt_tokens, in.now)) {
            out.deployment = d;
            return out;
        }
    }
    std::vector<std::size_t> idx;
    idx.reserve(g.members.size());
    double min_cooldown = std::numeric_limits<double>::infinity();
    int min_capacity = std::numeric_limits<int>::max();
    for (std::size_t i = 0; i < g.members.size(); ++i) {
        DeploymentRuntime* d = g.members[i];
        if (d->state->gate(in.now) == DeploymentState::Gate::kCooling) {
            min_cooldown = std::min(min_cooldown, d->state->cooldown_remaining_s(in.now));
            continue;
        }
        if (over_caps(*d, in.prompt_tokens, in.now)) {
            min_capacity = std::min(min_capacity, d->state->seconds_until_usage_frees(in.now));
            continue;
        }
        idx.push_back(i);
    }
    // Deployments a background health check found unhealthy, unless that would drop all.
    if (idx.size() > 1) {
        auto unhealthy = [&](std::size_t i) {
            return g.members[i]->state->checked() == DeploymentState::Checked::kUnhealthy;
        };
        if (!std::all_of(idx.begin(), idx.end(), unhealthy)) {
            std::erase_if(idx, unhealthy);
        }
    }
    // `order`: keep the lowest value present; unordered deployments rank after ordered ones.
    if (!idx.empty()) {
        int best = std::numeric_limits<int>::max();
        for (auto i : idx) {
            best = std::min(best, g.members[i]->cfg->order.value_or(std::numeric_limits<int>::max()));
        }
        std::erase_if(idx, [&](std::size_t i) {
            return g.members[i]->cfg->order.value_or(std::numeric_limits<int>::max()) != best;
        });
    }
    // Prefer deployments this request has not tried yet.
    if (!in.tried.empty()) {
        std::vector<std::size_t> fresh;
        for (auto i : idx) {
            if (!contains(in.tried, g.members[i])) {
                fresh.push_back(i);
            }
        }
        if (!fresh.empty()) {
            idx = std::move(fresh);
        }
    }
    while (!idx.empty()) {
        DeploymentRuntime* d = pick(g, idx, in.stream, in.now);
        if (d->state->gate(in.now) != DeploymentState::Gate::kProbe) {
            out.deployment = d;
            return out;
        }
        if (d->state->claim_probe()) {
            out.deployment = d;
            out.probe = true;
            return out;
        }
        // Another request took the probe first: this one is cooling after all.
        min_cooldown = std::min(min_cooldown, 1.0);
        std::erase_if(idx, [&](std::size_t i) { return g.members[i] == d; });
    }
    if (min_cooldown != std::numeric_limits<double>::infinity()) {
        out.why = Selection::Why::kCooldown;
        out.retry_after_s = std::max(1, static_cast<int>(std::ceil(min_cooldown)));
    } else {
        out.why = Selection::Why::kCapacity;
        out.retry_after_s = min_capacity == std::numeric_limits<int>::max() ? 1 : min_capacity;
    }
    return out;
}

std::size_t Router::swrr(const ModelGroup& g, const std::vector<std::size_t>& idx) const {
    std::lock_guard lk(g.mu);
    double total = 0;
    for (auto i : idx) {
        total += g.weights[i];
    }
    bool equal = total <= 0;  // every weight 0: treat them as equal
    std::size_t best = idx.front();
    for (auto i : idx) {
        g.current[i] += equal ? 1.0 : g.weights[i];
        if (g.current[i] > g.current[best]) {
            best = i;
        }
    }
    g.current[best] -= equal ? static_cast<double>(idx.size()) : total;
    return best;
}

DeploymentRuntime* Router::pick(const ModelGroup& g, std::vector<std::size_t>& idx, bool stream,
                                TimePoint now) const {
    if (idx.size() == 1) {
        return g.members[idx.front()];
    }
    switch (policy_.strategy) {
        case RoutingStrategy::kLeastBusy: {
            int low = std::numeric_limits<int>::max();
            for (auto i : idx) {
                low = std::min(low, g.members[i]->state->in_flight());
            }
            std::vector<std::size_t> tied;
            for (auto i : idx) {
                if (g.members[i]->state->in_flight() == low) {
                    tied.push_back(i);
                }
            }
            return g.members[swrr(g, tied)];
        }
        case RoutingStrategy::kLatencyBased: {
            auto ttl = std::chrono::duration<double>(policy_.latency_ttl_s);
            std::vector<double> score(idx.size());
            double lowest = std::numeric_limits<double>::infinity();
            for (std::size_t k = 0; k < idx.size(); ++k) {
                score[k] = g.members[idx[k]]->state->latency_score(now, ttl, stream).value_or(0.0);
                lowest = std::min(lowest, score[k]);
            }
            std::vector<std::size_t> near;
            for (std::size_t k = 0; k < idx.size(); ++k) {
                if (score[k] <= lowest * (1.0 + policy_.latency_buffer)) {
                    near.push_back(idx[k]);
                }
            }
            if (near.size() == 1) {
                return g.members[near.front()];
            }
            thread_local std::minstd_rand rng{std::random_device{}()};
            std::uniform_int_distribution<std::size_t> dist(0, near.size() - 1);
            return g.members[near[dist(rng)]];
        }
        case RoutingStrategy::kUsageBased:
        case RoutingStrategy::kCostBased: {
            std::uint64_t low = std::numeric_limits<std::uint64_t>::max();
            std::vector<std::uint64_t> used(idx.size());
            for (std::size_t k = 0; k < idx.size(); ++k) {
                used[k] = g.members[idx[k]]->state->usage(now).tokens;
                low = std::min(low, used[k]);
            }
            std::vector<std::size_t> tied;
            for (std::size_t k = 0; k < idx.size(); ++k) {
                if (used[k] == low) {
                    tied.push_back(idx[k]);
                }
            }
            return g.members[swrr(g, tied)];
        }
        case RoutingStrategy::kSimpleShuffle:
            break;
    }
    return g.members[swrr(g, idx)];
}

void Router::record(DeploymentRuntime& d, const Outcome& o, TimePoint now) const {
    DeploymentState& s = *d.state;
    switch (o.kind) {
        case Outcome::Kind::kSuccess: {
            s.record_success(now, static_cast<std::int64_t>(o.latency_s * 1e6), o.probe);
            if (o.stream) {
                if (o.ttft_s >= 0) {
                    s.add_latency_sample(now, std::min(o.ttft_s, 60.0), true,
                                         policy_.max_latency_list_size);
                }
            } else {
                double v = o.completion_tokens >= 5
                               ? o.latency_s / static_cast<double>(o.completion_tokens)
                               : o.latency_s;
                s.add_latency_sample(now, std::min(v, 60.0), false, policy_.max_latency_list_size);
            }
            if (o.total_tokens > 0) {
                s.add_tokens(now, o.total_tokens);
            }
            return;
        }
        case Outcome::Kind::kNeutral:
            s.record_neutral(o.probe);
            return;
        case Outcome::Kind::kFailure:
            break;
    }
    CooldownEffect effect = cooldown_effect(o.cls);
    if (effect == CooldownEffect::kNever) {
        s.record_neutral(o.probe);
        return;
    }
    auto totals = s.record_failure(now, o.cls, o.status, o.text, o.probe);
    s.add_latency_sample(now, 1000.0, o.stream, policy_.max_latency_list_size);
    bool cool = o.probe || effect == CooldownEffect::kNow ||
                policy_.trips(o.cls, totals.attempts, totals.failures,
                              totals.by_class[static_cast<std::size_t>(o.cls)]);
    if (!cool) {
        return;
    }
    if (auto len = policy_.cooldown_length(d.cfg->cooldown_time_s, o.retry_after_s)) {
        s.start_cooldown(now, *len, o.status, o.text);
        if (observer_) {
            observer_(d, *len, o.status, o.text);
        }
    } else if (o.probe) {
        s.record_neutral(true);
    }
}

bool Router::has_untried(const ModelGroup& group, std::span<DeploymentRuntime* const> tried,
                         TimePoint now) const {
    for (auto* d : group.members) {
        if (!contains(tried, d) && d->state->gate(now) != DeploymentState::Gate::kCooling) {
            return true;
        }
    }
    return false;
}

std::vector<std::string> Router::fallbacks_for(
    std::string_view group, FailureClass cls,
    const std::vector<std::string>* request_fallbacks) const {
    const auto& r = table_.settings().router;
    const std::vector<std::string>* list = nullptr;
    if (cls == FailureClass::kBadRequest || cls == FailureClass::kNeutral) {
        list = nullptr;  // the request's fault, or the gateway's: no fallback
    } else if (request_fallbacks) {
        list = request_fallbacks;
    } else if (cls == FailureClass::kContextWindow) {
        list = rule_targets(r.context_window_fallbacks, group);
    } else if (cls == FailureClass::kContentPolicy) {
        list = rule_targets(r.content_policy_fallbacks, group);
    } else {
        list = rule_targets(r.fallbacks, group);
        if (!list) {
            list = rule_targets(r.fallbacks, "*");
        }
        if (!list && !r.default_fallbacks.empty()) {
            list = &r.default_fallbacks;
        }
    }
    std::vector<std::string> out;
    if (!list) {
        return out;
    }
    for (const auto& name : *list) {
        if (name == group || std::find(out.begin(), out.end(), name) != out.end()) {
            continue;
        }
        if (static_cast<int>(out.size()) >= policy_.max_fallbacks) {
            break;
        }
        out.push_back(name);
    }
    return out;
}

}  // namespace sy::routing
