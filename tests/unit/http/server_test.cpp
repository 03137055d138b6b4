// The HTTP server on its own (port 0, a trivial handler): connection cap.
#include "sy/http/server.hpp"

#include <gtest/gtest.h>

#include "support/http_client.hpp"

namespace sy::http {
namespace {

class EchoHandler : public RequestHandler {
public:
    Task<void> handle(Exchange& ex) override {
        Response res{bhttp::status::ok, 11};
        res.body() = "ok";
        co_await ex.respond(res);
    }
    Response protocol_error(int status, std::string_view message) override {
        Response res{static_cast<bhttp::status>(status), 11};
        res.body() = std::string(message);
        return res;
    }
};

TEST(Server, ConnectionsPastTheCapAreClosedNotQueued) {
    EchoHandler handler;
    ServerOptions opts;
    opts.host = "127.0.0.1";
    opts.port = 0;
    opts.num_workers = 1;
    opts.limits.max_connections_per_worker = 1;
    Server server(opts, handler);
    auto port = server.listen();
    ASSERT_TRUE(port);
    server.start();
    test::HttpClient first(*port);
    ASSERT_EQ(first.get("/").status, 200);  // holds the only slot (keep-alive)
    test::HttpClient second(*port);
    EXPECT_EQ(second.get("/").status, -1);  // closed by the server
    EXPECT_EQ(server.refused_connections(), 1u);
    EXPECT_EQ(first.get("/").status, 200);  // the first connection is unaffected
    server.stop();
}

}  // namespace
}  // namespace sy::http
