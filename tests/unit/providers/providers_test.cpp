#include <boost/json.hpp>
#include <gtest/gtest.h>

#include "sy/providers/openai.hpp"

namespace sy::providers {
namespace {

const ErrorContext kCtx{"OpenAIException", "gpt-4o"};

struct MapCase {
    int upstream;
    const char* body;
    int status;
    const char* type;
    const char* prefix;
};

class UpstreamErrorMapping : public ::testing::TestWithParam<MapCase> {};

TEST_P(UpstreamErrorMapping, MapsStatusTypeAndMessage) {
    const auto& c = GetParam();
    Error e = map_upstream_error(c.upstream, {}, c.body, kCtx);
    EXPECT_EQ(e.http_status(), c.status);
    EXPECT_EQ(e.http_type(), c.type);
    EXPECT_EQ(e.message.rfind(c.prefix, 0), 0u) << e.message;
    EXPECT_NE(e.message.find("Received Model Group=gpt-4o"), std::string::npos);
}

INSTANTIATE_TEST_SUITE_P(
    ProvidersMd8,
    UpstreamErrorMapping,
    ::testing::Values(
        MapCase{400, R"({"error":{"message":"bad","type":"invalid_request_error","code":null}})", 400,
                "invalid_request_error", "litellm.BadRequestError: OpenAIException - bad"},
        MapCase{400,
                R"({"error":{"message":"This model's maximum context length is 8192 tokens","code":"context_length_exceeded"}})",
                400, "invalid_request_error", "litellm.ContextWindowExceededError: OpenAIException"},
        MapCase{400, R"({"error":{"message":"nope","code":"content_policy_violation"}})", 400,
                "invalid_request_error", "litellm.ContentPolicyViolationError"},
        MapCase{401, R"({"error":{"message":"Incorrect API key provided: sk-abcdefghijklmnop"}})",
                401, "authentication_error", "litellm.AuthenticationError"},
        MapCase{403, "{}", 403, "permission_error", "litellm.PermissionDeniedError"},
        MapCase{404, "{}", 404, "not_found_error", "litellm.NotFoundError"},
        MapCase{408, "{}", 408, "timeout_error", "litellm.Timeout"},
        MapCase{422, "{}", 422, "unprocessable_entity_error", "litellm.UnprocessableEntityError"},
        MapCase{429, R"({"error":{"message":"slow down","type":"rate_limit_error"}})", 429,
                "rate_limit_error", "litellm.RateLimitError: OpenAIException - slow down"},
        MapCase{500, "oops not json", 500, "api_error", "litellm.InternalServerError"},
        MapCase{502, "{}", 503, "service_unavailable", "litellm.ServiceUnavailableError"},
        MapCase{503, "{}", 503, "service_unavailable", "litellm.ServiceUnavailableError"},
        MapCase{529, "{}", 503, "service_unavailable", "litellm.ServiceUnavailableError"},
        MapCase{301, "{}", 500, "api_error", "litellm.InternalServerError"},
        MapCase{418, "{}", 418, "invalid_request_error", "litellm.BadRequestError"}));

TEST(UpstreamErrors, ProviderKeysInMessagesAreScrubbed) {
    Error e = map_upstream_error(
        401, {}, R"({"error":{"message":"Incorrect API key provided: sk-abcdefghijklmnop"}})", kCtx);
    EXPECT_EQ(e.message.find("sk-abcdefghijklmnop"), std::string::npos);
}

TEST(UpstreamErrors, RetryAfterIsKeptOn429) {
    Error e = map_upstream_error(429, {{"retry-after", "7"}, {"set-cookie", "x"}}, "{}", kCtx);
    ASSERT_EQ(e.headers.size(), 1u);
    EXPECT_EQ(e.headers[0].name, "retry-after");
    EXPECT_EQ(e.headers[0].value, "7");
}

TEST(TransportErrors, TimeoutIs408WithPythonFloatHeader) {
    Error e = map_transport_error(Error::make(Errc::kTimeout, "Request timed out"), kCtx, 1.0);
    EXPECT_EQ(e.http_status(), 408);
    EXPECT_EQ(e.message.rfind("litellm.Timeout: ", 0), 0u);
    ASSERT_EQ(e.headers.size(), 1u);
    EXPECT_EQ(e.headers[0].name, "x-litellm-timeout");
    EXPECT_EQ(e.headers[0].value, "1.0");
    Error c = map_transport_error(Error::make(Errc::kUpstreamConnection, "refused"), kCtx, 600);
    EXPECT_EQ(c.http_status(), 500);
    EXPECT_EQ(c.message.rfind("litellm.APIConnectionError: ", 0), 0u);
}

TEST(PythonFloat, MatchesPythonRepr) {
    EXPECT_EQ(python_float(1), "1.0");
    EXPECT_EQ(python_float(600), "600.0");
    EXPECT_EQ(python_float(0.001), "0.001");
    EXPECT_EQ(python_float(2.5), "2.5");
}

TEST(ProviderHeaders, AllowListOnly) {
    EXPECT_TRUE(forwardable_provider_header("x-request-id"));
    EXPECT_TRUE(forwardable_provider_header("openai-processing-ms"));
    EXPECT_TRUE(forwardable_provider_header("anthropic-ratelimit-requests-limit"));
    EXPECT_FALSE(forwardable_provider_header("set-cookie"));
    EXPECT_FALSE(forwardable_provider_header("openai-organization"));
    EXPECT_FALSE(forwardable_provider_header("server"));
}

TEST(Target, HeaderInjectionIsRefusedAndKeyWhitespaceTrimmed) {
    config::Deployment d;
    d.model_name = "g";
    d.provider = "openai";
    d.api_base = "http://127.0.0.1:9999/v1";
    d.api_key = config::Secret{"sk-upstream\n", "os.environ/K"};
    auto t = prepare_target(d);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->headers[0].value, "Bearer sk-upstream");
    d.api_key = config::Secret{"sk-up\r\nX-Injected: yes", "os.environ/K"};
    auto bad = prepare_target(d);
    ASSERT_FALSE(bad);
    EXPECT_EQ(bad.error().message.find("X-Injected"), std::string::npos);
    d.api_key.reset();
    d.extra_headers["X-Ok"] = "a\r\nb";
    EXPECT_FALSE(prepare_target(d));
}

TEST(Target, AzureUsesDeploymentUrlApiVersionAndApiKey) {
    config::Deployment d;
    d.model_name = "g";
    d.provider = "azure";
    d.api_base = "https://res.openai.azure.com/";
    d.api_key = config::Secret{"azure-key", "inline"};
    d.api_version = "2024-10-21";
    auto t = prepare_target(d);
    ASSERT_TRUE(t);
    EXPECT_EQ(t->shape, ApiShape::kAzure);
    auto req = build_request(*t, Route::kChat, "{}", "my gpt4o");
    EXPECT_EQ(req.target, "/openai/deployments/my%20gpt4o/chat/completions?api-version=2024-10-21");
    ASSERT_EQ(t->headers.size(), 1u);
    EXPECT_EQ(t->headers[0].name, "api-key");
    EXPECT_EQ(t->headers[0].value, "azure-key");
    EXPECT_EQ(t->exception_label, "AzureException");
}

TEST(Target, AnthropicUsesMessagesPathAndHeaders) {
    config::Deployment d;
    d.model_name = "c";
    d.provider = "anthropic";
    d.api_base = "https://api.anthropic.com/v1";
    d.api_key = config::Secret{"ant-key", "inline"};
    auto t = prepare_target(d);
    ASSERT_TRUE(t);
    EXPECT_EQ(build_request(*t, Route::kChat, "{}", "claude").target, "/v1/messages");
    EXPECT_EQ(t->headers[0].name, "x-api-key");
    EXPECT_EQ(t->headers[1].name, "anthropic-version");
    EXPECT_EQ(t->headers[1].value, "2023-06-01");
}

TEST(Target, BuildsUrlHeadersAndRequest) {
    config::Deployment d;
    d.model_name = "g";
    d.provider = "openai";
    d.api_base = "http://127.0.0.1:9999/tag/v1/";
    d.api_key = config::Secret{"sk-upstream", "inline"};
    d.organization = "org-1";
    d.extra_headers["X-Extra"] = "1";
    auto t = prepare_target(d);
    ASSERT_TRUE(t);
    auto req = build_request(*t, Route::kEmbeddings, "{}", "m");
    EXPECT_EQ(req.target, "/tag/v1/embeddings");
    EXPECT_EQ(req.origin.port, 9999);
    bool auth = false, org = false, extra = false;
    ASSERT_NE(req.static_headers, nullptr);
    for (const auto& h : *req.static_headers) {
        auth |= h.name == "Authorization" && h.value == "Bearer sk-upstream";
        org |= h.name == "OpenAI-Organization" && h.value == "org-1";
        extra |= h.name == "X-Extra";
    }
    EXPECT_TRUE(auth && org && extra);
}

}  // namespace
}  // namespace sy::providers
