#include "sy/auth/duration.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace sy::auth {
namespace {

using namespace std::chrono;

std::int64_t days_in_month(int y, unsigned m) {
    return static_cast<unsigned>(year_month_day_last(year(y) / month(m) / last).day());
}

TimePoint add_months(TimePoint t, std::int64_t n) {
    auto dp = floor<days>(t);
    year_month_day ymd(dp);
    auto tod = t - dp;
    std::int64_t total = static_cast<int>(ymd.year()) * 12 + (static_cast<unsigned>(ymd.month()) - 1) + n;
    int y = static_cast<int>(total / 12);
    unsigned m = static_cast<unsigned>(total % 12) + 1;
    unsigned d = std::min<unsigned>(static_cast<unsigned>(ymd.day()),
                                    static_cast<unsigned>(days_in_month(y, m)));
    return sys_days(year(y) / month(m) / day(d)) + tod;
}

// 00:00 UTC on the 1st of the month after t's month.
TimePoint first_of_next_month(TimePoint t) {
    year_month_day ymd(floor<days>(t));
    auto ym = ymd.year() / ymd.month();
    ym += months(1);
    return sys_days(ym / day(1));
}

// Longest accepted duration: 100 years (later times overflow the clock arithmetic).
constexpr std::int64_t kMaxDurationSeconds = 100LL * 366 * 86400;

}  // namespace

std::optional<Duration> parse_duration(std::string_view s) {
    if (s == "hourly") {
        return Duration{3600, false};
    }
    if (s == "daily") {
        return Duration{86400, false};
    }
    if (s == "weekly") {
        return Duration{7 * 86400, false};
    }
    if (s == "monthly") {
        return Duration{1, true};
    }
    std::int64_t n = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
    if (ec != std::errc{} || p == s.data() || n <= 0 || n > 100000) {
        return std::nullopt;
    }
    std::string_view unit(p, static_cast<std::size_t>(s.data() + s.size() - p));
    std::int64_t mult = 0;
    if (unit.empty() || unit == "s") {
        mult = 1;
    } else if (unit == "m") {
        mult = 60;
    } else if (unit == "h") {
        mult = 3600;
    } else if (unit == "d") {
        mult = 86400;
    } else if (unit == "w") {
        mult = 7 * 86400;
    } else if (unit == "mo") {
        if (n > 1200) {
            return std::nullopt;
        }
        return Duration{n, true};
    } else {
        return std::nullopt;
    }
    if (n > kMaxDurationSeconds / mult) {
        return std::nullopt;
    }
    return Duration{n * mult, false};
}

TimePoint add_duration(TimePoint t, const Duration& d) {
    if (d.months) {
        return add_months(t, d.count);
    }
    return t + seconds(d.count);
}

TimePoint next_reset(TimePoint anchor, const Duration& d, TimePoint now) {
    if (d.months) {
        TimePoint r = first_of_next_month(anchor);
        while (r <= now) {
            r = add_months(r, d.count);
        }
        return r;
    }
    auto period = seconds(d.count);
    if (now < anchor + period) {
        return anchor + period;
    }
    auto k = (now - anchor) / period + 1;
    return anchor + period * k;
}

TimePoint advance_reset(TimePoint last_reset, const Duration& d, TimePoint now) {
    if (!d.months) {
        return next_reset(last_reset, d, now);
    }
    TimePoint r = add_months(last_reset, d.count);
    while (r <= now) {
        r = add_months(r, d.count);
    }
    return r;
}

std::string iso_seconds(TimePoint t) {
    auto s = floor<seconds>(t);
    std::time_t tt = SysClock::to_time_t(s);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string iso_millis(TimePoint t) {
    // The "YYYY-MM-DDTHH:MM:SS" part is formatted once per second per thread: spend rows take
    // two timestamps per request.
    thread_local std::time_t cached_second = -1;
    thread_local char cached[24] = {};
    auto s = floor<seconds>(t);
    auto ms = static_cast<int>(duration_cast<milliseconds>(t - s).count());
    std::time_t tt = SysClock::to_time_t(s);
    if (tt != cached_second) {
        std::tm tm{};
        gmtime_r(&tt, &tm);
        if (std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
            cached[0] = 0;
        }
        cached_second = tt;
    }
    std::string out;
    out.reserve(32);
    out += cached;
    out += '.';
    out += static_cast<char>('0' + ms / 100);
    out += static_cast<char>('0' + ms / 10 % 10);
    out += static_cast<char>('0' + ms % 10);
    out += 'Z';
    return out;
}

std::optional<TimePoint> parse_iso(std::string_view s) {
    int y = 0;
    unsigned mo = 0;
    unsigned d = 0;
    int h = 0;
    int mi = 0;
    int sec = 0;
    auto num = [&](std::size_t pos, std::size_t len, auto& out) {
        if (pos + len > s.size()) {
            return false;
        }
        auto [p, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
        return ec == std::errc{} && p == s.data() + pos + len;
    };
    if (s.size() < 10 || !num(0, 4, y) || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' ||
        !num(8, 2, d)) {
        return std::nullopt;
    }
    std::chrono::milliseconds frac{0};
    if (s.size() > 10) {
        if ((s[10] != 'T' && s[10] != ' ') || s.size() < 19 || !num(11, 2, h) || s[13] != ':' ||
            !num(14, 2, mi) || s[16] != ':' || !num(17, 2, sec)) {
            return std::nullopt;
        }
        std::string_view rest = s.substr(19);
        if (!rest.empty() && rest[0] == '.') {
            std::size_t i = 1;
            int ms = 0;
            int digits = 0;
            while (i < rest.size() && rest[i] >= '0' && rest[i] <= '9') {
                if (digits < 3) {
                    ms = ms * 10 + (rest[i] - '0');
                    ++digits;
                }
                ++i;
            }
            while (digits++ < 3) {
                ms *= 10;
            }
            frac = std::chrono::milliseconds(ms);
            rest = rest.substr(i);
        }
        if (!(rest.empty() || rest == "Z" || rest == "+00:00" || rest == "+0000")) {
            return std::nullopt;
        }
    }
    year_month_day ymd{year(y), month(mo), day(d)};
    if (!ymd.ok() || h > 23 || mi > 59 || sec > 60) {
        return std::nullopt;
    }
    return TimePoint(sys_days(ymd)) + hours(h) + minutes(mi) + seconds(sec) + frac;
}

}  // namespace sy::auth
