// HTTPS upstreams: the real App in-process on port 0 against an in-process TLS server whose
// certificates are generated at test time. Proves that TLS upstreams work (SNI, pooled TLS
// connections) and that certificate and host-name verification are enforced, with
// SSL_VERIFY=false as the documented escape hatch.
//
// The client TLS context is built in App::start from SSL_CERT_FILE / SSL_VERIFY, so the
// environment is set just around start() and restored afterwards.
#include <boost/json.hpp>
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "support/http_client.hpp"
#include "support/tls_test_server.hpp"
#include "sy/app/app.hpp"
#include "sy/config/loader.hpp"

namespace sy {
namespace {

namespace json = boost::json;
using test::HttpClient;
using test::TestCert;
using test::TestPki;
using test::TlsServerStats;
using test::TlsTestServer;

constexpr const char* kMaster = "sk-integration-master-key-0123456789";
const std::vector<std::pair<std::string, std::string>> kAuth = {
    {"Authorization", std::string("Bearer ") + kMaster}};
const std::string kChat = R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}]})";

// Sets (value) or unsets (nullopt) an environment variable for its lifetime, then restores it.
class ScopedEnv {
public:
    ScopedEnv(const char* name, std::optional<std::string> value) : name_(name) {
        if (const char* old = std::getenv(name)) {
            old_ = old;
        }
        if (value) {
            ::setenv(name, value->c_str(), 1);
        } else {
            ::unsetenv(name);
        }
    }
    ~ScopedEnv() {
        if (old_) {
            ::setenv(name_, old_->c_str(), 1);
        } else {
            ::unsetenv(name_);
        }
    }
    ScopedEnv(const ScopedEnv&) = delete;
    ScopedEnv& operator=(const ScopedEnv&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

struct TlsEnv {
    std::optional<std::string> cert_file = std::nullopt;  // SSL_CERT_FILE, unset when nullopt
    std::optional<std::string> verify = std::nullopt;     // SSL_VERIFY, unset when nullopt
};

class TlsUpstreamTest : public ::testing::Test {
protected:
    static void SetUpTestSuite() { pki_ = TestPki::create().release(); }
    static void TearDownTestSuite() {
        delete pki_;
        pki_ = nullptr;
    }

    void TearDown() override {
        if (app_) {
            app_->shutdown();
            app_.reset();
        }
        if (server_) {
            server_->stop();
        }
    }

    std::uint16_t start_server(const TestCert& cert) {
        server_ = std::make_unique<TlsTestServer>(cert);
        return server_->start();
    }

    // One worker, so every request uses the same upstream connection pool.
    std::uint16_t start_gateway(const std::string& api_base, const TlsEnv& env) {
        api_base_ = api_base;
        std::string yaml = "model_list:\n"
                           "  - model_name: gpt-4o\n"
                           "    litellm_params:\n"
                           "      model: openai/gpt-4o-2024-08-06\n"
                           "      api_base: " + api_base + "\n"
                           "      api_key: sk-upstream-secret-1\n"
                           "      timeout: 5\n"
                           "general_settings:\n"
                           "  master_key: " + kMaster + "\n";
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
        o.num_workers = 1;
        app_ = std::make_unique<app::App>(r.settings, o);
        Result<std::uint16_t> port = [&] {
            ScopedEnv cert_file("SSL_CERT_FILE", env.cert_file);
            ScopedEnv verify("SSL_VERIFY", env.verify);
            return app_->start();  // builds the client TLS context from the environment
        }();
        EXPECT_TRUE(port);
        return port.value();
    }

    std::string localhost_base() const {
        return "https://localhost:" + std::to_string(server_->port()) + "/v1";
    }

    // Asserts the OpenAI-style 500 APIConnectionError envelope and returns its message.
    static std::string expect_connection_error(const test::ClientResponse& r) {
        EXPECT_EQ(r.status, 500) << r.body;
        auto parsed = json::parse(r.body);
        const auto& err = parsed.as_object().at("error").as_object();
        EXPECT_EQ(err.at("type").as_string(), "api_error") << r.body;
        EXPECT_EQ(err.at("code").as_string(), "500") << r.body;
        std::string msg(err.at("message").as_string());
        EXPECT_NE(msg.find("APIConnectionError"), std::string::npos) << msg;
        return msg;
    }

    static bool handshake_failed(const TlsServerStats& s) { return s.handshake_failures >= 1; }

    static inline TestPki* pki_ = nullptr;
    std::unique_ptr<TlsTestServer> server_;
    std::unique_ptr<app::App> app_;
    std::string api_base_;
};

TEST_F(TlsUpstreamTest, TrustedCertificateProxiesOverTlsWithSniAndPooledConnection) {
    start_server(pki_->localhost);
    HttpClient c(start_gateway(localhost_base(), {.cert_file = pki_->ca_pem_path}));

    auto r = c.post("/v1/chat/completions", kChat, kAuth);
    ASSERT_EQ(r.status, 200) << r.body;
    auto body = json::parse(r.body).as_object();
    EXPECT_EQ(body["id"].as_string(), "chatcmpl-tls-upstream-1");
    EXPECT_EQ(body["object"].as_string(), "chat.completion");
    EXPECT_EQ(body["model"].as_string(), "gpt-4o");  // rewritten to the model group
    EXPECT_EQ(body["choices"].as_array()[0].as_object()["message"].as_object()["content"].as_string(),
              "Hello over TLS.");
    EXPECT_EQ(r.headers["x-litellm-model-api-base"], api_base_);

    auto r2 = c.post("/v1/chat/completions", kChat, kAuth);
    ASSERT_EQ(r2.status, 200) << r2.body;
    EXPECT_EQ(json::parse(r2.body).as_object()["id"].as_string(), "chatcmpl-tls-upstream-1");

    auto st = server_->stats();
    EXPECT_EQ(st.requests, 2u);
    ASSERT_EQ(st.targets.size(), 2u);
    EXPECT_EQ(st.targets[0], "/v1/chat/completions");
    auto up = json::parse(st.bodies[0]).as_object();
    EXPECT_EQ(up["model"].as_string(), "gpt-4o-2024-08-06");
    EXPECT_EQ(st.connections_accepted, 1u) << "second request should reuse the pooled TLS connection";
    EXPECT_EQ(st.handshakes_ok, 1u);
    EXPECT_EQ(st.handshake_failures, 0u);
    ASSERT_EQ(st.server_names.size(), 1u);
    EXPECT_EQ(st.server_names[0], "localhost");
}

TEST_F(TlsUpstreamTest, UntrustedCertificateIsRejected) {
    start_server(pki_->localhost);
    HttpClient c(start_gateway(localhost_base(), {}));  // system trust store only

    auto r = c.post("/v1/chat/completions", kChat, kAuth);
    std::string msg = expect_connection_error(r);
    EXPECT_NE(msg.find("certificate verify failed"), std::string::npos) << msg;

    ASSERT_TRUE(server_->wait_for(handshake_failed, std::chrono::seconds(5)));
    auto st = server_->stats();
    EXPECT_EQ(st.requests, 0u);
    EXPECT_EQ(st.handshakes_ok, 0u);
    EXPECT_GE(st.connections_accepted, 1u);  // it reached the server: a TLS failure, not TCP
}

TEST_F(TlsUpstreamTest, HostNameMismatchIsRejectedEvenWithATrustedCertificate) {
    start_server(pki_->other);  // DNS:other.example, signed by the trusted CA
    HttpClient c(start_gateway(localhost_base(), {.cert_file = pki_->ca_pem_path}));

    auto r = c.post("/v1/chat/completions", kChat, kAuth);
    std::string msg = expect_connection_error(r);
    EXPECT_NE(msg.find("certificate verify failed"), std::string::npos) << msg;

    ASSERT_TRUE(server_->wait_for(handshake_failed, std::chrono::seconds(5)));
    auto st = server_->stats();
    EXPECT_EQ(st.requests, 0u);
    EXPECT_EQ(st.handshakes_ok, 0u);
    EXPECT_GE(st.connections_accepted, 1u);
}

TEST_F(TlsUpstreamTest, SslVerifyFalseAcceptsAnUntrustedCertificate) {
    start_server(pki_->localhost);
    HttpClient c(start_gateway(localhost_base(), {.verify = "false"}));

    auto r = c.post("/v1/chat/completions", kChat, kAuth);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(json::parse(r.body).as_object()["id"].as_string(), "chatcmpl-tls-upstream-1");
    auto st = server_->stats();
    EXPECT_EQ(st.requests, 1u);
    EXPECT_EQ(st.handshake_failures, 0u);
    ASSERT_EQ(st.server_names.size(), 1u);
    EXPECT_EQ(st.server_names[0], "localhost");  // SNI is still sent
}

TEST_F(TlsUpstreamTest, SslVerifyFalseAlsoSkipsTheHostNameCheck) {
    start_server(pki_->other);
    HttpClient c(start_gateway(localhost_base(), {.verify = "false"}));

    auto r = c.post("/v1/chat/completions", kChat, kAuth);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(server_->stats().requests, 1u);
}

TEST_F(TlsUpstreamTest, IpAddressApiBaseIsVerifiedAgainstTheIpSan) {
    start_server(pki_->localhost);  // carries IP:127.0.0.1
    std::string base = "https://127.0.0.1:" + std::to_string(server_->port()) + "/v1";
    HttpClient c(start_gateway(base, {.cert_file = pki_->ca_pem_path}));

    auto r = c.post("/v1/chat/completions", kChat, kAuth);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(server_->stats().requests, 1u);
}

TEST_F(TlsUpstreamTest, IpAddressApiBaseWithoutIpSanIsRejected) {
    start_server(pki_->other);  // no IP SAN
    std::string base = "https://127.0.0.1:" + std::to_string(server_->port()) + "/v1";
    HttpClient c(start_gateway(base, {.cert_file = pki_->ca_pem_path}));

    auto r = c.post("/v1/chat/completions", kChat, kAuth);
    expect_connection_error(r);
    ASSERT_TRUE(server_->wait_for(handshake_failed, std::chrono::seconds(5)));
    EXPECT_EQ(server_->stats().requests, 0u);
}

}  // namespace
}  // namespace sy
