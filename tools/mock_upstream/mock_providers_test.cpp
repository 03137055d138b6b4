// Provider shapes of the mock upstream: Anthropic Messages, Azure OpenAI, Gemini, plus the
// OpenAI parallel tool calls they share the planning of.
#include <gtest/gtest.h>

#include <array>
#include <boost/json.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "directives.hpp"
#include "mock_upstream.hpp"
#include "providers.hpp"
#include "responses.hpp"
#include "test_client.hpp"

namespace sy::mock {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using test_support::Client;
using test_support::Event;
using test_support::Headers;
using test_support::parse_sse;
using test_support::str;
using namespace std::chrono_literals;

const Headers kAnthropicHeaders = {{"x-api-key", "sk-ant-test"},
                                   {"anthropic-version", "2023-06-01"}};
const Headers kAzureHeaders = {{"api-key", "azure-key"}};
const Headers kGeminiHeaders = {{"x-goog-api-key", "gem-key"}};
constexpr std::string_view kAzureChat =
    "/openai/deployments/gpt4o-prod/chat/completions?api-version=2024-10-21";
constexpr std::string_view kGeminiGenerate = "/v1beta/models/gemini-2.0-flash:generateContent";
constexpr std::string_view kGeminiStream =
    "/v1beta/models/gemini-2.0-flash:streamGenerateContent?alt=sse";

// 28 code points: 7 prompt tokens.
const std::string kAnthropicBody =
    R"({"model":"claude-sonnet-4-6","max_tokens":1024,)"
    R"("messages":[{"role":"user","content":"Say hello to the mock please"}])";
const std::string kAnthropicTools =
    R"(,"tools":[{"name":"lookup","description":"search","input_schema":{"type":"object",)"
    R"("properties":{"q":{"type":"string"},"limit":{"type":"integer"}}}}])";
const std::string kGeminiBody =
    R"({"contents":[{"role":"user","parts":[{"text":"Say hello to the mock please"}]}])";
const std::string kGeminiTools =
    R"(,"tools":[{"functionDeclarations":[{"name":"get_time","parameters":{"type":"OBJECT",)"
    R"("properties":{"tz":{"type":"STRING"},"utc":{"type":"BOOLEAN"}}}}]}])";

std::vector<std::string> names(const std::vector<Event>& events) {
    std::vector<std::string> out;
    for (const auto& e : events) {
        out.push_back(e.event);
    }
    return out;
}

class MockProvidersTest : public ::testing::Test {
protected:
    void SetUp() override { port_ = mock_.start(); }

    Headers with(Headers base, const Headers& extra) const {
        base.insert(base.end(), extra.begin(), extra.end());
        return base;
    }

    MockUpstream mock_{"127.0.0.1", 0};
    std::uint16_t port_ = 0;
};

// ---- Anthropic ------------------------------------------------------------------------------

TEST_F(MockProvidersTest, AnthropicMessageHasAnthropicShape) {
    Client client(port_);
    auto res = client.call(http::verb::post,
                           "/v1/messages",
                           kAnthropicBody + R"(,"mock":{"cache_read_tokens":5,)"
                                            R"("cache_creation_tokens":3}})",
                           kAnthropicHeaders);
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_EQ(str(res["request-id"]), "req_mock_1");
    EXPECT_EQ(str(res["x-request-id"]), "mock-1");
    EXPECT_EQ(str(res["anthropic-ratelimit-requests-remaining"]), "3999");
    EXPECT_TRUE(res["openai-version"].empty());
    EXPECT_TRUE(res["x-ratelimit-limit-requests"].empty());

    const json::object o = json::parse(res.body()).as_object();
    EXPECT_EQ(o.at("id"), "msg_mock_1");
    EXPECT_EQ(o.at("type"), "message");
    EXPECT_EQ(o.at("role"), "assistant");
    EXPECT_EQ(o.at("model"), "claude-sonnet-4-6");
    ASSERT_EQ(o.at("content").as_array().size(), 1U);
    EXPECT_EQ(o.at("content").at(0).at("type"), "text");
    EXPECT_EQ(o.at("content").at(0).at("text"), "Hello! This is the mock upstream.");
    EXPECT_EQ(o.at("stop_reason"), "end_turn");
    EXPECT_TRUE(o.at("stop_sequence").is_null());
    const json::object& u = o.at("usage").as_object();
    EXPECT_EQ(u.at("input_tokens"), 7);
    EXPECT_EQ(u.at("output_tokens"), 6);
    EXPECT_EQ(u.at("cache_read_input_tokens"), 5);
    EXPECT_EQ(u.at("cache_creation_input_tokens"), 3);
}

TEST_F(MockProvidersTest, AnthropicToolUseAndMaxTokens) {
    Client client(port_);
    auto res = client.call(http::verb::post,
                           "/v1/messages",
                           kAnthropicBody + kAnthropicTools + R"(,"mock":{"tool_calls":true}})",
                           kAnthropicHeaders);
    ASSERT_EQ(res.result_int(), 200);
    const json::value o = json::parse(res.body());
    EXPECT_EQ(o.at("stop_reason"), "tool_use");
    ASSERT_EQ(o.at("content").as_array().size(), 1U);
    const json::value& block = o.at("content").at(0);
    EXPECT_EQ(block.at("type"), "tool_use");
    EXPECT_EQ(block.at("id"), "toolu_mock_1");
    EXPECT_EQ(block.at("name"), "lookup");
    EXPECT_EQ(block.at("input"), json::parse(R"({"q":"mock","limit":1})"));

    // max_tokens below the planned pieces truncates the text: stop_reason max_tokens.
    auto cut = client.call(http::verb::post,
                           "/v1/messages",
                           R"({"model":"c","max_tokens":2,"messages":[]})",
                           kAnthropicHeaders);
    const json::value c = json::parse(cut.body());
    EXPECT_EQ(c.at("stop_reason"), "max_tokens");
    EXPECT_EQ(c.at("content").at(0).at("text"), "Hello! This");
    EXPECT_EQ(c.at("usage").at("output_tokens"), 2);

    // OpenAI finish reasons are translated.
    auto fr = client.call(http::verb::post,
                          "/v1/messages",
                          kAnthropicBody + "}",
                          with(kAnthropicHeaders, {{"x-mock-finish-reason", "length"}}));
    EXPECT_EQ(json::parse(fr.body()).at("stop_reason"), "max_tokens");
}

TEST_F(MockProvidersTest, AnthropicStreamFollowsAnthropicEventOrder) {
    Client client(port_);
    auto res = client.call(http::verb::post,
                           "/a1/v1/messages",
                           R"({"model":"claude-x","max_tokens":64,"stream":true,"messages":[]})",
                           kAnthropicHeaders);
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_EQ(str(res[http::field::content_type]).rfind("text/event-stream", 0), 0U);
    const auto events = parse_sse(res.body());
    const std::vector<std::string> expected = {"message_start",
                                               "content_block_start",
                                               "ping",
                                               "content_block_delta",
                                               "content_block_delta",
                                               "content_block_delta",
                                               "content_block_delta",
                                               "content_block_delta",
                                               "content_block_delta",
                                               "content_block_stop",
                                               "message_delta",
                                               "message_stop"};
    EXPECT_EQ(names(events), expected);
    std::string text;
    for (const auto& e : events) {
        const json::value v = json::parse(e.data);
        EXPECT_EQ(json::value_to<std::string>(v.at("type")), e.event) << e.data;
        if (e.event == "content_block_delta") {
            EXPECT_EQ(v.at("delta").at("type"), "text_delta");
            text += json::value_to<std::string>(v.at("delta").at("text"));
        }
    }
    EXPECT_EQ(text, "Hello! This is the mock upstream.");
    const json::value start = json::parse(events[0].data);
    EXPECT_EQ(start.at("message").at("id"), "msg_mock_1");
    EXPECT_EQ(start.at("message").at("model"), "claude-x");
    EXPECT_TRUE(start.at("message").at("content").as_array().empty());
    EXPECT_TRUE(start.at("message").at("stop_reason").is_null());
    EXPECT_EQ(start.at("message").at("usage").at("input_tokens"), 1);
    const json::value md = json::parse(events[10].data);
    EXPECT_EQ(md.at("delta").at("stop_reason"), "end_turn");
    EXPECT_EQ(md.at("usage").at("output_tokens"), 6);
    EXPECT_EQ(res.body().find("[DONE]"), std::string::npos);
}

TEST_F(MockProvidersTest, AnthropicStreamToolUseBlocksAfterText) {
    Client client(port_);
    auto res = client.call(http::verb::post,
                           "/v1/messages",
                           R"({"model":"c","max_tokens":64,"stream":true,"messages":[])" +
                               kAnthropicTools +
                               R"(,"mock":{"tool_calls":2,"content":"Let me look.","chunks":3}})",
                           kAnthropicHeaders);
    ASSERT_EQ(res.result_int(), 200);
    const auto events = parse_sse(res.body());
    const std::vector<std::string> expected = {"message_start",
                                               "content_block_start",
                                               "ping",
                                               "content_block_delta",
                                               "content_block_delta",
                                               "content_block_delta",
                                               "content_block_stop",
                                               "content_block_start",
                                               "content_block_delta",
                                               "content_block_delta",
                                               "content_block_delta",
                                               "content_block_stop",
                                               "content_block_start",
                                               "content_block_delta",
                                               "content_block_delta",
                                               "content_block_delta",
                                               "content_block_stop",
                                               "message_delta",
                                               "message_stop"};
    ASSERT_EQ(names(events), expected);
    // Tool blocks: index 1 and 2, ids, and argument fragments that reassemble.
    for (const std::size_t open : {7U, 12U}) {
        const json::value start = json::parse(events[open].data);
        const auto index = static_cast<std::int64_t>(open == 7 ? 1 : 2);
        EXPECT_EQ(start.at("index"), index);
        EXPECT_EQ(start.at("content_block").at("type"), "tool_use");
        EXPECT_EQ(start.at("content_block").at("name"), "lookup");
        EXPECT_EQ(start.at("content_block").at("input"), json::object{});
        EXPECT_EQ(start.at("content_block").at("id"),
                  open == 7 ? "toolu_mock_1" : "toolu_mock_1_1");
        std::string args;
        for (std::size_t i = open + 1; i < open + 4; ++i) {
            const json::value d = json::parse(events[i].data);
            EXPECT_EQ(d.at("index"), index);
            EXPECT_EQ(d.at("delta").at("type"), "input_json_delta");
            args += json::value_to<std::string>(d.at("delta").at("partial_json"));
        }
        EXPECT_EQ(json::parse(args), json::parse(R"({"q":"mock","limit":1})"));
        EXPECT_EQ(json::parse(events[open + 4].data).at("index"), index);
    }
    const json::value md = json::parse(events[17].data);
    EXPECT_EQ(md.at("delta").at("stop_reason"), "tool_use");
    EXPECT_EQ(md.at("usage").at("output_tokens"), 9);  // 3 words + 2 x 3 fragments
}

TEST_F(MockProvidersTest, AnthropicErrorsHaveAnthropicShape) {
    Client client(port_);
    auto limited = client.call(
        http::verb::post,
        "/v1/messages",
        kAnthropicBody + "}",
        with(kAnthropicHeaders, {{"x-mock-status", "429"}, {"x-mock-retry-after", "7"}}));
    ASSERT_EQ(limited.result_int(), 429);
    EXPECT_EQ(str(limited[http::field::retry_after]), "7");
    EXPECT_EQ(str(limited["anthropic-ratelimit-requests-remaining"]), "0");
    const json::value e = json::parse(limited.body());
    EXPECT_EQ(e.at("type"), "error");
    EXPECT_EQ(e.at("error").at("type"), "rate_limit_error");
    EXPECT_EQ(e.at("request_id"), "req_mock_1");

    auto overloaded = client.call(http::verb::post,
                                  "/v1/messages",
                                  kAnthropicBody + R"(,"mock":{"status":529}})",
                                  kAnthropicHeaders);
    ASSERT_EQ(overloaded.result_int(), 529);
    EXPECT_EQ(json::parse(overloaded.body()).at("error").at("type"), "overloaded_error");

    auto too_long = client.call(http::verb::post,
                                "/v1/messages",
                                kAnthropicBody + R"(,"mock":{"error":"prompt_too_long"}})",
                                kAnthropicHeaders);
    ASSERT_EQ(too_long.result_int(), 400);
    const json::value t = json::parse(too_long.body()).at("error");
    EXPECT_EQ(t.at("type"), "invalid_request_error");
    EXPECT_EQ(json::value_to<std::string>(t.at("message")).rfind("prompt is too long: ", 0), 0U);

    // The provider's own checks: credentials, version header, required fields.
    auto no_key = client.call(http::verb::post,
                              "/v1/messages",
                              kAnthropicBody + "}",
                              {{"anthropic-version", "2023-06-01"}});
    EXPECT_EQ(no_key.result_int(), 401);
    EXPECT_EQ(json::parse(no_key.body()).at("error").at("type"), "authentication_error");
    auto no_version =
        client.call(http::verb::post, "/v1/messages", kAnthropicBody + "}", {{"x-api-key", "k"}});
    EXPECT_EQ(no_version.result_int(), 400);
    auto no_max = client.call(
        http::verb::post, "/v1/messages", R"({"model":"c","messages":[]})", kAnthropicHeaders);
    EXPECT_EQ(no_max.result_int(), 400);
    EXPECT_EQ(json::parse(no_max.body()).at("error").at("message"), "max_tokens: Field required");
}

TEST_F(MockProvidersTest, AnthropicStreamFaults) {
    Client client(port_);
    const std::string body = R"({"model":"c","max_tokens":64,"stream":true,"messages":[]})";
    // no_done: everything but message_stop.
    auto no_stop = client.call(
        http::verb::post, "/v1/messages", body, with(kAnthropicHeaders, {{"x-mock-no-done", "1"}}));
    auto events = parse_sse(no_stop.body());
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.back().event, "message_delta");

    // stream_error_after: an `event: error` replaces the rest of the stream.
    auto errored = client.call(http::verb::post,
                               "/v1/messages",
                               body,
                               with(kAnthropicHeaders, {{"x-mock-stream-error-after", "4"}}));
    events = parse_sse(errored.body());
    ASSERT_EQ(events.size(), 5U);
    EXPECT_EQ(events[3].event, "content_block_delta");
    EXPECT_EQ(events[4].event, "error");
    const json::value err = json::parse(events[4].data);
    EXPECT_EQ(err.at("type"), "error");
    EXPECT_EQ(err.at("error").at("type"), "overloaded_error");

    // malformed_after, paced.
    auto malformed = client.call(http::verb::post,
                                 "/v1/messages",
                                 body,
                                 with(kAnthropicHeaders,
                                      {{"x-mock-malformed-after", "2"},
                                       {"x-mock-inter-chunk-ms", "1"},
                                       {"x-mock-chunks", "1"}}));
    events = parse_sse(malformed.body());
    ASSERT_EQ(events.size(), 8U);
    EXPECT_EQ(events[2].event, "content_block_delta");
    EXPECT_EQ(events[2].data, "{not json");
    EXPECT_EQ(events.back().event, "message_stop");
}

TEST_F(MockProvidersTest, AnthropicRecordsHeadersCountsTokensAndCancellations) {
    mock_.push_script({.tag = "a1", .path = "count_tokens", .directives = {{"prompt_tokens", 42}}});
    Client client(port_);
    auto counted = client.call(
        http::verb::post,
        "/a1/v1/messages/count_tokens",
        R"({"model":"claude-x","system":"sys","messages":[{"role":"user","content":"hi"}]})",
        kAnthropicHeaders);
    ASSERT_EQ(counted.result_int(), 200);
    EXPECT_EQ(json::parse(counted.body()), json::parse(R"({"input_tokens":42})"));
    auto estimate = client.call(
        http::verb::post,
        "/v1/messages/count_tokens",
        R"({"model":"c","system":"You are terse.","messages":[{"role":"user","content":[)"
        R"({"type":"text","text":"sixteen chars!!!"}]}]})",
        kAnthropicHeaders);
    EXPECT_EQ(json::parse(estimate.body()).at("input_tokens"), 7);  // (14 + 16) / 4

    const auto recorded = mock_.requests("a1");
    ASSERT_EQ(recorded.size(), 1U);
    EXPECT_EQ(recorded[0].path, "/a1/v1/messages/count_tokens");
    EXPECT_EQ(recorded[0].header("x-api-key"), "sk-ant-test");
    EXPECT_EQ(recorded[0].header("anthropic-version"), "2023-06-01");
    EXPECT_EQ(recorded[0].body_json().at("model"), "claude-x");
    EXPECT_EQ(mock_.stats().by_path.at("/v1/messages/count_tokens"), 1U);

    {
        Client leaving(port_);
        leaving.write(http::verb::post,
                      "/v1/messages",
                      R"({"model":"c","max_tokens":9,"stream":true,"messages":[],)"
                      R"("mock":{"stall_after":3}})",
                      kAnthropicHeaders);
        std::string got;
        std::array<char, 1024> buf{};
        while (got.find("event: ping") == std::string::npos) {
            got.append(buf.data(), leaving.socket().read_some(net::buffer(buf)));
        }
    }
    EXPECT_TRUE(mock_.wait_for([](const Stats& s) { return s.cancelled_streams == 1; }, 5s));
    EXPECT_TRUE(mock_.wait_for([](const Stats& s) { return s.active == 0; }, 5s));
}

TEST_F(MockProvidersTest, DirectivePrecedenceHoldsOnProviderRoutes) {
    mock_.push_script({.tag = "", .times = 1, .directives = {{"status", 500}}});
    Client client(port_);
    auto res = client.call(http::verb::post,
                           "/v1/messages",
                           kAnthropicBody + R"(,"mock":{"status":503}})",
                           with(kAnthropicHeaders, {{"x-mock-status", "529"}}));
    EXPECT_EQ(res.result_int(), 529);  // header > body > script; the script entry is consumed
    auto body_wins = client.call(http::verb::post,
                                 std::string(kGeminiGenerate),
                                 kGeminiBody + R"(,"mock":{"status":503}})",
                                 kGeminiHeaders);
    EXPECT_EQ(body_wins.result_int(), 503);
    EXPECT_EQ(json::parse(body_wins.body()).at("error").at("status"), "UNAVAILABLE");
    auto plain =
        client.call(http::verb::post, "/v1/messages", kAnthropicBody + "}", kAnthropicHeaders);
    EXPECT_EQ(plain.result_int(), 200);
}

// ---- Azure ----------------------------------------------------------------------------------

TEST_F(MockProvidersTest, AzureRequiresApiVersionAndRecordsIt) {
    Client client(port_);
    const std::string body = R"({"messages":[{"role":"user","content":"hi"}]})";
    auto missing = client.call(
        http::verb::post, "/openai/deployments/gpt4o-prod/chat/completions", body, kAzureHeaders);
    ASSERT_EQ(missing.result_int(), 404);
    EXPECT_EQ(json::parse(missing.body()),
              json::parse(R"({"error":{"code":"404","message":"Resource not found"}})"));

    auto no_key = client.call(http::verb::post, std::string(kAzureChat), body);
    EXPECT_EQ(no_key.result_int(), 401);

    auto ok = client.call(http::verb::post, std::string(kAzureChat), body, kAzureHeaders);
    ASSERT_EQ(ok.result_int(), 200);
    EXPECT_FALSE(ok["apim-request-id"].empty());
    const json::value o = json::parse(ok.body());
    EXPECT_EQ(o.at("model"), "gpt4o-prod");  // the deployment, as no model was sent
    EXPECT_EQ(o.at("prompt_filter_results").at(0).at("prompt_index"), 0);
    EXPECT_EQ(o.at("choices").at(0).at("content_filter_results").at("hate").at("filtered"), false);

    const auto recorded = mock_.requests("openai/deployments/gpt4o-prod");
    ASSERT_EQ(recorded.size(), 3U);
    EXPECT_EQ(recorded[0].query, "");
    EXPECT_EQ(recorded[2].query, "api-version=2024-10-21");
    EXPECT_EQ(recorded[2].header("api-key"), "azure-key");

    auto emb = client.call(http::verb::post,
                           "/openai/deployments/emb/embeddings?api-version=2024-10-21",
                           R"({"input":["a","b"]})",
                           kAzureHeaders);
    ASSERT_EQ(emb.result_int(), 200);
    EXPECT_EQ(json::parse(emb.body()).at("data").as_array().size(), 2U);
}

TEST_F(MockProvidersTest, AzureStreamOpensWithFilterResults) {
    Client client(port_);
    auto res = client.call(
        http::verb::post,
        std::string(kAzureChat),
        R"({"stream":true,"messages":[{"role":"user","content":"hi"}],"mock":{"chunks":2}})",
        kAzureHeaders);
    const auto events = parse_sse(res.body());
    ASSERT_EQ(events.size(), 6U);  // filter results, role, 2 pieces, finish, [DONE]
    const json::value first = json::parse(events[0].data);
    EXPECT_TRUE(first.at("choices").as_array().empty());
    EXPECT_EQ(first.at("id"), "");
    EXPECT_TRUE(first.at("prompt_filter_results").is_array());
    EXPECT_EQ(json::parse(events[1].data).at("choices").at(0).at("delta").at("role"), "assistant");
    EXPECT_EQ(events.back().data, "[DONE]");
}

TEST_F(MockProvidersTest, AzureErrorsHaveAzureShape) {
    Client client(port_);
    auto limited =
        client.call(http::verb::post,
                    std::string(kAzureChat),
                    R"({"messages":[]})",
                    with(kAzureHeaders, {{"x-mock-status", "429"}, {"x-mock-retry-after", "2"}}));
    ASSERT_EQ(limited.result_int(), 429);
    EXPECT_EQ(str(limited[http::field::retry_after]), "2");
    EXPECT_EQ(str(limited["retry-after-ms"]), "2000");
    const json::value e = json::parse(limited.body()).at("error");
    EXPECT_EQ(e.at("code"), "429");
    EXPECT_NE(json::value_to<std::string>(e.at("message")).find("2024-10-21"), std::string::npos);

    auto filtered = client.call(http::verb::post,
                                std::string(kAzureChat),
                                R"({"messages":[],"mock":{"error":"content_filter"}})",
                                kAzureHeaders);
    ASSERT_EQ(filtered.result_int(), 400);
    const json::value f = json::parse(filtered.body()).at("error");
    EXPECT_EQ(f.at("code"), "content_filter");
    EXPECT_EQ(f.at("innererror").at("code"), "ResponsibleAIPolicyViolation");

    // Other errors are the OpenAI ones Azure relays.
    auto ctx = client.call(http::verb::post,
                           std::string(kAzureChat),
                           R"({"messages":[],"mock":{"error":"context_length_exceeded"}})",
                           kAzureHeaders);
    EXPECT_EQ(json::parse(ctx.body()).at("error").at("code"), "context_length_exceeded");
}

// ---- Gemini ---------------------------------------------------------------------------------

TEST_F(MockProvidersTest, GeminiGenerateContentHasGeminiShape) {
    Client client(port_);
    auto res = client.call(http::verb::post,
                           "/g1/v1beta/models/gemini-2.0-flash:generateContent?key=query-key",
                           kGeminiBody + R"(,"systemInstruction":{"parts":[{"text":"abcd"}]}})",
                           kGeminiHeaders);
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_TRUE(res["openai-version"].empty());
    const json::value o = json::parse(res.body());
    const json::value& cand = o.at("candidates").at(0);
    EXPECT_EQ(cand.at("content").at("role"), "model");
    EXPECT_EQ(cand.at("content").at("parts").at(0).at("text"), "Hello! This is the mock upstream.");
    EXPECT_EQ(cand.at("finishReason"), "STOP");
    EXPECT_EQ(cand.at("index"), 0);
    EXPECT_EQ(
        o.at("usageMetadata"),
        json::parse(R"({"promptTokenCount":8,"candidatesTokenCount":6,"totalTokenCount":14})"));
    EXPECT_EQ(o.at("modelVersion"), "gemini-2.0-flash");

    const auto recorded = mock_.requests("g1");
    ASSERT_EQ(recorded.size(), 1U);
    EXPECT_EQ(recorded[0].path, "/g1/v1beta/models/gemini-2.0-flash:generateContent");
    EXPECT_EQ(recorded[0].query, "key=query-key");
    EXPECT_EQ(recorded[0].header("x-goog-api-key"), "gem-key");

    // The key may come from the query alone (recorded; the gateway must use the header).
    auto query_only = client.call(
        http::verb::post, "/v1/models/gemini-1.5-pro:generateContent?key=k", kGeminiBody + "}");
    EXPECT_EQ(query_only.result_int(), 200);
    EXPECT_EQ(json::parse(query_only.body()).at("modelVersion"), "gemini-1.5-pro");
    auto no_key = client.call(http::verb::post, std::string(kGeminiGenerate), kGeminiBody + "}");
    EXPECT_EQ(no_key.result_int(), 403);
    EXPECT_EQ(json::parse(no_key.body()).at("error").at("status"), "PERMISSION_DENIED");
}

TEST_F(MockProvidersTest, GeminiFunctionCallsAndMaxTokens) {
    Client client(port_);
    auto res = client.call(http::verb::post,
                           std::string(kGeminiGenerate),
                           kGeminiBody + kGeminiTools + R"(,"mock":{"tool_calls":2}})",
                           kGeminiHeaders);
    const json::value o = json::parse(res.body());
    const json::array& parts = o.at("candidates").at(0).at("content").at("parts").as_array();
    ASSERT_EQ(parts.size(), 2U);
    for (const auto& p : parts) {
        EXPECT_EQ(p.at("functionCall").at("name"), "get_time");
        EXPECT_EQ(p.at("functionCall").at("args"), json::parse(R"({"tz":"mock","utc":true})"));
    }
    EXPECT_EQ(o.at("candidates").at(0).at("finishReason"), "STOP");

    auto cut = client.call(http::verb::post,
                           std::string(kGeminiGenerate),
                           kGeminiBody + R"(,"generationConfig":{"maxOutputTokens":3}})",
                           kGeminiHeaders);
    const json::value c = json::parse(cut.body());
    EXPECT_EQ(c.at("candidates").at(0).at("finishReason"), "MAX_TOKENS");
    EXPECT_EQ(c.at("candidates").at(0).at("content").at("parts").at(0).at("text"),
              "Hello! This is");
}

TEST_F(MockProvidersTest, GeminiStreamIsSseWithoutDone) {
    Client client(port_);
    auto res = client.call(
        http::verb::post,
        std::string(kGeminiStream),
        kGeminiBody + kGeminiTools + R"(,"mock":{"tool_calls":true,"content":"One moment"}})",
        kGeminiHeaders);
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_EQ(str(res[http::field::content_type]), "text/event-stream");
    EXPECT_NE(res.body().find("}\r\n\r\ndata: "), std::string::npos);  // Google's CRLF framing
    EXPECT_EQ(res.body().find("[DONE]"), std::string::npos);
    const auto events = parse_sse(res.body());
    ASSERT_EQ(events.size(), 3U);  // "One", " moment", the function call
    std::string text;
    for (std::size_t i = 0; i < events.size(); ++i) {
        EXPECT_TRUE(events[i].event.empty());
        const json::value v = json::parse(events[i].data);
        const json::value& cand = v.at("candidates").at(0);
        const bool last = i + 1 == events.size();
        EXPECT_EQ(cand.as_object().contains("finishReason"), last);
        EXPECT_EQ(v.at("usageMetadata").at("candidatesTokenCount"),
                  static_cast<std::int64_t>(last ? 6 : i + 1));  // cumulative; 2 words + 4
        if (!last) {
            text += json::value_to<std::string>(cand.at("content").at("parts").at(0).at("text"));
        } else {
            EXPECT_EQ(cand.at("finishReason"), "STOP");
            EXPECT_EQ(cand.at("content").at("parts").at(0).at("functionCall").at("name"),
                      "get_time");
        }
    }
    EXPECT_EQ(text, "One moment");

    // Without alt=sse: the same responses as one JSON array.
    auto array = client.call(http::verb::post,
                             "/v1beta/models/gemini-2.0-flash:streamGenerateContent",
                             kGeminiBody + R"(,"mock":{"chunks":2}})",
                             kGeminiHeaders);
    const json::value a = json::parse(array.body());
    ASSERT_EQ(a.as_array().size(), 2U);
    EXPECT_EQ(a.at(1).at("candidates").at(0).at("finishReason"), "STOP");
}

TEST_F(MockProvidersTest, GeminiErrorsAndBlockedPrompts) {
    Client client(port_);
    auto limited =
        client.call(http::verb::post,
                    std::string(kGeminiGenerate),
                    kGeminiBody + "}",
                    with(kGeminiHeaders, {{"x-mock-status", "429"}, {"x-mock-retry-after", "3"}}));
    ASSERT_EQ(limited.result_int(), 429);
    const json::value e = json::parse(limited.body()).at("error");
    EXPECT_EQ(e.at("code"), 429);
    EXPECT_EQ(e.at("status"), "RESOURCE_EXHAUSTED");
    EXPECT_EQ(e.at("details").at(0).at("retryDelay"), "3s");
    EXPECT_EQ(str(limited[http::field::retry_after]), "3");

    auto too_long = client.call(http::verb::post,
                                std::string(kGeminiGenerate),
                                kGeminiBody + R"(,"mock":{"error":"context_length_exceeded"}})",
                                kGeminiHeaders);
    ASSERT_EQ(too_long.result_int(), 400);
    EXPECT_NE(json::value_to<std::string>(json::parse(too_long.body()).at("error").at("message"))
                  .find("exceeds the maximum number of tokens"),
              std::string::npos);

    auto blocked = client.call(http::verb::post,
                               std::string(kGeminiGenerate),
                               kGeminiBody + R"(,"mock":{"error":"content_policy_violation"}})",
                               kGeminiHeaders);
    ASSERT_EQ(blocked.result_int(), 200);
    const json::value b = json::parse(blocked.body());
    EXPECT_EQ(b.at("promptFeedback").at("blockReason"), "SAFETY");
    EXPECT_FALSE(b.as_object().contains("candidates"));

    auto no_contents =
        client.call(http::verb::post, std::string(kGeminiGenerate), R"({"x":1})", kGeminiHeaders);
    EXPECT_EQ(no_contents.result_int(), 400);
    EXPECT_EQ(json::parse(no_contents.body()).at("error").at("status"), "INVALID_ARGUMENT");
}

TEST_F(MockProvidersTest, GeminiStreamFaults) {
    Client client(port_);
    auto no_finish = client.call(http::verb::post,
                                 std::string(kGeminiStream),
                                 kGeminiBody + R"(,"mock":{"no_done":true,"chunks":2}})",
                                 kGeminiHeaders);
    auto events = parse_sse(no_finish.body());
    ASSERT_EQ(events.size(), 2U);
    EXPECT_FALSE(
        json::parse(events[1].data).at("candidates").at(0).as_object().contains("finishReason"));

    auto errored = client.call(http::verb::post,
                               std::string(kGeminiStream),
                               kGeminiBody + R"(,"mock":{"stream_error_after":1}})",
                               kGeminiHeaders);
    events = parse_sse(errored.body());
    ASSERT_EQ(events.size(), 2U);
    EXPECT_EQ(json::parse(events[1].data).at("error").at("status"), "INTERNAL");

    client.write(http::verb::post,
                 std::string(kGeminiStream),
                 kGeminiBody + R"(,"mock":{"cut_after":2,"ttft_ms":1}})",
                 kGeminiHeaders);
    beast::error_code ec;
    http::response_parser<http::string_body> parser;
    beast::flat_buffer buffer;
    http::read(client.socket(), buffer, parser, ec);
    EXPECT_EQ(ec, http::error::partial_message);
    EXPECT_EQ(parse_sse(parser.get().body()).size(), 2U);
}

// ---- OpenAI parallel tool calls -------------------------------------------------------------

TEST_F(MockProvidersTest, OpenAiParallelToolCalls) {
    Client client(port_);
    const std::string body =
        R"({"model":"gpt-4o","messages":[],"tools":[)"
        R"({"type":"function","function":{"name":"a","parameters":{"type":"object",)"
        R"("properties":{"x":{"type":"string"}}}}},)"
        R"({"type":"function","function":{"name":"b","parameters":{"type":"object",)"
        R"("properties":{"y":{"type":"integer"}}}}}],"mock":{"tool_calls":2,"chunks":2})";
    auto res = client.call(http::verb::post, "/v1/chat/completions", body + "}");
    const json::value calls =
        json::parse(res.body()).at("choices").at(0).at("message").at("tool_calls");
    ASSERT_EQ(calls.as_array().size(), 2U);
    EXPECT_EQ(calls.at(0).at("id"), "call_mock_1");
    EXPECT_EQ(calls.at(1).at("id"), "call_mock_1_1");
    EXPECT_EQ(calls.at(1).at("function").at("name"), "b");
    EXPECT_EQ(calls.at(1).at("function").at("arguments"), R"({"y":1})");

    auto stream =
        client.call(http::verb::post, "/v1/chat/completions", body + R"(,"stream":true})");
    std::array<std::string, 2> args;
    std::array<std::string, 2> names_seen;
    for (const auto& e : parse_sse(stream.body())) {
        if (e.data == "[DONE]") {
            continue;
        }
        const json::value delta = json::parse(e.data).at("choices").at(0).at("delta");
        if (!delta.as_object().contains("tool_calls")) {
            continue;
        }
        const json::value& call = delta.at("tool_calls").at(0);
        const auto k = static_cast<std::size_t>(call.at("index").as_int64());
        ASSERT_LT(k, 2U);
        if (call.as_object().contains("id")) {
            names_seen[k] = json::value_to<std::string>(call.at("function").at("name"));
        }
        args[k] += json::value_to<std::string>(call.at("function").at("arguments"));
    }
    EXPECT_EQ(names_seen[0], "a");
    EXPECT_EQ(names_seen[1], "b");
    EXPECT_EQ(args[0], R"({"x":"mock"})");
    EXPECT_EQ(args[1], R"({"y":1})");
}

// ---- lifecycle and pure builders ------------------------------------------------------------

TEST(MockProvidersLifecycle, StopsWithProviderStreamsSuspended) {
    MockUpstream mock("127.0.0.1", 0, 1);
    const std::uint16_t port = mock.start();
    struct Call {
        std::string target;
        std::string body;
        Headers headers;
    };
    const std::vector<Call> calls = {
        {"/v1/messages",
         R"({"model":"c","max_tokens":5,"stream":true,"messages":[],"mock":{"stall_after":2}})",
         kAnthropicHeaders},
        {"/v1/messages",
         R"({"model":"c","max_tokens":5,"messages":[],"mock":{"delay_ms":60000}})",
         kAnthropicHeaders},
        {std::string(kGeminiStream),
         R"({"contents":[],"mock":{"inter_chunk_ms":60000}})",
         kGeminiHeaders},
        {std::string(kAzureChat),
         R"({"messages":[],"stream":true,"mock":{"ttft_ms":60000}})",
         kAzureHeaders},
    };
    std::vector<std::unique_ptr<Client>> clients;
    for (const auto& c : calls) {
        clients.push_back(std::make_unique<Client>(port));
        clients.back()->write(http::verb::post, c.target, c.body, c.headers);
    }
    ASSERT_TRUE(mock.wait_for(
        [&](const Stats& s) { return s.active == calls.size() && s.total == calls.size(); }, 5s));
    mock.stop();
    EXPECT_EQ(mock.stats().active, 0U);
    EXPECT_EQ(mock.stats().open_connections, 0U);
}

TEST(MockProviderBuilders, ToolSchemasInEveryForm) {
    const json::object openai =
        json::parse(
            R"({"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object",)"
            R"("properties":{"a":{"type":"number"}}}}}]})")
            .as_object();
    const json::object anthropic =
        json::parse(R"({"tools":[{"name":"g","input_schema":{"type":"object","properties":)"
                    R"({"b":{"enum":["x","y"]}}}}]})")
            .as_object();
    const json::object gemini =
        json::parse(
            R"({"tools":[{"functionDeclarations":[{"name":"h","parameters":{"type":"OBJECT",)"
            R"("properties":{"c":{"type":"ARRAY"}}}}]}]})")
            .as_object();
    EXPECT_EQ(tool_arguments_for(openai, ""), R"({"a":1})");
    EXPECT_EQ(tool_arguments_for(anthropic, "g"), R"({"b":"x"})");
    EXPECT_EQ(tool_arguments_for(gemini, ""), R"({"c":[]})");
    EXPECT_EQ(request_tool_names(gemini), std::vector<std::string>{"h"});
    EXPECT_EQ(tool_arguments_for(gemini, "missing"), R"({"location":"San Francisco, CA"})");
}

TEST(MockProviderBuilders, ToolCallsDirectiveTakesACount) {
    Directives d;
    ASSERT_FALSE(parse_directives(json::object{{"tool_calls", "3"}}, d).has_value());
    EXPECT_EQ(d.tool_calls, 3);
    ASSERT_FALSE(parse_directives(json::object{{"tool_calls", true}}, d).has_value());
    EXPECT_EQ(d.tool_calls, 1);
    ASSERT_FALSE(parse_directives(json::object{{"tool_calls", "false"}}, d).has_value());
    EXPECT_EQ(d.tool_calls, 0);
    ASSERT_FALSE(parse_directives(json::object{{"cache_read_tokens", "12"}}, d).has_value());
    EXPECT_EQ(d.cache_read_tokens, 12);
    Directives bad;
    EXPECT_TRUE(parse_directives(json::object{{"tool_calls", 129}}, bad).has_value());
    EXPECT_TRUE(parse_directives(json::object{{"tool_calls", "maybe"}}, bad).has_value());
    EXPECT_TRUE(parse_directives(json::object{{"cache_creation_tokens", -1}}, bad).has_value());
}

TEST(MockProviderBuilders, AnthropicStreamWithoutMessageStop) {
    Directives d;
    d.chunks = 0;
    const Reply r = plan_reply(7, false, "claude", d, json::object{}, Flavor::kAnthropic);
    const auto events = anthropic_stream_events(r, false);
    std::vector<std::string> got;
    for (const auto& e : events) {
        got.push_back(e.event);
    }
    EXPECT_EQ(got,
              (std::vector<std::string>{"message_start",
                                        "content_block_start",
                                        "ping",
                                        "content_block_stop",
                                        "message_delta"}));
    EXPECT_EQ(r.id, "msg_mock_7");
}

}  // namespace
}  // namespace sy::mock
