#include "directives.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <charconv>
#include <cmath>
#include <limits>

namespace sy::mock {
namespace json = boost::json;

namespace {

std::optional<std::int64_t> as_int(const json::value& v) {
    if (v.is_int64()) {
        return v.get_int64();
    }
    if (v.is_uint64()) {
        if (v.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
            return std::nullopt;
        }
        return static_cast<std::int64_t>(v.get_uint64());
    }
    if (v.is_double()) {
        const double d = v.get_double();
        if (std::trunc(d) != d || std::abs(d) > 9e15) {
            return std::nullopt;
        }
        return static_cast<std::int64_t>(d);
    }
    if (v.is_string()) {
        const json::string& s = v.get_string();
        std::int64_t out = 0;
        const char* end = s.data() + s.size();
        auto [p, ec] = std::from_chars(s.data(), end, out);
        if (ec != std::errc{} || p != end || s.empty()) {
            return std::nullopt;
        }
        return out;
    }
    return std::nullopt;
}

std::optional<bool> as_bool(const json::value& v) {
    if (v.is_bool()) {
        return v.get_bool();
    }
    if (v.is_null()) {
        return false;
    }
    if (v.is_string()) {
        const std::string_view s = v.get_string();
        if (s == "true" || s == "1" || s == "yes" || s == "on") {
            return true;
        }
        if (s == "false" || s == "0" || s == "no" || s == "off" || s.empty()) {
            return false;
        }
        return std::nullopt;
    }
    if (auto i = as_int(v)) {
        return *i != 0;
    }
    return std::nullopt;
}

std::optional<std::string> as_text(const json::value& v) {
    if (v.is_string()) {
        return std::string(v.get_string());
    }
    if (v.is_number()) {
        return json::serialize(v);
    }
    return std::nullopt;
}

// RFC 9110 token: what a header name may contain.
bool is_token(std::string_view s) {
    constexpr std::string_view kExtra = "!#$%&'*+-.^_`|~";
    return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
               kExtra.find(c) != std::string_view::npos;
    });
}

std::string bad(std::string_view name, std::string_view want) {
    return "mock directive '" + std::string(name) + "' must be " + std::string(want);
}

// Parses an integer directive within [lo, hi].
std::optional<std::string> int_in(std::string_view name,
                                  const json::value& v,
                                  std::int64_t lo,
                                  std::int64_t hi,
                                  std::int64_t& out) {
    auto i = as_int(v);
    if (!i || *i < lo || *i > hi) {
        return bad(name, "an integer in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
    }
    out = *i;
    return std::nullopt;
}

std::optional<std::string> opt_int_in(std::string_view name,
                                      const json::value& v,
                                      std::int64_t lo,
                                      std::int64_t hi,
                                      std::optional<std::int64_t>& out) {
    std::int64_t x = 0;
    if (auto err = int_in(name, v, lo, hi, x)) {
        return err;
    }
    out = x;
    return std::nullopt;
}

std::optional<std::string> flag(std::string_view name, const json::value& v, bool& out) {
    auto b = as_bool(v);
    if (!b) {
        return bad(name, "a boolean");
    }
    out = *b;
    return std::nullopt;
}

std::optional<std::string> text(std::string_view name,
                                const json::value& v,
                                std::optional<std::string>& out) {
    auto t = as_text(v);
    if (!t) {
        return bad(name, "a string");
    }
    out = std::move(*t);
    return std::nullopt;
}

std::optional<std::string> parse_headers(const json::value& v, Directives& out) {
    json::value parsed;
    const json::value* obj = &v;
    if (v.is_string()) {  // from an x-mock-headers request header
        boost::system::error_code ec;
        parsed = json::parse(v.get_string(), ec);
        if (ec) {
            return bad("headers", "a JSON object of header names to values");
        }
        obj = &parsed;
    }
    if (!obj->is_object()) {
        return bad("headers", "a JSON object of header names to values");
    }
    for (const auto& kv : obj->get_object()) {
        auto t = as_text(kv.value());
        if (!t || !is_token(kv.key()) || t->find_first_of("\r\n", 0) != std::string::npos ||
            t->find('\0') != std::string::npos) {
            return bad("headers", "a JSON object of header names to string values");
        }
        out.headers.emplace_back(std::string(kv.key()), std::move(*t));
    }
    return std::nullopt;
}

std::optional<std::string> apply(std::string_view name, const json::value& v, Directives& d) {
    if (name == "status") {
        std::int64_t s = 0;
        if (auto err = int_in(name, v, 200, 599, s)) {
            return err;
        }
        if (s == 204 || s == 205 || s == 304) {  // these may not carry the body we send
            return bad(name, "a status that allows a body (not 204, 205 or 304)");
        }
        d.status = static_cast<int>(s);
        return std::nullopt;
    }
    if (name == "error" || name == "message") {
        std::optional<std::string> t;
        if (auto err = text(name, v, t)) {
            return err;
        }
        (name == "error" ? d.error : d.message) = std::move(*t);
        return std::nullopt;
    }
    if (name == "retry_after") {
        auto t = as_text(v);
        if (!t || t->empty() || t->find_first_of("\r\n") != std::string::npos) {
            return bad(name, "a number of seconds");
        }
        d.retry_after = std::move(*t);
        return std::nullopt;
    }
    if (name == "retry_after_ms") {
        return opt_int_in(name, v, 0, kMaxDelayMs, d.retry_after_ms);
    }
    if (name == "delay_ms") {
        return int_in(name, v, 0, kMaxDelayMs, d.delay_ms);
    }
    if (name == "ttft_ms") {
        return int_in(name, v, 0, kMaxDelayMs, d.ttft_ms);
    }
    if (name == "inter_chunk_ms") {
        return int_in(name, v, 0, kMaxDelayMs, d.inter_chunk_ms);
    }
    if (name == "chunks") {
        return opt_int_in(name, v, 0, kMaxChunks, d.chunks);
    }
    if (name == "content") {
        return text(name, v, d.content);
    }
    if (name == "stall_after") {
        return opt_int_in(name, v, 0, kMaxChunks, d.stall_after);
    }
    if (name == "cut_after") {
        return opt_int_in(name, v, 0, kMaxChunks, d.cut_after);
    }
    if (name == "malformed_after") {
        return opt_int_in(name, v, 0, kMaxChunks, d.malformed_after);
    }
    if (name == "stream_error_after") {
        return opt_int_in(name, v, 0, kMaxChunks, d.stream_error_after);
    }
    if (name == "cut_reset") {
        return flag(name, v, d.cut_reset);
    }
    if (name == "no_done") {
        return flag(name, v, d.no_done);
    }
    if (name == "reset") {
        return flag(name, v, d.reset);
    }
    if (name == "hang") {
        return flag(name, v, d.hang);
    }
    if (name == "close") {
        return flag(name, v, d.close);
    }
    if (name == "tool_calls") {  // true / false, or a number of parallel calls
        const std::string want =
            "a boolean or a number of tool calls in [0, " + std::to_string(kMaxToolCalls) + "]";
        if (!v.is_bool() && !v.is_null()) {
            if (auto i = as_int(v)) {
                if (*i < 0 || *i > kMaxToolCalls) {
                    return bad(name, want);
                }
                d.tool_calls = *i;
                return std::nullopt;
            }
        }
        auto b = as_bool(v);
        if (!b) {
            return bad(name, want);
        }
        d.tool_calls = *b ? 1 : 0;
        return std::nullopt;
    }
    if (name == "tool_name") {
        std::optional<std::string> t;
        if (auto err = text(name, v, t)) {
            return err;
        }
        d.tool_name = std::move(*t);
        return std::nullopt;
    }
    if (name == "tool_arguments") {
        if (v.is_object()) {
            d.tool_arguments = json::serialize(v);
            return std::nullopt;
        }
        return text(name, v, d.tool_arguments);
    }
    if (name == "finish_reason") {
        return text(name, v, d.finish_reason);
    }
    if (name == "response_model") {
        return text(name, v, d.response_model);
    }
    if (name == "prompt_tokens") {
        return opt_int_in(name, v, 0, std::numeric_limits<std::int32_t>::max(), d.prompt_tokens);
    }
    if (name == "completion_tokens") {
        return opt_int_in(
            name, v, 0, std::numeric_limits<std::int32_t>::max(), d.completion_tokens);
    }
    if (name == "cache_read_tokens") {
        return int_in(name, v, 0, std::numeric_limits<std::int32_t>::max(), d.cache_read_tokens);
    }
    if (name == "cache_creation_tokens") {
        return int_in(
            name, v, 0, std::numeric_limits<std::int32_t>::max(), d.cache_creation_tokens);
    }
    if (name == "headers") {
        return parse_headers(v, d);
    }
    return "unknown mock directive '" + std::string(name) + "'";
}

std::optional<std::string> opt_string_field(const json::object& o,
                                            std::string_view key,
                                            std::optional<std::string>& out) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr || v->is_null()) {
        return std::nullopt;
    }
    if (!v->is_string()) {
        return "script field '" + std::string(key) + "' must be a string";
    }
    out = std::string(v->get_string());
    return std::nullopt;
}

}  // namespace

bool Directives::paced_stream() const {
    return ttft_ms > 0 || inter_chunk_ms > 0 || stall_after || cut_after || malformed_after ||
           stream_error_after;
}

std::string normalize_directive_name(std::string_view name) {
    std::string out;
    out.reserve(name.size());
    for (char c : name) {
        out.push_back(c == '-' ? '_'
                               : static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    }
    return out;
}

std::optional<std::string> parse_directives(const json::object& in, Directives& out) {
    for (const auto& kv : in) {
        const std::string name = normalize_directive_name(kv.key());
        if (auto err = apply(name, kv.value(), out)) {
            return err;
        }
    }
    return std::nullopt;
}

void overlay_directives(json::object& base, const json::object& top) {
    for (const auto& kv : top) {
        base[normalize_directive_name(kv.key())] = kv.value();
    }
}

std::optional<std::string> parse_script(const json::value& in, Script& out) {
    if (!in.is_object()) {
        return "a script entry must be a JSON object";
    }
    const json::object& o = in.get_object();
    for (const auto& kv : o) {
        const std::string_view k = kv.key();
        if (k != "tag" && k != "model" && k != "path" && k != "times" && k != "directives") {
            return "unknown script field '" + std::string(k) + "'";
        }
    }
    if (auto err = opt_string_field(o, "tag", out.tag)) {
        return err;
    }
    if (out.tag && !out.tag->empty() && out.tag->front() == '/') {
        out.tag->erase(0, 1);
    }
    if (auto err = opt_string_field(o, "model", out.model)) {
        return err;
    }
    if (auto err = opt_string_field(o, "path", out.path)) {
        return err;
    }
    if (const json::value* t = o.if_contains("times")) {
        auto i = as_int(*t);
        if (!i || (*i != -1 && *i < 1)) {
            return "script field 'times' must be -1 (forever) or a positive integer";
        }
        out.times = *i;
    }
    if (const json::value* d = o.if_contains("directives")) {
        if (!d->is_object()) {
            return "script field 'directives' must be an object";
        }
        for (const auto& kv : d->get_object()) {
            out.directives[normalize_directive_name(kv.key())] = kv.value();
        }
    }
    Directives check;
    if (auto err = parse_directives(out.directives, check)) {
        return err;
    }
    return std::nullopt;
}

json::object script_to_json(const Script& s) {
    json::object o;
    o["tag"] = s.tag ? json::value(*s.tag) : json::value(nullptr);
    o["model"] = s.model ? json::value(*s.model) : json::value(nullptr);
    o["path"] = s.path ? json::value(*s.path) : json::value(nullptr);
    o["times"] = s.times;
    o["directives"] = s.directives;
    return o;
}

void ScriptQueue::push(Script s) { entries_.push_back(std::move(s)); }

std::optional<json::object> ScriptQueue::take(std::string_view tag,
                                              std::string_view model,
                                              std::string_view path) {
    for (auto it = entries_.begin(); it != entries_.end(); ++it) {
        if (it->tag && *it->tag != tag) {
            continue;
        }
        if (it->model && *it->model != model) {
            continue;
        }
        if (it->path && path.find(*it->path) == std::string_view::npos) {
            continue;
        }
        if (it->times < 0) {
            return it->directives;
        }
        if (--it->times > 0) {
            return it->directives;
        }
        json::object d = std::move(it->directives);
        entries_.erase(it);
        return d;
    }
    return std::nullopt;
}

}  // namespace sy::mock
