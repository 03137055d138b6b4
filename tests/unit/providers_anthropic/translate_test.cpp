// Property tests for providers/anthropic that golden files express poorly: the providers.md
// §1.9 example verbatim, fragment reassembly, chunk invariants, round trips, error tables.

#include "sy/providers/anthropic/translate.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <cstdio>
#include <map>

namespace sy::providers::anthropic {
namespace {

namespace json = boost::json;

json::object obj(std::string_view text) { return json::parse(text).as_object(); }

// ---- providers.md §1.9, byte for byte the reference's upstream body (semantically).
TEST(OpenAIToAnthropicRequest, ReferenceExampleVerbatim) {
    json::object in =
        obj(R"({"model":"claude-quality","max_tokens":256,"stop":"END","user":"svc-42",
 "messages":[{"role":"system","content":"Be brief."},
  {"role":"user","content":[{"type":"text","text":"What is this?"},
    {"type":"image_url","image_url":{"url":"data:image/png;base64,iVBORw0KGgo="}}]},
  {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",
    "function":{"name":"lookup","arguments":"{\"q\":\"cat\"}"}}]},
  {"role":"tool","tool_call_id":"call_1","content":"a cat"}],
 "tools":[{"type":"function","function":{"name":"lookup","description":"search",
   "parameters":{"type":"object","properties":{"q":{"type":"string"}}}}}],
 "tool_choice":"auto"})");
    json::value want = json::parse(
        R"({"model":"claude-sonnet-4-6","max_tokens":256,"stop_sequences":["END"],
 "metadata":{"user_id":"svc-42"},
 "system":[{"type":"text","text":"Be brief."}],
 "messages":[
  {"role":"user","content":[{"type":"text","text":"What is this?"},
    {"type":"image","source":{"type":"base64","media_type":"image/png","data":"iVBORw0KGgo="}}]},
  {"role":"assistant","content":[{"type":"tool_use","id":"call_1","name":"lookup",
    "input":{"q":"cat"}}]},
  {"role":"user","content":[{"type":"tool_result","tool_use_id":"call_1","content":"a cat"}]}],
 "tools":[{"name":"lookup","description":"search",
   "input_schema":{"type":"object","properties":{"q":{"type":"string"}}}}],
 "tool_choice":{"type":"auto"}})");
    RequestOptions opts;
    opts.upstream_model = "claude-sonnet-4-6";
    auto r = openai_to_anthropic_request(in, opts);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(json::parse(*r), want) << *r;
}

TEST(OpenAIToAnthropicRequest, NullParamsAreAbsentAndAdditionalDropWinsOverSupport) {
    RequestOptions opts;
    opts.upstream_model = "m";
    opts.additional_drop_params = {"temperature", "n"};
    auto r = openai_to_anthropic_request(
        obj(R"({"model":"x","messages":[{"role":"user","content":"hi"}],"temperature":0.5,"n":3,
               "seed":null})"),
        opts);
    ASSERT_TRUE(r) << r.error().message;
    json::object out = json::parse(*r).as_object();
    EXPECT_FALSE(out.contains("temperature"));
    EXPECT_FALSE(out.contains("n"));
    EXPECT_FALSE(out.contains("seed"));
}

TEST(OpenAIToAnthropicRequest, UnsupportedParamErrorNamesEveryParam) {
    RequestOptions opts;
    opts.upstream_model = "claude-x";
    auto r = openai_to_anthropic_request(
        obj(R"({"model":"x","messages":[{"role":"user","content":"hi"}],"seed":1,"audio":{}})"),
        opts);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().http_status(), 400);
    EXPECT_EQ(r.error().http_type(), "invalid_request_error");
    EXPECT_EQ(r.error().message.rfind("litellm.UnsupportedParamsError: anthropic does not support "
                                      "parameters: ['seed', 'audio'], for model=claude-x.",
                                      0),
              0u)
        << r.error().message;
}

// ---- Tool-call fragments: never dropped, reassemble to identical JSON.

std::string big_arguments() {
    std::string args = R"({"query":"weather in \"Paris\" \u00e9t\u00e9","days":[1,2,3],"opts":{)";
    for (int i = 0; i < 40; ++i) {
        args += (i ? "," : "") + std::string("\"k") + std::to_string(i) + "\":" + std::to_string(i);
    }
    return args + "}}";
}

// Exactly n non-empty pieces (s.size() >= n), cutting anywhere, including inside escapes.
std::vector<std::string> split_n(const std::string& s, std::size_t n) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i) {
        std::size_t a = i * s.size() / n;
        std::size_t b = (i + 1) * s.size() / n;
        out.push_back(s.substr(a, b - a));
    }
    return out;
}

TEST(StreamToOpenAI, FiftyFragmentToolCallReassemblesIdentically) {
    const std::string args = big_arguments();
    auto frags = split_n(args, 50);
    ASSERT_EQ(frags.size(), 50u);
    StreamToOpenAI t("claude-quality", true, 1767225600);
    std::vector<std::string> chunks;
    auto feed = [&](std::string_view type, const std::string& data) {
        auto r = t.on_event(type, data);
        ASSERT_TRUE(r) << r.error().message;
        chunks.insert(chunks.end(), r->begin(), r->end());
    };
    feed("message_start",
         R"({"type":"message_start","message":{"id":"msg_1","usage":{"input_tokens":3}}})");
    feed("content_block_start",
         R"({"type":"content_block_start","index":0,"content_block":{"type":"tool_use","id":"toolu)"
         R"(_1)"
         R"(","name":"search","input":{}}})");
    for (const auto& f : frags) {
        json::object ev{{"type", "content_block_delta"},
                        {"index", 0},
                        {"delta", json::object{{"type", "input_json_delta"}, {"partial_json", f}}}};
        feed("content_block_delta", json::serialize(ev));
    }
    feed("content_block_stop", R"({"type":"content_block_stop","index":0})");
    feed("message_delta",
         R"({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens":)"
         R"(9}})");
    feed("message_stop", R"({"type":"message_stop"})");
    auto tail = t.finish();
    chunks.insert(chunks.end(), tail.begin(), tail.end());

    std::string joined;
    int fragments_seen = 0;
    std::string finish;
    for (const auto& c : chunks) {
        json::object o = json::parse(c).as_object();
        EXPECT_EQ(o.at("id"), json::value("msg_1"));
        EXPECT_EQ(o.at("created"), 1767225600);
        EXPECT_EQ(o.at("model"), "claude-quality");
        const json::array& choices = o.at("choices").as_array();
        if (choices.empty()) {
            EXPECT_EQ(o.at("usage").at("prompt_tokens"), 3);
            continue;
        }
        EXPECT_TRUE(o.at("usage").is_null());
        const json::object& delta = choices[0].at("delta").as_object();
        if (const json::value* fr = choices[0].as_object().if_contains("finish_reason");
            fr->is_string()) {
            finish = fr->as_string();
        }
        if (const json::value* tc = delta.if_contains("tool_calls")) {
            const json::object& call = tc->as_array()[0].as_object();
            EXPECT_EQ(call.at("index"), 0);
            joined += call.at("function").at("arguments").as_string();
            ++fragments_seen;
        }
    }
    EXPECT_EQ(fragments_seen, 51);  // the header fragment + 50
    EXPECT_EQ(joined, args);
    EXPECT_EQ(json::parse(joined), json::parse(args));
    EXPECT_EQ(finish, "tool_calls");
    EXPECT_TRUE(t.finish().empty());  // the usage chunk is emitted once
}

json::object openai_chunk(const json::object& delta, std::string_view finish = {}) {
    json::object choice{{"index", 0}, {"delta", delta}};
    choice["finish_reason"] = finish.empty() ? json::value(nullptr) : json::value(finish);
    return json::object{{"id", "chatcmpl-1"}, {"choices", json::array{choice}}};
}

TEST(OpenAIStreamToAnthropic, FiftyFragmentsForTwoInterleavedToolsReassembleIdentically) {
    const std::string a = big_arguments();
    const std::string b = R"({"city":"Z\u00fcrich","when":["today","tomorrow"],"n":12345})";
    auto fa = split_n(a, 50);
    auto fb = split_n(b, 50);
    ASSERT_EQ(fa.size(), 50u);
    ASSERT_EQ(fb.size(), 50u);
    OpenAIStreamToAnthropic t("claude-via-openai");
    std::vector<AnthropicEvent> events;
    auto feed = [&](const std::string& chunk) {
        auto r = t.on_chunk(chunk);
        ASSERT_TRUE(r) << r.error().message;
        events.insert(events.end(), r->begin(), r->end());
    };
    auto call = [](int index, std::string_view id, std::string_view name, std::string_view args) {
        json::object c{{"index", index}, {"function", json::object{{"arguments", args}}}};
        if (!id.empty()) {
            c["id"] = id;
            c["type"] = "function";
            c["function"].as_object()["name"] = name;
        }
        return c;
    };
    feed(json::serialize(openai_chunk({{"tool_calls", json::array{call(0, "call_a", "fa", "")}}})));
    feed(json::serialize(openai_chunk({{"tool_calls", json::array{call(1, "call_b", "fb", "")}}})));
    for (std::size_t i = 0; i < std::max(fa.size(), fb.size()); ++i) {
        if (i < fa.size()) {
            feed(json::serialize(
                openai_chunk({{"tool_calls", json::array{call(0, {}, {}, fa[i])}}})));
        }
        if (i < fb.size()) {
            feed(json::serialize(
                openai_chunk({{"tool_calls", json::array{call(1, {}, {}, fb[i])}}})));
        }
    }
    feed(json::serialize(openai_chunk({}, "tool_calls")));
    feed(R"({"id":"chatcmpl-1","choices":[],"usage":{"prompt_tokens":10,"completion_tokens":5}})");
    feed("[DONE]");
    ASSERT_TRUE(t.finished());

    std::map<std::int64_t, std::string> by_block;
    std::map<std::int64_t, std::string> names;
    std::vector<std::string> order;
    for (const auto& e : events) {
        order.push_back(e.event_type);
        json::object d = json::parse(e.data_json).as_object();
        EXPECT_EQ(d.at("type").as_string(), e.event_type);
        if (e.event_type == "content_block_start") {
            names[d.at("index").as_int64()] = d.at("content_block").at("name").as_string();
        }
        if (e.event_type == "content_block_delta") {
            by_block[d.at("index").as_int64()] += d.at("delta").at("partial_json").as_string();
        }
        if (e.event_type == "message_delta") {
            EXPECT_EQ(d.at("delta").at("stop_reason"), "tool_use");
            EXPECT_EQ(d.at("usage").at("output_tokens"), 5);
        }
    }
    ASSERT_EQ(by_block.size(), 2u);
    EXPECT_EQ(names[0], "fa");
    EXPECT_EQ(names[1], "fb");
    EXPECT_EQ(by_block[0], a);
    EXPECT_EQ(by_block[1], b);
    EXPECT_EQ(order.front(), "message_start");
    EXPECT_EQ(order[order.size() - 2], "message_delta");
    EXPECT_EQ(order.back(), "message_stop");
}

TEST(StreamToOpenAI, ErrorsAreStickyAndFinishEmitsNothing) {
    StreamToOpenAI t("m", true);
    auto r1 = t.on_event("message_start", R"({"type":"message_start","message":{"id":"msg_x"}})");
    ASSERT_TRUE(r1);
    auto r2 = t.on_event("content_block_delta", R"({"type":"content_block_delta","index":0,)");
    ASSERT_FALSE(r2);
    EXPECT_EQ(r2.error().code, Errc::kUpstreamProtocol);
    auto r3 = t.on_event("message_stop", R"({"type":"message_stop"})");
    ASSERT_FALSE(r3);
    EXPECT_EQ(r3.error().message, r2.error().message);
    EXPECT_FALSE(t.finished());
    EXPECT_TRUE(t.finish().empty());
}

TEST(StreamToOpenAI, OverloadedErrorEventIsRetryable503) {
    StreamToOpenAI t("m", false);
    auto r = t.on_event(
        "error", R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().http_status(), 503);
    EXPECT_EQ(r.error().message,
              "litellm.ServiceUnavailableError: AnthropicException - Overloaded");
}

TEST(OpenAIStreamToAnthropic, ErrorsAreStickyAndRenderAsAnthropicErrorEvent) {
    OpenAIStreamToAnthropic t("m");
    ASSERT_TRUE(t.on_chunk(json::serialize(openai_chunk({{"content", "hi"}}))));
    auto r = t.on_chunk(R"({"error":{"message":"slow down","code":"429"}})");
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().http_status(), 429);
    EXPECT_FALSE(t.on_chunk("[DONE]"));
    EXPECT_TRUE(t.finish().empty());
    AnthropicEvent ev = OpenAIStreamToAnthropic::error_event(500, "boom");
    EXPECT_EQ(format_sse(ev),
              "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\","
              "\"message\":\"boom\"}}\n\n");
}

// ---- Round trips through both directions.

TEST(RoundTrip, OpenAIRequestThroughAnthropicAndBack) {
    json::object in = obj(R"({"model":"g","max_tokens":99,"stop":["X"],"temperature":0.5,
      "messages":[{"role":"system","content":"sys"},{"role":"user","content":"q"},
        {"role":"assistant","content":"let me see","tool_calls":[
          {"id":"call_1","type":"function","function":{"name":"f",
            "arguments":"{\"a\":[1,{\"b\":null}]}"}},
          {"id":"call_2","type":"function","function":{"name":"g","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"call_1","content":"r1"},
        {"role":"tool","tool_call_id":"call_2","content":"r2"},
        {"role":"user","content":"thanks"}],
      "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}},
               {"type":"function","function":{"name":"g","parameters":{"type":"object"}}}],
      "tool_choice":"required","parallel_tool_calls":false})");
    RequestOptions opts;
    opts.upstream_model = "claude";
    auto a = openai_to_anthropic_request(in, opts);
    ASSERT_TRUE(a) << a.error().message;
    auto back = anthropic_to_openai_request(json::parse(*a).as_object(), "gpt");
    ASSERT_TRUE(back) << back.error().message;
    json::value want = json::parse(R"({"model":"gpt","max_tokens":99,"stop":["X"],"temperature":0.5,
      "messages":[{"role":"system","content":"sys"},{"role":"user","content":"q"},
        {"role":"assistant","content":"let me see","tool_calls":[
          {"id":"call_1","type":"function","function":{"name":"f",
            "arguments":"{\"a\":[1,{\"b\":null}]}"}},
          {"id":"call_2","type":"function","function":{"name":"g","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"call_1","content":"r1"},
        {"role":"tool","tool_call_id":"call_2","content":"r2"},
        {"role":"user","content":"thanks"}],
      "tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}},
               {"type":"function","function":{"name":"g","parameters":{"type":"object"}}}],
      "tool_choice":"required","parallel_tool_calls":false})");
    EXPECT_EQ(json::parse(*back), want) << *back;
}

TEST(RoundTrip, AnthropicResponseThroughOpenAIAndBack) {
    std::string anth = R"({"id":"msg_9","type":"message","role":"assistant","content":[
        {"type":"text","text":"On it."},
        {"type":"tool_use","id":"toolu_1","name":"f","input":{"x":1}},
        {"type":"tool_use","id":"toolu_2","name":"g","input":{}}],
      "stop_reason":"tool_use","usage":{"input_tokens":7,"cache_read_input_tokens":3,
        "output_tokens":4}})";
    auto oa = anthropic_to_openai_response(anth, "grp");
    ASSERT_TRUE(oa) << oa.error().message;
    auto back = openai_to_anthropic_response(*oa, "grp");
    ASSERT_TRUE(back) << back.error().message;
    json::value want =
        json::parse(R"({"id":"msg_9","type":"message","role":"assistant","model":"grp",
      "content":[{"type":"text","text":"On it."},
        {"type":"tool_use","id":"toolu_1","name":"f","input":{"x":1}},
        {"type":"tool_use","id":"toolu_2","name":"g","input":{}}],
      "stop_reason":"tool_use","stop_sequence":null,
      "usage":{"input_tokens":7,"output_tokens":4,"cache_creation_input_tokens":0,
               "cache_read_input_tokens":3}})");
    EXPECT_EQ(json::parse(*back), want) << *back;
}

TEST(RoundTrip, AnthropicStreamThroughOpenAIChunksAndBack) {
    const char* events[][2] = {
        {"message_start",
         R"({"type":"message_start","message":{"id":"msg_s","usage":{"input_tokens":11,"output_to)"
         R"(ke)"
         R"(ns":1}}})"},
        {"content_block_start",
         R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"},
        {"content_block_delta",
         R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hi \"the)"
         R"(re)"
         R"(\"\n"}})"},
        {"content_block_stop", R"({"type":"content_block_stop","index":0})"},
        {"content_block_start",
         R"({"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"tool)"
         R"(u_)"
         R"(1","name":"f","input":{}}})"},
        {"content_block_delta",
         R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_j)"
         R"(so)"
         R"(n":"{\"a\":"}})"},
        {"content_block_delta",
         R"({"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_j)"
         R"(so)"
         R"(n":"[1,2]}"}})"},
        {"content_block_stop", R"({"type":"content_block_stop","index":1})"},
        {"message_delta",
         R"({"type":"message_delta","delta":{"stop_reason":"tool_use"},"usage":{"output_tokens")"
         R"(:6}})"},
        {"message_stop", R"({"type":"message_stop"})"},
    };
    StreamToOpenAI up("grp", true);
    OpenAIStreamToAnthropic down("grp");
    std::vector<AnthropicEvent> out;
    for (const auto& e : events) {
        auto chunks = up.on_event(e[0], e[1]);
        ASSERT_TRUE(chunks) << chunks.error().message;
        for (const auto& c : *chunks) {
            auto evs = down.on_chunk(c);
            ASSERT_TRUE(evs) << evs.error().message;
            out.insert(out.end(), evs->begin(), evs->end());
        }
    }
    for (const auto& c : up.finish()) {
        auto evs = down.on_chunk(c);
        ASSERT_TRUE(evs) << evs.error().message;
        out.insert(out.end(), evs->begin(), evs->end());
    }
    auto done = down.on_chunk("[DONE]");
    ASSERT_TRUE(done);
    ASSERT_TRUE(down.finished());
    std::string text;
    std::string args;
    std::string stop;
    std::int64_t out_tokens = -1;
    std::string id;
    for (const auto& e : out) {
        json::object d = json::parse(e.data_json).as_object();
        if (e.event_type == "message_start") {
            id = d.at("message").at("id").as_string();
        } else if (e.event_type == "content_block_delta") {
            const json::object& delta = d.at("delta").as_object();
            if (delta.at("type") == "text_delta") {
                text += delta.at("text").as_string();
            } else {
                args += delta.at("partial_json").as_string();
            }
        } else if (e.event_type == "message_delta") {
            stop = d.at("delta").at("stop_reason").as_string();
            out_tokens = d.at("usage").at("output_tokens").as_int64();
        }
    }
    EXPECT_EQ(id, "msg_s");
    EXPECT_EQ(text, "Hi \"there\"\n");
    EXPECT_EQ(args, "{\"a\":[1,2]}");
    EXPECT_EQ(stop, "tool_use");
    EXPECT_EQ(out_tokens, 6);
}

// ---- Errors.

struct ErrCase {
    int status;
    const char* body;
    int want_status;
    const char* want_type;
    const char* want_prefix;
};

class AnthropicErrorMapping : public ::testing::TestWithParam<ErrCase> {};

TEST_P(AnthropicErrorMapping, StatusTypeAndMessage) {
    const ErrCase& c = GetParam();
    Error e = map_anthropic_error(c.status, c.body);
    EXPECT_EQ(e.http_status(), c.want_status);
    EXPECT_EQ(e.http_type(), c.want_type);
    EXPECT_EQ(e.message.rfind(c.want_prefix, 0), 0u) << e.message;
}

INSTANTIATE_TEST_SUITE_P(
    ProvidersMd8,
    AnthropicErrorMapping,
    ::testing::Values(
        ErrCase{
            400,
            R"({"type":"error","error":{"type":"invalid_request_error","message":"prompt is too l)"
            R"(on)"
            R"(g: 1 > 0"}})",
            400,
            "invalid_request_error",
            "litellm.ContextWindowExceededError: AnthropicException - prompt is too long"},
        ErrCase{400,
                R"({"type":"error","error":{"type":"invalid_request_error","message":"bad"}})",
                400,
                "invalid_request_error",
                "litellm.BadRequestError: AnthropicException - bad"},
        ErrCase{
            401,
            R"({"type":"error","error":{"type":"authentication_error","message":"invalid x-api-ke)"
            R"(y")"
            R"(}})",
            401,
            "authentication_error",
            "litellm.AuthenticationError: AnthropicException - invalid x-api-key"},
        ErrCase{403, "{}", 403, "permission_error", "litellm.PermissionDeniedError"},
        ErrCase{404, "{}", 404, "not_found_error", "litellm.NotFoundError"},
        ErrCase{
            408, "timeout", 408, "timeout_error", "litellm.Timeout: AnthropicException - timeout"},
        ErrCase{422, "{}", 422, "unprocessable_entity_error", "litellm.UnprocessableEntityError"},
        ErrCase{429,
                R"({"type":"error","error":{"type":"rate_limit_error","message":"slow"}})",
                429,
                "rate_limit_error",
                "litellm.RateLimitError: AnthropicException - slow"},
        ErrCase{500, "{}", 500, "api_error", "litellm.InternalServerError"},
        ErrCase{502, "", 503, "service_unavailable", "litellm.ServiceUnavailableError"},
        ErrCase{504, "", 503, "service_unavailable", "litellm.ServiceUnavailableError"},
        ErrCase{529,
                R"({"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}})",
                503,
                "service_unavailable",
                "litellm.ServiceUnavailableError: AnthropicException - Overloaded"}));

TEST(AnthropicErrorEnvelope, TypeByStatusPerApiMd5) {
    const std::pair<int, const char*> table[] = {
        {400, "invalid_request_error"},
        {401, "authentication_error"},
        {403, "permission_error"},
        {404, "not_found_error"},
        {413, "request_too_large"},
        {429, "rate_limit_error"},
        {500, "api_error"},
        {503, "overloaded_error"},
        {529, "overloaded_error"},
        {418, "invalid_request_error"},
        {502, "api_error"},
    };
    for (const auto& [status, type] : table) {
        json::value v = json::parse(anthropic_error_envelope(status, "m \"q\""));
        EXPECT_EQ(v.at("type"), "error");
        EXPECT_EQ(v.at("error").at("type"), type) << status;
        EXPECT_EQ(v.at("error").at("message"), "m \"q\"");
    }
}

TEST(Utf8, InvalidBytesNeverProduceInvalidJson) {
    std::string bad = "caf\xC3\x28 \xFF\xFE end";
    json::value env = json::parse(anthropic_error_envelope(500, bad));
    EXPECT_TRUE(env.at("error").at("message").is_string());
    Error e = map_anthropic_error(502, bad);
    EXPECT_NO_THROW(json::parse(anthropic_error_envelope(e.http_status(), e.message)));
    StreamToOpenAI t(bad, true);
    auto r = t.on_event("message_start", R"({"type":"message_start","message":{"id":"m"}})");
    ASSERT_TRUE(r);
    for (const auto& c : *r) {
        EXPECT_NO_THROW(json::parse(c)) << c;
    }
}

// Per-event translation cost; printed for docs/benchmarks.md, bounded loosely so the test only
// catches gross regressions (it also runs under sanitizers).
TEST(Performance, PerEventCostIsMicroseconds) {
    StreamToOpenAI t("claude-quality", true);
    ASSERT_TRUE(t.on_event(
        "message_start",
        R"({"type":"message_start","message":{"id":"msg_p","usage":{"input_tokens":3}}})"));
    ASSERT_TRUE(t.on_event(
        "content_block_start",
        R"({"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}})"));
    const std::string ev =
        R"({"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Hello, th)"
        R"(is)"
        R"( is a typical token run of text."}})";
    constexpr int kN = 20000;
    auto t0 = std::chrono::steady_clock::now();
    std::size_t bytes = 0;
    for (int i = 0; i < kN; ++i) {
        auto r = t.on_event("content_block_delta", ev);
        bytes += (*r)[0].size();
    }
    auto t1 = std::chrono::steady_clock::now();
    double us = std::chrono::duration<double, std::micro>(t1 - t0).count() / kN;

    OpenAIStreamToAnthropic back("claude-quality");
    const std::string chunk =
        R"({"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"m","choices":)"
        R"([{)"
        R"("index":0,"delta":{"content":"Hello, this is a typical token run of text."},"finis)"
        R"(h_)"
        R"(reason":null}]})";
    auto t2 = std::chrono::steady_clock::now();
    for (int i = 0; i < kN; ++i) {
        auto r = back.on_chunk(chunk);
        bytes += r->size();
    }
    auto t3 = std::chrono::steady_clock::now();
    double us_back = std::chrono::duration<double, std::micro>(t3 - t2).count() / kN;
    std::printf(
        "[ perf ] Anthropic event -> OpenAI chunk: %.3f us; OpenAI chunk -> Anthropic "
        "events: %.3f us (%zu bytes)\n",
        us,
        us_back,
        bytes);
    EXPECT_LT(us, 200.0);
    EXPECT_LT(us_back, 200.0);
}

}  // namespace
}  // namespace sy::providers::anthropic
