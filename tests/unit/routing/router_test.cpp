#include <gtest/gtest.h>

#include <map>

#include "sy/routing/router.hpp"

namespace sy::routing {
namespace {

using namespace std::chrono_literals;

config::Deployment dep(std::string group, std::string id) {
    config::Deployment d;
    d.model_name = std::move(group);
    d.model = "openai/m";
    d.provider = "openai";
    d.upstream_model = "m";
    d.api_base = "http://127.0.0.1:1/v1";
    d.id = std::move(id);
    return d;
}

struct Fixture {
    explicit Fixture(std::vector<config::Deployment> ds,
                     std::function<void(config::Settings&)> tweak = {}) {
        auto s = std::make_shared<config::Settings>();
        s->model_list = std::move(ds);
        if (tweak) {
            tweak(*s);
        }
        table = std::move(ModelTable::build(s)).value();
        router = std::make_unique<Router>(*table, RouterPolicy::from_settings(*s));
    }
    Selection pick(std::string_view group, TimePoint now,
                   std::vector<DeploymentRuntime*> tried = {}, bool stream = false) {
        SelectInput in;
        in.group = table->group(group);
        in.tried = tried;
        in.now = now;
        in.stream = stream;
        return router->select(in);
    }
    DeploymentRuntime& byid(std::string_view id) {
        for (auto& d : table->deployments()) {
            if (d->cfg->id == id) {
                return *d;
            }
        }
        throw std::runtime_error("no such deployment");
    }
    void fail(std::string_view id, FailureClass c, TimePoint now, bool probe = false,
              std::optional<double> retry_after = {}) {
        Outcome o;
        o.kind = Outcome::Kind::kFailure;
        o.cls = c;
        o.status = c == FailureClass::kRateLimit ? 429 : 503;
        o.probe = probe;
        o.retry_after_s = retry_after;
        router->record(byid(id), o, now);
    }
    void succeed(std::string_view id, TimePoint now, double latency_s = 0.1, bool probe = false) {
        Outcome o;
        o.latency_s = latency_s;
        o.probe = probe;
        router->record(byid(id), o, now);
    }
    std::unique_ptr<ModelTable> table;
    std::unique_ptr<Router> router;
};

const TimePoint kT0 = TimePoint{} + 1000s;

TEST(SimpleShuffle, WeightsThreeToOneGiveExactlyThreeToOne) {
    auto a = dep("g", "a");
    a.weight = 3;
    auto b = dep("g", "b");
    b.weight = 1;
    Fixture f({a, b});
    std::map<std::string, int> n;
    for (int i = 0; i < 400; ++i) {
        ++n[f.pick("g", kT0).deployment->cfg->id];
    }
    EXPECT_EQ(n["a"], 300);
    EXPECT_EQ(n["b"], 100);
}

TEST(SimpleShuffle, MissingWeightCountsAsOneAndRpmIsUsedWhenAllHaveIt) {
    auto a = dep("g", "a");
    a.weight = 2;
    Fixture f({a, dep("g", "b")});
    std::map<std::string, int> n;
    for (int i = 0; i < 300; ++i) {
        ++n[f.pick("g", kT0).deployment->cfg->id];
    }
    EXPECT_EQ(n["a"], 200);
    EXPECT_EQ(n["b"], 100);

    auto c = dep("h", "c");
    c.rpm = 100;
    auto d = dep("h", "d");
    d.rpm = 300;
    Fixture f2({c, d});
    std::map<std::string, int> m;
    for (int i = 0; i < 400; ++i) {
        ++m[f2.pick("h", kT0).deployment->cfg->id];
    }
    EXPECT_EQ(m["c"], 100);
    EXPECT_EQ(m["d"], 300);
}

TEST(Cooldown, RateLimitCoolsAtOnceEvenASingleDeployment) {
    Fixture f({dep("g", "a")});
    f.fail("a", FailureClass::kRateLimit, kT0, false, 2.0);
    auto s = f.pick("g", kT0 + 500ms);
    EXPECT_EQ(s.deployment, nullptr);
    EXPECT_EQ(s.why, Selection::Why::kCooldown);
    EXPECT_EQ(s.retry_after_s, 2);
    EXPECT_EQ(f.pick("g", kT0 + 1500ms).retry_after_s, 1);
}

TEST(Cooldown, HalfOpenLetsExactlyOneProbeThrough) {
    Fixture f({dep("g", "a")});
    f.fail("a", FailureClass::kRateLimit, kT0);  // router default: 5 s
    EXPECT_EQ(f.pick("g", kT0 + 4s).deployment, nullptr);
    auto probe = f.pick("g", kT0 + 6s);
    ASSERT_NE(probe.deployment, nullptr);
    EXPECT_TRUE(probe.probe);
    // While the probe runs, everyone else is still turned away.
    EXPECT_EQ(f.pick("g", kT0 + 6s).deployment, nullptr);
    // The probe fails: cooled again.
    f.fail("a", FailureClass::kServer, kT0 + 7s, true);
    EXPECT_EQ(f.pick("g", kT0 + 8s).deployment, nullptr);
    auto probe2 = f.pick("g", kT0 + 13s);
    ASSERT_TRUE(probe2.probe);
    f.succeed("a", kT0 + 13s, 0.1, true);
    // Closed: any number of requests pass.
    for (int i = 0; i < 3; ++i) {
        auto s = f.pick("g", kT0 + 14s);
        ASSERT_NE(s.deployment, nullptr);
        EXPECT_FALSE(s.probe);
    }
}

TEST(Cooldown, ProbeSlotIsFreedWhenTheProbeEndsNeutral) {
    Fixture f({dep("g", "a")});
    f.fail("a", FailureClass::kAuth, kT0);
    auto p = f.pick("g", kT0 + 6s);
    ASSERT_TRUE(p.probe);
    Outcome gone;
    gone.kind = Outcome::Kind::kNeutral;
    gone.probe = true;
    f.router->record(f.byid("a"), gone, kT0 + 6s);
    EXPECT_TRUE(f.pick("g", kT0 + 6s).probe);
}

TEST(Cooldown, FailureRateRuleNeedsFiveAttemptsOverHalfFailed) {
    Fixture f({dep("g", "a"), dep("g", "b")});
    for (int i = 0; i < 4; ++i) {
        f.fail("a", FailureClass::kServer, kT0);
    }
    EXPECT_EQ(f.byid("a").state->gate(kT0), DeploymentState::Gate::kOpen);
    f.fail("a", FailureClass::kServer, kT0 + 1s);
    EXPECT_EQ(f.byid("a").state->gate(kT0 + 1s), DeploymentState::Gate::kCooling);
    // The healthy deployment takes everything meanwhile.
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(f.pick("g", kT0 + 2s).deployment->cfg->id, "b");
    }
    // Old failures leave the 60 s window.
    Fixture g({dep("g", "a")});
    for (int i = 0; i < 4; ++i) {
        g.fail("a", FailureClass::kServer, kT0);
    }
    g.fail("a", FailureClass::kServer, kT0 + 61s);
    EXPECT_EQ(g.byid("a").state->gate(kT0 + 61s), DeploymentState::Gate::kOpen);
}

TEST(Cooldown, BadRequestsNeverCoolAndDeploymentCooldownZeroNeverCools) {
    auto a = dep("g", "a");
    Fixture f({a});
    for (int i = 0; i < 20; ++i) {
        f.fail("a", FailureClass::kBadRequest, kT0);
    }
    EXPECT_EQ(f.byid("a").state->gate(kT0), DeploymentState::Gate::kOpen);
    a.cooldown_time_s = 0;
    Fixture g({a});
    g.fail("a", FailureClass::kRateLimit, kT0);
    EXPECT_EQ(g.byid("a").state->gate(kT0), DeploymentState::Gate::kOpen);
}

TEST(Selection, OrderThenUntriedFirst) {
    auto a = dep("g", "a");
    a.order = 1;
    auto b = dep("g", "b");
    b.order = 2;
    auto c = dep("g", "c");
    c.order = 2;
    Fixture f({a, b, c});
    EXPECT_EQ(f.pick("g", kT0).deployment->cfg->id, "a");
    f.fail("a", FailureClass::kRateLimit, kT0);
    auto first = f.pick("g", kT0).deployment;
    ASSERT_NE(first, nullptr);
    EXPECT_NE(first->cfg->id, "a");
    auto second = f.pick("g", kT0, {first}).deployment;
    EXPECT_NE(second, first);
    EXPECT_NE(second->cfg->id, "a");
    EXPECT_TRUE(f.router->has_untried(*f.table->group("g"), std::vector{first}, kT0));
    EXPECT_FALSE(f.router->has_untried(*f.table->group("g"), std::vector{first, second}, kT0));
}

TEST(LeastBusy, PicksTheDeploymentWithFewestInFlight) {
    Fixture f({dep("g", "a"), dep("g", "b"), dep("g", "c")}, [](config::Settings& s) {
        s.router.routing_strategy = config::RoutingStrategy::kLeastBusy;
    });
    AttemptLease la1(*f.byid("a").state, kT0);
    AttemptLease la2(*f.byid("a").state, kT0);
    AttemptLease lc(*f.byid("c").state, kT0);
    EXPECT_EQ(f.pick("g", kT0).deployment->cfg->id, "b");
    {
        AttemptLease lb1(*f.byid("b").state, kT0);
        AttemptLease lb2(*f.byid("b").state, kT0);
        EXPECT_EQ(f.pick("g", kT0).deployment->cfg->id, "c");
    }
    EXPECT_EQ(f.pick("g", kT0).deployment->cfg->id, "b");
}

TEST(LatencyBased, PrefersTheFasterDeploymentAndTriesNewOnesFirst) {
    Fixture f({dep("g", "fast"), dep("g", "slow")}, [](config::Settings& s) {
        s.router.routing_strategy = config::RoutingStrategy::kLatencyBased;
    });
    f.succeed("fast", kT0, 0.1);
    // "slow" has no sample yet: it scores 0 and is tried.
    EXPECT_EQ(f.pick("g", kT0).deployment->cfg->id, "slow");
    f.succeed("slow", kT0, 1.0);
    for (int i = 0; i < 20; ++i) {
        EXPECT_EQ(f.pick("g", kT0 + 1s).deployment->cfg->id, "fast");
    }
    // A failure is a 1000 s penalty sample.
    f.fail("fast", FailureClass::kTimeout, kT0 + 2s);
    f.fail("fast", FailureClass::kTimeout, kT0 + 2s);
    EXPECT_EQ(f.pick("g", kT0 + 3s).deployment->cfg->id, "slow");
}

TEST(UsageBased, RpmCapsAreHardLimits) {
    auto a = dep("g", "a");
    a.rpm = 2;
    auto b = dep("g", "b");
    b.rpm = 1;
    Fixture f({a, b}, [](config::Settings& s) {
        s.router.routing_strategy = config::RoutingStrategy::kUsageBased;
    });
    int got = 0;
    for (int i = 0; i < 5; ++i) {
        auto s = f.pick("g", kT0);
        if (s.deployment) {
            AttemptLease l(*s.deployment->state, kT0);
            ++got;
        } else {
            EXPECT_EQ(s.why, Selection::Why::kCapacity);
            EXPECT_GE(s.retry_after_s, 1);
        }
    }
    EXPECT_EQ(got, 3);
    EXPECT_NE(f.pick("g", kT0 + 61s).deployment, nullptr);
}

TEST(Parallel, DeploymentAtMaxParallelIsSkipped) {
    auto a = dep("g", "a");
    a.max_parallel_requests = 1;
    Fixture f({a, dep("g", "b")});
    AttemptLease l(*f.byid("a").state, kT0);
    for (int i = 0; i < 4; ++i) {
        EXPECT_EQ(f.pick("g", kT0).deployment->cfg->id, "b");
    }
}

TEST(HealthChecks, UnhealthyDeploymentsAreSkippedUnlessAllAre) {
    Fixture f({dep("g", "a"), dep("g", "b")});
    f.byid("a").state->set_checked(false);
    for (int i = 0; i < 6; ++i) {
        EXPECT_EQ(f.pick("g", kT0).deployment->cfg->id, "b");
    }
    f.byid("b").state->set_checked(false);
    std::map<std::string, int> n;
    for (int i = 0; i < 6; ++i) {
        ++n[f.pick("g", kT0).deployment->cfg->id];
    }
    EXPECT_EQ(n["a"], 3);
    EXPECT_EQ(n["b"], 3);
}

TEST(Fallbacks, ListChosenByErrorClass) {
    Fixture f({dep("g", "a"), dep("h", "b"), dep("k", "c")}, [](config::Settings& s) {
        s.router.fallbacks = {{"g", {"h", "g", "k"}}};
        s.router.context_window_fallbacks = {{"g", {"k"}}};
        s.router.default_fallbacks = {"k"};
        s.router.max_fallbacks = 5;
    });
    using V = std::vector<std::string>;
    EXPECT_EQ(f.router->fallbacks_for("g", FailureClass::kServer, nullptr), (V{"h", "k"}));
    EXPECT_EQ(f.router->fallbacks_for("g", FailureClass::kContextWindow, nullptr), (V{"k"}));
    EXPECT_EQ(f.router->fallbacks_for("g", FailureClass::kContentPolicy, nullptr), V{});
    EXPECT_EQ(f.router->fallbacks_for("g", FailureClass::kBadRequest, nullptr), V{});
    EXPECT_EQ(f.router->fallbacks_for("h", FailureClass::kRateLimit, nullptr), (V{"k"}));
    V body{"h"};
    EXPECT_EQ(f.router->fallbacks_for("g", FailureClass::kServer, &body), (V{"h"}));
}

}  // namespace
}  // namespace sy::routing
