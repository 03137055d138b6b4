#include "sy/providers/common/request_util.hpp"

namespace sy::providers::common {
namespace {

constexpr std::string_view kGatewayOnly[] = {
    "metadata",
    "num_retries",
    "timeout",
    "stream_timeout",
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "disable_fallbacks",
    "drop_params",
    "additional_drop_params",
    "modify_params",
    "cache",
    "caching",
    "tags",
    "mock_response",
    "mock_testing_rate_limit_error",
    "mock_timeout",
    "mock_testing_fallbacks",
    "mock_testing_context_fallbacks",
    "mock_testing_content_policy_fallbacks",
    "mock_delay",
    "fastest_response",
    "api_key",
    "api_base",
    "base_url",
    "api_version",
    "organization",
};

}  // namespace

bool is_gateway_only(std::string_view key) { return in(kGatewayOnly, key); }

std::string py_list(const std::vector<std::string>& names) {
    std::string out = "[";
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) {
            out += ", ";
        }
        out += "'" + names[i] + "'";
    }
    return out + "]";
}

Error unsupported_params_error(std::string_view provider,
                               const std::vector<std::string>& names,
                               std::string_view upstream_model) {
    return bad_request("litellm.UnsupportedParamsError: " + std::string(provider) +
                       " does not support parameters: " + py_list(names) +
                       ", for model=" + std::string(upstream_model) +
                       ". To drop these, set `litellm.drop_params=True` or for proxy: "
                       "`litellm_settings: drop_params: true`.");
}

Result<DataUrl> parse_data_url(std::string_view url, std::string_view where) {
    std::string_view rest = url.substr(5);  // after "data:"
    auto comma = rest.find(',');
    if (comma == std::string_view::npos) {
        return bad_request(std::string(where) + ": malformed data URL (no ',')");
    }
    std::string_view header = rest.substr(0, comma);
    std::string_view data = rest.substr(comma + 1);
    constexpr std::string_view kB64 = ";base64";
    if (header.size() < kB64.size() || header.substr(header.size() - kB64.size()) != kB64) {
        return bad_request(std::string(where) + ": only base64 data URLs are supported");
    }
    std::string_view mime = header.substr(0, header.find(';'));
    if (mime.empty() || data.empty()) {
        return bad_request(std::string(where) + ": data URL without media type or data");
    }
    return DataUrl{mime, data};
}

Result<std::int64_t> positive_int(const json::value& v, std::string_view name) {
    auto n = as_integer(&v);
    if (!n || *n <= 0) {
        return bad_request(std::string(name) + ": must be a positive integer");
    }
    return *n;
}

}  // namespace sy::providers::common
