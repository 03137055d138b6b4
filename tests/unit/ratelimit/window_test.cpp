#include "sy/ratelimit/window.hpp"  // self-contained header check

#include <gtest/gtest.h>

namespace sy::ratelimit::detail {
namespace {

TEST(SlidingWindow, SumsTheLastSixtySeconds) {
    SlidingWindow w;
    w.add(100, 1);
    w.add(130, 2);
    EXPECT_EQ(w.used(100), 1);
    EXPECT_EQ(w.used(159), 3);
    EXPECT_EQ(w.used(160), 2);  // second 100 is out of (100, 160]
    EXPECT_EQ(w.used(189), 2);
    EXPECT_EQ(w.used(190), 0);
    EXPECT_EQ(w.used(99), 0);   // not yet
}

TEST(SlidingWindow, BucketsAreReusedAfterAMinute) {
    SlidingWindow w;
    w.add(100, 5);
    w.add(160, 1);  // same slot, new second
    EXPECT_EQ(w.used(160), 1);
    w.add(100, 7);  // a write for a second that has left the window is ignored
    EXPECT_EQ(w.used(160), 1);
    w.add(160, -5);  // never below zero
    EXPECT_EQ(w.used(160), 0);
}

TEST(SlidingWindow, SecondsUntilAtMost) {
    SlidingWindow w;
    w.add(100, 1);
    w.add(130, 1);
    // At 135 with 2 used: one must leave (second 100 leaves at 160).
    EXPECT_EQ(w.seconds_until_at_most(135, 1), 25);
    EXPECT_EQ(w.seconds_until_at_most(135, 0), 55);
    EXPECT_EQ(w.seconds_until_at_most(135, 2), 1);
    EXPECT_EQ(w.seconds_until_at_most(135, -1), 60);
    EXPECT_EQ(w.seconds_until_empty(135), 55);
    EXPECT_EQ(w.seconds_until_empty(200), 0);
}

}  // namespace
}  // namespace sy::ratelimit::detail
