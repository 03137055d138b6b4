// Robustness of the request decoder, the SSE splitter and the JSON scanner on malformed input:
// deterministic mutations (truncations, byte flips, token soup, deep nesting, huge values).
// Every input must give a value or a 4xx error: no crash, no exception, no hang. Runs under
// ASan/UBSan with `make test-asan`.
#include <gtest/gtest.h>

#include <random>

#include "sy/core/json_scan.hpp"
#include "sy/http/sse.hpp"
#include "sy/pipeline/decode.hpp"

namespace sy {
namespace {

using providers::Route;

const std::vector<std::string> kSeeds = {
    R"({"model":"gpt-4o","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true},"temperature":0.2,"metadata":{"a":[1,2,{"b":null}]},"tools":[{"type":"function","function":{"name":"f","parameters":{"type":"object"}}}]})",
    R"({"model":"m","prompt":["a","b"],"max_tokens":5,"stop":["\n"],"timeout":1.5})",
    R"({"model":"e","input":["x","y"],"encoding_format":"float","user":"u\u00e9\"q"})",
    R"({"metadata":{"x":1},"mock_response":null,"model":"m","messages":[{"role":"user"}],"tags":["a"],"timeout":2})",
    R"( { "fallbacks" : [] , "model" : "m" , "messages" : [ { "role" : "user" } ] , "cache" : {} } )",
};

std::string mutate(std::string s, std::mt19937& rng) {
    std::uniform_int_distribution<int> op(0, 5);
    std::uniform_int_distribution<std::size_t> pos(0, s.empty() ? 0 : s.size() - 1);
    static const char* kTokens[] = {"{", "}", "[", "]", "\"", ":", ",", "null", "true", "-1e999",
                                    "\\u0000", "\\ud800", "\xff", "1.5", "\"model\"", "\n"};
    switch (op(rng)) {
        case 0:
            return s.substr(0, pos(rng));
        case 1:
            if (!s.empty()) {
                s[pos(rng)] = static_cast<char>(rng() & 0xff);
            }
            return s;
        case 2:
            s.insert(s.empty() ? 0 : pos(rng), kTokens[rng() % std::size(kTokens)]);
            return s;
        case 3:
            if (s.size() > 2) {
                s.erase(pos(rng), 1 + rng() % 8);
            }
            return s;
        case 4:
            return s + s;
        default:
            std::shuffle(s.begin(), s.end(), rng);
            return s;
    }
}

void exercise(const std::string& input) {
    for (Route r : {Route::kChat, Route::kCompletions, Route::kEmbeddings}) {
        auto d = pipeline::decode_request(r, input);
        if (d) {
            auto body = pipeline::build_upstream_body(*d, "upstream-model", {});
            EXPECT_TRUE(json_scan::is_valid(body));
        } else {
            EXPECT_EQ(d.error().http_status(), 400) << d.error().message;
            EXPECT_FALSE(d.error().message.empty());
        }
    }
    (void)json_scan::is_valid(input);
    (void)json_scan::find_top_level(input, "model");
    std::string replaced = json_scan::replace_top_level_string(input, "model", "x\"y");
    if (json_scan::is_valid(input) && json_scan::find_top_level(input, "model")) {
        EXPECT_TRUE(json_scan::is_valid(replaced)) << input;
    }
}

TEST(RequestFuzz, MutatedRequestsNeverCrash) {
    std::mt19937 rng(12345);
    for (const auto& seed : kSeeds) {
        for (std::size_t cut = 0; cut <= seed.size(); ++cut) {
            exercise(seed.substr(0, cut));
        }
        std::string cur = seed;
        for (int i = 0; i < 4000; ++i) {
            cur = (i % 10 == 0) ? seed : mutate(cur, rng);
            if (cur.size() > 1 << 16) {
                cur = seed;
            }
            exercise(cur);
        }
    }
}

TEST(RequestFuzz, PathologicalShapes) {
    exercise(std::string(100000, '['));
    exercise(std::string(100000, '{'));
    exercise("{\"model\":\"" + std::string(1 << 20, 'a') + "\",\"messages\":[{\"role\":\"user\"}]}");
    exercise("{\"model\":\"m\",\"messages\":[" + std::string(50000, '[') + "]}");
    std::string many = "{\"model\":\"m\",\"messages\":[";
    for (int i = 0; i < 20000; ++i) {
        many += "{\"role\":\"user\",\"content\":\"x\"},";
    }
    many += "{\"role\":\"user\"}]}";
    exercise(many);
    exercise(std::string("\0\0\0", 3));
}

TEST(SseFuzz, RandomFramingNeverCrashesAndIsBounded) {
    std::mt19937 rng(777);
    const std::string base =
        "data: {\"id\":\"x\",\"model\":\"m\",\"choices\":[]}\n\nevent: e\ndata: a\ndata: b\n\n"
        ": comment\r\n\r\ndata: [DONE]\n\n";
    for (int i = 0; i < 3000; ++i) {
        std::string wire = base;
        for (int k = 0; k < 3; ++k) {
            wire = mutate(wire, rng);
        }
        http::SseSplitter s(1024);
        std::string scratch;
        std::size_t off = 0;
        while (off < wire.size()) {
            std::size_t n = 1 + rng() % 64;
            if (!s.feed(std::string_view(wire).substr(off, n))) {
                break;
            }
            off += n;
            while (auto ev = s.next_event()) {
                auto data = http::sse_data_view(*ev, scratch);
                (void)json_scan::is_valid(data);
                EXPECT_LE(ev->size(), wire.size());
            }
            EXPECT_LE(s.pending(), 1024u + 64u);
        }
    }
}

}  // namespace
}  // namespace sy
