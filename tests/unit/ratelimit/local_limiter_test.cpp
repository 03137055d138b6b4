#include "sy/ratelimit/local_limiter.hpp"  // self-contained header check

#include <gtest/gtest.h>

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <thread>

#include "fake_clock.hpp"

namespace sy::ratelimit {
namespace {

using namespace std::chrono_literals;
using test::FakeClock;

std::string header(const std::vector<Header>& hs, std::string_view name) {
    for (const Header& h : hs) {
        if (h.name == name) {
            return h.value;
        }
    }
    return "<absent>";
}

Request key_request(Limits l, std::int64_t estimate = 0) {
    Request r;
    r.add(Descriptor::api_key("hash1", l));
    r.estimated_tokens = estimate;
    return r;
}

TEST(LocalLimiter, RpmAdmitsNThenRejectsWithExactRetryAfter) {
    FakeClock clock;
    LocalLimiter lim(clock.clock());
    Limits l{.rpm = 2};
    ASSERT_TRUE(lim.try_reserve(key_request(l)));
    clock.advance(30s);
    ASSERT_TRUE(lim.try_reserve(key_request(l)));
    clock.advance(5500ms);  // t = 35.5 s
    auto r = lim.try_reserve(key_request(l));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kRateLimited);
    EXPECT_EQ(r.error().http_status(), 429);
    // The first request leaves the window at t = 60 s: 24.5 s away -> 25 whole seconds.
    EXPECT_EQ(header(r.error().headers, "retry-after"), "25");
    EXPECT_EQ(header(r.error().headers, "rate_limit_type"), "requests");
    EXPECT_EQ(header(r.error().headers, "x-ratelimit-api_key-remaining-requests"), "0");
    EXPECT_EQ(r.error().message,
              "Rate limit exceeded for api_key: hash1. Limit type: requests. Current limit: 2, "
              "Remaining: 0. Limit resets at: 2026-01-01 12:01:00 UTC");
    EXPECT_EQ(header(r.error().headers, "reset_at"), "2026-01-01 12:01:00 UTC");
    // Rejected calls are not counted: retrying does not push the window back.
    for (int i = 0; i < 10; ++i) {
        EXPECT_FALSE(lim.try_reserve(key_request(l)));
    }
    clock.advance(24s);  // t = 59.5 s: still inside
    EXPECT_FALSE(lim.try_reserve(key_request(l)));
    clock.advance(500ms);  // t = 60 s: admitted
    EXPECT_TRUE(lim.try_reserve(key_request(l)));
    EXPECT_FALSE(lim.try_reserve(key_request(l)));
}

TEST(LocalLimiter, RpmNeverAdmitsMoreThanNInAnySixtySeconds) {
    FakeClock clock;
    LocalLimiter lim(clock.clock());
    Limits l{.rpm = 5};
    std::vector<std::int64_t> admitted_at;
    for (int t = 0; t < 300; ++t) {  // one attempt every 0.5 s for 150 s
        if (lim.try_reserve(key_request(l))) {
            admitted_at.push_back(t * 500);
        }
        clock.advance(500ms);
    }
    for (std::size_t i = 5; i < admitted_at.size(); ++i) {
        EXPECT_GE(admitted_at[i] - admitted_at[i - 5], 59000) << i;  // no 2N boundary burst
    }
    EXPECT_GE(admitted_at.size(), 10U);
}

TEST(LocalLimiter, LimitZeroRefusesEverything) {
    FakeClock clock;
    LocalLimiter lim(clock.clock());
    for (Limits l : {Limits{.rpm = 0}, Limits{.tpm = 0}, Limits{.max_parallel = 0}}) {
        auto r = lim.try_reserve(key_request(l));
        ASSERT_FALSE(r);
        EXPECT_EQ(r.error().http_status(), 429);
    }
}

TEST(LocalLimiter, TpmReservesEstimateAndReconciles) {
    FakeClock clock;
    LocalLimiter lim(clock.clock());
    Limits l{.tpm = 100};
    auto a = lim.try_reserve(key_request(l, 60));
    ASSERT_TRUE(a);
    EXPECT_EQ(header(a->headers(), "x-ratelimit-api_key-remaining-tokens"), "40");
    // Admitted while used < limit: one request may overshoot by itself (§10.3).
    auto b = lim.try_reserve(key_request(l, 60));
    ASSERT_TRUE(b);
    EXPECT_EQ(header(b->headers(), "x-ratelimit-api_key-remaining-tokens"), "0");
    auto c = lim.try_reserve(key_request(l, 1));
    ASSERT_FALSE(c);
    EXPECT_EQ(header(c.error().headers, "rate_limit_type"), "tokens");
    EXPECT_EQ(header(c.error().headers, "retry-after"), "60");

    a->settle(10);  // actual 10 of 60 reserved: 50 back
    b->cancel();    // failure: 60 back
    auto d = lim.try_reserve(key_request(l, 0));
    ASSERT_TRUE(d);
    EXPECT_EQ(header(d->headers(), "x-ratelimit-api_key-remaining-tokens"), "90");
    d->settle(200);  // more than estimated: counted now, overshoot by one request
    clock.advance(10s);
    auto e = lim.try_reserve(key_request(l, 5));
    ASSERT_FALSE(e);
    // 210 used: the 10 tokens at t=0 leave at 60 s, the 200 at t=0 too (same second).
    EXPECT_EQ(header(e.error().headers, "retry-after"), "50");
}

TEST(LocalLimiter, RefundAfterTheWindowGivesNoCredit) {
    FakeClock clock;
    LocalLimiter lim(clock.clock());
    Limits l{.tpm = 100};
    auto a = lim.try_reserve(key_request(l, 90));
    ASSERT_TRUE(a);
    clock.advance(70s);  // a long stream; its reservation has left the window
    a->settle(0);
    auto b = lim.try_reserve(key_request(l, 0));
    ASSERT_TRUE(b);
    EXPECT_EQ(header(b->headers(), "x-ratelimit-api_key-remaining-tokens"), "100");
}

TEST(LocalLimiter, MaxParallelRequests) {
    FakeClock clock;
    LocalLimiter lim(clock.clock());
    Limits l{.max_parallel = 2};
    auto a = lim.try_reserve(key_request(l));
    auto b = lim.try_reserve(key_request(l));
    ASSERT_TRUE(a);
    ASSERT_TRUE(b);
    auto c = lim.try_reserve(key_request(l));
    ASSERT_FALSE(c);
    EXPECT_EQ(header(c.error().headers, "retry-after"), "1");
    EXPECT_EQ(header(c.error().headers, "rate_limit_type"), "max_parallel_requests");
    EXPECT_NE(c.error().message.find("Limit type: max_parallel_requests"), std::string::npos);
    {
        Reservation moved = std::move(a.value());
        EXPECT_FALSE(a->active());
    }  // destroyed without settle: the slot is released exactly once
    auto d = lim.try_reserve(key_request(l));
    ASSERT_TRUE(d);
    d->settle(5);
    d->settle(5);  // idempotent
    d->cancel();
    auto e = lim.try_reserve(key_request(l));
    ASSERT_TRUE(e);
    EXPECT_FALSE(lim.try_reserve(key_request(l)));
}

TEST(LocalLimiter, AdmissionIsAtomicAcrossScopes) {
    FakeClock clock;
    LocalLimiter lim(clock.clock());
    auto req = [] {
        Request r;
        r.add(Descriptor::api_key("k", {.rpm = 10, .max_parallel = 5}));
        r.add(Descriptor::user("u", {.rpm = 1}));
        r.add(Descriptor::team("t", {}));  // no limit: not checked at all
        return r;
    };
    EXPECT_EQ(req().descriptors.size(), 2U);
    auto a = lim.try_reserve(req());
    ASSERT_TRUE(a);
    for (int i = 0; i < 3; ++i) {
        auto r = lim.try_reserve(req());
        ASSERT_FALSE(r);
        EXPECT_NE(r.error().message.find("for user: u."), std::string::npos);
    }
    // The key's counters did not move for the rejected calls.
    Request key_only;
    key_only.add(Descriptor::api_key("k", {.rpm = 10, .max_parallel = 5}));
    auto k = lim.try_reserve(key_only);
    ASSERT_TRUE(k);
    EXPECT_EQ(header(k->headers(), "x-ratelimit-api_key-remaining-requests"), "8");
}

TEST(LocalLimiter, RejectionReportsTheLongestWait) {
    FakeClock clock;
    LocalLimiter lim(clock.clock());
    Request first;
    first.add(Descriptor::api_key("k", {.rpm = 1}));
    ASSERT_TRUE(lim.try_reserve(first));
    clock.advance(50s);
    Request both;
    both.add(Descriptor::api_key("k", {.rpm = 1}));
    both.add(Descriptor::end_user("cust", {.rpm = 1}));
    ASSERT_TRUE(lim.try_reserve([] {
        Request r;
        r.add(Descriptor::end_user("cust", {.rpm = 1}));
        return r;
    }()));
    auto r = lim.try_reserve(both);
    ASSERT_FALSE(r);
    // key frees in 10 s, end user in 60 s: the client must wait for both.
    EXPECT_EQ(header(r.error().headers, "retry-after"), "60");
    EXPECT_NE(r.error().message.find("end_user: cust"), std::string::npos);
}

TEST(LocalLimiter, EmptyRequestIsFree) {
    LocalLimiter lim;
    auto r = lim.try_reserve(Request{});
    ASSERT_TRUE(r);
    EXPECT_FALSE(r->active());
    EXPECT_TRUE(r->headers().empty());
    EXPECT_EQ(lim.tracked(), 0U);
}

TEST(LocalLimiter, ConcurrentAdmissionsNeverExceedTheLimit) {
    FakeClock clock;
    LocalLimiter lim(clock.clock(), 4);
    std::atomic<int> admitted{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 500; ++i) {
                Request r;
                r.add(Descriptor::api_key("shared", {.rpm = 100, .max_parallel = 1000}));
                r.add(Descriptor::user("u" + std::to_string(t % 2), {.rpm = 1000}));
                r.add(Descriptor::team("team", {.tpm = 1000000}));
                r.estimated_tokens = 3;
                if (auto res = lim.try_reserve(r)) {
                    admitted.fetch_add(1);
                    res->settle(4);
                }
            }
        });
    }
    for (auto& th : threads) {
        th.join();
    }
    EXPECT_EQ(admitted.load(), 100);
}

TEST(LocalLimiter, IdleDescriptorsAreSwept) {
    FakeClock clock;
    LocalLimiter lim(clock.clock(), 1);
    for (int i = 0; i < 300; ++i) {
        Request r;
        r.add(Descriptor::api_key("k" + std::to_string(i), {.rpm = 5}));
        ASSERT_TRUE(lim.try_reserve(r));
    }
    EXPECT_GT(lim.tracked(), 250U);
    clock.advance(61s);
    for (int i = 0; i < 256; ++i) {
        Request r;
        r.add(Descriptor::api_key("live", {.rpm = 1000}));
        ASSERT_TRUE(lim.try_reserve(r));
    }
    EXPECT_LE(lim.tracked(), 2U);
}

boost::asio::awaitable<std::string> admit_via_interface(Limiter& lim, Request req) {
    auto r = co_await lim.check_and_reserve(std::move(req));
    co_return r ? header(r->headers(), "x-ratelimit-limit-requests") : "rejected";
}

TEST(LocalLimiter, AwaitableInterface) {
    FakeClock clock;
    LocalLimiter lim(clock.clock());
    boost::asio::io_context io;
    auto first = boost::asio::co_spawn(io, admit_via_interface(lim, key_request({.rpm = 1})),
                                       boost::asio::use_future);
    io.run();
    EXPECT_EQ(first.get(), "1");
    io.restart();
    auto second = boost::asio::co_spawn(io, admit_via_interface(lim, key_request({.rpm = 1})),
                                        boost::asio::use_future);
    io.run();
    EXPECT_EQ(second.get(), "rejected");
}

}  // namespace
}  // namespace sy::ratelimit
