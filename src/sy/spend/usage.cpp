#include "sy/spend/usage.hpp"

#include <algorithm>
#include <cmath>

#include <boost/json.hpp>

#include "sy/core/json_scan.hpp"

namespace sy::spend {

namespace json = boost::json;

namespace {

std::optional<std::int64_t> count(const json::object* obj, std::string_view key) {
    if (obj == nullptr) {
        return std::nullopt;
    }
    auto it = obj->find(key);
    if (it == obj->end()) {
        return std::nullopt;
    }
    const json::value& v = it->value();
    if (v.is_int64()) {
        return v.get_int64();
    }
    if (v.is_uint64()) {
        return static_cast<std::int64_t>(std::min<std::uint64_t>(v.get_uint64(), INT64_MAX));
    }
    if (v.is_double() && std::isfinite(v.get_double())) {
        return static_cast<std::int64_t>(v.get_double());
    }
    return std::nullopt;
}

const json::object* child(const json::object* obj, std::string_view key) {
    if (obj == nullptr) {
        return nullptr;
    }
    auto it = obj->find(key);
    return it != obj->end() && it->value().is_object() ? &it->value().get_object() : nullptr;
}

}  // namespace

Usage Usage::normalized() const {
    Usage u = *this;
    u.prompt_tokens = std::max<std::int64_t>(u.prompt_tokens, 0);
    u.completion_tokens = std::max<std::int64_t>(u.completion_tokens, 0);
    u.cached_tokens = std::clamp<std::int64_t>(u.cached_tokens, 0, u.prompt_tokens);
    u.cache_creation_tokens =
        std::clamp<std::int64_t>(u.cache_creation_tokens, 0, u.prompt_tokens - u.cached_tokens);
    u.reasoning_tokens = std::clamp<std::int64_t>(u.reasoning_tokens, 0, u.completion_tokens);
    if (!(u.duration_s > 0.0) || !std::isfinite(u.duration_s)) {
        u.duration_s = 0.0;
    }
    return u;
}

std::optional<Usage> usage_from_json(const json::value& value) {
    const json::object* u = value.if_object();
    if (u == nullptr) {
        return std::nullopt;
    }
    Usage out;
    if (auto prompt = count(u, "prompt_tokens"); prompt || count(u, "completion_tokens")) {
        // OpenAI chat / completions / embeddings.
        out.prompt_tokens = prompt.value_or(0);
        out.completion_tokens = count(u, "completion_tokens").value_or(0);
        const json::object* pd = child(u, "prompt_tokens_details");
        out.cached_tokens = count(pd, "cached_tokens")
                                .value_or(count(u, "cache_read_input_tokens").value_or(0));
        out.cache_creation_tokens = count(u, "cache_creation_input_tokens").value_or(0);
        out.reasoning_tokens =
            count(child(u, "completion_tokens_details"), "reasoning_tokens").value_or(0);
    } else if (count(u, "input_tokens") || count(u, "output_tokens")) {
        out.completion_tokens = count(u, "output_tokens").value_or(0);
        std::int64_t input = count(u, "input_tokens").value_or(0);
        if (const json::object* in_details = child(u, "input_tokens_details")) {
            // OpenAI Responses: input_tokens already includes the cached tokens.
            out.prompt_tokens = input;
            out.cached_tokens = count(in_details, "cached_tokens").value_or(0);
            out.reasoning_tokens =
                count(child(u, "output_tokens_details"), "reasoning_tokens").value_or(0);
        } else {
            // Anthropic: input_tokens excludes cache reads and writes.
            out.cached_tokens = count(u, "cache_read_input_tokens").value_or(0);
            out.cache_creation_tokens = count(u, "cache_creation_input_tokens").value_or(0);
            out.prompt_tokens = input + std::max<std::int64_t>(out.cached_tokens, 0) +
                                std::max<std::int64_t>(out.cache_creation_tokens, 0);
        }
    } else if (count(u, "promptTokenCount") || count(u, "candidatesTokenCount")) {
        // Gemini usageMetadata: candidates exclude the thoughts, which are billed as output.
        out.prompt_tokens = count(u, "promptTokenCount").value_or(0);
        out.reasoning_tokens = count(u, "thoughtsTokenCount").value_or(0);
        out.completion_tokens =
            count(u, "candidatesTokenCount").value_or(0) + std::max<std::int64_t>(
                                                               out.reasoning_tokens, 0);
        out.cached_tokens = count(u, "cachedContentTokenCount").value_or(0);
    } else {
        return std::nullopt;
    }
    return out.normalized();
}

namespace {

// The common case without a JSON tree: an OpenAI usage object whose counts are plain integers,
// e.g. {"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}. nullopt means "not this
// shape (or not only integers)": the caller parses the general way.
std::optional<Usage> openai_usage_fast(std::string_view text) {
    static constexpr std::string_view kKeys[] = {
        "prompt_tokens",          "completion_tokens",          "prompt_tokens_details",
        "completion_tokens_details", "cache_read_input_tokens", "cache_creation_input_tokens",
        "usage",                  "usageMetadata",              "message"};
    constexpr std::size_t n = std::size(kKeys);
    if (!json_scan::is_valid(text)) {
        return std::nullopt;
    }
    std::optional<json_scan::Span> at[n];
    json_scan::find_top_level_many(text, kKeys, at, n);
    auto token = [&](std::size_t i) { return text.substr(at[i]->offset, at[i]->length); };
    // The tree reading takes the OpenAI shape when prompt_tokens or completion_tokens is a
    // number (null counts as absent: then it tries the Anthropic and Gemini names).
    auto number = [&](std::size_t i) {
        return at[i] && token(i) != "null" && json_scan::as_int64(token(i)).has_value();
    };
    if (!(number(0) || number(1)) || at[6] || at[7] || at[8]) {
        return std::nullopt;
    }
    bool plain = true;
    auto count = [&](std::size_t i) -> std::int64_t {
        if (!at[i] || token(i) == "null") {
            return 0;
        }
        auto v = json_scan::as_int64(token(i));
        plain = plain && v.has_value();
        return v.value_or(0);
    };
    // A details object: its one member we need, if it is a plain integer.
    auto nested = [&](std::size_t i, std::string_view key) -> std::optional<std::int64_t> {
        if (!at[i] || token(i) == "null") {
            return std::nullopt;
        }
        if (token(i).front() != '{') {
            plain = false;
            return std::nullopt;
        }
        auto sp = json_scan::find_top_level(token(i), key);
        if (!sp) {
            return std::nullopt;
        }
        auto v = json_scan::as_int64(token(i).substr(sp->offset, sp->length));
        plain = plain && v.has_value();
        return v;
    };
    Usage out;
    out.prompt_tokens = count(0);
    out.completion_tokens = count(1);
    auto cached = nested(2, "cached_tokens");
    out.cached_tokens = cached ? *cached : count(4);
    out.cache_creation_tokens = count(5);
    out.reasoning_tokens = nested(3, "reasoning_tokens").value_or(0);
    if (!plain) {
        return std::nullopt;
    }
    return out.normalized();
}

}  // namespace

std::optional<Usage> usage_from_json_text(std::string_view text) {
    if (auto fast = openai_usage_fast(text)) {
        return fast;
    }
    // A usage object is small: its tree is built in a stack buffer (no heap allocation per
    // response; larger input spills to the heap).
    unsigned char buf[4096];
    json::monotonic_resource mr(buf, sizeof buf);
    boost::system::error_code ec;
    json::value doc = json::parse(text, ec, &mr);
    if (ec || !doc.is_object()) {
        return std::nullopt;
    }
    const json::object& obj = doc.get_object();
    for (std::string_view key : {"usage", "usageMetadata"}) {
        if (auto it = obj.find(key); it != obj.end()) {
            return usage_from_json(it->value());
        }
    }
    // Anthropic's message_start carries usage inside "message".
    if (const json::object* msg = child(&obj, "message")) {
        if (auto it = msg->find("usage"); it != msg->end()) {
            return usage_from_json(it->value());
        }
    }
    return usage_from_json(doc);
}

}  // namespace sy::spend
