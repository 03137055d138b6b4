#include <gtest/gtest.h>

#include "sy/http/sse.hpp"
#include "sy/http/upstream.hpp"
#include "sy/http/url.hpp"

namespace sy::http {
namespace {

TEST(Sse, SplitsEventsAcrossArbitraryReads) {
    std::string wire = "data: {\"a\":1}\n\ndata: {\"b\":2}\r\n\r\n: keepalive\n\ndata: [DONE]\n\n";
    for (std::size_t step = 1; step <= wire.size(); ++step) {
        SseSplitter s;
        std::vector<std::string> data;
        for (std::size_t i = 0; i < wire.size(); i += step) {
            ASSERT_TRUE(s.feed(std::string_view(wire).substr(i, step)));
            while (auto ev = s.next_event()) {
                data.push_back(sse_data(*ev));
            }
        }
        ASSERT_EQ(data.size(), 4u) << "step " << step;
        EXPECT_EQ(data[0], "{\"a\":1}");
        EXPECT_EQ(data[1], "{\"b\":2}");
        EXPECT_EQ(data[2], "");  // comment line has no data
        EXPECT_EQ(data[3], "[DONE]");
    }
}

TEST(Sse, MultiLineDataAndEventField) {
    std::string type;
    EXPECT_EQ(sse_data("event: message_start\ndata: a\ndata:b", &type), "a\nb");
    EXPECT_EQ(type, "message_start");
}

TEST(Sse, OversizedEventIsRejected) {
    SseSplitter s(16);
    EXPECT_FALSE(s.feed(std::string(100, 'x')));
}

TEST(Url, ParsesHostPortPathAndDropsUserinfo) {
    auto u = parse_url("https://user:secret@api.example.com:8443/v1/?x=1");
    ASSERT_TRUE(u);
    EXPECT_TRUE(u->origin.tls);
    EXPECT_EQ(u->origin.host, "api.example.com");
    EXPECT_EQ(u->origin.port, 8443);
    EXPECT_EQ(u->base_path, "/v1");
    EXPECT_EQ(u->query, "x=1");
    EXPECT_EQ(u->display, "https://api.example.com:8443/v1");
    EXPECT_EQ(u->display.find("secret"), std::string::npos);
}

TEST(Url, DefaultsAndIpv6) {
    auto a = parse_url("http://127.0.0.1/v1");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->origin.port, 80);
    EXPECT_TRUE(a->origin.is_loopback());
    auto b = parse_url("https://[::1]:9000");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->origin.host, "::1");
    EXPECT_EQ(b->origin.port, 9000);
    EXPECT_EQ(b->base_path, "");
}

TEST(Url, RejectsBadInput) {
    EXPECT_FALSE(parse_url("ftp://x"));
    EXPECT_FALSE(parse_url("http://"));
    EXPECT_FALSE(parse_url("http://host:99999/"));
    EXPECT_FALSE(parse_url("http://host:abc/"));
    EXPECT_FALSE(parse_url("http://[::1/"));
}

}  // namespace
}  // namespace sy::http

namespace sy::http {
namespace {

// An upstream answer's head: arrival order, names as sent, case-insensitive first-match lookup,
// in an arena or in its own block, and intact after a move (the parser hands it over).
TEST(ResponseFields, OrderLookupAndMoves) {
    for (bool with_arena : {true, false}) {
        std::pmr::monotonic_buffer_resource arena;
        ResponseFields f(with_arena ? &arena : nullptr);
        for (int i = 0; i < 40; ++i) {  // past the first reservation
            f.add("X-Field-" + std::to_string(i), "v" + std::to_string(i));
        }
        f.add("Content-Type", "application/json");
        f.add("content-type", "text/plain");  // a repeat: the first one wins
        ResponseFields moved(std::move(f));
        ASSERT_EQ(moved.size(), 42u);
        EXPECT_EQ(moved.find("CONTENT-TYPE"), std::optional<std::string_view>("application/json"));
        EXPECT_EQ(moved.find("x-field-39"), std::optional<std::string_view>("v39"));
        EXPECT_FALSE(moved.find("x-field-40"));
        EXPECT_FALSE(moved.find("x-field-3 "));
        int i = 0;
        for (const auto& field : moved) {
            if (i < 40) {
                EXPECT_EQ(field.name_string(), "X-Field-" + std::to_string(i));
                EXPECT_EQ(field.value(), "v" + std::to_string(i));
            }
            ++i;
        }
        UpstreamResponse r{200, std::move(moved), "{}"};
        auto lowered = r.headers();
        ASSERT_EQ(lowered.size(), 42u);
        EXPECT_EQ(lowered[40].name, "content-type");
        EXPECT_EQ(lowered[40].value, "application/json");
    }
}

}  // namespace
}  // namespace sy::http

