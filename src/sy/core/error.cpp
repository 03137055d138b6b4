#include "sy/core/error.hpp"

namespace sy {

int errc_status(Errc c) {
    switch (c) {
        case Errc::kBadRequest:
        case Errc::kUnknownModel:
        case Errc::kProviderNotSupported:
        case Errc::kContextWindow:
        case Errc::kContentPolicy:
            return 400;
        case Errc::kAuthMissing:
        case Errc::kAuthInvalid:
            return 401;
        case Errc::kForbidden:
            return 403;
        case Errc::kNotFound:
            return 404;
        case Errc::kMethodNotAllowed:
            return 405;
        case Errc::kTimeout:
            return 408;
        case Errc::kBodyTooLarge:
            return 413;
        case Errc::kRateLimited:
            return 429;
        case Errc::kUpstreamStatus:
        case Errc::kUpstreamConnection:
        case Errc::kUpstreamProtocol:
        case Errc::kInternal:
            return 500;
        case Errc::kServiceUnavailable:
            return 503;
    }
    return 500;
}

std::string_view errc_type(Errc c) {
    switch (c) {
        case Errc::kBadRequest:
        case Errc::kUnknownModel:
        case Errc::kProviderNotSupported:
        case Errc::kContextWindow:
        case Errc::kContentPolicy:
        case Errc::kBodyTooLarge:
        case Errc::kMethodNotAllowed:
            return "invalid_request_error";
        case Errc::kAuthMissing:
        case Errc::kAuthInvalid:
        case Errc::kForbidden:
            return "auth_error";
        case Errc::kNotFound:
            return "not_found_error";
        case Errc::kTimeout:
            return "timeout_error";
        case Errc::kRateLimited:
            return "rate_limit_error";
        case Errc::kUpstreamStatus:
        case Errc::kUpstreamConnection:
        case Errc::kUpstreamProtocol:
            return "api_error";
        case Errc::kServiceUnavailable:
            return "service_unavailable";
        case Errc::kInternal:
            return "internal_server_error";
    }
    return "internal_server_error";
}

int Error::http_status() const { return status != 0 ? status : errc_status(code); }
std::string_view Error::http_type() const { return type.empty() ? errc_type(code) : type; }

}  // namespace sy
