#pragma once
// The provider table (config.md §3.1, providers.md §5-§6) and model-string resolution
// (config.md §3.1-§3.3). Pure data and pure functions: no I/O, no environment access.
//
// Thread safety: the table is built on first use (thread-safe static) and immutable afterwards;
// every function here is safe to call from any thread.

#include <string>
#include <string_view>
#include <vector>

#include "sy/core/error.hpp"

namespace sy::config {

// One provider slug as it may appear as a `litellm_params.model` prefix.
struct ProviderInfo {
    std::string_view slug;                    // "openai", "anthropic", "hosted_vllm", ...
    bool supported;                           // calls are implemented (false: loads with a warning)
    bool openai_compatible;                   // speaks the OpenAI wire format (Bearer auth)
    std::string_view default_base;            // empty: none (api_base required or provider LATER)
    std::vector<std::string_view> key_envs;   // api_key fallbacks, first set wins
    std::vector<std::string_view> base_envs;  // api_base fallbacks, first set wins
    bool needs_api_base;                      // no default base: api_base (or its env) required
    bool needs_api_key = true;                // false: servers that run without a key (vLLM, ...)
};

// Azure `api_version` fallbacks (providers.md §3): litellm_params.api_version, then this env var,
// then the pinned GA version.
inline constexpr std::string_view kAzureApiVersionEnv = "AZURE_API_VERSION";
inline constexpr std::string_view kDefaultAzureApiVersion = "2024-10-21";

// nullptr when `slug` is not a known provider prefix. Exact, case-sensitive match.
const ProviderInfo* find_provider(std::string_view slug);

// Every known provider, in table order (supported first, then LATER ones).
const std::vector<ProviderInfo>& all_providers();

struct ResolvedModel {
    std::string provider;        // provider slug; empty = wildcard resolved per request
    std::string upstream_model;  // the model name sent upstream (prefix stripped)
};

// True when `model` contains the wildcard character '*'.
bool has_wildcard(std::string_view model);

// Resolves `litellm_params.model` (+ optional `custom_llm_provider`) to a provider and the
// upstream model name:
//   1. custom_llm_provider (when non-empty) names the provider; a leading "<provider>/" on the
//      model is stripped, any other model text is sent upstream as is.
//   2. "<prefix>/<rest>" where <prefix> is a known slug -> (prefix, rest). An unknown first
//      segment is not a prefix ("google/gemma-3" is a bare name).
//   3. Bare names: gpt-*, chatgpt-*, o1*, o3*, o4*, gpt-5*, text-embedding-*, ft:gpt-*, dall-e-*,
//      whisper-*, tts-* -> openai; claude-* -> anthropic.
//   4. A model containing '*' that no rule resolves ("*", "foo-*") -> provider "" (resolved per
//      request by the router); anything else -> Errc::kBadRequest with LiteLLM's message
//      "LLM Provider NOT provided. Pass in the LLM provider you are trying to call. You passed
//      model=<model>".
// An unknown custom_llm_provider or an empty model after the prefix is also kBadRequest.
Result<ResolvedModel> resolve_model(std::string_view model,
                                    std::string_view custom_llm_provider = {});

}  // namespace sy::config
