#pragma once
// Request-translation helpers shared by providers/anthropic and providers/gemini (OpenAI chat
// request -> provider request). Not part of the public API.
//
// Thread safety: pure functions.

#include <algorithm>
#include <boost/json.hpp>
#include <cstdint>
#include <exception>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

#include "sy/core/error.hpp"
#include "sy/providers/common/json_util.hpp"

namespace sy::providers::common {

// `k` is one of `set`.
template <std::size_t N>
bool in(const std::string_view (&set)[N], std::string_view k) {
    return std::find(std::begin(set), std::end(set), k) != std::end(set);
}

inline std::string_view sv(const json::string& s) { return {s.data(), s.size()}; }

// Gateway-only fields (api.md §2.1): consumed before the upstream call, never forwarded and never
// "unsupported". Credentials in the body are rejected earlier by the pipeline (security.md S3).
bool is_gateway_only(std::string_view key);

// `['a', 'b']`: Python's repr of a list of strings, as LiteLLM prints it.
std::string py_list(const std::vector<std::string>& names);

// 400 `litellm.UnsupportedParamsError: <provider> does not support parameters: [...]`.
Error unsupported_params_error(std::string_view provider,
                               const std::vector<std::string>& names,
                               std::string_view upstream_model);

// The parts of `data:<mime>;base64,<b64>`; views into the URL.
struct DataUrl {
    std::string_view mime;
    std::string_view data;
};
// Parses a base64 data URL (`url` starts with "data:"); errors are 400s naming `where`.
Result<DataUrl> parse_data_url(std::string_view url, std::string_view where);

// A positive integer parameter, or a 400 naming `name`.
Result<std::int64_t> positive_int(const json::value& v, std::string_view name);

// Runs a request translation, turning exceptions from malformed input into 400s.
template <class Fn>
Result<std::string> guard_translation(Fn&& fn) {
    try {
        return fn();
    } catch (const std::exception& e) {
        return bad_request(std::string("invalid request body: ") + e.what());
    } catch (...) {
        return bad_request("invalid request body");
    }
}

// Runs a response translation, turning exceptions from malformed upstream JSON into 500 protocol
// errors labelled with the provider (`<label>`: "AnthropicException", ...).
template <class Fn>
Result<std::string> guard_response(std::string_view label, Fn&& fn) {
    try {
        return fn();
    } catch (const std::exception& e) {
        return protocol_error(label, std::string("cannot translate response: ") + e.what());
    } catch (...) {
        return protocol_error(label, "cannot translate response");
    }
}

}  // namespace sy::providers::common
