#pragma once
// OpenAI and OpenAI-compatible providers (openai/, groq/, hosted_vllm/, ...): upstream request
// shape, credentials and upstream error mapping (providers.md §5, §7, §8).
//
// Thread safety: Target is immutable after prepare_target(); functions are pure.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sy/config/settings.hpp"
#include "sy/core/error.hpp"
#include "sy/http/upstream.hpp"
#include "sy/http/url.hpp"

namespace sy::providers {

// kMessages: an Anthropic Messages request from the client (POST /v1/messages).
enum class Route { kChat, kCompletions, kEmbeddings, kMessages };

std::string_view route_path(Route r);  // "/chat/completions", ...

// Everything needed to call one deployment, computed once at load.
// The wire format a deployment speaks.
enum class ApiShape : std::uint8_t {
    kOpenAI,     // OpenAI and OpenAI-compatible servers
    kAnthropic,  // Anthropic Messages API (translated, providers.md §1)
    kAzure,      // Azure OpenAI: OpenAI bodies, deployment URLs, api-key header (providers.md §3)
    kGemini,     // Google AI Studio generateContent (translated, providers.md §4)
};

struct Target {
    ApiShape shape = ApiShape::kOpenAI;
    http::ParsedUrl url;
    std::vector<Header> headers;  // credentials, API version, OpenAI-Organization, extra_headers
    std::string exception_label;  // "OpenAIException", "AnthropicException", ...
    std::string api_version;      // Azure: sent as ?api-version=
};

// Anthropic API version sent when the deployment sets none (api.md §5).
inline constexpr std::string_view kAnthropicVersion = "2023-06-01";

// Errors (startup): invalid api_base, control characters in api_key / organization /
// extra_headers (they would corrupt the hand-built request head).
Result<Target> prepare_target(const config::Deployment& d);

// True when `s` has bytes that must never reach an HTTP head (C0 controls, DEL).
bool has_control_chars(std::string_view s);

// `upstream_model` is the deployment's model after the prefix (Azure: the deployment name, part
// of the URL).
http::UpstreamRequest build_request(const Target& t,
                                    Route r,
                                    std::string body,
                                    std::string_view upstream_model,
                                    bool stream = false);

// Context for error messages (api.md §12.2).
struct ErrorContext {
    std::string_view exception_label;
    std::string_view model_group;
};

// Maps an upstream error response to the client-facing error (providers.md §8).
Error map_upstream_error(int status,
                         const std::vector<Header>& headers,
                         std::string_view body,
                         const ErrorContext& ctx);

// Maps a transport failure (timeout, connection) to the client-facing error. `timeout_s` is the
// effective timeout of the attempt, reported in x-litellm-timeout.
Error map_transport_error(const Error& e, const ErrorContext& ctx, double timeout_s);

// Error carried inside an SSE event (`data: {"error": {...}}`) before any byte reached the client.
Error map_stream_error_event(std::string_view json, const ErrorContext& ctx);

// Provider response headers forwarded as `llm_provider-<name>` (README D25 allow-list).
// Case-insensitive.
bool forwardable_provider_header(std::string_view name);

// Python's float repr for the values we emit (1.0, 600.0, 0.001, 2.5).
std::string python_float(double v);

}  // namespace sy::providers
