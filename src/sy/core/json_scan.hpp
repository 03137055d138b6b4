#pragma once
// Byte-preserving edits of JSON text: find the value of a top-level key without building a DOM.
// Used on the pass-through path to rewrite `model` in upstream responses and SSE chunks while
// leaving every other byte exactly as the upstream sent it.
//
// Thread safety: pure functions.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace sy::json_scan {

struct Span {
    std::size_t offset = 0;  // first byte of the value (e.g. the opening quote of a string)
    std::size_t length = 0;  // bytes of the value
};

// Locates the value of top-level key `key` in `text` (a JSON object). Keys are compared as raw
// bytes between the quotes (keys with escapes never match). Returns nullopt when `text` is not an
// object, the key is absent, or the text is malformed before the key is found. Bounded: nesting
// deeper than 512 levels counts as malformed.
std::optional<Span> find_top_level(std::string_view text, std::string_view key);

// Returns a copy of `text` with the top-level `key`'s value replaced by the JSON string `value`
// (escaped as needed). When the key is absent the text is returned unchanged.
std::string replace_top_level_string(std::string_view text,
                                     std::string_view key,
                                     std::string_view value);

// Appends `text` to `out` with the top-level `key`'s value replaced by the JSON string `value`
// (the text unchanged when the key is absent). `span` is the key's value if already located.
void append_replacing_string(std::string& out,
                             std::string_view text,
                             std::optional<Span> span,
                             std::string_view value);

// Locates several top-level keys in one pass. spans[i] receives the value of keys[i].
void find_top_level_many(std::string_view text,
                         const std::string_view* keys,
                         std::optional<Span>* spans,
                         std::size_t n);

// Appends `s` as a JSON string literal (with quotes) to `out`.
void append_json_string(std::string& out, std::string_view s);

}  // namespace sy::json_scan

namespace sy::json_scan {

// True when `text` is exactly one syntactically valid JSON value (no DOM is built, nothing is
// allocated). Nesting is bounded at 64 levels. `error` (optional) receives the parser's reason.
bool is_valid(std::string_view text, std::string* error = nullptr);

// The decoded text of a JSON string token (quotes included, from validated text); empty for a
// token that is not a string (null, a number, ...).
std::string string_value(std::string_view token);

// The value of a JSON number token that is an integer within int64 ("12", "-3"); nullopt for
// anything else (fractions, exponents, out of range, non-numbers), like Boost.JSON's is_int64.
std::optional<std::int64_t> as_int64(std::string_view value);

// Skips one JSON value starting at text[i] (after optional whitespace); i ends past it.
bool skip_value_at(std::string_view text, std::size_t& i);
void skip_ws_at(std::string_view text, std::size_t& i);

// One member of a top-level object: its raw key (between the quotes, escapes not decoded), where
// the member starts (the key's opening quote) and its value.
struct Member {
    std::string_view key;
    std::size_t begin = 0;
    Span value;
};

// Calls fn(const Member&) for each member of the object `text`, in order, until fn returns
// false. Returns false when `text` is not a well-formed object. Meant for validated text.
template <class Fn>
bool for_each_member(std::string_view t, Fn&& fn) {
    std::size_t i = 0;
    skip_ws_at(t, i);
    if (i >= t.size() || t[i] != '{') {
        return false;
    }
    ++i;
    skip_ws_at(t, i);
    if (i < t.size() && t[i] == '}') {
        return true;
    }
    while (i < t.size() && t[i] == '"') {
        Member m;
        m.begin = i;
        std::size_t key_start = i + 1;
        if (!skip_value_at(t, i)) {
            return false;
        }
        m.key = t.substr(key_start, i - 1 - key_start);
        skip_ws_at(t, i);
        if (i >= t.size() || t[i] != ':') {
            return false;
        }
        ++i;
        skip_ws_at(t, i);
        m.value.offset = i;
        if (!skip_value_at(t, i)) {
            return false;
        }
        m.value.length = i - m.value.offset;
        if (!fn(m)) {
            return true;
        }
        skip_ws_at(t, i);
        if (i < t.size() && t[i] == ',') {
            ++i;
            skip_ws_at(t, i);
            continue;
        }
        return i < t.size() && t[i] == '}';
    }
    return false;
}

// Calls fn(std::string_view element) for each element of the array `text` until fn returns
// false. Returns false when `text` is not a well-formed array.
template <class Fn>
bool for_each_element(std::string_view t, Fn&& fn) {
    std::size_t i = 0;
    skip_ws_at(t, i);
    if (i >= t.size() || t[i] != '[') {
        return false;
    }
    ++i;
    skip_ws_at(t, i);
    if (i < t.size() && t[i] == ']') {
        return true;
    }
    while (i < t.size()) {
        std::size_t start = i;
        if (!skip_value_at(t, i)) {
            return false;
        }
        if (!fn(t.substr(start, i - start))) {
            return true;
        }
        skip_ws_at(t, i);
        if (i < t.size() && t[i] == ',') {
            ++i;
            skip_ws_at(t, i);
            continue;
        }
        return i < t.size() && t[i] == ']';
    }
    return false;
}

}  // namespace sy::json_scan
