#pragma once
// In-process HTTPS test upstream plus a throw-away PKI generated with the OpenSSL C API.
//
//   auto pki = sy::test::TestPki::create();         // CA + leaf certs, CA PEM in a temp file
//   sy::test::TlsTestServer srv(pki.localhost);      // presents that leaf (and its key)
//   std::uint16_t port = srv.start();                // 127.0.0.1:<port>, own thread
//   ... POST https://localhost:<port>/v1/chat/completions ...
//   srv.stats();  srv.wait_for(pred, 2s);  srv.stop(); // also done by the destructor
//
// PKI: one self-signed CA (CN "Switchyard Test CA", CA:TRUE) signs every leaf. Leaves are
// created for arbitrary subjectAltName lists, e.g. "DNS:localhost,IP:127.0.0.1". Trusting
// ca_pem_path (SSL_CERT_FILE) trusts all leaves; host-name checks then decide per leaf.
//
// Server: single thread, coroutines. Every accepted TCP connection is counted; the TLS handshake
// either fails (counted, last error message kept) or succeeds (the SNI host name the client sent
// is recorded, "" when none). Then HTTP/1.1 keep-alive: POST .../chat/completions answers 200
// with kChatCompletionBody, anything else 404. Requests (method, target, body) are recorded.

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace sy::test {

namespace tls_detail {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

inline constexpr auto kTok = net::as_tuple(net::use_awaitable);

struct X509Free {
    void operator()(X509* p) const { X509_free(p); }
};
struct PkeyFree {
    void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct BioFree {
    void operator()(BIO* p) const { BIO_free(p); }
};
struct ExtFree {
    void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
};

[[noreturn]] inline void fail(const std::string& what) {
    unsigned long e = ERR_get_error();
    char buf[256] = {};
    if (e != 0) {
        ERR_error_string_n(e, buf, sizeof buf);
    }
    throw std::runtime_error("tls_test_server: " + what + (e != 0 ? std::string(": ") + buf : ""));
}

inline void check(int rc, const std::string& what) {
    if (rc <= 0) {
        fail(what);
    }
}

}  // namespace tls_detail

using X509Ptr = std::unique_ptr<X509, tls_detail::X509Free>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, tls_detail::PkeyFree>;

// A certificate with its private key.
struct TestCert {
    X509Ptr cert;
    PkeyPtr key;

    std::string pem() const {
        std::unique_ptr<BIO, tls_detail::BioFree> bio(BIO_new(BIO_s_mem()));
        tls_detail::check(PEM_write_bio_X509(bio.get(), cert.get()), "PEM_write_bio_X509");
        char* data = nullptr;
        long n = BIO_get_mem_data(bio.get(), &data);
        return std::string(data, static_cast<std::size_t>(n));
    }
};

namespace tls_detail {

inline PkeyPtr make_ec_key() {
    PkeyPtr k(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    if (!k) {
        fail("EVP_PKEY_Q_keygen");
    }
    return k;
}

// Adds one v3 extension in OpenSSL config syntax ("critical,CA:TRUE", "DNS:a,IP:1.2.3.4").
inline void add_ext(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX ctx;
    X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
    std::unique_ptr<X509_EXTENSION, ExtFree> ext(X509V3_EXT_nconf_nid(nullptr, &ctx, nid, value));
    if (!ext) {
        fail(std::string("X509V3_EXT_nconf_nid ") + value);
    }
    check(X509_add_ext(cert, ext.get(), -1), "X509_add_ext");
}

// issuer == nullptr: self-signed with `key`; otherwise signed by issuer's key.
inline TestCert make_cert(const std::string& cn,
                          const std::string& san,
                          bool is_ca,
                          const TestCert* issuer,
                          long serial) {
    TestCert out;
    out.key = make_ec_key();
    out.cert.reset(X509_new());
    X509* x = out.cert.get();
    check(X509_set_version(x, 2), "X509_set_version");
    check(ASN1_INTEGER_set(X509_get_serialNumber(x), serial), "serial");
    if (X509_gmtime_adj(X509_getm_notBefore(x), -3600) == nullptr ||
        X509_gmtime_adj(X509_getm_notAfter(x), 24L * 3600) == nullptr) {
        fail("X509_gmtime_adj");
    }
    check(X509_set_pubkey(x, out.key.get()), "X509_set_pubkey");
    X509_NAME* name = X509_get_subject_name(x);
    check(X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>("Switchyard tests"), -1,
                                     -1, 0),
          "X509_NAME_add_entry O");
    check(X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                     reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0),
          "X509_NAME_add_entry CN");
    X509* issuer_cert = issuer ? issuer->cert.get() : x;
    EVP_PKEY* signing_key = issuer ? issuer->key.get() : out.key.get();
    check(X509_set_issuer_name(x, X509_get_subject_name(issuer_cert)), "X509_set_issuer_name");
    add_ext(x, issuer_cert, NID_subject_key_identifier, "hash");
    if (is_ca) {
        add_ext(x, issuer_cert, NID_basic_constraints, "critical,CA:TRUE");
        add_ext(x, issuer_cert, NID_key_usage, "critical,keyCertSign,cRLSign");
    } else {
        add_ext(x, issuer_cert, NID_basic_constraints, "critical,CA:FALSE");
        add_ext(x, issuer_cert, NID_key_usage, "critical,digitalSignature,keyEncipherment");
        add_ext(x, issuer_cert, NID_ext_key_usage, "serverAuth");
        add_ext(x, issuer_cert, NID_authority_key_identifier, "keyid:always");
    }
    if (!san.empty()) {
        add_ext(x, issuer_cert, NID_subject_alt_name, san.c_str());
    }
    check(X509_sign(x, signing_key, EVP_sha256()), "X509_sign");
    return out;
}

}  // namespace tls_detail

// A fresh CA and two leaves: `localhost` (CN localhost, DNS:localhost, IP:127.0.0.1) and
// `other` (CN other.example, DNS:other.example). ca_pem_path holds the CA certificate only; the
// file is removed by the destructor.
struct TestPki {
    TestCert ca;
    TestCert localhost;
    TestCert other;
    std::string ca_pem_path;

    static std::unique_ptr<TestPki> create() {
        auto p = std::make_unique<TestPki>();
        p->ca = tls_detail::make_cert("Switchyard Test CA", "", true, nullptr, 1);
        p->localhost =
            tls_detail::make_cert("localhost", "DNS:localhost,IP:127.0.0.1", false, &p->ca, 2);
        p->other = tls_detail::make_cert("other.example", "DNS:other.example", false, &p->ca, 3);
        static std::atomic<int> seq{0};
        auto path = std::filesystem::temp_directory_path() /
                    ("sy-tls-test-ca-" + std::to_string(::getpid()) + "-" +
                     std::to_string(seq.fetch_add(1)) + ".pem");
        {
            std::ofstream f(path, std::ios::binary | std::ios::trunc);
            const std::string ca_pem = p->ca.pem();
            f << ca_pem;
            if (!f) {
                throw std::runtime_error("tls_test_server: cannot write " + path.string());
            }
        }
        p->ca_pem_path = path.string();
        return p;
    }

    TestPki() = default;
    TestPki(const TestPki&) = delete;
    TestPki& operator=(const TestPki&) = delete;
    ~TestPki() {
        if (!ca_pem_path.empty()) {
            std::error_code ec;
            std::filesystem::remove(ca_pem_path, ec);
        }
    }
};

struct TlsServerStats {
    std::size_t connections_accepted = 0;
    std::size_t handshakes_ok = 0;
    std::size_t handshake_failures = 0;
    std::size_t requests = 0;
    std::vector<std::string> server_names;  // SNI per successful handshake ("" when absent)
    std::vector<std::string> targets;       // request targets, in order
    std::vector<std::string> bodies;        // request bodies, in order
    std::string last_handshake_error;
};

inline constexpr const char* kChatCompletionBody =
    R"({"id":"chatcmpl-tls-upstream-1","object":"chat.completion","created":1700000000,)"
    R"("model":"gpt-4o-2024-08-06","choices":[{"index":0,"message":{"role":"assistant",)"
    R"("content":"Hello over TLS."},"finish_reason":"stop"}],)"
    R"("usage":{"prompt_tokens":3,"completion_tokens":4,"total_tokens":7}})";

class TlsTestServer {
public:
    // Presents `cert` (the leaf only). The certificate and key are copied into the context.
    explicit TlsTestServer(const TestCert& cert) : ssl_(tls_detail::net::ssl::context::tls_server) {
        SSL_CTX* c = ssl_.native_handle();
        tls_detail::check(SSL_CTX_use_certificate(c, cert.cert.get()), "SSL_CTX_use_certificate");
        tls_detail::check(SSL_CTX_use_PrivateKey(c, cert.key.get()), "SSL_CTX_use_PrivateKey");
        tls_detail::check(SSL_CTX_check_private_key(c), "SSL_CTX_check_private_key");
    }
    TlsTestServer(const TlsTestServer&) = delete;
    TlsTestServer& operator=(const TlsTestServer&) = delete;
    ~TlsTestServer() { stop(); }

    std::uint16_t start() {
        using tcp = tls_detail::net::ip::tcp;
        acceptor_.open(tcp::v4());
        acceptor_.set_option(tcp::acceptor::reuse_address(true));
        acceptor_.bind(tcp::endpoint(tls_detail::net::ip::make_address("127.0.0.1"), 0));
        acceptor_.listen();
        port_ = acceptor_.local_endpoint().port();
        tls_detail::net::co_spawn(io_, accept_loop(), tls_detail::net::detached);
        thread_ = std::thread([this] { io_.run(); });
        return port_;
    }

    void stop() {
        if (!thread_.joinable()) {
            return;
        }
        io_.stop();
        thread_.join();
    }

    std::uint16_t port() const { return port_; }

    TlsServerStats stats() const {
        std::lock_guard lk(mu_);
        return stats_;
    }

    bool wait_for(const std::function<bool(const TlsServerStats&)>& pred,
                  std::chrono::milliseconds timeout) const {
        std::unique_lock lk(mu_);
        return cv_.wait_for(lk, timeout, [&] { return pred(stats_); });
    }

private:
    using SslStream = tls_detail::beast::ssl_stream<tls_detail::beast::tcp_stream>;

    template <class F>
    void update(F&& f) {
        {
            std::lock_guard lk(mu_);
            f(stats_);
        }
        cv_.notify_all();
    }

    tls_detail::net::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, sock] = co_await acceptor_.async_accept(tls_detail::kTok);
            if (ec) {
                co_return;
            }
            update([](TlsServerStats& s) { ++s.connections_accepted; });
            tls_detail::net::co_spawn(io_, session(std::move(sock)), tls_detail::net::detached);
        }
    }

    tls_detail::net::awaitable<void> session(tls_detail::net::ip::tcp::socket sock) {
        namespace net = tls_detail::net;
        namespace bhttp = tls_detail::bhttp;
        SslStream s(std::move(sock), ssl_);
        s.next_layer().expires_after(std::chrono::seconds(10));
        auto [hec] = co_await s.async_handshake(net::ssl::stream_base::server, tls_detail::kTok);
        if (hec) {
            std::string msg = hec.message();
            update([&](TlsServerStats& st) {
                ++st.handshake_failures;
                st.last_handshake_error = msg;
            });
            co_return;
        }
        const char* sni = SSL_get_servername(s.native_handle(), TLSEXT_NAMETYPE_host_name);
        std::string server_name = sni ? sni : "";
        update([&](TlsServerStats& st) {
            ++st.handshakes_ok;
            st.server_names.push_back(server_name);
        });
        tls_detail::beast::flat_buffer buf;
        for (;;) {
            s.next_layer().expires_after(std::chrono::seconds(30));
            bhttp::request<bhttp::string_body> req;
            auto [rec, rn] = co_await bhttp::async_read(s, buf, req, tls_detail::kTok);
            (void)rn;
            if (rec) {
                co_return;
            }
            std::string target(req.target());
            update([&](TlsServerStats& st) {
                ++st.requests;
                st.targets.push_back(target);
                st.bodies.push_back(req.body());
            });
            const std::string suffix = "/chat/completions";
            bool chat = req.method() == bhttp::verb::post && target.size() >= suffix.size() &&
                        target.compare(target.size() - suffix.size(), suffix.size(), suffix) == 0;
            bhttp::response<bhttp::string_body> res{chat ? bhttp::status::ok : bhttp::status::not_found,
                                                    req.version()};
            res.set(bhttp::field::content_type, "application/json");
            res.set("x-request-id", "tls-" + std::to_string(stats().requests));
            res.keep_alive(req.keep_alive());
            res.body() = chat ? std::string(kChatCompletionBody)
                              : std::string(R"({"error":{"message":"not found","type":"invalid_request_error","param":null,"code":"404"}})");
            res.prepare_payload();
            auto [wec, wn] = co_await bhttp::async_write(s, res, tls_detail::kTok);
            (void)wn;
            if (wec || !res.keep_alive()) {
                co_return;
            }
        }
    }

    // Declaration order matters for destruction: the thread is joined (stop) first, the acceptor
    // goes before its io_context, and pending coroutine frames (holding SSL objects) are destroyed
    // by the io_context before the SSL context.
    tls_detail::net::ssl::context ssl_;
    tls_detail::net::io_context io_;
    tls_detail::net::ip::tcp::acceptor acceptor_{io_};
    std::thread thread_;
    std::uint16_t port_ = 0;
    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    TlsServerStats stats_;
};

}  // namespace sy::test
