#include "sy/core/json_scan.hpp"

#include <array>
#include <bit>
#include <charconv>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cstdio>

namespace sy::json_scan {
namespace {

constexpr int kMaxDepth = 512;

// Character classes for the scanners: most bytes of a JSON text are none of these, and a table
// lookup per byte replaces a chain of comparisons.
enum : std::uint8_t {
    kPlain = 0,
    kQuote = 1,       // "
    kBackslash = 2,   // \ (only meaningful inside strings)
    kOpen = 3,        // { [
    kClose = 4,       // } ]
    kWs = 5,          // space, tab, CR, LF
    kComma = 6,       // ,
};

constexpr std::array<std::uint8_t, 256> make_classes() {
    std::array<std::uint8_t, 256> t{};
    t['"'] = kQuote;
    t['\\'] = kBackslash;
    t['{'] = kOpen;
    t['['] = kOpen;
    t['}'] = kClose;
    t[']'] = kClose;
    t[' '] = kWs;
    t['\t'] = kWs;
    t['\n'] = kWs;
    t['\r'] = kWs;
    t[','] = kComma;
    return t;
}
constexpr std::array<std::uint8_t, 256> kClasses = make_classes();

inline std::uint8_t cls(char c) { return kClasses[static_cast<unsigned char>(c)]; }

// Eight bytes at a time (SWAR): whether a word holds a byte equal to `b` / below `n`. Exact
// for "any byte" (the classic has-zero-byte test), which is all the loops below ask.
constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
constexpr std::uint64_t kHighs = 0x8080808080808080ULL;
inline std::uint64_t has_byte(std::uint64_t w, unsigned char b) {
    std::uint64_t x = w ^ (kOnes * b);
    return (x - kOnes) & ~x & kHighs;
}
inline std::uint64_t has_below(std::uint64_t w, unsigned char n) {
    return (w - kOnes * n) & ~w & kHighs;
}
static_assert(std::endian::native == std::endian::little, "byte indexes from trailing zeros");
inline std::uint64_t load8(const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
}

// First position from `j` of a quote or backslash (string content needs nothing else), or n.
// The lowest flagged byte of a word is always a real match (a false flag can only follow one),
// so its index comes from the mask's trailing zeros.
inline std::size_t next_quote_or_backslash(const char* p, std::size_t n, std::size_t j) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\');
    while (j + 16 <= n) {  // sixteen bytes per step (SSE2 is part of x86-64)
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + j));
        int m = _mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash)));
        if (m != 0) {
            return j + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(m)));
        }
        j += 16;
    }
#endif
    while (j + 8 <= n) {
        std::uint64_t m = has_byte(load8(p + j), '"') | has_byte(load8(p + j), '\\');
        if (m != 0) {
            return j + (static_cast<std::size_t>(__builtin_ctzll(m)) >> 3);
        }
        j += 8;
    }
    while (j < n) {
        std::uint8_t k = cls(p[j]);
        if (k == kQuote || k == kBackslash) {
            break;
        }
        ++j;
    }
    return j;
}

bool is_ws(char c) { return cls(c) == kWs; }

void skip_ws(std::string_view t, std::size_t& i) {
    std::size_t j = i;
    while (j < t.size() && is_ws(t[j])) {
        ++j;
    }
    i = j;
}

// The scanners keep their position in a local and store it once: a store through the `i`
// reference per byte could alias the text (char data), which makes the compiler write it back
// on every iteration.

// Inside a container only quotes and brackets matter: the first position from `j` of one of
// `"{}[]` (or n). '[' and ']' are '{' and '}' with bit 0x20 clear, and no other byte ORs to
// those two, so three comparisons cover the five.
inline std::size_t next_structural(const char* p, std::size_t n, std::size_t j) {
#if defined(__SSE2__)
    const __m128i quote = _mm_set1_epi8('"');
    const __m128i open = _mm_set1_epi8('{');
    const __m128i close = _mm_set1_epi8('}');
    const __m128i bit = _mm_set1_epi8(0x20);
    while (j + 16 <= n) {
        __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + j));
        __m128i folded = _mm_or_si128(v, bit);
        int m = _mm_movemask_epi8(_mm_or_si128(
            _mm_cmpeq_epi8(v, quote),
            _mm_or_si128(_mm_cmpeq_epi8(folded, open), _mm_cmpeq_epi8(folded, close))));
        if (m != 0) {
            return j + static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(m)));
        }
        j += 16;
    }
#endif
    while (j < n) {
        std::uint8_t k = cls(p[j]);
        if (k == kQuote || k == kOpen || k == kClose) {
            return j;
        }
        ++j;
    }
    return n;
}

// Skips a string starting at p[j] == '"': returns the position past the closing quote, or
// npos when the string does not end.
std::size_t string_end(const char* p, std::size_t n, std::size_t j) {
    ++j;
    for (;;) {
        j = next_quote_or_backslash(p, n, j);
        if (j >= n) {
            return std::string_view::npos;
        }
        if (p[j] == '"') {
            return j + 1;
        }
        j += 2;  // a backslash and the byte it escapes
        if (j > n) {
            return std::string_view::npos;
        }
    }
}

// Skips a string starting at t[i] == '"'. On success i points past the closing quote.
bool skip_string(std::string_view t, std::size_t& i) {
    std::size_t e = string_end(t.data(), t.size(), i);
    if (e == std::string_view::npos) {
        i = t.size();
        return false;
    }
    i = e;
    return true;
}

// Skips any JSON value starting at t[i]. Containers are skipped by bracket matching; scalars by
// scanning to the next structural character. Validity of scalars is not checked (the caller only
// needs value boundaries).
bool skip_value(std::string_view t, std::size_t& i) {
    const char* p = t.data();
    const std::size_t n = t.size();
    std::size_t j = i;
    while (j < n && cls(p[j]) == kWs) {
        ++j;
    }
    if (j >= n) {
        i = j;
        return false;
    }
    std::uint8_t k = cls(p[j]);
    if (k == kQuote) {
        i = j;
        return skip_string(t, i);
    }
    if (k == kOpen) {
        int depth = 0;
        while (j < n) {
            j = next_structural(p, n, j);
            if (j >= n) {
                break;
            }
            k = cls(p[j]);
            if (k == kQuote) {
                j = string_end(p, n, j);
                if (j == std::string_view::npos) {
                    i = n;
                    return false;
                }
                continue;
            }
            if (k == kOpen) {
                if (++depth > kMaxDepth) {
                    i = j;
                    return false;
                }
            } else if (--depth == 0) {  // kClose
                i = j + 1;
                return true;
            }
            ++j;
        }
        i = j;
        return false;
    }
    std::size_t start = j;
    while (j < n) {
        k = cls(p[j]);
        if (k == kComma || k == kClose || k == kWs) {
            break;
        }
        ++j;
    }
    i = j;
    return j > start;
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
    static constexpr auto kEscaped = [] {
        std::array<bool, 256> t{};
        for (int c = 0; c < 0x20; ++c) {
            t[static_cast<std::size_t>(c)] = true;
        }
        t['"'] = true;
        t['\\'] = true;
        return t;
    }();
    out.push_back('"');
    const char* p = s.data();
    const std::size_t n = s.size();
    std::size_t i = 0;
    while (i < n) {
        std::size_t run = i;
        bool found = false;
#if defined(__SSE2__)
        const __m128i quote = _mm_set1_epi8('"');
        const __m128i backslash = _mm_set1_epi8('\\');
        const __m128i control_max = _mm_set1_epi8(0x1f);
        while (run + 16 <= n) {  // sixteen bytes at a time while none needs escaping
            __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + run));
            __m128i control = _mm_cmpeq_epi8(_mm_min_epu8(v, control_max), v);  // v <= 0x1f
            int m = _mm_movemask_epi8(_mm_or_si128(
                control, _mm_or_si128(_mm_cmpeq_epi8(v, quote), _mm_cmpeq_epi8(v, backslash))));
            if (m != 0) {
                run += static_cast<std::size_t>(__builtin_ctz(static_cast<unsigned>(m)));
                found = true;
                break;
            }
            run += 16;
        }
#endif
        while (!found && run + 8 <= n) {  // eight bytes at a time while none needs escaping
            std::uint64_t w = load8(p + run);
            std::uint64_t m = has_byte(w, '"') | has_byte(w, '\\') | has_below(w, 0x20);
            if (m != 0) {
                run += static_cast<std::size_t>(__builtin_ctzll(m)) >> 3;
                found = true;
                break;
            }
            run += 8;
        }
        while (!found && run < n && !kEscaped[static_cast<unsigned char>(p[run])]) {
            ++run;
        }
        out.append(p + i, run - i);
        if (run == n) {
            break;
        }
        char c = p[run];
        switch (c) {
            case '"':
                out.append("\\\"", 2);
                break;
            case '\\':
                out.append("\\\\", 2);
                break;
            case '\n':
                out.append("\\n", 2);
                break;
            case '\r':
                out.append("\\r", 2);
                break;
            case '\t':
                out.append("\\t", 2);
                break;
            default: {
                static constexpr char kHex[] = "0123456789abcdef";
                auto u = static_cast<unsigned char>(c);
                const char esc[6] = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 0xf]};
                out.append(esc, 6);
            }
        }
        i = run + 1;
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
#include <boost/json/parse.hpp>

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

std::string string_value(std::string_view token) {
    if (token.size() < 2 || token.front() != '"') {
        return {};
    }
    if (token.find('\\') == std::string_view::npos) {
        return std::string(token.substr(1, token.size() - 2));
    }
    boost::system::error_code ec;
    boost::json::value parsed = boost::json::parse(token, ec);
    return ec || !parsed.is_string() ? std::string() : std::string(parsed.get_string());
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
