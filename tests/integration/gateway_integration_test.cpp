// The real App in-process on port 0 against the in-process MockUpstream.
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "mock_upstream.hpp"
#include "support/http_client.hpp"
#include "sy/app/app.hpp"
#include "sy/config/loader.hpp"
#include "sy/http/asio.hpp"

namespace sy {
namespace {

namespace json = boost::json;
using test::HttpClient;

constexpr const char* kMaster = "sk-integration-master-key-0123456789";
const std::vector<std::pair<std::string, std::string>> kAuth = {
    {"Authorization", std::string("Bearer ") + kMaster}};

class GatewayTest : public ::testing::Test {
protected:
    void SetUp() override {
        mock_ = std::make_unique<mock::MockUpstream>();
        mock_port_ = mock_->start();
    }
    void TearDown() override {
        if (app_) {
            app_->shutdown();
        }
        mock_->stop();
    }

    std::uint16_t start_gateway(const std::string& extra_yaml = "",
                                int workers = 2,
                                const std::string& extra_models = "") {
        std::string yaml = "model_list:\n"
                           "  - model_name: gpt-4o\n"
                           "    litellm_params:\n"
                           "      model: openai/gpt-4o-2024-08-06\n"
                           "      api_base: http://127.0.0.1:" + std::to_string(mock_port_) + "/d1/v1\n"
                           "      api_key: sk-upstream-secret-1\n"
                           "      timeout: 2\n" + extra_models +
                           "general_settings:\n"
                           "  master_key: " + kMaster + "\n" + extra_yaml;
        config::LoadOptions lo;
        lo.env = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };
        auto r = config::load_string(yaml, "test.yaml", lo);
        EXPECT_TRUE(r.ok());
        for (const auto& d : r.diagnostics) {
            ADD_FAILURE_AT("test.yaml", 0) << d.message;
            break;
        }
        app::AppOptions o;
        o.host = "127.0.0.1";
        o.port = 0;
        o.num_workers = workers;
        app_ = std::make_unique<app::App>(r.settings, o);
        auto port = app_->start();
        EXPECT_TRUE(port);
        return port.value();
    }

    std::unique_ptr<mock::MockUpstream> mock_;
    std::uint16_t mock_port_ = 0;
    std::unique_ptr<app::App> app_;
};

const std::string kChat = R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"metadata":{"x":1}})";

TEST_F(GatewayTest, ChatIsProxiedWithModelRewrittenBothWays) {
    HttpClient c(start_gateway());
    auto r = c.post("/v1/chat/completions", kChat, kAuth);
    ASSERT_EQ(r.status, 200) << r.body;
    auto body = json::parse(r.body).as_object();
    EXPECT_EQ(body["model"].as_string(), "gpt-4o");
    EXPECT_EQ(body["object"].as_string(), "chat.completion");
    EXPECT_FALSE(r.headers["x-litellm-call-id"].empty());
    EXPECT_EQ(r.headers["x-litellm-model-group"], "gpt-4o");
    EXPECT_EQ(r.headers["x-litellm-model-api-base"],
              "http://127.0.0.1:" + std::to_string(mock_port_) + "/d1/v1");
    EXPECT_EQ(r.headers["llm_provider-x-request-id"].empty(), false);
    EXPECT_EQ(r.headers.find("set-cookie"), r.headers.end());

    auto reqs = mock_->requests("d1");
    ASSERT_EQ(reqs.size(), 1u);
    EXPECT_EQ(reqs[0].path, "/d1/v1/chat/completions");
    EXPECT_EQ(reqs[0].header("authorization"), "Bearer sk-upstream-secret-1");
    auto up = reqs[0].body_json().as_object();
    EXPECT_EQ(up["model"].as_string(), "gpt-4o-2024-08-06");
    EXPECT_FALSE(up.contains("metadata"));
}

TEST_F(GatewayTest, UpstreamConnectionsAreReused) {
    HttpClient c(start_gateway("", 1));
    for (int i = 0; i < 20; ++i) {
        ASSERT_EQ(c.post("/v1/chat/completions", kChat, kAuth).status, 200);
    }
    EXPECT_EQ(mock_->stats().connections_accepted, 1u);
}

TEST_F(GatewayTest, StreamIsRelayedWithDoneAndRewrittenModel) {
    HttpClient c(start_gateway());
    auto r = c.post("/v1/chat/completions",
                    R"({"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]})",
                    kAuth);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.headers["content-type"], "text/event-stream");
    EXPECT_NE(r.body.find("data: [DONE]\n\n"), std::string::npos);
    EXPECT_EQ(r.body.find("gpt-4o-2024-08-06"), std::string::npos);
    EXPECT_NE(r.body.find("\"model\":\"gpt-4o\""), std::string::npos);
}

TEST_F(GatewayTest, StreamCutAfterFirstByteEndsWithErrorEventNotDone) {
    HttpClient c(start_gateway());
    mock::Script s;
    s.directives = json::object{{"cut_after", 2}};
    mock_->push_script(s);
    auto r = c.post("/v1/chat/completions",
                    R"({"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]})",
                    kAuth);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.body.find("[DONE]"), std::string::npos);
    EXPECT_NE(r.body.find("data: {\"error\":"), std::string::npos) << r.body;
    // The failure is in the body; the client's connection stays usable.
    EXPECT_EQ(c.post("/v1/chat/completions", kChat, kAuth).status, 200);
}

TEST_F(GatewayTest, UpstreamErrorBeforeFirstByteIsAPlainErrorResponse) {
    HttpClient c(start_gateway());
    mock::Script s;
    s.directives = json::object{{"status", 503}};
    mock_->push_script(s);
    auto r = c.post("/v1/chat/completions",
                    R"({"model":"gpt-4o","stream":true,"num_retries":0,"messages":[{"role":"user","content":"hi"}]})",
                    kAuth);
    EXPECT_EQ(r.status, 503);
    auto err = json::parse(r.body).as_object()["error"].as_object();
    EXPECT_EQ(err["code"].as_string(), "503");
    EXPECT_NE(std::string(err["message"].as_string()).find("ServiceUnavailableError"),
              std::string::npos);
}

TEST_F(GatewayTest, ProtocolLimitsAnswerInTheEnvelope) {
    auto port = start_gateway("  max_request_size_mb: 1\n");
    HttpClient big(port);
    auto r = big.post("/v1/chat/completions", std::string(2 * 1024 * 1024, 'x'), kAuth);
    EXPECT_EQ(r.status, 413);
    EXPECT_NE(r.body.find("\"code\":\"413\""), std::string::npos);
    HttpClient hdr(port);
    auto h = hdr.post("/v1/chat/completions", kChat, {{"x-big", std::string(20 * 1024, 'a')}});
    EXPECT_EQ(h.status, 431);
    EXPECT_EQ(mock_->stats().total, 0u);
}

TEST_F(GatewayTest, HostNamesAreResolvedWithinTheConnectDeadline) {
    auto port = start_gateway("", 2,
                              "  - model_name: by-name\n"
                              "    litellm_params:\n"
                              "      model: openai/m\n"
                              "      api_base: http://localhost:" + std::to_string(mock_port_) +
                                  "/dn/v1\n"
                                  "      api_key: sk-x\n");
    HttpClient c(port);
    auto r = c.post("/v1/chat/completions",
                    R"({"model":"by-name","messages":[{"role":"user","content":"hi"}]})", kAuth);
    EXPECT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(mock_->requests("dn").size(), 1u);
}

TEST_F(GatewayTest, UnauthenticatedBodiesAreRefusedBeforeBeingRead) {
    auto port = start_gateway();
    HttpClient c(port);
    // 8 MiB body, no key: answered from the head alone (the body is never buffered).
    auto r = c.post("/v1/chat/completions", std::string(8 * 1024 * 1024, 'x'));
    EXPECT_EQ(r.status, 401);
    EXPECT_NE(r.body.find("No api key passed in"), std::string::npos) << r.body;
    EXPECT_FALSE(r.keep_alive);
    EXPECT_EQ(mock_->stats().total, 0u);
    // With the key the same route works as before.
    HttpClient ok(port);
    EXPECT_EQ(ok.post("/v1/chat/completions", kChat, kAuth).status, 200);
}

TEST_F(GatewayTest, ShutdownFinishesInFlightStreams) {
    auto port = start_gateway();
    mock::Script s;
    s.directives = json::object{{"inter_chunk_ms", 100}, {"chunks", 5}};
    mock_->push_script(s);
    auto fut = std::async(std::launch::async, [port] {
        HttpClient c(port);
        return c.post("/v1/chat/completions",
                      R"({"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi"}]})",
                      kAuth);
    });
    ASSERT_TRUE(mock_->wait_for([](const mock::Stats& st) { return st.active >= 1; },
                                std::chrono::seconds(5)));
    EXPECT_TRUE(app_->shutdown());
    app_.reset();
    auto r = fut.get();
    EXPECT_EQ(r.status, 200);
    EXPECT_NE(r.body.find("data: [DONE]"), std::string::npos);
    EXPECT_THROW(HttpClient{port}, boost::system::system_error);  // no longer accepting
}

TEST_F(GatewayTest, ShutdownPastTheGracePeriodCancelsSlowCallsCleanly) {
    auto port = start_gateway("  graceful_shutdown_timeout: 0.2\n");
    mock::Script s;
    s.directives = json::object{{"delay_ms", 10000}};
    mock_->push_script(s);
    auto fut = std::async(std::launch::async, [port] {
        HttpClient c(port);
        return c.post("/v1/chat/completions",
                      R"({"model":"gpt-4o","timeout":30,"messages":[{"role":"user","content":"hi"}]})",
                      kAuth);
    });
    ASSERT_TRUE(mock_->wait_for([](const mock::Stats& st) { return st.active >= 1; },
                                std::chrono::seconds(5)));
    auto t0 = std::chrono::steady_clock::now();
    EXPECT_FALSE(app_->shutdown());  // the grace period expired with the call in flight
    app_.reset();                    // destroying everything must not crash
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
    auto r = fut.get();
    EXPECT_EQ(r.status, -1);  // the connection was closed without an answer
    EXPECT_TRUE(mock_->wait_for([](const mock::Stats& st) { return st.cancelled >= 1; },
                                std::chrono::seconds(5)))
        << "the upstream request was cancelled";
}

TEST_F(GatewayTest, ClientDisconnectCancelsANonStreamedUpstreamCall) {
    auto port = start_gateway();
    mock::Script s;
    s.directives = json::object{{"delay_ms", 10000}};
    mock_->push_script(s);
    {
        HttpClient c(port);
        http::bhttp::request<http::bhttp::string_body> req{http::bhttp::verb::post,
                                                           "/v1/chat/completions", 11};
        req.set(http::bhttp::field::host, "x");
        req.set(http::bhttp::field::authorization, std::string("Bearer ") + kMaster);
        req.body() = kChat;
        req.prepare_payload();
        http::bhttp::write(c.stream(), req);
        ASSERT_TRUE(mock_->wait_for([](const mock::Stats& st) { return st.active >= 1; },
                                    std::chrono::seconds(5)));
    }  // the client goes away
    EXPECT_TRUE(mock_->wait_for([](const mock::Stats& st) { return st.cancelled >= 1; },
                                std::chrono::seconds(5)));
}

TEST_F(GatewayTest, UpstreamTimeoutIs408WithHeader) {
    HttpClient c(start_gateway());
    mock::Script s;
    s.directives = json::object{{"delay_ms", 4000}};
    mock_->push_script(s);
    auto r = c.post("/v1/chat/completions",
                    R"({"model":"gpt-4o","timeout":0.3,"num_retries":0,"messages":[{"role":"user","content":"hi"}]})",
                    kAuth);
    EXPECT_EQ(r.status, 408);
    EXPECT_EQ(r.headers["x-litellm-timeout"], "0.3");
}

}  // namespace
}  // namespace sy
