#pragma once
// Per-stream conversion of upstream SSE events into the client's SSE events. The relay
// (llm_handler.cpp) owns the sockets, deadlines and failure handling; a transform only turns
// events into text, so each provider format is one small class, unit-testable without I/O.
//
// Thread safety: one instance per stream.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "sy/core/error.hpp"
#include "sy/providers/openai.hpp"

namespace sy::pipeline {

class StreamTransform {
public:
    virtual ~StreamTransform() = default;

    // One upstream event (its `event:` type, empty when absent, and its joined `data:` payload).
    // Appends zero or more complete client events ("data: ...\n\n") to `out`. An Error means the
    // stream failed (an upstream error event, a malformed chunk).
    virtual Status on_event(std::string_view event_type, std::string_view data, std::string& out) = 0;

    // The upstream signalled a complete answer ([DONE], message_stop, ...).
    virtual bool done() const = 0;

    // The upstream body ended. Formats without an end marker (Gemini) complete here; the
    // default does nothing (their done() must already be true, else the stream was cut).
    virtual Status on_end(std::string& out);

    // The client event that reports a failure after bytes were sent (OpenAI clients get
    // `data: {"error":...}`, Anthropic clients `event: error`).
    virtual std::string error_event(const Error& e) const;

    std::int64_t prompt_tokens = -1;
    std::int64_t completion_tokens = -1;
};

using StreamTransformPtr = std::unique_ptr<StreamTransform>;

// Reads `prompt_tokens` and `completion_tokens` from the JSON text of a `usage` object without a
// DOM. Each output is set only when the member is an integer within int64, and nothing is set
// when the text is not a well-formed object.
void read_usage_tokens(std::string_view usage_json, std::int64_t& prompt, std::int64_t& completion);

// OpenAI-format upstream to an OpenAI client: validates each chunk, detects error events,
// captures usage and rewrites `model` to `client_model`; every other byte is passed through.
// `strip_usage_chunk`: the gateway added stream_options.include_usage; the usage-only chunk is
// read (billing) but not sent to the client.
StreamTransformPtr make_openai_passthrough(std::string client_model,
                                           const providers::ErrorContext& err_ctx,
                                           bool strip_usage_chunk = false);

// OpenAI chat chunks to legacy text_completion chunks (/completions on a chat model).
StreamTransformPtr make_chat_to_completion(std::string client_model,
                                           const providers::ErrorContext& err_ctx,
                                           bool strip_usage_chunk = false);

// Anthropic Messages SSE to OpenAI chat chunks (or text_completion chunks when
// `completion_from_chat`), ending with [DONE] after message_stop (providers.md §1.7).
StreamTransformPtr make_anthropic_to_openai(std::string client_model,
                                            bool include_usage,
                                            bool completion_from_chat,
                                            const providers::ErrorContext& err_ctx);

// Gemini streamGenerateContent events to OpenAI chunks (or text_completion chunks); completes
// with the usage chunk and [DONE] when the upstream body ends after a finishReason.
StreamTransformPtr make_gemini_to_openai(std::string client_model,
                                         bool include_usage,
                                         bool completion_from_chat,
                                         const providers::ErrorContext& err_ctx);

// Anthropic upstream to an Anthropic client (/v1/messages, native): events pass through
// unchanged; usage is read from message_start / message_delta; done at message_stop.
StreamTransformPtr make_anthropic_passthrough(std::string client_model,
                                              const providers::ErrorContext& err_ctx);

// OpenAI chunks to Anthropic events (/v1/messages on an OpenAI-format deployment).
StreamTransformPtr make_openai_to_anthropic(std::string client_model,
                                            const providers::ErrorContext& err_ctx);

}  // namespace sy::pipeline
