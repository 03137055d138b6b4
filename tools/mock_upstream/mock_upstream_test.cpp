// Test that the header is self-contained.
#include "mock_upstream.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "directives.hpp"
#include "responses.hpp"
#include "test_client.hpp"

namespace sy::mock {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using test_support::Client;
using test_support::sse_events;
using test_support::str;
using namespace std::chrono_literals;

const std::string kChatBody =
    R"({"model":"gpt-4o","messages":[{"role":"user","content":"Say hello to the mock please"}]})";

class MockUpstreamTest : public ::testing::Test {
protected:
    void SetUp() override { port_ = mock_.start(); }

    MockUpstream mock_{"127.0.0.1", 0};
    std::uint16_t port_ = 0;
};

TEST_F(MockUpstreamTest, ChatCompletionHasOpenAiShape) {
    Client client(port_);
    auto res = client.call(http::verb::post, "/v1/chat/completions", kChatBody);
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_EQ(str(res["x-request-id"]), "mock-1");
    EXPECT_EQ(str(res["openai-processing-ms"]), "1");
    EXPECT_EQ(str(res[http::field::set_cookie]), "mock=1");
    EXPECT_EQ(str(res[http::field::content_type]), "application/json");

    const json::object o = json::parse(res.body()).as_object();
    EXPECT_EQ(o.at("id"), "chatcmpl-mock-1");
    EXPECT_EQ(o.at("object"), "chat.completion");
    EXPECT_TRUE(o.at("created").is_int64());
    EXPECT_EQ(o.at("model"), "gpt-4o");
    EXPECT_EQ(o.at("system_fingerprint"), "fp_mock");
    const json::object& choice = o.at("choices").at(0).as_object();
    EXPECT_EQ(choice.at("index"), 0);
    EXPECT_EQ(choice.at("finish_reason"), "stop");
    EXPECT_TRUE(choice.at("logprobs").is_null());
    const json::object& msg = choice.at("message").as_object();
    EXPECT_EQ(msg.at("role"), "assistant");
    EXPECT_EQ(msg.at("content"), "Hello! This is the mock upstream.");
    EXPECT_TRUE(msg.at("refusal").is_null());
    const json::object& usage = o.at("usage").as_object();
    EXPECT_EQ(usage.at("prompt_tokens"), 7);  // 28 code points / 4
    EXPECT_EQ(usage.at("completion_tokens"), 6);
    EXPECT_EQ(usage.at("total_tokens"), 13);
    EXPECT_EQ(usage.at("prompt_tokens_details").at("cached_tokens"), 0);
    EXPECT_EQ(usage.at("completion_tokens_details").at("reasoning_tokens"), 0);

    // Keep-alive: a second request on the same connection.
    auto again = client.call(http::verb::get, "/d9/v1/models");
    ASSERT_EQ(again.result_int(), 200);
    EXPECT_EQ(json::parse(again.body()).at("object"), "list");
    EXPECT_EQ(str(again["x-request-id"]), "mock-2");
}

TEST_F(MockUpstreamTest, StreamSendsChunksUsageAndDone) {
    Client client(port_);
    auto res = client.call(
        http::verb::post,
        "/v1/chat/completions",
        R"({"model":"gpt-4o","stream":true,"stream_options":{"include_usage":true},)"
        R"("messages":[{"role":"user","content":"hi"}],"mock":{"content":"one two three"}})");
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_TRUE(res.chunked());
    EXPECT_EQ(str(res[http::field::content_type]).rfind("text/event-stream", 0), 0U);

    const auto events = sse_events(res.body());
    // role, 3 pieces, finish, usage, [DONE]
    ASSERT_EQ(events.size(), 7U);
    EXPECT_EQ(events.back(), "[DONE]");
    const json::value first = json::parse(events[0]);
    EXPECT_EQ(first.at("object"), "chat.completion.chunk");
    EXPECT_EQ(first.at("choices").at(0).at("delta").at("role"), "assistant");
    EXPECT_EQ(first.at("choices").at(0).at("delta").at("content"), "");
    std::string content;
    for (std::size_t i = 1; i <= 3; ++i) {
        content += json::value_to<std::string>(
            json::parse(events[i]).at("choices").at(0).at("delta").at("content"));
    }
    EXPECT_EQ(content, "one two three");
    const json::value finish = json::parse(events[4]);
    EXPECT_EQ(finish.at("choices").at(0).at("finish_reason"), "stop");
    EXPECT_TRUE(finish.at("choices").at(0).at("delta").as_object().empty());
    const json::value usage = json::parse(events[5]);
    EXPECT_TRUE(usage.at("choices").as_array().empty());
    EXPECT_EQ(usage.at("usage").at("completion_tokens"), 3);
}

TEST_F(MockUpstreamTest, PacedStreamWithMalformedEventAndNoDone) {
    Client client(port_);
    auto res = client.call(http::verb::post,
                           "/v1/completions",
                           R"({"model":"m","prompt":"abc","stream":true})",
                           {{"x-mock-inter-chunk-ms", "1"},
                            {"x-mock-malformed_after", "1"},
                            {"x-mock-no-done", "true"},
                            {"x-mock-chunks", "2"}});
    ASSERT_EQ(res.result_int(), 200);
    const auto events = sse_events(res.body());
    // piece, malformed, piece, finish; no [DONE]
    ASSERT_EQ(events.size(), 4U);
    EXPECT_EQ(events[1], "{not json");
    EXPECT_EQ(json::parse(events[0]).at("object"), "text_completion");
    EXPECT_EQ(json::parse(events[3]).at("choices").at(0).at("finish_reason"), "stop");
}

TEST_F(MockUpstreamTest, RateLimitCarriesRetryAfter) {
    Client client(port_);
    auto res = client.call(http::verb::post,
                           "/v1/chat/completions",
                           kChatBody,
                           {{"x-mock-status", "429"}, {"x-mock-retry-after", "3"}});
    ASSERT_EQ(res.result_int(), 429);
    EXPECT_EQ(str(res[http::field::retry_after]), "3");
    EXPECT_EQ(str(res["x-ratelimit-reset-requests"]), "3s");
    EXPECT_EQ(str(res["x-request-id"]), "mock-1");
    const json::value e = json::parse(res.body()).at("error");
    EXPECT_EQ(e.at("code"), "rate_limit_exceeded");
    EXPECT_EQ(e.at("type"), "requests");
    EXPECT_TRUE(e.at("param").is_null());
}

TEST_F(MockUpstreamTest, HeaderBeatsBodyForContextLengthError) {
    Client client(port_);
    auto res = client.call(http::verb::post,
                           "/v1/chat/completions",
                           R"({"model":"gpt-4o","messages":[],)"
                           R"("mock":{"status":503,"error":"context_length_exceeded"}})",
                           {{"x-mock-status", "400"}});
    ASSERT_EQ(res.result_int(), 400);
    const json::value e = json::parse(res.body()).at("error");
    EXPECT_EQ(e.at("code"), "context_length_exceeded");
    EXPECT_EQ(e.at("param"), "messages");
    EXPECT_EQ(json::value_to<std::string>(e.at("message"))
                  .rfind("This model's maximum context length is 8192 tokens", 0),
              0U);
}

TEST_F(MockUpstreamTest, ScriptQueueIsConsumedInOrderAndByTag) {
    Client client(port_);
    // Through the control endpoint, as an out-of-process test would.
    auto queued = client.call(http::verb::post,
                              "/__mock/script",
                              R"({"tag":"d1","times":2,"directives":{"status":503}})");
    ASSERT_EQ(queued.result_int(), 200);
    mock_.push_script({.tag = "d1", .times = 1, .directives = {{"status", 500}}});

    EXPECT_EQ(client.call(http::verb::post, "/v1/chat/completions", kChatBody).result_int(), 200);
    EXPECT_EQ(client.call(http::verb::post, "/d1/v1/chat/completions", kChatBody).result_int(),
              503);
    EXPECT_EQ(client.call(http::verb::post, "/d1/v1/chat/completions", kChatBody).result_int(),
              503);
    EXPECT_EQ(client.call(http::verb::post, "/d1/v1/chat/completions", kChatBody).result_int(),
              500);
    EXPECT_EQ(client.call(http::verb::post, "/d1/v1/chat/completions", kChatBody).result_int(),
              200);

    auto bad = client.call(http::verb::post, "/__mock/script", R"({"directives":{"stauts":1}})");
    EXPECT_EQ(bad.result_int(), 400);
}

TEST_F(MockUpstreamTest, RecordsRequestsAndStats) {
    Client client(port_);
    client.call(http::verb::post,
                "/d2/v1/embeddings?x=1",
                R"({"model":"emb","input":["a","b"]})",
                {{"Authorization", "Bearer sk-test"}});
    client.call(http::verb::post, "/chat/completions", kChatBody);

    const auto d2 = mock_.requests("d2");
    ASSERT_EQ(d2.size(), 1U);
    EXPECT_EQ(d2[0].tag, "d2");
    EXPECT_EQ(d2[0].method, "POST");
    EXPECT_EQ(d2[0].path, "/d2/v1/embeddings");
    EXPECT_EQ(d2[0].query, "x=1");
    EXPECT_EQ(d2[0].header("authorization"), "Bearer sk-test");
    EXPECT_EQ(d2[0].body_json().at("model"), "emb");
    EXPECT_EQ(mock_.requests("").size(), 1U);

    auto listed = client.call(http::verb::get, "/__mock/requests?tag=d2");
    const json::value v = json::parse(listed.body());
    ASSERT_EQ(v.at("requests").as_array().size(), 1U);
    EXPECT_EQ(v.at("requests").at(0).at("headers").at("authorization"), "Bearer sk-test");
    EXPECT_EQ(v.at("requests").at(0).at("body_json").at("input").at(1), "b");

    auto stats = json::parse(client.call(http::verb::get, "/__mock/stats").body());
    EXPECT_EQ(stats.at("total"), 2);
    EXPECT_EQ(stats.at("by_tag").at("d2"), 1);
    EXPECT_EQ(stats.at("by_path").at("/chat/completions"), 1);
    EXPECT_EQ(stats.at("connections_accepted"), 1);

    client.call(http::verb::post, "/__mock/reset");
    EXPECT_TRUE(mock_.requests().empty());
    EXPECT_EQ(mock_.stats().total, 0U);
}

TEST_F(MockUpstreamTest, EmbeddingsAreDeterministic) {
    Client client(port_);
    const std::string body = R"({"model":"emb","input":["same","other"]})";
    const json::value a = json::parse(client.call(http::verb::post, "/v1/embeddings", body).body());
    const json::value b = json::parse(client.call(http::verb::post, "/v1/embeddings", body).body());
    ASSERT_EQ(a.at("data").as_array().size(), 2U);
    EXPECT_EQ(a.at("data").at(0).at("embedding").as_array().size(), 8U);
    EXPECT_EQ(a.at("data").at(1).at("index"), 1);
    EXPECT_EQ(a.at("data"), b.at("data"));
    EXPECT_NE(a.at("data").at(0).at("embedding"), a.at("data").at(1).at("embedding"));

    const json::value b64 =
        json::parse(client
                        .call(http::verb::post,
                              "/v1/embeddings",
                              R"({"model":"emb","input":"x","encoding_format":"base64"})")
                        .body());
    EXPECT_EQ(b64.at("data").at(0).at("embedding").as_string().size(), 44U);  // 32 bytes
}

TEST_F(MockUpstreamTest, ToolCallStreamFragmentsArguments) {
    Client client(port_);
    auto res = client.call(
        http::verb::post,
        "/v1/chat/completions",
        R"({"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"weather?"}],)"
        R"("tools":[{"type":"function","function":{"name":"lookup","parameters":{"type":"object",)"
        R"("properties":{"city":{"type":"string"},"days":{"type":"integer"}}}}}],)"
        R"("mock":{"tool_calls":true}})");
    const auto events = sse_events(res.body());
    ASSERT_GE(events.size(), 4U);
    const json::value first = json::parse(events[0]);
    EXPECT_EQ(
        first.at("choices").at(0).at("delta").at("tool_calls").at(0).at("function").at("name"),
        "lookup");
    std::string args;
    std::string finish;
    for (std::size_t i = 1; i + 1 < events.size(); ++i) {
        const json::value c = json::parse(events[i]).at("choices").at(0);
        if (c.at("finish_reason").is_string()) {
            finish = json::value_to<std::string>(c.at("finish_reason"));
        } else {
            args += json::value_to<std::string>(
                c.at("delta").at("tool_calls").at(0).at("function").at("arguments"));
        }
    }
    EXPECT_EQ(finish, "tool_calls");
    EXPECT_EQ(json::parse(args), json::parse(R"({"city":"mock","days":1})"));
}

TEST_F(MockUpstreamTest, CountsClientThatLeavesDuringStall) {
    {
        Client client(port_);
        client.write(http::verb::post,
                     "/v1/chat/completions",
                     R"({"model":"m","stream":true,"messages":[],"mock":{"stall_after":2}})");
        // Read until the second event has arrived, then go away.
        std::string got;
        std::array<char, 1024> buf{};
        while (got.find("\"content\":\"Hello!\"") == std::string::npos) {
            got.append(buf.data(), client.socket().read_some(net::buffer(buf)));
        }
        EXPECT_EQ(mock_.stats().cancelled, 0U);
    }
    EXPECT_TRUE(mock_.wait_for([](const Stats& s) { return s.cancelled == 1; }, 5s));
    EXPECT_EQ(mock_.stats().cancelled_streams, 1U);
    EXPECT_TRUE(mock_.wait_for([](const Stats& s) { return s.active == 0; }, 5s));
}

TEST_F(MockUpstreamTest, CutAfterTruncatesTheStream) {
    Client client(port_);
    client.write(http::verb::post,
                 "/v1/chat/completions",
                 R"({"model":"m","stream":true,"messages":[],"mock":{"cut_after":1}})");
    beast::error_code ec;
    http::response_parser<http::string_body> parser;
    beast::flat_buffer buffer;
    http::read(client.socket(), buffer, parser, ec);
    EXPECT_EQ(ec, http::error::partial_message);
    EXPECT_EQ(sse_events(parser.get().body()).size(), 1U);
    EXPECT_EQ(mock_.stats().cancelled, 0U);
}

TEST_F(MockUpstreamTest, UnknownDirectiveIsRejected) {
    Client client(port_);
    auto res = client.call(
        http::verb::post, "/v1/chat/completions", kChatBody, {{"x-mock-dealy-ms", "10"}});
    EXPECT_EQ(res.result_int(), 400);
    EXPECT_EQ(json::parse(res.body()).at("error").at("type"), "mock_directive_error");
}

TEST(MockUpstreamLifecycle, StopsWithRequestsSuspendedEverywhere) {
    MockUpstream mock("127.0.0.1", 0, 2);
    const std::uint16_t port = mock.start();
    const std::vector<std::string> bodies = {
        R"({"model":"m","messages":[],"mock":{"hang":true}})",
        R"({"model":"m","messages":[],"mock":{"delay_ms":60000}})",
        R"({"model":"m","messages":[],"stream":true,"mock":{"stall_after":1}})",
        R"({"model":"m","messages":[],"stream":true,"mock":{"inter_chunk_ms":60000}})",
        R"({"model":"m","messages":[],"stream":true,"mock":{"ttft_ms":60000}})",
        R"({"model":"m","messages":[],"mock":{"stall_after":0}})",
    };
    std::vector<std::unique_ptr<Client>> clients;
    for (const auto& body : bodies) {
        clients.push_back(std::make_unique<Client>(port));
        clients.back()->write(http::verb::post, "/v1/chat/completions", body);
    }
    ASSERT_TRUE(mock.wait_for(
        [&](const Stats& s) { return s.active == bodies.size() && s.total == bodies.size(); }, 5s));
    mock.stop();
    EXPECT_EQ(mock.stats().cancelled, 0U);
    EXPECT_EQ(mock.stats().open_connections, 0U);
    EXPECT_EQ(mock.stats().active, 0U);
}

TEST(MockResponses, SplitsAndCounts) {
    EXPECT_EQ(split_words("Hello! This  is\nit"),
              (std::vector<std::string>{"Hello!", " This", "  is", "\nit"}));
    EXPECT_EQ(split_even("abcdef", 4), (std::vector<std::string>{"a", "bc", "d", "ef"}));
    EXPECT_EQ(split_even("\xC3\xA9t\xC3\xA9", 3),
              (std::vector<std::string>{"\xC3\xA9", "t", "\xC3\xA9"}));
    std::string joined;
    for (const auto& w : generated_words(6)) {
        joined += w;
    }
    EXPECT_EQ(joined, kDefaultContent);
    EXPECT_EQ(base64_encode("any carnal pleas"), "YW55IGNhcm5hbCBwbGVhcw==");
    EXPECT_EQ(tokens_for_chars(3), 1);
}

TEST(MockDirectives, ParsesStringsAndRejectsBadValues) {
    Directives d;
    json::object in{{"delay-ms", "25"}, {"no_done", "true"}, {"status", 429}};
    json::object norm;
    overlay_directives(norm, in);
    ASSERT_FALSE(parse_directives(norm, d).has_value());
    EXPECT_EQ(d.delay_ms, 25);
    EXPECT_TRUE(d.no_done);
    EXPECT_EQ(d.status, 429);
    Directives bad;
    EXPECT_TRUE(parse_directives(json::object{{"status", "abc"}}, bad).has_value());
    EXPECT_TRUE(parse_directives(json::object{{"status", 204}}, bad).has_value());
    EXPECT_TRUE(parse_directives(json::object{{"delay_ms", -1}}, bad).has_value());
    EXPECT_TRUE(
        parse_directives(json::object{{"headers", R"({"x-a":"1\r\nx-b: 2"})"}}, bad).has_value());
}

TEST_F(MockUpstreamTest, ExtraHeadersAndConnectionClose) {
    Client client(port_);
    auto res = client.call(http::verb::get,
                           "/v1/models",
                           {},
                           {{"x-mock-headers", R"({"x-extra":"yes","openai-organization":"org"})"},
                            {"x-mock-close", "1"}});
    ASSERT_EQ(res.result_int(), 200);
    EXPECT_EQ(str(res["x-extra"]), "yes");
    EXPECT_EQ(str(res["openai-organization"]), "org");
    EXPECT_FALSE(res.keep_alive());
}

}  // namespace
}  // namespace sy::mock
