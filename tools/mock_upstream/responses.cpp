#include "responses.hpp"

#include <algorithm>
#include <array>
#include <boost/json/array.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cmath>
#include <cstring>
#include <optional>

namespace sy::mock {
namespace json = boost::json;

namespace {

// clang-format off
constexpr std::array<std::string_view, 14> kWords = {
    "Hello!", "This", "is", "the", "mock", "upstream.", "Lorem", "ipsum", "dolor", "sit", "amet,",
    "consectetur", "adipiscing", "elit."};
// clang-format on

bool is_space(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

std::int64_t now_seconds() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

// A tool the request declares, in any of the OpenAI, Anthropic or Gemini forms.
struct ToolSpec {
    std::string_view name;
    const json::value* schema = nullptr;  // JSON schema of the arguments, or null
};

std::optional<std::string_view> string_field(const json::object& o, std::string_view key) {
    if (const json::value* v = o.if_contains(key); v != nullptr && v->is_string()) {
        return std::string_view(v->get_string());
    }
    return std::nullopt;
}

std::vector<ToolSpec> request_tools(const json::object& request) {
    std::vector<ToolSpec> out;
    const json::value* tools = request.if_contains("tools");
    if (tools == nullptr || !tools->is_array()) {
        return out;
    }
    for (const auto& t : tools->get_array()) {
        if (!t.is_object()) {
            continue;
        }
        const json::object& o = t.get_object();
        if (const json::value* fn = o.if_contains("function"); fn != nullptr && fn->is_object()) {
            if (auto n = string_field(fn->get_object(), "name")) {  // OpenAI
                out.push_back({*n, fn->get_object().if_contains("parameters")});
            }
            continue;
        }
        const json::value* decls = o.if_contains("functionDeclarations");
        if (decls == nullptr) {
            decls = o.if_contains("function_declarations");
        }
        if (decls != nullptr && decls->is_array()) {  // Gemini
            for (const auto& fd : decls->get_array()) {
                if (!fd.is_object()) {
                    continue;
                }
                const json::object& f = fd.get_object();
                if (auto n = string_field(f, "name")) {
                    const json::value* schema = f.if_contains("parameters");
                    if (schema == nullptr) {
                        schema = f.if_contains("parametersJsonSchema");
                    }
                    out.push_back({*n, schema});
                }
            }
            continue;
        }
        if (auto n = string_field(o, "name")) {  // Anthropic
            out.push_back({*n, o.if_contains("input_schema")});
        }
    }
    return out;
}

// The named tool, or the first when `name` is empty.
std::optional<ToolSpec> find_tool(const json::object& request, std::string_view name) {
    const std::vector<ToolSpec> tools = request_tools(request);
    for (const auto& t : tools) {
        if (name.empty() || t.name == name) {
            return t;
        }
    }
    return std::nullopt;
}

std::string lowercase_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

json::value sample_for_schema(const json::value& schema) {
    if (!schema.is_object()) {
        return "mock";
    }
    const json::object& s = schema.get_object();
    if (const json::value* e = s.if_contains("enum");
        e != nullptr && e->is_array() && !e->get_array().empty()) {
        return e->get_array().front();
    }
    std::string type = "string";
    if (const json::value* t = s.if_contains("type"); t != nullptr && t->is_string()) {
        type = lowercase_ascii(t->get_string());  // Gemini schemas use "STRING", "INTEGER"...
    }
    if (type == "integer" || type == "number") {
        return 1;
    }
    if (type == "boolean") {
        return true;
    }
    if (type == "array") {
        return json::array();
    }
    if (type == "object") {
        return json::object();
    }
    return "mock";
}

json::object usage_json(const Reply& r, bool details) {
    json::object u;
    u["prompt_tokens"] = r.prompt_tokens;
    u["completion_tokens"] = r.completion_tokens;
    u["total_tokens"] = r.prompt_tokens + r.completion_tokens;
    if (details) {
        u["prompt_tokens_details"] = json::object{{"cached_tokens", r.cache_read_tokens}};
        u["completion_tokens_details"] = json::object{{"reasoning_tokens", 0}};
    }
    return u;
}

json::object chat_chunk(const Reply& r, json::array choices, bool include_usage) {
    json::object o;
    o["id"] = r.id;
    o["object"] = "chat.completion.chunk";
    o["created"] = r.created;
    o["model"] = r.model;
    o["system_fingerprint"] = kSystemFingerprint;
    o["choices"] = std::move(choices);
    if (include_usage) {
        o["usage"] = nullptr;
    }
    return o;
}

json::array delta_choice(json::object delta, json::value finish_reason) {
    json::object c;
    c["index"] = 0;
    c["delta"] = std::move(delta);
    c["logprobs"] = nullptr;
    c["finish_reason"] = std::move(finish_reason);
    return json::array{std::move(c)};
}

json::object text_chunk(const Reply& r, json::array choices) {
    json::object o;
    o["id"] = r.id;
    o["object"] = "text_completion";
    o["created"] = r.created;
    o["model"] = r.model;
    o["system_fingerprint"] = kSystemFingerprint;
    o["choices"] = std::move(choices);
    return o;
}

json::array text_choice(std::string_view text, json::value finish_reason) {
    json::object c;
    c["text"] = text;
    c["index"] = 0;
    c["logprobs"] = nullptr;
    c["finish_reason"] = std::move(finish_reason);
    return json::array{std::move(c)};
}

std::string joined(const std::vector<std::string>& pieces) {
    std::string out;
    for (const auto& p : pieces) {
        out += p;
    }
    return out;
}

// Azure's content-filter annotations, all categories "safe".
json::object azure_filter_results() {
    json::object o;
    for (const char* category : {"hate", "self_harm", "sexual", "violence"}) {
        o[category] = json::object{{"filtered", false}, {"severity", "safe"}};
    }
    return o;
}

json::array azure_prompt_filter_results() {
    return json::array{
        json::object{{"prompt_index", 0}, {"content_filter_results", azure_filter_results()}}};
}

std::optional<std::int64_t> int_field(const json::object& o, std::string_view key) {
    if (const json::value* v = o.if_contains(key); v != nullptr && v->is_int64()) {
        return v->get_int64();
    }
    if (const json::value* v = o.if_contains(key); v != nullptr && v->is_uint64()) {
        return static_cast<std::int64_t>(std::min<std::uint64_t>(v->get_uint64(), 1ULL << 62));
    }
    return std::nullopt;
}

// The request's output-token limit for the flavors that truncate to it.
std::optional<std::int64_t> max_output_tokens(const json::object& request, Flavor flavor) {
    if (flavor == Flavor::kAnthropic) {
        return int_field(request, "max_tokens");
    }
    if (flavor == Flavor::kGemini) {
        for (const char* cfg : {"generationConfig", "generation_config"}) {
            if (const json::value* g = request.if_contains(cfg); g != nullptr && g->is_object()) {
                for (const char* key : {"maxOutputTokens", "max_output_tokens"}) {
                    if (auto n = int_field(g->get_object(), key)) {
                        return n;
                    }
                }
            }
        }
    }
    return std::nullopt;
}

// A finish_reason directive in the flavor's vocabulary; OpenAI names are translated.
std::string finish_reason_for(Flavor flavor, const std::string& requested) {
    if (flavor == Flavor::kAnthropic) {
        if (requested == "stop") {
            return "end_turn";
        }
        if (requested == "length") {
            return "max_tokens";
        }
        if (requested == "tool_calls") {
            return "tool_use";
        }
        if (requested == "content_filter") {
            return "refusal";
        }
    } else if (flavor == Flavor::kGemini) {
        if (requested == "stop" || requested == "tool_calls") {
            return "STOP";
        }
        if (requested == "length") {
            return "MAX_TOKENS";
        }
        if (requested == "content_filter") {
            return "SAFETY";
        }
    }
    return requested;
}

// Embedding inputs as texts; token-array inputs are serialised. Sets `tokens`.
std::vector<std::string> embedding_inputs(const json::value* input, std::int64_t& tokens) {
    std::vector<std::string> out;
    tokens = 0;
    if (input == nullptr || input->is_null()) {
        return out;
    }
    if (input->is_string()) {
        out.emplace_back(input->get_string());
        tokens = tokens_for_chars(count_code_points(out.back()));
        return out;
    }
    if (!input->is_array()) {
        out.push_back(json::serialize(*input));
        tokens = 1;
        return out;
    }
    const json::array& a = input->get_array();
    if (!a.empty() && a.front().is_number()) {  // one input given as token ids
        out.push_back(json::serialize(a));
        tokens = static_cast<std::int64_t>(a.size());
        return out;
    }
    for (const auto& v : a) {
        if (v.is_string()) {
            out.emplace_back(v.get_string());
            tokens += tokens_for_chars(count_code_points(out.back()));
        } else {
            out.push_back(json::serialize(v));
            tokens += v.is_array() ? static_cast<std::int64_t>(v.get_array().size()) : 1;
        }
    }
    return out;
}

std::uint64_t splitmix64(std::uint64_t x) {
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

}  // namespace

std::vector<std::string> split_words(std::string_view text) {
    std::vector<std::string> out;
    std::size_t start = 0;
    for (std::size_t i = 1; i < text.size(); ++i) {
        if (is_space(text[i - 1]) && !is_space(text[i])) {
            // The whitespace run belongs to the word that follows it.
            std::size_t ws = i;
            while (ws > start && is_space(text[ws - 1])) {
                --ws;
            }
            if (ws > start) {
                out.emplace_back(text.substr(start, ws - start));
                start = ws;
            }
        }
    }
    if (start < text.size()) {
        out.emplace_back(text.substr(start));
    }
    return out;
}

std::vector<std::string> split_even(std::string_view text, std::int64_t n) {
    std::vector<std::size_t> starts;  // byte offset of every code point
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (!is_continuation(text[i])) {
            starts.push_back(i);
        }
    }
    const auto cps = static_cast<std::int64_t>(starts.size());
    const std::int64_t pieces = std::min(n, cps);
    std::vector<std::string> out;
    if (pieces <= 0) {
        return out;
    }
    out.reserve(static_cast<std::size_t>(pieces));
    for (std::int64_t k = 0; k < pieces; ++k) {
        const auto b = starts[static_cast<std::size_t>(k * cps / pieces)];
        const auto e = k + 1 == pieces ? text.size()
                                       : starts[static_cast<std::size_t>((k + 1) * cps / pieces)];
        out.emplace_back(text.substr(b, e - b));
    }
    return out;
}

std::vector<std::string> generated_words(std::int64_t n) {
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(std::max<std::int64_t>(n, 0)));
    for (std::int64_t i = 0; i < n; ++i) {
        std::string w = i == 0 ? "" : " ";
        w += kWords[static_cast<std::size_t>(i) % kWords.size()];
        out.push_back(std::move(w));
    }
    return out;
}

std::int64_t content_code_points(const json::value& content) {
    if (content.is_string()) {
        return count_code_points(content.get_string());
    }
    std::int64_t n = 0;
    if (content.is_array()) {
        for (const auto& part : content.get_array()) {
            if (!part.is_object()) {
                continue;
            }
            const json::object& p = part.get_object();
            if (const json::value* t = p.if_contains("text"); t != nullptr && t->is_string()) {
                n += count_code_points(t->get_string());
            }
            if (const json::value* c = p.if_contains("content");  // Anthropic tool_result
                c != nullptr && (c->is_string() || c->is_array())) {
                n += content_code_points(*c);
            }
        }
    }
    return n;
}

std::int64_t count_code_points(std::string_view text) {
    std::int64_t n = 0;
    for (char c : text) {
        n += is_continuation(c) ? 0 : 1;
    }
    return n;
}

std::int64_t tokens_for_chars(std::int64_t code_points) {
    return std::max<std::int64_t>(1, code_points / 4);
}

std::int64_t chat_prompt_tokens(const json::object& request) {
    std::int64_t chars = 0;
    if (const json::value* msgs = request.if_contains("messages");
        msgs != nullptr && msgs->is_array()) {
        for (const auto& m : msgs->get_array()) {
            if (!m.is_object()) {
                continue;
            }
            if (const json::value* c = m.get_object().if_contains("content")) {
                chars += content_code_points(*c);
            }
        }
    }
    return tokens_for_chars(chars);
}

std::int64_t anthropic_prompt_tokens(const json::object& request) {
    std::int64_t chars = 0;
    if (const json::value* sys = request.if_contains("system")) {
        chars += content_code_points(*sys);
    }
    if (const json::value* msgs = request.if_contains("messages");
        msgs != nullptr && msgs->is_array()) {
        for (const auto& m : msgs->get_array()) {
            if (!m.is_object()) {
                continue;
            }
            if (const json::value* c = m.get_object().if_contains("content")) {
                chars += content_code_points(*c);
            }
        }
    }
    return tokens_for_chars(chars);
}

std::int64_t gemini_prompt_tokens(const json::object& request) {
    std::int64_t chars = 0;
    auto add_parts = [&](const json::value* content) {
        if (content == nullptr || !content->is_object()) {
            return;
        }
        if (const json::value* parts = content->get_object().if_contains("parts")) {
            chars += content_code_points(*parts);
        }
    };
    add_parts(request.if_contains("systemInstruction"));
    add_parts(request.if_contains("system_instruction"));
    if (const json::value* contents = request.if_contains("contents");
        contents != nullptr && contents->is_array()) {
        for (const auto& c : contents->get_array()) {
            add_parts(&c);
        }
    }
    return tokens_for_chars(chars);
}

std::int64_t text_prompt_tokens(const json::value* prompt) {
    if (prompt == nullptr) {
        return 1;
    }
    std::int64_t tokens = 0;
    (void)embedding_inputs(prompt, tokens);
    return std::max<std::int64_t>(1, tokens);
}

std::vector<std::string> request_tool_names(const json::object& request) {
    std::vector<std::string> out;
    for (const auto& t : request_tools(request)) {
        out.emplace_back(t.name);
    }
    return out;
}

std::string tool_arguments_for(const json::object& request, std::string_view tool_name) {
    const std::optional<ToolSpec> fn = find_tool(request, tool_name);
    if (!fn) {
        return R"({"location":"San Francisco, CA"})";
    }
    json::object args;
    const json::value* params = fn->schema;
    if (params != nullptr && params->is_object()) {
        if (const json::value* props = params->get_object().if_contains("properties");
            props != nullptr && props->is_object()) {
            for (const auto& kv : props->get_object()) {
                args[kv.key()] = sample_for_schema(kv.value());
            }
        }
    }
    return json::serialize(args);
}

Reply plan_reply(std::uint64_t seq,
                 bool text,
                 std::string_view model,
                 const Directives& d,
                 const json::object& request,
                 Flavor flavor) {
    const bool anthropic = flavor == Flavor::kAnthropic;
    const bool gemini = flavor == Flavor::kGemini;
    Reply r;
    r.flavor = flavor;
    const char* id_prefix = text        ? "cmpl-mock-"
                            : anthropic ? "msg_mock_"
                            : gemini    ? "mock-resp-"
                                        : "chatcmpl-mock-";
    r.id = id_prefix + std::to_string(seq);
    r.created = now_seconds();
    if (d.response_model) {
        r.model = *d.response_model;
    } else {
        r.model = model.empty() ? std::string("mock-model") : std::string(model);
    }
    if (!text && d.tool_calls > 0) {
        const std::vector<std::string> names = request_tool_names(request);
        for (std::int64_t k = 0; k < d.tool_calls; ++k) {
            ToolCallPlan t;
            t.id = (anthropic ? "toolu_mock_" : "call_mock_") + std::to_string(seq);
            if (k > 0) {
                t.id += "_" + std::to_string(k);
            }
            if (!d.tool_name.empty()) {
                t.name = d.tool_name;
            } else if (!names.empty()) {
                t.name = names[static_cast<std::size_t>(k) % names.size()];
            } else {
                t.name = "get_weather";
            }
            const std::string args = d.tool_arguments.value_or(tool_arguments_for(request, t.name));
            t.fragments = split_even(args, d.chunks.value_or(4));
            t.arguments = joined(t.fragments);
            r.tool_calls.push_back(std::move(t));
        }
        // OpenAI answers a tool call with null content; Anthropic and Gemini may say something
        // first.
        if ((anthropic || gemini) && d.content) {
            r.pieces = split_words(*d.content);
        }
    } else if (d.content) {
        r.pieces = d.chunks ? split_even(*d.content, *d.chunks) : split_words(*d.content);
    } else if (d.chunks) {
        r.pieces = generated_words(*d.chunks);
    } else {
        r.pieces = split_words(kDefaultContent);
    }
    const bool tools = !r.tool_calls.empty();
    if (anthropic) {
        r.finish_reason = tools ? "tool_use" : "end_turn";
    } else if (gemini) {
        r.finish_reason = "STOP";
    } else {
        r.finish_reason = tools ? "tool_calls" : "stop";
    }
    if (const auto max = max_output_tokens(request, flavor);
        max && !tools && *max >= 0 && static_cast<std::int64_t>(r.pieces.size()) > *max) {
        r.pieces.resize(static_cast<std::size_t>(*max));
        r.finish_reason = anthropic ? "max_tokens" : "MAX_TOKENS";
    }
    if (d.finish_reason) {
        r.finish_reason = finish_reason_for(flavor, *d.finish_reason);
    }
    std::int64_t prompt = 1;
    if (text) {
        prompt = text_prompt_tokens(request.if_contains("prompt"));
    } else if (anthropic) {
        prompt = anthropic_prompt_tokens(request);
    } else if (gemini) {
        prompt = gemini_prompt_tokens(request);
    } else {
        prompt = chat_prompt_tokens(request);
    }
    r.prompt_tokens = d.prompt_tokens.value_or(prompt);
    auto produced = static_cast<std::int64_t>(r.pieces.size());
    for (const auto& t : r.tool_calls) {
        produced += static_cast<std::int64_t>(t.fragments.size());
    }
    r.completion_tokens = d.completion_tokens.value_or(produced);
    r.cache_read_tokens = d.cache_read_tokens;
    r.cache_creation_tokens = d.cache_creation_tokens;
    return r;
}

std::string chat_completion_json(const Reply& r) {
    json::object msg;
    msg["role"] = "assistant";
    if (!r.tool_calls.empty()) {
        msg["content"] = nullptr;
        json::array calls;
        for (const auto& t : r.tool_calls) {
            json::object call;
            call["id"] = t.id;
            call["type"] = "function";
            call["function"] = json::object{{"name", t.name}, {"arguments", t.arguments}};
            calls.emplace_back(std::move(call));
        }
        msg["tool_calls"] = std::move(calls);
    } else {
        msg["content"] = joined(r.pieces);
    }
    msg["refusal"] = nullptr;

    json::object choice;
    choice["index"] = 0;
    choice["message"] = std::move(msg);
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = r.finish_reason;
    if (r.flavor == Flavor::kAzure) {
        choice["content_filter_results"] = azure_filter_results();
    }

    json::object o;
    o["id"] = r.id;
    o["object"] = "chat.completion";
    o["created"] = r.created;
    o["model"] = r.model;
    o["choices"] = json::array{std::move(choice)};
    o["usage"] = usage_json(r, true);
    o["system_fingerprint"] = kSystemFingerprint;
    if (r.flavor == Flavor::kAzure) {
        o["prompt_filter_results"] = azure_prompt_filter_results();
    }
    return json::serialize(o);
}

std::vector<std::string> chat_stream_payloads(const Reply& r, bool include_usage) {
    std::vector<std::string> out;
    std::size_t fragments = 0;
    for (const auto& t : r.tool_calls) {
        fragments += t.fragments.size() + 1;
    }
    out.reserve(r.pieces.size() + fragments + 4);

    if (r.flavor == Flavor::kAzure) {
        // Azure opens with an annotation-only chunk: empty choices, no id or model.
        json::object o;
        o["choices"] = json::array{};
        o["created"] = 0;
        o["id"] = "";
        o["model"] = "";
        o["object"] = "";
        o["prompt_filter_results"] = azure_prompt_filter_results();
        out.push_back(json::serialize(o));
    }

    auto tool_header = [](const ToolCallPlan& t, std::size_t index) {
        json::object call;
        call["index"] = index;
        call["id"] = t.id;
        call["type"] = "function";
        call["function"] = json::object{{"name", t.name}, {"arguments", ""}};
        return call;
    };

    json::object first{{"role", "assistant"}};
    if (!r.tool_calls.empty()) {
        first["content"] = nullptr;
        first["tool_calls"] = json::array{tool_header(r.tool_calls.front(), 0)};
    } else {
        first["content"] = "";
    }
    first["refusal"] = nullptr;
    out.push_back(
        json::serialize(chat_chunk(r, delta_choice(std::move(first), nullptr), include_usage)));

    if (r.tool_calls.empty()) {
        for (const auto& piece : r.pieces) {
            json::object delta;
            delta["content"] = piece;
            out.push_back(json::serialize(
                chat_chunk(r, delta_choice(std::move(delta), nullptr), include_usage)));
        }
    }
    for (std::size_t k = 0; k < r.tool_calls.size(); ++k) {
        const ToolCallPlan& t = r.tool_calls[k];
        if (k > 0) {
            json::object delta;
            delta["tool_calls"] = json::array{tool_header(t, k)};
            out.push_back(json::serialize(
                chat_chunk(r, delta_choice(std::move(delta), nullptr), include_usage)));
        }
        for (const auto& piece : t.fragments) {
            json::object call;
            call["index"] = k;
            call["function"] = json::object{{"arguments", piece}};
            json::object delta;
            delta["tool_calls"] = json::array{std::move(call)};
            out.push_back(json::serialize(
                chat_chunk(r, delta_choice(std::move(delta), nullptr), include_usage)));
        }
    }

    out.push_back(json::serialize(
        chat_chunk(r, delta_choice(json::object{}, json::value(r.finish_reason)), include_usage)));

    if (include_usage) {
        json::object last = chat_chunk(r, json::array{}, false);
        last["usage"] = usage_json(r, true);
        out.push_back(json::serialize(last));
    }
    return out;
}

std::string text_completion_json(const Reply& r) {
    json::object o = text_chunk(r, text_choice(joined(r.pieces), json::value(r.finish_reason)));
    o["usage"] = usage_json(r, false);
    return json::serialize(o);
}

std::vector<std::string> text_stream_payloads(const Reply& r, bool include_usage) {
    std::vector<std::string> out;
    out.reserve(r.pieces.size() + 2);
    for (const auto& piece : r.pieces) {
        out.push_back(json::serialize(text_chunk(r, text_choice(piece, nullptr))));
    }
    out.push_back(json::serialize(text_chunk(r, text_choice("", json::value(r.finish_reason)))));
    if (include_usage) {
        json::object last = text_chunk(r, json::array{});
        last["usage"] = usage_json(r, false);
        out.push_back(json::serialize(last));
    }
    return out;
}

std::vector<float> embedding_for(std::string_view text, int dims) {
    std::uint64_t h = 0xcbf29ce484222325ULL;  // FNV-1a
    for (char c : text) {
        h ^= static_cast<unsigned char>(c);
        h *= 0x100000001b3ULL;
    }
    std::vector<double> v(static_cast<std::size_t>(std::max(dims, 1)));
    double norm = 0;
    for (std::size_t i = 0; i < v.size(); ++i) {
        const std::uint64_t x = splitmix64(h + i * 0x9E3779B97F4A7C15ULL);
        v[i] = static_cast<double>(x >> 11) * 0x1.0p-53 * 2.0 - 1.0;
        norm += v[i] * v[i];
    }
    norm = std::sqrt(norm);
    std::vector<float> out(v.size());
    for (std::size_t i = 0; i < v.size(); ++i) {
        out[i] = static_cast<float>(norm > 0 ? v[i] / norm : 0.0);
    }
    return out;
}

std::string base64_encode(std::string_view bytes) {
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    std::size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const std::uint32_t n =
            (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16) |
            (static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8) |
            static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 2]));
        out.push_back(kAlphabet[(n >> 18) & 63]);
        out.push_back(kAlphabet[(n >> 12) & 63]);
        out.push_back(kAlphabet[(n >> 6) & 63]);
        out.push_back(kAlphabet[n & 63]);
    }
    if (const std::size_t rest = bytes.size() - i; rest > 0) {
        std::uint32_t n = static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i])) << 16;
        if (rest == 2) {
            n |= static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[i + 1])) << 8;
        }
        out.push_back(kAlphabet[(n >> 18) & 63]);
        out.push_back(kAlphabet[(n >> 12) & 63]);
        out.push_back(rest == 2 ? kAlphabet[(n >> 6) & 63] : '=');
        out.push_back('=');
    }
    return out;
}

std::string embeddings_json(const json::object& request,
                            std::string_view model,
                            const Directives& d) {
    int dims = kDefaultEmbeddingDims;
    if (const json::value* dv = request.if_contains("dimensions");
        dv != nullptr && dv->is_int64() && dv->get_int64() >= 1 &&
        dv->get_int64() <= kMaxEmbeddingDims) {
        dims = static_cast<int>(dv->get_int64());
    }
    bool base64 = false;
    if (const json::value* f = request.if_contains("encoding_format");
        f != nullptr && f->is_string()) {
        base64 = f->get_string() == "base64";
    }
    std::int64_t tokens = 0;
    const std::vector<std::string> inputs = embedding_inputs(request.if_contains("input"), tokens);

    json::array data;
    data.reserve(inputs.size());
    for (std::size_t i = 0; i < inputs.size(); ++i) {
        const std::vector<float> e = embedding_for(inputs[i], dims);
        json::object item;
        item["object"] = "embedding";
        item["index"] = i;
        if (base64) {
            std::string raw(e.size() * sizeof(float), '\0');  // float32, little-endian hosts
            std::memcpy(raw.data(), e.data(), raw.size());
            item["embedding"] = base64_encode(raw);
        } else {
            json::array arr;
            arr.reserve(e.size());
            for (float f : e) {
                arr.emplace_back(static_cast<double>(f));
            }
            item["embedding"] = std::move(arr);
        }
        data.emplace_back(std::move(item));
    }
    const std::int64_t prompt = d.prompt_tokens.value_or(std::max<std::int64_t>(tokens, 1));
    json::object o;
    o["object"] = "list";
    o["data"] = std::move(data);
    o["model"] =
        d.response_model.value_or(model.empty() ? "text-embedding-3-small" : std::string(model));
    o["usage"] = json::object{{"prompt_tokens", prompt}, {"total_tokens", prompt}};
    return json::serialize(o);
}

std::string model_json(std::string_view id) {
    json::object m;
    m["id"] = id;
    m["object"] = "model";
    m["created"] = 1700000000;
    m["owned_by"] = "mock";
    return json::serialize(m);
}

std::string models_json() {
    static constexpr std::array<std::string_view, 6> kIds = {"gpt-4o",
                                                             "gpt-4o-mini",
                                                             "gpt-3.5-turbo",
                                                             "gpt-3.5-turbo-instruct",
                                                             "text-embedding-3-small",
                                                             "mock-model"};
    json::array data;
    for (auto id : kIds) {
        data.emplace_back(json::object{
            {"id", id}, {"object", "model"}, {"created", 1700000000}, {"owned_by", "mock"}});
    }
    return json::serialize(json::object{{"object", "list"}, {"data", std::move(data)}});
}

ErrorInfo fault_error(const Directives& d, std::string_view model, std::int64_t prompt_tokens) {
    ErrorInfo e;
    const std::string& code = d.error;
    int implied = 400;
    if (code == "rate_limit_exceeded" || code == "insufficient_quota") {
        implied = 429;
    } else if (code == "invalid_api_key") {
        implied = 401;
    } else if (code == "model_not_found") {
        implied = 404;
    } else if (code == "server_error") {
        implied = 500;
    }
    e.status = d.status.value_or(implied);
    const std::string m = model.empty() ? std::string("mock-model") : std::string(model);

    if (code == "context_length_exceeded") {
        e.message =
            "This model's maximum context length is 8192 tokens. However, your messages "
            "resulted in " +
            std::to_string(std::max<std::int64_t>(prompt_tokens, 8193)) +
            " tokens. Please reduce the length of the messages.";
        e.type = "invalid_request_error";
        e.param = "messages";
        e.code = "context_length_exceeded";
    } else if (code == "content_policy_violation" || code == "content_filter") {
        e.message =
            "Your request was rejected as a result of our safety system. Your prompt may "
            "contain text that is not allowed by our safety system.";
        e.type = "invalid_request_error";
        e.code = code;
    } else if (code == "insufficient_quota") {
        e.message = "You exceeded your current quota, please check your plan and billing details.";
        e.type = "insufficient_quota";
        e.code = "insufficient_quota";
    } else if (code == "rate_limit_exceeded" || (code.empty() && e.status == 429)) {
        e.message = "Rate limit reached for " + m +
                    " in organization org-mock on requests per min (RPM): Limit 60, Used 60, "
                    "Requested 1. Please try again in " +
                    d.retry_after.value_or("1") + "s.";
        e.type = "requests";
        e.code = "rate_limit_exceeded";
    } else if (code == "invalid_api_key" || (code.empty() && e.status == 401)) {
        e.message =
            "Incorrect API key provided: sk-mock***. You can find your API key at "
            "https://platform.openai.com/account/api-keys.";
        e.type = "invalid_request_error";
        e.code = "invalid_api_key";
    } else if (code == "model_not_found" || (code.empty() && e.status == 404)) {
        e.message = "The model `" + m + "` does not exist or you do not have access to it.";
        e.type = "invalid_request_error";
        e.code = "model_not_found";
    } else if (e.status >= 500) {
        switch (e.status) {
            case 500:
                e.message =
                    "The server had an error while processing your request. Sorry about "
                    "that!";
                break;
            case 502:
                e.message = "Bad gateway.";
                break;
            case 503:
                e.message = "The engine is currently overloaded, please try again later.";
                break;
            case 504:
                e.message = "Gateway timeout.";
                break;
            default:
                e.message = "Upstream error " + std::to_string(e.status) + " (mock).";
        }
        e.type = "server_error";
        if (!code.empty()) {
            e.code = code;
        }
    } else {
        e.message = e.status == 403 ? "You are not allowed to perform this request (mock)."
                                    : "Invalid request (mock).";
        e.type = e.status == 403 ? "permission_error" : "invalid_request_error";
        if (!code.empty()) {
            e.code = code;
        }
    }
    if (!d.message.empty()) {
        e.message = d.message;
    }
    return e;
}

std::string error_json(const ErrorInfo& e) {
    json::object err;
    err["message"] = e.message;
    err["type"] = e.type;
    err["param"] = e.param;
    err["code"] = e.code;
    return json::serialize(json::object{{"error", std::move(err)}});
}

std::string error_json(std::string_view message, std::string_view type, std::string_view code) {
    ErrorInfo e;
    e.message = message;
    e.type = type;
    if (!code.empty()) {
        e.code = code;
    }
    return error_json(e);
}

}  // namespace sy::mock
