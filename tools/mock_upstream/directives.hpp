#pragma once
// Fault directives and the scripted-directive FIFO of the mock upstream.
// See the README block in mock_upstream.hpp for what each directive does.
//
// Thread safety: everything here is plain data; ScriptQueue is not synchronised (the server
// guards it with its state mutex).

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace sy::mock {

// Upper bounds that keep a typo from parking a test for hours.
inline constexpr std::int64_t kMaxDelayMs = 3'600'000;
inline constexpr std::int64_t kMaxChunks = 100'000;
inline constexpr std::int64_t kMaxToolCalls = 128;

struct Directives {
    std::optional<int> status;
    std::string error;    // OpenAI error code name, e.g. "context_length_exceeded"
    std::string message;  // overrides the error message
    std::optional<std::string> retry_after;  // seconds, as sent in Retry-After
    std::optional<std::int64_t> retry_after_ms;
    std::int64_t delay_ms = 0;
    std::int64_t ttft_ms = 0;
    std::int64_t inter_chunk_ms = 0;
    std::optional<std::int64_t> chunks;
    std::optional<std::string> content;
    std::optional<std::int64_t> stall_after;
    std::optional<std::int64_t> cut_after;
    bool cut_reset = false;
    std::optional<std::int64_t> malformed_after;
    std::optional<std::int64_t> stream_error_after;
    bool no_done = false;
    bool reset = false;
    bool hang = false;
    bool close = false;
    std::int64_t tool_calls = 0;  // number of tool calls to answer with (true = 1)
    std::string tool_name;
    std::optional<std::string> tool_arguments;
    std::optional<std::string> finish_reason;
    std::optional<std::string> response_model;
    std::optional<std::int64_t> prompt_tokens;
    std::optional<std::int64_t> completion_tokens;
    std::int64_t cache_read_tokens = 0;
    std::int64_t cache_creation_tokens = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // extra response headers

    // True when the stream must be written event by event (anything but the plain fast path).
    [[nodiscard]] bool paced_stream() const;
};

// Maps "Delay-Ms" / "delay-ms" / "delay_ms" to the canonical "delay_ms".
[[nodiscard]] std::string normalize_directive_name(std::string_view name);

// Fills `out` from a merged directive object. Values may be JSON-typed or strings (header
// values arrive as strings). Returns an error message on an unknown name or a bad value.
[[nodiscard]] std::optional<std::string> parse_directives(const boost::json::object& in,
                                                          Directives& out);

// Copies every member of `top` into `base`, replacing members of the same name.
void overlay_directives(boost::json::object& base, const boost::json::object& top);

// One entry of the control-endpoint FIFO.
struct Script {
    std::optional<std::string> tag{};    // nullopt matches any tag; "" matches untagged
    std::optional<std::string> model{};  // nullopt matches any model
    std::optional<std::string> path{};   // substring of the request path; nullopt matches any
    std::int64_t times = 1;              // matching requests that consume it; -1 = forever
    boost::json::object directives{};
};

// Parses one script entry (`{"tag","model","path","times","directives"}`); validates the
// directives. Returns an error message on bad input.
[[nodiscard]] std::optional<std::string> parse_script(const boost::json::value& in, Script& out);

[[nodiscard]] boost::json::object script_to_json(const Script& s);

class ScriptQueue {
public:
    void push(Script s);
    // Directives of the first entry matching the request, consuming one use of it.
    [[nodiscard]] std::optional<boost::json::object> take(std::string_view tag,
                                                          std::string_view model,
                                                          std::string_view path);
    void clear() { entries_.clear(); }
    [[nodiscard]] bool empty() const { return entries_.empty(); }
    [[nodiscard]] const std::deque<Script>& entries() const { return entries_; }

private:
    std::deque<Script> entries_;
};

}  // namespace sy::mock
