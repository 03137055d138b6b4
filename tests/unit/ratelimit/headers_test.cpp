#include <gtest/gtest.h>

#include "sy/ratelimit/limiter.hpp"

namespace sy::ratelimit {
namespace {

TEST(Headers, PerDescriptorTightestAndPerModel) {
    std::vector<LimitStatus> st = {
        {Scope::kApiKey, "h", "", LimitKind::kRequests, 100, 7, 12},
        {Scope::kApiKey, "h", "", LimitKind::kTokens, 20000, 19000, 30},
        {Scope::kTeam, "t", "", LimitKind::kRequests, 1000, 3, 59},
        {Scope::kModelPerKey, "h:openai/gpt-4o", "openai/gpt-4o", LimitKind::kTokens, 500, 400,
         5},
    };
    auto hs = status_headers(st);
    auto get = [&](std::string_view n) {
        for (auto& h : hs) {
            if (h.name == n) {
                return h.value;
            }
        }
        return std::string("<absent>");
    };
    EXPECT_EQ(get("x-ratelimit-api_key-remaining-requests"), "7");
    EXPECT_EQ(get("x-ratelimit-api_key-limit-requests"), "100");
    EXPECT_EQ(get("x-ratelimit-api_key-limit-tokens"), "20000");
    EXPECT_EQ(get("x-ratelimit-team-remaining-requests"), "3");
    EXPECT_EQ(get("x-litellm-key-remaining-tokens-openai-gpt-4o"), "400");
    // OpenAI-style: the tightest (lowest remaining) limit of each kind (D24).
    EXPECT_EQ(get("x-ratelimit-limit-requests"), "1000");
    EXPECT_EQ(get("x-ratelimit-remaining-requests"), "3");
    EXPECT_EQ(get("x-ratelimit-reset-requests"), "59s");
    EXPECT_EQ(get("x-ratelimit-limit-tokens"), "500");
    EXPECT_EQ(get("x-ratelimit-remaining-tokens"), "400");
    EXPECT_EQ(get("x-ratelimit-reset-tokens"), "5s");
    EXPECT_TRUE(status_headers({}).empty());
}

TEST(Headers, DescriptorsAndTokenCounting) {
    EXPECT_EQ(Descriptor::team_member("t1", "u1", {}).key(), "team_member:t1:u1");
    auto m = Descriptor::model_per_key("hash", "gpt-4o", {.rpm = 1});
    EXPECT_EQ(m.key(), "model_per_key:hash:gpt-4o");
    EXPECT_EQ(m.model_group, "gpt-4o");
    EXPECT_EQ(Descriptor::global({.max_parallel = 3}).key(), "global:");
    EXPECT_EQ(count_tokens(TokenCounting::kTotal, 10, 5), 15);
    EXPECT_EQ(count_tokens(TokenCounting::kInput, 10, 5), 10);
    EXPECT_EQ(count_tokens(TokenCounting::kOutput, 10, 5), 5);
    EXPECT_EQ(limit_type_name(LimitKind::kParallel), "max_parallel_requests");
}

}  // namespace
}  // namespace sy::ratelimit
