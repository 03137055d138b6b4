#include "providers.hpp"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <chrono>
#include <ctime>

namespace sy::mock {
namespace json = boost::json;

namespace {

// Tool arguments as a JSON value: parsed, or the raw text when it is not JSON (a test that
// scripts broken arguments sees them verbatim).
json::value parsed_arguments(const std::string& arguments) {
    boost::system::error_code ec;
    json::value v = json::parse(arguments, ec);
    if (ec) {
        return json::value(arguments);
    }
    return v;
}

std::int64_t fragment_count(const Reply& r) {
    auto n = static_cast<std::int64_t>(r.pieces.size());
    for (const auto& t : r.tool_calls) {
        n += static_cast<std::int64_t>(t.fragments.size());
    }
    return n;
}

std::string upper_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'a' && c <= 'z') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    return out;
}

bool is_one_of(std::string_view s, std::initializer_list<std::string_view> list) {
    return std::find(list.begin(), list.end(), s) != list.end();
}

// ---- Anthropic ------------------------------------------------------------------------------

json::object anthropic_usage(const Reply& r, std::int64_t output_tokens) {
    json::object u;
    u["input_tokens"] = r.prompt_tokens;
    u["cache_creation_input_tokens"] = r.cache_creation_tokens;
    u["cache_read_input_tokens"] = r.cache_read_tokens;
    u["output_tokens"] = output_tokens;
    return u;
}

json::object anthropic_event(std::string_view type) { return json::object{{"type", type}}; }

struct AnthropicKind {
    int status = 400;
    std::string_view type = "invalid_request_error";
};

// The Anthropic error an `error` directive names: Anthropic's own type names, the mock's
// `prompt_too_long` / `overloaded`, or the OpenAI code names.
std::optional<AnthropicKind> anthropic_kind(std::string_view code) {
    if (is_one_of(code,
                  {"prompt_too_long",
                   "context_length_exceeded",
                   "invalid_request_error",
                   "content_policy_violation",
                   "content_filter"})) {
        return AnthropicKind{400, "invalid_request_error"};
    }
    if (is_one_of(code, {"authentication_error", "invalid_api_key"})) {
        return AnthropicKind{401, "authentication_error"};
    }
    if (is_one_of(code, {"billing_error", "insufficient_quota"})) {
        return AnthropicKind{402, "billing_error"};
    }
    if (code == "permission_error") {
        return AnthropicKind{403, "permission_error"};
    }
    if (is_one_of(code, {"not_found_error", "model_not_found"})) {
        return AnthropicKind{404, "not_found_error"};
    }
    if (code == "request_too_large") {
        return AnthropicKind{413, "request_too_large"};
    }
    if (is_one_of(code, {"rate_limit_error", "rate_limit_exceeded"})) {
        return AnthropicKind{429, "rate_limit_error"};
    }
    if (is_one_of(code, {"api_error", "server_error"})) {
        return AnthropicKind{500, "api_error"};
    }
    if (code == "timeout_error") {
        return AnthropicKind{504, "timeout_error"};
    }
    if (is_one_of(code, {"overloaded_error", "overloaded"})) {
        return AnthropicKind{529, "overloaded_error"};
    }
    return std::nullopt;
}

std::string_view anthropic_type_for_status(int status) {
    switch (status) {
        case 401:
            return "authentication_error";
        case 402:
            return "billing_error";
        case 403:
            return "permission_error";
        case 404:
            return "not_found_error";
        case 413:
            return "request_too_large";
        case 429:
            return "rate_limit_error";
        case 504:
            return "timeout_error";
        case 529:
            return "overloaded_error";
        default:
            return status >= 500 ? "api_error" : "invalid_request_error";
    }
}

std::string anthropic_message_for(std::string_view code,
                                  std::string_view type,
                                  const FaultContext& ctx) {
    if (code == "prompt_too_long" || code == "context_length_exceeded") {
        return "prompt is too long: " +
               std::to_string(std::max(ctx.prompt_tokens, kAnthropicContextWindow + 1)) +
               " tokens > " + std::to_string(kAnthropicContextWindow) + " maximum";
    }
    if (code == "content_policy_violation" || code == "content_filter") {
        return "Output blocked by content filtering policy";
    }
    if (type == "authentication_error") {
        return "invalid x-api-key";
    }
    if (type == "billing_error") {
        return "Your credit balance is too low to access the Anthropic API. Please go to Plans & "
               "Billing to upgrade or purchase credits.";
    }
    if (type == "permission_error") {
        return "Your API key does not have permission to use the specified resource.";
    }
    if (type == "not_found_error") {
        return "model: " + std::string(ctx.model.empty() ? "mock-model" : ctx.model);
    }
    if (type == "request_too_large") {
        return "Request exceeds the maximum allowed number of bytes.";
    }
    if (type == "rate_limit_error") {
        return "This request would exceed the rate limit for your organization (mock) of 50 "
               "requests per minute. For details, refer to: "
               "https://docs.claude.com/en/api/rate-limits. You can see the response headers for "
               "current usage. Please reduce the prompt length or the maximum tokens requested, "
               "or try again later.";
    }
    if (type == "api_error") {
        return "Internal server error";
    }
    if (type == "timeout_error") {
        return "Request timed out";
    }
    if (type == "overloaded_error") {
        return "Overloaded";
    }
    return "Invalid request (mock).";
}

FaultReply anthropic_fault(const Directives& d, const FaultContext& ctx) {
    const std::string& code = d.error;
    std::optional<AnthropicKind> kind = code.empty() ? std::nullopt : anthropic_kind(code);
    FaultReply f;
    f.status = d.status.value_or(kind ? kind->status : 400);
    std::string type;
    if (kind) {
        type = kind->type;
    } else if (code.size() > 6 && code.substr(code.size() - 6) == "_error") {
        type = code;  // any other Anthropic-style type name, used as given
    } else {
        type = anthropic_type_for_status(f.status);
    }
    const std::string message =
        d.message.empty() ? anthropic_message_for(code, type, ctx) : d.message;
    f.body = anthropic_error_json(type, message, ctx.request_id);
    if (f.status == 429) {
        const std::string ra = d.retry_after.value_or("1");
        std::int64_t seconds = 1;
        std::from_chars(ra.data(), ra.data() + ra.size(), seconds);
        f.headers.emplace_back("retry-after", ra);
        f.headers.emplace_back("anthropic-ratelimit-requests-limit", "50");
        f.headers.emplace_back("anthropic-ratelimit-requests-remaining", "0");
        f.headers.emplace_back("anthropic-ratelimit-requests-reset", rfc3339_in(seconds));
    } else if (d.retry_after) {
        f.headers.emplace_back("retry-after", *d.retry_after);
    }
    return f;
}

// ---- Gemini ---------------------------------------------------------------------------------

json::object gemini_usage(const Reply& r, std::int64_t candidates) {
    json::object u;
    u["promptTokenCount"] = r.prompt_tokens;
    u["candidatesTokenCount"] = candidates;
    u["totalTokenCount"] = r.prompt_tokens + candidates;
    if (r.cache_read_tokens > 0) {
        u["cachedContentTokenCount"] = r.cache_read_tokens;
    }
    return u;
}

json::object gemini_function_call(const ToolCallPlan& t) {
    return json::object{
        {"functionCall", json::object{{"name", t.name}, {"args", parsed_arguments(t.arguments)}}}};
}

json::object gemini_response(const Reply& r,
                             json::array parts,
                             const std::string* finish,
                             std::int64_t candidates) {
    json::object content;
    content["parts"] = std::move(parts);
    content["role"] = "model";
    json::object cand;
    cand["content"] = std::move(content);
    if (finish != nullptr) {
        cand["finishReason"] = *finish;
    }
    cand["index"] = 0;
    json::object o;
    o["candidates"] = json::array{std::move(cand)};
    o["usageMetadata"] = gemini_usage(r, candidates);
    o["modelVersion"] = r.model;
    o["responseId"] = r.id;
    return o;
}

struct GeminiKind {
    int code = 400;
    std::string_view status = "INVALID_ARGUMENT";
};

std::optional<GeminiKind> gemini_kind(std::string_view code) {
    if (is_one_of(code,
                  {"context_length_exceeded",
                   "prompt_too_long",
                   "invalid_api_key",
                   "invalid_argument",
                   "content_policy_violation",
                   "content_filter"})) {
        return GeminiKind{400, "INVALID_ARGUMENT"};
    }
    if (is_one_of(code, {"unauthenticated"})) {
        return GeminiKind{401, "UNAUTHENTICATED"};
    }
    if (is_one_of(code, {"permission_denied"})) {
        return GeminiKind{403, "PERMISSION_DENIED"};
    }
    if (is_one_of(code, {"model_not_found", "not_found"})) {
        return GeminiKind{404, "NOT_FOUND"};
    }
    if (is_one_of(code, {"rate_limit_exceeded", "insufficient_quota", "resource_exhausted"})) {
        return GeminiKind{429, "RESOURCE_EXHAUSTED"};
    }
    if (is_one_of(code, {"server_error", "internal"})) {
        return GeminiKind{500, "INTERNAL"};
    }
    if (is_one_of(code, {"unavailable", "overloaded"})) {
        return GeminiKind{503, "UNAVAILABLE"};
    }
    if (is_one_of(code, {"deadline_exceeded"})) {
        return GeminiKind{504, "DEADLINE_EXCEEDED"};
    }
    return std::nullopt;
}

std::string_view gemini_status_for(int code) {
    switch (code) {
        case 400:
            return "INVALID_ARGUMENT";
        case 401:
            return "UNAUTHENTICATED";
        case 403:
            return "PERMISSION_DENIED";
        case 404:
            return "NOT_FOUND";
        case 409:
            return "ABORTED";
        case 429:
            return "RESOURCE_EXHAUSTED";
        case 499:
            return "CANCELLED";
        case 501:
            return "UNIMPLEMENTED";
        case 502:
        case 503:
            return "UNAVAILABLE";
        case 504:
            return "DEADLINE_EXCEEDED";
        default:
            return code >= 500 ? "INTERNAL" : "FAILED_PRECONDITION";
    }
}

std::string gemini_message_for(std::string_view code,
                               std::string_view status,
                               const FaultContext& ctx) {
    if (code == "context_length_exceeded" || code == "prompt_too_long") {
        return "The input token count (" +
               std::to_string(std::max(ctx.prompt_tokens, kGeminiContextWindow + 1)) +
               ") exceeds the maximum number of tokens allowed (" +
               std::to_string(kGeminiContextWindow) + ").";
    }
    if (code == "invalid_api_key") {
        return "API key not valid. Please pass a valid API key.";
    }
    if (status == "RESOURCE_EXHAUSTED") {
        return "You exceeded your current quota, please check your plan and billing details. For "
               "more information on this error, head to: "
               "https://ai.google.dev/gemini-api/docs/rate-limits.";
    }
    if (status == "NOT_FOUND") {
        return "models/" + std::string(ctx.model.empty() ? "mock-model" : ctx.model) +
               " is not found for API version v1beta, or is not supported for generateContent. "
               "Call ListModels to see the list of available models and their supported methods.";
    }
    if (status == "UNAUTHENTICATED") {
        return "Request had invalid authentication credentials. Expected OAuth 2 access token, "
               "login cookie or other valid authentication credential.";
    }
    if (status == "PERMISSION_DENIED") {
        return "The caller does not have permission";
    }
    if (status == "UNAVAILABLE") {
        return "The model is overloaded. Please try again later.";
    }
    if (status == "DEADLINE_EXCEEDED") {
        return "Deadline expired before operation could complete.";
    }
    if (status == "INTERNAL") {
        return "An internal error has occurred. Please retry or report in "
               "https://developers.generativeai.google/guide/troubleshooting";
    }
    return "Request contains an invalid argument.";
}

// Gemini: the google.rpc.Status error, with RetryInfo on 429 and ErrorInfo on a bad key.
json::object gemini_error_object(const Directives& d,
                                 const FaultContext& ctx,
                                 std::optional<int> forced_code) {
    const std::string& code = d.error;
    std::optional<GeminiKind> kind = code.empty() ? std::nullopt : gemini_kind(code);
    const int http = forced_code.value_or(d.status.value_or(kind ? kind->code : 400));
    std::string status;
    if (kind) {
        status = kind->status;
    } else if (!code.empty()) {
        status = upper_ascii(code);  // any other string names the status
    } else {
        status = gemini_status_for(http);
    }
    json::object err;
    err["code"] = http;
    err["message"] = d.message.empty() ? gemini_message_for(code, status, ctx) : d.message;
    err["status"] = status;
    if (status == "RESOURCE_EXHAUSTED") {
        err["details"] =
            json::array{json::object{{"@type", "type.googleapis.com/google.rpc.RetryInfo"},
                                     {"retryDelay", d.retry_after.value_or("1") + "s"}}};
    } else if (code == "invalid_api_key") {
        err["details"] = json::array{json::object{
            {"@type", "type.googleapis.com/google.rpc.ErrorInfo"},
            {"reason", "API_KEY_INVALID"},
            {"domain", "googleapis.com"},
            {"metadata", json::object{{"service", "generativelanguage.googleapis.com"}}}}};
    }
    return err;
}

FaultReply gemini_fault(const Directives& d, const FaultContext& ctx) {
    json::object err = gemini_error_object(d, ctx, std::nullopt);
    FaultReply f;
    f.status = static_cast<int>(err.at("code").as_int64());
    f.body = json::serialize(json::object{{"error", std::move(err)}});
    if (d.retry_after) {  // Gemini puts the delay in RetryInfo; a header only when asked for
        f.headers.emplace_back("retry-after", *d.retry_after);
    }
    return f;
}

// ---- Azure ----------------------------------------------------------------------------------

std::string azure_content_filter_json(std::string_view message) {
    json::object results;
    for (const char* category : {"hate", "self_harm", "sexual", "violence"}) {
        const bool hit = std::string_view(category) == "violence";
        results[category] = json::object{{"filtered", hit}, {"severity", hit ? "high" : "safe"}};
    }
    json::object inner;
    inner["code"] = "ResponsibleAIPolicyViolation";
    inner["content_filter_result"] = std::move(results);
    json::object err;
    err["message"] = message;
    err["type"] = nullptr;
    err["param"] = "prompt";
    err["code"] = "content_filter";
    err["status"] = 400;
    err["innererror"] = std::move(inner);
    return json::serialize(json::object{{"error", std::move(err)}});
}

// Azure's own shapes for rate limits, bad keys, missing deployments and content filtering;
// anything else is the OpenAI error Azure relays.
std::optional<FaultReply> azure_fault(const Directives& d, const FaultContext& ctx) {
    const std::string& code = d.error;
    FaultReply f;
    if (code == "content_filter" || code == "content_policy_violation") {
        f.status = d.status.value_or(400);
        f.body = azure_content_filter_json(
            d.message.empty()
                ? "The response was filtered due to the prompt triggering Azure OpenAI's content "
                  "management policy. Please modify your prompt and retry. To learn more about "
                  "our content filtering policies please read our documentation: "
                  "https://go.microsoft.com/fwlink/?linkid=2198766"
                : d.message);
        return f;
    }
    if (code == "rate_limit_exceeded" || (code.empty() && d.status == 429)) {
        f.status = d.status.value_or(429);
        const std::string ra = d.retry_after.value_or("1");
        std::int64_t seconds = 0;
        const auto [p, ec] = std::from_chars(ra.data(), ra.data() + ra.size(), seconds);
        const std::string version =
            ctx.api_version.empty() ? "2024-10-21" : std::string(ctx.api_version);
        f.body = azure_error_json(
            "429",
            d.message.empty()
                ? "Requests to the " +
                      std::string(ctx.operation.empty() ? "ChatCompletions_Create"
                                                        : ctx.operation) +
                      " Operation under Azure OpenAI API version " + version +
                      " have exceeded token rate limit of your current OpenAI S0 pricing tier. "
                      "Please retry after " +
                      ra +
                      " second. Please go here: https://aka.ms/oai/quotaincrease if you would "
                      "like to further increase the default rate limit."
                : d.message);
        f.headers.emplace_back("retry-after", ra);
        if (!d.retry_after_ms && ec == std::errc{} && p == ra.data() + ra.size()) {
            f.headers.emplace_back("retry-after-ms", std::to_string(seconds * 1000));
        }
        f.headers.emplace_back("x-ratelimit-remaining-requests", "0");
        return f;
    }
    if (code == "invalid_api_key" || (code.empty() && d.status == 401)) {
        f.status = d.status.value_or(401);
        f.body = azure_error_json(
            "401",
            d.message.empty()
                ? "Access denied due to invalid subscription key or wrong API endpoint. Make sure "
                  "to provide a valid key for an active subscription and use a correct regional "
                  "API endpoint for your resource."
                : d.message);
        return f;
    }
    if (code == "model_not_found" || code == "DeploymentNotFound" ||
        (code.empty() && d.status == 404)) {
        f.status = d.status.value_or(404);
        f.body = azure_error_json(
            "DeploymentNotFound",
            d.message.empty()
                ? "The API deployment for this resource does not exist. If you created the "
                  "deployment within the last 5 minutes, please wait a moment and try again."
                : d.message);
        return f;
    }
    return std::nullopt;
}

FaultReply openai_fault(const Directives& d, const FaultContext& ctx) {
    const ErrorInfo e = fault_error(d, ctx.model, ctx.prompt_tokens);
    FaultReply f;
    f.status = e.status;
    f.body = error_json(e);
    if (e.status == 429) {
        const std::string ra = d.retry_after.value_or("1");
        f.headers.emplace_back("retry-after", ra);
        f.headers.emplace_back("x-ratelimit-limit-requests", "60");
        f.headers.emplace_back("x-ratelimit-remaining-requests", "0");
        f.headers.emplace_back("x-ratelimit-reset-requests", ra + "s");
    } else if (d.retry_after) {
        f.headers.emplace_back("retry-after", *d.retry_after);
    }
    return f;
}

}  // namespace

std::string_view sse_separator(Flavor flavor) {
    return flavor == Flavor::kGemini ? "\r\n\r\n" : "\n\n";
}

std::string rfc3339_in(std::int64_t seconds) {
    const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now() +
                                                               std::chrono::seconds(seconds));
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::array<char, 32> buf{};
    const std::size_t n = std::strftime(buf.data(), buf.size(), "%Y-%m-%dT%H:%M:%SZ", &tm);
    return {buf.data(), n};
}

// ---- Anthropic ------------------------------------------------------------------------------

std::string anthropic_request_id(std::uint64_t seq) { return "req_mock_" + std::to_string(seq); }

std::string anthropic_message_json(const Reply& r) {
    json::array content;
    if (!r.pieces.empty() || r.tool_calls.empty()) {
        std::string text;
        for (const auto& p : r.pieces) {
            text += p;
        }
        content.emplace_back(json::object{{"type", "text"}, {"text", std::move(text)}});
    }
    for (const auto& t : r.tool_calls) {
        json::object block;
        block["type"] = "tool_use";
        block["id"] = t.id;
        block["name"] = t.name;
        block["input"] = parsed_arguments(t.arguments);
        content.emplace_back(std::move(block));
    }
    json::object o;
    o["id"] = r.id;
    o["type"] = "message";
    o["role"] = "assistant";
    o["model"] = r.model;
    o["content"] = std::move(content);
    o["stop_reason"] = r.finish_reason;
    o["stop_sequence"] = nullptr;
    o["usage"] = anthropic_usage(r, r.completion_tokens);
    return json::serialize(o);
}

std::vector<SseEvent> anthropic_stream_events(const Reply& r, bool message_stop) {
    std::vector<SseEvent> out;
    out.reserve(static_cast<std::size_t>(fragment_count(r)) + 3 * r.tool_calls.size() + 7);
    auto emit = [&](std::string_view type, const json::object& o) {
        out.push_back({std::string(type), json::serialize(o)});
    };

    json::object message;
    message["id"] = r.id;
    message["type"] = "message";
    message["role"] = "assistant";
    message["model"] = r.model;
    message["content"] = json::array{};
    message["stop_reason"] = nullptr;
    message["stop_sequence"] = nullptr;
    message["usage"] = anthropic_usage(r, std::min<std::int64_t>(1, r.completion_tokens));
    json::object start = anthropic_event("message_start");
    start["message"] = std::move(message);
    emit("message_start", start);

    std::size_t index = 0;
    bool pinged = false;
    auto open_block = [&](json::object block) {
        json::object o = anthropic_event("content_block_start");
        o["index"] = index;
        o["content_block"] = std::move(block);
        emit("content_block_start", o);
        if (!pinged) {  // Anthropic pings once, right after the first block opens
            out.push_back({"ping", R"({"type": "ping"})"});
            pinged = true;
        }
    };
    auto delta = [&](json::object d) {
        json::object o = anthropic_event("content_block_delta");
        o["index"] = index;
        o["delta"] = std::move(d);
        emit("content_block_delta", o);
    };
    auto close_block = [&] {
        json::object o = anthropic_event("content_block_stop");
        o["index"] = index;
        emit("content_block_stop", o);
        ++index;
    };

    if (!r.pieces.empty() || r.tool_calls.empty()) {
        open_block(json::object{{"type", "text"}, {"text", ""}});
        for (const auto& p : r.pieces) {
            delta(json::object{{"type", "text_delta"}, {"text", p}});
        }
        close_block();
    }
    for (const auto& t : r.tool_calls) {
        json::object block;
        block["type"] = "tool_use";
        block["id"] = t.id;
        block["name"] = t.name;
        block["input"] = json::object{};
        open_block(std::move(block));
        for (const auto& f : t.fragments) {
            delta(json::object{{"type", "input_json_delta"}, {"partial_json", f}});
        }
        close_block();
    }

    json::object md = anthropic_event("message_delta");
    md["delta"] = json::object{{"stop_reason", r.finish_reason}, {"stop_sequence", nullptr}};
    md["usage"] = json::object{{"output_tokens", r.completion_tokens}};
    emit("message_delta", md);
    if (message_stop) {
        out.push_back({"message_stop", R"({"type":"message_stop"})"});
    }
    return out;
}

std::string anthropic_count_tokens_json(std::int64_t input_tokens) {
    return json::serialize(json::object{{"input_tokens", input_tokens}});
}

std::string anthropic_error_json(std::string_view type,
                                 std::string_view message,
                                 std::string_view request_id) {
    json::object o;
    o["type"] = "error";
    o["error"] = json::object{{"type", type}, {"message", message}};
    o["request_id"] = request_id.empty() ? json::value(nullptr) : json::value(request_id);
    return json::serialize(o);
}

// ---- Gemini ---------------------------------------------------------------------------------

std::string gemini_response_json(const Reply& r) {
    json::array parts;
    if (!r.pieces.empty() || r.tool_calls.empty()) {
        std::string text;
        for (const auto& p : r.pieces) {
            text += p;
        }
        parts.emplace_back(json::object{{"text", std::move(text)}});
    }
    for (const auto& t : r.tool_calls) {
        parts.emplace_back(gemini_function_call(t));
    }
    return json::serialize(
        gemini_response(r, std::move(parts), &r.finish_reason, r.completion_tokens));
}

std::vector<std::string> gemini_stream_payloads(const Reply& r, bool finish) {
    std::vector<std::string> out;
    const std::size_t events = r.pieces.size() + r.tool_calls.size();
    out.reserve(std::max<std::size_t>(events, 1));
    std::int64_t produced = 0;
    std::size_t sent = 0;
    auto emit = [&](json::array parts, std::int64_t fragments) {
        produced += fragments;
        ++sent;
        const bool last = sent >= events;
        const std::string* reason = last && finish ? &r.finish_reason : nullptr;
        out.push_back(json::serialize(
            gemini_response(r, std::move(parts), reason, last ? r.completion_tokens : produced)));
    };
    if (events == 0) {
        emit(json::array{json::object{{"text", ""}}}, 0);
        return out;
    }
    for (const auto& p : r.pieces) {
        emit(json::array{json::object{{"text", p}}}, 1);
    }
    for (const auto& t : r.tool_calls) {  // Gemini sends a function call whole
        emit(json::array{gemini_function_call(t)}, static_cast<std::int64_t>(t.fragments.size()));
    }
    return out;
}

std::optional<std::string> gemini_block_reason(const Directives& d) {
    if (d.status) {
        return std::nullopt;
    }
    if (d.error == "content_policy_violation" || d.error == "content_filter" ||
        d.error == "safety") {
        return "SAFETY";
    }
    if (d.error == "prohibited_content") {
        return "PROHIBITED_CONTENT";
    }
    if (d.error == "blocklist") {
        return "BLOCKLIST";
    }
    return std::nullopt;
}

std::string gemini_blocked_json(const Reply& r, std::string_view block_reason) {
    json::array ratings;
    for (const char* category : {"HARM_CATEGORY_SEXUALLY_EXPLICIT",
                                 "HARM_CATEGORY_HATE_SPEECH",
                                 "HARM_CATEGORY_HARASSMENT",
                                 "HARM_CATEGORY_DANGEROUS_CONTENT"}) {
        const bool hit = std::string_view(category) == "HARM_CATEGORY_DANGEROUS_CONTENT";
        json::object rating{{"category", category}, {"probability", hit ? "HIGH" : "NEGLIGIBLE"}};
        if (hit) {
            rating["blocked"] = true;
        }
        ratings.emplace_back(std::move(rating));
    }
    json::object o;
    o["promptFeedback"] =
        json::object{{"blockReason", block_reason}, {"safetyRatings", std::move(ratings)}};
    o["usageMetadata"] =
        json::object{{"promptTokenCount", r.prompt_tokens}, {"totalTokenCount", r.prompt_tokens}};
    o["modelVersion"] = r.model;
    o["responseId"] = r.id;
    return json::serialize(o);
}

std::string gemini_count_tokens_json(std::int64_t total_tokens) {
    return json::serialize(json::object{{"totalTokens", total_tokens}});
}

std::string gemini_error_json(int code, std::string_view message, std::string_view status) {
    json::object err;
    err["code"] = code;
    err["message"] = message;
    err["status"] = status;
    return json::serialize(json::object{{"error", std::move(err)}});
}

// ---- Azure ----------------------------------------------------------------------------------

std::string azure_error_json(std::string_view code, std::string_view message) {
    return json::serialize(
        json::object{{"error", json::object{{"code", code}, {"message", message}}}});
}

// ---- faults ---------------------------------------------------------------------------------

FaultReply fault_reply(const Directives& d, const FaultContext& ctx) {
    FaultReply f;
    switch (ctx.flavor) {
        case Flavor::kAnthropic:
            f = anthropic_fault(d, ctx);
            break;
        case Flavor::kGemini:
            f = gemini_fault(d, ctx);
            break;
        case Flavor::kAzure:
            if (auto a = azure_fault(d, ctx)) {
                f = std::move(*a);
            } else {
                f = openai_fault(d, ctx);
            }
            break;
        case Flavor::kOpenAI:
            f = openai_fault(d, ctx);
            break;
    }
    if (d.retry_after_ms) {
        f.headers.emplace_back("retry-after-ms", std::to_string(*d.retry_after_ms));
    }
    return f;
}

SseEvent stream_error_event(const Directives& d, Flavor flavor) {
    FaultContext ctx;
    ctx.flavor = flavor;
    switch (flavor) {
        case Flavor::kAnthropic: {
            // Mid-stream Anthropic errors default to overloaded_error, as the API sends them.
            std::optional<AnthropicKind> kind =
                d.error.empty() ? AnthropicKind{529, "overloaded_error"} : anthropic_kind(d.error);
            const std::string type =
                kind ? std::string(kind->type)
                     : (d.error.size() > 6 && d.error.substr(d.error.size() - 6) == "_error"
                            ? d.error
                            : std::string("api_error"));
            json::object o;
            o["type"] = "error";
            o["error"] = json::object{
                {"type", type},
                {"message",
                 d.message.empty() ? anthropic_message_for(d.error, type, ctx) : d.message}};
            return {"error", json::serialize(o)};
        }
        case Flavor::kGemini: {
            const std::optional<int> code =
                d.error.empty() ? std::optional<int>(500) : std::nullopt;
            return {"",
                    json::serialize(json::object{{"error", gemini_error_object(d, ctx, code)}})};
        }
        case Flavor::kOpenAI:
        case Flavor::kAzure:
            break;
    }
    ErrorInfo e;
    e.message = d.message.empty()
                    ? "The server had an error while processing your request. Sorry about that!"
                    : d.message;
    e.type = "server_error";
    if (!d.error.empty()) {
        e.code = d.error;
    }
    return {"", error_json(e)};
}

SseEvent malformed_event(Flavor flavor) {
    if (flavor == Flavor::kAnthropic) {
        return {"content_block_delta", "{not json"};
    }
    return {"", "{not json"};
}

std::string not_found_json(Flavor flavor,
                           std::string_view method,
                           std::string_view path,
                           std::string_view request_id) {
    switch (flavor) {
        case Flavor::kAnthropic:
            return anthropic_error_json("not_found_error", "Not Found", request_id);
        case Flavor::kGemini:
            return gemini_error_json(
                404,
                "Method not found: " + std::string(method) + " " + std::string(path),
                "NOT_FOUND");
        case Flavor::kOpenAI:
        case Flavor::kAzure:
            break;
    }
    return error_json("Invalid URL (" + std::string(method) + " " + std::string(path) + ")",
                      "invalid_request_error");
}

}  // namespace sy::mock
