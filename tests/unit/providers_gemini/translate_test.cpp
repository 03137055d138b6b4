// Property tests for providers/gemini that golden files express poorly: a full request verbatim,
// chunk invariants, round trips, error tables, the generateContent path.

#include "sy/providers/gemini/translate.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <set>

namespace sy::providers::gemini {
namespace {

namespace json = boost::json;

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

RequestOptions opts_for(std::string model = "gemini-2.5-flash") {
    RequestOptions o;
    o.upstream_model = std::move(model);
    return o;
}

bool is_tool_call_id(std::string_view id) {
    if (id.size() != 29 || id.substr(0, 5) != "call_") {
        return false;
    }
    for (char c : id.substr(5)) {
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
            return false;
        }
    }
    return true;
}

// ---- generate_path (providers.md §4).

TEST(GeneratePath, PlainAndStreaming) {
    EXPECT_EQ(generate_path("gemini-2.5-flash", false),
              "/v1beta/models/gemini-2.5-flash:generateContent");
    EXPECT_EQ(generate_path("gemini-2.5-flash", true),
              "/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse");
    EXPECT_EQ(generate_path("models/gemini-2.0-flash-001", false),
              "/v1beta/models/gemini-2.0-flash-001:generateContent");
    EXPECT_EQ(generate_path("tunedModels/my-tune-42", true),
              "/v1beta/tunedModels/my-tune-42:streamGenerateContent?alt=sse");
}

TEST(GeneratePath, ModelCannotInjectPathOrQuery) {
    std::string p = generate_path("../x?key=leak#f/y z", false);
    EXPECT_EQ(p, "/v1beta/models/..%2Fx%3Fkey%3Dleak%23f%2Fy%20z:generateContent");
    EXPECT_EQ(p.find('?'), std::string::npos);
    EXPECT_EQ(generate_path("", false), "/v1beta/models/:generateContent");
}

// ---- A complete request (providers.md §4.1), semantically verbatim.

TEST(OpenAIToGeminiRequest, FullRequestVerbatim) {
    json::object in =
        obj(R"({"model":"gemini-quality","max_tokens":256,"stop":"END","temperature":0.2,
 "messages":[{"role":"system","content":"Be brief."},
  {"role":"user","content":[{"type":"text","text":"What is this?"},
    {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
  {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
    "function":{"name":"lookup","arguments":"{\"q\":\"cat\"}"}}]},
  {"role":"tool","tool_call_id":"call_1","content":"a cat"}],
 "tools":[{"type":"function","function":{"name":"lookup","description":"search",
   "parameters":{"type":"object","properties":{"q":{"type":"string"}},
                 "additionalProperties":false}}}],
 "tool_choice":"auto"})");
    json::value want = json::parse(
        R"({"contents":[
  {"role":"user","parts":[{"text":"What is this?"},
    {"inlineData":{"mimeType":"image/png","data":"iVBORw0KGgo="}}]},
  {"role":"model","parts":[{"functionCall":{"name":"lookup","args":{"q":"cat"}}}]},
  {"role":"user","parts":[{"functionResponse":{"name":"lookup","response":{"content":"a cat"}}}]}],
 "systemInstruction":{"parts":[{"text":"Be brief."}]},
 "tools":[{"functionDeclarations":[{"name":"lookup","description":"search",
   "parameters":{"type":"object","properties":{"q":{"type":"string"}}}}]}],
 "toolConfig":{"functionCallingConfig":{"mode":"AUTO"}},
 "generationConfig":{"temperature":0.2,"maxOutputTokens":256,"stopSequences":["END"]}})");
    auto r = openai_to_gemini_request(in, opts_for());
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(json::parse(*r), want) << *r;
}

TEST(OpenAIToGeminiRequest, NullParamsAreAbsentAndAdditionalDropWinsOverSupport) {
    RequestOptions opts = opts_for();
    opts.additional_drop_params = {"temperature", "logit_bias"};
    auto r = openai_to_gemini_request(
        obj(R"({"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":0.5,
               "logit_bias":{"1":2},"seed":null,"n":null})"),
        opts);
    ASSERT_TRUE(r) << r.error().message;
    json::object out = json::parse(*r).as_object();
    EXPECT_FALSE(out.contains("generationConfig")) << *r;
}

TEST(OpenAIToGeminiRequest, UnsupportedParamErrorNamesEveryParam) {
    auto r = openai_to_gemini_request(
        obj(R"({"model":"x","messages":[{"role":"user","content":"hi"}],"logit_bias":{},
               "modalities":["text"],"parallel_tool_calls":false})"),
        opts_for("gemini-x"));
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().http_status(), 400);
    EXPECT_EQ(r.error().http_type(), "invalid_request_error");
    EXPECT_EQ(r.error().message.rfind("litellm.UnsupportedParamsError: gemini does not support "
                                      "parameters: ['logit_bias', 'modalities', "
                                      "'parallel_tool_calls'], for model=gemini-x.",
                                      0),
              0u)
        << r.error().message;
}

TEST(OpenAIToGeminiRequest, ExponentialRefExpansionIsBounded) {
    // Each definition references the next one twice: 2^30 nodes if expanded naively.
    json::object defs;
    for (int i = 0; i < 30; ++i) {
        std::string next = "#/$defs/D" + std::to_string(i + 1);
        defs["D" + std::to_string(i)] =
            json::object{{"type", "object"},
                         {"properties",
                          json::object{{"a", json::object{{"$ref", next}}},
                                       {"b", json::object{{"$ref", next}}}}}};
    }
    defs["D30"] = json::object{{"type", "string"}};
    json::object params{{"type", "object"},
                        {"$defs", defs},
                        {"properties", json::object{{"x", json::object{{"$ref", "#/$defs/D0"}}}}}};
    json::object body{{"model", "m"},
                      {"messages", json::array{json::object{{"role", "user"}, {"content", "hi"}}}},
                      {"tools",
                       json::array{json::object{
                           {"type", "function"},
                           {"function", json::object{{"name", "f"}, {"parameters", params}}}}}}};
    auto t0 = std::chrono::steady_clock::now();
    auto r = openai_to_gemini_request(body, opts_for());
    auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().http_status(), 400);
    EXPECT_NE(r.error().message.find("too deep or too large"), std::string::npos)
        << r.error().message;
    EXPECT_LT(ms.count(), 2000.0);
}

TEST(ImageUrls, RemoteUrlsInOrderWithoutDuplicates) {
    auto urls = image_urls(obj(R"({"messages":[
      {"role":"user","content":[{"type":"image_url","image_url":{"url":"https://a/1.png"}},
        {"type":"image_url","image_url":{"url":"data:image/png;base64,AA=="}},
        {"type":"image_url","image_url":"https://a/2.png"}]},
      {"role":"tool","tool_call_id":"x","content":[
        {"type":"image_url","image_url":{"url":"https://a/1.png"}},
        {"type":"text","text":"https://not-an-image"}]},
      {"role":"user","content":"https://plain-text"}]})"));
    EXPECT_EQ(urls, (std::vector<std::string>{"https://a/1.png", "https://a/2.png"}));
    EXPECT_TRUE(image_urls(obj(R"({"messages":"nope"})")).empty());
}

// ---- Response.

TEST(GeminiToOpenAIResponse, ToolCallIdsAreUniqueAndWellFormed) {
    auto r = gemini_to_openai_response(
        R"({"candidates":[{"content":{"role":"model","parts":[
            {"functionCall":{"name":"a","args":{"x":"\u00e9"}}},
            {"functionCall":{"name":"b","args":{}}},
            {"functionCall":{"name":"c"}}]},"finishReason":"STOP"}]})",
        "m");
    ASSERT_TRUE(r) << r.error().message;
    json::value v = json::parse(*r);
    const json::array& calls = v.at("choices").at(0).at("message").at("tool_calls").as_array();
    ASSERT_EQ(calls.size(), 3u);
    std::set<std::string> ids;
    for (const auto& c : calls) {
        std::string id(c.at("id").as_string());
        EXPECT_TRUE(is_tool_call_id(id)) << id;
        ids.insert(id);
        // arguments is a JSON string that parses to an object
        EXPECT_TRUE(json::parse(c.at("function").at("arguments").as_string()).is_object());
    }
    EXPECT_EQ(ids.size(), 3u);
    EXPECT_EQ(v.at("choices").at(0).at("finish_reason"), "tool_calls");
    EXPECT_EQ(std::string_view(v.at("id").as_string()).substr(0, 9), "chatcmpl-");
}

TEST(GeminiToOpenAIResponse, BlockedPromptIsContentPolicyViolation) {
    auto r = gemini_to_openai_response(R"({"promptFeedback":{"blockReason":"OTHER"}})", "m");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, Errc::kContentPolicy);
    EXPECT_EQ(r.error().http_status(), 400);
    EXPECT_EQ(r.error().message.rfind("litellm.ContentPolicyViolationError: GeminiException - ", 0),
              0u);
}

// ---- Stream invariants.

struct Collected {
    std::vector<json::object> chunks;
};

Collected run(StreamToOpenAI& t, const std::vector<std::string>& events) {
    Collected c;
    for (const auto& e : events) {
        auto r = t.on_event(e);
        EXPECT_TRUE(r) << r.error().message;
        if (!r) {
            break;
        }
        for (const auto& s : *r) {
            c.chunks.push_back(json::parse(s).as_object());
        }
    }
    for (const auto& s : t.finish()) {
        c.chunks.push_back(json::parse(s).as_object());
    }
    return c;
}

TEST(StreamToOpenAI, SameIdCreatedModelFirstChunkHasRoleAndUsageLast) {
    StreamToOpenAI t("gemini-fast", true, 1767225600);
    auto c = run(t,
                 {R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Hel"}]}}],)"
                  R"("responseId":"r-1"})",
                  R"({"candidates":[{"content":{"role":"model","parts":[{"functionCall":{)"
                  R"("name":"f","args":{"q":"x \"y\""}}}]}}],"responseId":"r-1"})",
                  R"({"candidates":[{"content":{"role":"model","parts":[{"text":"lo"}]},)"
                  R"("finishReason":"STOP"}],"usageMetadata":{"promptTokenCount":4,)"
                  R"("candidatesTokenCount":3,"totalTokenCount":7},"responseId":"r-1"})"});
    ASSERT_TRUE(t.finished());
    ASSERT_EQ(c.chunks.size(), 5u);
    std::string text;
    for (std::size_t i = 0; i < c.chunks.size(); ++i) {
        const json::object& ch = c.chunks[i];
        EXPECT_EQ(ch.at("id"), "r-1");
        EXPECT_EQ(ch.at("created"), 1767225600);
        EXPECT_EQ(ch.at("model"), "gemini-fast");
        EXPECT_EQ(ch.at("object"), "chat.completion.chunk");
        if (i + 1 < c.chunks.size()) {
            EXPECT_TRUE(ch.at("usage").is_null());
            const json::object& delta = ch.at("choices").at(0).at("delta").as_object();
            EXPECT_EQ(delta.contains("role"), i == 0);
            if (const json::value* s = delta.if_contains("content")) {
                text += s->as_string();
            }
            if (const json::value* tc = delta.if_contains("tool_calls")) {
                const json::value& call = tc->at(0);
                EXPECT_EQ(call.at("index"), 0);
                EXPECT_TRUE(is_tool_call_id(call.at("id").as_string()));
                EXPECT_EQ(json::parse(call.at("function").at("arguments").as_string()),
                          json::parse(R"({"q":"x \"y\""})"));
            }
        }
    }
    EXPECT_EQ(text, "Hello");
    EXPECT_EQ(c.chunks[3].at("choices").at(0).at("finish_reason"), "tool_calls");
    EXPECT_TRUE(c.chunks[4].at("choices").as_array().empty());
    EXPECT_EQ(c.chunks[4].at("usage").at("total_tokens"), 7);
    EXPECT_TRUE(t.finish().empty());  // usage chunk only once
}

TEST(StreamToOpenAI, ErrorsAreStickyAndFinishEmitsNothing) {
    StreamToOpenAI t("m", true);
    ASSERT_TRUE(t.on_event(R"({"candidates":[{"content":{"parts":[{"text":"a"}]}}]})"));
    auto bad = t.on_event(R"({"candidates":[{"content":{"parts":[{"text":"b)");
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().code, Errc::kUpstreamProtocol);
    EXPECT_EQ(bad.error().http_status(), 500);
    auto again = t.on_event(
        R"({"candidates":[{"content":{"parts":[{"text":"c"}]},"finishReason":"STOP"}]})");
    ASSERT_FALSE(again);
    EXPECT_EQ(again.error().message, bad.error().message);
    EXPECT_FALSE(t.finished());
    EXPECT_TRUE(t.finish().empty());
}

TEST(StreamToOpenAI, UnavailableErrorEventIsRetryable503) {
    StreamToOpenAI t("m", false);
    auto r = t.on_event(R"({"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}})");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().http_status(), 503);
    EXPECT_EQ(r.error().message, "litellm.ServiceUnavailableError: GeminiException - overloaded");
}

TEST(StreamToOpenAI, TruncatedStreamKeepsUsageForBilling) {
    StreamToOpenAI t("m", true);
    ASSERT_TRUE(t.on_event(R"({"candidates":[{"content":{"parts":[{"text":"a"}]}}],)"
                           R"("usageMetadata":{"promptTokenCount":11,"candidatesTokenCount":2,)"
                           R"("thoughtsTokenCount":5}})"));
    EXPECT_FALSE(t.finished());
    EXPECT_TRUE(t.finish().empty());
    EXPECT_TRUE(t.usage().seen);
    EXPECT_EQ(t.usage().prompt_tokens, 11);
    EXPECT_EQ(t.usage().candidates_tokens, 2);
    EXPECT_EQ(t.usage().thoughts_tokens, 5);
}

// ---- Round trip: a Gemini tool call comes back to Gemini with the right name and signature.

TEST(RoundTrip, GeminiToolCallThroughOpenAIAndBack) {
    auto resp = gemini_to_openai_response(
        R"({"candidates":[{"content":{"role":"model","parts":[{"text":"Checking."},
            {"functionCall":{"name":"get_weather","args":{"city":"Oslo"}},
             "thoughtSignature":"c2lnbmF0dXJl"}]},"finishReason":"STOP"}],
            "responseId":"abc"})",
        "gemini-fast");
    ASSERT_TRUE(resp) << resp.error().message;
    json::object message = json::parse(*resp).at("choices").at(0).at("message").as_object();
    std::string id(message.at("tool_calls").at(0).at("id").as_string());
    json::object body{
        {"model", "gemini-fast"},
        {"messages",
         json::array{json::object{{"role", "user"}, {"content", "Weather in Oslo?"}},
                     message,
                     json::object{{"role", "tool"}, {"tool_call_id", id}, {"content", "-3C"}}}}};
    auto req = openai_to_gemini_request(body, opts_for());
    ASSERT_TRUE(req) << req.error().message;
    json::value want = json::parse(R"({"contents":[
      {"role":"user","parts":[{"text":"Weather in Oslo?"}]},
      {"role":"model","parts":[{"text":"Checking."},
        {"functionCall":{"name":"get_weather","args":{"city":"Oslo"}},
         "thoughtSignature":"c2lnbmF0dXJl"}]},
      {"role":"user","parts":[{"functionResponse":{"name":"get_weather",
        "response":{"content":"-3C"}}}]}]})");
    EXPECT_EQ(json::parse(*req), want) << *req;
}

// ---- Errors (providers.md §8).

struct ErrCase {
    int status;
    const char* body;
    int want_status;
    const char* want_type;
    Errc want_code;
    const char* want_prefix;
};

class GeminiErrorMapping : public ::testing::TestWithParam<ErrCase> {};

TEST_P(GeminiErrorMapping, StatusTypeAndMessage) {
    const ErrCase& c = GetParam();
    Error e = map_gemini_error(c.status, c.body);
    EXPECT_EQ(e.http_status(), c.want_status);
    EXPECT_EQ(e.http_type(), c.want_type);
    EXPECT_EQ(e.code, c.want_code);
    EXPECT_EQ(e.message.rfind(c.want_prefix, 0), 0u) << e.message;
}

INSTANTIATE_TEST_SUITE_P(
    ProvidersMd8,
    GeminiErrorMapping,
    ::testing::Values(
        ErrCase{400,
                R"({"error":{"code":400,"message":"The input token count (5) exceeds the maximum )"
                R"(number of tokens allowed (4).","status":"INVALID_ARGUMENT"}})",
                400,
                "invalid_request_error",
                Errc::kContextWindow,
                "litellm.ContextWindowExceededError: GeminiException - The input token count"},
        ErrCase{400,
                R"({"error":{"code":400,"message":"bad","status":"INVALID_ARGUMENT"}})",
                400,
                "invalid_request_error",
                Errc::kUpstreamStatus,
                "litellm.BadRequestError: GeminiException - bad"},
        ErrCase{400,
                R"({"error":{"code":400,"message":"API key not valid. Please pass a valid API )"
                R"(key.","status":"INVALID_ARGUMENT"}})",
                401,
                "authentication_error",
                Errc::kUpstreamStatus,
                "litellm.AuthenticationError: GeminiException - API key not valid"},
        ErrCase{401,
                R"({"error":{"code":401,"message":"no","status":"UNAUTHENTICATED"}})",
                401,
                "authentication_error",
                Errc::kUpstreamStatus,
                "litellm.AuthenticationError: GeminiException - no"},
        ErrCase{403,
                R"({"error":{"code":403,"status":"PERMISSION_DENIED"}})",
                403,
                "permission_error",
                Errc::kUpstreamStatus,
                "litellm.PermissionDeniedError: GeminiException - Gemini API returned HTTP 403 "
                "PERMISSION_DENIED"},
        ErrCase{404, "{}", 404, "not_found_error", Errc::kUpstreamStatus, "litellm.NotFoundError"},
        ErrCase{408, "slow", 408, "timeout_error", Errc::kTimeout, "litellm.Timeout"},
        ErrCase{429,
                R"({"error":{"code":429,"message":"quota","status":"RESOURCE_EXHAUSTED"}})",
                429,
                "rate_limit_error",
                Errc::kRateLimited,
                "litellm.RateLimitError: GeminiException - quota"},
        ErrCase{500, "{}", 500, "api_error", Errc::kUpstreamStatus, "litellm.InternalServerError"},
        ErrCase{503,
                R"({"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}})",
                503,
                "service_unavailable",
                Errc::kUpstreamStatus,
                "litellm.ServiceUnavailableError: GeminiException - overloaded"},
        ErrCase{504,
                "",
                503,
                "service_unavailable",
                Errc::kUpstreamStatus,
                "litellm.ServiceUnavailableError"},
        ErrCase{0,
                R"([{"error":{"code":429,"message":"q","status":"RESOURCE_EXHAUSTED"}}])",
                429,
                "rate_limit_error",
                Errc::kRateLimited,
                "litellm.RateLimitError: GeminiException - q"},
        ErrCase{200,
                R"({"error":{"message":"gone","status":"NOT_FOUND"}})",
                404,
                "not_found_error",
                Errc::kUpstreamStatus,
                "litellm.NotFoundError: GeminiException - gone"},
        ErrCase{0,
                "garbage",
                500,
                "api_error",
                Errc::kUpstreamStatus,
                "litellm.InternalServerError: GeminiException - garbage"}));

TEST(RetryDelaySeconds, ParsesDurationsAndRejectsGarbage) {
    auto body = [](std::string_view delay) {
        return R"({"error":{"code":429,"status":"RESOURCE_EXHAUSTED","details":[)"
               R"({"@type":"type.googleapis.com/google.rpc.Help"},)"
               R"({"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":")" +
               std::string(delay) + R"("}]}})";
    };
    EXPECT_EQ(retry_delay_seconds(body("3s")), 3.0);
    EXPECT_EQ(retry_delay_seconds(body("0.5s")), 0.5);
    EXPECT_DOUBLE_EQ(*retry_delay_seconds(body("1.000340s")), 1.00034);
    EXPECT_EQ(retry_delay_seconds(body("3")), std::nullopt);
    EXPECT_EQ(retry_delay_seconds(body("-1s")), std::nullopt);
    EXPECT_EQ(retry_delay_seconds(body("s")), std::nullopt);
    EXPECT_EQ(retry_delay_seconds(body("1e3s")), std::nullopt);
    EXPECT_EQ(retry_delay_seconds(R"({"error":{"code":429}})"), std::nullopt);
    EXPECT_EQ(retry_delay_seconds("not json"), std::nullopt);
    EXPECT_EQ(retry_delay_seconds("[" + body("2s") + "]"), 2.0);
}

TEST(Utf8, InvalidBytesNeverProduceInvalidJson) {
    std::string bad = "caf\xC3\x28 \xFF\xFE end";
    Error e = map_gemini_error(502, bad);
    EXPECT_NE(e.message.find("\xEF\xBF\xBD"), std::string::npos);
    StreamToOpenAI t(bad, true);
    auto r = t.on_event(R"({"candidates":[{"content":{"parts":[{"text":"x"}]}}]})");
    ASSERT_TRUE(r);
    for (const auto& c : *r) {
        EXPECT_NO_THROW(json::parse(c)) << c;
    }
    auto resp = gemini_to_openai_response(
        R"({"candidates":[{"content":{"parts":[{"text":"x"}]},"finishReason":"STOP"}]})", bad);
    ASSERT_TRUE(resp);
    EXPECT_NO_THROW(json::parse(*resp));
}

// Per-event translation cost; printed for docs/benchmarks.md, bounded loosely so the test only
// catches gross regressions (it also runs under sanitizers).
TEST(Performance, PerEventCostIsMicroseconds) {
    StreamToOpenAI t("gemini-fast", true);
    const std::string ev =
        R"({"candidates":[{"content":{"parts":[{"text":"Hello, this is a typical token run of )"
        R"(text."}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":9,)"
        R"("totalTokenCount":9},"modelVersion":"gemini-2.5-flash","responseId":"abc"})";
    constexpr int kN = 20000;
    std::size_t bytes = 0;
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < kN; ++i) {
        auto r = t.on_event(ev);
        bytes += (*r)[0].size();
    }
    auto t1 = std::chrono::steady_clock::now();
    double us = std::chrono::duration<double, std::micro>(t1 - t0).count() / kN;
    std::printf("[ perf ] Gemini event -> OpenAI chunk: %.3f us (%zu bytes)\n", us, bytes);
    EXPECT_LT(us, 200.0);
}

}  // namespace
}  // namespace sy::providers::gemini
