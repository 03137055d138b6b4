#pragma once
// Minimal synchronous HTTP/1.1 client for tests (keep-alive connection, raw access to the wire).

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <string>
#include <utility>
#include <vector>

namespace sy::test {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

struct ClientResponse {
    int status = 0;
    bhttp::fields headers;
    std::string body;
    bool keep_alive = false;
};

class HttpClient {
public:
    explicit HttpClient(std::uint16_t port) : stream_(io_) {
        stream_.connect(net::ip::tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
    }

    ClientResponse request(bhttp::verb method,
                           const std::string& target,
                           const std::string& body,
                           std::vector<std::pair<std::string, std::string>> headers = {}) {
        bhttp::request<bhttp::string_body> req{method, target, 11};
        req.set(bhttp::field::host, "127.0.0.1");
        for (auto& [k, v] : headers) {
            req.set(k, v);
        }
        req.body() = body;
        req.prepare_payload();
        beast::error_code ec;
        bhttp::write(stream_, req, ec);  // an early error response may cut the upload short
        bhttp::response_parser<bhttp::string_body> p;
        p.body_limit(64 * 1024 * 1024);
        ec = {};
        bhttp::read(stream_, buf_, p, ec);
        ClientResponse out;
        if (ec) {
            out.status = -1;
            out.body = ec.message();
            return out;
        }
        auto msg = p.release();
        out.status = msg.result_int();
        out.keep_alive = msg.keep_alive();
        out.headers = msg.base();
        out.body = std::move(msg.body());
        return out;
    }

    ClientResponse post(const std::string& target,
                        const std::string& body,
                        std::vector<std::pair<std::string, std::string>> headers = {}) {
        return request(bhttp::verb::post, target, body, std::move(headers));
    }
    ClientResponse get(const std::string& target,
                       std::vector<std::pair<std::string, std::string>> headers = {}) {
        return request(bhttp::verb::get, target, "", std::move(headers));
    }

    beast::tcp_stream& stream() { return stream_; }

    // True when the server has closed the connection (a read returns EOF or an error).
    bool server_closed() {
        char c;
        beast::error_code ec;
        stream_.socket().read_some(net::buffer(&c, 1), ec);
        return static_cast<bool>(ec);
    }

private:
    net::io_context io_;
    beast::tcp_stream stream_;
    beast::flat_buffer buf_;
};

}  // namespace sy::test
