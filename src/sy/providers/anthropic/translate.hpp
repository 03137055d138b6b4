#pragma once
// OpenAI chat <-> Anthropic Messages translation (providers.md §1, §2): request bodies, response
// bodies, stream events and upstream errors, in both directions.
//
// Pure: no I/O, no sockets. Every failure is returned as a value (sy::Result / sy::Error); nothing
// throws out of this module (Boost.JSON and allocation exceptions are caught at each entry point).
// Error messages follow api.md §12.2 (`litellm.<Class>: AnthropicException - <message>`); they are
// not scrubbed here, the caller's error renderer applies its scrubbing as for every provider.
//
// Thread safety: the free functions are reentrant. StreamToOpenAI and OpenAIStreamToAnthropic hold
// the state of one stream: one instance per stream, used by one thread at a time.

#include <boost/json/object.hpp>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "sy/core/error.hpp"

namespace sy::providers::anthropic {

// `max_tokens` sent when the client gave none (DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS, config.md).
inline constexpr int kDefaultMaxTokens = 4096;

// Name of the forced tool that carries `response_format` JSON output (providers.md §1.4). A
// `tool_use` block with this name in a response is turned back into `message.content`.
inline constexpr std::string_view kJsonToolName = "json_tool_call";

// Per-deployment knobs of the OpenAI -> Anthropic request translation (router.md §9).
struct RequestOptions {
    std::string upstream_model;                       // deployment model after the prefix
    int default_max_tokens = kDefaultMaxTokens;       // when neither max_tokens nor
                                                      // max_completion_tokens is given
    bool drop_params = false;                         // drop unsupported params instead of 400
    std::vector<std::string> additional_drop_params;  // always removed, supported or not
    bool modify_params = false;  // providers.md §1.6 rewrites (dummy tool, leading user turn)
};

// ---------------------------------------------------------------------------------------------
// 1. OpenAI format in, Anthropic deployment (providers.md §1)
// ---------------------------------------------------------------------------------------------

// OpenAI /chat/completions body -> Anthropic /v1/messages body (JSON text).
// Gateway-only fields (api.md §2.1: metadata, fallbacks, cache, mock_*, ...) are ignored.
// Unsupported params (n, seed, logprobs, ..., and unknown top-level fields) are removed when
// `drop_params` is set, else rejected: 400 `litellm.UnsupportedParamsError: anthropic does not
// support parameters: [...]`. A param whose value is JSON null counts as absent.
// Malformed messages/tools (unparsable tool arguments, bad image URL, unknown role) -> 400
// invalid_request_error naming the offending field. Consecutive same-role turns are merged (tool
// results first); messages left without content (null, "", []) are skipped. Image URLs are passed
// by reference (never fetched). `user` goes to metadata.user_id unless it looks like an e-mail
// address or a phone number. `reasoning_effort` none/minimal/low/medium/high -> no thinking /
// 1024 / 1024 / 2048 / 4096 budget tokens (`thinking` given directly wins).
// Precondition: the body came from a JSON parser (strings are valid UTF-8).
Result<std::string> openai_to_anthropic_request(const boost::json::object& openai_chat_body,
                                                const RequestOptions& opts);

// Anthropic message JSON -> OpenAI chat.completion JSON. `id` (msg_...) is passed through,
// `model` is `client_model`, `created` is now. A body of type "error" is mapped with
// map_anthropic_error(); malformed JSON or a missing `content` array -> 500 (kUpstreamProtocol).
// A `tool_use` block named kJsonToolName becomes `message.content` (JSON mode, finish "stop").
Result<std::string> anthropic_to_openai_response(std::string_view anthropic_json,
                                                 std::string_view client_model);

// Token counts seen on an Anthropic stream (message_start + message_delta).
struct StreamUsage {
    std::int64_t input_tokens = 0;
    std::int64_t output_tokens = 0;
    std::int64_t cache_creation_input_tokens = 0;
    std::int64_t cache_read_input_tokens = 0;
};

// Anthropic SSE events -> OpenAI chat.completion.chunk JSON strings (providers.md §1.7, api.md
// §3.1). Chunks are returned without the `data: ` prefix; the caller writes `[DONE]`.
//
// Contract:
// - on_event() takes one event's `event:` name and `data:` payload. An empty `event_type` falls
//   back to the payload's "type" field.
// - Every chunk carries the same id (the message_start's msg_...), created and model; with
//   include_usage every chunk carries `"usage": null`.
// - `ping` and unknown event types (Anthropic's versioning policy says new ones may appear) are
//   ignored: on_event() returns an empty vector. Unknown delta types are ignored likewise.
// - An `error` event returns the mapped Error (e.g. overloaded_error -> 503). Malformed or
//   truncated JSON, or a tool-argument delta for a block that was never started, returns a
//   500 kUpstreamProtocol Error. After an error, every later call returns the same Error.
// - Content events before message_start are accepted (an id `chatcmpl-<uuid>` is generated).
// - After message_stop, finished() is true and later events are ignored. finish() then returns
//   the usage chunk when include_usage (once); it returns nothing when the stream did not finish
//   (a truncated stream: the caller sends an error event instead of [DONE]; usage() still holds
//   what was seen, for billing).
class StreamToOpenAI {
public:
    // `created` = 0 means "now" (seconds since the epoch).
    StreamToOpenAI(std::string client_model, bool include_usage, std::int64_t created = 0);

    Result<std::vector<std::string>> on_event(std::string_view event_type,
                                              std::string_view data_json);
    bool finished() const { return finished_; }
    std::vector<std::string> finish();

    const StreamUsage& usage() const { return usage_; }
    const std::string& id() const { return id_; }
    std::int64_t created() const { return created_; }

private:
    enum class BlockKind : std::uint8_t { kText, kToolUse, kJsonTool, kThinking, kOther };
    struct Block {
        BlockKind kind = BlockKind::kOther;
        int tool_index = -1;     // OpenAI tool_calls index for kToolUse
        bool got_input = false;  // a non-empty input_json_delta (or start input) was emitted
    };

    Result<std::vector<std::string>> handle(std::string_view event_type,
                                            std::string_view data_json);
    Result<std::vector<std::string>> dispatch(std::string_view type, const boost::json::object& ev);
    void start(std::string id, std::vector<std::string>& out);
    std::string chunk(std::string_view delta_json, std::string_view finish_reason = {}) const;
    std::string usage_chunk() const;
    void read_usage(const boost::json::object& usage);

    std::string model_;
    bool include_usage_;
    std::int64_t created_;
    std::string id_;
    std::string prefix_;  // chunk JSON up to and including `"choices":[{"index":0,"delta":`
    bool started_ = false;
    bool finished_ = false;
    bool failed_ = false;
    Error error_;
    bool finish_sent_ = false;
    bool usage_sent_ = false;
    int tool_count_ = 0;
    bool json_tool_seen_ = false;
    std::map<std::int64_t, Block> blocks_;  // by Anthropic content block index
    StreamUsage usage_;
};

// ---------------------------------------------------------------------------------------------
// 2. Anthropic format in (POST /v1/messages), OpenAI-format deployment (providers.md §2.2-2.4)
// ---------------------------------------------------------------------------------------------

// Anthropic /v1/messages body -> OpenAI /chat/completions body (JSON text) for `upstream_model`.
// `top_k`, thinking blocks in history, cache_control and unknown top-level fields are dropped;
// blocks with no OpenAI equivalent (hosted tools, server tool results) -> 400.
Result<std::string> anthropic_to_openai_request(const boost::json::object& anthropic_body,
                                                std::string_view upstream_model);

// OpenAI chat.completion JSON -> Anthropic message JSON (providers.md §2.3).
Result<std::string> openai_to_anthropic_response(std::string_view openai_json,
                                                 std::string_view client_model);

// One Anthropic SSE event. Written as `event: <event_type>\ndata: <data_json>\n\n`.
struct AnthropicEvent {
    std::string event_type;
    std::string data_json;
};

std::string format_sse(const AnthropicEvent& ev);

// OpenAI chunks -> Anthropic SSE events, in Anthropic's order (providers.md §2.4): message_start,
// content_block_start/delta/stop per block, message_delta, message_stop.
//
// Contract:
// - on_chunk() takes one `data:` payload; "[DONE]" is the same as calling finish().
// - message_delta/message_stop are emitted once a finish_reason and the usage chunk were both
//   seen (the upstream request always asks for include_usage), or by finish().
// - Tool-call fragments are never dropped: a fragment for a tool index seen earlier goes to that
//   tool's block even if another block was opened since.
// - An `{"error":...}` chunk returns the mapped Error; the caller renders it with error_event()
//   once bytes were sent. Malformed JSON -> 500 kUpstreamProtocol Error. After an error, every
//   later call returns the same Error and finish() emits nothing.
// - finish() closes the open block and emits message_delta + message_stop (stop_reason
//   end_turn when no finish_reason was seen) unless already done; it is idempotent. Call it
//   only for a stream that ended cleanly ([DONE] does it); a truncated stream gets an error.
class OpenAIStreamToAnthropic {
public:
    // `input_tokens_hint` is sent in message_start (OpenAI reports prompt tokens only at the end).
    explicit OpenAIStreamToAnthropic(std::string client_model, std::int64_t input_tokens_hint = 0);

    Result<std::vector<AnthropicEvent>> on_chunk(std::string_view chunk_json);
    std::vector<AnthropicEvent> finish();
    bool finished() const { return finished_; }

    // Mid-stream error event: {"type":"error","error":{"type":<by status>,"message":...}}.
    static AnthropicEvent error_event(int status, std::string_view message);

private:
    enum class Open : std::uint8_t { kNone, kText, kThinking, kTool };
    struct Tool {
        std::int64_t block = 0;
        std::string id;
    };

    void ensure_started(std::string_view upstream_id, std::vector<AnthropicEvent>& out);
    void close_open(std::vector<AnthropicEvent>& out);
    void open_block(Open kind, std::string_view block_json, std::vector<AnthropicEvent>& out);
    Result<std::vector<AnthropicEvent>> handle(std::string_view chunk_json);
    Status on_tool_calls(const boost::json::array& calls, std::vector<AnthropicEvent>& out);
    void emit_end(std::vector<AnthropicEvent>& out);

    std::string model_;
    std::int64_t input_hint_;
    std::string id_;
    bool started_ = false;
    bool finished_ = false;
    bool failed_ = false;
    Error error_;
    bool finish_seen_ = false;
    bool usage_seen_ = false;
    Open open_ = Open::kNone;
    std::int64_t open_index_ = -1;
    std::int64_t next_index_ = 0;
    std::int64_t last_tool_key_ = -1;
    std::map<std::int64_t, Tool> tools_;  // by OpenAI tool_calls index
    std::string stop_reason_;
    std::int64_t prompt_tokens_ = 0;
    std::int64_t completion_tokens_ = 0;
    std::int64_t cached_tokens_ = 0;
};

// ---------------------------------------------------------------------------------------------
// 3. Errors (providers.md §1.8, §8; api.md §5)
// ---------------------------------------------------------------------------------------------

// Anthropic error response -> client error. Status mapping per providers.md §8 (529/502/503/504
// -> 503 ServiceUnavailableError; `prompt is too long` or another context-length signal on a 4xx
// -> 400 ContextWindowExceededError). Message: `litellm.<Class>: AnthropicException - <message>`.
// A body that is not Anthropic's error JSON is used as the message (truncated to 2000 bytes).
// The caller adds retry-after and the model-group suffix.
Error map_anthropic_error(int status, std::string_view body);

// Anthropic-shaped error body for the /v1/messages route (api.md §5):
// {"type":"error","error":{"type":<by status>,"message":<message>}}.
std::string anthropic_error_envelope(int status, std::string_view message);

// api.md §5 error.type by HTTP status (400 invalid_request_error ... 503/529 overloaded_error).
std::string_view anthropic_error_type(int status);

}  // namespace sy::providers::anthropic
