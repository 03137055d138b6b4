#include "sy/providers/gemini/detail/json_util.hpp"

#include <charconv>

#include "sy/core/ids.hpp"

namespace sy::providers::gemini::detail {

std::int64_t token_count(const json::object* o, std::string_view key) {
    const json::value* v = o != nullptr ? o->if_contains(key) : nullptr;
    if (v == nullptr || !v->is_string()) {
        return common::token_count(o, key);
    }
    // proto3 JSON may spell 64-bit integers as strings.
    const json::string& s = v->get_string();
    std::int64_t parsed = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), parsed);
    if (ec != std::errc() || p != s.data() + s.size() || parsed < 0) {
        return 0;
    }
    return parsed > kMaxTokens ? kMaxTokens : parsed;
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

Error protocol_error(std::string_view detail) { return common::protocol_error(kLabel, detail); }

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
           common::context_window_signal(m);
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
    bool context_window = (effective == 400 || effective == 413) && context_window_signal(message);
    if (!context_window && effective == 400 &&
        invalid_key_signal(error_info_reason(err), message)) {
        // Google answers a bad or expired key with 400 INVALID_ARGUMENT: it is a provider auth
        // failure (providers.md §8, issue item 7), not a bad request.
        effective = 401;
    }
    return common::map_status_error(
        effective, message, kLabel, context_window, "invalid_request_error");
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
