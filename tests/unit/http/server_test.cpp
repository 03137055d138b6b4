// The HTTP server on its own (port 0, a trivial handler): connection cap.
#include "sy/http/server.hpp"

#include <gtest/gtest.h>

#include "ok_handler.hpp"
#include "support/http_client.hpp"

namespace sy::http {
namespace {

using test_support::OkHandler;

TEST(Server, ConnectionsPastTheCapAreClosedNotQueued) {
    OkHandler handler;
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
