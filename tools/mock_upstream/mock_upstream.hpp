#pragma once
// mock_upstream: a fast, scriptable, OpenAI-shaped mock provider for integration and end-to-end
// tests and for the offline demo (`make run`). It never calls the network.
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
// Routes (any method mismatch or unknown path: 404 with an OpenAI error body)
//   The endpoint is found by suffix; whatever precedes it (minus a trailing "/v1") is the
//   request's *tag*, so one mock serves many fake deployments:
//     /v1/chat/completions            tag ""
//     /chat/completions               tag ""
//     /d1/v1/chat/completions         tag "d1"
//     /openai/deployments/x/chat/completions?api-version=...   tag "openai/deployments/x"
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
// Fault directives
//   Sources, highest precedence first, merged per directive:
//     (a) request headers    x-mock-<name>: <value>   ("-" and "_" are interchangeable)
//     (b) request body       "mock": {"<name>": <value>, ...}
//     (c) the script FIFO    POST /__mock/script (first matching entry; consumed even when
//                            (a)/(b) override every directive it holds)
//   An unknown directive or a bad value answers 400 with error.type "mock_directive_error".
//   Stream faults count *events*: every `data:` line sent so far, where the role chunk is the
//   first event and `data: [DONE]` is the last. "after N" fires once N events have been sent
//   (N = 0: right after the response headers); an N past the end never fires.
//
//   status: N            answer N with {"error":{"message","type","param","code"}} (200..299:
//                        normal body with that status). 429 adds Retry-After and
//                        x-ratelimit-reset-requests; 401 invalid_api_key; 404 model_not_found;
//                        500/502/503/504 server_error.
//   error: "<code>"      context_length_exceeded | content_policy_violation |
//                        rate_limit_exceeded | insufficient_quota | invalid_api_key |
//                        model_not_found | server_error | any other string (used as code).
//                        Implies a status (400/429/401/404/500) when "status" is absent.
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
//   malformed_after: N   send `data: {not json` then continue normally.
//   stream_error_after: N  send `data: {"error":{...}}` then end the stream (no [DONE]).
//   no_done: true        end the stream without `data: [DONE]`.
//   Non-streaming requests with stall_after/cut_after (any N): headers and half the body are
//   sent, then the stall or cut happens.
//   reset: true          read the request, then close with a TCP RST (SO_LINGER 0), no response.
//   hang: true           read the request and never answer (until the client goes away).
//   close: true          answer with Connection: close and close the connection.
//   tool_calls: true     chat answers with one tool call (stream: argument fragments,
//                        finish_reason "tool_calls"). tool_name / tool_arguments (string or
//                        object) override the defaults (first request tool; arguments sampled
//                        from its JSON schema).
//   finish_reason: "x"   overrides the finish reason.
//   response_model: "x"  overrides the model echoed in the response.
//   prompt_tokens: N, completion_tokens: N   override usage.
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
