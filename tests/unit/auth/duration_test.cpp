#include "sy/auth/duration.hpp"

#include <gtest/gtest.h>

namespace sy::auth {
namespace {

TimePoint at(std::string_view iso) { return parse_iso(iso).value(); }

TEST(Duration, ParsesTheGrammarOfConfigMd9) {
    EXPECT_EQ(parse_duration("30s")->count, 30);
    EXPECT_EQ(parse_duration("30m")->count, 1800);  // minutes, not months
    EXPECT_EQ(parse_duration("24h")->count, 86400);
    EXPECT_EQ(parse_duration("30d")->count, 30 * 86400);
    EXPECT_EQ(parse_duration("2w")->count, 14 * 86400);
    EXPECT_EQ(parse_duration("45")->count, 45);
    auto mo = parse_duration("1mo");
    ASSERT_TRUE(mo);
    EXPECT_TRUE(mo->months);
    EXPECT_EQ(mo->count, 1);
    EXPECT_TRUE(parse_duration("monthly")->months);
    EXPECT_EQ(parse_duration("daily")->count, 86400);
    for (auto bad : {"", "d", "30x", "-1d", "0d", "1.5h", "30 d", "1y", "30dd", "'; DROP"}) {
        EXPECT_FALSE(parse_duration(bad)) << bad;
    }
}

TEST(Duration, RollingResetsAreAnchoredAtTheSetTime) {
    // auth-budgets-limits.md §7 example: created 2026-01-15 10:00 UTC.
    TimePoint anchor = at("2026-01-15T10:00:00Z");
    auto d30 = *parse_duration("30d");
    EXPECT_EQ(iso_seconds(next_reset(anchor, d30, anchor)), "2026-02-14T10:00:00Z");
    EXPECT_EQ(iso_seconds(next_reset(anchor, d30, at("2026-02-14T10:00:00Z"))),
              "2026-03-16T10:00:00Z");
    auto s30 = *parse_duration("30s");
    EXPECT_EQ(iso_seconds(next_reset(anchor, s30, at("2026-01-15T10:01:05Z"))),
              "2026-01-15T10:01:30Z");
}

TEST(Duration, MonthResetsAreCalendarMonths) {
    TimePoint anchor = at("2026-01-15T10:00:00Z");
    auto mo = *parse_duration("1mo");
    EXPECT_EQ(iso_seconds(next_reset(anchor, mo, anchor)), "2026-02-01T00:00:00Z");
    EXPECT_EQ(iso_seconds(next_reset(anchor, mo, at("2026-02-01T00:00:00Z"))),
              "2026-03-01T00:00:00Z");
    EXPECT_EQ(iso_seconds(add_duration(at("2026-01-31T08:00:00Z"), mo)), "2026-02-28T08:00:00Z");
}

// Regression: `3mo` stays every 3 months after the first reset (not monthly), and durations
// too long for the clock are rejected instead of overflowing.
TEST(Duration, MultiMonthBudgetsKeepTheirPeriodAfterTheFirstReset) {
    auto mo3 = *parse_duration("3mo");
    TimePoint first = next_reset(at("2026-01-15T10:00:00Z"), mo3, at("2026-01-15T10:00:00Z"));
    EXPECT_EQ(iso_seconds(first), "2026-02-01T00:00:00Z");
    TimePoint second = advance_reset(first, mo3, at("2026-02-01T00:00:00Z"));
    EXPECT_EQ(iso_seconds(second), "2026-05-01T00:00:00Z");
    EXPECT_EQ(iso_seconds(advance_reset(second, mo3, at("2026-09-10T00:00:00Z"))),
              "2026-11-01T00:00:00Z");
    auto d30 = *parse_duration("30d");
    EXPECT_EQ(iso_seconds(advance_reset(at("2026-02-14T10:00:00Z"), d30, at("2026-02-14T10:00:00Z"))),
              "2026-03-16T10:00:00Z");
    EXPECT_FALSE(parse_duration("100000d"));
    EXPECT_FALSE(parse_duration("99999w"));
    EXPECT_TRUE(parse_duration("36500d"));
    EXPECT_TRUE(parse_duration("1200mo"));
}

TEST(Duration, IsoRoundTrip) {
    TimePoint t = at("2026-01-01T10:00:00.250Z");
    EXPECT_EQ(iso_millis(t), "2026-01-01T10:00:00.250Z");
    EXPECT_EQ(iso_seconds(t), "2026-01-01T10:00:00Z");
    EXPECT_EQ(iso_seconds(at("2026-01-02")), "2026-01-02T00:00:00Z");
    EXPECT_FALSE(parse_iso("2026-13-01"));
    EXPECT_FALSE(parse_iso("yesterday"));
}

}  // namespace
}  // namespace sy::auth
