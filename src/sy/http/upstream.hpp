#pragma once
// Upstream HTTP/1.1 client with per-worker keep-alive connection pools, TLS (certificate and host
// name verification, SNI) and deadlines on every operation.
//
// Thread safety: an UpstreamPool belongs to one worker thread and is used only there. Streams and
// connections never cross threads.

#include <boost/asio/ssl/context.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <memory>
#include <memory_resource>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <variant>
#include <vector>

#include "sy/core/error.hpp"
#include "sy/http/asio.hpp"
#include "sy/http/timed_stream.hpp"
#include "sy/http/url.hpp"

namespace sy::http {

struct UpstreamTimeouts {
    Duration connect = std::chrono::seconds(10);
    Duration first_byte = std::chrono::seconds(600);  // non-stream: whole call; stream: first chunk
    Duration idle = std::chrono::seconds(600);        // stream: longest gap between chunks
};

struct UpstreamRequest {
    Origin origin;
    std::string target;  // path + query
    // Fixed headers of the deployment (credentials, extra_headers): owned by the deployment's
    // immutable settings, which outlive every request; never copied per request.
    const std::vector<Header>* static_headers = nullptr;
    std::vector<Header> headers;  // per-request headers
    std::string body;
    std::string content_type = "application/json";
    // Where the response's header fields are allocated (nullptr: the heap). Must outlive the
    // response and any UpstreamStream (e.g. Exchange::arena()).
    std::pmr::memory_resource* arena = nullptr;
};

// The header fields of a complete upstream response, in arrival order, names as sent. A flat
// list in memory from the exchange's arena (or its own block when there is none): an answer's
// head is read a few times and never edited, so it needs no index (Beast's fields keep an
// ordered set per message).
class ResponseFields {
public:
    // Iteration yields the same accessors as a Beast field (name_string(), value()).
    struct Field {
        std::string_view name;
        std::string_view val;
        std::string_view name_string() const { return name; }
        std::string_view value() const { return val; }
    };

    // `arena` (may be null: a private block) must outlive the fields.
    explicit ResponseFields(std::pmr::memory_resource* arena = nullptr);
    ResponseFields(ResponseFields&&) noexcept = default;
    // No assignment: the defaulted one would free the target's own block before its fields
    // were moved out of it (members are assigned in order).
    ResponseFields& operator=(ResponseFields&&) = delete;
    ResponseFields& operator=(const ResponseFields&) = delete;

    void add(std::string_view name, std::string_view value);
    // Case-insensitive lookup of the first field named `name`; nullopt when absent.
    std::optional<std::string_view> find(std::string_view name) const;
    auto begin() const { return fields_.begin(); }
    auto end() const { return fields_.end(); }
    std::size_t size() const { return fields_.size(); }

private:
    std::unique_ptr<std::pmr::monotonic_buffer_resource> own_;  // when no arena was given
    std::pmr::memory_resource* mem_;
    std::pmr::vector<Field> fields_;
};

struct UpstreamResponse {
    int status = 0;
    ResponseFields fields;  // head as received
    std::string body_text;
    const std::string& body() const { return body_text; }
    // Case-insensitive lookup; nullopt when absent.
    std::optional<std::string_view> header(std::string_view name) const { return fields.find(name); }
    // Copy of the headers with lower-cased names (error paths).
    std::vector<Header> headers() const;
};

// Lower-cased copy of every field of a message head.
std::vector<Header> lowercase_headers(const Fields& f);

struct PoolLimits {
    std::size_t max_idle_per_origin = 256;
    Duration idle_ttl = std::chrono::seconds(60);
    std::uint64_t max_response_bytes = 64ull * 1024 * 1024;
};

struct Connection;
using ConnectionPtr = std::unique_ptr<Connection>;
class ClientTls;

// Classification of transport failures, so the pipeline can map them (timeout vs connection).
enum class TransportFailure { kNone, kConnect, kTimeout, kReset, kProtocol, kTls };

class UpstreamStream;

// Lets the owner of an upstream call abort it from outside the call (when the client went away):
// cancel() closes the connection the call is using, so that its pending connect, write or read
// fails at once, and the call neither retries nor returns the connection to the pool. The call
// registers its connection here while it runs (and an UpstreamStream for its whole life). The
// handle must outlive the call and the stream. Worker thread only.
class UpstreamCancel {
public:
    UpstreamCancel() = default;
    UpstreamCancel(const UpstreamCancel&) = delete;
    UpstreamCancel& operator=(const UpstreamCancel&) = delete;
    void cancel();
    bool cancelled() const { return cancelled_; }
    // Used by the pool: the connection the call is using now (nullptr: none).
    void attach(TimedStream* s) { active_ = s; }

private:
    TimedStream* active_ = nullptr;
    bool cancelled_ = false;
};

class UpstreamPool {
public:
    UpstreamPool(net::io_context& io, ClientTls& tls, PoolLimits limits);
    ~UpstreamPool();
    UpstreamPool(const UpstreamPool&) = delete;
    UpstreamPool& operator=(const UpstreamPool&) = delete;

    // Sends a request and reads the complete response. Transport failures are errors with
    // code kTimeout or kUpstreamConnection/kUpstreamProtocol.
    // `cancel` (optional) aborts the call from outside.
    Task<Result<UpstreamResponse>> send(const UpstreamRequest& req,
                                        UpstreamTimeouts t,
                                        UpstreamCancel* cancel = nullptr);
    // The same, the outcome written to `out` (the request path awaits this one directly).
    Task<void> send_into(const UpstreamRequest& req,
                         UpstreamTimeouts t,
                         UpstreamCancel* cancel,
                         std::optional<Result<UpstreamResponse>>& out);

    // Sends a request and reads only the response head; the body is then read incrementally.
    // `cancel` (optional) aborts the call, and later the returned stream, from outside.
    Task<Result<std::unique_ptr<UpstreamStream>>> open_stream(const UpstreamRequest& req,
                                                              UpstreamTimeouts t,
                                                              UpstreamCancel* cancel = nullptr);

    std::size_t idle_connections() const;
    std::uint64_t connections_opened() const { return opened_; }

private:
    friend class UpstreamStream;
    Task<Result<ConnectionPtr>> connect(const Origin& o, Duration timeout, UpstreamCancel* cancel);
    ConnectionPtr take_idle(const Origin& o);
    void release(ConnectionPtr c);

    net::io_context& io_;
    ClientTls& tls_;
    PoolLimits limits_;
    std::unordered_map<std::string, std::vector<ConnectionPtr>> idle_;
    std::string key_scratch_;  // reused for pool look-ups (no per-request key string)
    std::uint64_t opened_ = 0;
};

// A response whose body is being read. Returns the connection to the pool when the body was read
// to its end and the upstream allows keep-alive; otherwise closes it.
class UpstreamStream {
public:
    UpstreamStream(UpstreamPool& pool,
                   ConnectionPtr conn,
                   UpstreamTimeouts t,
                   UpstreamCancel* cancel = nullptr,
                   std::pmr::memory_resource* arena = nullptr);
    ~UpstreamStream();
    UpstreamStream(const UpstreamStream&) = delete;
    UpstreamStream& operator=(const UpstreamStream&) = delete;

    Task<Status> read_head(Clock::time_point deadline);
    int status() const { return status_; }
    const Fields& head() const;
    bool got_head_bytes() const { return got_head_bytes_; }

    // Next bytes of the body, appended to `out`. Sets done() at the end of the body. The first
    // call waits until `first_deadline`; later calls wait at most the idle timeout.
    Task<Status> read_some(std::string& out);
    // Reads the remaining body (bounded) into `out`.
    Task<Status> read_all(std::string& out, std::uint64_t limit);
    bool done() const { return done_; }
    bool got_body() const { return got_body_bytes_; }
    // Reads and discards the rest of the body for at most `max_wait` (for connection reuse);
    // aborts the connection when it does not end in time or is too large.
    Task<void> drain(Duration max_wait);
    // Closes the connection; a pending read completes with an error. Safe to call while a read
    // is in flight (the stream object stays alive until its owner drops it).
    void abort();
    void set_first_deadline(Clock::time_point d) { first_deadline_ = d; }

private:
    UpstreamPool& pool_;
    ConnectionPtr conn_;
    UpstreamTimeouts timeouts_;
    UpstreamCancel* cancel_ = nullptr;
    std::pmr::memory_resource* arena_ = nullptr;
    int status_ = 0;
    bool done_ = false;
    bool got_body_bytes_ = false;
    bool got_head_bytes_ = false;
    std::optional<Clock::time_point> first_deadline_;
    char chunk_[16 * 1024];
};

// The TLS client context: peer and host-name verification on (SSL_VERIFY=false disables both).
// Trust store: OpenSSL's default paths, i.e. the system bundle, or the file named by
// SSL_CERT_FILE instead of it (both environment variables are read at construction). The store
// (~2 MB once parsed) is read on the first TLS connection, so a gateway with only plain-HTTP
// upstreams (or an idle one) never holds it.
// Thread safety: context() may be called from any thread.
class ClientTls {
public:
    ClientTls();
    net::ssl::context& context();

private:
    net::ssl::context ctx_;
    std::string cert_file_;  // SSL_CERT_FILE as it was at start-up
    std::once_flag trust_loaded_;
};

std::unique_ptr<ClientTls> make_client_tls_context();

}  // namespace sy::http
