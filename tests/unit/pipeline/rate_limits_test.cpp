#include "sy/pipeline/rate_limits.hpp"  // self-contained header check

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/detached.hpp>
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "sy/ratelimit/local_limiter.hpp"

namespace sy::pipeline {
namespace {

namespace json = boost::json;
using ratelimit::Scope;

// A governor with key "h1" (user alice, team t1, per-model limits), alice, t1 and customer c1.
void fill(auth::Governor& g) {
    g.put_key(json::object{{"token", "h1"},
                           {"user_id", "alice"},
                           {"team_id", "t1"},
                           {"rpm_limit", 3},
                           {"tpm_limit", 1000},
                           {"max_parallel_requests", 2},
                           {"metadata", json::object{{"model_rpm_limit", json::object{{"g1", 5}}},
                                                     {"model_tpm_limit", json::object{{"g1", 50}}}}}});
    g.put_key(json::object{{"token", "plain"}});
    // metadata as stored text (SQLite/PostgreSQL TEXT column)
    g.put_key(json::object{{"token", "h2"},
                           {"metadata", R"({"model_rpm_limit":{"g2":7}})"}});
    g.put_user(json::object{{"user_id", "alice"}, {"rpm_limit", 10}, {"max_parallel_requests", 9}});
    g.put_team(json::object{{"team_id", "t1"}, {"tpm_limit", 5000}});
    g.put_customer(json::object{{"user_id", "c1"}, {"rpm_limit", 2}});
}

CallContext call(const auth::Governor& g, std::string_view token, std::string_view group,
                 std::string end_user = {}) {
    CallContext ctx;
    auth::KeyInfoConstPtr k;
    if (!token.empty()) {
        EXPECT_EQ(g.find_key(std::string(token), k), auth::Lookup::kFound);
    }
    ctx.key = k;
    ctx.is_master = token.empty();
    ctx.model_group = group;
    ctx.requested_model = std::string(group);
    ctx.end_user = std::move(end_user);
    return ctx;
}

const ratelimit::Descriptor* find(const ratelimit::Request& r, Scope s) {
    for (const auto& d : r.descriptors) {
        if (d.scope == s) {
            return &d;
        }
    }
    return nullptr;
}

TEST(LimitRequest, VirtualKeyGetsKeyUserTeamModelAndEndUserDescriptors) {
    auth::Governor g;
    fill(g);
    auto ctx = call(g, "h1", "g1", "c1");
    auto r = limit_request(g, ctx, {}, 40);
    ASSERT_EQ(r.descriptors.size(), 5U);
    const auto* k = find(r, Scope::kApiKey);
    ASSERT_TRUE(k);
    EXPECT_EQ(k->id, "h1");
    EXPECT_EQ(k->limits.rpm, 3);
    EXPECT_EQ(k->limits.tpm, 1000);
    EXPECT_EQ(k->limits.max_parallel, 2);
    const auto* m = find(r, Scope::kModelPerKey);
    ASSERT_TRUE(m);
    EXPECT_EQ(m->id, "h1:g1");
    EXPECT_EQ(m->model_group, "g1");
    EXPECT_EQ(m->limits.rpm, 5);
    EXPECT_EQ(m->limits.tpm, 50);
    const auto* u = find(r, Scope::kUser);
    ASSERT_TRUE(u);
    EXPECT_EQ(u->id, "alice");
    EXPECT_EQ(u->limits.rpm, 10);
    EXPECT_FALSE(u->limits.max_parallel);  // §10.1: users have rpm/tpm only
    const auto* t = find(r, Scope::kTeam);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->limits.tpm, 5000);
    const auto* e = find(r, Scope::kEndUser);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->id, "c1");
    EXPECT_EQ(e->limits.rpm, 2);
    EXPECT_EQ(r.estimated_tokens, 40);  // D9: total tokens -> the prompt estimate is reserved
}

TEST(LimitRequest, PerModelLimitsOnlyForTheirGroupAndFromStoredText) {
    auth::Governor g;
    fill(g);
    auto other = limit_request(g, call(g, "h1", "g9"), {}, 0);
    EXPECT_FALSE(find(other, Scope::kModelPerKey));
    auto text = limit_request(g, call(g, "h2", "g2"), {}, 0);
    ASSERT_EQ(text.descriptors.size(), 1U);
    EXPECT_EQ(text.descriptors[0].scope, Scope::kModelPerKey);
    EXPECT_EQ(text.descriptors[0].limits.rpm, 7);
}

TEST(LimitRequest, MasterKeyOnlyGetsTheEndUserLimits) {
    auth::Governor g;
    fill(g);
    RateLimitOptions o;
    o.global_max_parallel = 100;
    auto r = limit_request(g, call(g, "", "g1", "c1"), o, 10);
    ASSERT_EQ(r.descriptors.size(), 1U);  // no api_key/user/team/model/global (D6)
    EXPECT_EQ(r.descriptors[0].scope, Scope::kEndUser);
    EXPECT_TRUE(limit_request(g, call(g, "", "g1"), o, 10).descriptors.empty());
    EXPECT_TRUE(limit_request(g, call(g, "", "g1", "unknown-customer"), o, 10).descriptors.empty());
}

TEST(LimitRequest, UnlimitedKeyHasNoDescriptorsUnlessGlobalIsSet) {
    auth::Governor g;
    fill(g);
    EXPECT_TRUE(limit_request(g, call(g, "plain", "g1"), {}, 10).descriptors.empty());
    RateLimitOptions o;
    o.global_max_parallel = 4;
    auto r = limit_request(g, call(g, "plain", "g1"), o, 10);
    ASSERT_EQ(r.descriptors.size(), 1U);
    EXPECT_EQ(r.descriptors[0].scope, Scope::kGlobal);
    EXPECT_EQ(r.descriptors[0].limits.max_parallel, 4);
}

TEST(LimitRequest, OutputCountingReservesNoPromptEstimate) {
    auth::Governor g;
    fill(g);
    RateLimitOptions o;
    o.counting = ratelimit::TokenCounting::kOutput;
    EXPECT_EQ(limit_request(g, call(g, "h1", "g1"), o, 40).estimated_tokens, 0);
}

TEST(RateLimitOptions, ReadsGeneralSettings) {
    config::Settings s;
    s.general.global_max_parallel_requests = 8;
    s.general.other_settings_json =
        R"({"fail_closed_rate_limit_enforcement":true,"token_rate_limit_type":"input"})";
    auto o = RateLimitOptions::from_settings(s);
    EXPECT_EQ(o.global_max_parallel, 8);
    EXPECT_TRUE(o.fail_closed);
    EXPECT_EQ(o.counting, ratelimit::TokenCounting::kInput);
}

Status run_admit(LimiterHook& hook, CallContext& ctx, std::int64_t estimate) {
    boost::asio::io_context io;
    std::optional<Status> out;
    auto body = [&]() -> boost::asio::awaitable<void> {
        out.emplace(co_await hook.admit(ctx, estimate));
    };
    boost::asio::co_spawn(io, body(), boost::asio::detached);
    io.run();
    return std::move(*out);
}

std::string header(const std::vector<Header>& hs, std::string_view name) {
    for (const Header& h : hs) {
        if (h.name == name) {
            return h.value;
        }
    }
    return "<absent>";
}

TEST(LimiterHook, AdmitsThenRejectsWithHeadersAndReleasesParallelSlots) {
    auth::Governor g;
    fill(g);
    ratelimit::LocalLimiter lim;
    LimiterHook hook(g, lim, {});
    // rpm 3 on the key, max_parallel 2.
    std::vector<CallContext> held;
    for (int i = 0; i < 2; ++i) {
        held.push_back(call(g, "h1", "g9"));
        ASSERT_TRUE(run_admit(hook, held.back(), 10));
        EXPECT_TRUE(held.back().rate_limit.active());
        EXPECT_NE(held.back().rate_limit_headers.find("x-ratelimit-remaining-requests: "),
                  std::string::npos)
            << held.back().rate_limit_headers;
    }
    auto third = call(g, "h1", "g9");
    auto st = run_admit(hook, third, 10);
    ASSERT_FALSE(st);  // parallel limit
    EXPECT_EQ(st.error().http_status(), 429);
    EXPECT_EQ(header(st.error().headers, "rate_limit_type"), "max_parallel_requests");
    EXPECT_FALSE(third.rate_limit.active());
    held[0].prompt_tokens = 5;
    held[0].completion_tokens = 7;
    hook.release(held[0]);  // settled with 12 tokens
    EXPECT_FALSE(held[0].rate_limit.active());
    hook.release(held[1]);  // no tokens: cancelled
    ASSERT_TRUE(run_admit(hook, third, 10));  // the 3rd request of the minute
    hook.release(third);
    auto fourth = call(g, "h1", "g9");
    st = run_admit(hook, fourth, 10);
    ASSERT_FALSE(st);
    EXPECT_EQ(header(st.error().headers, "rate_limit_type"), "requests");
    EXPECT_EQ(header(st.error().headers, "x-ratelimit-limit-requests"), "3");
    EXPECT_EQ(header(st.error().headers, "x-ratelimit-remaining-requests"), "0");
    EXPECT_NE(header(st.error().headers, "retry-after"), "<absent>");
}

TEST(LimiterHook, NoLimitNoReservationNoHeaders) {
    auth::Governor g;
    fill(g);
    ratelimit::LocalLimiter lim;
    LimiterHook hook(g, lim, {});
    auto ctx = call(g, "plain", "g1");
    ASSERT_TRUE(run_admit(hook, ctx, 10));
    EXPECT_FALSE(ctx.rate_limit.active());
    EXPECT_TRUE(ctx.rate_limit_headers.empty());
    hook.release(ctx);
}

}  // namespace
}  // namespace sy::pipeline
