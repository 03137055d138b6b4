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
#include "sy/providers/anthropic/translate.hpp"

namespace sy::providers::anthropic {
namespace {

namespace json = boost::json;
namespace fs = std::filesystem;

int iterations() {
    if (const char* s = std::getenv("SY_FUZZ_ITERATIONS")) {
        int n = std::atoi(s);
        if (n > 0) {
            return n;
        }
    }
    return 4000;
}

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

class Mutator {
public:
    explicit Mutator(std::uint32_t seed) : rng_(seed) {}

    std::size_t below(std::size_t n) { return n == 0 ? 0 : rng_() % n; }

    // A steering word that is valid UTF-8: values in a json::value always come from a parser
    // that validates UTF-8, so structural mutations must not invent invalid strings.
    std::string_view word_utf8() {
        for (;;) {
            std::string_view w = kWords[below(std::size(kWords))];
            if (w != "\xC3\x28") {
                return w;
            }
        }
    }
    bool coin(int one_in) { return below(static_cast<std::size_t>(one_in)) == 0; }

    json::value random_scalar_or_container(int depth = 0) {
        switch (below(14)) {
            case 0:
                return nullptr;
            case 1:
                return coin(2);
            case 2:
                return static_cast<std::int64_t>(below(5)) - 2;
            case 3:
                return std::numeric_limits<std::int64_t>::max();
            case 4:
                return std::numeric_limits<std::uint64_t>::max();
            case 5:
                return coin(2) ? 1e308 : -0.5;
            case 6:
                return json::string(word_utf8());
            case 7:
                return json::array{};
            case 8:
                return json::object{};
            case 9: {
                json::value v = json::array{};
                json::value* cur = &v;
                int d = static_cast<int>(below(100));
                for (int i = 0; i < d; ++i) {
                    cur->as_array().push_back(json::array{});
                    cur = &cur->as_array().back();
                }
                return v;
            }
            case 10:
                if (depth < 2) {
                    json::object o;
                    o["type"] = word_utf8();
                    o[word_utf8()] = random_scalar_or_container(depth + 1);
                    return o;
                }
                return "x";
            case 11:
                if (depth < 2) {
                    return json::array{random_scalar_or_container(depth + 1)};
                }
                return 7;
            case 12:
                return json::string(below(300), 'z');
            default:
                return json::string("\xF0\x9F\x98\x80 unicode \u00e9");
        }
    }

    // Collects pointers to every value in `v` (pre-order).
    static void collect(json::value& v, std::vector<json::value*>& out) {
        out.push_back(&v);
        if (json::object* o = v.if_object()) {
            for (auto& kv : *o) {
                collect(kv.value(), out);
            }
        } else if (json::array* a = v.if_array()) {
            for (auto& e : *a) {
                collect(e, out);
            }
        }
    }

    void mutate_structure(json::value& root) {
        int n = 1 + static_cast<int>(below(4));
        for (int k = 0; k < n; ++k) {
            std::vector<json::value*> nodes;
            collect(root, nodes);
            json::value* target = nodes[below(nodes.size())];
            switch (below(6)) {
                case 0:
                case 1:
                    if (target != &root || coin(8)) {
                        *target = random_scalar_or_container();
                    }
                    break;
                case 2:
                    if (json::object* o = target->if_object(); o != nullptr && !o->empty()) {
                        auto it = o->begin();
                        std::advance(it, static_cast<std::ptrdiff_t>(below(o->size())));
                        o->erase(it);
                    }
                    break;
                case 3:
                    if (json::array* a = target->if_array(); a != nullptr && !a->empty()) {
                        json::value copy = (*a)[below(a->size())];
                        a->insert(a->begin() + static_cast<std::ptrdiff_t>(below(a->size() + 1)),
                                  std::move(copy));
                    }
                    break;
                case 4:
                    if (json::object* o = target->if_object()) {
                        (*o)[word_utf8()] = random_scalar_or_container();
                    }
                    break;
                default: {
                    json::value* other = nodes[below(nodes.size())];
                    if (other != target && target != &root) {
                        json::value copy = *other;  // may copy an ancestor: fine, it's a copy
                        *target = std::move(copy);
                    }
                    break;
                }
            }
        }
    }

    std::string mutate_text(std::string s) {
        int n = 1 + static_cast<int>(below(3));
        for (int k = 0; k < n; ++k) {
            switch (below(6)) {
                case 0:
                    if (!s.empty()) {
                        s[below(s.size())] = static_cast<char>(rng_());
                    }
                    break;
                case 1:
                    s.resize(below(s.size() + 1));
                    break;
                case 2: {
                    std::size_t pos = below(s.size() + 1);
                    s.insert(pos, kWords[below(std::size(kWords))]);
                    break;
                }
                case 3:
                    if (!s.empty()) {
                        std::size_t a = below(s.size());
                        std::size_t len = below(s.size() - a + 1);
                        s.erase(a, len);
                    }
                    break;
                case 4:
                    if (!s.empty()) {
                        std::size_t a = below(s.size());
                        std::size_t len = below(std::min<std::size_t>(s.size() - a, 64) + 1);
                        s.insert(below(s.size() + 1), s.substr(a, len));
                    }
                    break;
                default: {
                    const char punct[] = "{}[]\",:\\0-eE.";
                    s.insert(below(s.size() + 1), 1, punct[below(sizeof punct - 1)]);
                    break;
                }
            }
        }
        return s;
    }

    std::mt19937& rng() { return rng_; }

private:
    std::mt19937 rng_;
};

bool parses(std::string_view text) {
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 1000;
    json::parse(text, ec, {}, opts);
    return !ec;
}

void check_error(const Error& e) {
    EXPECT_GE(e.http_status(), 400);
    EXPECT_LT(e.http_status(), 600);
    EXPECT_FALSE(e.message.empty());
    EXPECT_TRUE(parses(anthropic_error_envelope(e.http_status(), e.message))) << e.message;
}

template <class R>
void check(const R& r) {
    if (r) {
        EXPECT_TRUE(parses(r.value())) << r.value();
    } else {
        check_error(r.error());
    }
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
    Mutator m(1);
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
    Mutator m(2);
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

template <class Fn>
void fuzz_text(std::uint32_t seed, const std::vector<std::string>& seeds_v, Fn fn) {
    Mutator m(seed);
    ASSERT_FALSE(seeds_v.empty());
    for (int i = 0; i < iterations(); ++i) {
        const std::string& base = seeds_v[m.below(seeds_v.size())];
        std::string text;
        if (m.coin(2)) {
            text = m.mutate_text(base);
        } else {
            boost::system::error_code ec;
            json::value v = json::parse(base, ec);
            if (ec) {
                text = m.mutate_text(base);
            } else {
                m.mutate_structure(v);
                text = json::serialize(v);
            }
        }
        fn(text);
    }
}

TEST(Robustness, AnthropicToOpenAIResponse) {
    fuzz_text(3, seeds().anthropic_responses, [](const std::string& t) {
        check(anthropic_to_openai_response(t, "grp"));
    });
}

TEST(Robustness, OpenAIToAnthropicResponse) {
    fuzz_text(4, seeds().openai_responses, [](const std::string& t) {
        check(openai_to_anthropic_response(t, "grp"));
    });
}

TEST(Robustness, MapAnthropicError) {
    std::vector<std::string> bodies;
    for (const auto& [status, body] : seeds().errors) {
        bodies.push_back(body);
    }
    bodies.push_back(std::string(5000, 'x') + "\xE2\x82");
    Mutator m(5);
    fuzz_text(5, bodies, [&](const std::string& t) {
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
    Mutator m(6);
    const auto& streams = seeds().anthropic_streams;
    ASSERT_FALSE(streams.empty());
    for (int i = 0; i < iterations(); ++i) {
        auto events = streams[m.below(streams.size())];
        int edits = 1 + static_cast<int>(m.below(4));
        for (int k = 0; k < edits && !events.empty(); ++k) {
            std::size_t at = m.below(events.size());
            switch (m.below(6)) {
                case 0:
                    events[at].second = m.mutate_text(events[at].second);
                    break;
                case 1: {
                    boost::system::error_code ec;
                    json::value v = json::parse(events[at].second, ec);
                    if (!ec) {
                        m.mutate_structure(v);
                        events[at].second = json::serialize(v);
                    }
                    break;
                }
                case 2:
                    events.erase(events.begin() + static_cast<std::ptrdiff_t>(at));
                    break;
                case 3:
                    events.insert(
                        events.begin() + static_cast<std::ptrdiff_t>(m.below(events.size())),
                        events[at]);
                    break;
                case 4:
                    std::swap(events[at], events[m.below(events.size())]);
                    break;
                default:
                    events[at].first = kEventTypes[m.below(std::size(kEventTypes))];
                    break;
            }
        }
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
    Mutator m(7);
    const auto& streams = seeds().openai_streams;
    ASSERT_FALSE(streams.empty());
    for (int i = 0; i < iterations(); ++i) {
        auto chunks = streams[m.below(streams.size())];
        int edits = 1 + static_cast<int>(m.below(4));
        for (int k = 0; k < edits && !chunks.empty(); ++k) {
            std::size_t at = m.below(chunks.size());
            switch (m.below(5)) {
                case 0:
                    chunks[at] = m.mutate_text(chunks[at]);
                    break;
                case 1: {
                    boost::system::error_code ec;
                    json::value v = json::parse(chunks[at], ec);
                    if (!ec) {
                        m.mutate_structure(v);
                        chunks[at] = json::serialize(v);
                    }
                    break;
                }
                case 2:
                    chunks.erase(chunks.begin() + static_cast<std::ptrdiff_t>(at));
                    break;
                case 3:
                    chunks.insert(
                        chunks.begin() + static_cast<std::ptrdiff_t>(m.below(chunks.size())),
                        chunks[at]);
                    break;
                default:
                    std::swap(chunks[at], chunks[m.below(chunks.size())]);
                    break;
            }
        }
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
