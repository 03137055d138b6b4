#pragma once
// Test helpers shared by the mock_upstream gtests: a tiny synchronous keep-alive HTTP client
// and SSE splitters. Test-only; not part of sy_mock_upstream.

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace sy::mock::test_support {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using Headers = std::vector<std::pair<std::string, std::string>>;

inline std::string str(beast::string_view s) { return {s.data(), s.size()}; }

class Client {
public:
    explicit Client(std::uint16_t port) : socket_(ioc_) {
        socket_.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    }

    void write(http::verb method,
               const std::string& target,
               const std::string& body = {},
               const Headers& headers = {}) {
        http::request<http::string_body> req{method, target, 11};
        req.set(http::field::host, "127.0.0.1");
        for (const auto& [k, v] : headers) {
            req.set(k, v);
        }
        if (!body.empty()) {
            req.set(http::field::content_type, "application/json");
            req.body() = body;
        }
        req.prepare_payload();
        http::write(socket_, req);
    }

    http::response<http::string_body> read() {
        http::response_parser<http::string_body> parser;
        parser.body_limit(boost::none);
        http::read(socket_, buffer_, parser);
        return parser.release();
    }

    http::response<http::string_body> call(http::verb method,
                                           const std::string& target,
                                           const std::string& body = {},
                                           const Headers& headers = {}) {
        write(method, target, body, headers);
        return read();
    }

    tcp::socket& socket() { return socket_; }

private:
    net::io_context ioc_;
    tcp::socket socket_;
    beast::flat_buffer buffer_;
};

// One parsed server-sent event.
struct Event {
    std::string event;  // "" when the event had no `event:` line
    std::string data;
};

// Events of an SSE body separated by "\n\n" or "\r\n\r\n"; lines end with "\n" or "\r\n".
inline std::vector<Event> parse_sse(const std::string& body) {
    std::vector<Event> out;
    Event cur;
    bool any = false;
    std::size_t pos = 0;
    while (pos < body.size()) {
        auto eol = body.find('\n', pos);
        if (eol == std::string::npos) {
            eol = body.size();
        }
        std::string line = body.substr(pos, eol - pos);
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        pos = eol + 1;
        if (line.empty()) {
            if (any) {
                out.push_back(std::move(cur));
                cur = {};
                any = false;
            }
            continue;
        }
        if (line.rfind("event: ", 0) == 0) {
            cur.event = line.substr(7);
            any = true;
        } else if (line.rfind("data: ", 0) == 0) {
            cur.data = line.substr(6);
            any = true;
        }
    }
    if (any) {
        out.push_back(std::move(cur));
    }
    return out;
}

// `data:` payloads of an SSE body, in order.
inline std::vector<std::string> sse_events(const std::string& body) {
    std::vector<std::string> out;
    for (auto& e : parse_sse(body)) {
        out.push_back(std::move(e.data));
    }
    return out;
}

}  // namespace sy::mock::test_support
