#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "sy/pipeline/auth.hpp"
#include "sy/pipeline/decode.hpp"
#include "sy/pipeline/error_render.hpp"
#include "sy/pipeline/stream_transform.hpp"

namespace sy::pipeline {
namespace {

using providers::Route;
namespace json = boost::json;

TEST(Decode, ValidChatRequestKeepsClientFieldsAndStripsGatewayFields) {
    auto r = decode_request(Route::kChat, R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],
        "stream":true,"stream_options":{"include_usage":true},"metadata":{"tags":["a"]},
        "mock_response":"x","timeout":2.5,"temperature":0.2,"user":"u1"})");
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r->model, "gpt-4o");
    EXPECT_TRUE(r->stream);
    EXPECT_TRUE(r->include_usage);
    ASSERT_TRUE(r->timeout_s);
    EXPECT_DOUBLE_EQ(*r->timeout_s, 2.5);
    EXPECT_EQ(r->mock_response.value_or(""), "x");
    auto up = json::parse(build_upstream_body(*r, "up-model", {})).as_object();
    EXPECT_FALSE(up.contains("metadata"));
    EXPECT_FALSE(up.contains("mock_response"));
    EXPECT_FALSE(up.contains("timeout"));
    EXPECT_TRUE(up.contains("temperature"));
    EXPECT_TRUE(up.contains("user"));
    EXPECT_EQ(up["model"].as_string(), "up-model");
    EXPECT_FALSE(r->dom().contains("metadata"));
    EXPECT_TRUE(r->dom().contains("messages"));
}

struct BadCase {
    Route route;
    const char* body;
    const char* message_part;
    const char* param;  // nullptr = no param
};

class DecodeErrors : public ::testing::TestWithParam<BadCase> {};

TEST_P(DecodeErrors, Returns400WithClearMessage) {
    const auto& c = GetParam();
    auto r = decode_request(c.route, c.body);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().http_status(), 400);
    EXPECT_EQ(r.error().http_type(), "invalid_request_error");
    EXPECT_NE(r.error().message.find(c.message_part), std::string::npos) << r.error().message;
    if (c.param) {
        ASSERT_TRUE(r.error().param);
        EXPECT_EQ(*r.error().param, c.param);
    }
}

INSTANTIATE_TEST_SUITE_P(
    All,
    DecodeErrors,
    ::testing::Values(
        BadCase{Route::kChat, "{not json", "Invalid JSON", nullptr},
        BadCase{Route::kChat, "[1,2]", "JSON object", nullptr},
        BadCase{Route::kChat, R"({"messages":[{"role":"user","content":"x"}]})", "model", "model"},
        BadCase{Route::kChat, R"({"model":5,"messages":[]})", "model", "model"},
        BadCase{Route::kChat, R"({"model":"m"})", "messages", "messages"},
        BadCase{Route::kChat, R"({"model":"m","messages":[]})", "non-empty", "messages"},
        BadCase{Route::kChat, R"({"model":"m","messages":[1]})", "object", "messages"},
        BadCase{Route::kChat, R"({"model":"m","messages":[{"content":"x"}]})", "role", "messages"},
        BadCase{Route::kChat, R"({"model":"m","messages":[{"role":"user"}],"temperature":"hot"})",
                "must be a number", "temperature"},
        BadCase{Route::kChat, R"({"model":"m","messages":[{"role":"user"}],"stream":"yes"})",
                "boolean", "stream"},
        BadCase{Route::kChat, R"({"model":"m","messages":[{"role":"user"}],"max_tokens":1.5})",
                "integer", "max_tokens"},
        BadCase{Route::kChat, R"({"model":"m","messages":[{"role":"user"}],"api_base":"http://x"})",
                "Rejected client-side parameter: api_base", "api_base"},
        BadCase{Route::kChat,
                R"({"model":"m","messages":[{"role":"user"}],"extra_body":{"api_key":"k"}})",
                "Rejected client-side parameter: api_key", "extra_body.api_key"},
        BadCase{Route::kChat, R"({"model":"m","messages":[{"role":"user"}],"timeout":-1})",
                "timeout", "timeout"},
        BadCase{Route::kCompletions, R"({"model":"m"})", "prompt", "prompt"},
        BadCase{Route::kEmbeddings, R"({"model":"m"})", "input", "input"},
        BadCase{Route::kEmbeddings, R"({"model":"m","input":[]})", "empty", "input"},
        BadCase{Route::kEmbeddings, R"({"model":"m","input":"x","stream":true})", "stream",
                "stream"}));

TEST(Decode, PassThroughKeepsClientBytesAndCutsGatewayMembers) {
    const std::string body =
        R"({ "metadata": {"a": 1}, "model" : "grp", "messages":[{"role":"user","content":"x\u00e9"}],)"
        R"( "temperature": 1.50, "mock_response": null, "timeout": 3 })";
    auto r = decode_request(Route::kChat, body);
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(build_upstream_body(*r, "gpt-4o-2024", {}),
              R"({"model" : "gpt-4o-2024","messages":[{"role":"user","content":"x\u00e9"}],)"
              R"("temperature": 1.50})");
}

TEST(Decode, AdditionalDropParamsAreRemovedForThatDeploymentOnly) {
    auto r = decode_request(Route::kChat,
                            R"({"model":"g","messages":[{"role":"user"}],"seed":1,"user":"u"})");
    ASSERT_TRUE(r);
    std::vector<std::string> drop{"seed", "model"};
    EXPECT_EQ(build_upstream_body(*r, "up", {}, &drop),
              R"({"model":"up","messages":[{"role":"user"}],"user":"u"})");
    EXPECT_EQ(build_upstream_body(*r, "up", {}),
              R"({"model":"up","messages":[{"role":"user"}],"seed":1,"user":"u"})");
    r->dom();  // the DOM path drops and restores too
    auto v = json::parse(build_upstream_body(*r, "up", {}, &drop)).as_object();
    EXPECT_FALSE(v.contains("seed"));
    EXPECT_TRUE(r->dom().contains("seed"));
}

TEST(Decode, DuplicateKnownFieldsAreRefused) {
    auto r = decode_request(Route::kChat,
                            R"({"model":"a","model":"b","messages":[{"role":"user"}]})");
    ASSERT_FALSE(r);
    EXPECT_EQ(*r.error().param, "model");
}

TEST(Decode, DeepNestingIsRejectedNotCrashing) {
    std::string body = R"({"model":"m","messages":[{"role":"user","content":)" +
                       std::string(10000, '[') + std::string(10000, ']') + "}]}";
    auto r = decode_request(Route::kChat, body);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().http_status(), 400);
}

TEST(Decode, UpstreamBodyRewritesModelAndMergesDefaults) {
    auto r = decode_request(Route::kChat,
                            R"({"model":"group","messages":[{"role":"user"}],"temperature":0.5})");
    ASSERT_TRUE(r);
    json::object defaults{{"temperature", 0.1}, {"max_tokens", 64}};
    auto v = json::parse(build_upstream_body(*r, "gpt-4o-2024", defaults)).as_object();
    EXPECT_EQ(v["model"].as_string(), "gpt-4o-2024");
    EXPECT_DOUBLE_EQ(v["temperature"].as_double(), 0.5);  // client wins
    EXPECT_EQ(v["max_tokens"].as_int64(), 64);
    // The request is left as it was, ready for another attempt on another deployment.
    auto again = json::parse(build_upstream_body(*r, "other", {})).as_object();
    EXPECT_EQ(again["model"].as_string(), "other");
    EXPECT_FALSE(again.contains("max_tokens"));
}

TEST(ErrorRender, EnvelopeShape) {
    Error e = Error::make(Errc::kRateLimited, "slow \"down\"").with_header("retry-after", "3");
    auto res = render_error(e);
    EXPECT_EQ(res.result_int(), 429);
    EXPECT_EQ(res["retry-after"], "3");
    auto v = json::parse(res.body()).as_object();
    auto& err = v["error"].as_object();
    EXPECT_EQ(err["message"].as_string(), "slow \"down\"");
    EXPECT_EQ(err["type"].as_string(), "rate_limit_error");
    EXPECT_TRUE(err["param"].is_null());
    EXPECT_EQ(err["code"].as_string(), "429");
    EXPECT_EQ(error_sse_event(e).rfind("data: {\"error\":", 0), 0u);
}

http::Request make_req(std::vector<std::pair<std::string, std::string>> headers) {
    http::Request r{http::bhttp::verb::post, "/v1/chat/completions", 11};
    for (auto& [k, v] : headers) {
        r.set(k, v);
    }
    return r;
}

config::Settings settings_with_master(std::string key) {
    config::Settings s;
    if (!key.empty()) {
        s.general.master_key = config::Secret{std::move(key), "inline"};
    }
    return s;
}

TEST(Auth, AcceptsMasterKeyFromEveryHeader) {
    auto s = settings_with_master("sk-master-1234");
    EXPECT_TRUE(Authenticator(s).authenticate(make_req({{"Authorization", "Bearer sk-master-1234"}})));
    EXPECT_TRUE(Authenticator(s).authenticate(make_req({{"x-litellm-api-key", "sk-master-1234"}})));
    EXPECT_TRUE(Authenticator(s).authenticate(make_req({{"x-litellm-api-key", "Bearer sk-master-1234"}})));
    EXPECT_TRUE(Authenticator(s).authenticate(make_req({{"api-key", "sk-master-1234"}})));
    EXPECT_TRUE(Authenticator(s).authenticate(make_req({{"Authorization", "bearer   sk-master-1234 "}}))->is_master);
}

TEST(Auth, RejectionsCarryLiteLLMMessages) {
    auto s = settings_with_master("sk-master-1234");
    auto none = Authenticator(s).authenticate(make_req({}));
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().http_status(), 401);
    EXPECT_EQ(none.error().message, "Authentication Error, No api key passed in.");
    auto malformed = Authenticator(s).authenticate(make_req({{"Authorization", "Token abc"}}));
    ASSERT_FALSE(malformed);
    EXPECT_NE(malformed.error().message.find("Malformed API Key"), std::string::npos);
    auto wrong = Authenticator(s).authenticate(make_req({{"Authorization", "Bearer sk-other"}}));
    ASSERT_FALSE(wrong);
    EXPECT_EQ(wrong.error().message, "Authentication Error, Invalid proxy server token passed.");
    auto not_sk = Authenticator(s).authenticate(make_req({{"Authorization", "Bearer abc"}}));
    ASSERT_FALSE(not_sk);
    EXPECT_EQ(not_sk.error().message, "Authentication Error, LiteLLM Virtual Key expected.");
    EXPECT_EQ(not_sk.error().http_type(), "auth_error");
}

TEST(Auth, NoMasterKeyMeansUnauthenticatedPrincipal) {
    auto s = settings_with_master("");
    auto p = Authenticator(s).authenticate(make_req({}));
    ASSERT_TRUE(p);
    EXPECT_TRUE(p->unauthenticated);
    EXPECT_FALSE(p->is_master);
}

TEST(Auth, CustomKeyHeaderName) {
    auto s = settings_with_master("sk-master-1234");
    s.general.litellm_key_header_name = "x-my-key";
    EXPECT_TRUE(Authenticator(s).authenticate(make_req({{"x-my-key", "Bearer sk-master-1234"}})));
    EXPECT_FALSE(Authenticator(s).authenticate(make_req({{"Authorization", "Bearer sk-master-1234"}})));
}

}  // namespace
}  // namespace sy::pipeline

#include "sy/pipeline/test_hooks.hpp"

namespace sy::pipeline {
namespace {

TEST(TestHooks, MockResponseBodiesHaveLiteLLMShapeAndUsage) {
    auto v = json::parse(mock_response_body(Route::kChat, "grp", "canned reply")).as_object();
    EXPECT_EQ(v["model"].as_string(), "grp");
    EXPECT_EQ(v["choices"].as_array()[0].as_object()["message"].as_object()["content"].as_string(),
              "canned reply");
    EXPECT_EQ(v["usage"].as_object()["total_tokens"].as_int64(), 30);
    auto c = json::parse(mock_response_body(Route::kCompletions, "grp", "t")).as_object();
    EXPECT_EQ(c["object"].as_string(), "text_completion");
}

TEST(TestHooks, MockStreamConcatenatesToTheTextAndEndsWithDone) {
    std::string wire = mock_response_stream(Route::kChat, "grp", "hello big world", true);
    EXPECT_EQ(wire.substr(wire.size() - 14), "data: [DONE]\n\n");
    std::string text;
    std::size_t pos = 0;
    int usage_chunks = 0;
    while ((pos = wire.find("data: {", pos)) != std::string::npos) {
        auto end = wire.find("\n\n", pos);
        auto o = json::parse(wire.substr(pos + 6, end - pos - 6)).as_object();
        auto& choices = o["choices"].as_array();
        if (choices.empty()) {
            ++usage_chunks;
        } else if (auto* content = choices[0].as_object()["delta"].as_object().if_contains("content")) {
            text += content->as_string();
        }
        pos = end;
    }
    EXPECT_EQ(text, "hello big world");
    EXPECT_EQ(usage_chunks, 1);
}

TEST(TestHooks, SpecialValuesRaiseLiteLLMErrors) {
    EXPECT_EQ(mock_response_error("litellm.RateLimitError")->http_status(), 429);
    EXPECT_EQ(mock_response_error("litellm.InternalServerError")->http_status(), 500);
    EXPECT_EQ(mock_response_error("litellm.ContextWindowExceededError")->http_status(), 400);
    EXPECT_FALSE(mock_response_error("hello"));
    Error t = mock_timeout_error(1);
    EXPECT_EQ(t.http_status(), 408);
    EXPECT_EQ(t.message, "litellm.Timeout: This is a mock timeout error");
    EXPECT_EQ(t.headers[0].value, "1.0");
}

}  // namespace
}  // namespace sy::pipeline

#include "sy/pipeline/completions_adapter.hpp"

namespace sy::pipeline {
namespace {

TEST(CompletionsAdapter, ChatModelsGetOneUserMessage) {
    json::object body{{"model", "m"}, {"prompt", json::array{"say hi"}}, {"max_tokens", 5},
                      {"echo", false}, {"logprobs", nullptr}};
    ASSERT_TRUE(completion_body_to_chat(body));
    EXPECT_FALSE(body.contains("prompt"));
    EXPECT_FALSE(body.contains("echo"));
    auto& msgs = body["messages"].as_array();
    ASSERT_EQ(msgs.size(), 1u);
    EXPECT_EQ(msgs[0].as_object().at("role").as_string(), "user");
    EXPECT_EQ(msgs[0].as_object().at("content").as_string(), "say hi");
    EXPECT_EQ(body["max_tokens"].as_int64(), 5);
}

TEST(CompletionsAdapter, RefusesWhatChatModelsCannotDo) {
    json::object many{{"prompt", json::array{"a", "b"}}};
    EXPECT_EQ(completion_body_to_chat(many).error().http_status(), 400);
    json::object echo{{"prompt", "a"}, {"echo", true}};
    EXPECT_EQ(*completion_body_to_chat(echo).error().param, "echo");
}

TEST(CompletionsAdapter, ResponseAndChunksBecomeTextCompletions) {
    auto r = chat_response_to_completion(
        R"({"id":"chatcmpl-1","object":"chat.completion","created":5,"model":"gpt-4o-2024","choices":[{"index":0,"message":{"role":"assistant","content":"Hello"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}})",
        "grp");
    ASSERT_TRUE(r);
    auto v = json::parse(*r).as_object();
    EXPECT_EQ(v["object"].as_string(), "text_completion");
    EXPECT_EQ(v["model"].as_string(), "grp");
    EXPECT_EQ(v["choices"].as_array()[0].as_object()["text"].as_string(), "Hello");
    EXPECT_EQ(v["usage"].as_object()["total_tokens"].as_int64(), 4);
    auto c = chat_chunk_to_completion(
        R"({"id":"c","object":"chat.completion.chunk","created":5,"model":"x","choices":[{"index":0,"delta":{"content":"He"},"finish_reason":null}]})",
        "grp");
    ASSERT_TRUE(c);
    auto cv = json::parse(*c).as_object();
    EXPECT_EQ(cv["choices"].as_array()[0].as_object()["text"].as_string(), "He");
    EXPECT_FALSE(chat_chunk_to_completion("{oops", "grp"));
}

TEST(CompletionsAdapter, TextCompletionModelsAreRecognised) {
    config::Deployment d;
    EXPECT_TRUE(is_text_completion_model(d, "gpt-3.5-turbo-instruct"));
    EXPECT_FALSE(is_text_completion_model(d, "gpt-4o"));
    d.mode = "completion";
    EXPECT_TRUE(is_text_completion_model(d, "my-model"));
}

}  // namespace
}  // namespace sy::pipeline

#include "sy/pipeline/stream_transform.hpp"

namespace sy::pipeline {
namespace {

const providers::ErrorContext kErrCtx{"OpenAIException", "grp"};

TEST(StreamTransform, PassthroughRewritesModelCapturesUsageAndStopsAtDone) {
    auto t = make_openai_passthrough("grp", kErrCtx);
    std::string out;
    ASSERT_TRUE(t->on_event("", R"({"id":"c","model":"up","choices":[]})", out));
    ASSERT_TRUE(t->on_event("", "", out));  // keep-alive comment
    ASSERT_TRUE(t->on_event(
        "", R"({"id":"c","model":"up","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}})",
        out));
    EXPECT_FALSE(t->done());
    ASSERT_TRUE(t->on_event("", "[DONE]", out));
    EXPECT_TRUE(t->done());
    ASSERT_TRUE(t->on_event("", R"({"late":1})", out));  // ignored after [DONE]
    EXPECT_EQ(out,
              "data: {\"id\":\"c\",\"model\":\"grp\",\"choices\":[]}\n\n"
              "data: {\"id\":\"c\",\"model\":\"grp\",\"choices\":[],\"usage\":{\"prompt_tokens\":3,"
              "\"completion_tokens\":4}}\n\ndata: [DONE]\n\n");
    EXPECT_EQ(t->prompt_tokens, 3);
    EXPECT_EQ(t->completion_tokens, 4);
}

TEST(StreamTransform, ErrorEventsAndMalformedChunksFail) {
    auto t = make_openai_passthrough("grp", kErrCtx);
    std::string out;
    auto e = t->on_event("", R"({"error":{"message":"slow down","type":"rate_limit_error"}})", out);
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().http_status(), 429);
    auto m = t->on_event("", "{not json", out);
    ASSERT_FALSE(m);
    EXPECT_NE(m.error().message.find("malformed chunk"), std::string::npos);
    EXPECT_TRUE(out.empty());
}

TEST(StreamTransform, ChatToCompletionConvertsEachChunk) {
    auto t = make_chat_to_completion("grp", kErrCtx);
    std::string out;
    ASSERT_TRUE(t->on_event(
        "", R"({"id":"c","created":1,"model":"up","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]})",
        out));
    auto v = json::parse(out.substr(6, out.size() - 8)).as_object();
    EXPECT_EQ(v["object"].as_string(), "text_completion");
    EXPECT_EQ(v["choices"].as_array()[0].as_object()["text"].as_string(), "Hi");
}

TEST(Usage, ReadsIntegerTokenCountsWithoutADom) {
    std::int64_t p = -1;
    std::int64_t c = -1;
    read_usage_tokens(R"({"prompt_tokens":12,"completion_tokens":9,"total_tokens":21})", p, c);
    EXPECT_EQ(p, 12);
    EXPECT_EQ(c, 9);

    p = c = -1;
    read_usage_tokens(R"({"prompt_tokens":1.5,"completion_tokens":"9","x":{"prompt_tokens":3}})", p,
                      c);
    EXPECT_EQ(p, -1);  // not an integer
    EXPECT_EQ(c, -1);  // a string
    read_usage_tokens(R"({"completion_tokens":4})", p, c);
    EXPECT_EQ(p, -1);
    EXPECT_EQ(c, 4);

    p = c = -1;
    read_usage_tokens(R"({"prompt_tokens":7,)", p, c);  // malformed: nothing is set
    EXPECT_EQ(p, -1);
    read_usage_tokens("[1,2]", p, c);
    EXPECT_EQ(p, -1);
}

}  // namespace
}  // namespace sy::pipeline
