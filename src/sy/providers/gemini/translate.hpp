#pragma once
// OpenAI chat <-> Google AI Studio Gemini translation (providers.md §4, §8): request bodies,
// response bodies, stream events, upstream errors and the generateContent path.
//
// Pure: no I/O, no sockets, nothing is fetched. Every failure is returned as a value (sy::Result /
// sy::Error); nothing throws out of this module (Boost.JSON and allocation exceptions are caught
// at each entry point). Error messages follow api.md §12.2 (`litellm.<Class>: GeminiException -
// <message>`); they are not scrubbed here, the caller's error renderer applies its scrubbing as
// for every provider.
//
// Thread safety: the free functions are reentrant. StreamToOpenAI holds the state of one stream:
// one instance per stream, used by one thread at a time.

#include <boost/json/object.hpp>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sy/core/error.hpp"

namespace sy::providers::gemini {

// Per-deployment knobs of the OpenAI -> Gemini request translation (router.md §9).
struct RequestOptions {
    std::string upstream_model;                       // deployment model after the prefix
    bool drop_params = false;                         // drop unsupported params instead of 400
    std::vector<std::string> additional_drop_params;  // always removed, supported or not
};

// Default `api_base` (providers.md §4). The key goes in header `x-goog-api-key`, never in the URL.
inline constexpr std::string_view kDefaultApiBase = "https://generativelanguage.googleapis.com";

// `/v1beta/models/<model>:generateContent`, or `:streamGenerateContent?alt=sse` when `stream`.
// A leading `models/` in `model` is not doubled; `tunedModels/<m>` uses the tunedModels
// collection. Bytes outside [A-Za-z0-9._-] are percent-encoded, so a model name can never add
// path segments or a query string. Returns "" only if allocation fails.
std::string generate_path(std::string_view model, bool stream);

// OpenAI /chat/completions body -> Gemini generateContent body (JSON text, camelCase fields). The
// model is not in the body (it is in the path, see generate_path()).
//
// - system/developer messages (any position) -> systemInstruction.parts (one text part each);
//   user/tool -> role "user", assistant -> role "model"; consecutive same-role turns are merged;
//   messages left without parts (null, "", []) are skipped.
// - image_url: data URL -> inlineData; http(s)/gs URL -> fileData {mimeType, fileUri} (mimeType
//   from `image_url.format`, else guessed from the path's extension, else image/jpeg). Nothing is
//   fetched here: a caller that must inline remote images (security.md S3b) replaces their URLs
//   with data URLs before calling (see image_urls()). input_audio -> inlineData; file parts:
//   file_data (data URL) -> inlineData, file_id (URI) -> fileData.
// - assistant tool_calls -> functionCall parts {name, args: parsed arguments} (a
//   provider_specific_fields.thought_signature is sent back as the part's thoughtSignature);
//   role tool -> functionResponse {name: the matching tool call's name, response: {content:
//   text}} (image parts of a tool result follow it as inlineData/fileData parts).
// - tools -> tools[{functionDeclarations}] with schemas cleaned for Gemini's OpenAPI subset
//   ($ref/$defs inlined, `additionalProperties`, `$schema`, `strict` and other unknown keywords
//   removed, `type: [T, "null"]` / anyOf-null -> nullable, `const` -> enum, oneOf -> anyOf, empty
//   object `properties` removed). Gemini-native tool objects (googleSearch, codeExecution,
//   urlContext, ...) pass through.
// - tool_choice auto/none/required/named -> toolConfig.functionCallingConfig (AUTO/NONE/ANY/ANY +
//   allowedFunctionNames), only when tools are present.
// - generationConfig: temperature, topP, topK, maxOutputTokens (max_completion_tokens wins over
//   max_tokens), candidateCount (n), stopSequences, presencePenalty, frequencyPenalty, seed,
//   response_format json_object/json_schema -> responseMimeType application/json (+ cleaned
//   responseSchema), reasoning_effort none/minimal/low/medium/high -> thinkingConfig
//   thinkingBudget 0/128/1024/2048/4096 (includeThoughts when > 0), `thinking` {type:enabled,
//   budget_tokens} -> the same. `safety_settings` -> safetySettings.
// - `user` is consumed by the gateway (end-user id) and not forwarded. Gateway-only fields
//   (api.md §2.1) are ignored. Unsupported params (logit_bias, logprobs, top_logprobs, audio,
//   modalities, prediction, service_tier, web_search_options, `parallel_tool_calls: false`,
//   unknown top-level fields) are removed with `drop_params`, else 400 `litellm.
//   UnsupportedParamsError: gemini does not support parameters: [...]`. A JSON null counts as
//   absent. Malformed messages/tools -> 400 invalid_request_error naming the field.
// Precondition: the body came from a JSON parser (strings are valid UTF-8).
Result<std::string> openai_to_gemini_request(const boost::json::object& openai_chat_body,
                                             const RequestOptions& opts);

// Remote (non-data:) URLs of the image_url parts in `openai_chat_body`'s messages, in order,
// without duplicates: what a caller that inlines images (providers.md §4.1) has to fetch.
std::vector<std::string> image_urls(const boost::json::object& openai_chat_body);

// Gemini GenerateContentResponse JSON -> OpenAI chat.completion JSON (providers.md §4.2).
// `id` = responseId, else `chatcmpl-<uuid>`; `model` = `client_model`; `created` = now. One choice
// per candidate: text parts joined -> content (null if none), `thought: true` parts ->
// reasoning_content, functionCall parts -> tool_calls (ids `call_<24 hex>`, arguments = JSON text
// of args, thoughtSignature -> provider_specific_fields.thought_signature). finishReason STOP ->
// stop (tool_calls when the candidate has function calls), MAX_TOKENS -> length, SAFETY,
// RECITATION, BLOCKLIST, PROHIBITED_CONTENT, SPII, IMAGE_SAFETY -> content_filter, else stop.
// usage from usageMetadata (completion = candidates + thoughts tokens; cached_tokens,
// reasoning_tokens in the details). Errors: a body with `error` -> map_gemini_error();
// promptFeedback.blockReason with no candidates -> 400 ContentPolicyViolationError; malformed
// JSON or no candidates -> 500 kUpstreamProtocol.
Result<std::string> gemini_to_openai_response(std::string_view gemini_json,
                                              std::string_view client_model);

// Token counts from the last usageMetadata seen on a stream (Gemini's counts are cumulative).
struct StreamUsage {
    std::int64_t prompt_tokens = 0;      // promptTokenCount
    std::int64_t candidates_tokens = 0;  // candidatesTokenCount
    std::int64_t thoughts_tokens = 0;    // thoughtsTokenCount
    std::int64_t cached_tokens = 0;      // cachedContentTokenCount
    std::int64_t total_tokens = 0;       // totalTokenCount (0 = not reported)
    bool seen = false;                   // any usageMetadata arrived
};

// Gemini SSE `data:` payloads (streamGenerateContent?alt=sse; each a partial
// GenerateContentResponse, no [DONE]) -> OpenAI chat.completion.chunk JSON strings (providers.md
// §4.2, api.md §3.1), returned without the `data: ` prefix; the caller writes `[DONE]`.
//
// Contract:
// - Every chunk carries the same id (the first responseId seen, else `chatcmpl-<uuid>`), created
//   and model; with include_usage every chunk carries `"usage": null`. One OpenAI choice per
//   candidate index.
// - The first chunk of each choice carries `delta.role: "assistant"`. Text parts ->
//   `delta.content`, thought parts -> `delta.reasoning_content`, each functionCall part (Gemini
//   sends them whole) -> one `delta.tool_calls` entry with index, id, type, name and the full
//   arguments. A candidate's finishReason -> one chunk with `delta: {}` and the mapped
//   finish_reason (tool_calls when it made calls); later content for that candidate is ignored.
// - usageMetadata is cumulative: the last one wins (usage()).
// - An `error` payload returns the mapped Error (map_gemini_error); promptFeedback.blockReason
//   without candidates returns 400 ContentPolicyViolationError. Malformed or truncated JSON, or
//   a payload that is not a GenerateContentResponse, returns a 500 kUpstreamProtocol Error. After
//   an error, every later call returns the same Error. A `[DONE]` payload is ignored.
// - finished() is true once every candidate that appeared has sent its finishReason. Gemini may
//   still send a usage-only event after that, so call finish() when the upstream body ends: it
//   then returns the usage chunk when include_usage (once); it returns nothing when the stream
//   did not finish (a truncated stream: the caller sends an error event instead of [DONE];
//   usage() still holds what was seen, for billing).
class StreamToOpenAI {
public:
    // `created` = 0 means "now" (seconds since the epoch).
    StreamToOpenAI(std::string client_model, bool include_usage, std::int64_t created = 0);

    Result<std::vector<std::string>> on_event(std::string_view data_json);
    bool finished() const { return finished_; }
    std::vector<std::string> finish();

    const StreamUsage& usage() const { return usage_; }
    const std::string& id() const { return id_; }
    std::int64_t created() const { return created_; }

private:
    struct Choice {
        std::int64_t index = 0;  // OpenAI choice index (= Gemini candidate index)
        bool role_sent = false;
        bool finished = false;
        int tool_count = 0;
    };

    Result<std::vector<std::string>> handle(std::string_view data_json);
    Status on_response(const boost::json::object& resp, std::vector<std::string>& out);
    Status on_candidate(const boost::json::object& cand,
                        std::int64_t position,
                        std::vector<std::string>& out);
    Choice* choice_for(std::int64_t index);
    void start(std::string_view response_id);
    std::string chunk(const Choice& c,
                      std::string_view delta_json,
                      std::string_view finish_reason = {});
    std::string usage_chunk() const;

    std::string model_;
    bool include_usage_;
    std::int64_t created_;
    std::string id_;
    std::string prefix_;  // chunk JSON up to and including `"choices":[{"index":`
    bool started_ = false;
    bool finished_ = false;
    bool failed_ = false;
    Error error_;
    bool usage_sent_ = false;
    int total_tools_ = 0;
    std::vector<Choice> choices_;
    StreamUsage usage_;
};

// Gemini error response (`{"error":{"code","message","status","details"}}`, also inside a
// one-element array) -> client error per providers.md §8: the HTTP `status` decides, else
// (0 or 2xx, e.g. an error event inside a stream) the body's code/status. INVALID_ARGUMENT with
// `exceeds the maximum number of tokens` (or another context-length signal) -> 400
// ContextWindowExceededError; an invalid API key (reason API_KEY_INVALID, `API key not valid`,
// sent by Google as 400) -> 401 AuthenticationError; RESOURCE_EXHAUSTED 429 RateLimitError;
// PERMISSION_DENIED 403; UNAUTHENTICATED 401; NOT_FOUND 404; UNAVAILABLE 503; DEADLINE_EXCEEDED
// 504 -> 503; INTERNAL 500. Message: `litellm.<Class>: GeminiException - <error.message>`. A body
// that is not Gemini's error JSON is used as the message (truncated to 2000 bytes). The caller
// adds retry-after (see retry_delay_seconds()) and the model-group suffix.
Error map_gemini_error(int status, std::string_view body);

// Seconds from the google.rpc.RetryInfo detail's `retryDelay` ("3s", "0.5s", "1.000340s") of a
// Gemini error body; nullopt when absent or unparsable.
std::optional<double> retry_delay_seconds(std::string_view body);

}  // namespace sy::providers::gemini
