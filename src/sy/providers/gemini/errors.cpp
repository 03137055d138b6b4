// Gemini upstream errors (providers.md §4, §8) and the generateContent path.

#include <boost/json.hpp>
#include <charconv>
#include <cmath>

#include "sy/providers/gemini/detail/json_util.hpp"
#include "sy/providers/gemini/translate.hpp"

namespace sy::providers::gemini {
namespace {

namespace json = boost::json;
using detail::find_array;
using detail::find_string;

// A body that is not Gemini's error JSON (an HTML page from a proxy, plain text): its text is the
// message.
std::string raw_message(std::string_view body) {
    std::string_view t = body;
    while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) {
        t.remove_suffix(1);
    }
    return detail::truncate_utf8(
        detail::sanitize_utf8(t.substr(0, detail::kMaxErrorMessageBytes + 4)),
        detail::kMaxErrorMessageBytes);
}

// proto3 JSON Duration: decimal seconds with an "s" suffix ("3s", "0.5s", "1.000340s").
std::optional<double> parse_duration(std::string_view s) {
    if (s.size() < 2 || s.back() != 's' || s.size() > 40) {
        return std::nullopt;
    }
    s.remove_suffix(1);
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v, std::chars_format::fixed);
    if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v) || v < 0) {
        return std::nullopt;
    }
    return v;
}

bool unreserved(char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

void append_encoded(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789ABCDEF";
    for (char c : s) {
        if (unreserved(c)) {
            out.push_back(c);
        } else {
            auto u = static_cast<unsigned char>(c);
            out.push_back('%');
            out.push_back(kHex[u >> 4]);
            out.push_back(kHex[u & 0xF]);
        }
    }
}

}  // namespace

Error map_gemini_error(int status, std::string_view body) {
    try {
        json::value v;
        std::string why;
        if (detail::parse_json(body, v, why)) {
            if (const json::object* err = detail::error_object(v)) {
                return detail::map_error_object(status, *err);
            }
            if (const json::object* o = v.if_object()) {
                // {"message": ...} or {"error": "text"} from something in front of Google.
                std::string_view m = find_string(*o, "message");
                if (m.empty()) {
                    m = find_string(*o, "error");
                }
                if (!m.empty()) {
                    json::object err;
                    err["message"] = m;
                    return detail::map_error_object(status, err);
                }
            }
        }
        json::object err;
        std::string msg = raw_message(body);
        if (!msg.empty()) {
            err["message"] = msg;
        }
        return detail::map_error_object(status, err);
    } catch (...) {
        return Error::make(Errc::kInternal, "litellm.InternalServerError: GeminiException");
    }
}

std::optional<double> retry_delay_seconds(std::string_view body) {
    try {
        json::value v;
        std::string why;
        if (!detail::parse_json(body, v, why)) {
            return std::nullopt;
        }
        const json::object* err = detail::error_object(v);
        const json::array* details = err != nullptr ? find_array(*err, "details") : nullptr;
        if (details == nullptr) {
            return std::nullopt;
        }
        constexpr std::string_view kRetryInfo = "google.rpc.RetryInfo";
        for (const auto& d : *details) {
            const json::object* o = d.if_object();
            if (o == nullptr) {
                continue;
            }
            std::string_view type = find_string(*o, "@type");
            if (type.size() < kRetryInfo.size() ||
                type.substr(type.size() - kRetryInfo.size()) != kRetryInfo) {
                continue;
            }
            return parse_duration(find_string(*o, "retryDelay"));
        }
    } catch (...) {
    }
    return std::nullopt;
}

std::string generate_path(std::string_view model, bool stream) {
    try {
        std::string out = "/v1beta/";
        constexpr std::string_view kModels = "models/";
        constexpr std::string_view kTuned = "tunedModels/";
        if (model.substr(0, kTuned.size()) == kTuned) {
            out += kTuned;
            model.remove_prefix(kTuned.size());
        } else {
            out += kModels;
            if (model.substr(0, kModels.size()) == kModels) {
                model.remove_prefix(kModels.size());
            }
        }
        append_encoded(out, model);
        out += stream ? ":streamGenerateContent?alt=sse" : ":generateContent";
        return out;
    } catch (...) {
        return {};
    }
}

}  // namespace sy::providers::gemini
