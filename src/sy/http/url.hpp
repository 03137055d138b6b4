#pragma once
// Parsing of upstream base URLs (api_base).
//
// Thread safety: pure functions / plain values.

#include <cstdint>
#include <string>
#include <string_view>

#include "sy/core/error.hpp"

namespace sy::http {

// Scheme + host + port: the key of an upstream connection pool.
struct Origin {
    bool tls = false;
    std::string host;  // without brackets for IPv6
    std::uint16_t port = 0;
    std::string key() const;   // "https://host:port"
    void append_key(std::string& out) const;  // the same, appended (no allocation of its own)
    bool is_loopback() const;  // 127.0.0.0/8, ::1, localhost
};

struct ParsedUrl {
    Origin origin;
    std::string base_path;  // path without trailing '/', e.g. "/v1" ("" for none)
    std::string query;      // without '?'
    // The URL with userinfo and query removed (x-litellm-model-api-base).
    std::string display;
};

// Accepts http:// and https:// URLs. Userinfo is dropped. Errors are kBadRequest with a message
// that never echoes userinfo.
Result<ParsedUrl> parse_url(std::string_view url);

}  // namespace sy::http
