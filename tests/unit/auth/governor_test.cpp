#include "sy/auth/governor.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sy::auth {
namespace {

namespace json = boost::json;

TimePoint at(std::string_view iso) { return parse_iso(iso).value(); }

json::object key(std::string token) {
    return json::object{{"token", token}, {"spend", 0.0}, {"models", json::array{}}};
}

KeyInfoConstPtr find(Governor& g, const std::string& token) {
    KeyInfoConstPtr k;
    EXPECT_EQ(g.find_key(token, k), Lookup::kFound);
    return k;
}

TEST(Governor, UnknownKeyAuthoritativeVsShared) {
    Governor local(true);
    KeyInfoConstPtr k;
    EXPECT_EQ(local.find_key("h", k), Lookup::kUnknown);
    Governor shared(false);
    EXPECT_EQ(shared.find_key("h", k), Lookup::kMiss);
    shared.note_lookup("h", std::nullopt);
    EXPECT_EQ(shared.find_key("h", k), Lookup::kUnknown);  // negative cache
    shared.note_lookup("h", key("h"));
    EXPECT_EQ(shared.find_key("h", k), Lookup::kFound);
}

TEST(Governor, BlockedExpiredAndTeamChecks) {
    Governor g;
    auto row = key("h");
    row["blocked"] = true;
    g.put_key(row);
    auto st = g.check_key(*find(g, "h"), at("2026-01-01T00:00:00Z"));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().http_status(), 401);
    EXPECT_EQ(st.error().message, "Authentication Error, Key is blocked.");

    row["blocked"] = false;
    row["expires"] = "2026-01-01T00:00:00Z";
    g.put_key(row);
    st = g.check_key(*find(g, "h"), at("2026-01-01T00:00:01Z"));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().http_status(), 401);
    EXPECT_EQ(st.error().http_type(), "expired_key");
    EXPECT_TRUE(g.check_key(*find(g, "h"), at("2025-12-31T23:59:59Z")));

    row["expires"] = nullptr;
    row["team_id"] = "t1";
    g.put_key(row);
    EXPECT_FALSE(g.check_key(*find(g, "h"), at("2026-01-01T00:00:00Z")));  // no such team
    g.put_team(json::object{{"team_id", "t1"}, {"blocked", true}});
    st = g.check_key(*find(g, "h"), at("2026-01-01T00:00:00Z"));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message, "Authentication Error, Team is blocked.");
}

TEST(Governor, ModelAccessHonoursPatternsAliasesAndAllProxyModels) {
    Governor g;
    auto row = key("h");
    row["models"] = json::array{"gpt-fast", "openai/*"};
    g.put_key(row);
    auto k = find(g, "h");
    EXPECT_TRUE(g.check_model(*k, "gpt-fast", "gpt-fast"));
    EXPECT_TRUE(g.check_model(*k, "openai/gpt-4o", "openai/*"));
    EXPECT_TRUE(g.check_model(*k, "fast-alias", "gpt-fast"));  // resolved group passes
    auto st = g.check_model(*k, "claude-quality", "claude-quality");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().http_status(), 403);
    EXPECT_EQ(st.error().http_type(), "key_model_access_denied");
    EXPECT_EQ(st.error().message,
              "key not allowed to access model. This key can only access models=['gpt-fast', "
              "'openai/*']. Tried to access claude-quality");
    row["models"] = json::array{"all-proxy-models"};
    g.put_key(row);
    EXPECT_TRUE(g.check_model(*find(g, "h"), "anything", "anything"));
    // Team list applies to team keys.
    row["models"] = json::array{};
    row["team_id"] = "t1";
    g.put_key(row);
    g.put_team(json::object{{"team_id", "t1"}, {"models", json::array{"gpt-fast"}}});
    st = g.check_model(*find(g, "h"), "claude-quality", "claude-quality");
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().http_type(), "team_model_access_denied");
}

TEST(Governor, BudgetReserveSettleAndUniformComparison) {
    Governor g;
    auto row = key("h");
    row["max_budget"] = 1.0;
    g.put_key(row);
    auto k = find(g, "h");
    TimePoint now = at("2026-01-01T00:00:00Z");
    auto a = g.admit(k.get(), "", 0.6, now);
    ASSERT_TRUE(a);
    // In flight: 0.6 reserved; a second worst-case 0.6 still fits (0.6 < 1.0) ...
    auto b = g.admit(k.get(), "", 0.6, now);
    ASSERT_TRUE(b);
    // ... but now 1.2 >= 1.0 is reserved: refused, nothing changes.
    auto c = g.admit(k.get(), "", 0.1, now);
    ASSERT_FALSE(c);
    EXPECT_EQ(c.error().http_status(), 429);
    EXPECT_EQ(c.error().http_type(), "budget_exceeded");
    EXPECT_EQ(c.error().message, "Budget has been exceeded! Current cost: 1.2, Max budget: 1.0");
    g.settle(a.value(), 0.5);
    g.settle(b.value(), 0.5);
    EXPECT_DOUBLE_EQ(g.spend_of("k:h"), 1.0);
    auto d = g.admit(k.get(), "", 0, now);
    ASSERT_FALSE(d);  // spend >= max_budget
    EXPECT_TRUE(d.error().headers.empty());  // no reset scheduled: no retry-after
    // max_budget 0 refuses everything.
    row["max_budget"] = 0.0;
    row["token"] = "z";
    g.put_key(row);
    EXPECT_FALSE(g.admit(find(g, "z").get(), "", 0, now));
    // The master key (no key) is exempt except for the end-user scope.
    EXPECT_TRUE(g.admit(nullptr, "", 100, now));
}

TEST(Governor, LazyResetOncePerPeriodWithRetryAfter) {
    Governor g;
    auto row = key("h");
    row["max_budget"] = 1.0;
    row["spend"] = 1.0;
    row["budget_duration"] = "30s";
    row["budget_reset_at"] = "2026-01-01T00:00:30Z";
    g.put_key(row);
    auto k = find(g, "h");
    auto r = g.admit(k.get(), "", 0, at("2026-01-01T00:00:10Z"));
    ASSERT_FALSE(r);
    ASSERT_EQ(r.error().headers.size(), 1u);
    EXPECT_EQ(r.error().headers[0].name, "retry-after");
    EXPECT_EQ(r.error().headers[0].value, "20");
    auto ok = g.admit(k.get(), "", 0, at("2026-01-01T00:00:31Z"));
    ASSERT_TRUE(ok);
    EXPECT_DOUBLE_EQ(g.spend_of("k:h"), 0.0);
    EXPECT_EQ(g.reset_at_of("k:h").value(), "2026-01-01T00:01:00Z");
    auto resets = g.take_pending_resets();
    ASSERT_EQ(resets.size(), 1u);
    EXPECT_EQ(resets[0].old_reset_at, "2026-01-01T00:00:30Z");
    EXPECT_EQ(resets[0].new_reset_at, "2026-01-01T00:01:00Z");
    EXPECT_TRUE(g.admit(k.get(), "", 0, at("2026-01-01T00:00:40Z")));
    EXPECT_TRUE(g.take_pending_resets().empty());  // once per period
}

TEST(Governor, SpendRollsUpAndUserBudgetAppliesToPersonalKeysOnly) {
    Governor g;
    auto row = key("h");
    row["user_id"] = "u1";
    g.put_key(row);
    g.put_user(json::object{{"user_id", "u1"}, {"max_budget", 0.5}, {"spend", 0.0}});
    TimePoint now = at("2026-01-01T00:00:00Z");
    auto a = g.admit(find(g, "h").get(), "cust", 0, now);
    ASSERT_TRUE(a);
    g.settle(a.value(), 0.5);
    EXPECT_DOUBLE_EQ(g.spend_of("u:u1"), 0.5);
    EXPECT_DOUBLE_EQ(g.spend_of("c:cust"), 0.5);
    auto refused = g.admit(find(g, "h").get(), "", 0, now);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().message, "ExceededBudget: User=u1 over budget. Spend=0.5, Budget=0.5");
    // A team key of the same user is not held to the user's personal budget.
    row["team_id"] = "t1";
    g.put_key(row);
    g.put_team(json::object{{"team_id", "t1"}});
    EXPECT_TRUE(g.admit(find(g, "h").get(), "", 0, now));
}

TEST(Governor, ReloadKeepsLocalSpend) {
    Governor g;
    g.put_key(key("h"));
    auto a = g.admit(find(g, "h").get(), "", 0, at("2026-01-01T00:00:00Z"));
    g.settle(a.value(), 0.25);
    auto stored = key("h");  // the store has not seen the ledger flush yet
    g.load({stored}, {}, {}, {});
    EXPECT_DOUBLE_EQ(g.spend_of("k:h"), 0.25);
}

// Regression: a refresh whose snapshot was read before a management write on this instance
// must neither drop a key generated meanwhile nor resurrect one deleted meanwhile.
TEST(Governor, RefreshKeepsLocalWritesNewerThanItsSnapshot) {
    Governor g;
    g.load({key("old"), key("doomed")}, {}, {}, {});
    std::uint64_t since = g.version();
    // The store is read here: it has "old" and "doomed", not "fresh".
    std::vector<json::object> stored{key("old"), key("doomed")};
    auto fresh_row = key("fresh");
    fresh_row["max_budget"] = 1.0;
    g.put_key(fresh_row);   // /key/generate after the read
    g.erase_key("doomed");  // /key/delete after the read
    g.apply(std::move(*Governor::build(stored, {}, {}, {})), since);
    KeyInfoConstPtr k;
    EXPECT_EQ(g.find_key("fresh", k), Lookup::kFound);
    EXPECT_EQ(g.find_key("doomed", k), Lookup::kUnknown);
    EXPECT_EQ(g.find_key("old", k), Lookup::kFound);
    // The next refresh (read after the writes) is the store's word again.
    since = g.version();
    g.apply(std::move(*Governor::build({key("old"), fresh_row}, {}, {}, {})), since);
    EXPECT_EQ(g.find_key("fresh", k), Lookup::kFound);
    EXPECT_EQ(g.find_key("doomed", k), Lookup::kUnknown);
    since = g.version();
    g.apply(std::move(*Governor::build({key("old")}, {}, {}, {})), since);  // deleted elsewhere
    EXPECT_EQ(g.find_key("fresh", k), Lookup::kUnknown);
}

TEST(Governor, RefreshKeepsLocalSpend) {
    Governor g;
    auto row = key("h");
    row["max_budget"] = 10.0;
    g.load({row}, {}, {}, {});
    KeyInfoConstPtr k = find(g, "h");
    auto a = g.admit(k.get(), "", 0.0, at("2026-01-01T00:00:00Z"));
    ASSERT_TRUE(a);
    g.settle(a.value(), 2.0);  // not flushed yet: the store still says 0
    g.load({row}, {}, {}, {});
    EXPECT_DOUBLE_EQ(g.spend_of("k:h"), 2.0);
}

// Regression: management writes must reach the live budget at once.
TEST(Governor, ManagementWritesSetSpendResetTimeAndFollowARegenerate) {
    Governor g;
    auto row = key("h");
    row["max_budget"] = 1.0;
    row["budget_duration"] = "30d";
    row["budget_reset_at"] = "2026-01-31T00:00:00Z";
    g.put_key(row);
    auto now = at("2026-01-01T00:00:00Z");
    auto a = g.admit(find(g, "h").get(), "", 0.0, now);
    ASSERT_TRUE(a);
    g.settle(a.value(), 1.5);
    EXPECT_FALSE(g.admit(find(g, "h").get(), "", 0.0, now));  // over budget
    // /key/update {"spend": 0}
    row["spend"] = 0.0;
    g.put_key(row);  // a write that did not touch spend keeps the live counter
    EXPECT_DOUBLE_EQ(g.spend_of("k:h"), 1.5);
    g.put_key(row, Governor::kSetSpend);
    EXPECT_DOUBLE_EQ(g.spend_of("k:h"), 0.0);
    // /key/update {"budget_duration": "1d"}: the earlier reset applies.
    row["budget_duration"] = "1d";
    row["budget_reset_at"] = "2026-01-02T00:00:00Z";
    g.put_key(row, Governor::kSetReset);
    EXPECT_EQ(g.reset_at_of("k:h"), "2026-01-02T00:00:00Z");
    // /key/regenerate while a request is in flight under the old hash.
    auto inflight = g.admit(find(g, "h").get(), "", 0.25, now);
    ASSERT_TRUE(inflight);
    g.settle(g.admit(find(g, "h").get(), "", 0.0, now).value(), 0.5);
    g.rename_key("h", "h2");
    auto renamed = key("h2");
    renamed["max_budget"] = 1.0;
    g.put_key(renamed);
    KeyInfoConstPtr k;
    EXPECT_EQ(g.find_key("h", k), Lookup::kUnknown);
    EXPECT_DOUBLE_EQ(g.spend_of("k:h2"), 0.5);  // not a fresh budget scope
    g.settle(inflight.value(), 0.75);            // settles on the new hash
    EXPECT_DOUBLE_EQ(g.spend_of("k:h2"), 1.25);
    EXPECT_FALSE(g.admit(find(g, "h2").get(), "", 0.0, now));
}

}  // namespace
}  // namespace sy::auth
