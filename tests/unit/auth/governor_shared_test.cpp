// Governor pieces for several instances (README D7/D10): spend re-read from the store at every
// reload, the budget-limited scopes handed to the shared (Redis) budget, and its 429.
#include "sy/auth/governor.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sy::auth {
namespace {

namespace json = boost::json;

TimePoint at(std::string_view iso) { return parse_iso(iso).value(); }

KeyInfoConstPtr find(Governor& g, const std::string& token) {
    KeyInfoConstPtr k;
    EXPECT_EQ(g.find_key(token, k), Lookup::kFound);
    return k;
}

TEST(GovernorShared, SyncSpendTakesStoredPlusUnflushed) {
    Governor g(false);
    g.put_key(json::object{{"token", "h"}, {"spend", 0.0}, {"max_budget", 1.0}});
    auto a = g.admit(find(g, "h").get(), "", 0, at("2026-01-01T00:00:00Z"));
    g.settle(a.value(), 0.25);  // this instance's call
    // Another instance spent 0.5 (flushed); ours is still queued.
    g.sync_spend({StoredSpend{"k:h", 0.5 + 0.25, ""}});
    EXPECT_DOUBLE_EQ(g.spend_of("k:h"), 0.75);
    g.sync_spend({StoredSpend{"k:h", 1.0, ""}});
    auto st = g.admit(find(g, "h").get(), "", 0, at("2026-01-01T00:00:01Z"));
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().http_status(), 429);
}

TEST(GovernorShared, SyncSpendSkipsAScopeInAnotherBudgetPeriod) {
    Governor g(false);
    g.put_key(json::object{{"token", "h"},
                           {"spend", 0.9},
                           {"max_budget", 1.0},
                           {"budget_duration", "1d"},
                           {"budget_reset_at", "2026-01-02T00:00:00Z"}});
    // The lazy reset at admission starts a new period (spend 0) the store has not recorded yet.
    ASSERT_TRUE(g.admit(find(g, "h").get(), "", 0, at("2026-01-02T00:00:01Z")));
    g.sync_spend({StoredSpend{"k:h", 0.9, "2026-01-02T00:00:00Z"}});
    EXPECT_DOUBLE_EQ(g.spend_of("k:h"), 0.0);
}

TEST(GovernorShared, LimitedScopesAreTheEnforcedBudgetedOnes) {
    Governor g(false);
    g.put_key(json::object{{"token", "h"}, {"spend", 0.1}, {"max_budget", 2.0},
                           {"user_id", "u1"}, {"team_id", "t1"}});
    g.put_user(json::object{{"user_id", "u1"}, {"max_budget", 1.0}});
    g.put_team(json::object{{"team_id", "t1"}, {"max_budget", 3.0}});
    g.put_customer(json::object{{"user_id", "c1"}});  // no budget
    auto k = find(g, "h");
    auto a = g.admit(k.get(), "c1", 0.01, at("2026-01-01T00:00:00Z"));
    ASSERT_TRUE(a);
    auto views = g.limited_scopes(a.value(), k.get());
    ASSERT_EQ(views.size(), 2u);  // key and team: a team key's user budget is not enforced
    EXPECT_EQ(views[0].scope, "k:h");
    EXPECT_EQ(views[0].kind, 'k');
    EXPECT_EQ(views[0].name, "h");
    EXPECT_DOUBLE_EQ(views[0].max_budget, 2.0);
    EXPECT_DOUBLE_EQ(views[0].spend, 0.1);
    EXPECT_EQ(views[1].scope, "t:t1");
    EXPECT_EQ(views[1].name, "t1");
}

TEST(GovernorShared, BudgetErrorKeepsLiteLLMsMessages) {
    auto now = at("2026-01-01T00:00:00Z");
    auto e = Governor::budget_error('k', "h", 1.5, 1, std::nullopt, now);
    EXPECT_EQ(e.http_status(), 429);
    EXPECT_EQ(e.http_type(), "budget_exceeded");
    EXPECT_EQ(e.message, "Budget has been exceeded! Current cost: 1.5, Max budget: 1.0");
    EXPECT_TRUE(e.headers.empty());
    e = Governor::budget_error('t', "t1", 2, 2, at("2026-01-01T00:01:00Z"), now);
    EXPECT_EQ(e.message, "Budget has been exceeded! Team=t1 Current cost: 2.0, Max budget: 2.0");
    ASSERT_EQ(e.headers.size(), 1u);
    EXPECT_EQ(e.headers[0].value, "60");
}

}  // namespace
}  // namespace sy::auth
