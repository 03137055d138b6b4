#include "sy/core/json_scan.hpp"

#include <charconv>

#include <cstdio>

namespace sy::json_scan {
namespace {

constexpr int kMaxDepth = 512;

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

void skip_ws(std::string_view t, std::size_t& i) {
    while (i < t.size() && is_ws(t[i])) {
        ++i;
    }
}

// Skips a string starting at t[i] == '"'. On success i points past the closing quote.
bool skip_string(std::string_view t, std::size_t& i) {
    ++i;
    while (i < t.size()) {
        char c = t[i];
        if (c == '\\') {
            i += 2;
            continue;
        }
        ++i;
        if (c == '"') {
            return true;
        }
    }
    return false;
}

// Skips any JSON value starting at t[i]. Containers are skipped by bracket matching; scalars by
// scanning to the next structural character. Validity of scalars is not checked (the caller only
// needs value boundaries).
bool skip_value(std::string_view t, std::size_t& i) {
    skip_ws(t, i);
    if (i >= t.size()) {
        return false;
    }
    char c = t[i];
    if (c == '"') {
        return skip_string(t, i);
    }
    if (c == '{' || c == '[') {
        int depth = 0;
        while (i < t.size()) {
            char d = t[i];
            if (d == '"') {
                if (!skip_string(t, i)) {
                    return false;
                }
                continue;
            }
            if (d == '{' || d == '[') {
                if (++depth > kMaxDepth) {
                    return false;
                }
            } else if (d == '}' || d == ']') {
                --depth;
                if (depth == 0) {
                    ++i;
                    return true;
                }
            }
            ++i;
        }
        return false;
    }
    std::size_t start = i;
    while (i < t.size() && t[i] != ',' && t[i] != '}' && t[i] != ']' && !is_ws(t[i])) {
        ++i;
    }
    return i > start;
}

}  // namespace

std::optional<Span> find_top_level(std::string_view t, std::string_view key) {
    std::size_t i = 0;
    skip_ws(t, i);
    if (i >= t.size() || t[i] != '{') {
        return std::nullopt;
    }
    ++i;
    while (true) {
        skip_ws(t, i);
        if (i >= t.size()) {
            return std::nullopt;
        }
        if (t[i] == '}') {
            return std::nullopt;
        }
        if (t[i] != '"') {
            return std::nullopt;
        }
        std::size_t key_start = i + 1;
        if (!skip_string(t, i)) {
            return std::nullopt;
        }
        std::string_view k = t.substr(key_start, i - 1 - key_start);
        skip_ws(t, i);
        if (i >= t.size() || t[i] != ':') {
            return std::nullopt;
        }
        ++i;
        skip_ws(t, i);
        std::size_t value_start = i;
        if (!skip_value(t, i)) {
            return std::nullopt;
        }
        if (k == key) {
            return Span{value_start, i - value_start};
        }
        skip_ws(t, i);
        if (i >= t.size()) {
            return std::nullopt;
        }
        if (t[i] == ',') {
            ++i;
            continue;
        }
        return std::nullopt;
    }
}

void append_json_string(std::string& out, std::string_view s) {
    out.push_back('"');
    std::size_t run = 0;
    while (run < s.size()) {
        auto u = static_cast<unsigned char>(s[run]);
        if (u < 0x20 || u == '"' || u == '\\') {
            break;
        }
        ++run;
    }
    out.append(s.data(), run);
    s.remove_prefix(run);
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            default:
                if (u < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", u);
                    out += buf;
                } else {
                    out.push_back(c);
                }
        }
    }
    out.push_back('"');
}

void find_top_level_many(std::string_view t,
                         const std::string_view* keys,
                         std::optional<Span>* spans,
                         std::size_t n) {
    for (std::size_t k = 0; k < n; ++k) {
        spans[k].reset();
    }
    std::size_t i = 0;
    skip_ws(t, i);
    if (i >= t.size() || t[i] != '{') {
        return;
    }
    ++i;
    while (true) {
        skip_ws(t, i);
        if (i >= t.size() || t[i] != '"') {
            return;
        }
        std::size_t key_start = i + 1;
        if (!skip_string(t, i)) {
            return;
        }
        std::string_view k = t.substr(key_start, i - 1 - key_start);
        skip_ws(t, i);
        if (i >= t.size() || t[i] != ':') {
            return;
        }
        ++i;
        skip_ws(t, i);
        std::size_t value_start = i;
        if (!skip_value(t, i)) {
            return;
        }
        for (std::size_t j = 0; j < n; ++j) {
            if (k == keys[j] && !spans[j]) {
                spans[j] = Span{value_start, i - value_start};
            }
        }
        skip_ws(t, i);
        if (i >= t.size() || t[i] != ',') {
            return;
        }
        ++i;
    }
}

void append_replacing_string(std::string& out,
                             std::string_view text,
                             std::optional<Span> span,
                             std::string_view value) {
    if (!span) {
        out.append(text);
        return;
    }
    out.append(text.substr(0, span->offset));
    append_json_string(out, value);
    out.append(text.substr(span->offset + span->length));
}

std::string replace_top_level_string(std::string_view text,
                                     std::string_view key,
                                     std::string_view value) {
    auto span = find_top_level(text, key);
    if (!span) {
        return std::string(text);
    }
    std::string out;
    out.reserve(text.size() + value.size() + 2);
    out.append(text.substr(0, span->offset));
    append_json_string(out, value);
    out.append(text.substr(span->offset + span->length));
    return out;
}

}  // namespace sy::json_scan

#include <boost/json/basic_parser_impl.hpp>

namespace sy::json_scan {
namespace {

// A handler that accepts everything: basic_parser then only checks syntax.
struct NullHandler {
    static constexpr std::size_t max_object_size = std::size_t(-1);
    static constexpr std::size_t max_array_size = std::size_t(-1);
    static constexpr std::size_t max_key_size = std::size_t(-1);
    static constexpr std::size_t max_string_size = std::size_t(-1);
    using ec_t = boost::system::error_code;
    bool on_document_begin(ec_t&) { return true; }
    bool on_document_end(ec_t&) { return true; }
    bool on_object_begin(ec_t&) { return true; }
    bool on_object_end(std::size_t, ec_t&) { return true; }
    bool on_array_begin(ec_t&) { return true; }
    bool on_array_end(std::size_t, ec_t&) { return true; }
    bool on_key_part(std::string_view, std::size_t, ec_t&) { return true; }
    bool on_key(std::string_view, std::size_t, ec_t&) { return true; }
    bool on_string_part(std::string_view, std::size_t, ec_t&) { return true; }
    bool on_string(std::string_view, std::size_t, ec_t&) { return true; }
    bool on_number_part(std::string_view, ec_t&) { return true; }
    bool on_int64(std::int64_t, std::string_view, ec_t&) { return true; }
    bool on_uint64(std::uint64_t, std::string_view, ec_t&) { return true; }
    bool on_double(double, std::string_view, ec_t&) { return true; }
    bool on_bool(bool, ec_t&) { return true; }
    bool on_null(ec_t&) { return true; }
    bool on_comment_part(std::string_view, ec_t&) { return true; }
    bool on_comment(std::string_view, ec_t&) { return true; }
};

}  // namespace

bool is_valid(std::string_view text, std::string* error) {
    boost::json::parse_options opts;
    opts.max_depth = 64;
    boost::json::basic_parser<NullHandler> p(opts);
    boost::system::error_code ec;
    std::size_t n = p.write_some(false, text.data(), text.size(), ec);
    bool ok = !ec && n == text.size() && p.done();
    if (!ok && error) {
        *error = ec ? ec.message() : std::string("trailing data after the JSON value");
    }
    return ok;
}

bool skip_value_at(std::string_view text, std::size_t& i) { return skip_value(text, i); }
void skip_ws_at(std::string_view text, std::size_t& i) { skip_ws(text, i); }

std::optional<std::int64_t> as_int64(std::string_view value) {
    std::int64_t v = 0;
    const char* b = value.data();
    const char* e = b + value.size();
    if (b == e || *b == '+') {
        return std::nullopt;
    }
    auto [p, ec] = std::from_chars(b, e, v);
    if (ec != std::errc{} || p != e) {
        return std::nullopt;
    }
    return v;
}

}  // namespace sy::json_scan
