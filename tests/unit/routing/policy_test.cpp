#include <gtest/gtest.h>

#include "sy/routing/policy.hpp"

namespace sy::routing {
namespace {

Error upstream(int status) { return Error::make(Errc::kUpstreamStatus, "x").with_status(status); }

TEST(Classify, UpstreamStatusesAndTransportErrors) {
    EXPECT_EQ(classify(upstream(429), 429), FailureClass::kRateLimit);
    EXPECT_EQ(classify(upstream(401), 401), FailureClass::kAuth);
    EXPECT_EQ(classify(upstream(404), 404), FailureClass::kAuth);
    EXPECT_EQ(classify(upstream(408), 408), FailureClass::kTimeout);
    EXPECT_EQ(classify(upstream(503), 502), FailureClass::kServer);
    EXPECT_EQ(classify(upstream(529), 529), FailureClass::kServer);
    EXPECT_EQ(classify(upstream(400), 400), FailureClass::kBadRequest);
    EXPECT_EQ(classify(upstream(422), 422), FailureClass::kBadRequest);
    EXPECT_EQ(classify(Error::make(Errc::kContextWindow, "x"), 400), FailureClass::kContextWindow);
    EXPECT_EQ(classify(Error::make(Errc::kContentPolicy, "x"), 400), FailureClass::kContentPolicy);
    EXPECT_EQ(classify(Error::make(Errc::kTimeout, "x"), 0), FailureClass::kTimeout);
    EXPECT_EQ(classify(Error::make(Errc::kUpstreamConnection, "x"), 0), FailureClass::kServer);
    EXPECT_EQ(classify(Error::make(Errc::kUpstreamProtocol, "x"), 0), FailureClass::kServer);
    EXPECT_EQ(classify(Error::make(Errc::kInternal, "x"), 0), FailureClass::kNeutral);
}

TEST(Classify, WhatIsRetriedAndWhatCools) {
    EXPECT_TRUE(retryable(FailureClass::kRateLimit));
    EXPECT_TRUE(retryable(FailureClass::kServer));
    EXPECT_TRUE(retryable(FailureClass::kTimeout));
    EXPECT_FALSE(retryable(FailureClass::kBadRequest));
    EXPECT_FALSE(retryable(FailureClass::kContextWindow));
    EXPECT_FALSE(retryable(FailureClass::kContentPolicy));
    EXPECT_EQ(cooldown_effect(FailureClass::kRateLimit), CooldownEffect::kNow);
    EXPECT_EQ(cooldown_effect(FailureClass::kAuth), CooldownEffect::kNow);
    EXPECT_EQ(cooldown_effect(FailureClass::kServer), CooldownEffect::kCount);
    EXPECT_EQ(cooldown_effect(FailureClass::kBadRequest), CooldownEffect::kNever);
    EXPECT_EQ(cooldown_effect(FailureClass::kNeutral), CooldownEffect::kNever);
}

TEST(Policy, RetriesPrecedence) {
    config::Settings s;
    s.router.num_retries = 4;
    s.router.retry_policy_json = R"({"RateLimitErrorRetries": 1, "TimeoutErrorRetries": 0})";
    s.router.other_settings_json =
        R"({"model_group_retry_policy": {"g": {"RateLimitErrorRetries": 7}}})";
    auto p = RouterPolicy::from_settings(s);
    EXPECT_EQ(p.retries_for(9, "g", FailureClass::kRateLimit, 3), 9);      // request wins
    EXPECT_EQ(p.retries_for({}, "g", FailureClass::kRateLimit, 3), 7);     // group policy
    EXPECT_EQ(p.retries_for({}, "h", FailureClass::kRateLimit, 3), 1);     // class policy
    EXPECT_EQ(p.retries_for({}, "h", FailureClass::kTimeout, 3), 0);
    EXPECT_EQ(p.retries_for({}, "h", FailureClass::kServer, 3), 3);        // deployment
    EXPECT_EQ(p.retries_for({}, "h", FailureClass::kServer, {}), 4);       // router
}

TEST(Policy, FailureRateRuleAndLegacyAllowedFails) {
    config::Settings s;
    auto p = RouterPolicy::from_settings(s);
    EXPECT_FALSE(p.trips(FailureClass::kServer, 4, 4, 4));  // fewer than 5 attempts
    EXPECT_TRUE(p.trips(FailureClass::kServer, 5, 3, 3));   // 60 % > 50 %
    EXPECT_FALSE(p.trips(FailureClass::kServer, 6, 3, 3));  // exactly 50 %

    s.router.allowed_fails = 1;
    s.router.allowed_fails_explicit = true;
    s.router.allowed_fails_policy_json = R"({"TimeoutErrorAllowedFails": 3})";
    auto legacy = RouterPolicy::from_settings(s);
    EXPECT_FALSE(legacy.trips(FailureClass::kServer, 1, 1, 1));
    EXPECT_TRUE(legacy.trips(FailureClass::kServer, 2, 2, 2));
    EXPECT_FALSE(legacy.trips(FailureClass::kTimeout, 3, 3, 3));  // policy entry overrides
    EXPECT_TRUE(legacy.trips(FailureClass::kTimeout, 4, 4, 4));
}

TEST(Policy, CooldownLengthPrecedence) {
    config::Settings s;
    s.router.cooldown_time_s = 5;
    auto p = RouterPolicy::from_settings(s);
    EXPECT_EQ(p.cooldown_length(2.0, 30.0), 2.0);          // deployment's own
    EXPECT_FALSE(p.cooldown_length(0.0, 30.0));            // 0 = never cools
    EXPECT_EQ(p.cooldown_length({}, 30.0), 30.0);          // provider retry-after
    EXPECT_EQ(p.cooldown_length({}, 900.0), 300.0);        // capped
    EXPECT_EQ(p.cooldown_length({}, {}), 5.0);             // router default
    s.router.disable_cooldowns = true;
    EXPECT_FALSE(RouterPolicy::from_settings(s).cooldown_length(2.0, {}));
}

TEST(Policy, BackoffFollowsTheReference) {
    config::Settings s;
    auto p = RouterPolicy::from_settings(s);
    EXPECT_EQ(p.backoff_s(0, true, 10.0, 0.5), 0.0);      // untried deployment: no wait
    EXPECT_EQ(p.backoff_s(0, false, 3.0, 0.5), 3.0);      // provider hint within 60 s
    EXPECT_DOUBLE_EQ(p.backoff_s(0, false, {}, 1.0), 0.5);
    EXPECT_DOUBLE_EQ(p.backoff_s(0, false, {}, 0.0), 0.375);
    EXPECT_DOUBLE_EQ(p.backoff_s(2, false, 120.0, 1.0), 2.0);  // hint over 60 s ignored
    EXPECT_DOUBLE_EQ(p.backoff_s(10, false, {}, 1.0), 8.0);    // capped
    s.router.retry_after_s = 5;
    EXPECT_EQ(RouterPolicy::from_settings(s).backoff_s(0, true, {}, 0.5), 5.0);  // floor
}

TEST(Policy, ProviderRetryAfterHeaders) {
    EXPECT_EQ(provider_retry_after_s({{"retry-after", "2"}}), 2.0);
    EXPECT_EQ(provider_retry_after_s({{"retry-after-ms", "1500"}, {"retry-after", "9"}}), 1.5);
    EXPECT_EQ(provider_retry_after_s({{"x-ratelimit-reset-requests", "6m0s"},
                                      {"x-ratelimit-reset-tokens", "20ms"}}),
              360.0);
    EXPECT_FALSE(provider_retry_after_s({{"retry-after", "Wed, 21 Oct 2015 07:28:00 GMT"}}));
    EXPECT_FALSE(provider_retry_after_s({}));
    EXPECT_EQ(parse_reset_duration("1h2m3.5s"), 3723.5);
    EXPECT_EQ(parse_reset_duration("20ms"), 0.02);
    EXPECT_FALSE(parse_reset_duration("soon"));
    EXPECT_FALSE(parse_reset_duration("-1s"));
}

}  // namespace
}  // namespace sy::routing
