#include "sy/http/upstream.hpp"

#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <array>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <cstring>
#include <cstdlib>

#include "sy/core/ascii.hpp"
#include "sy/core/number_text.hpp"

namespace sy::http {

using namespace std::string_view_literals;

using PlainStream = TimedStream;
using TlsStream = beast::ssl_stream<TimedStream>;

constexpr std::size_t kReadBufferBytes = 32 * 1024;
// A pooled connection the upstream had already closed fails at once; a request is re-sent on a
// fresh connection only when its failure came this quickly and nothing was received (a POST that
// the upstream may have worked on is never sent twice).
constexpr auto kStaleRetryWindow = std::chrono::milliseconds(1000);

// Beast's parser feeding a flat UpstreamResponse (ResponseFields and a string body) instead of
// a beast::http::message, whose fields keep an ordered set (one tree insert per header).
class UnaryResponseParser final : public bhttp::basic_parser<false> {
public:
    explicit UnaryResponseParser(std::pmr::memory_resource* arena) : res_{0, ResponseFields(arena), {}} {}
    int status() const { return res_.status; }
    UpstreamResponse release() { return std::move(res_); }

private:
    void on_request_impl(bhttp::verb, beast::string_view, beast::string_view, int,
                         boost::system::error_code& ec) override {
        ec = bhttp::error::bad_method;  // never called for a response parser
    }
    void on_response_impl(int code, beast::string_view, int, boost::system::error_code&) override {
        res_.status = code;
    }
    void on_field_impl(bhttp::field, beast::string_view name, beast::string_view value,
                       boost::system::error_code&) override {
        res_.fields.add(std::string_view(name.data(), name.size()),
                        std::string_view(value.data(), value.size()));
    }
    void on_header_impl(boost::system::error_code&) override {}
    void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                           boost::system::error_code&) override {
        if (length) {
            // Bounded by the parser's body limit, checked before this is called.
            res_.body_text.reserve(static_cast<std::size_t>(*length));
        }
    }
    std::size_t on_body_impl(beast::string_view body, boost::system::error_code&) override {
        res_.body_text.append(body.data(), body.size());
        return body.size();
    }
    void on_chunk_header_impl(std::uint64_t, beast::string_view, boost::system::error_code&) override {}
    std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                   boost::system::error_code&) override {
        res_.body_text.append(body.data(), body.size());
        return body.size();
    }
    void on_finish_impl(boost::system::error_code&) override {}

    UpstreamResponse res_;
};

struct Connection {
    Origin origin;
    std::string key;
    std::variant<std::monostate, PlainStream, TlsStream> stream;
    beast::flat_buffer buffer;
    Clock::time_point idle_since{};
    bool reused = false;
    std::optional<bhttp::response_parser<bhttp::buffer_body, FieldsAlloc>> parser;
    // Parser of a complete response (UpstreamPool::send); kept here rather than in the send
    // coroutine's frame, which it would push past the size Asio and glibc recycle cheaply.
    std::optional<UnaryResponseParser> full_parser;

    TimedStream& tcp() {
        if (auto* p = std::get_if<PlainStream>(&stream)) {
            return *p;
        }
        return beast::get_lowest_layer(std::get<TlsStream>(stream));
    }
    void close() {
        boost::system::error_code ec;
        tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
        tcp().close();
    }
};

namespace {

// Interim 1xx responses skipped before the final one (100 Continue, 103 Early Hints: one or two
// in practice).
constexpr int kMaxInterimResponses = 8;

std::string lower(std::string_view s) {
    std::string r(s);
    for (auto& c : r) {
        c = ascii_lower(c);
    }
    return r;
}

template <class Fields>
std::vector<Header> collect_headers(const Fields& fields) {
    std::vector<Header> out;
    for (const auto& f : fields) {
        out.push_back({lower(std::string_view(f.name_string().data(), f.name_string().size())),
                       std::string(f.value())});
    }
    return out;
}

Error transport_error(const boost::system::error_code& ec, std::string_view stage) {
    if (ec == beast::error::timeout) {
        return Error::make(Errc::kTimeout, "Request timed out (" + std::string(stage) + ")");
    }
    std::string msg = "Connection error (" + std::string(stage) + "): " + ec.message();
    return Error::make(Errc::kUpstreamConnection, std::move(msg));
}

// The request head, serialised by hand into one buffer (the body is written from the request
// itself, without a copy).
std::string build_head(const UpstreamRequest& req) {
    bool default_port = (req.origin.tls && req.origin.port == 443) ||
                        (!req.origin.tls && req.origin.port == 80);
    std::string out;
    out.reserve(256 + req.target.size());
    out += req.body.empty() ? "GET " : "POST ";
    out += req.target;
    out += " HTTP/1.1\r\nHost: "sv;
    if (req.origin.host.find(':') != std::string::npos) {
        out += '[';
        out += req.origin.host;
        out += ']';
    } else {
        out += req.origin.host;
    }
    if (!default_port) {
        out += ':';
        append_int(out, req.origin.port);
    }
    out += "\r\n"sv;
    if (req.static_headers) {
        for (const auto& h : *req.static_headers) {
            out += h.name;
            out += ": "sv;
            out += h.value;
            out += "\r\n"sv;
        }
    }
    for (const auto& h : req.headers) {
        out += h.name;
        out += ": "sv;
        out += h.value;
        out += "\r\n"sv;
    }
    if (!req.body.empty()) {
        out += "Content-Type: "sv;
        out += req.content_type;
        out += "\r\nContent-Length: "sv;
        append_int(out, static_cast<std::int64_t>(req.body.size()));
        out += "\r\n"sv;
    }
    out += "\r\n"sv;
    return out;
}

Task<std::pair<boost::system::error_code, tcp::resolver::results_type>> resolve_host(
    tcp::resolver& r,
    std::string host,
    std::uint16_t port) {
    auto [ec, res] = co_await r.async_resolve(host, std::to_string(port), kNoThrow);
    co_return std::make_pair(ec, std::move(res));
}

// Completes at `deadline` after cancelling `r` (so that its pending lookup ends at once).
Task<void> cancel_at(tcp::resolver& r, Clock::time_point deadline) {
    net::steady_timer t(co_await net::this_coro::executor, deadline);
    auto [ec] = co_await t.async_wait(kNoThrow);
    if (!ec) {
        r.cancel();
    }
}

template <class S>
Task<boost::system::error_code> write_request(S& s, const std::string& head, const std::string& body) {
    std::array<net::const_buffer, 2> bufs{net::buffer(head), net::buffer(body)};
    auto [ec, n] = co_await net::async_write(s, bufs, kNoThrow);
    (void)n;
    co_return ec;
}

template <class S>
Task<boost::system::error_code> read_head(S& s,
                                          beast::flat_buffer& b,
                                          bhttp::response_parser<bhttp::buffer_body, FieldsAlloc>& p) {
    co_return co_await read_message(s, b, p, true);
}

// Parses body bytes into the parser's buffer_body from what is buffered, reading from the socket
// only when nothing is buffered (no composed operation, no allocation).
template <class S>
Task<boost::system::error_code> read_body_some(S& s,
                                               beast::flat_buffer& b,
                                               bhttp::response_parser<bhttp::buffer_body, FieldsAlloc>& p) {
    p.eager(true);
    for (;;) {
        if (b.size() > 0) {
            boost::system::error_code ec;
            std::size_t n = p.put(b.data(), ec);
            b.consume(n);
            if (ec == bhttp::error::need_buffer) {
                co_return boost::system::error_code{};  // the body buffer is full
            }
            if (ec && ec != bhttp::error::need_more) {
                co_return ec;
            }
            if (n > 0 || p.is_done()) {
                co_return boost::system::error_code{};
            }
        } else if (p.is_done()) {
            co_return boost::system::error_code{};
        }
        if (b.capacity() - b.size() < 4096) {
            b.reserve(b.size() + 16 * 1024);
        }
        auto [ec, n] = co_await s.async_read_some(b.prepare(b.capacity() - b.size()), kNoThrow);
        if (ec) {
            if (ec == net::error::eof) {
                boost::system::error_code pec;
                p.put_eof(pec);
                co_return pec ? boost::system::error_code(bhttp::error::partial_message) : pec;
            }
            co_return ec;
        }
        b.commit(n);
    }
}

// Registers a connection with an UpstreamCancel for the scope of one call.
class CancelScope {
public:
    explicit CancelScope(UpstreamCancel* c) : c_(c) {}
    ~CancelScope() { set(nullptr); }
    CancelScope(const CancelScope&) = delete;
    CancelScope& operator=(const CancelScope&) = delete;
    void set(TimedStream* s);
    bool cancelled() const;

private:
    UpstreamCancel* c_;
};

Error cancelled_error() {
    return Error::make(Errc::kUpstreamConnection, "Connection error: the call was cancelled");
}

}  // namespace

void UpstreamCancel::cancel() {
    cancelled_ = true;
    if (active_) {
        boost::system::error_code ec;
        active_->socket().shutdown(tcp::socket::shutdown_both, ec);
        active_->close();  // pending operations complete with operation_aborted
        active_ = nullptr;
    }
}

namespace {

void CancelScope::set(TimedStream* s) {
    if (c_) {
        c_->attach(s);
    }
}

bool CancelScope::cancelled() const { return c_ && c_->cancelled(); }

}  // namespace


std::vector<Header> UpstreamResponse::headers() const { return collect_headers(fields); }

ResponseFields::ResponseFields(std::pmr::memory_resource* arena)
    : own_(arena ? nullptr : std::make_unique<std::pmr::monotonic_buffer_resource>(512)),
      mem_(arena ? arena : own_.get()),
      fields_(mem_) {}

void ResponseFields::add(std::string_view name, std::string_view value) {
    char* p = static_cast<char*>(mem_->allocate(name.size() + value.size(), 1));
    std::memcpy(p, name.data(), name.size());
    std::memcpy(p + name.size(), value.data(), value.size());
    if (fields_.empty()) {
        fields_.reserve(16);
    }
    fields_.push_back(Field{std::string_view(p, name.size()),
                            std::string_view(p + name.size(), value.size())});
}

std::optional<std::string_view> ResponseFields::find(std::string_view name) const {
    for (const Field& f : fields_) {
        if (ascii_iequals(f.name, name)) {
            return f.val;
        }
    }
    return std::nullopt;
}

std::vector<Header> lowercase_headers(const Fields& f) { return collect_headers(f); }

ClientTls::ClientTls() : ctx_(net::ssl::context::tls_client) {
    ctx_.set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                     net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                     net::ssl::context::no_tlsv1_1);
    const char* verify = std::getenv("SSL_VERIFY");
    bool off = verify && (std::string_view(verify) == "false" || std::string_view(verify) == "False" ||
                          std::string_view(verify) == "0");
    ctx_.set_verify_mode(off ? net::ssl::verify_none : net::ssl::verify_peer);
    if (const char* bundle = std::getenv("SSL_CERT_FILE"); bundle && *bundle) {
        cert_file_ = bundle;
    }
}

net::ssl::context& ClientTls::context() {
    std::call_once(trust_loaded_, [this] {
        boost::system::error_code ec;
        ctx_.set_default_verify_paths(ec);
        if (!cert_file_.empty()) {
            ctx_.load_verify_file(cert_file_, ec);
        }
    });
    return ctx_;
}

std::unique_ptr<ClientTls> make_client_tls_context() { return std::make_unique<ClientTls>(); }

// ---------------- UpstreamPool ----------------

UpstreamPool::UpstreamPool(net::io_context& io, ClientTls& tls, PoolLimits limits)
    : io_(io), tls_(tls), limits_(limits) {}

UpstreamPool::~UpstreamPool() = default;

std::size_t UpstreamPool::idle_connections() const {
    std::size_t n = 0;
    for (const auto& [k, v] : idle_) {
        n += v.size();
    }
    return n;
}

ConnectionPtr UpstreamPool::take_idle(const Origin& o) {
    key_scratch_.clear();
    o.append_key(key_scratch_);
    auto it = idle_.find(key_scratch_);
    if (it == idle_.end()) {
        return nullptr;
    }
    auto& vec = it->second;
    auto now = Clock::now();
    while (!vec.empty()) {
        ConnectionPtr c = std::move(vec.back());
        vec.pop_back();
        if (now - c->idle_since < limits_.idle_ttl && c->tcp().socket().is_open()) {
            c->reused = true;
            return c;
        }
        c->close();
    }
    return nullptr;
}

void UpstreamPool::release(ConnectionPtr c) {
    auto& vec = idle_[c->key];
    if (vec.size() >= limits_.max_idle_per_origin) {
        c->close();
        return;
    }
    c->idle_since = Clock::now();
    c->parser.reset();
    vec.push_back(std::move(c));
}

Task<Result<ConnectionPtr>> UpstreamPool::connect(const Origin& o,
                                                   Duration timeout,
                                                   UpstreamCancel* cancel) {
    CancelScope scope(cancel);
    auto c = std::make_unique<Connection>();
    c->origin = o;
    c->key = o.key();
    // Beast sizes each read by the buffer's free capacity (min 512 bytes): reserve enough that a
    // typical response or burst of SSE events arrives in one read.
    c->buffer.reserve(kReadBufferBytes);
    boost::system::error_code ec;
    tcp::resolver::results_type endpoints;
    auto addr = net::ip::make_address(o.host, ec);
    const bool is_ip = !ec;
    if (is_ip) {
        endpoints = tcp::resolver::results_type::create(tcp::endpoint(addr, o.port), o.host,
                                                        std::to_string(o.port));
    } else {
        // Name resolution shares the connect deadline. Asio's resolver cannot be cancelled per
        // operation, so a timer cancels this call's own resolver when the deadline passes.
        using namespace boost::asio::experimental::awaitable_operators;
        tcp::resolver resolver(io_);
        auto deadline = Clock::now() + timeout;
        auto lookup = resolve_host(resolver, o.host, o.port);
        auto guard = cancel_at(resolver, deadline);
        auto raced = co_await (std::move(lookup) || std::move(guard));
        if (raced.index() == 1) {
            co_return Error::make(Errc::kTimeout, "Request timed out (resolving " + o.host + ")");
        }
        auto& [rec, res] = std::get<0>(raced);
        if (rec) {
            co_return Error::make(Errc::kUpstreamConnection,
                                  "Connection error: cannot resolve host " + o.host + ": " +
                                      rec.message());
        }
        endpoints = std::move(res);
    }
    if (scope.cancelled()) {
        co_return cancelled_error();
    }
    TimedStream tcp_s(io_);
    tcp_s.expires_after(timeout);
    scope.set(&tcp_s);
    auto [cec, ep] = co_await tcp_s.async_connect(endpoints, kNoThrow);
    (void)ep;
    scope.set(nullptr);
    if (scope.cancelled()) {
        co_return cancelled_error();
    }
    if (cec) {
        co_return transport_error(cec, "connect");
    }
    tcp_s.socket().set_option(tcp::no_delay(true), ec);
    ++opened_;
    if (!o.tls) {
        c->stream.emplace<PlainStream>(std::move(tcp_s));
        co_return c;
    }
    net::ssl::context& tls_ctx = tls_.context();
    auto& tls = c->stream.emplace<TlsStream>(std::move(tcp_s), tls_ctx);
    SSL* ssl = tls.native_handle();
    // SNI carries host names only (RFC 6066); IP literals are verified against the IP SANs.
    if (!is_ip && !SSL_set_tlsext_host_name(ssl, o.host.c_str())) {
        co_return Error::make(Errc::kUpstreamConnection, "TLS error: cannot set SNI");
    }
    if (SSL_CTX_get_verify_mode(tls_ctx.native_handle()) != SSL_VERIFY_NONE) {
        int ok = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), o.host.c_str())
                       : SSL_set1_host(ssl, o.host.c_str());
        if (ok != 1) {
            co_return Error::make(Errc::kUpstreamConnection, "TLS error: cannot set the peer name");
        }
    }
    beast::get_lowest_layer(tls).expires_after(timeout);
    scope.set(&beast::get_lowest_layer(tls));
    auto [hec] = co_await tls.async_handshake(net::ssl::stream_base::client, kNoThrow);
    scope.set(nullptr);
    if (scope.cancelled()) {
        co_return cancelled_error();
    }
    if (hec) {
        std::string why = hec.message();
        long vr = SSL_get_verify_result(ssl);
        if (vr != X509_V_OK) {
            why += std::string(" (") + X509_verify_cert_error_string(vr) + ")";
        }
        co_return Error::make(Errc::kUpstreamConnection,
                              "TLS handshake with " + o.host + " failed: " + why);
    }
    co_return c;
}

Task<Result<UpstreamResponse>> UpstreamPool::send(const UpstreamRequest& req,
                                                   UpstreamTimeouts t,
                                                   UpstreamCancel* cancel) {
    std::optional<Result<UpstreamResponse>> out;
    co_await send_into(req, t, cancel, out);
    co_return std::move(*out);
}

Task<void> UpstreamPool::send_into(const UpstreamRequest& req,
                                   UpstreamTimeouts t,
                                   UpstreamCancel* cancel,
                                   std::optional<Result<UpstreamResponse>>& out) {
    // The hot path of every non-streamed call: socket operations are awaited here directly
    // (no helper coroutines), and the answer goes to `out`.
    auto deadline = Clock::now() + t.first_byte;
    const std::string head = build_head(req);
    CancelScope scope(cancel);
    for (int attempt = 0; attempt < 2; ++attempt) {
        ConnectionPtr c = attempt == 0 ? take_idle(req.origin) : nullptr;
        if (!c) {
            auto cr = co_await connect(req.origin, std::min(t.connect, t.first_byte), cancel);
            if (!cr) {
                out.emplace(std::move(cr).error());
                co_return;
            }
            c = std::move(cr).value();
        }
        bool reused = c->reused;
        scope.set(&c->tcp());
        c->tcp().expires_at(deadline);
        boost::system::error_code ec;
        std::array<net::const_buffer, 2> bufs{net::buffer(head), net::buffer(req.body)};
        if (auto* p = std::get_if<PlainStream>(&c->stream)) {
            std::tie(ec, std::ignore) = co_await net::async_write(*p, bufs, kNoThrow);
        } else {
            std::tie(ec, std::ignore) =
                co_await net::async_write(std::get<TlsStream>(c->stream), bufs, kNoThrow);
        }
        auto sent_at = Clock::now();
        auto& parser = c->full_parser;
        bool got_any = false;
        // Interim 1xx responses (100 Continue, 103 Early Hints) precede the real one: skip them,
        // or the final response would be left in the socket for the next user of the connection.
        // Bounded: their headers go to the exchange's arena, which is only reset per request.
        int interim = 0;
        while (!ec) {
            if (++interim > kMaxInterimResponses) {
                ec = bhttp::error::bad_status;
                break;
            }
            parser.emplace(req.arena);
            parser->body_limit(limits_.max_response_bytes);
            if (auto* p = std::get_if<PlainStream>(&c->stream)) {
                ec = co_await read_message(*p, c->buffer, *parser, false);
            } else {
                ec = co_await read_message(std::get<TlsStream>(c->stream), c->buffer, *parser,
                                           false);
            }
            got_any = got_any || parser->got_some();
            if (ec || parser->status() >= 200) {
                break;
            }
            if (parser->status() == 101) {
                ec = bhttp::error::bad_version;  // protocol switch: not an HTTP API answer
            }
        }
        scope.set(nullptr);
        if (scope.cancelled()) {
            c->close();
            out.emplace(cancelled_error());
            co_return;
        }
        if (ec) {
            c->close();
            bool stale = reused && !got_any && ec != beast::error::timeout &&
                         Clock::now() - sent_at < kStaleRetryWindow;
            if (stale) {
                continue;  // stale keep-alive connection: retry once on a fresh one
            }
            if (ec == bhttp::error::body_limit) {
                out.emplace(Error::make(Errc::kUpstreamProtocol, "Upstream response too large"));
                co_return;
            }
            out.emplace(transport_error(ec, got_any ? "reading response" : "waiting for response"));
            co_return;
        }
        // Only a response framed by its length (not by connection close) leaves the connection
        // reusable.
        bool reusable = parser->keep_alive() && parser->is_done();
        UpstreamResponse res = parser->release();
        parser.reset();
        if (reusable) {
            release(std::move(c));
        } else {
            c->close();
        }
        out.emplace(std::move(res));
        co_return;
    }
    out.emplace(
        Error::make(Errc::kUpstreamConnection, "Connection error: upstream closed the connection"));
}

Task<Result<std::unique_ptr<UpstreamStream>>> UpstreamPool::open_stream(const UpstreamRequest& req,
                                                                        UpstreamTimeouts t,
                                                                        UpstreamCancel* cancel) {
    auto deadline = Clock::now() + t.first_byte;
    const std::string head = build_head(req);
    for (int attempt = 0; attempt < 2; ++attempt) {
        ConnectionPtr c = attempt == 0 ? take_idle(req.origin) : nullptr;
        if (!c) {
            auto cr = co_await connect(req.origin, std::min(t.connect, t.first_byte), cancel);
            if (!cr) {
                co_return std::move(cr).error();
            }
            c = std::move(cr).value();
        }
        bool reused = c->reused;
        c->tcp().expires_at(deadline);
        boost::system::error_code ec;
        {
            CancelScope scope(cancel);
            scope.set(&c->tcp());
            if (auto* p = std::get_if<PlainStream>(&c->stream)) {
                ec = co_await write_request(*p, head, req.body);
            } else {
                ec = co_await write_request(std::get<TlsStream>(c->stream), head, req.body);
            }
        }
        if (cancel && cancel->cancelled()) {
            c->close();
            co_return cancelled_error();
        }
        if (ec) {
            c->close();
            if (reused && ec != beast::error::timeout) {
                continue;
            }
            co_return transport_error(ec, "sending request");
        }
        auto sent_at = Clock::now();
        auto s = std::make_unique<UpstreamStream>(*this, std::move(c), t, cancel, req.arena);
        s->set_first_deadline(deadline);
        auto st = co_await s->read_head(deadline);
        if (cancel && cancel->cancelled()) {
            co_return cancelled_error();
        }
        if (!st) {
            bool stale = reused && st.error().code == Errc::kUpstreamConnection &&
                         !s->got_head_bytes() && Clock::now() - sent_at < kStaleRetryWindow;
            if (stale) {
                continue;
            }
            co_return std::move(st).error();
        }
        co_return s;
    }
    co_return Error::make(Errc::kUpstreamConnection, "Connection error: upstream closed the connection");
}

// ---------------- UpstreamStream ----------------

UpstreamStream::UpstreamStream(UpstreamPool& pool,
                               ConnectionPtr conn,
                               UpstreamTimeouts t,
                               UpstreamCancel* cancel,
                               std::pmr::memory_resource* arena)
    : pool_(pool), conn_(std::move(conn)), timeouts_(t), cancel_(cancel), arena_(arena) {
    conn_->parser.emplace(std::piecewise_construct, std::make_tuple(),
                          std::make_tuple(fields_alloc(arena_)));
    conn_->parser->body_limit(boost::none);
    if (cancel_) {
        cancel_->attach(&conn_->tcp());
    }
}

UpstreamStream::~UpstreamStream() {
    bool cancelled = false;
    if (cancel_) {
        cancelled = cancel_->cancelled();
        cancel_->attach(nullptr);
    }
    if (!conn_) {
        return;
    }
    if (done_ && !cancelled && conn_->parser && conn_->parser->keep_alive()) {
        pool_.release(std::move(conn_));
    } else {
        conn_->close();
    }
}

Task<Status> UpstreamStream::read_head(Clock::time_point deadline) {
    conn_->tcp().expires_at(deadline);
    boost::system::error_code ec;
    for (int interim = 0;; ++interim) {
        if (interim >= kMaxInterimResponses) {
            conn_->close();
            co_return Error::make(Errc::kUpstreamProtocol,
                                  "Upstream sent too many interim (1xx) responses");
        }
        if (auto* p = std::get_if<PlainStream>(&conn_->stream)) {
            ec = co_await sy::http::read_head(*p, conn_->buffer, *conn_->parser);
        } else {
            ec = co_await sy::http::read_head(std::get<TlsStream>(conn_->stream), conn_->buffer,
                                              *conn_->parser);
        }
        got_head_bytes_ = got_head_bytes_ || conn_->parser->got_some();
        if (ec || conn_->parser->get().result_int() >= 200) {
            break;
        }
        if (conn_->parser->get().result_int() == 101) {
            conn_->close();
            co_return Error::make(Errc::kUpstreamProtocol, "Upstream switched protocols");
        }
        conn_->parser.emplace(std::piecewise_construct, std::make_tuple(),
                              std::make_tuple(fields_alloc(arena_)));  // skip an interim 1xx
        conn_->parser->body_limit(boost::none);
    }
    if (ec) {
        co_return transport_error(ec, "waiting for response");
    }
    const auto& h = conn_->parser->get();
    status_ = h.result_int();
    done_ = conn_->parser->is_done();
    co_return ok_status();
}

void UpstreamStream::abort() {
    done_ = false;  // never return an aborted connection to the pool
    conn_->close();
}

const Fields& UpstreamStream::head() const { return conn_->parser->get().base(); }

Task<Status> UpstreamStream::read_some(std::string& out) {
    if (done_) {
        co_return ok_status();
    }
    auto& parser = *conn_->parser;
    if (!got_body_bytes_ && first_deadline_) {
        conn_->tcp().expires_at(*first_deadline_);
    } else {
        conn_->tcp().expires_after(timeouts_.idle);
    }
    for (;;) {
        parser.get().body().data = chunk_;
        parser.get().body().size = sizeof chunk_;
        boost::system::error_code ec;
        if (auto* p = std::get_if<PlainStream>(&conn_->stream)) {
            ec = co_await read_body_some(*p, conn_->buffer, parser);
        } else {
            ec = co_await read_body_some(std::get<TlsStream>(conn_->stream), conn_->buffer, parser);
        }
        std::size_t n = sizeof chunk_ - parser.get().body().size;
        if (ec == bhttp::error::need_buffer) {
            ec = {};
        }
        if (ec) {
            conn_->close();
            co_return transport_error(ec, got_body_bytes_ ? "reading stream" : "waiting for first chunk");
        }
        if (n > 0) {
            got_body_bytes_ = true;
            out.append(chunk_, n);
        }
        done_ = parser.is_done();
        if (n > 0 || done_) {
            co_return ok_status();
        }
    }
}

Task<void> UpstreamStream::drain(Duration max_wait) {
    auto saved = timeouts_.idle;
    timeouts_.idle = max_wait;
    first_deadline_.reset();
    std::string sink;
    while (!done_) {
        sink.clear();
        auto st = co_await read_some(sink);
        if (!st || sink.size() > 64 * 1024) {
            abort();
            break;
        }
    }
    timeouts_.idle = saved;
}

Task<Status> UpstreamStream::read_all(std::string& out, std::uint64_t limit) {
    while (!done_) {
        auto st = co_await read_some(out);
        if (!st) {
            co_return st;
        }
        if (out.size() > limit) {
            conn_->close();
            co_return Error::make(Errc::kUpstreamProtocol, "Upstream response too large");
        }
    }
    co_return ok_status();
}

}  // namespace sy::http
