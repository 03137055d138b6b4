#include <boost/json.hpp>

#include "sy/providers/anthropic/detail/json_util.hpp"
#include "sy/providers/anthropic/translate.hpp"

namespace sy::providers::anthropic {

Error map_anthropic_error(int status, std::string_view body) {
    try {
        std::string msg = detail::error_message_of(body);
        if (msg.empty()) {
            msg = "Anthropic API returned HTTP " + std::to_string(status);
        }
        return detail::map_status_error(status, msg, "AnthropicException");
    } catch (...) {
        return Error::make(Errc::kInternal, "litellm.InternalServerError: AnthropicException");
    }
}

std::string_view anthropic_error_type(int status) {
    switch (status) {
        case 400:
            return "invalid_request_error";
        case 401:
            return "authentication_error";
        case 403:
            return "permission_error";
        case 404:
            return "not_found_error";
        case 408:
            return "timeout_error";  // ours: not in Anthropic's table
        case 413:
            return "request_too_large";
        case 429:
            return "rate_limit_error";
        case 503:
        case 529:
            return "overloaded_error";
        default:
            break;
    }
    return status >= 400 && status < 500 ? "invalid_request_error" : "api_error";
}

std::string anthropic_error_envelope(int status, std::string_view message) {
    std::string out = R"({"type":"error","error":{"type":)";
    detail::append_quoted(out, anthropic_error_type(status));
    out += R"(,"message":)";
    detail::append_quoted(out, detail::sanitize_utf8(message));
    out += "}}";
    return out;
}

}  // namespace sy::providers::anthropic
