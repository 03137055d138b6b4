#pragma once
// mock_upstream: a fast, scriptable mock provider for integration and end-to-end tests and for
// the offline demo (`make run`). It speaks OpenAI, Azure OpenAI, Anthropic Messages and Gemini
// wire formats, with the same fault controls on all of them. It never calls the network.
//
// ============================================================================================
// README
// ============================================================================================
//
// Binary
//   mock_upstream --port N [--host 127.0.0.1] [--threads 1] [--idle-timeout-ms 120000]
//   --port 0 picks a free port. On start it prints exactly one line to stdout and flushes:
//       mock_upstream listening on <host>:<port>
//   SIGTERM / SIGINT: exit 0. Bad arguments: exit 2. Bind failure: exit 1.
//
// In process (integration tests)
//   sy::mock::MockUpstream mock("127.0.0.1", 0);
//   std::uint16_t port = mock.start();          // serving on its own thread(s) from here
//   mock.push_script({.tag = "d1", .times = 1, .directives = {{"status", 429}}});
//   ... mock.requests("d1"), mock.stats(), mock.wait_for(pred, 2s), mock.reset() ...
//   mock.stop();                                 // also done by the destructor
//
// Routes (any method mismatch or unknown path: 404 with an error body in the route's format)
//   The endpoint is found by suffix; whatever precedes it (minus a trailing "/v1" or
//   "/v1beta") is the request's *tag*, so one mock serves many fake deployments:
//     /v1/chat/completions            tag ""
//     /chat/completions               tag ""
//     /d1/v1/chat/completions         tag "d1"
//     /openai/deployments/x/chat/completions?api-version=...   tag "openai/deployments/x"
//     /a1/v1/messages                 tag "a1"      (Anthropic)
//     /g1/v1beta/models/m:generateContent           tag "g1" (Gemini)
//   POST <tag>/v1/chat/completions   chat.completion, or SSE chat.completion.chunk when
//                                    "stream": true (role chunk, one chunk per content piece,
//                                    finish chunk, usage chunk when
//                                    stream_options.include_usage, then data: [DONE]).
//   POST <tag>/v1/completions        text_completion, streaming too.
//   POST <tag>/v1/embeddings         one deterministic unit vector per input (8 floats, or
//                                    "dimensions"); "encoding_format":"base64" honoured.
//   GET  <tag>/v1/models, <tag>/v1/models/{id}
//   Content defaults to "Hello! This is the mock upstream." split by word (6 pieces).
//   prompt_tokens = max(1, code points of all message contents / 4) (completions: of the
//   prompt; embeddings: per input); completion_tokens = number of pieces.
//   Every response carries: x-request-id: mock-<seq>, openai-processing-ms: 1,
//   set-cookie: mock=1 (a gateway must not forward it), x-ratelimit-* (success only).
//
//   Azure OpenAI: <tag>/openai/deployments/{d}/chat/completions | /completions | /embeddings
//     ?api-version=...  OpenAI bodies, plus Azure's annotations: prompt_filter_results (top
//     level) and choices[].content_filter_results; a chat stream opens with an extra
//     annotation-only chunk ({"choices":[],"id":"","model":"",...,"prompt_filter_results"})
//     before the role chunk. `model` echoes the body's model, else the deployment name.
//     Required: api-version (missing: 404 {"error":{"code":"404","message":"Resource not
//     found"}}) and an api-key or Authorization header (missing: 401). Headers:
//     apim-request-id, x-ms-region, no openai-version.
//   Anthropic: POST <tag>/v1/messages  (also <tag>/messages)
//     {"id":"msg_mock_<seq>","type":"message","role":"assistant","model":<echo>,
//      "content":[{"type":"text",...}] and/or [{"type":"tool_use","id":"toolu_mock_<seq>",
//      "name","input":{...}}],"stop_reason":"end_turn"|"tool_use"|"max_tokens",
//      "stop_sequence":null,"usage":{"input_tokens","cache_creation_input_tokens",
//      "cache_read_input_tokens","output_tokens"}}.
//     "stream": true -> `event: <type>` + `data: <json>` events, exactly in Anthropic's order:
//     message_start (usage.output_tokens 1), content_block_start (text), ping,
//     content_block_delta (text_delta) per piece, content_block_stop, then per tool call
//     content_block_start (tool_use, input {}), content_block_delta (input_json_delta) per
//     argument fragment, content_block_stop; message_delta (stop_reason,
//     usage.output_tokens = the total), message_stop. No [DONE]. The text block is left out
//     when tool calls are answered without `content`.
//     A request "max_tokens" below the planned pieces truncates the text: stop_reason
//     max_tokens. input_tokens counts `system` and every message's text.
//     POST <tag>/v1/messages/count_tokens -> {"input_tokens": n} (prompt_tokens overrides).
//     Required (else Anthropic's errors): x-api-key or Authorization (401
//     authentication_error), anthropic-version (400), a JSON body with "model", "messages"
//     and, for /v1/messages, "max_tokens" (400 "<field>: Field required").
//     Headers: request-id: req_mock_<seq>, anthropic-ratelimit-* (no openai-* headers).
//   Gemini: POST <tag>/v1beta/models/{model}:generateContent  (or /v1/models/...)
//     {"candidates":[{"content":{"parts":[{"text"}] and/or [{"functionCall":{"name",
//      "args":{...}}}],"role":"model"},"finishReason":"STOP"|"MAX_TOKENS","index":0}],
//      "usageMetadata":{"promptTokenCount","candidatesTokenCount","totalTokenCount"
//      [,"cachedContentTokenCount"]},"modelVersion":<model from the path>,
//      "responseId":"mock-resp-<seq>"}.
//     :streamGenerateContent?alt=sse -> `data: <GenerateContentResponse>` events framed with
//     "\r\n\r\n" as Google does, no [DONE]: one per text piece, then one per function call
//     (whole, not fragmented); each carries the cumulative usageMetadata, the last one also
//     finishReason. Without alt=sse: the same responses as one JSON array.
//     :countTokens -> {"totalTokens": n}. generationConfig.maxOutputTokens truncates like
//     Anthropic's max_tokens (MAX_TOKENS). promptTokenCount counts systemInstruction and
//     contents text parts.
//     Key: x-goog-api-key header or ?key= (both recorded as sent; neither -> 403
//     PERMISSION_DENIED). No "contents" -> 400 INVALID_ARGUMENT. No openai-*/x-ratelimit-*
//     headers.
//   Tools may be declared in any of the three forms (OpenAI "function", Anthropic
//   "input_schema", Gemini "functionDeclarations"); tool arguments are sampled from the
//   schema of the named tool whatever the route.
//
// Fault directives
//   Sources, highest precedence first, merged per directive:
//     (a) request headers    x-mock-<name>: <value>   ("-" and "_" are interchangeable)
//     (b) request body       "mock": {"<name>": <value>, ...}
//     (c) the script FIFO    POST /__mock/script (first matching entry; consumed even when
//                            (a)/(b) override every directive it holds)
//   An unknown directive or a bad value answers 400 with error.type "mock_directive_error"
//   (OpenAI-shaped on every route).
//   Order: reset / hang / delay_ms, then the provider's own request checks (Azure
//   api-version, Anthropic and Gemini credentials and required fields, above), then
//   status / error, then the normal answer.
//   Stream faults count *events*: every `data:` line sent so far, where the role chunk is the
//   first event and `data: [DONE]` is the last (Anthropic: message_start first, message_stop
//   last; Gemini: the first GenerateContentResponse, the finishReason one last; Azure: the
//   annotation chunk first). "after N" fires once N events have been sent (N = 0: right after
//   the response headers); an N past the end never fires.
//
//   status: N            answer N with {"error":{"message","type","param","code"}} (200..299:
//                        normal body with that status). 429 adds Retry-After and
//                        x-ratelimit-reset-requests; 401 invalid_api_key; 404 model_not_found;
//                        500/502/503/504 server_error.
//                        Azure: 429 {"error":{"code":"429","message":"Requests to the
//                        ChatCompletions_Create Operation under Azure OpenAI API version <v>
//                        have exceeded..."}} + retry-after + retry-after-ms; 401 and 404
//                        (DeploymentNotFound) in Azure's {"error":{"code","message"}} too;
//                        others as OpenAI.
//                        Anthropic: {"type":"error","error":{"type","message"},
//                        "request_id":"req_mock_<seq>"}, type by status: 400
//                        invalid_request_error, 401 authentication_error, 402 billing_error,
//                        403 permission_error, 404 not_found_error, 413 request_too_large, 429
//                        rate_limit_error (+ retry-after, anthropic-ratelimit-requests-
//                        remaining: 0), 504 timeout_error, 529 overloaded_error, other 5xx
//                        api_error.
//                        Gemini: {"error":{"code":N,"message","status"}}, status by code: 400
//                        INVALID_ARGUMENT, 401 UNAUTHENTICATED, 403 PERMISSION_DENIED, 404
//                        NOT_FOUND, 429 RESOURCE_EXHAUSTED (details: RetryInfo retryDelay
//                        "<retry_after>s"; a Retry-After header only when retry_after is
//                        given), 500 INTERNAL, 502/503 UNAVAILABLE, 504 DEADLINE_EXCEEDED.
//   error: "<code>"      context_length_exceeded | content_policy_violation |
//                        rate_limit_exceeded | insufficient_quota | invalid_api_key |
//                        model_not_found | server_error | any other string (used as code).
//                        Implies a status (400/429/401/404/500) when "status" is absent.
//                        Azure: content_filter / content_policy_violation -> 400 with
//                        code "content_filter" and innererror ResponsibleAIPolicyViolation.
//                        Anthropic: also its own type names (rate_limit_error,
//                        overloaded_error, api_error, ...), overloaded (529) and
//                        prompt_too_long / context_length_exceeded (400 invalid_request_error
//                        "prompt is too long: N tokens > 200000 maximum"); other "*_error"
//                        strings are used as the type.
//                        Gemini: context_length_exceeded ("The input token count (N) exceeds
//                        the maximum number of tokens allowed (1048576)."), invalid_api_key
//                        (400, ErrorInfo API_KEY_INVALID), resource_exhausted, unavailable /
//                        overloaded (503), internal, deadline_exceeded; any other string is
//                        the status, upper-cased. Without a status, content_policy_violation /
//                        content_filter / safety, prohibited_content and blocklist answer 200
//                        with promptFeedback.blockReason (SAFETY / PROHIBITED_CONTENT /
//                        BLOCKLIST) and no candidates, as Gemini refuses a prompt.
//   message: "..."       overrides the error message.
//   retry_after: S       Retry-After value (default 1 on 429; sent on other errors if given).
//   retry_after_ms: N    also send retry-after-ms.
//   delay_ms: N          wait before the response headers.
//   ttft_ms: N           streams: wait after the headers, before the first event.
//   inter_chunk_ms: N    streams: wait between events.
//   chunks: N            number of content pieces (generated words, or `content` split evenly);
//                        for tool calls, number of argument fragments (default 4).
//   content: "text"      explicit content (split by word unless `chunks` is given).
//   stall_after: N       stop sending forever (until the client goes away), socket left open.
//   cut_after: N         close the TCP connection (FIN; RST with cut_reset: true), no
//                        terminating chunk.
//   malformed_after: N   send `data: {not json` then continue normally (Anthropic: under
//                        `event: content_block_delta`).
//   stream_error_after: N  send `data: {"error":{...}}` then end the stream (no [DONE]).
//                        Anthropic: `event: error` {"type":"error","error":{"type":
//                        "overloaded_error","message":"Overloaded"}} (error / message
//                        override). Gemini: `data: {"error":{"code":500,...,"status":
//                        "INTERNAL"}}`.
//   no_done: true        end the stream without `data: [DONE]` (Anthropic: without
//                        message_stop; Gemini: the last response carries no finishReason).
//   Non-streaming requests with stall_after/cut_after (any N): headers and half the body are
//   sent, then the stall or cut happens.
//   reset: true          read the request, then close with a TCP RST (SO_LINGER 0), no response.
//   hang: true           read the request and never answer (until the client goes away).
//   close: true          answer with Connection: close and close the connection.
//   tool_calls: true | N chat answers with one (or N parallel) tool calls (stream: argument
//                        fragments, finish_reason "tool_calls"; call k > 0 has id
//                        call_mock_<seq>_<k> and its own header chunk at index k).
//                        tool_name / tool_arguments (string or object) override the defaults
//                        (request tool k, cycling; arguments sampled from its JSON schema).
//                        Anthropic: tool_use blocks (stop_reason tool_use), after a text block
//                        when `content` is given. Gemini: functionCall parts (args parsed),
//                        finishReason STOP, after the `content` text when given.
//   finish_reason: "x"   overrides the finish reason, in the route's vocabulary (Anthropic
//                        stop_reason, Gemini finishReason); the OpenAI names stop / length /
//                        tool_calls / content_filter are translated (end_turn / max_tokens /
//                        tool_use / refusal; STOP / MAX_TOKENS / STOP / SAFETY).
//   response_model: "x"  overrides the model echoed in the response.
//   prompt_tokens: N, completion_tokens: N   override usage (input_tokens / output_tokens,
//                        promptTokenCount / candidatesTokenCount; count_tokens answers too).
//   cache_read_tokens: N prompt_tokens_details.cached_tokens (OpenAI), cache_read_input_tokens
//                        (Anthropic), cachedContentTokenCount (Gemini). Default 0.
//   cache_creation_tokens: N  cache_creation_input_tokens (Anthropic). Default 0.
//   headers: {...}       extra response headers (as a header: a JSON object string).
//
// Control API (no auth; not recorded; not scriptable)
//   POST /__mock/script   {"tag": "d1", "model": "x", "path": "embeddings", "times": 1,
//                          "directives": {...}}   all fields optional; tag "" matches
//                          untagged requests, an omitted tag/model/path matches any; times -1 =
//                          forever. The body may also be an array of entries or
//                          {"scripts": [...]}. Appends to the FIFO; a request uses the first
//                          matching entry. -> {"ok":true,"queued":n,"pending":m}
//   GET  /__mock/script   -> {"scripts":[...pending entries...]}
//   POST /__mock/reset    clears scripts, records, counters and the sequence number.
//   GET  /__mock/requests[?tag=d1][&since=SEQ][&limit=N]
//                         -> {"requests":[{"seq","tag","method","path","query",
//                             "headers":{lowercased name: value},"body":"<raw>",
//                             "body_json":<parsed or null>,"received_at_ms"}]}  (last 10000)
//   GET  /__mock/stats[?wait=<counter>&min=N&timeout_ms=T]
//                         -> {"total","by_tag":{},"by_path":{},"connections_accepted",
//                             "open_connections","active","cancelled","cancelled_streams"}
//                         With wait=..., long-polls until stats[<counter>] >= N (or the
//                         timeout, default 5000 ms) and adds "timed_out": bool.
//   GET  /__mock/health   -> {"ok":true}
//
// Counters
//   total: API requests since reset; active: API requests being handled right now;
//   cancelled: API requests whose client went away before the response was complete (a
//   stream cut short by the client, an abandoned delay/stall/hang, a failed write);
//   cancelled_streams: the subset of `cancelled` that were streams already sending events.
//   Client departure is detected by reading the socket during every wait and stall, and by
//   write failures.
//
// Limits: request headers 64 KiB (431), body 64 MiB (413), idle keep-alive 120 s (option),
// last 10000 requests recorded.
// ============================================================================================
//
// Thread safety: all public member functions may be called from any thread once start() has
// returned; start() and stop() must not race each other.

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "directives.hpp"

namespace sy::mock {

struct RecordedRequest {
    std::uint64_t seq = 0;
    std::string tag;
    std::string method;
    std::string path;
    std::string query;
    std::vector<std::pair<std::string, std::string>> headers;  // lowercased names, arrival order
    std::string body;
    std::int64_t received_at_ms = 0;

    // Value of the first header called `name` (lowercase), or "" when absent.
    [[nodiscard]] std::string header(std::string_view name) const;
    // The body parsed as JSON, or null when it is not JSON.
    [[nodiscard]] boost::json::value body_json() const;
};

struct Stats {
    std::uint64_t total = 0;
    std::map<std::string, std::uint64_t> by_tag;
    std::map<std::string, std::uint64_t> by_path;
    std::uint64_t connections_accepted = 0;
    std::uint64_t open_connections = 0;
    std::uint64_t active = 0;
    std::uint64_t cancelled = 0;
    std::uint64_t cancelled_streams = 0;
};

struct Options {
    std::string host = "127.0.0.1";
    std::uint16_t port = 0;  // 0 = pick a free port
    int threads = 1;         // each thread runs its own io_context and SO_REUSEPORT acceptor
    std::chrono::milliseconds idle_timeout{120'000};
};

class MockUpstream {
public:
    explicit MockUpstream(Options options);
    explicit MockUpstream(std::string host = "127.0.0.1", std::uint16_t port = 0, int threads = 1);
    ~MockUpstream();
    MockUpstream(const MockUpstream&) = delete;
    MockUpstream& operator=(const MockUpstream&) = delete;

    // Binds, starts the worker threads and returns the bound port.
    // Throws std::system_error when the address cannot be bound, std::logic_error when
    // already started.
    std::uint16_t start();
    // Stops accepting, drops every connection and joins the threads. Idempotent.
    void stop();

    [[nodiscard]] std::uint16_t port() const;
    // "http://<host>:<port>"
    [[nodiscard]] std::string base_url() const;

    // Same effect as POST /__mock/script with one entry. Directives are not validated here; a
    // bad one makes the matching request answer 400 mock_directive_error.
    void push_script(Script script);
    // Same effect as POST /__mock/reset.
    void reset();

    // Recorded API requests, oldest first; with a tag, only that tag's.
    [[nodiscard]] std::vector<RecordedRequest> requests(
        const std::optional<std::string>& tag = std::nullopt) const;
    [[nodiscard]] Stats stats() const;
    // Blocks until pred(stats()) holds or the timeout passes; returns the last pred value.
    bool wait_for(const std::function<bool(const Stats&)>& pred,
                  std::chrono::milliseconds timeout) const;

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
};

}  // namespace sy::mock
