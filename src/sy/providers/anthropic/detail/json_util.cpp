#include "sy/providers/anthropic/detail/json_util.hpp"

namespace sy::providers::anthropic::detail {

Error map_status_error(int status, std::string_view provider_message, std::string_view label) {
    bool context_window =
        (status == 400 || status == 413) && (contains_ci(provider_message, "prompt is too long") ||
                                             common::context_window_signal(provider_message));
    return common::map_status_error(
        status, provider_message, label, context_window, "request_too_large");
}

int status_for_anthropic_type(std::string_view type) {
    if (type == "invalid_request_error") {
        return 400;
    }
    if (type == "authentication_error") {
        return 401;
    }
    if (type == "permission_error") {
        return 403;
    }
    if (type == "not_found_error") {
        return 404;
    }
    if (type == "request_too_large") {
        return 413;
    }
    if (type == "rate_limit_error") {
        return 429;
    }
    if (type == "overloaded_error") {
        return 529;
    }
    if (type == "timeout_error") {
        return 504;
    }
    return 500;  // api_error and anything new
}

std::string error_message_of(std::string_view body) {
    json::value v;
    std::string why;
    if (parse_json(body, v, why)) {
        if (const json::object* o = v.if_object()) {
            if (const json::object* err = find_object(*o, "error")) {
                if (const json::value* m = find(*err, "message"); m != nullptr && m->is_string()) {
                    return std::string(m->get_string());
                }
            }
            if (const json::value* m = find(*o, "message"); m != nullptr && m->is_string()) {
                return std::string(m->get_string());
            }
            if (const json::value* m = find(*o, "error"); m != nullptr && m->is_string()) {
                return std::string(m->get_string());
            }
        }
    }
    std::string_view t = body;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) {
        t.remove_suffix(1);
    }
    return truncate_utf8(sanitize_utf8(t.substr(0, kMaxErrorMessageBytes + 4)),
                         kMaxErrorMessageBytes);
}

}  // namespace sy::providers::anthropic::detail
