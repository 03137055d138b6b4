// Robustness: deterministic mutation fuzzing of every translation entry point of
// providers/gemini, seeded from the golden inputs. Properties: no crash (run under
// -fsanitize=address,undefined), every success is valid JSON, every failure is an Error with a
// 4xx/5xx status and a message, and the stream translator never emits invalid JSON after any
// sequence of events.
//
// SY_FUZZ_ITERATIONS (env) overrides the per-target iteration count.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <limits>
#include <random>

#include "golden_support.hpp"
#include "support/mutate.hpp"
#include "sy/providers/gemini/translate.hpp"

namespace sy::providers::gemini {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using test::iterations;
using test::parses;

// Words that steer mutations into the translators' interesting branches.
const char* const kWords[] = {
    "text",
    "image_url",
    "input_audio",
    "file",
    "file_data",
    "file_id",
    "tool",
    "assistant",
    "user",
    "system",
    "developer",
    "function",
    "tool_calls",
    "tool_call_id",
    "candidates",
    "content",
    "parts",
    "functionCall",
    "functionResponse",
    "thought",
    "thoughtSignature",
    "finishReason",
    "STOP",
    "MAX_TOKENS",
    "SAFETY",
    "RECITATION",
    "usageMetadata",
    "promptFeedback",
    "blockReason",
    "responseId",
    "index",
    "error",
    "RESOURCE_EXHAUSTED",
    "INVALID_ARGUMENT",
    "API_KEY_INVALID",
    "type.googleapis.com/google.rpc.RetryInfo",
    "retryDelay",
    "3s",
    "exceeds the maximum number of tokens",
    "$ref",
    "#/$defs/A",
    "$defs",
    "anyOf",
    "oneOf",
    "allOf",
    "properties",
    "required",
    "items",
    "const",
    "enum",
    "nullable",
    "null",
    "object",
    "data:image/png;base64,AAAA",
    "data:,x",
    "data:",
    "https://x.example/a.png",
    "gs://b/o.pdf",
    "auto",
    "none",
    "required",
    "json_object",
    "json_schema",
    "{\"a\":",
    "}",
    "",
    "\xC3\x28",
    "[DONE]",
    "enabled",
};

void check_error(const Error& e) {
    EXPECT_GE(e.http_status(), 400);
    EXPECT_LT(e.http_status(), 600);
    EXPECT_FALSE(e.message.empty());
    EXPECT_LE(e.message.size(), 2300u);
    std::string rendered = json::serialize(json::object{{"message", e.message}});
    EXPECT_TRUE(parses(rendered));
}

template <class R>
void check(const R& r) {
    test::check_result(r, check_error);
}

struct Seeds {
    std::vector<json::object> requests;
    std::vector<std::string> responses;
    std::vector<std::vector<std::string>> streams;
    std::vector<std::pair<int, std::string>> errors;
};

std::vector<std::string> split_sse(const std::string& text) {
    std::vector<std::string> out;
    std::string data;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t nl = text.find('\n', pos);
        std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.empty()) {
            if (!data.empty()) {
                out.push_back(data);
            }
            data.clear();
        } else if (line.rfind("data: ", 0) == 0) {
            data = line.substr(6);
        }
        if (nl == std::string::npos) {
            break;
        }
        pos = nl + 1;
    }
    if (!data.empty()) {
        out.push_back(data);
    }
    return out;
}

const Seeds& seeds() {
    static const Seeds s = [] {
        Seeds s;
        for (const auto& c : golden::discover()) {
            auto parse_obj = [&](const fs::path& p) -> std::optional<json::object> {
                boost::system::error_code ec;
                json::value v = json::parse(golden::read_file(p), ec);
                if (ec || !v.is_object()) {
                    return std::nullopt;
                }
                return v.as_object();
            };
            switch (c.kind) {
                case golden::Kind::kRequest:
                    if (auto o = parse_obj(c.dir / "input.json")) {
                        s.requests.push_back(*o);
                    }
                    break;
                case golden::Kind::kResponse:
                    s.responses.push_back(golden::read_file(c.dir / "input.json"));
                    break;
                case golden::Kind::kStream:
                    s.streams.push_back(split_sse(golden::read_file(c.dir / "events.sse")));
                    break;
                case golden::Kind::kError:
                    if (auto o = parse_obj(c.dir / "input.json")) {
                        const json::value& b = o->at("body");
                        s.errors.emplace_back(
                            static_cast<int>(o->at("status").as_int64()),
                            b.is_string() ? std::string(b.get_string()) : json::serialize(b));
                    }
                    break;
            }
        }
        return s;
    }();
    return s;
}

TEST(Robustness, SeedsWereFound) {
    const Seeds& s = seeds();
    EXPECT_GE(s.requests.size(), 15u);
    EXPECT_GE(s.responses.size(), 15u);
    EXPECT_GE(s.streams.size(), 15u);
    EXPECT_GE(s.errors.size(), 15u);
}

TEST(Robustness, OpenAIToGeminiRequest) {
    test::Mutator m(1, kWords);
    const auto& seeds_v = seeds().requests;
    ASSERT_FALSE(seeds_v.empty());
    for (int i = 0; i < iterations(); ++i) {
        json::value v = seeds_v[m.below(seeds_v.size())];
        m.mutate_structure(v);
        if (!v.is_object()) {
            continue;
        }
        RequestOptions opts;
        opts.upstream_model = "gemini-x";
        opts.drop_params = m.coin(2);
        if (m.coin(3)) {
            opts.additional_drop_params = {"messages", "tools", "stop"};
        }
        check(openai_to_gemini_request(v.as_object(), opts));
        for (const auto& u : image_urls(v.as_object())) {
            EXPECT_FALSE(u.empty());
        }
    }
}

TEST(Robustness, GeminiToOpenAIResponse) {
    test::fuzz_text(3, kWords, seeds().responses, [](const std::string& t) {
        check(gemini_to_openai_response(t, "grp"));
    });
}

TEST(Robustness, MapGeminiErrorAndRetryDelay) {
    std::vector<std::string> bodies;
    for (const auto& [status, body] : seeds().errors) {
        bodies.push_back(body);
    }
    bodies.push_back(std::string(5000, 'x') + "\xE2\x82");
    test::Mutator m(5, kWords);
    test::fuzz_text(5, kWords, bodies, [&](const std::string& t) {
        int status = static_cast<int>(m.below(700)) - 50;
        Error e = map_gemini_error(status, t);
        check_error(e);
        if (auto d = retry_delay_seconds(t)) {
            EXPECT_TRUE(std::isfinite(*d));
            EXPECT_GE(*d, 0.0);
        }
    });
}

TEST(Robustness, GeneratePath) {
    test::Mutator m(8, kWords);
    for (int i = 0; i < iterations(); ++i) {
        std::string model(m.below(40), '\0');
        for (char& c : model) {
            c = static_cast<char>(m.rng()());
        }
        for (bool stream : {false, true}) {
            std::string p = generate_path(model, stream);
            EXPECT_EQ(p.rfind("/v1beta/", 0), 0u);
            std::string_view tail = stream ? ":streamGenerateContent?alt=sse" : ":generateContent";
            ASSERT_GE(p.size(), tail.size());
            EXPECT_EQ(p.substr(p.size() - tail.size()), tail);
            EXPECT_EQ(p.find('?'), stream ? p.size() - 8 : std::string::npos) << p;
            for (char c : p) {
                EXPECT_TRUE(c > 0x20 && c < 0x7f) << p;
            }
        }
    }
}

TEST(Robustness, StreamToOpenAI) {
    test::Mutator m(6, kWords);
    const auto& streams = seeds().streams;
    ASSERT_FALSE(streams.empty());
    for (int i = 0; i < iterations(); ++i) {
        auto events = streams[m.below(streams.size())];
        test::mutate_events(m, events);
        StreamToOpenAI t("grp", m.coin(2));
        std::string id;
        for (const auto& data : events) {
            auto r = t.on_event(data);
            if (!r) {
                check_error(r.error());
                continue;  // keep feeding: a failed stream must stay failed, not crash
            }
            for (const auto& c : *r) {
                ASSERT_TRUE(parses(c)) << c;
                json::value v = json::parse(c);
                std::string cid(v.at("id").as_string());
                if (id.empty()) {
                    id = cid;
                }
                ASSERT_EQ(cid, id);
            }
        }
        for (const auto& c : t.finish()) {
            ASSERT_TRUE(parses(c)) << c;
        }
    }
}

// Hand-picked hostile inputs that random mutation may not reach.
TEST(Robustness, HostileInputs) {
    // Candidate indexes at the limits.
    StreamToOpenAI t("m", true);
    EXPECT_FALSE(t.on_event(
        R"({"candidates":[{"index":9223372036854775807,"content":{"parts":[{"text":"x"}]}}]})"));
    StreamToOpenAI neg("m", true);
    EXPECT_FALSE(
        neg.on_event(R"({"candidates":[{"index":-1,"content":{"parts":[{"text":"x"}]}}]})"));
    StreamToOpenAI frac("m", true);
    EXPECT_TRUE(
        frac.on_event(R"({"candidates":[{"index":1.5,"content":{"parts":[{"text":"x"}]}}]})"));

    // Many candidates, many function calls: bounded state.
    std::string many = R"({"candidates":[)";
    for (int i = 0; i < 100; ++i) {
        many += (i ? "," : "") + std::string(R"({"index":)") + std::to_string(i) + "}";
    }
    many += "]}";
    StreamToOpenAI mc("m", false);
    EXPECT_FALSE(mc.on_event(many));
    EXPECT_FALSE(gemini_to_openai_response(many, "m"));

    StreamToOpenAI calls("m", false);
    Result<std::vector<std::string>> last = std::vector<std::string>{};
    for (int i = 0; i < 5000 && last; ++i) {
        last = calls.on_event(
            R"({"candidates":[{"content":{"parts":[{"functionCall":{"name":"f","args":{}}}]}}]})");
    }
    EXPECT_FALSE(last);

    // Deeply nested JSON beyond the parser bound is a clean error, not a stack overflow.
    std::string deep(100000, '[');
    EXPECT_FALSE(gemini_to_openai_response(deep, "m"));
    StreamToOpenAI d("m", true);
    EXPECT_FALSE(d.on_event(deep));
    Error e = map_gemini_error(500, deep);
    EXPECT_EQ(e.http_status(), 500);
    EXPECT_EQ(retry_delay_seconds(deep), std::nullopt);

    // Empty and whitespace inputs.
    EXPECT_FALSE(gemini_to_openai_response("", "m"));
    EXPECT_FALSE(gemini_to_openai_response("  ", "m"));
    StreamToOpenAI empty("m", true);
    EXPECT_FALSE(empty.on_event(""));
    EXPECT_TRUE(StreamToOpenAI("m", true).on_event("[DONE]"));

    // Requests with wrong top-level shapes.
    RequestOptions opts;
    EXPECT_FALSE(openai_to_gemini_request(json::object{}, opts));
    EXPECT_FALSE(openai_to_gemini_request(json::object{{"messages", "hi"}}, opts));
    EXPECT_FALSE(openai_to_gemini_request(json::object{{"messages", json::array{1, 2}}}, opts));

    // A deeply nested tool schema (built directly, beyond what the parser would accept).
    json::value schema = json::object{{"type", "string"}};
    for (int i = 0; i < 500; ++i) {
        schema = json::object{{"type", "array"}, {"items", std::move(schema)}};
    }
    json::object body{{"messages", json::array{json::object{{"role", "user"}, {"content", "x"}}}},
                      {"tools",
                       json::array{json::object{
                           {"type", "function"},
                           {"function", json::object{{"name", "f"}, {"parameters", schema}}}}}}};
    auto r = openai_to_gemini_request(body, opts);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().http_status(), 400);
}

}  // namespace
}  // namespace sy::providers::gemini
