#include "sy/providers/common/json_util.hpp"

#include <charconv>
#include <chrono>
#include <cmath>

#include "sy/core/json_scan.hpp"

namespace sy::providers::common {

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

Error bad_request(std::string msg) {
    Error e = Error::make(Errc::kBadRequest, std::move(msg));
    e.status = 400;
    e.type = "invalid_request_error";
    return e;
}

void append_chunk_tail(std::string& out, std::string_view finish_reason, bool include_usage) {
    out += R"(,"logprobs":null,"finish_reason":)";
    if (finish_reason.empty()) {
        out += "null";
    } else {
        append_quoted(out, finish_reason);
    }
    out += "}]";
    if (include_usage) {
        out += R"(,"usage":null)";
    }
    out += '}';
}

Error protocol_error(std::string_view label, std::string_view detail) {
    std::string msg = "litellm.InternalServerError: ";
    msg.append(label);
    msg.append(" - ");
    msg.append(truncate_utf8(detail, kMaxErrorMessageBytes));
    return Error::make(Errc::kUpstreamProtocol, std::move(msg));
}

bool context_window_signal(std::string_view m) {
    return contains_ci(m, "maximum context length") || contains_ci(m, "context window") ||
           contains_ci(m, "context length") || contains_ci(m, "context_length_exceeded");
}

Error map_status_error(int status,
                       std::string_view provider_message,
                       std::string_view label,
                       bool context_window,
                       std::string_view too_large_type) {
    std::string cls;
    Errc code = Errc::kUpstreamStatus;
    int out_status = status;
    std::string type;
    if ((status == 400 || status == 413) && context_window) {
        cls = "ContextWindowExceededError";
        code = Errc::kContextWindow;
        out_status = 400;
        type = "invalid_request_error";
    } else if (status == 400 || status == 413) {
        cls = "BadRequestError";
        type = status == 413 ? std::string(too_large_type) : "invalid_request_error";
    } else if (status == 401) {
        cls = "AuthenticationError";
        type = "authentication_error";
    } else if (status == 403) {
        cls = "PermissionDeniedError";
        type = "permission_error";
    } else if (status == 404) {
        cls = "NotFoundError";
        type = "not_found_error";
    } else if (status == 408) {
        cls = "Timeout";
        code = Errc::kTimeout;
        type = "timeout_error";
    } else if (status == 422) {
        cls = "UnprocessableEntityError";
        type = "unprocessable_entity_error";
    } else if (status == 429) {
        cls = "RateLimitError";
        code = Errc::kRateLimited;
        type = "rate_limit_error";
    } else if (status == 502 || status == 503 || status == 504 || status == 529) {
        cls = "ServiceUnavailableError";
        out_status = 503;
        type = "service_unavailable";
    } else if (status >= 500) {
        cls = "InternalServerError";
        out_status = 500;
        type = "api_error";
    } else {
        // 2xx/3xx bodies that still carry an error, and other 4xx statuses.
        cls = "BadRequestError";
        out_status = status >= 400 ? status : 400;
        type = "invalid_request_error";
    }
    std::string msg = "litellm." + cls + ": ";
    msg.append(label);
    msg.append(" - ");
    msg.append(truncate_utf8(provider_message, kMaxErrorMessageBytes));
    Error e = Error::make(code, std::move(msg));
    e.status = out_status;
    e.type = std::move(type);
    return e;
}

}  // namespace sy::providers::common
