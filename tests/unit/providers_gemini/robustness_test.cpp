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
#include "sy/providers/gemini/translate.hpp"

namespace sy::providers::gemini {
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
    EXPECT_LE(e.message.size(), 2300u);
    std::string rendered = json::serialize(json::object{{"message", e.message}});
    EXPECT_TRUE(parses(rendered));
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
    Mutator m(1);
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

TEST(Robustness, GeminiToOpenAIResponse) {
    fuzz_text(3, seeds().responses, [](const std::string& t) {
        check(gemini_to_openai_response(t, "grp"));
    });
}

TEST(Robustness, MapGeminiErrorAndRetryDelay) {
    std::vector<std::string> bodies;
    for (const auto& [status, body] : seeds().errors) {
        bodies.push_back(body);
    }
    bodies.push_back(std::string(5000, 'x') + "\xE2\x82");
    Mutator m(5);
    fuzz_text(5, bodies, [&](const std::string& t) {
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
    Mutator m(8);
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
    Mutator m(6);
    const auto& streams = seeds().streams;
    ASSERT_FALSE(streams.empty());
    for (int i = 0; i < iterations(); ++i) {
        auto events = streams[m.below(streams.size())];
        int edits = 1 + static_cast<int>(m.below(4));
        for (int k = 0; k < edits && !events.empty(); ++k) {
            std::size_t at = m.below(events.size());
            switch (m.below(5)) {
                case 0:
                    events[at] = m.mutate_text(events[at]);
                    break;
                case 1: {
                    boost::system::error_code ec;
                    json::value v = json::parse(events[at], ec);
                    if (!ec) {
                        m.mutate_structure(v);
                        events[at] = json::serialize(v);
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
                default:
                    std::swap(events[at], events[m.below(events.size())]);
                    break;
            }
        }
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
