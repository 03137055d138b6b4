#include "sy/core/number_text.hpp"

#include <gtest/gtest.h>

#include <charconv>
#include <limits>
#include <string>

namespace sy {
namespace {

std::string fixed3(double v) {
    std::string s;
    append_fixed3(s, v);
    return s;
}

std::string reference(double v) {
    char buf[400];
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 3);
    return std::string(buf, r.ptr);
}

TEST(NumberText, Fixed3MatchesToCharsOnDurations) {
    for (double v : {0.0, 0.001, 0.01, 0.1, 1.0, 1.5, 12.345, 999.999, 1000.0, 86400000.0,
                     3.14159, 0.123456, 2.0004, 7.25, 1234567.891, 5e14, -1.5, -0.25}) {
        EXPECT_EQ(fixed3(v), reference(v)) << v;
    }
    // A sweep of microsecond-granular latencies, as measured by the gateway.
    for (int us = 0; us < 200000; us += 7) {
        double v = us / 1000.0;
        EXPECT_EQ(fixed3(v), reference(v)) << v;
    }
}

TEST(NumberText, Fixed3LargeAndNotFinite) {
    EXPECT_EQ(fixed3(2e15), reference(2e15));
    EXPECT_EQ(fixed3(1e300), reference(1e300));  // 301 digits: no truncated or stray bytes
    EXPECT_EQ(fixed3(-std::numeric_limits<double>::max()),
              reference(-std::numeric_limits<double>::max()));
    EXPECT_EQ(fixed3(std::numeric_limits<double>::infinity()), "0");
    EXPECT_EQ(fixed3(std::numeric_limits<double>::quiet_NaN()), "0");
}

TEST(NumberText, Int) {
    std::string s = "n=";
    append_int(s, 0);
    s += ',';
    append_int(s, -42);
    s += ',';
    append_int(s, std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(s, "n=0,-42,9223372036854775807");
}

}  // namespace
}  // namespace sy
