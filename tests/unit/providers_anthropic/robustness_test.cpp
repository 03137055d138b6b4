// Robustness: deterministic mutation fuzzing of every translation entry point, seeded from the
// golden inputs. Properties: no crash (run under -fsanitize=address,undefined), every success is
// valid JSON, every failure is an Error with a 4xx/5xx status and a message, and stream
// translators never emit invalid JSON after any sequence of events.
//
// SY_FUZZ_ITERATIONS (env) overrides the per-target iteration count.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <iterator>
#include <limits>
#include <random>

#include "golden_support.hpp"
#include "support/mutate.hpp"
#include "sy/providers/anthropic/translate.hpp"

namespace sy::providers::anthropic {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;
using test::iterations;
using test::parses;

// Words that steer mutations into the translators' interesting branches.
const char* const kWords[] = {
    "text",
    "image",
    "image_url",
    "tool_use",
    "tool_result",
    "tool",
    "assistant",
    "user",
    "system",
    "function",
    "thinking",
    "redacted_thinking",
    "input_json_delta",
    "text_delta",
    "thinking_delta",
    "signature_delta",
    "json_tool_call",
    "message_start",
    "message_delta",
    "message_stop",
    "content_block_start",
    "content_block_delta",
    "content_block_stop",
    "error",
    "data:image/png;base64,AAAA",
    "data:application/pdf;base64,JVBE",
    "data:,x",
    "data:",
    "https://x.example/a.png",
    "file",
    "document",
    "base64",
    "url",
    "auto",
    "any",
    "none",
    "required",
    "json_object",
    "json_schema",
    "tool_calls",
    "stop",
    "length",
    "end_turn",
    "max_tokens",
    "{\"a\":",
    "}",
    "",
    "\xC3\x28",
    "overloaded_error",
    "rate_limit_error",
    "prompt is too long",
    "[DONE]",
    "enabled",
};

void check_error(const Error& e) {
    EXPECT_GE(e.http_status(), 400);
    EXPECT_LT(e.http_status(), 600);
    EXPECT_FALSE(e.message.empty());
    EXPECT_TRUE(parses(anthropic_error_envelope(e.http_status(), e.message))) << e.message;
}

template <class R>
void check(const R& r) {
    test::check_result(r, check_error);
}

struct Seeds {
    std::vector<json::object> openai_requests;
    std::vector<json::object> anthropic_requests;
    std::vector<std::string> anthropic_responses;
    std::vector<std::string> openai_responses;
    std::vector<std::vector<std::pair<std::string, std::string>>> anthropic_streams;
    std::vector<std::vector<std::string>> openai_streams;
    std::vector<std::pair<int, std::string>> errors;
};

std::vector<std::pair<std::string, std::string>> split_sse(const std::string& text) {
    std::vector<std::pair<std::string, std::string>> out;
    std::string type;
    std::string data;
    std::size_t pos = 0;
    while (pos <= text.size()) {
        std::size_t nl = text.find('\n', pos);
        std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
        if (line.empty()) {
            if (!data.empty() || !type.empty()) {
                out.emplace_back(type, data);
            }
            type.clear();
            data.clear();
        } else if (line.rfind("event: ", 0) == 0) {
            type = line.substr(7);
        } else if (line.rfind("data: ", 0) == 0) {
            data = line.substr(6);
        }
        if (nl == std::string::npos) {
            break;
        }
        pos = nl + 1;
    }
    if (!data.empty() || !type.empty()) {
        out.emplace_back(type, data);
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
                        s.openai_requests.push_back(*o);
                    }
                    break;
                case golden::Kind::kMsgRequest:
                    if (auto o = parse_obj(c.dir / "input.json")) {
                        s.anthropic_requests.push_back(*o);
                    }
                    break;
                case golden::Kind::kResponse:
                    s.anthropic_responses.push_back(golden::read_file(c.dir / "input.json"));
                    break;
                case golden::Kind::kMsgResponse:
                    s.openai_responses.push_back(golden::read_file(c.dir / "input.json"));
                    break;
                case golden::Kind::kStream:
                    s.anthropic_streams.push_back(
                        split_sse(golden::read_file(c.dir / "events.sse")));
                    break;
                case golden::Kind::kMsgStream: {
                    std::vector<std::string> chunks;
                    for (auto& [t, d] : split_sse(golden::read_file(c.dir / "events.sse"))) {
                        chunks.push_back(d);
                    }
                    s.openai_streams.push_back(std::move(chunks));
                    break;
                }
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
    EXPECT_GE(s.openai_requests.size(), 15u);
    EXPECT_GE(s.anthropic_requests.size(), 15u);
    EXPECT_GE(s.anthropic_responses.size(), 15u);
    EXPECT_GE(s.openai_responses.size(), 15u);
    EXPECT_GE(s.anthropic_streams.size(), 15u);
    EXPECT_GE(s.openai_streams.size(), 15u);
}

TEST(Robustness, OpenAIToAnthropicRequest) {
    test::Mutator m(1, kWords);
    const auto& seeds_v = seeds().openai_requests;
    ASSERT_FALSE(seeds_v.empty());
    for (int i = 0; i < iterations(); ++i) {
        json::value v = seeds_v[m.below(seeds_v.size())];
        m.mutate_structure(v);
        if (!v.is_object()) {
            continue;
        }
        RequestOptions opts;
        opts.upstream_model = "claude-x";
        opts.drop_params = m.coin(2);
        opts.modify_params = m.coin(2);
        opts.default_max_tokens = m.coin(10) ? -5 : 4096;
        if (m.coin(3)) {
            opts.additional_drop_params = {"messages", "tools", "stop"};
        }
        check(openai_to_anthropic_request(v.as_object(), opts));
    }
}

TEST(Robustness, AnthropicToOpenAIRequest) {
    test::Mutator m(2, kWords);
    const auto& seeds_v = seeds().anthropic_requests;
    ASSERT_FALSE(seeds_v.empty());
    for (int i = 0; i < iterations(); ++i) {
        json::value v = seeds_v[m.below(seeds_v.size())];
        m.mutate_structure(v);
        if (!v.is_object()) {
            continue;
        }
        check(anthropic_to_openai_request(v.as_object(), "gpt-x"));
    }
}

TEST(Robustness, AnthropicToOpenAIResponse) {
    test::fuzz_text(3, kWords, seeds().anthropic_responses, [](const std::string& t) {
        check(anthropic_to_openai_response(t, "grp"));
    });
}

TEST(Robustness, OpenAIToAnthropicResponse) {
    test::fuzz_text(4, kWords, seeds().openai_responses, [](const std::string& t) {
        check(openai_to_anthropic_response(t, "grp"));
    });
}

TEST(Robustness, MapAnthropicError) {
    std::vector<std::string> bodies;
    for (const auto& [status, body] : seeds().errors) {
        bodies.push_back(body);
    }
    bodies.push_back(std::string(5000, 'x') + "\xE2\x82");
    test::Mutator m(5, kWords);
    test::fuzz_text(5, kWords, bodies, [&](const std::string& t) {
        int status = static_cast<int>(m.below(700)) - 50;
        Error e = map_anthropic_error(status, t);
        EXPECT_FALSE(e.message.empty());
        EXPECT_LE(e.message.size(), 2100u);
        EXPECT_TRUE(parses(anthropic_error_envelope(status, e.message)));
    });
}

const char* const kEventTypes[] = {"message_start",
                                   "content_block_start",
                                   "content_block_delta",
                                   "content_block_stop",
                                   "message_delta",
                                   "message_stop",
                                   "ping",
                                   "error",
                                   "",
                                   "unknown_future_event"};

TEST(Robustness, StreamToOpenAI) {
    test::Mutator m(6, kWords);
    const auto& streams = seeds().anthropic_streams;
    ASSERT_FALSE(streams.empty());
    for (int i = 0; i < iterations(); ++i) {
        auto events = streams[m.below(streams.size())];
        // Events are (type, data); the extra edit replaces an event's type.
        test::mutate_events(
            m,
            events,
            [](std::pair<std::string, std::string>& ev) -> std::string& { return ev.second; },
            [&](std::pair<std::string, std::string>& ev) {
                ev.first = kEventTypes[m.below(std::size(kEventTypes))];
            });
        StreamToOpenAI t("grp", m.coin(2));
        for (const auto& [type, data] : events) {
            auto r = t.on_event(type, data);
            if (!r) {
                check_error(r.error());
                continue;  // keep feeding: a failed stream must stay failed, not crash
            }
            for (const auto& c : *r) {
                ASSERT_TRUE(parses(c)) << c;
            }
        }
        for (const auto& c : t.finish()) {
            ASSERT_TRUE(parses(c)) << c;
        }
    }
}

TEST(Robustness, OpenAIStreamToAnthropic) {
    test::Mutator m(7, kWords);
    const auto& streams = seeds().openai_streams;
    ASSERT_FALSE(streams.empty());
    for (int i = 0; i < iterations(); ++i) {
        auto chunks = streams[m.below(streams.size())];
        test::mutate_events(m, chunks);
        OpenAIStreamToAnthropic t("grp", static_cast<std::int64_t>(m.below(100)) - 10);
        for (const auto& c : chunks) {
            auto r = t.on_chunk(c);
            if (!r) {
                check_error(r.error());
                continue;
            }
            for (const auto& e : *r) {
                ASSERT_TRUE(parses(e.data_json)) << e.data_json;
                ASSERT_FALSE(e.event_type.empty());
            }
        }
        for (const auto& e : t.finish()) {
            ASSERT_TRUE(parses(e.data_json)) << e.data_json;
        }
    }
}

// Hand-picked hostile inputs that random mutation may not reach.
TEST(Robustness, HostileInputs) {
    // Index values at the limits, negative indexes, a huge number of blocks.
    StreamToOpenAI t("m", true);
    EXPECT_TRUE(t.on_event(
        "content_block_start",
        R"({"index":9223372036854775807,"content_block":{"type":"tool_use","id":"a","name":"b")"
        R"(}})"));
    EXPECT_TRUE(t.on_event(
        "content_block_delta",
        R"({"index":9223372036854775807,"delta":{"type":"input_json_delta","partial_json":"{}")"
        R"(}})"));
    EXPECT_TRUE(t.on_event("content_block_start",
                           R"({"index":-1,"content_block":{"type":"text","text":"x"}})"));
    EXPECT_FALSE(t.on_event("content_block_stop", R"({"index":1.5})"));

    StreamToOpenAI many("m", false);
    Result<std::vector<std::string>> last = std::vector<std::string>{};
    for (int i = 0; i < 5000 && last; ++i) {
        last = many.on_event("content_block_start",
                             R"({"index":)" + std::to_string(i) +
                                 R"(,"content_block":{"type":"tool_use","id":"a","name":"b"}})");
    }
    EXPECT_FALSE(last);  // bounded per-message state

    // Deeply nested JSON beyond the parser bound is a clean error, not a stack overflow.
    std::string deep(100000, '[');
    EXPECT_FALSE(anthropic_to_openai_response(deep, "m"));
    EXPECT_FALSE(openai_to_anthropic_response(deep, "m"));
    StreamToOpenAI d("m", true);
    EXPECT_FALSE(d.on_event("message_start", deep));
    OpenAIStreamToAnthropic d2("m");
    EXPECT_FALSE(d2.on_chunk(deep));

    // Many distinct tool indexes.
    OpenAIStreamToAnthropic tools("m");
    Result<std::vector<AnthropicEvent>> lr = std::vector<AnthropicEvent>{};
    for (int i = 0; i < 2000 && lr; ++i) {
        lr = tools.on_chunk(R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":)" +
                            std::to_string(i) + R"(,"id":"c","function":{"name":"f"}}]}}]})");
    }
    EXPECT_FALSE(lr);

    // A tool index at INT64_MAX followed by an index-less call with a new id.
    OpenAIStreamToAnthropic edge("m");
    EXPECT_TRUE(
        edge.on_chunk(R"({"choices":[{"index":0,"delta":{"tool_calls":[)"
                      R"({"index":9223372036854775807,"id":"a","function":{"name":"f"}}]}}]})"));
    EXPECT_FALSE(edge.on_chunk(R"({"choices":[{"index":0,"delta":{"tool_calls":[)"
                               R"({"id":"b","function":{"name":"g"}}]}}]})"));

    // Empty and whitespace inputs.
    EXPECT_FALSE(anthropic_to_openai_response("", "m"));
    EXPECT_FALSE(openai_to_anthropic_response("  ", "m"));
    StreamToOpenAI e("m", true);
    EXPECT_FALSE(e.on_event("message_start", ""));
    EXPECT_TRUE(StreamToOpenAI("m", true).on_event("ping", ""));

    // Requests with wrong top-level shapes.
    RequestOptions opts;
    EXPECT_FALSE(openai_to_anthropic_request(json::object{}, opts));
    EXPECT_FALSE(openai_to_anthropic_request(json::object{{"messages", "hi"}}, opts));
    EXPECT_FALSE(anthropic_to_openai_request(json::object{{"messages", json::array{1, 2}}}, "m"));
}

}  // namespace
}  // namespace sy::providers::anthropic
