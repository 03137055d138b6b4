#pragma once
// Duration strings (config.md §9: `30s`, `30m` minutes, `24h`, `30d`, `2w`, `1mo`, a bare
// integer = seconds, `hourly`/`daily`/`weekly`/`monthly`), ISO-8601 UTC timestamps, and budget
// reset times (README D8: s/m/h/d/w are rolling periods from when the budget was set; `mo` resets
// at 00:00 UTC on the 1st, every N months).
//
// Thread safety: pure functions.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sy::auth {

using SysClock = std::chrono::system_clock;
using TimePoint = SysClock::time_point;

struct Duration {
    std::int64_t count = 0;
    bool months = false;  // false: count is seconds
};

// Durations longer than 100 years are rejected (nullopt).
std::optional<Duration> parse_duration(std::string_view s);

// t + d (calendar months keep the day of month, clamped to the month's length).
TimePoint add_duration(TimePoint t, const Duration& d);

// The first budget reset strictly after `now` for a budget whose duration was set at `anchor`.
TimePoint next_reset(TimePoint anchor, const Duration& d, TimePoint now);

// The reset after `last_reset` (a reset time, not the time the duration was set): `Nmo` stays
// every N months from the first reset (auth-budgets-limits.md §7), rolling periods step on.
TimePoint advance_reset(TimePoint last_reset, const Duration& d, TimePoint now);

// "2026-01-01T10:00:00Z" (whole seconds) and "2026-01-01T10:00:00.123Z" (milliseconds).
std::string iso_seconds(TimePoint t);
std::string iso_millis(TimePoint t);
// Accepts "YYYY-MM-DD", "YYYY-MM-DDTHH:MM:SS[.fff][Z|+00:00]" and a space instead of 'T'.
std::optional<TimePoint> parse_iso(std::string_view s);

}  // namespace sy::auth
