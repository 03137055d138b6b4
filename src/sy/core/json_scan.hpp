#pragma once
// Byte-preserving edits of JSON text: find the value of a top-level key without building a DOM.
// Used on the pass-through path to rewrite `model` in upstream responses and SSE chunks while
// leaving every other byte exactly as the upstream sent it.
//
// Thread safety: pure functions.

#include <cstddef>
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
// allocated). Nesting is bounded at 64 levels.
bool is_valid(std::string_view text);

}  // namespace sy::json_scan
