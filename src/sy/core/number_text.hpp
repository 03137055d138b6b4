#pragma once
// Numbers appended to text without a temporary string: integers, and durations in milliseconds
// with three decimals (log lines, x-litellm-*-duration-ms headers). Hot path: a few of each per
// request.
//
// Thread safety: pure functions.

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>

namespace sy {

inline void append_int(std::string& out, std::int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

// `v` with exactly three decimals ("12.345", "0.000", "-1.500"), like std::to_chars fixed/3 up
// to the rounding of the last digit. Values that are not finite print "0" (JSON has no NaN).
inline void append_fixed3(std::string& out, double v) {
    if (!std::isfinite(v)) {
        out += '0';
        return;
    }
    if (std::fabs(v) >= 1e15) {  // beyond exact thousandths in an int64: the general routine
        char buf[320];  // DBL_MAX has 309 integer digits
        auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed, 3);
        if (r.ec != std::errc{}) {
            out += '0';
            return;
        }
        out.append(buf, r.ptr);
        return;
    }
    auto thousandths = static_cast<std::int64_t>(std::llround(v * 1000.0));
    if (thousandths < 0) {
        out += '-';
        thousandths = -thousandths;
    }
    append_int(out, thousandths / 1000);
    auto frac = static_cast<int>(thousandths % 1000);
    const char digits[4] = {'.', static_cast<char>('0' + frac / 100),
                            static_cast<char>('0' + frac / 10 % 10), static_cast<char>('0' + frac % 10)};
    out.append(digits, 4);
}

}  // namespace sy
