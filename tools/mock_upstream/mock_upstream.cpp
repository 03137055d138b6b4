#include "mock_upstream.hpp"

#include <array>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "providers.hpp"
#include "responses.hpp"
#include "state.hpp"

namespace sy::mock {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

constexpr auto kUseTuple = net::as_tuple(net::use_awaitable);
constexpr std::uint32_t kHeaderLimit = 64 * 1024;
constexpr std::uint64_t kBodyLimit = 64ULL * 1024 * 1024;
// Bytes a client may send while a response is pending (pipelining); beyond it we stop reading.
constexpr std::size_t kWatchLimit = 1024 * 1024;
constexpr auto kWriteTimeout = std::chrono::seconds(60);
constexpr auto kMaxStatsWait = std::chrono::milliseconds(60'000);

using ReusePort = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

std::string_view sv(beast::string_view s) { return {s.data(), s.size()}; }

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string lowercase(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string url_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '+') {
            out.push_back(' ');
        } else if (s[i] == '%' && i + 2 < s.size()) {
            unsigned v = 0;
            auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
            if (ec == std::errc{} && p == s.data() + i + 3) {
                out.push_back(static_cast<char>(v));
                i += 2;
            } else {
                out.push_back('%');
            }
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

std::optional<std::string> query_param(std::string_view query, std::string_view key) {
    while (!query.empty()) {
        const auto amp = query.find('&');
        const std::string_view pair = query.substr(0, amp);
        const auto eq = pair.find('=');
        if (url_decode(pair.substr(0, eq)) == key) {
            return eq == std::string_view::npos ? std::string() : url_decode(pair.substr(eq + 1));
        }
        if (amp == std::string_view::npos) {
            break;
        }
        query.remove_prefix(amp + 1);
    }
    return std::nullopt;
}

std::optional<std::uint64_t> query_uint(std::string_view query, std::string_view key) {
    auto v = query_param(query, key);
    if (!v) {
        return std::nullopt;
    }
    std::uint64_t out = 0;
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
    if (ec != std::errc{} || p != v->data() + v->size()) {
        return std::nullopt;
    }
    return out;
}

// ---- routes --------------------------------------------------------------------------------

enum class Endpoint {
    kChat,
    kCompletions,
    kEmbeddings,
    kModels,
    kModel,
    kMessages,           // Anthropic POST /v1/messages
    kCountTokens,        // Anthropic POST /v1/messages/count_tokens
    kGenerate,           // Gemini POST .../models/{m}:generateContent
    kStreamGenerate,     // Gemini POST .../models/{m}:streamGenerateContent
    kGeminiCountTokens,  // Gemini POST .../models/{m}:countTokens
    kUnknown
};

struct Route {
    Endpoint endpoint = Endpoint::kUnknown;
    Flavor flavor = Flavor::kOpenAI;
    std::string tag;
    std::string model_id;  // kModel, and the Gemini model named in the path
};

bool ends_with(std::string_view s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string tag_from_prefix(std::string_view prefix) {
    while (!prefix.empty() && prefix.front() == '/') {
        prefix.remove_prefix(1);
    }
    while (!prefix.empty() && prefix.back() == '/') {
        prefix.remove_suffix(1);
    }
    if (prefix == "v1" || prefix == "v1beta") {
        return {};
    }
    if (prefix.size() > 3 && ends_with(prefix, "/v1")) {
        prefix.remove_suffix(3);
    } else if (prefix.size() > 7 && ends_with(prefix, "/v1beta")) {
        prefix.remove_suffix(7);
    }
    return std::string(prefix);
}

// "openai/deployments/<d>", optionally after a tag of its own: an Azure OpenAI route.
bool is_azure_tag(std::string_view tag) {
    constexpr std::string_view kMarker = "openai/deployments/";
    const auto at = tag.rfind(kMarker);
    if (at == std::string_view::npos || (at > 0 && tag[at - 1] != '/')) {
        return false;
    }
    const std::string_view deployment = tag.substr(at + kMarker.size());
    return !deployment.empty() && deployment.find('/') == std::string_view::npos;
}

Route classify(std::string_view path) {
    if (path.size() > 1 && path.back() == '/') {
        path.remove_suffix(1);
    }
    // Gemini: [<tag>]/v1beta/models/<model>:<method> (or /v1/...).
    if (auto m = path.rfind("/models/"); m != std::string_view::npos) {
        const std::string_view rest = path.substr(m + 8);
        const auto colon = rest.find(':');
        if (colon != std::string_view::npos && colon > 0 &&
            rest.find('/') == std::string_view::npos) {
            const std::string_view method = rest.substr(colon + 1);
            Endpoint e = Endpoint::kUnknown;
            if (method == "generateContent") {
                e = Endpoint::kGenerate;
            } else if (method == "streamGenerateContent") {
                e = Endpoint::kStreamGenerate;
            } else if (method == "countTokens") {
                e = Endpoint::kGeminiCountTokens;
            }
            if (e != Endpoint::kUnknown) {
                return {e,
                        Flavor::kGemini,
                        tag_from_prefix(path.substr(0, m)),
                        std::string(rest.substr(0, colon))};
            }
        }
    }
    auto ends_with_segment = [&](std::string_view suffix) {
        return path.size() > suffix.size() && ends_with(path, suffix) &&
               path[path.size() - suffix.size() - 1] == '/';
    };
    auto prefix_tag = [&](std::string_view suffix) {
        return tag_from_prefix(path.substr(0, path.size() - suffix.size()));
    };
    // Anthropic: [<tag>]/v1/messages[/count_tokens].
    if (ends_with_segment("messages/count_tokens")) {
        return {
            Endpoint::kCountTokens, Flavor::kAnthropic, prefix_tag("messages/count_tokens"), {}};
    }
    if (ends_with_segment("messages")) {
        return {Endpoint::kMessages, Flavor::kAnthropic, prefix_tag("messages"), {}};
    }
    constexpr std::array<std::pair<std::string_view, Endpoint>, 4> kSuffixes = {{
        {"chat/completions", Endpoint::kChat},
        {"completions", Endpoint::kCompletions},
        {"embeddings", Endpoint::kEmbeddings},
        {"models", Endpoint::kModels},
    }};
    Route r;
    for (const auto& [suffix, endpoint] : kSuffixes) {
        if (ends_with_segment(suffix)) {
            r = {endpoint, Flavor::kOpenAI, prefix_tag(suffix), {}};
            break;
        }
    }
    if (r.endpoint == Endpoint::kUnknown) {
        if (auto m = path.find("/models/"); m != std::string_view::npos && m + 8 < path.size()) {
            r.endpoint = Endpoint::kModel;
            r.tag = tag_from_prefix(path.substr(0, m));
            r.model_id = std::string(path.substr(m + 8));
        } else if (auto v = path.find("/v1/"); v != std::string_view::npos) {
            r.tag = tag_from_prefix(path.substr(0, v));
        } else if (auto d = path.find("/deployments/"); d != std::string_view::npos) {
            // An unknown Azure operation: keep the deployment tag.
            const auto end = path.find('/', d + 13);
            r.tag = tag_from_prefix(path.substr(0, end));
        }
    }
    if (is_azure_tag(r.tag)) {
        r.flavor = Flavor::kAzure;
    }
    return r;
}

std::string model_of(const json::object* body, const Route& route) {
    if (route.flavor == Flavor::kGemini) {
        return route.model_id;
    }
    if (body != nullptr) {
        if (const json::value* m = body->if_contains("model"); m != nullptr && m->is_string()) {
            return std::string(m->get_string());
        }
    }
    if (route.endpoint == Endpoint::kModel) {
        return route.model_id;
    }
    // Azure-style ".../deployments/<name>" paths carry the model in the path.
    if (auto d = route.tag.find("deployments/"); d != std::string::npos) {
        const std::string rest = route.tag.substr(d + 12);
        return rest.substr(0, rest.find('/'));
    }
    return {};
}

bool flag_in(const json::object& o, std::string_view key) {
    const json::value* v = o.if_contains(key);
    return v != nullptr && v->is_bool() && v->get_bool();
}

bool include_usage(const json::object& o) {
    const json::value* so = o.if_contains("stream_options");
    return so != nullptr && so->is_object() && flag_in(so->get_object(), "include_usage");
}

// ---- connection ----------------------------------------------------------------------------

enum class Next {
    kKeepAlive,  // read the next request
    kClose,      // graceful close (FIN after the response)
    kDrop,       // the connection is finished or already closed/reset; just let go
};

struct Conn {
    State& state;
    beast::tcp_stream stream;
    beast::flat_buffer buffer;
    unsigned version = 11;
    bool keep_alive = true;

    [[nodiscard]] Next after_response() const {
        return keep_alive ? Next::kKeepAlive : Next::kClose;
    }
};

class ActiveRequest {
public:
    explicit ActiveRequest(State& s) : s_(s) { s_.on_request_begin(); }
    ~ActiveRequest() { s_.on_request_end(); }
    ActiveRequest(const ActiveRequest&) = delete;
    ActiveRequest& operator=(const ActiveRequest&) = delete;

private:
    State& s_;
};

class OpenConnection {
public:
    explicit OpenConnection(State& s) : s_(s) {}
    ~OpenConnection() { s_.on_connection_closed(); }
    OpenConnection(const OpenConnection&) = delete;
    OpenConnection& operator=(const OpenConnection&) = delete;

private:
    State& s_;
};

// One server-sent event as one HTTP chunk: [event: <name>\n]data: <data><separator>.
void append_event_chunk(std::string& out, const SseEvent& ev, std::string_view separator) {
    const std::size_t size =
        (ev.event.empty() ? 0 : ev.event.size() + 8) + 6 + ev.data.size() + separator.size();
    std::array<char, 20> hex{};
    auto [p, ec] = std::to_chars(hex.data(), hex.data() + hex.size(), size, 16);
    (void)ec;
    out.append(hex.data(), p);
    out += "\r\n";
    if (!ev.event.empty()) {
        out += "event: ";
        out += ev.event;
        out += '\n';
    }
    out += "data: ";
    out += ev.data;
    out += separator;
    out += "\r\n";
}

constexpr std::string_view kLastChunk = "0\r\n\r\n";

// The sequence number of a "mock-<seq>" request id.
std::uint64_t seq_of(std::string_view request_id) {
    const auto dash = request_id.rfind('-');
    std::uint64_t seq = 0;
    if (dash != std::string_view::npos) {
        std::from_chars(request_id.data() + dash + 1, request_id.data() + request_id.size(), seq);
    }
    return seq;
}

// A UUID-shaped id derived from the sequence number (Azure's apim-request-id).
std::string uuid_for(std::uint64_t seq) {
    std::array<char, 13> hex{};
    auto [p, ec] = std::to_chars(hex.data(), hex.data() + hex.size(), seq % 0x1000000000000ULL, 16);
    (void)ec;
    const std::string digits(hex.data(), p);
    return "6d6f636b-0000-4000-8000-" + std::string(12 - digits.size(), '0') + digits;
}

template <class Body>
void decorate(http::response<Body>& res,
              const std::string& request_id,
              const Directives* d,
              Flavor flavor = Flavor::kOpenAI) {
    res.set(http::field::server, "mock_upstream");
    res.set("x-request-id", request_id);
    switch (flavor) {
        case Flavor::kOpenAI:
            res.set("openai-processing-ms", "1");
            res.set("openai-version", "2020-10-01");
            break;
        case Flavor::kAzure:
            res.set("openai-processing-ms", "1");
            res.set("apim-request-id", uuid_for(seq_of(request_id)));
            res.set("x-ms-region", "East US");
            break;
        case Flavor::kAnthropic:
            res.set("request-id", anthropic_request_id(seq_of(request_id)));
            break;
        case Flavor::kGemini:
            break;
    }
    res.set(http::field::set_cookie, "mock=1");
    if (d != nullptr) {
        for (const auto& [k, v] : d->headers) {
            res.set(k, v);
        }
    }
}

// Rate-limit headers of a successful answer, in the provider's names (Gemini sends none).
template <class Body>
void add_ratelimit_headers(http::response<Body>& res, Flavor flavor = Flavor::kOpenAI) {
    switch (flavor) {
        case Flavor::kOpenAI:
        case Flavor::kAzure:
            res.set("x-ratelimit-limit-requests", "10000");
            res.set("x-ratelimit-remaining-requests", "9999");
            res.set("x-ratelimit-limit-tokens", "1000000");
            res.set("x-ratelimit-remaining-tokens", "999000");
            break;
        case Flavor::kAnthropic: {
            const std::string reset = rfc3339_in(60);
            res.set("anthropic-ratelimit-requests-limit", "4000");
            res.set("anthropic-ratelimit-requests-remaining", "3999");
            res.set("anthropic-ratelimit-requests-reset", reset);
            res.set("anthropic-ratelimit-tokens-limit", "400000");
            res.set("anthropic-ratelimit-tokens-remaining", "399000");
            res.set("anthropic-ratelimit-tokens-reset", reset);
            break;
        }
        case Flavor::kGemini:
            break;
    }
}

Response json_response(const Conn& c,
                       unsigned status,
                       std::string body,
                       const std::string& request_id,
                       const Directives* d,
                       Flavor flavor = Flavor::kOpenAI) {
    Response res{static_cast<http::status>(status), c.version};
    if (status == 529) {  // Anthropic's "overloaded"; Beast has no reason phrase for it
        res.reason("Overloaded");
    }
    decorate(res, request_id, d, flavor);
    res.set(http::field::content_type, "application/json");
    res.body() = std::move(body);
    res.keep_alive(c.keep_alive);
    res.prepare_payload();
    return res;
}

// Writes a complete response. False when the client is gone.
net::awaitable<bool> write_response(Conn& c, Response& res) {
    c.stream.expires_after(kWriteTimeout);
    auto [ec, n] = co_await http::async_write(c.stream, res, kUseTuple);
    co_return !ec;
}

net::awaitable<bool> write_raw(Conn& c, std::string_view bytes) {
    c.stream.expires_after(kWriteTimeout);
    auto [ec, n] = co_await net::async_write(c.stream, net::buffer(bytes), kUseTuple);
    co_return !ec;
}

// Waits `d` while reading the socket so that a client that goes away is noticed at once.
// Returns true when the client went away first. Bytes the client sends meanwhile (a pipelined
// request) are kept in the connection buffer.
net::awaitable<bool> wait_or_gone(Conn& c, std::chrono::milliseconds d) {
    net::steady_timer timer(c.stream.get_executor(), d);
    for (;;) {
        if (c.buffer.size() >= kWatchLimit) {
            co_await timer.async_wait(kUseTuple);
            co_return false;
        }
        // Named, not a temporary: g++ 12 destroys temporaries of a co_await full-expression
        // twice when a suspended frame is destroyed (stop()). Same reason for the named
        // responses and payload lists passed by reference below.
        auto group = net::experimental::make_parallel_group(
            timer.async_wait(net::deferred),
            c.stream.socket().async_read_some(c.buffer.prepare(4096), net::deferred));
        auto [order, timer_ec, read_ec, n] =
            co_await group.async_wait(net::experimental::wait_for_one(), net::use_awaitable);
        (void)timer_ec;
        if (!read_ec) {
            c.buffer.commit(n);
        } else if (read_ec != net::error::operation_aborted) {
            co_return true;  // EOF or reset: the client closed
        }
        if (order[0] == 0) {
            co_return false;
        }
        // The client sent bytes before the timer fired: wait again for the same deadline.
    }
}

// Reads (and discards) until the client goes away.
net::awaitable<void> wait_until_gone(Conn& c) {
    std::array<char, 4096> scratch{};
    for (;;) {
        auto [ec, n] = co_await c.stream.socket().async_read_some(net::buffer(scratch), kUseTuple);
        if (ec) {
            co_return;
        }
    }
}

void close_connection(Conn& c, bool rst) {
    beast::error_code ec;
    auto& s = c.stream.socket();
    if (rst) {
        s.set_option(net::socket_base::linger(true, 0), ec);
    } else {
        s.shutdown(tcp::socket::shutdown_both, ec);
    }
    s.close(ec);
}

// ---- API responses -------------------------------------------------------------------------

// Sends a whole JSON response, or half of it then a stall/cut when those directives ask.
net::awaitable<Next> send_api(Conn& c, Response& res, const Directives& d) {
    if (!d.stall_after && !d.cut_after) {
        if (!co_await write_response(c, res)) {
            c.state.on_cancel(false);
            co_return Next::kDrop;
        }
        co_return c.after_response();
    }
    std::ostringstream os;
    os << res;
    const std::string wire = os.str();
    const std::size_t body_start = wire.find("\r\n\r\n") + 4;
    const std::size_t cut = body_start + res.body().size() / 2;
    if (!co_await write_raw(c, std::string_view(wire).substr(0, cut))) {
        c.state.on_cancel(false);
        co_return Next::kDrop;
    }
    if (d.stall_after) {
        co_await wait_until_gone(c);
        c.state.on_cancel(false);
    } else {
        close_connection(c, d.cut_reset);
    }
    co_return Next::kDrop;
}

// Sends an error reply (a fault directive's, or a provider-side request check's).
net::awaitable<Next> send_fault(
    Conn& c, const Directives& d, const std::string& request_id, Flavor flavor, FaultReply& f) {
    Response res = json_response(
        c, static_cast<unsigned>(f.status), std::move(f.body), request_id, &d, flavor);
    for (const auto& [k, v] : f.headers) {
        res.set(k, v);
    }
    co_return co_await send_api(c, res, d);
}

// Streams `events` (the flavor's terminator, e.g. `data: [DONE]`, already included), honouring
// the pacing and stream fault directives.
net::awaitable<Next> send_stream(Conn& c,
                                 const Directives& d,
                                 unsigned status,
                                 const std::string& request_id,
                                 std::vector<SseEvent>& events,
                                 Flavor flavor) {
    State& st = c.state;
    const std::string_view sep = sse_separator(flavor);
    http::response<http::empty_body> res{static_cast<http::status>(status), c.version};
    decorate(res, request_id, &d, flavor);
    add_ratelimit_headers(res, flavor);
    res.set(http::field::content_type,
            flavor == Flavor::kGemini ? "text/event-stream" : "text/event-stream; charset=utf-8");
    res.set(http::field::cache_control, "no-cache");
    res.keep_alive(c.keep_alive);
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    c.stream.expires_after(kWriteTimeout);
    if (auto [ec, n] = co_await http::async_write_header(c.stream, sr, kUseTuple); ec) {
        st.on_cancel(false);
        co_return Next::kDrop;
    }
    std::string wire;
    if (!d.paced_stream()) {  // nothing to pace or break: one write
        for (const auto& ev : events) {
            append_event_chunk(wire, ev, sep);
        }
        wire += kLastChunk;
        if (!co_await write_raw(c, wire)) {
            st.on_cancel(true);
            co_return Next::kDrop;
        }
        co_return c.after_response();
    }

    if (d.ttft_ms > 0 && co_await wait_or_gone(c, std::chrono::milliseconds(d.ttft_ms))) {
        st.on_cancel(true);
        co_return Next::kDrop;
    }
    for (std::size_t i = 0;; ++i) {
        const auto sent = static_cast<std::int64_t>(i);
        if (d.stall_after == sent) {
            co_await wait_until_gone(c);
            st.on_cancel(true);
            co_return Next::kDrop;
        }
        if (d.cut_after == sent) {
            close_connection(c, d.cut_reset);
            co_return Next::kDrop;
        }
        if (d.stream_error_after == sent) {
            wire.clear();
            append_event_chunk(wire, stream_error_event(d, flavor), sep);
            wire += kLastChunk;
            if (!co_await write_raw(c, wire)) {
                st.on_cancel(true);
                co_return Next::kDrop;
            }
            co_return c.after_response();
        }
        if (d.malformed_after == sent) {
            wire.clear();
            append_event_chunk(wire, malformed_event(flavor), sep);
            if (!co_await write_raw(c, wire)) {
                st.on_cancel(true);
                co_return Next::kDrop;
            }
        }
        if (i == events.size()) {
            break;
        }
        if (i > 0 && d.inter_chunk_ms > 0 &&
            co_await wait_or_gone(c, std::chrono::milliseconds(d.inter_chunk_ms))) {
            st.on_cancel(true);
            co_return Next::kDrop;
        }
        wire.clear();
        append_event_chunk(wire, events[i], sep);
        if (!co_await write_raw(c, wire)) {
            st.on_cancel(true);
            co_return Next::kDrop;
        }
    }
    if (!co_await write_raw(c, kLastChunk)) {
        st.on_cancel(true);
        co_return Next::kDrop;
    }
    co_return c.after_response();
}

std::string_view header_of(const Request& req, std::string_view name) {
    return sv(req[beast::string_view(name.data(), name.size())]);
}

std::int64_t prompt_tokens_of(Flavor flavor, const json::object* obj) {
    if (obj == nullptr) {
        return 1;
    }
    switch (flavor) {
        case Flavor::kAnthropic:
            return anthropic_prompt_tokens(*obj);
        case Flavor::kGemini:
            return gemini_prompt_tokens(*obj);
        case Flavor::kOpenAI:
        case Flavor::kAzure:
            break;
    }
    return chat_prompt_tokens(*obj);
}

std::string_view azure_operation(Endpoint e) {
    switch (e) {
        case Endpoint::kCompletions:
            return "Completions_Create";
        case Endpoint::kEmbeddings:
            return "Embeddings_Create";
        default:
            return "ChatCompletions_Create";
    }
}

// What the real provider would refuse before doing any work: a missing api-version (Azure),
// missing credentials or version header, a body that is not JSON or lacks a required field.
std::optional<FaultReply> check_request(const Route& route,
                                        const Request& req,
                                        std::string_view query,
                                        const json::object* obj,
                                        std::uint64_t seq) {
    const bool post = req.method() == http::verb::post;
    switch (route.flavor) {
        case Flavor::kOpenAI:
            return std::nullopt;
        case Flavor::kAzure: {
            const auto version = query_param(query, "api-version");
            if (!version || version->empty()) {
                return FaultReply{404, azure_error_json("404", "Resource not found"), {}};
            }
            if (header_of(req, "api-key").empty() && header_of(req, "authorization").empty()) {
                return FaultReply{
                    401,
                    azure_error_json("401",
                                     "Access denied due to missing subscription key. Make sure "
                                     "to include subscription key when making requests to an "
                                     "API."),
                    {}};
            }
            return std::nullopt;
        }
        case Flavor::kAnthropic: {
            if (!post || route.endpoint == Endpoint::kUnknown) {
                return std::nullopt;
            }
            const std::string rid = anthropic_request_id(seq);
            auto invalid = [&](int status, std::string_view type, std::string_view message) {
                return FaultReply{status, anthropic_error_json(type, message, rid), {}};
            };
            if (header_of(req, "x-api-key").empty() && header_of(req, "authorization").empty()) {
                return invalid(401, "authentication_error", "x-api-key header is required");
            }
            if (header_of(req, "anthropic-version").empty()) {
                return invalid(
                    400, "invalid_request_error", "anthropic-version: header is required");
            }
            if (obj == nullptr) {
                return invalid(400,
                               "invalid_request_error",
                               "There was an issue with the JSON body of your request: it is "
                               "not a JSON object.");
            }
            const json::value* model = obj->if_contains("model");
            if (model == nullptr || !model->is_string()) {
                return invalid(400, "invalid_request_error", "model: Field required");
            }
            const json::value* messages = obj->if_contains("messages");
            if (messages == nullptr || !messages->is_array()) {
                return invalid(400, "invalid_request_error", "messages: Field required");
            }
            const json::value* max = obj->if_contains("max_tokens");
            if (route.endpoint == Endpoint::kMessages && (max == nullptr || !max->is_number())) {
                return invalid(400, "invalid_request_error", "max_tokens: Field required");
            }
            return std::nullopt;
        }
        case Flavor::kGemini: {
            if (!post) {
                return std::nullopt;
            }
            if (header_of(req, "x-goog-api-key").empty() && !query_param(query, "key") &&
                header_of(req, "authorization").empty()) {
                return FaultReply{403,
                                  gemini_error_json(403,
                                                    "Method doesn't allow unregistered callers "
                                                    "(callers without established identity). "
                                                    "Please use API Key or other form of API "
                                                    "consumer identity to call this API.",
                                                    "PERMISSION_DENIED"),
                                  {}};
            }
            if (obj == nullptr) {
                return FaultReply{
                    400,
                    gemini_error_json(400, "Invalid JSON payload received.", "INVALID_ARGUMENT"),
                    {}};
            }
            const json::value* contents = obj->if_contains("contents");
            if (route.endpoint != Endpoint::kGeminiCountTokens &&
                (contents == nullptr || !contents->is_array())) {
                return FaultReply{
                    400,
                    gemini_error_json(400,
                                      "* GenerateContentRequest.contents: contents is not "
                                      "specified\n",
                                      "INVALID_ARGUMENT"),
                    {}};
            }
            return std::nullopt;
        }
    }
    return std::nullopt;
}

std::vector<SseEvent> data_events(std::vector<std::string> payloads) {
    std::vector<SseEvent> out;
    out.reserve(payloads.size() + 1);
    for (auto& p : payloads) {
        out.push_back({{}, std::move(p)});
    }
    return out;
}

net::awaitable<Next> handle_api(Conn& c,
                                Request& req,
                                std::string_view path,
                                std::string_view query) {
    State& st = c.state;
    ActiveRequest active(st);
    const std::uint64_t seq = st.next_seq();
    const std::string request_id = "mock-" + std::to_string(seq);
    const Route route = classify(path);
    const Flavor flavor = route.flavor;

    json::value body;
    if (!req.body().empty()) {
        boost::system::error_code ec;
        body = json::parse(req.body(), ec);
        if (ec) {
            body = nullptr;
        }
    }
    const json::object* obj = body.if_object();
    const std::string model = model_of(obj, route);

    RecordedRequest rec;
    rec.seq = seq;
    rec.tag = route.tag;
    rec.method = std::string(sv(req.method_string()));
    rec.path = std::string(path);
    rec.query = std::string(query);
    rec.received_at_ms = now_ms();
    std::vector<std::pair<std::string, std::string>> header_directives;
    rec.headers.reserve(16);
    for (const auto& f : req) {
        std::string name = lowercase(sv(f.name_string()));
        std::string value(sv(f.value()));
        if (starts_with(name, "x-mock-")) {
            header_directives.emplace_back(name.substr(7), value);
        }
        rec.headers.emplace_back(std::move(name), std::move(value));
    }
    rec.body = std::move(req.body());
    std::optional<json::object> scripted = st.record(std::move(rec), model);

    Directives d;
    if (scripted || !header_directives.empty() || (obj != nullptr && obj->contains("mock"))) {
        json::object merged = scripted ? std::move(*scripted) : json::object{};
        if (obj != nullptr) {
            if (const json::value* m = obj->if_contains("mock"); m != nullptr && m->is_object()) {
                overlay_directives(merged, m->get_object());
            }
        }
        for (const auto& [name, value] : header_directives) {
            merged[normalize_directive_name(name)] = value;
        }
        if (auto err = parse_directives(merged, d)) {
            Response res = json_response(
                c, 400, error_json(*err, "mock_directive_error"), request_id, nullptr);
            co_return co_await write_response(c, res) ? c.after_response() : Next::kDrop;
        }
    }

    if (d.close) {
        c.keep_alive = false;
    }
    if (d.reset) {
        close_connection(c, true);
        co_return Next::kDrop;
    }
    if (d.hang) {
        co_await wait_until_gone(c);
        st.on_cancel(false);
        co_return Next::kDrop;
    }
    if (d.delay_ms > 0 && co_await wait_or_gone(c, std::chrono::milliseconds(d.delay_ms))) {
        st.on_cancel(false);
        co_return Next::kDrop;
    }
    if (std::optional<FaultReply> invalid = check_request(route, req, query, obj, seq)) {
        co_return co_await send_fault(c, d, request_id, flavor, *invalid);
    }
    // Gemini refuses a prompt with a 200 that carries promptFeedback.blockReason.
    const std::optional<std::string> block =
        flavor == Flavor::kGemini ? gemini_block_reason(d) : std::nullopt;
    if (!block && (d.status ? *d.status >= 300 : !d.error.empty())) {
        const std::string rid = anthropic_request_id(seq);
        const std::string api_version = query_param(query, "api-version").value_or("");
        FaultContext ctx;
        ctx.flavor = flavor;
        ctx.model = model;
        ctx.prompt_tokens = prompt_tokens_of(flavor, obj);
        ctx.request_id = rid;
        ctx.api_version = api_version;
        ctx.operation = azure_operation(route.endpoint);
        FaultReply f = fault_reply(d, ctx);
        co_return co_await send_fault(c, d, request_id, flavor, f);
    }
    const auto status = static_cast<unsigned>(d.status.value_or(200));
    const bool post = req.method() == http::verb::post;
    const bool get = req.method() == http::verb::get;

    const std::string method(sv(req.method_string()));
    Response res;
    switch (route.endpoint) {
        case Endpoint::kChat:
        case Endpoint::kCompletions:
        case Endpoint::kEmbeddings: {
            if (!post) {
                break;
            }
            if (obj == nullptr) {
                res = json_response(c,
                                    400,
                                    error_json("We could not parse the JSON body of your request. "
                                               "(HINT: This likely means you aren't using your "
                                               "HTTP library correctly. The OpenAI API expects a "
                                               "JSON payload, but what was sent was not valid "
                                               "JSON.)",
                                               "invalid_request_error"),
                                    request_id,
                                    &d,
                                    flavor);
                co_return co_await send_api(c, res, d);
            }
            if (route.endpoint == Endpoint::kEmbeddings) {
                res = json_response(
                    c, status, embeddings_json(*obj, model, d), request_id, &d, flavor);
                add_ratelimit_headers(res, flavor);
                co_return co_await send_api(c, res, d);
            }
            const bool text = route.endpoint == Endpoint::kCompletions;
            const Reply reply = plan_reply(seq, text, model, d, *obj, flavor);
            if (flag_in(*obj, "stream")) {
                const bool usage = include_usage(*obj);
                std::vector<SseEvent> events = data_events(
                    text ? text_stream_payloads(reply, usage) : chat_stream_payloads(reply, usage));
                if (!d.no_done) {
                    events.push_back({{}, "[DONE]"});
                }
                co_return co_await send_stream(c, d, status, request_id, events, flavor);
            }
            res = json_response(c,
                                status,
                                text ? text_completion_json(reply) : chat_completion_json(reply),
                                request_id,
                                &d,
                                flavor);
            add_ratelimit_headers(res, flavor);
            co_return co_await send_api(c, res, d);
        }
        case Endpoint::kMessages: {
            if (!post) {
                break;
            }
            const Reply reply = plan_reply(seq, false, model, d, *obj, flavor);
            if (flag_in(*obj, "stream")) {
                std::vector<SseEvent> events = anthropic_stream_events(reply, !d.no_done);
                co_return co_await send_stream(c, d, status, request_id, events, flavor);
            }
            res = json_response(c, status, anthropic_message_json(reply), request_id, &d, flavor);
            add_ratelimit_headers(res, flavor);
            co_return co_await send_api(c, res, d);
        }
        case Endpoint::kCountTokens:
        case Endpoint::kGeminiCountTokens: {
            if (!post) {
                break;
            }
            const std::int64_t n = d.prompt_tokens.value_or(prompt_tokens_of(flavor, obj));
            res = json_response(c,
                                status,
                                flavor == Flavor::kGemini ? gemini_count_tokens_json(n)
                                                          : anthropic_count_tokens_json(n),
                                request_id,
                                &d,
                                flavor);
            co_return co_await send_api(c, res, d);
        }
        case Endpoint::kGenerate:
        case Endpoint::kStreamGenerate: {
            if (!post) {
                break;
            }
            const Reply reply = plan_reply(seq, false, model, d, *obj, flavor);
            std::vector<std::string> payloads;
            if (block) {
                payloads.push_back(gemini_blocked_json(reply, *block));
            } else if (route.endpoint == Endpoint::kStreamGenerate) {
                payloads = gemini_stream_payloads(reply, !d.no_done);
            }
            if (route.endpoint == Endpoint::kGenerate) {
                res =
                    json_response(c,
                                  status,
                                  block ? std::move(payloads.front()) : gemini_response_json(reply),
                                  request_id,
                                  &d,
                                  flavor);
                co_return co_await send_api(c, res, d);
            }
            if (query_param(query, "alt") == "sse") {
                std::vector<SseEvent> events = data_events(std::move(payloads));
                co_return co_await send_stream(c, d, status, request_id, events, flavor);
            }
            // Without alt=sse Gemini streams one JSON array of the same responses.
            std::string array = "[";
            for (std::size_t i = 0; i < payloads.size(); ++i) {
                array += i == 0 ? "" : ",\r\n";
                array += payloads[i];
            }
            array += "]";
            res = json_response(c, status, std::move(array), request_id, &d, flavor);
            co_return co_await send_api(c, res, d);
        }
        case Endpoint::kModels:
        case Endpoint::kModel:
            if (!get) {
                break;
            }
            res = json_response(
                c,
                status,
                route.endpoint == Endpoint::kModels ? models_json() : model_json(route.model_id),
                request_id,
                &d,
                flavor);
            co_return co_await send_api(c, res, d);
        case Endpoint::kUnknown:
            break;
    }
    res = json_response(c,
                        404,
                        not_found_json(flavor, method, path, anthropic_request_id(seq)),
                        request_id,
                        &d,
                        flavor);
    co_return co_await send_api(c, res, d);
}

// ---- control API ---------------------------------------------------------------------------

net::awaitable<Next> handle_control(Conn& c,
                                    Request& req,
                                    std::string_view path,
                                    std::string_view query) {
    State& st = c.state;
    const std::string request_id = "mock-ctl-" + std::to_string(st.next_control_seq());
    const http::verb method = req.method();
    auto reply = [&](unsigned status, const json::value& body) {
        return json_response(c, status, json::serialize(body), request_id, nullptr);
    };
    auto bad_request = [&](const std::string& message) {
        return json_response(
            c, 400, error_json(message, "mock_control_error"), request_id, nullptr);
    };
    Response res;

    if (path == "/__mock/script" && method == http::verb::post) {
        boost::system::error_code ec;
        json::value body = json::parse(req.body(), ec);
        std::vector<Script> scripts;
        std::optional<std::string> err;
        if (ec) {
            err = "body must be a JSON script entry, an array of them or {\"scripts\": [...]}";
        } else {
            const json::value* list = &body;
            if (body.is_object() && body.get_object().contains("scripts")) {
                list = &body.get_object().at("scripts");
            }
            if (list->is_array()) {
                for (const auto& item : list->get_array()) {
                    Script s;
                    if ((err = parse_script(item, s))) {
                        break;
                    }
                    scripts.push_back(std::move(s));
                }
            } else {
                Script s;
                err = parse_script(*list, s);
                scripts.push_back(std::move(s));
            }
        }
        if (err) {
            res = bad_request(*err);
        } else {
            const std::size_t queued = scripts.size();
            for (auto& s : scripts) {
                st.push_script(std::move(s));
            }
            res = reply(
                200,
                json::object{{"ok", true}, {"queued", queued}, {"pending", st.pending_scripts()}});
        }
    } else if (path == "/__mock/script" && method == http::verb::get) {
        res = reply(200, json::object{{"scripts", st.scripts_json()}});
    } else if (path == "/__mock/reset" && method == http::verb::post) {
        st.reset();
        res = reply(200, json::object{{"ok", true}});
    } else if (path == "/__mock/requests" && method == http::verb::get) {
        const auto tag = query_param(query, "tag");
        const auto since = query_uint(query, "since").value_or(0);
        const auto limit = query_uint(query, "limit").value_or(kMaxRecords);
        json::array list;
        for (const auto& r : st.requests(tag, since, static_cast<std::size_t>(limit))) {
            list.emplace_back(record_to_json(r));
        }
        res = reply(200, json::object{{"requests", std::move(list)}});
    } else if (path == "/__mock/stats" && method == http::verb::get) {
        Stats s = st.stats();
        if (const auto field = query_param(query, "wait")) {
            if (!stat_counter(s, *field)) {
                res = bad_request("unknown counter '" + *field + "'");
            } else {
                const auto min = query_uint(query, "min").value_or(1);
                const auto timeout = std::min(
                    std::chrono::milliseconds(query_uint(query, "timeout_ms").value_or(5000)),
                    kMaxStatsWait);
                const auto deadline = std::chrono::steady_clock::now() + timeout;
                net::steady_timer timer(c.stream.get_executor());
                while (*stat_counter(s, *field) < min &&
                       std::chrono::steady_clock::now() < deadline) {
                    timer.expires_after(std::chrono::milliseconds(5));
                    co_await timer.async_wait(kUseTuple);
                    s = st.stats();
                }
                json::object o = stats_to_json(s);
                o["timed_out"] = *stat_counter(s, *field) < min;
                res = reply(200, o);
            }
        } else {
            res = reply(200, stats_to_json(s));
        }
    } else if (path == "/__mock/health") {
        res = reply(200, json::object{{"ok", true}});
    } else {
        res = json_response(
            c,
            404,
            error_json("unknown control endpoint " + std::string(sv(req.method_string())) + " " +
                           std::string(path),
                       "mock_control_error"),
            request_id,
            nullptr);
    }
    co_return co_await write_response(c, res) ? c.after_response() : Next::kDrop;
}

net::awaitable<Next> handle(Conn& c, Request& req) {
    const std::string_view target = sv(req.target());
    const auto q = target.find('?');
    const std::string_view path = target.substr(0, q);
    const std::string_view query = q == std::string_view::npos ? "" : target.substr(q + 1);
    if (starts_with(path, "/__mock/")) {
        co_return co_await handle_control(c, req, path, query);
    }
    co_return co_await handle_api(c, req, path, query);
}

// A request the parser refused: answer (when the client can still hear it) and close.
net::awaitable<void> reject(Conn& c, beast::error_code ec) {
    unsigned status = 400;
    std::string message = "Malformed HTTP request: " + ec.message();
    if (ec == http::error::header_limit) {
        status = 431;
        message = "Request headers exceed 64 KiB.";
    } else if (ec == http::error::body_limit) {
        status = 413;
        message = "Request body exceeds 64 MiB.";
    }
    c.keep_alive = false;
    const std::string request_id = "mock-ctl-" + std::to_string(c.state.next_control_seq());
    Response res =
        json_response(c, status, error_json(message, "invalid_request_error"), request_id, nullptr);
    co_await write_response(c, res);
}

net::awaitable<void> run_session(State* state, tcp::socket socket) {
    OpenConnection open(*state);
    beast::error_code ec;
    socket.set_option(tcp::no_delay(true), ec);
    Conn c{*state, beast::tcp_stream(std::move(socket)), {}, 11, true};
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.header_limit(kHeaderLimit);
        parser.body_limit(kBodyLimit);
        c.stream.expires_after(state->idle_timeout());
        auto [rec, n] = co_await http::async_read_header(c.stream, c.buffer, parser, kUseTuple);
        if (!rec && !parser.is_done()) {
            if (beast::iequals(sv(parser.get()[http::field::expect]), "100-continue")) {
                if (!co_await write_raw(c, "HTTP/1.1 100 Continue\r\n\r\n")) {
                    co_return;
                }
            }
            c.stream.expires_after(state->idle_timeout());
            auto [rec2, n2] = co_await http::async_read(c.stream, c.buffer, parser, kUseTuple);
            rec = rec2;
        }
        if (rec) {
            // Parser errors get an answer; end of stream, timeouts and socket errors do not.
            const bool parse_error =
                rec.category() == http::make_error_code(http::error::bad_target).category() &&
                rec != http::error::end_of_stream && rec != http::error::partial_message;
            if (parse_error) {
                co_await reject(c, rec);
            }
            break;
        }
        Request req = parser.release();
        c.version = req.version();
        c.keep_alive = req.keep_alive();
        const Next next = co_await handle(c, req);
        if (next == Next::kKeepAlive) {
            continue;
        }
        if (next == Next::kDrop) {
            co_return;
        }
        break;
    }
    c.stream.socket().shutdown(tcp::socket::shutdown_send, ec);
}

void log_session_exception(const std::exception_ptr& e) {
    if (!e) {
        return;
    }
    try {
        std::rethrow_exception(e);
    } catch (const std::exception& ex) {
        std::cerr << "mock_upstream: session failed: " << ex.what() << '\n';
    }
}

net::awaitable<void> run_listener(State* state, tcp::acceptor* acceptor) {
    for (;;) {
        auto [ec, socket] = co_await acceptor->async_accept(kUseTuple);
        if (ec) {
            if (ec == net::error::operation_aborted || !acceptor->is_open()) {
                co_return;
            }
            // Out of descriptors or similar: back off instead of spinning.
            net::steady_timer backoff(acceptor->get_executor(), std::chrono::milliseconds(10));
            co_await backoff.async_wait(kUseTuple);
            continue;
        }
        state->on_accept();
        // Sessions belong to the io_context: stop() stops and destroys it, which destroys every
        // session frame, so no separate task tracking is needed here.
        net::co_spawn(
            acceptor->get_executor(), run_session(state, std::move(socket)), log_session_exception);
    }
}

struct Worker {
    net::io_context ioc{1};
    tcp::acceptor acceptor{ioc};
    std::thread thread;
};

}  // namespace

struct MockUpstream::Impl {
    explicit Impl(Options o) : options(std::move(o)), state(options.idle_timeout) {}

    Options options;
    State state;
    std::mutex lifecycle;
    std::vector<std::unique_ptr<Worker>> workers;
    std::uint16_t port = 0;
};

MockUpstream::MockUpstream(Options options) : impl_(std::make_unique<Impl>(std::move(options))) {}

MockUpstream::MockUpstream(std::string host, std::uint16_t port, int threads)
    : MockUpstream(Options{std::move(host), port, threads, std::chrono::milliseconds(120'000)}) {}

MockUpstream::~MockUpstream() { stop(); }

std::uint16_t MockUpstream::start() {
    std::lock_guard lock(impl_->lifecycle);
    if (!impl_->workers.empty()) {
        throw std::logic_error("MockUpstream::start: already started");
    }
    const net::ip::address address = net::ip::make_address(impl_->options.host);
    const int threads = std::max(1, impl_->options.threads);
    std::vector<std::unique_ptr<Worker>> workers;
    std::uint16_t port = impl_->options.port;
    for (int i = 0; i < threads; ++i) {
        auto w = std::make_unique<Worker>();
        const tcp::endpoint ep(address, port);
        w->acceptor.open(ep.protocol());
        w->acceptor.set_option(net::socket_base::reuse_address(true));
        if (threads > 1) {
            w->acceptor.set_option(ReusePort(true));
        }
        w->acceptor.bind(ep);
        w->acceptor.listen(net::socket_base::max_listen_connections);
        port = w->acceptor.local_endpoint().port();
        workers.push_back(std::move(w));
    }
    for (auto& w : workers) {
        net::co_spawn(w->ioc, run_listener(&impl_->state, &w->acceptor), log_session_exception);
        w->thread = std::thread([ioc = &w->ioc] { ioc->run(); });
    }
    impl_->workers = std::move(workers);
    impl_->port = port;
    return port;
}

void MockUpstream::stop() {
    std::lock_guard lock(impl_->lifecycle);
    for (auto& w : impl_->workers) {
        w->ioc.stop();
    }
    for (auto& w : impl_->workers) {
        if (w->thread.joinable()) {
            w->thread.join();
        }
    }
    impl_->workers.clear();  // destroys each io_context and with it every session frame
}

std::uint16_t MockUpstream::port() const { return impl_->port; }

std::string MockUpstream::base_url() const {
    const std::string& h = impl_->options.host;
    const bool v6 = h.find(':') != std::string::npos;
    return "http://" + (v6 ? "[" + h + "]" : h) + ":" + std::to_string(impl_->port);
}

void MockUpstream::push_script(Script script) {
    if (script.tag && !script.tag->empty() && script.tag->front() == '/') {
        script.tag->erase(0, 1);
    }
    impl_->state.push_script(std::move(script));
}

void MockUpstream::reset() { impl_->state.reset(); }

std::vector<RecordedRequest> MockUpstream::requests(const std::optional<std::string>& tag) const {
    return impl_->state.requests(tag);
}

Stats MockUpstream::stats() const { return impl_->state.stats(); }

bool MockUpstream::wait_for(const std::function<bool(const Stats&)>& pred,
                            std::chrono::milliseconds timeout) const {
    return impl_->state.wait_for(pred, timeout);
}

}  // namespace sy::mock
