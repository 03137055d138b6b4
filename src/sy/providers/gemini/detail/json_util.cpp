#include "sy/providers/gemini/detail/json_util.hpp"

#include <charconv>
#include <chrono>
#include <cmath>

#include "sy/core/ids.hpp"
#include "sy/core/json_scan.hpp"

namespace sy::providers::gemini::detail {

bool parse_json(std::string_view text, json::value& out, std::string& why, json::storage_ptr sp) {
    json::parse_options opts;
    opts.max_depth = kMaxParseDepth;
    boost::system::error_code ec;
    out = json::parse(text, ec, std::move(sp), opts);
    if (ec) {
        why = ec.message();
        return false;
    }
    return true;
}

const json::value* find(const json::object& o, std::string_view key) { return o.if_contains(key); }

const json::object* find_object(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr ? v->if_object() : nullptr;
}

const json::array* find_array(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr ? v->if_array() : nullptr;
}

std::string_view find_string(const json::object& o, std::string_view key, std::string_view dflt) {
    const json::value* v = o.if_contains(key);
    if (v == nullptr) {
        return dflt;
    }
    if (const json::string* s = v->if_string()) {
        return std::string_view(s->data(), s->size());
    }
    return dflt;
}

std::optional<std::int64_t> as_integer(const json::value* v) {
    if (v == nullptr) {
        return std::nullopt;
    }
    if (const std::int64_t* i = v->if_int64()) {
        return *i;
    }
    if (const std::uint64_t* u = v->if_uint64()) {
        return *u > static_cast<std::uint64_t>(INT64_MAX) ? INT64_MAX
                                                          : static_cast<std::int64_t>(*u);
    }
    if (const double* d = v->if_double()) {
        if (std::isfinite(*d) && *d == std::floor(*d) && std::fabs(*d) < 9.0e18) {
            return static_cast<std::int64_t>(*d);
        }
    }
    return std::nullopt;
}

std::int64_t token_count(const json::object* o, std::string_view key) {
    if (o == nullptr) {
        return 0;
    }
    const json::value* v = o->if_contains(key);
    std::optional<std::int64_t> n = as_integer(v);
    if (!n && v != nullptr && v->is_double()) {
        double d = v->get_double();
        if (std::isfinite(d) && d > 0) {
            n = d >= static_cast<double>(kMaxTokens) ? kMaxTokens : static_cast<std::int64_t>(d);
        }
    }
    if (!n && v != nullptr && v->is_string()) {
        // proto3 JSON may spell 64-bit integers as strings.
        const json::string& s = v->get_string();
        std::int64_t parsed = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
        if (ec == std::errc() && p == s.data() + s.size()) {
            n = parsed;
        }
    }
    if (!n || *n < 0) {
        return 0;
    }
    return *n > kMaxTokens ? kMaxTokens : *n;
}

void append_quoted(std::string& out, std::string_view s) { json_scan::append_json_string(out, s); }

void append_int(std::string& out, std::int64_t v) {
    char buf[24];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    out.append(buf, p);
}

std::string truncate_utf8(std::string_view s, std::size_t n) {
    if (s.size() <= n) {
        return std::string(s);
    }
    std::size_t cut = n;
    // Step back over continuation bytes so a multi-byte sequence is never split.
    while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) {
        --cut;
    }
    return std::string(s.substr(0, cut));
}

std::string sanitize_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        std::size_t len = 0;
        std::uint32_t cp = 0;
        if (c < 0x80) {
            out.push_back(static_cast<char>(c));
            ++i;
            continue;
        }
        if ((c & 0xE0) == 0xC0) {
            len = 2;
            cp = c & 0x1F;
        } else if ((c & 0xF0) == 0xE0) {
            len = 3;
            cp = c & 0x0F;
        } else if ((c & 0xF8) == 0xF0) {
            len = 4;
            cp = c & 0x07;
        }
        bool ok = len != 0 && i + len <= s.size();
        for (std::size_t k = 1; ok && k < len; ++k) {
            auto cc = static_cast<unsigned char>(s[i + k]);
            if ((cc & 0xC0) != 0x80) {
                ok = false;
            } else {
                cp = (cp << 6) | (cc & 0x3F);
            }
        }
        // Reject overlong forms, surrogates and values past U+10FFFF.
        if (ok &&
            ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) ||
             (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) || (cp >= 0xD800 && cp <= 0xDFFF))) {
            ok = false;
        }
        if (ok) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            out.append("\xEF\xBF\xBD");
            ++i;
        }
    }
    return out;
}

namespace {

char lower(char c) { return static_cast<char>((c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c); }

}  // namespace

bool contains_ci(std::string_view hay, std::string_view needle) {
    if (needle.size() > hay.size()) {
        return false;
    }
    for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
        std::size_t j = 0;
        while (j < needle.size() && lower(hay[i + j]) == lower(needle[j])) {
            ++j;
        }
        if (j == needle.size()) {
            return true;
        }
    }
    return false;
}

bool starts_with_ci(std::string_view s, std::string_view lower_prefix) {
    if (s.size() < lower_prefix.size()) {
        return false;
    }
    for (std::size_t i = 0; i < lower_prefix.size(); ++i) {
        if (lower(s[i]) != lower_prefix[i]) {
            return false;
        }
    }
    return true;
}

std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string new_tool_call_id() {
    std::string uuid = new_call_id();
    std::string out = "call_";
    for (char c : uuid) {
        if (c != '-' && out.size() < 5 + 24) {
            out.push_back(c);
        }
    }
    return out;
}

Error bad_request(std::string msg) {
    Error e = Error::make(Errc::kBadRequest, std::move(msg));
    e.status = 400;
    e.type = "invalid_request_error";
    return e;
}

Error protocol_error(std::string_view detail) {
    std::string msg = "litellm.InternalServerError: ";
    msg.append(kLabel);
    msg.append(" - ");
    msg.append(truncate_utf8(detail, kMaxErrorMessageBytes));
    return Error::make(Errc::kUpstreamProtocol, std::move(msg));
}

Error blocked_prompt_error(const json::object& feedback) {
    std::string msg = "litellm.ContentPolicyViolationError: ";
    msg.append(kLabel);
    msg.append(" - The prompt was blocked by Gemini: blockReason=");
    std::string_view reason = find_string(feedback, "blockReason", "BLOCK_REASON_UNSPECIFIED");
    msg.append(truncate_utf8(reason, 200));
    std::string_view why = find_string(feedback, "blockReasonMessage");
    if (!why.empty()) {
        msg.append(" (");
        msg.append(truncate_utf8(why, kMaxErrorMessageBytes));
        msg.append(")");
    }
    Error e = Error::make(Errc::kContentPolicy, std::move(msg));
    e.status = 400;
    e.type = "invalid_request_error";
    return e;
}

int status_for_rpc_status(std::string_view s) {
    if (s == "INVALID_ARGUMENT" || s == "FAILED_PRECONDITION" || s == "OUT_OF_RANGE") {
        return 400;
    }
    if (s == "UNAUTHENTICATED") {
        return 401;
    }
    if (s == "PERMISSION_DENIED") {
        return 403;
    }
    if (s == "NOT_FOUND") {
        return 404;
    }
    if (s == "ALREADY_EXISTS" || s == "ABORTED") {
        return 409;
    }
    if (s == "RESOURCE_EXHAUSTED") {
        return 429;
    }
    if (s == "CANCELLED") {
        return 499;
    }
    if (s == "UNIMPLEMENTED") {
        return 501;
    }
    if (s == "UNAVAILABLE") {
        return 503;
    }
    if (s == "DEADLINE_EXCEEDED") {
        return 504;
    }
    return 0;  // INTERNAL, UNKNOWN, DATA_LOSS and anything new: caller decides (500)
}

const json::object* error_object(const json::value& body) {
    const json::value* v = &body;
    if (const json::array* a = v->if_array()) {
        if (a->empty()) {
            return nullptr;
        }
        v = &a->front();
    }
    const json::object* o = v->if_object();
    return o != nullptr ? find_object(*o, "error") : nullptr;
}

namespace {

bool context_window_signal(std::string_view m) {
    return contains_ci(m, "exceeds the maximum number of tokens") ||
           contains_ci(m, "maximum context length") || contains_ci(m, "context window") ||
           contains_ci(m, "context length") || contains_ci(m, "context_length_exceeded");
}

bool invalid_key_signal(std::string_view reason, std::string_view m) {
    return reason == "API_KEY_INVALID" || contains_ci(m, "API key not valid") ||
           contains_ci(m, "API key expired");
}

// `reason` of the google.rpc.ErrorInfo detail, if any.
std::string_view error_info_reason(const json::object& err) {
    const json::array* details = find_array(err, "details");
    if (details == nullptr) {
        return {};
    }
    for (const auto& d : *details) {
        const json::object* o = d.if_object();
        if (o == nullptr) {
            continue;
        }
        std::string_view type = find_string(*o, "@type");
        if (type.size() >= 20 && type.substr(type.size() - 20) == "google.rpc.ErrorInfo") {
            return find_string(*o, "reason");
        }
    }
    return {};
}

}  // namespace

Error map_error_object(int status, const json::object& err) {
    std::string_view rpc = find_string(err, "status");
    std::string_view m = find_string(err, "message");
    while (!m.empty() && (m.back() == '\n' || m.back() == '\r' || m.back() == ' ')) {
        m.remove_suffix(1);
    }
    std::string message(m);
    int effective = status;
    if (effective < 400 || effective > 599) {
        std::optional<std::int64_t> code = as_integer(find(err, "code"));
        if (code && *code >= 400 && *code <= 599) {
            effective = static_cast<int>(*code);
        } else if (int s = status_for_rpc_status(rpc); s != 0) {
            effective = s;
        } else {
            effective = 500;
        }
    }
    if (message.empty()) {
        message = "Gemini API returned HTTP " + std::to_string(effective);
        if (!rpc.empty()) {
            message += " " + truncate_utf8(rpc, 100);
        }
    }
    std::string_view reason = error_info_reason(err);

    std::string cls;
    Errc code = Errc::kUpstreamStatus;
    int out_status = effective;
    std::string type;
    if ((effective == 400 || effective == 413) && context_window_signal(message)) {
        cls = "ContextWindowExceededError";
        code = Errc::kContextWindow;
        out_status = 400;
        type = "invalid_request_error";
    } else if (effective == 400 && invalid_key_signal(reason, message)) {
        // Google answers a bad or expired key with 400 INVALID_ARGUMENT: it is a provider auth
        // failure (providers.md §8, issue item 7), not a bad request.
        cls = "AuthenticationError";
        out_status = 401;
        type = "authentication_error";
    } else if (effective == 400 || effective == 413) {
        cls = "BadRequestError";
        type = "invalid_request_error";
    } else if (effective == 401) {
        cls = "AuthenticationError";
        type = "authentication_error";
    } else if (effective == 403) {
        cls = "PermissionDeniedError";
        type = "permission_error";
    } else if (effective == 404) {
        cls = "NotFoundError";
        type = "not_found_error";
    } else if (effective == 408) {
        cls = "Timeout";
        code = Errc::kTimeout;
        type = "timeout_error";
    } else if (effective == 422) {
        cls = "UnprocessableEntityError";
        type = "unprocessable_entity_error";
    } else if (effective == 429) {
        cls = "RateLimitError";
        code = Errc::kRateLimited;
        type = "rate_limit_error";
    } else if (effective == 502 || effective == 503 || effective == 504 || effective == 529) {
        cls = "ServiceUnavailableError";
        out_status = 503;
        type = "service_unavailable";
    } else if (effective >= 500) {
        cls = "InternalServerError";
        out_status = 500;
        type = "api_error";
    } else {
        cls = "BadRequestError";
        type = "invalid_request_error";
    }
    std::string msg = "litellm." + cls + ": ";
    msg.append(kLabel);
    msg.append(" - ");
    msg.append(truncate_utf8(message, kMaxErrorMessageBytes));
    Error e = Error::make(code, std::move(msg));
    e.status = out_status;
    e.type = std::move(type);
    return e;
}

std::string_view finish_reason_for(std::string_view r, bool made_calls) {
    if (r == "MAX_TOKENS") {
        return "length";
    }
    if (r == "SAFETY" || r == "RECITATION" || r == "BLOCKLIST" || r == "PROHIBITED_CONTENT" ||
        r == "SPII" || r == "IMAGE_SAFETY") {
        return "content_filter";
    }
    // STOP, FINISH_REASON_UNSPECIFIED, OTHER, MALFORMED_FUNCTION_CALL, LANGUAGE, future values.
    return made_calls ? "tool_calls" : "stop";
}

StreamUsage read_usage(const json::object& um) {
    StreamUsage u;
    u.prompt_tokens = token_count(&um, "promptTokenCount");
    u.candidates_tokens = token_count(&um, "candidatesTokenCount");
    u.thoughts_tokens = token_count(&um, "thoughtsTokenCount");
    u.cached_tokens = token_count(&um, "cachedContentTokenCount");
    u.total_tokens = token_count(&um, "totalTokenCount");
    u.seen = true;
    return u;
}

json::object usage_object(const StreamUsage& u) {
    std::int64_t completion = u.candidates_tokens + u.thoughts_tokens;
    std::int64_t total = u.total_tokens > 0 ? u.total_tokens : u.prompt_tokens + completion;
    json::object o;
    o["prompt_tokens"] = u.prompt_tokens;
    o["completion_tokens"] = completion;
    o["total_tokens"] = total;
    o["prompt_tokens_details"] = json::object{{"cached_tokens", u.cached_tokens}};
    o["completion_tokens_details"] = json::object{{"reasoning_tokens", u.thoughts_tokens}};
    return o;
}

}  // namespace sy::providers::gemini::detail
