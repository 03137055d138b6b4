#pragma once
// Process log: one JSON object per line on stdout ({"timestamp","level","message",...fields}).
// Secrets never reach it: callers pass no key material, and scrub() masks anything that looks
// like a key or bearer token as a last line of defence (observability.md §3.3).
//
// Thread safety: all functions are thread-safe. Lines go through spdlog into a batching sink: a
// background thread writes them to stdout every 20 ms, so request threads never block on I/O.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::obs {

enum class Level { kDebug, kInfo, kWarning, kError };

// A field of a log line. `raw_json` values are inserted verbatim (numbers, objects).
struct Field {
    std::string key;
    std::string value;
    bool raw_json = false;
};

inline Field num(std::string key, double v);
inline Field num(std::string key, long long v);

// `batch`: INFO/DEBUG lines are written by the background thread (warnings and errors at once).
void init_logging(Level min_level, bool batch);
void shutdown_logging();
bool enabled(Level level);
void log(Level level, std::string_view message, const std::vector<Field>& fields = {});

inline void info(std::string_view m, const std::vector<Field>& f = {}) { log(Level::kInfo, m, f); }
inline void warn(std::string_view m, const std::vector<Field>& f = {}) {
    log(Level::kWarning, m, f);
}
inline void error(std::string_view m, const std::vector<Field>& f = {}) {
    log(Level::kError, m, f);
}
inline void debug(std::string_view m, const std::vector<Field>& f = {}) {
    log(Level::kDebug, m, f);
}

// Writes one pre-built JSON object line (the access log's fast path). The caller guarantees the
// line holds no secret; it is not scrubbed.
void write_json_line(std::string_view line);

// Appends `"timestamp":"…","level":"INFO"` style prefix fields for a line built by hand.
void append_line_prefix(std::string& out, Level level, std::string_view message);

// Masks `sk-…` keys, `Bearer …` tokens, Google `AIza…` keys and `key=` query values.
std::string scrub(std::string_view text);

Level parse_level(std::string_view s, Level fallback);

std::string format_double(double v);
inline Field num(std::string key, double v) {
    return Field{std::move(key), format_double(v), true};
}
inline Field num(std::string key, long long v) {
    return Field{std::move(key), std::to_string(v), true};
}

}  // namespace sy::obs
