#pragma once
// Token usage of one call, normalised from the provider's usage object.
//
// Thread safety: plain values and pure functions.

#include <cstdint>
#include <optional>
#include <string_view>

#include <boost/json/fwd.hpp>

namespace sy::spend {

// OpenAI semantics: `prompt_tokens` counts every input token, including the cached ones and the
// ones written to the cache; `completion_tokens` counts every output token, including reasoning.
// The detail counts are subsets (cached_tokens + cache_creation_tokens <= prompt_tokens,
// reasoning_tokens <= completion_tokens); normalized() enforces that.
struct Usage {
    std::int64_t prompt_tokens = 0;
    std::int64_t completion_tokens = 0;
    std::int64_t cached_tokens = 0;          // cache reads (prompt_tokens_details.cached_tokens,
                                             // Anthropic cache_read_input_tokens)
    std::int64_t cache_creation_tokens = 0;  // cache writes (Anthropic cache_creation_input_tokens)
    std::int64_t reasoning_tokens = 0;       // completion_tokens_details.reasoning_tokens
    double duration_s = 0.0;                 // call duration, for per-second prices only

    std::int64_t total_tokens() const { return prompt_tokens + completion_tokens; }
    // Negative counts become 0; detail counts are clamped to their totals.
    Usage normalized() const;
};

// Reads a usage object. Accepted shapes (auto-detected):
//  - OpenAI chat/completions/embeddings: prompt_tokens, completion_tokens,
//    prompt_tokens_details.cached_tokens, completion_tokens_details.reasoning_tokens; the
//    top-level cache_creation_input_tokens / cache_read_input_tokens that LiteLLM (and our
//    Anthropic translation) add are honoured.
//  - Anthropic Messages: input_tokens (excludes cache), output_tokens,
//    cache_creation_input_tokens, cache_read_input_tokens.
//  - OpenAI Responses: input_tokens (includes cache), output_tokens,
//    input_tokens_details.cached_tokens, output_tokens_details.reasoning_tokens.
//  - Gemini usageMetadata: promptTokenCount, candidatesTokenCount, cachedContentTokenCount,
//    thoughtsTokenCount.
// Returns nullopt when `usage` is not an object or holds none of these counts.
std::optional<Usage> usage_from_json(const boost::json::value& usage);

// Same, from raw JSON bytes: either the usage object itself, or any object with a top-level
// "usage" (or "usageMetadata") member, such as a whole response or the final SSE chunk's data.
// Malformed JSON or `"usage": null` -> nullopt. Never throws.
std::optional<Usage> usage_from_json_text(std::string_view text);

}  // namespace sy::spend
