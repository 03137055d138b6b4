#pragma once
// Expected failures as values. One table (pipeline/error_render) turns them into HTTP responses.
//
// Thread safety: plain values.

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace sy {

// Coarse failure classes. Each maps to exactly one default HTTP status and OpenAI `type`
// (see sy/core/error.cpp: errc_status / errc_type).
enum class Errc : std::uint8_t {
    kBadRequest,           // 400 invalid_request_error
    kUnknownModel,         // 400 invalid_request_error, param=model
    kProviderNotSupported, // 400 invalid_request_error
    kContextWindow,        // 400 upstream context window exceeded
    kContentPolicy,        // 400 upstream content policy
    kAuthMissing,          // 401 auth_error
    kAuthInvalid,          // 401 auth_error
    kForbidden,            // 403 auth_error
    kNotFound,             // 404 not_found_error
    kMethodNotAllowed,     // 405
    kTimeout,              // 408 timeout_error
    kBodyTooLarge,         // 413
    kRateLimited,          // 429 rate_limit_error
    kUpstreamStatus,       // upstream returned an error status; status carried in Error
    kUpstreamConnection,   // 500 api_error (connection refused/reset, DNS, TLS)
    kUpstreamProtocol,     // 500 api_error (malformed upstream response / stream)
    kServiceUnavailable,   // 503 service_unavailable
    kInternal,             // 500 internal_server_error
};

struct Header {
    std::string name;
    std::string value;
};

struct Error {
    Errc code = Errc::kInternal;
    std::string message;
    int status = 0;                    // 0 = default for code
    std::string type;                  // empty = default for code
    std::optional<std::string> param;  // JSON null when absent
    std::vector<Header> headers;       // extra response headers (retry-after, x-litellm-timeout)

    static Error make(Errc c, std::string msg) {
        Error e;
        e.code = c;
        e.message = std::move(msg);
        return e;
    }
    Error&& with_param(std::string p) && {
        param = std::move(p);
        return std::move(*this);
    }
    Error&& with_status(int s) && {
        status = s;
        return std::move(*this);
    }
    Error&& with_type(std::string t) && {
        type = std::move(t);
        return std::move(*this);
    }
    Error&& with_header(std::string n, std::string v) && {
        headers.push_back({std::move(n), std::move(v)});
        return std::move(*this);
    }

    int http_status() const;
    std::string_view http_type() const;
};

int errc_status(Errc c);
std::string_view errc_type(Errc c);

// Result<T>: a T or an Error. Deliberately small; no exceptions on the data path.
template <class T>
class [[nodiscard]] Result {
public:
    Result(T v) : v_(std::in_place_index<0>, std::move(v)) {}         // NOLINT(implicit)
    Result(Error e) : v_(std::in_place_index<1>, std::move(e)) {}     // NOLINT(implicit)
    bool ok() const { return v_.index() == 0; }
    explicit operator bool() const { return ok(); }
    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    T& operator*() & { return std::get<0>(v_); }
    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

private:
    std::variant<T, Error> v_;
};

struct Ok {};
using Status = Result<Ok>;
inline Status ok_status() { return Ok{}; }

}  // namespace sy
