// config.yaml loader: YAML events -> bounded document tree -> includes, environment_variables,
// os.environ/ substitution -> typed Settings + validation (config.md §1-§9).
//
// yaml-cpp is used through its event API (YAML::Parser + EventHandler) so that every node keeps
// its Mark, anchors/aliases are expanded under a node budget, and nesting is bounded before
// yaml-cpp recurses deeply. Every exception (yaml-cpp, allocation, a throwing EnvLookup) is
// caught at the entry points: the loader reports errors as Diagnostics and never throws.

#include "sy/config/loader.hpp"

#include <openssl/evp.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <sstream>
#include <unordered_map>
#include <utility>

#include "sy/config/provider_catalog.hpp"

namespace sy::config {

namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------------
// Limits. A config file is small; these bounds only stop hostile or broken input from
// exhausting memory or the stack.

constexpr std::size_t kMaxDocumentBytes = 16U * 1024 * 1024;
constexpr std::size_t kMaxNodes = 200'000;                  // after alias expansion
constexpr std::size_t kMaxScalarBytes = 64U * 1024 * 1024;  // after alias expansion
constexpr std::size_t kMaxDepth = 64;
constexpr int kMaxIncludeDepth = 8;
constexpr std::size_t kMaxIncludedFiles = 64;
constexpr std::size_t kMaxEchoChars = 40;
constexpr std::string_view kEnvPrefix = "os.environ/";
constexpr std::string_view kMasterKeyPath = "general_settings.master_key";

// ---------------------------------------------------------------------------------------------
// Small string helpers.

bool starts_with(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

std::string join_path(std::string_view parent, std::string_view key) {
    std::string out(parent);
    if (!out.empty()) {
        out += '.';
    }
    out += key;
    return out;
}

std::string index_path(std::string_view parent, std::size_t i) {
    return std::string(parent) + "[" + std::to_string(i) + "]";
}

std::string_view trim(std::string_view s) {
    while (!s.empty() &&
           (s.front() == ' ' || s.front() == '\t' || s.front() == '\n' || s.front() == '\r')) {
        s.remove_prefix(1);
    }
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\n' || s.back() == '\r')) {
        s.remove_suffix(1);
    }
    return s;
}

std::string lower(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

// A literal value shown in a message: truncated, control characters replaced.
std::string echo(std::string_view s) {
    std::string out = "\"";
    std::size_t n = 0;
    for (char c : s) {
        if (n++ == kMaxEchoChars) {
            out += "...";
            break;
        }
        auto u = static_cast<unsigned char>(c);
        out += (u < 0x20 || u == 0x7f) ? '?' : c;
    }
    out += '"';
    return out;
}

// Optimal string alignment distance, for "did you mean" suggestions.
std::size_t edit_distance(std::string_view a, std::string_view b) {
    const std::size_t n = a.size();
    const std::size_t m = b.size();
    std::vector<std::size_t> prev2(m + 1);
    std::vector<std::size_t> prev(m + 1);
    std::vector<std::size_t> cur(m + 1);
    for (std::size_t j = 0; j <= m; ++j) {
        prev[j] = j;
    }
    for (std::size_t i = 1; i <= n; ++i) {
        cur[0] = i;
        for (std::size_t j = 1; j <= m; ++j) {
            std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1]) {
                cur[j] = std::min(cur[j], prev2[j - 2] + 1);
            }
        }
        prev2.swap(prev);
        prev.swap(cur);
    }
    return prev[m];
}

template <class Range>
std::string suggest(std::string_view word, const Range& candidates) {
    if (word.size() > 256) {
        return {};
    }
    const std::size_t limit = std::max<std::size_t>(2, word.size() / 3);
    std::string best;
    std::size_t best_d = limit + 1;
    for (const auto& c : candidates) {
        std::string_view cv(c);
        if (cv.size() > word.size() + limit || word.size() > cv.size() + limit) {
            continue;
        }
        std::size_t d = edit_distance(lower(word), lower(cv));
        if (d < best_d) {
            best_d = d;
            best = std::string(cv);
        }
    }
    return best;
}

std::string did_you_mean(const std::string& s) {
    return s.empty() ? std::string() : " (did you mean " + s + "?)";
}

// ---------------------------------------------------------------------------------------------
// Diagnostics sink, file table and environment view.

struct Mark {
    int file = -1;   // index into Context files; -1 = unknown
    int line = 0;    // 1-based; 0 = unknown
    int column = 0;  // 1-based
};

class Context {
public:
    Context(const LoadOptions& opts, bool set_process_env)
        : strict_(opts.strict),
          set_process_env_(set_process_env),
          env_(opts.env ? opts.env : process_env()) {}

    int add_file(std::string name) {
        files_.push_back(std::move(name));
        return static_cast<int>(files_.size()) - 1;
    }
    const std::string& file(int i) const { return files_.at(static_cast<std::size_t>(i)); }
    std::size_t file_count() const { return files_.size(); }

    void warn(const Mark& m, std::string_view path, std::string_view msg) {
        add(Diagnostic::Level::kWarning, m, path, msg);
    }
    void error(const Mark& m, std::string_view path, std::string_view msg) {
        add(Diagnostic::Level::kError, m, path, msg);
    }
    // Unknown keys are warnings, errors in strict mode (README D23, --strict).
    void unknown(const Mark& m, std::string_view path, std::string_view msg) {
        add(strict_ ? Diagnostic::Level::kError : Diagnostic::Level::kWarning, m, path, msg);
    }
    // A LATER key: one warning per distinct `once_key` (e.g. per key name across deployments).
    // `what` names the feature in the message (default: the path).
    void later(const Mark& m,
               const std::string& path,
               const std::string& once_key,
               const std::string& what = {}) {
        if (warned_.insert(once_key.empty() ? path : once_key).second) {
            warn(m, path, (what.empty() ? path : what) + " not supported, ignored");
        }
    }

    bool has_error() const { return has_error_; }
    std::vector<Diagnostic> take_diagnostics() { return std::move(diags_); }

    // The environment as the config sees it: environment_variables first, then the real one.
    std::optional<std::string> env(std::string_view name) const {
        if (auto it = overlay_.find(name); it != overlay_.end()) {
            return it->second;
        }
        return env_(name);
    }
    std::optional<std::string> base_env(std::string_view name) const { return env_(name); }
    void set_env(const std::string& name, const std::string& value) {
        overlay_[name] = value;
        if (set_process_env_) {
            ::setenv(name.c_str(), value.c_str(), 1);
        }
    }

private:
    void add(Diagnostic::Level level, const Mark& m, std::string_view path, std::string_view msg) {
        std::string text;
        if (m.file >= 0 && static_cast<std::size_t>(m.file) < files_.size()) {
            text = files_[static_cast<std::size_t>(m.file)];
            if (m.line > 0) {
                text += ":" + std::to_string(m.line) + ":" + std::to_string(m.column);
            }
        } else if (!files_.empty()) {
            text = files_.front();
        }
        if (!text.empty()) {
            text += ": ";
        }
        if (!path.empty()) {
            text += path;
            text += ": ";
        }
        text += msg;
        if (level == Diagnostic::Level::kError) {
            has_error_ = true;
        }
        diags_.push_back(Diagnostic{level, std::move(text)});
    }

    bool strict_;
    bool set_process_env_;
    EnvLookup env_;
    std::vector<std::string> files_;
    std::vector<Diagnostic> diags_;
    std::map<std::string, std::string, std::less<>> overlay_;
    std::set<std::string> warned_;
    bool has_error_ = false;
};

// ---------------------------------------------------------------------------------------------
// Document tree.

struct Entry;

struct Node {
    enum class Type : std::uint8_t { kNull, kScalar, kSeq, kMap };
    Type type = Type::kNull;
    bool quoted = false;         // quoted or !!str scalar: always a string, never a number
    std::string value;           // scalar text; after substitution the variable's value
    std::string env_ref;         // NAME when the scalar was written as os.environ/NAME
    std::vector<Node> items;     // kSeq
    std::vector<Entry> entries;  // kMap: document order, keys unique
    Mark mark;

    bool is_null() const { return type == Type::kNull; }
    bool is_scalar() const { return type == Type::kScalar; }
    bool is_seq() const { return type == Type::kSeq; }
    bool is_map() const { return type == Type::kMap; }
    const Node* find(std::string_view key) const;
};

struct Entry {
    std::string key;
    Mark key_mark;
    Node value;
};

const Node* Node::find(std::string_view key) const {
    for (const Entry& e : entries) {
        if (e.key == key) {
            return &e.value;
        }
    }
    return nullptr;
}

struct TreeError {
    Mark mark;
    std::string message;
};

// Builds a Node tree from yaml-cpp parser events. Bounded: nesting depth, node count and scalar
// bytes (aliases included, so "billion laughs" documents stop early). Throws TreeError.
class TreeBuilder final : public YAML::EventHandler {
public:
    TreeBuilder(Context& ctx, int file) : ctx_(ctx), file_(file) {}

    bool has_root() const { return have_root_; }
    Node take_root() { return std::move(root_); }

    void OnDocumentStart(const YAML::Mark& /*mark*/) override {}
    void OnDocumentEnd() override {}

    void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        account(1, 0, to_mark(mark));
        Node n;
        n.mark = to_mark(mark);
        add(std::move(n), anchor);
    }

    void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
        auto it = anchors_.find(anchor);
        if (it == anchors_.end()) {
            throw TreeError{to_mark(mark), "alias refers to an anchor that is not complete"};
        }
        if (stack_.size() + it->second.depth > kMaxDepth) {
            throw TreeError{to_mark(mark), "document nesting is deeper than 64 levels"};
        }
        account(it->second.nodes, it->second.bytes, to_mark(mark));
        Node copy = it->second.node;
        copy.mark = to_mark(mark);
        add(std::move(copy), YAML::NullAnchor);
    }

    void OnScalar(const YAML::Mark& mark,
                  const std::string& tag,
                  YAML::anchor_t anchor,
                  const std::string& value) override {
        account(1, value.size(), to_mark(mark));
        Node n;
        n.type = Node::Type::kScalar;
        n.quoted = tag == "!" || tag == "tag:yaml.org,2002:str";
        n.value = value;
        n.mark = to_mark(mark);
        add(std::move(n), anchor);
    }

    void OnSequenceStart(const YAML::Mark& mark,
                         const std::string& /*tag*/,
                         YAML::anchor_t anchor,
                         YAML::EmitterStyle::value /*style*/) override {
        start(Node::Type::kSeq, mark, anchor);
    }
    void OnSequenceEnd() override { finish(); }

    void OnMapStart(const YAML::Mark& mark,
                    const std::string& /*tag*/,
                    YAML::anchor_t anchor,
                    YAML::EmitterStyle::value /*style*/) override {
        start(Node::Type::kMap, mark, anchor);
    }
    void OnMapEnd() override { finish(); }

private:
    struct Frame {
        Node node;
        YAML::anchor_t anchor = YAML::NullAnchor;
        std::string path;
        bool have_key = false;
        bool key_is_merge = false;
        std::string key;
        Mark key_mark;
        std::vector<Node> merges;  // values of "<<" merge keys, applied at the end of the map
        std::unordered_map<std::string, std::size_t> index;
    };
    struct Anchored {
        Node node;
        std::size_t nodes = 0;
        std::size_t bytes = 0;
        std::size_t depth = 0;
    };

    Mark to_mark(const YAML::Mark& m) const {
        if (m.is_null()) {
            return Mark{file_, 0, 0};
        }
        return Mark{file_, m.line + 1, m.column + 1};
    }

    void account(std::size_t nodes, std::size_t bytes, const Mark& m) {
        nodes_ += nodes;
        bytes_ += bytes;
        if (nodes_ > kMaxNodes) {
            throw TreeError{m, "document has more than 200000 nodes (aliases included)"};
        }
        if (bytes_ > kMaxScalarBytes) {
            throw TreeError{m, "document text exceeds 64 MiB (aliases included)"};
        }
    }

    static void measure(const Node& n, std::size_t depth, Anchored& a) {
        a.nodes += 1;
        a.bytes += n.value.size();
        a.depth = std::max(a.depth, depth);
        for (const Node& c : n.items) {
            measure(c, depth + 1, a);
        }
        for (const Entry& e : n.entries) {
            a.bytes += e.key.size();
            measure(e.value, depth + 1, a);
        }
    }

    std::string child_path() const {
        if (stack_.empty()) {
            return {};
        }
        const Frame& f = stack_.back();
        if (f.node.is_seq()) {
            return index_path(f.path, f.node.items.size());
        }
        return join_path(f.path, f.key);
    }

    void start(Node::Type type, const YAML::Mark& mark, YAML::anchor_t anchor) {
        Mark m = to_mark(mark);
        if (!stack_.empty() && stack_.back().node.is_map() && !stack_.back().have_key) {
            throw TreeError{m, "mapping keys must be plain strings"};
        }
        if (stack_.size() >= kMaxDepth) {
            throw TreeError{m, "document nesting is deeper than 64 levels"};
        }
        account(1, 0, m);
        Frame f;
        f.node.type = type;
        f.node.mark = m;
        f.anchor = anchor;
        f.path = child_path();
        stack_.push_back(std::move(f));
    }

    static void merge_map(Frame& f, const Node& src) {
        for (const Entry& e : src.entries) {
            if (f.index.find(e.key) == f.index.end()) {
                f.index.emplace(e.key, f.node.entries.size());
                f.node.entries.push_back(e);
            }
        }
    }

    void finish() {
        Frame f = std::move(stack_.back());
        stack_.pop_back();
        if (f.node.is_map()) {
            // YAML merge keys ("<<: *defaults"): explicit keys win, then earlier merges.
            for (const Node& m : f.merges) {
                if (m.is_map()) {
                    merge_map(f, m);
                } else if (m.is_seq()) {
                    for (const Node& item : m.items) {
                        if (!item.is_map()) {
                            throw TreeError{item.mark, "merge key << needs mappings"};
                        }
                        merge_map(f, item);
                    }
                } else {
                    throw TreeError{m.mark, "merge key << needs a mapping or a list of mappings"};
                }
            }
        }
        add(std::move(f.node), f.anchor);
    }

    void add(Node n, YAML::anchor_t anchor) {
        if (anchor != YAML::NullAnchor) {
            Anchored a;
            measure(n, 1, a);
            account(a.nodes, a.bytes, n.mark);  // the stored copy costs memory too
            a.node = n;
            anchors_[anchor] = std::move(a);
        }
        if (stack_.empty()) {
            root_ = std::move(n);
            have_root_ = true;
            return;
        }
        Frame& f = stack_.back();
        if (f.node.is_seq()) {
            f.node.items.push_back(std::move(n));
            return;
        }
        if (!f.have_key) {
            if (!n.is_scalar()) {
                throw TreeError{n.mark, "mapping keys must be plain strings"};
            }
            f.key = std::move(n.value);
            f.key_mark = n.mark;
            f.key_is_merge = !n.quoted && f.key == "<<";
            f.have_key = true;
            return;
        }
        f.have_key = false;
        if (n.is_null() && n.mark.line != f.key_mark.line) {
            n.mark = f.key_mark;  // "key:" with no value: point at the key, not the next line
        }
        if (f.key_is_merge) {
            f.merges.push_back(std::move(n));
            return;
        }
        if (auto it = f.index.find(f.key); it != f.index.end()) {
            ctx_.warn(f.key_mark,
                      join_path(f.path, f.key),
                      "duplicate key " + f.key + "; the last value is used");
            Entry& e = f.node.entries[it->second];
            e.key_mark = f.key_mark;
            e.value = std::move(n);
            return;
        }
        f.index.emplace(f.key, f.node.entries.size());
        f.node.entries.push_back(Entry{std::move(f.key), f.key_mark, std::move(n)});
    }

    Context& ctx_;
    int file_;
    std::vector<Frame> stack_;
    std::unordered_map<YAML::anchor_t, Anchored> anchors_;
    std::size_t nodes_ = 0;
    std::size_t bytes_ = 0;
    Node root_;
    bool have_root_ = false;
};

// Parses the first YAML document of `text`. nullopt after reporting an error.
std::optional<Node> parse_yaml(Context& ctx, std::string_view text, int file) {
    if (text.size() > kMaxDocumentBytes) {
        ctx.error(Mark{file, 0, 0}, "", "config file is larger than 16 MiB");
        return std::nullopt;
    }
    try {
        std::istringstream in{std::string(text)};
        YAML::Parser parser(in);
        TreeBuilder builder(ctx, file);
        parser.HandleNextDocument(builder);
        if (!builder.has_root()) {
            Node empty;
            empty.mark = Mark{file, 1, 1};
            return empty;
        }
        return builder.take_root();
    } catch (const TreeError& e) {
        ctx.error(e.mark, "", e.message);
    } catch (const YAML::Exception& e) {
        Mark m{file, 0, 0};
        if (!e.mark.is_null()) {
            m.line = e.mark.line + 1;
            m.column = e.mark.column + 1;
        }
        ctx.error(m, "", "YAML syntax error: " + e.msg);
    } catch (const std::bad_alloc&) {
        ctx.error(Mark{file, 0, 0}, "", "out of memory while parsing YAML");
    } catch (const std::exception& e) {
        ctx.error(Mark{file, 0, 0}, "", std::string("YAML parse failed: ") + e.what());
    }
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Scalar interpretation (YAML 1.1 words, as PyYAML reads LiteLLM configs).

std::optional<bool> bool_word(std::string_view s) {
    static constexpr std::array<std::string_view, 9> kTrue = {
        "true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
    static constexpr std::array<std::string_view, 9> kFalse = {
        "false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF"};
    if (std::find(kTrue.begin(), kTrue.end(), s) != kTrue.end()) {
        return true;
    }
    if (std::find(kFalse.begin(), kFalse.end(), s) != kFalse.end()) {
        return false;
    }
    return std::nullopt;
}

bool is_digits(std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string_view strip_sign(std::string_view s, bool& negative) {
    negative = false;
    if (!s.empty() && (s.front() == '+' || s.front() == '-')) {
        negative = s.front() == '-';
        s.remove_prefix(1);
    }
    return s;
}

bool looks_like_int(std::string_view s) {
    bool neg = false;
    return is_digits(strip_sign(s, neg));
}

bool looks_like_float(std::string_view s) {
    bool neg = false;
    s = strip_sign(s, neg);
    std::size_t i = 0;
    std::size_t int_digits = 0;
    std::size_t frac_digits = 0;
    bool dot = false;
    bool exp = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        ++i;
        ++int_digits;
    }
    if (i < s.size() && s[i] == '.') {
        dot = true;
        ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            ++i;
            ++frac_digits;
        }
    }
    if (int_digits + frac_digits == 0) {
        return false;
    }
    if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
        exp = true;
        ++i;
        if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
            ++i;
        }
        if (!is_digits(s.substr(i))) {
            return false;
        }
        i = s.size();
    }
    return i == s.size() && (dot || exp);
}

std::optional<std::int64_t> parse_int64(std::string_view s) {
    s = trim(s);
    if (!looks_like_int(s)) {
        return std::nullopt;
    }
    if (s.front() == '+') {
        s.remove_prefix(1);
    }
    std::int64_t v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size()) {
        return std::nullopt;
    }
    return v;
}

std::optional<double> parse_double(std::string_view s) {
    s = trim(s);
    if (!looks_like_int(s) && !looks_like_float(s)) {
        return std::nullopt;
    }
    if (s.front() == '+') {
        s.remove_prefix(1);
    }
    double v = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) {
        return std::nullopt;
    }
    return v;
}

std::string format_double(double d) {
    std::array<char, 64> buf{};
    auto [p, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), d);
    if (ec != std::errc()) {
        return "0";
    }
    return std::string(buf.data(), p);
}

// Duration strings (config.md §9): <int><s|m|h|d|w|mo>, a bare integer, or hourly/daily/...
bool valid_duration(std::string_view s) {
    s = trim(s);
    if (s == "hourly" || s == "daily" || s == "weekly" || s == "monthly") {
        return true;
    }
    std::size_t i = 0;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        ++i;
    }
    if (i == 0) {
        return false;
    }
    std::string_view unit = s.substr(i);
    return unit.empty() || unit == "s" || unit == "m" || unit == "h" || unit == "d" ||
           unit == "w" || unit == "mo";
}

// ---------------------------------------------------------------------------------------------
// JSON text (objects with sorted keys, no spaces: canonical for ids, plain elsewhere).

// Length of the valid UTF-8 sequence at s[i], 0 when invalid.
std::size_t utf8_len(std::string_view s, std::size_t i) {
    auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[i + k]); };
    const unsigned char c = b(0);
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
    } else {
        return 0;
    }
    if (i + len > s.size()) {
        return 0;
    }
    for (std::size_t k = 1; k < len; ++k) {
        if ((b(k) & 0xC0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (b(k) & 0x3F);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
        return 0;
    }
    return len;
}

void write_json_string(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    std::size_t i = 0;
    while (i < s.size()) {
        auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            std::size_t len = utf8_len(s, i);
            if (len == 0) {
                out += "\\ufffd";
                ++i;
            } else {
                out.append(s.substr(i, len));
                i += len;
            }
            continue;
        }
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
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
                if (c < 0x20) {
                    out += "\\u00";
                    out += kHex[c >> 4];
                    out += kHex[c & 0xF];
                } else {
                    out += static_cast<char>(c);
                }
        }
        ++i;
    }
    out += '"';
}

std::string json_string(std::string_view s) {
    std::string out;
    write_json_string(out, s);
    return out;
}

// A scalar as JSON: plain scalars that read as booleans or numbers become those.
void write_scalar(std::string& out, std::string_view text, bool quoted) {
    if (!quoted) {
        if (auto b = bool_word(text)) {
            out += *b ? "true" : "false";
            return;
        }
        if (looks_like_int(text)) {
            if (auto v = parse_int64(text)) {
                out += std::to_string(*v);
                return;
            }
        }
        if (auto d = parse_double(text)) {
            out += format_double(*d);
            return;
        }
    }
    write_json_string(out, text);
}

enum class JsonMode : std::uint8_t {
    kResolved,   // os.environ/ references replaced by their values (unset -> null)
    kAsWritten,  // os.environ/ references kept as written (deployment ids)
};

void write_json(std::string& out, const Node& n, JsonMode mode) {
    if (mode == JsonMode::kAsWritten && !n.env_ref.empty()) {
        write_json_string(out, std::string(kEnvPrefix) + n.env_ref);
        return;
    }
    switch (n.type) {
        case Node::Type::kNull:
            out += "null";
            return;
        case Node::Type::kScalar:
            write_scalar(out, n.value, n.quoted && n.env_ref.empty());
            return;
        case Node::Type::kSeq: {
            out += '[';
            bool first = true;
            for (const Node& c : n.items) {
                if (!first) {
                    out += ',';
                }
                first = false;
                write_json(out, c, mode);
            }
            out += ']';
            return;
        }
        case Node::Type::kMap: {
            std::vector<const Entry*> sorted;
            sorted.reserve(n.entries.size());
            for (const Entry& e : n.entries) {
                sorted.push_back(&e);
            }
            std::sort(sorted.begin(), sorted.end(), [](const Entry* a, const Entry* b) {
                return a->key < b->key;
            });
            out += '{';
            bool first = true;
            for (const Entry* e : sorted) {
                if (!first) {
                    out += ',';
                }
                first = false;
                write_json_string(out, e->key);
                out += ':';
                write_json(out, e->value, mode);
            }
            out += '}';
            return;
        }
    }
}

std::string to_json(const Node& n, JsonMode mode = JsonMode::kResolved) {
    std::string out;
    write_json(out, n, mode);
    return out;
}

// A JSON object assembled member by member; serialised with sorted keys.
class JsonObject {
public:
    void set(std::string key, std::string json) {
        for (auto& m : members_) {
            if (m.first == key) {
                m.second = std::move(json);
                return;
            }
        }
        members_.emplace_back(std::move(key), std::move(json));
    }
    bool empty() const { return members_.empty(); }
    std::string str() const {
        auto sorted = members_;
        std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) {
            return a.first < b.first;
        });
        std::string out = "{";
        bool first = true;
        for (const auto& [k, v] : sorted) {
            if (!first) {
                out += ',';
            }
            first = false;
            write_json_string(out, k);
            out += ':';
            out += v;
        }
        out += '}';
        return out;
    }

private:
    std::vector<std::pair<std::string, std::string>> members_;
};

std::string sha256_hex(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1) {
        return {};
    }
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    out.reserve(len * 2);
    for (unsigned int i = 0; i < len; ++i) {
        out += kHex[md[i] >> 4];
        out += kHex[md[i] & 0xF];
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Typed reads. A null node (absent, `key:` or an unset os.environ/ reference) reads as nullopt
// without a diagnostic; a wrong type is an error naming the path (the value is echoed only when
// it was written literally, never when it came from the environment).

enum class Bound : std::uint8_t { kAny, kNonNegative, kPositive };

std::string describe(const Node& n) {
    if (!n.env_ref.empty()) {
        return "the value of " + std::string(kEnvPrefix) + n.env_ref;
    }
    switch (n.type) {
        case Node::Type::kSeq:
            return "a list";
        case Node::Type::kMap:
            return "a map";
        case Node::Type::kNull:
            return "null";
        case Node::Type::kScalar:
            break;
    }
    return echo(n.value);
}

void type_error(Context& ctx, const Node& n, const std::string& path, std::string_view expected) {
    ctx.error(n.mark, path, "expected " + std::string(expected) + ", got " + describe(n));
}

bool check_bound(Context& ctx, const Node& n, const std::string& path, double v, Bound b) {
    if (b == Bound::kNonNegative && v < 0) {
        ctx.error(n.mark, path, "must not be negative");
        return false;
    }
    if (b == Bound::kPositive && v <= 0) {
        ctx.error(n.mark, path, "must be greater than 0");
        return false;
    }
    return true;
}

std::optional<std::string> read_string(Context& ctx, const Node& n, const std::string& path) {
    if (n.is_null()) {
        return std::nullopt;
    }
    if (!n.is_scalar()) {
        type_error(ctx, n, path, "a string");
        return std::nullopt;
    }
    return n.value;
}

std::optional<bool> read_bool(Context& ctx, const Node& n, const std::string& path) {
    if (n.is_null()) {
        return std::nullopt;
    }
    if (n.is_scalar()) {
        std::string_view v = trim(n.value);
        if (auto b = bool_word(v)) {
            return b;
        }
        if (v == "1" || v == "0") {
            return v == "1";
        }
    }
    type_error(ctx, n, path, "a boolean (true or false)");
    return std::nullopt;
}

std::optional<double> read_number(Context& ctx,
                                  const Node& n,
                                  const std::string& path,
                                  Bound b = Bound::kAny) {
    if (n.is_null()) {
        return std::nullopt;
    }
    std::optional<double> v;
    if (n.is_scalar()) {
        v = parse_double(n.value);
    }
    if (!v) {
        type_error(ctx, n, path, "a number");
        return std::nullopt;
    }
    if (!check_bound(ctx, n, path, *v, b)) {
        return std::nullopt;
    }
    return v;
}

std::optional<int> read_int(Context& ctx,
                            const Node& n,
                            const std::string& path,
                            Bound b = Bound::kNonNegative) {
    if (n.is_null()) {
        return std::nullopt;
    }
    std::optional<std::int64_t> v;
    if (n.is_scalar()) {
        v = parse_int64(n.value);
        if (!v) {
            // 3.0 is an integer too (PyYAML gives a float, LiteLLM accepts it).
            if (auto d = parse_double(n.value); d && std::floor(*d) == *d && std::fabs(*d) < 1e15) {
                v = static_cast<std::int64_t>(*d);
            }
        }
    }
    if (!v) {
        type_error(ctx, n, path, "an integer");
        return std::nullopt;
    }
    if (*v > std::numeric_limits<int>::max() || *v < std::numeric_limits<int>::min()) {
        ctx.error(n.mark, path, "integer out of range");
        return std::nullopt;
    }
    if (!check_bound(ctx, n, path, static_cast<double>(*v), b)) {
        return std::nullopt;
    }
    return static_cast<int>(*v);
}

// A list of strings; a single string is a one-item list.
std::optional<std::vector<std::string>> read_strings(Context& ctx,
                                                     const Node& n,
                                                     const std::string& path) {
    if (n.is_null()) {
        return std::nullopt;
    }
    std::vector<std::string> out;
    if (n.is_scalar()) {
        out.push_back(n.value);
        return out;
    }
    if (!n.is_seq()) {
        type_error(ctx, n, path, "a list of strings");
        return std::nullopt;
    }
    bool ok = true;
    for (std::size_t i = 0; i < n.items.size(); ++i) {
        const Node& item = n.items[i];
        if (item.is_null()) {
            continue;  // an unset os.environ/ item (already warned)
        }
        if (!item.is_scalar()) {
            type_error(ctx, item, index_path(path, i), "a string");
            ok = false;
            continue;
        }
        out.push_back(item.value);
    }
    if (!ok) {
        return std::nullopt;
    }
    return out;
}

std::optional<std::map<std::string, std::string>> read_string_map(Context& ctx,
                                                                  const Node& n,
                                                                  const std::string& path) {
    if (n.is_null()) {
        return std::nullopt;
    }
    if (!n.is_map()) {
        type_error(ctx, n, path, "a map of strings");
        return std::nullopt;
    }
    std::map<std::string, std::string> out;
    bool ok = true;
    for (const Entry& e : n.entries) {
        if (e.value.is_null()) {
            continue;
        }
        if (!e.value.is_scalar()) {
            type_error(ctx, e.value, join_path(path, e.key), "a string");
            ok = false;
            continue;
        }
        out[e.key] = e.value.value;
    }
    if (!ok) {
        return std::nullopt;
    }
    return out;
}

// Reads `n` as one of `allowed` (exact match). Error lists the choices and suggests one.
std::optional<std::string> read_enum(Context& ctx,
                                     const Node& n,
                                     const std::string& path,
                                     std::span<const std::string_view> allowed) {
    auto s = read_string(ctx, n, path);
    if (!s) {
        return std::nullopt;
    }
    if (std::find(allowed.begin(), allowed.end(), *s) != allowed.end()) {
        return s;
    }
    std::string list;
    for (std::size_t i = 0; i < allowed.size(); ++i) {
        list += i == 0 ? "" : (i + 1 == allowed.size() ? " or " : ", ");
        list += allowed[i];
    }
    std::string msg = "invalid value " + describe(n) + " (expected " + list + ")";
    if (n.env_ref.empty()) {
        msg += did_you_mean(suggest(*s, allowed));
    }
    ctx.error(n.mark, path, msg);
    return std::nullopt;
}

// ---------------------------------------------------------------------------------------------
// Key tables. kTyped keys are decoded into Settings fields; kOther keys are type-checked and kept
// as JSON in the section's `other_settings_json`; kLater keys warn once and are ignored.

enum class Kind : std::uint8_t {
    kBool,
    kInt,
    kNumber,
    kString,
    kDuration,
    kStrings,
    kMap,
    kList,
    kAny
};
enum class Status : std::uint8_t { kTyped, kOther, kLater };

struct KeySpec {
    std::string_view name;
    Kind kind;
    Status status;
};

using K = Kind;
using S = Status;

constexpr KeySpec kTopKeys[] = {
    {"model_list", K::kList, S::kTyped},
    {"litellm_settings", K::kMap, S::kTyped},
    {"router_settings", K::kMap, S::kTyped},
    {"general_settings", K::kMap, S::kTyped},
    {"environment_variables", K::kMap, S::kTyped},
    {"include", K::kStrings, S::kTyped},
    {"credential_list", K::kAny, S::kLater},
    {"callback_settings", K::kAny, S::kLater},
    {"guardrails", K::kAny, S::kLater},
    {"mcp_servers", K::kAny, S::kLater},
    {"vector_store_registry", K::kAny, S::kLater},
    {"finetune_settings", K::kAny, S::kLater},
    {"files_settings", K::kAny, S::kLater},
};

constexpr KeySpec kLitellmKeys[] = {
    {"drop_params", K::kBool, S::kTyped},
    {"modify_params", K::kBool, S::kTyped},
    {"json_logs", K::kBool, S::kTyped},
    {"turn_off_message_logging", K::kBool, S::kTyped},
    {"set_verbose", K::kBool, S::kTyped},
    {"cache", K::kBool, S::kTyped},
    {"cache_params", K::kMap, S::kTyped},
    {"callbacks", K::kStrings, S::kTyped},
    {"model_alias_map", K::kMap, S::kTyped},
    {"max_budget", K::kNumber, S::kTyped},
    {"budget_duration", K::kDuration, S::kTyped},
    {"require_auth_for_metrics_endpoint", K::kBool, S::kTyped},
    {"num_retries", K::kInt, S::kTyped},
    {"request_timeout", K::kNumber, S::kTyped},
    {"fallbacks", K::kList, S::kTyped},
    {"context_window_fallbacks", K::kList, S::kTyped},
    {"content_policy_fallbacks", K::kList, S::kTyped},
    {"default_fallbacks", K::kStrings, S::kTyped},
    {"allowed_fails", K::kInt, S::kTyped},
    {"redact_user_api_key_info", K::kBool, S::kOther},
    {"max_end_user_budget", K::kNumber, S::kOther},
    {"timezone", K::kString, S::kOther},
    {"default_key_generate_params", K::kMap, S::kOther},
    {"upperbound_key_generate_params", K::kMap, S::kOther},
    {"success_callback", K::kAny, S::kLater},
    {"failure_callback", K::kAny, S::kLater},
    {"service_callback", K::kAny, S::kLater},
    {"max_internal_user_budget", K::kAny, S::kLater},
    {"internal_user_budget_duration", K::kAny, S::kLater},
    {"key_generation_settings", K::kAny, S::kLater},
    {"default_team_settings", K::kAny, S::kLater},
    {"custom_prometheus_metadata_labels", K::kAny, S::kLater},
    {"custom_prometheus_tags", K::kAny, S::kLater},
    {"prometheus_metrics_config", K::kAny, S::kLater},
    {"prometheus_initialize_budget_metrics", K::kAny, S::kLater},
    {"prometheus_latency_buckets", K::kAny, S::kLater},
    {"disable_end_user_cost_tracking", K::kAny, S::kLater},
    {"enable_end_user_cost_tracking_prometheus_only", K::kAny, S::kLater},
    {"return_response_headers", K::kAny, S::kLater},
    {"enable_json_schema_validation", K::kAny, S::kLater},
    {"force_ipv4", K::kAny, S::kLater},
    {"log_raw_request_response", K::kAny, S::kLater},
    {"enable_preview_features", K::kAny, S::kLater},
};

constexpr KeySpec kRouterKeys[] = {
    {"routing_strategy", K::kString, S::kTyped},
    {"routing_strategy_args", K::kMap, S::kTyped},
    {"num_retries", K::kInt, S::kTyped},
    {"retry_after", K::kNumber, S::kTyped},
    {"retry_policy", K::kMap, S::kTyped},
    {"allowed_fails", K::kInt, S::kTyped},
    {"allowed_fails_policy", K::kMap, S::kTyped},
    {"cooldown_time", K::kNumber, S::kTyped},
    {"disable_cooldowns", K::kBool, S::kTyped},
    {"timeout", K::kNumber, S::kTyped},
    {"stream_timeout", K::kNumber, S::kTyped},
    {"max_fallbacks", K::kInt, S::kTyped},
    {"fallbacks", K::kList, S::kTyped},
    {"context_window_fallbacks", K::kList, S::kTyped},
    {"content_policy_fallbacks", K::kList, S::kTyped},
    {"default_fallbacks", K::kStrings, S::kTyped},
    {"model_group_alias", K::kMap, S::kTyped},
    {"enable_pre_call_checks", K::kBool, S::kTyped},
    {"default_max_parallel_requests", K::kInt, S::kTyped},
    {"default_litellm_params", K::kMap, S::kTyped},
    {"model_group_retry_policy", K::kMap, S::kOther},
    {"redis_host", K::kString, S::kOther},
    {"redis_port", K::kInt, S::kOther},
    {"redis_password", K::kString, S::kOther},
    {"redis_url", K::kString, S::kOther},
    {"redis_db", K::kInt, S::kOther},
    {"optional_pre_call_checks", K::kAny, S::kLater},
    {"cache_responses", K::kAny, S::kLater},
    {"caching_groups", K::kAny, S::kLater},
    {"provider_budget_config", K::kAny, S::kLater},
    {"enable_tag_filtering", K::kAny, S::kLater},
    {"tag_filtering_match_any", K::kAny, S::kLater},
    {"client_ttl", K::kAny, S::kLater},
};

constexpr KeySpec kGeneralKeys[] = {
    {"master_key", K::kString, S::kTyped},
    {"allow_unauthenticated", K::kBool, S::kTyped},
    {"database_url", K::kString, S::kTyped},
    {"database_path", K::kString, S::kTyped},
    {"spend_wal_dir", K::kString, S::kTyped},
    {"max_request_size_mb", K::kNumber, S::kTyped},
    {"litellm_key_header_name", K::kString, S::kTyped},
    {"background_health_checks", K::kBool, S::kTyped},
    {"health_check_interval", K::kNumber, S::kTyped},
    {"health_check_details", K::kBool, S::kTyped},
    {"global_max_parallel_requests", K::kInt, S::kTyped},
    {"dangerously_allow_mock_testing_request_params", K::kBool, S::kTyped},
    {"store_model_in_db", K::kBool, S::kTyped},
    {"custom_auth", K::kAny, S::kTyped},
    {"max_header_bytes", K::kInt, S::kTyped},
    {"idle_timeout", K::kNumber, S::kTyped},
    {"header_read_timeout", K::kNumber, S::kTyped},
    {"graceful_shutdown_timeout", K::kNumber, S::kTyped},
    {"token_rate_limit_type", K::kString, S::kTyped},
    {"database_connection_pool_limit", K::kInt, S::kOther},
    {"database_connection_timeout", K::kNumber, S::kOther},
    {"allow_requests_on_db_unavailable", K::kBool, S::kOther},
    {"cached_keys_grace_period", K::kNumber, S::kOther},  // ours: seconds cached keys work with the store down
    {"proxy_batch_write_at", K::kNumber, S::kOther},
    {"disable_spend_logs", K::kBool, S::kOther},
    {"disable_spend_updates", K::kBool, S::kOther},
    {"disable_error_logs", K::kBool, S::kOther},
    {"store_prompts_in_spend_logs", K::kBool, S::kOther},
    {"maximum_spend_logs_retention_period", K::kDuration, S::kOther},
    {"maximum_spend_logs_retention_interval", K::kDuration, S::kOther},
    {"disable_reset_budget", K::kBool, S::kOther},
    {"enforce_user_param", K::kBool, S::kOther},
    {"user_api_key_cache_ttl", K::kNumber, S::kOther},
    {"fail_closed_rate_limit_enforcement", K::kBool, S::kOther},
    {"user_url_allowed_hosts", K::kStrings, S::kOther},
    {"use_redis_transaction_buffer", K::kAny, S::kLater},
    {"proxy_budget_rescheduler_min_time", K::kAny, S::kLater},
    {"proxy_budget_rescheduler_max_time", K::kAny, S::kLater},
    {"reject_clientside_metadata_tags", K::kAny, S::kLater},
    {"max_response_size_mb", K::kAny, S::kLater},
    {"forward_client_headers_to_llm_api", K::kAny, S::kLater},
    {"completion_model", K::kAny, S::kLater},
    {"embedding_model", K::kAny, S::kLater},
    {"alerting", K::kAny, S::kLater},
    {"alerting_threshold", K::kAny, S::kLater},
    {"alert_types", K::kAny, S::kLater},
    {"alert_to_webhook_url", K::kAny, S::kLater},
    {"allowed_ips", K::kAny, S::kLater},
    {"public_routes", K::kAny, S::kLater},
    {"admin_only_routes", K::kAny, S::kLater},
    {"allowed_routes", K::kAny, S::kLater},
    {"enable_jwt_auth", K::kAny, S::kLater},
    {"litellm_jwtauth", K::kAny, S::kLater},
    {"enable_oauth2_auth", K::kAny, S::kLater},
    {"disable_master_key_return", K::kAny, S::kLater},
    {"disable_adding_master_key_hash_to_db", K::kAny, S::kLater},
    {"pass_through_endpoints", K::kAny, S::kLater},
};

constexpr KeySpec kEntryKeys[] = {
    {"model_name", K::kString, S::kTyped},
    {"litellm_params", K::kMap, S::kTyped},
    {"model_info", K::kMap, S::kTyped},
};

// litellm_params keys the gateway interprets. Any other key is an OpenAI request default
// (temperature, max_tokens, ...) kept in default_params_json.
constexpr KeySpec kParamKeys[] = {
    {"model", K::kString, S::kTyped},
    {"api_key", K::kString, S::kTyped},
    {"api_base", K::kString, S::kTyped},
    {"base_url", K::kString, S::kTyped},
    {"api_version", K::kString, S::kTyped},
    {"custom_llm_provider", K::kString, S::kTyped},
    {"rpm", K::kInt, S::kTyped},
    {"tpm", K::kInt, S::kTyped},
    {"weight", K::kNumber, S::kTyped},
    {"order", K::kInt, S::kTyped},
    {"timeout", K::kNumber, S::kTyped},
    {"stream_timeout", K::kNumber, S::kTyped},
    {"max_retries", K::kInt, S::kTyped},
    {"num_retries", K::kInt, S::kTyped},
    {"cooldown_time", K::kNumber, S::kTyped},
    {"max_parallel_requests", K::kInt, S::kTyped},
    {"input_cost_per_token", K::kNumber, S::kTyped},
    {"output_cost_per_token", K::kNumber, S::kTyped},
    {"organization", K::kString, S::kTyped},
    {"extra_headers", K::kMap, S::kTyped},
    {"drop_params", K::kBool, S::kTyped},
    {"additional_drop_params", K::kStrings, S::kTyped},
    {"region_name", K::kString, S::kTyped},
    {"mock_response", K::kString, S::kTyped},
    {"mock_timeout", K::kBool, S::kTyped},
    {"mock_testing_rate_limit_error", K::kBool, S::kTyped},
    {"input_cost_per_second", K::kAny, S::kLater},
    {"output_cost_per_second", K::kAny, S::kLater},
    {"tags", K::kAny, S::kLater},
    {"litellm_credential_name", K::kAny, S::kLater},
    {"azure_ad_token", K::kAny, S::kLater},
    {"tenant_id", K::kAny, S::kLater},
    {"client_id", K::kAny, S::kLater},
    {"client_secret", K::kAny, S::kLater},
    {"azure_scope", K::kAny, S::kLater},
    {"vertex_project", K::kAny, S::kLater},
    {"vertex_location", K::kAny, S::kLater},
    {"vertex_credentials", K::kAny, S::kLater},
    {"mock_testing_fallbacks", K::kAny, S::kLater},
    {"mock_delay", K::kAny, S::kLater},
    {"max_budget", K::kAny, S::kLater},
    {"budget_duration", K::kAny, S::kLater},
    {"use_in_pass_through", K::kAny, S::kLater},
    {"merge_reasoning_content_in_choices", K::kAny, S::kLater},
    {"configurable_clientside_auth_params", K::kAny, S::kLater},
};

// OpenAI request parameters: never "did you mean"-checked when used as deployment defaults.
// clang-format off
constexpr std::string_view kOpenAiParams[] = {
    "temperature", "top_p", "n", "stream", "stream_options", "stop", "max_tokens",
    "max_completion_tokens", "presence_penalty", "frequency_penalty", "logit_bias", "user",
    "response_format", "seed", "tools", "tool_choice", "parallel_tool_calls", "logprobs",
    "top_logprobs", "functions", "function_call", "reasoning_effort", "modalities", "audio",
    "prediction", "service_tier", "store", "metadata", "web_search_options", "top_k", "thinking",
    "dimensions", "encoding_format", "extra_body", "verbosity", "safety_identifier",
};
// clang-format on

constexpr KeySpec kCacheParamKeys[] = {
    {"type", K::kString, S::kTyped},
    {"mode", K::kString, S::kTyped},
    {"scope", K::kString, S::kTyped},
    {"host", K::kString, S::kOther},
    {"port", K::kInt, S::kOther},
    {"password", K::kString, S::kOther},
    {"username", K::kString, S::kOther},
    {"db", K::kInt, S::kOther},
    {"ssl", K::kBool, S::kOther},
    {"url", K::kString, S::kOther},
    {"redis_url", K::kString, S::kOther},
    {"ttl", K::kNumber, S::kOther},
    {"default_in_memory_ttl", K::kNumber, S::kOther},
    {"default_in_redis_ttl", K::kNumber, S::kOther},
    {"namespace", K::kString, S::kOther},
    {"supported_call_types", K::kStrings, S::kOther},
    {"max_connections", K::kInt, S::kOther},
    {"local_max_entries", K::kInt, S::kOther},
    {"stream_replay", K::kBool, S::kOther},
    {"similarity_threshold", K::kAny, S::kLater},
    {"redis_semantic_cache_embedding_model", K::kAny, S::kLater},
    {"redis_semantic_cache_index_name", K::kAny, S::kLater},
    {"qdrant_semantic_cache_embedding_model", K::kAny, S::kLater},
    {"qdrant_collection_name", K::kAny, S::kLater},
    {"qdrant_quantization_config", K::kAny, S::kLater},
    {"qdrant_api_base", K::kAny, S::kLater},
    {"qdrant_api_key", K::kAny, S::kLater},
    {"redis_startup_nodes", K::kAny, S::kLater},
    {"service_name", K::kAny, S::kLater},
    {"sentinel_nodes", K::kAny, S::kLater},
    {"disk_cache_dir", K::kAny, S::kLater},
};

constexpr KeySpec kStrategyArgKeys[] = {
    {"ttl", K::kNumber, S::kOther},
    {"lowest_latency_buffer", K::kNumber, S::kOther},
    {"max_latency_list_size", K::kInt, S::kOther},
};

constexpr KeySpec kRetryPolicyKeys[] = {
    {"BadRequestErrorRetries", K::kInt, S::kOther},
    {"AuthenticationErrorRetries", K::kInt, S::kOther},
    {"TimeoutErrorRetries", K::kInt, S::kOther},
    {"RateLimitErrorRetries", K::kInt, S::kOther},
    {"ContentPolicyViolationErrorRetries", K::kInt, S::kOther},
    {"InternalServerErrorRetries", K::kInt, S::kOther},
};

constexpr KeySpec kAllowedFailsPolicyKeys[] = {
    {"BadRequestErrorAllowedFails", K::kInt, S::kOther},
    {"AuthenticationErrorAllowedFails", K::kInt, S::kOther},
    {"TimeoutErrorAllowedFails", K::kInt, S::kOther},
    {"RateLimitErrorAllowedFails", K::kInt, S::kOther},
    {"ContentPolicyViolationErrorAllowedFails", K::kInt, S::kOther},
    {"InternalServerErrorAllowedFails", K::kInt, S::kOther},
};

constexpr std::string_view kRoutingStrategies[] = {
    "simple-shuffle",
    "least-busy",
    "latency-based-routing",
    "usage-based-routing",
    "usage-based-routing-v2",
    "cost-based-routing",
};
constexpr std::string_view kCacheTypes[] = {
    "local", "redis", "redis-semantic", "qdrant-semantic", "s3", "gcs", "azure-blob", "disk"};
constexpr std::string_view kCacheModes[] = {"default_on", "default_off"};
constexpr std::string_view kCacheScopes[] = {"global", "team", "key"};
constexpr std::string_view kTokenRateLimitTypes[] = {"total", "input", "output"};
constexpr std::string_view kModelModes[] = {"chat",
                                            "completion",
                                            "embedding",
                                            "image_generation",
                                            "audio_transcription",
                                            "audio_speech",
                                            "rerank"};

const KeySpec* find_spec(std::span<const KeySpec> specs, std::string_view key) {
    for (const KeySpec& s : specs) {
        if (s.name == key) {
            return &s;
        }
    }
    return nullptr;
}

std::vector<std::string_view> spec_names(std::span<const KeySpec> specs) {
    std::vector<std::string_view> out;
    out.reserve(specs.size());
    for (const KeySpec& s : specs) {
        out.push_back(s.name);
    }
    return out;
}

void unknown_key(Context& ctx,
                 const Entry& e,
                 const std::string& path,
                 std::span<const KeySpec> s) {
    ctx.unknown(
        e.key_mark, path, "unknown key " + path + did_you_mean(suggest(e.key, spec_names(s))));
}

// A kOther value, type-checked, as JSON. nullopt when absent or invalid (invalid is reported).
std::optional<std::string> convert_json(Context& ctx,
                                        const Node& n,
                                        const std::string& path,
                                        Kind kind) {
    if (n.is_null()) {
        return std::nullopt;
    }
    switch (kind) {
        case Kind::kBool:
            if (auto v = read_bool(ctx, n, path)) {
                return std::string(*v ? "true" : "false");
            }
            return std::nullopt;
        case Kind::kInt:
            if (auto v = read_int(ctx, n, path)) {
                return std::to_string(*v);
            }
            return std::nullopt;
        case Kind::kNumber:
            if (auto v = read_number(ctx, n, path, Bound::kNonNegative)) {
                return format_double(*v);
            }
            return std::nullopt;
        case Kind::kString:
            if (auto v = read_string(ctx, n, path)) {
                return json_string(*v);
            }
            return std::nullopt;
        case Kind::kDuration:
            if (auto v = read_string(ctx, n, path)) {
                if (!valid_duration(*v)) {
                    ctx.error(n.mark,
                              path,
                              "invalid duration " + describe(n) +
                                  " (expected e.g. 30s, 30m, 30h, 30d, 1w, 1mo)");
                    return std::nullopt;
                }
                return json_string(trim(*v));
            }
            return std::nullopt;
        case Kind::kStrings:
            if (auto v = read_strings(ctx, n, path)) {
                std::string out = "[";
                for (std::size_t i = 0; i < v->size(); ++i) {
                    out += i == 0 ? "" : ",";
                    out += json_string((*v)[i]);
                }
                return out + "]";
            }
            return std::nullopt;
        case Kind::kMap:
            if (!n.is_map()) {
                type_error(ctx, n, path, "a map");
                return std::nullopt;
            }
            return to_json(n);
        case Kind::kList:
            if (!n.is_seq()) {
                type_error(ctx, n, path, "a list");
                return std::nullopt;
            }
            return to_json(n);
        case Kind::kAny:
            return to_json(n);
    }
    return std::nullopt;
}

using TypedHandler = std::function<void(const Entry&, const std::string&)>;
using LaterPredicate = std::function<bool(std::string_view key)>;

// Walks the keys of a settings map: typed keys go to `typed`, kOther keys into `other`,
// LATER keys warn once (per `once_prefix`.key when given), unknown keys warn (error when strict).
void walk_section(Context& ctx,
                  const Node& map,
                  const std::string& path,
                  std::span<const KeySpec> specs,
                  JsonObject* other,
                  const TypedHandler& typed,
                  const std::string& once_prefix = {},
                  const LaterPredicate& is_later = {}) {
    for (const Entry& e : map.entries) {
        const std::string p = join_path(path, e.key);
        const KeySpec* s = find_spec(specs, e.key);
        if (s == nullptr && is_later && is_later(e.key)) {
            ctx.later(e.key_mark, p, once_prefix.empty() ? p : join_path(once_prefix, e.key));
            continue;
        }
        if (s == nullptr) {
            unknown_key(ctx, e, p, specs);
            continue;
        }
        switch (s->status) {
            case Status::kLater:
                ctx.later(e.key_mark, p, once_prefix.empty() ? p : join_path(once_prefix, e.key));
                break;
            case Status::kOther:
                if (other != nullptr) {
                    if (auto j = convert_json(ctx, e.value, p, s->kind)) {
                        other->set(e.key, std::move(*j));
                    }
                }
                break;
            case Status::kTyped:
                typed(e, p);
                break;
        }
    }
}

// A map whose keys all come from `specs` (cache_params, retry_policy, ...) as JSON. kTyped keys
// are enums: `enum_of` gives their allowed values.
using EnumOf = std::function<std::span<const std::string_view>(std::string_view key)>;

std::string typed_object_json(Context& ctx,
                              const Node& n,
                              const std::string& path,
                              std::span<const KeySpec> specs,
                              const EnumOf& enum_of = {},
                              const LaterPredicate& is_later = {}) {
    if (n.is_null()) {
        return "{}";
    }
    if (!n.is_map()) {
        type_error(ctx, n, path, "a map");
        return "{}";
    }
    JsonObject obj;
    walk_section(
        ctx,
        n,
        path,
        specs,
        &obj,
        [&](const Entry& e, const std::string& p) {
            if (!enum_of) {
                return;
            }
            if (auto v = read_enum(ctx, e.value, p, enum_of(e.key))) {
                obj.set(e.key, json_string(*v));
            }
        },
        {},
        is_later);
    return obj.str();
}

// ---------------------------------------------------------------------------------------------
// Document assembly: file reading, include merging, environment_variables, substitution.

std::optional<std::string> read_file(const fs::path& path, std::string& why) {
    std::error_code ec;
    auto size = fs::file_size(path, ec);
    if (ec) {
        why = ec.message();
        return std::nullopt;
    }
    if (size > kMaxDocumentBytes) {
        why = "file is larger than 16 MiB";
        return std::nullopt;
    }
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        why = std::strerror(errno);
        return std::nullopt;
    }
    std::string text;
    text.resize(static_cast<std::size_t>(size));
    in.read(text.data(), static_cast<std::streamsize>(size));
    text.resize(static_cast<std::size_t>(in.gcount()));
    return text;
}

// Merges an included document into `dst`: new keys are added, lists are concatenated, maps are
// merged recursively, and on a scalar conflict the including document (dst) wins.
void merge_into(Node& dst, Node&& src) {
    for (Entry& se : src.entries) {
        Entry* de = nullptr;
        for (Entry& e : dst.entries) {
            if (e.key == se.key) {
                de = &e;
                break;
            }
        }
        if (de == nullptr) {
            dst.entries.push_back(std::move(se));
        } else if (de->value.is_seq() && se.value.is_seq()) {
            for (Node& item : se.value.items) {
                de->value.items.push_back(std::move(item));
            }
        } else if (de->value.is_map() && se.value.is_map()) {
            merge_into(de->value, std::move(se.value));
        } else if (de->value.is_null()) {
            de->value = std::move(se.value);
        }
    }
}

struct IncludeState {
    std::vector<fs::path> chain;  // files being processed (cycle detection)
    std::size_t files = 0;
};

// Parses `text` and processes its `include` list recursively. nullopt on a fatal parse error.
std::optional<Node> load_document(Context& ctx,
                                  std::string_view text,
                                  const std::string& display,
                                  const fs::path& base_dir,
                                  IncludeState& st) {
    const int file = ctx.add_file(display);
    std::optional<Node> root = parse_yaml(ctx, text, file);
    if (!root || !root->is_map()) {
        return root;
    }
    auto inc = std::find_if(root->entries.begin(), root->entries.end(), [](const Entry& e) {
        return e.key == "include";
    });
    if (inc == root->entries.end()) {
        return root;
    }
    Node list = std::move(inc->value);
    root->entries.erase(inc);
    std::vector<std::pair<const Node*, std::string>> paths;
    if (list.is_scalar()) {
        paths.emplace_back(&list, "include");
    } else if (list.is_seq()) {
        for (std::size_t i = 0; i < list.items.size(); ++i) {
            if (!list.items[i].is_scalar()) {
                type_error(ctx, list.items[i], index_path("include", i), "a file path");
                continue;
            }
            paths.emplace_back(&list.items[i], index_path("include", i));
        }
    } else if (!list.is_null()) {
        type_error(ctx, list, "include", "a list of file paths");
    }
    for (const auto& [node, ypath] : paths) {
        fs::path p(node->value);
        if (p.is_relative()) {
            p = base_dir / p;
        }
        p = p.lexically_normal();
        std::error_code ec;
        fs::path canonical = fs::weakly_canonical(p, ec);
        if (ec) {
            canonical = p;
        }
        if (std::find(st.chain.begin(), st.chain.end(), canonical) != st.chain.end()) {
            ctx.error(node->mark, ypath, "include cycle: " + p.string() + " includes itself");
            continue;
        }
        if (st.chain.size() >= static_cast<std::size_t>(kMaxIncludeDepth) ||
            ++st.files > kMaxIncludedFiles) {
            ctx.error(node->mark, ypath, "too many nested or included files");
            continue;
        }
        std::string why;
        std::optional<std::string> content = read_file(p, why);
        if (!content) {
            ctx.error(node->mark, ypath, "cannot read included file " + p.string() + ": " + why);
            continue;
        }
        st.chain.push_back(canonical);
        std::optional<Node> sub = load_document(ctx, *content, p.string(), p.parent_path(), st);
        st.chain.pop_back();
        if (!sub || sub->is_null()) {
            continue;
        }
        if (!sub->is_map()) {
            ctx.error(sub->mark, "", "an included file must be a YAML mapping");
            continue;
        }
        merge_into(*root, std::move(*sub));
    }
    return root;
}

// environment_variables: written into the environment view (and the process environment for
// load_file without a custom EnvLookup) before any os.environ/ reference is resolved.
void apply_environment_variables(Context& ctx, const Node* ev) {
    if (ev == nullptr || ev->is_null()) {
        return;
    }
    if (!ev->is_map()) {
        type_error(ctx, *ev, "environment_variables", "a map of NAME: value");
        return;
    }
    for (const Entry& e : ev->entries) {
        const std::string p = join_path("environment_variables", e.key);
        if (e.key.empty() || e.key.find('=') != std::string::npos ||
            e.key.find('\0') != std::string::npos) {
            ctx.error(e.key_mark, p, "invalid environment variable name");
            continue;
        }
        const Node& v = e.value;
        if (v.is_null()) {
            ctx.warn(v.mark, p, "no value; variable not set");
            continue;
        }
        if (!v.is_scalar()) {
            type_error(ctx, v, p, "a string");
            continue;
        }
        std::string value = v.value;
        if (starts_with(value, kEnvPrefix)) {
            const std::string name = value.substr(kEnvPrefix.size());
            auto resolved = ctx.base_env(name);
            if (!resolved) {
                ctx.warn(v.mark, p, "environment variable " + name + " is not set; skipped");
                continue;
            }
            value = *resolved;
        }
        if (value.find('\0') != std::string::npos) {
            ctx.error(v.mark, p, "value contains a NUL byte");
            continue;
        }
        ctx.set_env(e.key, value);
    }
}

// Replaces every `os.environ/NAME` scalar by the variable's value. Unset -> null + warning;
// general_settings.master_key unset or empty -> error (README D1).
void substitute_env(Context& ctx, Node& n, const std::string& path) {
    switch (n.type) {
        case Node::Type::kNull:
            return;
        case Node::Type::kScalar: {
            if (!starts_with(n.value, kEnvPrefix)) {
                return;
            }
            std::string name = n.value.substr(kEnvPrefix.size());
            std::optional<std::string> v;
            if (name.empty()) {
                ctx.warn(n.mark, path, "os.environ/ reference without a variable name");
            } else {
                v = ctx.env(name);
            }
            if (path == kMasterKeyPath && !name.empty() && (!v || v->empty())) {
                ctx.error(n.mark,
                          path,
                          "environment variable " + name + (v ? " is empty" : " is not set") +
                              "; refusing to start without the master key the config names "
                              "(set " +
                              name + " or remove general_settings.master_key)");
                v.reset();
            } else if (!name.empty() && !v) {
                ctx.warn(n.mark,
                         path,
                         "environment variable " + name + " is not set; treated as absent");
            }
            n.env_ref = std::move(name);
            if (v) {
                n.value = std::move(*v);
            } else {
                n.type = Node::Type::kNull;
                n.value.clear();
            }
            return;
        }
        case Node::Type::kSeq:
            for (std::size_t i = 0; i < n.items.size(); ++i) {
                substitute_env(ctx, n.items[i], index_path(path, i));
            }
            return;
        case Node::Type::kMap:
            for (Entry& e : n.entries) {
                if (path.empty() && e.key == "environment_variables") {
                    continue;  // applied before substitution
                }
                substitute_env(ctx, e.value, join_path(path, e.key));
            }
            return;
    }
}

// ---------------------------------------------------------------------------------------------
// Sections.

struct NameRef {
    std::string name;
    Mark mark;
    std::string path;
    std::string env_ref;  // the name came from os.environ/<env_ref>: never echo it
};

// How a referenced name appears in a message: never the value of an environment variable.
std::string shown(const NameRef& ref) {
    return ref.env_ref.empty() ? echo(ref.name)
                               : "(the value of " + std::string(kEnvPrefix) + ref.env_ref + ")";
}

struct FallbackList {
    std::vector<FallbackRule> rules;
    std::vector<NameRef> refs;  // every group named, for validation
};

struct NameList {
    std::vector<std::string> names;
    std::vector<NameRef> refs;
};

// Values that litellm_settings and router_settings may both give (router wins).
struct Layer {
    std::optional<int> num_retries;
    std::optional<double> timeout_s;
    std::optional<int> allowed_fails;
    std::optional<FallbackList> fallbacks;
    std::optional<FallbackList> context_window_fallbacks;
    std::optional<FallbackList> content_policy_fallbacks;
    std::optional<NameList> default_fallbacks;
};

// Group names that must exist (aliases and model_alias_map targets): checked as warnings.
struct AliasRefs {
    std::vector<NameRef> targets;
};

std::optional<FallbackList> read_fallbacks(Context& ctx, const Node& n, const std::string& path) {
    if (n.is_null()) {
        return std::nullopt;
    }
    FallbackList out;
    bool ok = true;
    auto add_map = [&](const Node& m, const std::string& p) {
        for (const Entry& e : m.entries) {
            const std::string rp = join_path(p, e.key);
            if (e.key.empty()) {
                ctx.error(e.key_mark, rp, "empty model group name");
                ok = false;
                continue;
            }
            FallbackRule rule;
            rule.group = e.key;
            out.refs.push_back(NameRef{e.key, e.key_mark, rp, {}});
            const Node& t = e.value;
            if (t.is_scalar()) {
                rule.targets.push_back(t.value);
                out.refs.push_back(NameRef{t.value, t.mark, rp, t.env_ref});
            } else if (t.is_seq()) {
                for (std::size_t i = 0; i < t.items.size(); ++i) {
                    const Node& item = t.items[i];
                    if (!item.is_scalar()) {
                        type_error(ctx, item, index_path(rp, i), "a model group name");
                        ok = false;
                        continue;
                    }
                    rule.targets.push_back(item.value);
                    out.refs.push_back(
                        NameRef{item.value, item.mark, index_path(rp, i), item.env_ref});
                }
            } else if (!t.is_null()) {
                type_error(ctx, t, rp, "a list of model group names");
                ok = false;
                continue;
            }
            out.rules.push_back(std::move(rule));
        }
    };
    if (n.is_seq()) {
        for (std::size_t i = 0; i < n.items.size(); ++i) {
            const Node& item = n.items[i];
            if (!item.is_map()) {
                type_error(ctx, item, index_path(path, i), "a map {group: [fallback groups]}");
                ok = false;
                continue;
            }
            add_map(item, index_path(path, i));
        }
    } else if (n.is_map()) {
        add_map(n, path);
    } else {
        type_error(ctx, n, path, "a list of {group: [fallback groups]}");
        return std::nullopt;
    }
    if (!ok) {
        return std::nullopt;
    }
    return out;
}

std::optional<NameList> read_name_list(Context& ctx, const Node& n, const std::string& path) {
    if (n.is_null()) {
        return std::nullopt;
    }
    NameList out;
    if (n.is_scalar()) {
        out.names.push_back(n.value);
        out.refs.push_back(NameRef{n.value, n.mark, path, n.env_ref});
        return out;
    }
    if (!n.is_seq()) {
        type_error(ctx, n, path, "a list of model group names");
        return std::nullopt;
    }
    for (std::size_t i = 0; i < n.items.size(); ++i) {
        const Node& item = n.items[i];
        if (!item.is_scalar()) {
            type_error(ctx, item, index_path(path, i), "a model group name");
            return std::nullopt;
        }
        out.names.push_back(item.value);
        out.refs.push_back(NameRef{item.value, item.mark, index_path(path, i), item.env_ref});
    }
    return out;
}

// Keys both settings sections share (num_retries, fallbacks, ...). True when handled.
bool read_layer_key(Context& ctx,
                    const Entry& e,
                    const std::string& p,
                    std::string_view timeout_key,
                    Layer& layer) {
    const Node& v = e.value;
    if (e.key == "num_retries") {
        if (auto x = read_int(ctx, v, p)) {
            layer.num_retries = x;
        }
    } else if (e.key == timeout_key) {
        if (auto x = read_number(ctx, v, p, Bound::kPositive)) {
            layer.timeout_s = x;
        }
    } else if (e.key == "allowed_fails") {
        if (auto x = read_int(ctx, v, p)) {
            layer.allowed_fails = x;
        }
    } else if (e.key == "fallbacks") {
        layer.fallbacks = read_fallbacks(ctx, v, p);
    } else if (e.key == "context_window_fallbacks") {
        layer.context_window_fallbacks = read_fallbacks(ctx, v, p);
    } else if (e.key == "content_policy_fallbacks") {
        layer.content_policy_fallbacks = read_fallbacks(ctx, v, p);
    } else if (e.key == "default_fallbacks") {
        layer.default_fallbacks = read_name_list(ctx, v, p);
    } else {
        return false;
    }
    return true;
}

std::span<const std::string_view> cache_param_enum(std::string_view key) {
    if (key == "type") {
        return kCacheTypes;
    }
    if (key == "mode") {
        return kCacheModes;
    }
    return kCacheScopes;
}

// cache_params: typed JSON; a LATER cache type (semantic, s3, ...) warns (caching.md §1).
std::string decode_cache_params(Context& ctx, const Node& n, const std::string& path) {
    std::string json = typed_object_json(
        ctx, n, path, kCacheParamKeys, cache_param_enum, [](std::string_view key) {
            return starts_with(key, "s3_") || starts_with(key, "gcs_");  // LATER back-ends
        });
    if (const Node* t = n.is_map() ? n.find("type") : nullptr; t != nullptr && t->is_scalar()) {
        if (t->value != "local" && t->value != "redis" &&
            std::find(std::begin(kCacheTypes), std::end(kCacheTypes), t->value) !=
                std::end(kCacheTypes)) {
            ctx.warn(t->mark,
                     join_path(path, "type"),
                     "cache type " + describe(*t) + " not supported, ignored (cache off)");
        }
    }
    return json;
}

void decode_litellm(
    Context& ctx, const Node& n, LitellmSettings& out, Layer& layer, AliasRefs& aliases) {
    const std::string path = "litellm_settings";
    JsonObject other;
    walk_section(ctx, n, path, kLitellmKeys, &other, [&](const Entry& e, const std::string& p) {
        const Node& v = e.value;
        const std::string& k = e.key;
        if (read_layer_key(ctx, e, p, "request_timeout", layer)) {
            return;
        }
        if (k == "drop_params") {
            out.drop_params = read_bool(ctx, v, p).value_or(out.drop_params);
        } else if (k == "modify_params") {
            out.modify_params = read_bool(ctx, v, p).value_or(out.modify_params);
        } else if (k == "json_logs") {
            out.json_logs = read_bool(ctx, v, p).value_or(out.json_logs);
        } else if (k == "turn_off_message_logging") {
            out.turn_off_message_logging =
                read_bool(ctx, v, p).value_or(out.turn_off_message_logging);
        } else if (k == "set_verbose") {
            out.set_verbose = read_bool(ctx, v, p).value_or(out.set_verbose);
        } else if (k == "cache") {
            out.cache = read_bool(ctx, v, p).value_or(out.cache);
        } else if (k == "require_auth_for_metrics_endpoint") {
            out.require_auth_for_metrics_endpoint =
                read_bool(ctx, v, p).value_or(out.require_auth_for_metrics_endpoint);
        } else if (k == "cache_params") {
            out.cache_params_json = decode_cache_params(ctx, v, p);
        } else if (k == "callbacks") {
            if (auto cbs = read_strings(ctx, v, p)) {
                for (const std::string& cb : *cbs) {
                    if (cb != "prometheus" && cb != "otel") {
                        const bool literal =
                            v.env_ref.empty() &&
                            std::none_of(v.items.begin(), v.items.end(), [](const Node& i) {
                                return !i.env_ref.empty();
                            });
                        ctx.later(v.mark,
                                  p,
                                  "litellm_settings.callbacks." + cb,
                                  literal ? "callback " + cb : "a callback from the environment");
                    }
                }
                out.callbacks = std::move(*cbs);
            }
        } else if (k == "model_alias_map") {
            if (auto m = read_string_map(ctx, v, p)) {
                for (const Entry& ae : v.entries) {
                    if (ae.value.is_scalar()) {
                        aliases.targets.push_back(NameRef{
                            ae.value.value, ae.value.mark, join_path(p, ae.key), ae.value.env_ref});
                    }
                }
                out.model_alias_map = std::move(*m);
            }
        } else if (k == "max_budget") {
            if (auto b = read_number(ctx, v, p, Bound::kNonNegative)) {
                out.max_budget = b;
            }
        } else if (k == "budget_duration") {
            if (auto j = convert_json(ctx, v, p, Kind::kDuration)) {
                out.budget_duration = std::string(trim(v.value));
            }
        }
    });
    out.other_settings_json = other.str();
}

RoutingStrategy to_strategy(std::string_view s) {
    if (s == "least-busy") {
        return RoutingStrategy::kLeastBusy;
    }
    if (s == "latency-based-routing") {
        return RoutingStrategy::kLatencyBased;
    }
    if (s == "usage-based-routing" || s == "usage-based-routing-v2") {
        return RoutingStrategy::kUsageBased;
    }
    if (s == "cost-based-routing") {
        return RoutingStrategy::kCostBased;
    }
    return RoutingStrategy::kSimpleShuffle;
}

struct RouterExtras {
    std::optional<double> cooldown_time_s;
    std::optional<int> max_fallbacks;
    const Node* default_litellm_params = nullptr;
};

void decode_router(Context& ctx,
                   const Node& n,
                   RouterSettings& out,
                   Layer& layer,
                   RouterExtras& extras,
                   AliasRefs& aliases) {
    const std::string path = "router_settings";
    JsonObject other;
    walk_section(ctx, n, path, kRouterKeys, &other, [&](const Entry& e, const std::string& p) {
        const Node& v = e.value;
        const std::string& k = e.key;
        if (read_layer_key(ctx, e, p, "timeout", layer)) {
            return;
        }
        if (k == "routing_strategy") {
            if (auto s = read_enum(ctx, v, p, kRoutingStrategies)) {
                out.routing_strategy = to_strategy(*s);
                if (*s == "cost-based-routing") {
                    ctx.warn(v.mark, p, "routing_strategy cost-based-routing not supported yet");
                }
            }
        } else if (k == "routing_strategy_args") {
            out.routing_strategy_args_json = typed_object_json(ctx, v, p, kStrategyArgKeys);
        } else if (k == "retry_policy") {
            out.retry_policy_json = typed_object_json(ctx, v, p, kRetryPolicyKeys);
        } else if (k == "allowed_fails_policy") {
            out.allowed_fails_policy_json = typed_object_json(ctx, v, p, kAllowedFailsPolicyKeys);
        } else if (k == "retry_after") {
            out.retry_after_s = read_number(ctx, v, p, Bound::kNonNegative).value_or(0.0);
        } else if (k == "cooldown_time") {
            extras.cooldown_time_s = read_number(ctx, v, p, Bound::kNonNegative);
        } else if (k == "disable_cooldowns") {
            out.disable_cooldowns = read_bool(ctx, v, p).value_or(out.disable_cooldowns);
        } else if (k == "stream_timeout") {
            out.stream_timeout_s = read_number(ctx, v, p, Bound::kPositive);
        } else if (k == "max_fallbacks") {
            extras.max_fallbacks = read_int(ctx, v, p);
        } else if (k == "enable_pre_call_checks") {
            out.enable_pre_call_checks = read_bool(ctx, v, p).value_or(out.enable_pre_call_checks);
        } else if (k == "default_max_parallel_requests") {
            out.default_max_parallel_requests = read_int(ctx, v, p, Bound::kPositive);
        } else if (k == "default_litellm_params") {
            if (v.is_map()) {
                extras.default_litellm_params = &v;
            } else if (!v.is_null()) {
                type_error(ctx, v, p, "a map");
            }
        } else if (k == "model_group_alias") {
            if (v.is_null()) {
                return;
            }
            if (!v.is_map()) {
                type_error(ctx, v, p, "a map {alias: group}");
                return;
            }
            for (const Entry& ae : v.entries) {
                const std::string ap = join_path(p, ae.key);
                const Node& t = ae.value;
                if (t.is_scalar()) {
                    out.model_group_alias[ae.key] = t.value;
                    aliases.targets.push_back(NameRef{t.value, t.mark, ap, t.env_ref});
                } else if (t.is_map()) {
                    const Node* model = t.find("model");
                    for (const Entry& me : t.entries) {
                        if (me.key != "model" && me.key != "hidden") {
                            ctx.unknown(me.key_mark,
                                        join_path(ap, me.key),
                                        "unknown key " + join_path(ap, me.key) +
                                            did_you_mean(suggest(me.key,
                                                                 std::array<std::string_view, 2>{
                                                                     "model", "hidden"})));
                        }
                    }
                    if (model == nullptr || !model->is_scalar()) {
                        ctx.error(t.mark, ap, "alias needs model: <group>");
                        continue;
                    }
                    out.model_group_alias[ae.key] = model->value;
                    aliases.targets.push_back(
                        NameRef{model->value, model->mark, join_path(ap, "model"), model->env_ref});
                    if (const Node* hidden = t.find("hidden")) {
                        if (read_bool(ctx, *hidden, join_path(ap, "hidden")).value_or(false)) {
                            out.hidden_model_group_aliases.push_back(ae.key);
                        }
                    }
                } else if (!t.is_null()) {
                    type_error(ctx, t, ap, "a model group name or {model, hidden}");
                }
            }
        }
    });
    out.other_settings_json = other.str();
}

bool valid_http_url(std::string_view s) {
    std::string l = lower(s.substr(0, std::min<std::size_t>(s.size(), 8)));
    std::size_t skip = 0;
    if (starts_with(l, "https://")) {
        skip = 8;
    } else if (starts_with(l, "http://")) {
        skip = 7;
    } else {
        return false;
    }
    if (s.size() <= skip) {
        return false;
    }
    return std::none_of(s.begin(), s.end(), [](char c) {
        auto u = static_cast<unsigned char>(c);
        return u <= 0x20 || u == 0x7f;
    });
}

Secret make_secret(const Node& n) {
    return Secret{n.value, n.env_ref.empty() ? "inline" : std::string(kEnvPrefix) + n.env_ref};
}

struct GeneralExtras {
    bool master_key_written = false;  // the config names a master key (literal or reference)
    std::optional<std::string> database_path;
    Mark database_path_mark;
    std::optional<std::string> spend_wal_dir;
    std::optional<bool> store_model_in_db;
};

void decode_general(Context& ctx, const Node& n, GeneralSettings& out, GeneralExtras& extras) {
    const std::string path = "general_settings";
    JsonObject other;
    walk_section(ctx, n, path, kGeneralKeys, &other, [&](const Entry& e, const std::string& p) {
        const Node& v = e.value;
        const std::string& k = e.key;
        if (k == "master_key") {
            if (!v.env_ref.empty()) {
                extras.master_key_written = true;  // unset/empty: error already reported
            }
            if (auto s = read_string(ctx, v, p); s && !s->empty()) {
                extras.master_key_written = true;
                out.master_key = make_secret(v);
                if (!starts_with(*s, "sk-")) {
                    ctx.warn(v.mark, p, "master_key should start with sk-");
                }
                if (s->size() < 32) {
                    ctx.warn(v.mark,
                             p,
                             "master_key is shorter than 32 characters; use a long random key "
                             "outside development");
                }
            }
        } else if (k == "allow_unauthenticated") {
            out.allow_unauthenticated = read_bool(ctx, v, p).value_or(out.allow_unauthenticated);
        } else if (k == "database_url") {
            if (auto s = read_string(ctx, v, p); s && !s->empty()) {
                if (!starts_with(*s, "postgresql://") && !starts_with(*s, "postgres://")) {
                    ctx.error(v.mark, p, "database_url must be a postgresql:// URL");
                } else {
                    out.database_url = make_secret(v);
                }
            }
        } else if (k == "database_path") {
            if (auto s = read_string(ctx, v, p); s && !s->empty()) {
                extras.database_path = *s;
                extras.database_path_mark = v.mark;
            }
        } else if (k == "spend_wal_dir") {
            if (auto s = read_string(ctx, v, p); s && !s->empty()) {
                extras.spend_wal_dir = *s;
            }
        } else if (k == "max_request_size_mb") {
            out.max_request_size_mb =
                read_number(ctx, v, p, Bound::kPositive).value_or(out.max_request_size_mb);
        } else if (k == "litellm_key_header_name") {
            if (auto s = read_string(ctx, v, p); s && !s->empty()) {
                out.litellm_key_header_name = *s;
            }
        } else if (k == "background_health_checks") {
            out.background_health_checks =
                read_bool(ctx, v, p).value_or(out.background_health_checks);
        } else if (k == "health_check_interval") {
            out.health_check_interval_s =
                read_number(ctx, v, p, Bound::kPositive).value_or(out.health_check_interval_s);
        } else if (k == "health_check_details") {
            out.health_check_details = read_bool(ctx, v, p).value_or(out.health_check_details);
        } else if (k == "global_max_parallel_requests") {
            out.global_max_parallel_requests = read_int(ctx, v, p, Bound::kPositive);
        } else if (k == "dangerously_allow_mock_testing_request_params") {
            out.dangerously_allow_mock_testing_request_params = read_bool(ctx, v, p);
        } else if (k == "store_model_in_db") {
            extras.store_model_in_db = read_bool(ctx, v, p);
        } else if (k == "custom_auth") {
            ctx.error(e.key_mark,
                      p,
                      "custom_auth (a Python hook) is not supported; remove it and use the "
                      "master key and virtual keys (leaving it out silently would open the "
                      "gateway)");
        } else if (k == "max_header_bytes") {
            if (auto x = read_int(ctx, v, p, Bound::kPositive)) {
                if (*x < 1024) {
                    ctx.error(v.mark, p, "must be at least 1024");
                } else {
                    out.max_header_bytes = static_cast<std::size_t>(*x);
                }
            }
        } else if (k == "idle_timeout") {
            out.idle_timeout_s =
                read_number(ctx, v, p, Bound::kPositive).value_or(out.idle_timeout_s);
        } else if (k == "header_read_timeout") {
            out.header_read_timeout_s =
                read_number(ctx, v, p, Bound::kPositive).value_or(out.header_read_timeout_s);
        } else if (k == "graceful_shutdown_timeout") {
            out.graceful_shutdown_timeout_s = read_number(ctx, v, p, Bound::kNonNegative)
                                                  .value_or(out.graceful_shutdown_timeout_s);
        } else if (k == "token_rate_limit_type") {
            if (auto s = read_enum(ctx, v, p, kTokenRateLimitTypes)) {
                other.set(k, json_string(*s));
            }
        }
    });
    out.other_settings_json = other.str();
}

// ---------------------------------------------------------------------------------------------
// model_list.

bool is_later_param(std::string_view key) {
    return (starts_with(key, "aws_") || starts_with(key, "mock_testing_")) &&
           key != "mock_testing_rate_limit_error";
}

bool is_openai_param(std::string_view key) {
    return std::find(std::begin(kOpenAiParams), std::end(kOpenAiParams), key) !=
           std::end(kOpenAiParams);
}

struct DeploymentBuild {
    Deployment d;
    Mark mark;        // the model_list item
    Mark model_mark;  // litellm_params.model
    const ProviderInfo* provider = nullptr;
    const Node* info = nullptr;  // model_info as written (the tree outlives the build)
    bool model_name_from_env = false;
};

// Resolves api_key / api_base / api_version from litellm_params, then the provider's env vars,
// then the provider's default (providers.md §5-§6).
void resolve_credentials(Context& ctx,
                         DeploymentBuild& b,
                         const Node* api_key,
                         const Node* api_base,
                         const Node* api_version,
                         const std::string& lp_path) {
    Deployment& d = b.d;
    const ProviderInfo* p = b.provider;
    if (api_key != nullptr && api_key->is_scalar() && !api_key->value.empty()) {
        d.api_key = make_secret(*api_key);
    } else if (p != nullptr) {
        for (std::string_view env : p->key_envs) {
            if (auto v = ctx.env(env); v && !v->empty()) {
                d.api_key = Secret{*v, std::string(kEnvPrefix) + std::string(env)};
                break;
            }
        }
        if (!d.api_key && p->needs_api_key && !d.mock_response) {
            std::string envs;
            for (std::string_view env : p->key_envs) {
                envs += envs.empty() ? "" : " or ";
                envs += env;
            }
            ctx.warn(b.model_mark,
                     lp_path,
                     "deployment " + (b.model_name_from_env ? d.mark.path : d.model_name) +
                         " has no API key for provider " + std::string(p->slug) +
                         " (set litellm_params.api_key" + (envs.empty() ? "" : " or " + envs) +
                         "); its calls will fail with 401");
        }
    }

    std::string base;
    if (api_base != nullptr && api_base->is_scalar() && !api_base->value.empty()) {
        base = api_base->value;
        if (!valid_http_url(base)) {
            ctx.error(api_base->mark,
                      join_path(lp_path, "api_base"),
                      (api_base->env_ref.empty()
                           ? std::string()
                           : "the value of " + std::string(kEnvPrefix) + api_base->env_ref + " ") +
                          "must be an http:// or https:// URL");
            return;
        }
    } else if (p != nullptr) {
        for (std::string_view env : p->base_envs) {
            if (auto v = ctx.env(env); v && !v->empty()) {
                if (!valid_http_url(*v)) {
                    ctx.error(b.model_mark,
                              lp_path,
                              "environment variable " + std::string(env) +
                                  " (used as api_base) must be an http:// or https:// URL");
                    return;
                }
                base = *v;
                break;
            }
        }
        if (base.empty()) {
            base = std::string(p->default_base);
        }
        if (base.empty() && p->needs_api_base) {
            std::string envs;
            for (std::string_view env : p->base_envs) {
                envs += " or " + std::string(env);
            }
            ctx.error(b.model_mark,
                      join_path(lp_path, "api_base"),
                      "provider " + std::string(p->slug) +
                          " needs an api_base (set litellm_params.api_base" + envs + ")");
            return;
        }
    }
    while (base.size() > 1 && base.back() == '/' && !base.ends_with("://")) {
        base.pop_back();
    }
    d.api_base = std::move(base);

    if (api_version != nullptr && api_version->is_scalar() && !api_version->value.empty()) {
        d.api_version = api_version->value;
    } else if (d.provider == "azure") {
        auto v = ctx.env(kAzureApiVersionEnv);
        d.api_version = (v && !v->empty()) ? *v : std::string(kDefaultAzureApiVersion);
    }
}

std::optional<DeploymentBuild> decode_deployment(Context& ctx,
                                                 const Node& item,
                                                 std::size_t index,
                                                 const Node* default_params) {
    const std::string path = index_path("model_list", index);
    if (!item.is_map()) {
        type_error(ctx, item, path, "a map with model_name and litellm_params");
        return std::nullopt;
    }
    DeploymentBuild b;
    Deployment& d = b.d;
    b.mark = item.mark;
    b.model_mark = item.mark;
    d.mark = SourceMark{item.mark.file >= 0 ? ctx.file(item.mark.file) : std::string(),
                        item.mark.line,
                        item.mark.column,
                        path};

    const Node* model_name = nullptr;
    const Node* params = nullptr;
    const Node* info = nullptr;
    walk_section(
        ctx,
        item,
        path,
        kEntryKeys,
        nullptr,
        [&](const Entry& e, const std::string& /*p*/) {
            if (e.key == "model_name") {
                model_name = &e.value;
            } else if (e.key == "litellm_params") {
                params = &e.value;
            } else if (e.key == "model_info") {
                info = &e.value;
            }
        },
        "model_list[]");

    bool ok = true;
    if (model_name == nullptr || model_name->is_null()) {
        ctx.error(item.mark, join_path(path, "model_name"), "model_name is required");
        ok = false;
    } else if (auto s = read_string(ctx, *model_name, join_path(path, "model_name"));
               !s || s->empty()) {
        if (s) {
            ctx.error(model_name->mark, join_path(path, "model_name"), "must not be empty");
        }
        ok = false;
    } else {
        d.model_name = *s;
        b.model_name_from_env = !model_name->env_ref.empty();
    }
    const std::string lp_path = join_path(path, "litellm_params");
    if (params == nullptr || params->is_null()) {
        ctx.error(item.mark, lp_path, "litellm_params is required");
        return std::nullopt;
    }
    if (!params->is_map()) {
        type_error(ctx, *params, lp_path, "a map");
        return std::nullopt;
    }

    // Deployment id input: model_name + litellm_params exactly as written (config.md §2.3).
    std::string id_source;
    if (model_name != nullptr) {
        id_source = "{\"litellm_params\":" + to_json(*params, JsonMode::kAsWritten) +
                    ",\"model_name\":" + to_json(*model_name, JsonMode::kAsWritten) + "}";
    }

    // router_settings.default_litellm_params fill keys the deployment does not set.
    Node merged = *params;
    if (default_params != nullptr) {
        for (const Entry& e : default_params->entries) {
            if (merged.find(e.key) == nullptr) {
                merged.entries.push_back(e);
            }
        }
    }

    const Node* model = nullptr;
    const Node* api_key = nullptr;
    const Node* api_base = nullptr;
    const Node* base_url = nullptr;
    const Node* api_version = nullptr;
    std::optional<std::string> custom_provider;
    bool custom_provider_env = false;
    JsonObject defaults;
    for (const Entry& e : merged.entries) {
        const std::string p = join_path(lp_path, e.key);
        const Node& v = e.value;
        const KeySpec* spec = find_spec(kParamKeys, e.key);
        if (spec == nullptr && is_later_param(e.key)) {
            ctx.later(e.key_mark, p, "model_list[].litellm_params." + e.key);
            continue;
        }
        if (spec == nullptr) {
            // An OpenAI request default. A near-miss of one of our keys is probably a typo.
            if (!is_openai_param(e.key)) {
                std::string s = suggest(e.key, spec_names(kParamKeys));
                if (!s.empty()) {
                    ctx.warn(e.key_mark,
                             p,
                             "unknown key " + p + " is sent upstream as a request default" +
                                 did_you_mean(s));
                }
            }
            if (!v.is_null()) {
                defaults.set(e.key, to_json(v));
            }
            continue;
        }
        if (spec->status == Status::kLater) {
            ctx.later(e.key_mark, p, "model_list[].litellm_params." + e.key);
            continue;
        }
        const std::string& k = e.key;
        if (k == "model") {
            model = &v;
        } else if (k == "api_key") {
            if (read_string(ctx, v, p)) {
                api_key = &v;
            }
        } else if (k == "api_base") {
            if (read_string(ctx, v, p)) {
                api_base = &v;
            }
        } else if (k == "base_url") {
            if (read_string(ctx, v, p)) {
                base_url = &v;
            }
        } else if (k == "api_version") {
            if (read_string(ctx, v, p)) {
                api_version = &v;
            }
        } else if (k == "custom_llm_provider") {
            custom_provider = read_string(ctx, v, p);
            custom_provider_env = !v.env_ref.empty();
        } else if (k == "rpm") {
            d.rpm = read_int(ctx, v, p);
        } else if (k == "tpm") {
            d.tpm = read_int(ctx, v, p);
        } else if (k == "weight") {
            d.weight = read_number(ctx, v, p, Bound::kPositive);
        } else if (k == "order") {
            d.order = read_int(ctx, v, p, Bound::kPositive);
        } else if (k == "timeout") {
            d.timeout_s = read_number(ctx, v, p, Bound::kPositive);
        } else if (k == "stream_timeout") {
            d.stream_timeout_s = read_number(ctx, v, p, Bound::kPositive);
        } else if (k == "max_retries") {
            d.max_retries = read_int(ctx, v, p);
        } else if (k == "num_retries") {
            d.num_retries = read_int(ctx, v, p);
        } else if (k == "cooldown_time") {
            d.cooldown_time_s = read_number(ctx, v, p, Bound::kNonNegative);
        } else if (k == "max_parallel_requests") {
            d.max_parallel_requests = read_int(ctx, v, p, Bound::kPositive);
        } else if (k == "input_cost_per_token") {
            d.input_cost_per_token = read_number(ctx, v, p, Bound::kNonNegative);
        } else if (k == "output_cost_per_token") {
            d.output_cost_per_token = read_number(ctx, v, p, Bound::kNonNegative);
        } else if (k == "organization") {
            d.organization = read_string(ctx, v, p);
        } else if (k == "extra_headers") {
            if (auto m = read_string_map(ctx, v, p)) {
                d.extra_headers = std::move(*m);
            }
        } else if (k == "drop_params") {
            d.drop_params = read_bool(ctx, v, p);
        } else if (k == "additional_drop_params") {
            if (auto l = read_strings(ctx, v, p)) {
                d.additional_drop_params = std::move(*l);
            }
        } else if (k == "region_name") {
            d.region_name = read_string(ctx, v, p);
        } else if (k == "mock_response") {
            if (v.is_null()) {
                continue;
            }
            d.mock_response = v.is_scalar() ? v.value : to_json(v);
        } else if (k == "mock_timeout") {
            d.mock_timeout = read_bool(ctx, v, p).value_or(false);
        } else if (k == "mock_testing_rate_limit_error") {
            d.mock_testing_rate_limit_error = read_bool(ctx, v, p).value_or(false);
        }
    }
    d.default_params_json = defaults.str();
    if (api_base == nullptr) {
        api_base = base_url;
    }

    // Provider resolution (config.md §3).
    const std::string model_path = join_path(lp_path, "model");
    if (model == nullptr || model->is_null()) {
        ctx.error(params->mark, model_path, "litellm_params.model is required");
        return std::nullopt;
    }
    auto model_text = read_string(ctx, *model, model_path);
    if (!model_text || model_text->empty()) {
        if (model_text) {
            ctx.error(model->mark, model_path, "must not be empty");
        }
        return std::nullopt;
    }
    d.model = *model_text;
    b.model_mark = model->mark;
    auto resolved = resolve_model(d.model, custom_provider.value_or(""));
    if (!resolved) {
        // The resolver's message quotes its input: say where it came from instead when that
        // was an environment variable.
        if (!model->env_ref.empty() || custom_provider_env) {
            ctx.error(model->mark,
                      model_path,
                      "cannot resolve the provider of the model (model or custom_llm_provider "
                      "comes from the environment): LLM Provider NOT provided");
        } else {
            ctx.error(model->mark, model_path, resolved.error().message);
        }
        return std::nullopt;
    }
    d.provider = resolved->provider;
    d.upstream_model = resolved->upstream_model;
    b.provider = find_provider(d.provider);
    d.provider_supported = b.provider == nullptr || b.provider->supported;
    resolve_credentials(ctx, b, api_key, api_base, api_version, lp_path);

    // model_info (kept whole as JSON; id, mode and base_model read here).
    const std::string mi_path = join_path(path, "model_info");
    if (info != nullptr && !info->is_null()) {
        if (!info->is_map()) {
            type_error(ctx, *info, mi_path, "a map");
            ok = false;
        } else {
            b.info = info;
            if (const Node* id = info->find("id"); id != nullptr && id->is_scalar()) {
                d.id = id->value;
            } else if (id != nullptr && !id->is_null()) {
                type_error(ctx, *id, join_path(mi_path, "id"), "a string");
                ok = false;
            }
            if (const Node* mode = info->find("mode")) {
                if (auto m = read_string(ctx, *mode, join_path(mi_path, "mode"))) {
                    if (std::find(std::begin(kModelModes), std::end(kModelModes), *m) ==
                        std::end(kModelModes)) {
                        ctx.warn(
                            mode->mark,
                            join_path(mi_path, "mode"),
                            "unknown mode " + describe(*mode) +
                                " (expected chat, "
                                "completion, embedding, image_generation, audio_transcription, "
                                "audio_speech or rerank); health probes treat it as chat");
                    }
                    d.mode = *m;
                }
            }
            if (const Node* bm = info->find("base_model")) {
                d.base_model = read_string(ctx, *bm, join_path(mi_path, "base_model"));
            }
        }
    }
    if (d.id.empty() && !id_source.empty()) {
        d.id = sha256_hex(id_source);
    }
    if (!ok) {
        return std::nullopt;
    }
    return b;
}

// ---------------------------------------------------------------------------------------------
// Whole-document decoding and cross-checks.

bool glob_match(std::string_view pattern, std::string_view text) {
    std::size_t p = 0;
    std::size_t t = 0;
    std::size_t star = std::string_view::npos;
    std::size_t mark = 0;
    while (t < text.size()) {
        if (p < pattern.size() && pattern[p] != '*' && pattern[p] == text[t]) {
            ++p;
            ++t;
        } else if (p < pattern.size() && pattern[p] == '*') {
            star = p++;
            mark = t;
        } else if (star != std::string_view::npos) {
            p = star + 1;
            t = ++mark;
        } else {
            return false;
        }
    }
    while (p < pattern.size() && pattern[p] == '*') {
        ++p;
    }
    return p == pattern.size();
}

std::optional<double> env_number(Context& ctx, std::string_view name, Bound b) {
    auto v = ctx.env(name);
    if (!v || trim(*v).empty()) {
        return std::nullopt;
    }
    auto d = parse_double(*v);
    if (!d || (b == Bound::kNonNegative && *d < 0) || (b == Bound::kPositive && *d <= 0)) {
        ctx.warn(Mark{},
                 "",
                 "environment variable " + std::string(name) +
                     " is not a valid "
                     "number; ignored");
        return std::nullopt;
    }
    return d;
}

std::optional<int> env_int(Context& ctx, std::string_view name) {
    auto d = env_number(ctx, name, Bound::kNonNegative);
    if (!d) {
        return std::nullopt;
    }
    if (std::floor(*d) != *d || *d > std::numeric_limits<int>::max()) {
        ctx.warn(Mark{},
                 "",
                 "environment variable " + std::string(name) +
                     " is not a valid "
                     "integer; ignored");
        return std::nullopt;
    }
    return static_cast<int>(*d);
}

bool env_true(Context& ctx, std::string_view name) {
    auto v = ctx.env(name);
    if (!v) {
        return false;
    }
    std::string l = lower(trim(*v));
    return l == "true" || l == "1" || l == "yes" || l == "on";
}

std::string model_info_json(const Node* info, const std::string& id) {
    JsonObject obj;
    if (info != nullptr && info->is_map()) {
        for (const Entry& e : info->entries) {
            if (e.key != "id") {
                obj.set(e.key, to_json(e.value));
            }
        }
    }
    obj.set("id", json_string(id));
    return obj.str();
}

// Deployment ids must be unique: a repeated id gets -1, -2, ... and a warning.
void assign_unique_ids(Context& ctx, std::vector<DeploymentBuild>& builds) {
    std::set<std::string> used;
    std::map<std::string, std::size_t> first_index;
    std::map<std::string, std::size_t> next_suffix;
    for (std::size_t i = 0; i < builds.size(); ++i) {
        Deployment& d = builds[i].d;
        if (used.insert(d.id).second) {
            first_index.emplace(d.id, i);
            continue;
        }
        const std::string base = d.id;
        std::size_t& n = next_suffix[base];
        std::string candidate;
        do {
            candidate = base + "-" + std::to_string(++n);
        } while (!used.insert(candidate).second);
        const DeploymentBuild& first = builds[first_index[base]];
        ctx.warn(builds[i].mark,
                 d.mark.path,
                 "deployment id is also used by " + first.d.mark.path +
                     " (same model_name and litellm_params, or the same model_info.id); this "
                     "deployment's id gets the suffix " +
                     candidate.substr(base.size()));
        d.id = candidate;
    }
}

std::shared_ptr<Settings> decode_document(Context& ctx, Node& root, const std::string& config) {
    auto settings = std::make_shared<Settings>();
    Settings& s = *settings;
    s.config_path = config;

    if (!root.is_null() && !root.is_map()) {
        type_error(ctx, root, "", "a YAML mapping at the top level");
        return nullptr;
    }
    apply_environment_variables(ctx, root.find("environment_variables"));
    substitute_env(ctx, root, "");

    const Node* model_list = nullptr;
    const Node* lit = nullptr;
    const Node* rtr = nullptr;
    const Node* gen = nullptr;
    for (const Entry& e : root.entries) {
        const KeySpec* spec = find_spec(kTopKeys, e.key);
        if (spec == nullptr) {
            ctx.unknown(e.key_mark,
                        e.key,
                        "unknown top-level section " + e.key + ", ignored" +
                            did_you_mean(suggest(e.key, spec_names(kTopKeys))));
            continue;
        }
        if (spec->status == Status::kLater) {
            ctx.later(e.key_mark, e.key, e.key);
            continue;
        }
        const Node* v = &e.value;
        if (e.key == "model_list") {
            model_list = v;
            continue;
        }
        if (e.key == "environment_variables" || e.key == "include") {
            continue;  // applied already
        }
        if (!v->is_null() && !v->is_map()) {
            type_error(ctx, *v, e.key, "a map");
            continue;
        }
        if (e.key == "litellm_settings") {
            lit = v;
        } else if (e.key == "router_settings") {
            rtr = v;
        } else if (e.key == "general_settings") {
            gen = v;
        }
    }

    Layer lit_layer;
    Layer rtr_layer;
    AliasRefs aliases;
    RouterExtras rx;
    GeneralExtras gx;
    if (lit != nullptr && lit->is_map()) {
        decode_litellm(ctx, *lit, s.litellm, lit_layer, aliases);
    }
    if (rtr != nullptr && rtr->is_map()) {
        decode_router(ctx, *rtr, s.router, rtr_layer, rx, aliases);
    }
    if (gen != nullptr && gen->is_map()) {
        decode_general(ctx, *gen, s.general, gx);
    }

    // litellm_settings.json_logs also from env JSON_LOGS (config.md §5).
    if ((lit == nullptr || lit->find("json_logs") == nullptr) && env_true(ctx, "JSON_LOGS")) {
        s.litellm.json_logs = true;
    }

    // Router values: router_settings > litellm_settings > env default > built-in (config.md §1.4).
    RouterSettings& r = s.router;
    r.num_retries = rtr_layer.num_retries.value_or(lit_layer.num_retries.value_or(r.num_retries));
    r.timeout_s = rtr_layer.timeout_s.value_or(lit_layer.timeout_s.value_or(r.timeout_s));
    if (rtr_layer.allowed_fails || lit_layer.allowed_fails) {
        r.allowed_fails = rtr_layer.allowed_fails.value_or(lit_layer.allowed_fails.value_or(0));
        r.allowed_fails_explicit = true;
    } else if (auto v = env_int(ctx, "DEFAULT_ALLOWED_FAILS")) {
        r.allowed_fails = *v;
    }
    if (rx.cooldown_time_s) {
        r.cooldown_time_s = *rx.cooldown_time_s;
    } else if (auto v = env_number(ctx, "DEFAULT_COOLDOWN_TIME_SECONDS", Bound::kNonNegative)) {
        r.cooldown_time_s = *v;
    }
    if (rx.max_fallbacks) {
        r.max_fallbacks = *rx.max_fallbacks;
    } else if (auto v = env_int(ctx, "ROUTER_MAX_FALLBACKS")) {
        r.max_fallbacks = *v;
    }
    std::vector<NameRef> group_refs;
    auto pick = [&](std::optional<FallbackList>& a,
                    std::optional<FallbackList>& b,
                    std::vector<FallbackRule>& out) {
        std::optional<FallbackList>& chosen = a ? a : b;
        if (chosen) {
            out = chosen->rules;
            group_refs.insert(group_refs.end(), chosen->refs.begin(), chosen->refs.end());
        }
    };
    pick(rtr_layer.fallbacks, lit_layer.fallbacks, r.fallbacks);
    pick(rtr_layer.context_window_fallbacks,
         lit_layer.context_window_fallbacks,
         r.context_window_fallbacks);
    pick(rtr_layer.content_policy_fallbacks,
         lit_layer.content_policy_fallbacks,
         r.content_policy_fallbacks);
    if (auto& df = rtr_layer.default_fallbacks ? rtr_layer.default_fallbacks
                                               : lit_layer.default_fallbacks) {
        r.default_fallbacks = df->names;
        group_refs.insert(group_refs.end(), df->refs.begin(), df->refs.end());
    }

    // general_settings fallbacks from the environment (README D1, D2).
    GeneralSettings& g = s.general;
    if (!g.master_key && !gx.master_key_written) {
        if (auto v = ctx.env("LITELLM_MASTER_KEY"); v && !v->empty()) {
            g.master_key = Secret{*v, "os.environ/LITELLM_MASTER_KEY"};
        }
    }
    if (!g.database_url) {
        if (auto v = ctx.env("DATABASE_URL"); v && !v->empty()) {
            if (!starts_with(*v, "postgresql://") && !starts_with(*v, "postgres://")) {
                ctx.error(Mark{},
                          "",
                          "environment variable DATABASE_URL must be a "
                          "postgresql:// URL");
            } else {
                g.database_url = Secret{*v, "os.environ/DATABASE_URL"};
            }
        }
    }
    const fs::path config_dir = fs::path(config).parent_path();
    if (gx.database_path && *gx.database_path != ":memory:") {
        fs::path p(*gx.database_path);
        g.database_path = (p.is_relative() ? config_dir / p : p).lexically_normal().string();
    } else if (gx.database_path) {
        g.database_path = ":memory:";
    } else {
        g.database_path = (config_dir / "switchyard.db").string();
    }
    if (gx.spend_wal_dir) {
        fs::path p(*gx.spend_wal_dir);
        g.spend_wal_dir = (p.is_relative() ? config_dir / p : p).lexically_normal().string();
    }
    g.store_model_in_db = gx.store_model_in_db.value_or(env_true(ctx, "STORE_MODEL_IN_DB"));

    // model_list.
    std::vector<DeploymentBuild> builds;
    if (model_list != nullptr && !model_list->is_null()) {
        if (!model_list->is_seq()) {
            type_error(ctx, *model_list, "model_list", "a list of deployments");
        } else {
            for (std::size_t i = 0; i < model_list->items.size(); ++i) {
                if (auto b = decode_deployment(
                        ctx, model_list->items[i], i, rx.default_litellm_params)) {
                    builds.push_back(std::move(*b));
                }
            }
        }
    }

    // One warning per known-but-LATER provider (config.md §1.4).
    std::vector<std::pair<std::string, std::vector<const DeploymentBuild*>>> later;
    for (const DeploymentBuild& b : builds) {
        if (b.d.provider_supported) {
            continue;
        }
        auto it = std::find_if(
            later.begin(), later.end(), [&](const auto& l) { return l.first == b.d.provider; });
        if (it == later.end()) {
            later.emplace_back(b.d.provider, std::vector<const DeploymentBuild*>{&b});
        } else {
            it->second.push_back(&b);
        }
    }
    for (const auto& [provider, list] : later) {
        std::string where;
        for (const DeploymentBuild* b : list) {
            where += where.empty() ? "" : ", ";
            where += b->d.mark.path;
        }
        ctx.warn(list.front()->model_mark,
                 join_path(list.front()->d.mark.path, "litellm_params.model"),
                 "provider " + provider + " not supported yet (" + where + ")");
    }

    assign_unique_ids(ctx, builds);

    // Fallbacks must name existing groups (or groups a wildcard deployment would match).
    std::set<std::string> groups;
    std::vector<std::string> patterns;
    for (const DeploymentBuild& b : builds) {
        groups.insert(b.d.model_name);
        if (has_wildcard(b.d.model_name)) {
            patterns.push_back(b.d.model_name);
        }
    }
    std::set<std::string> known = groups;
    for (const auto& [alias, target] : r.model_group_alias) {
        known.insert(alias);
    }
    for (const auto& [alias, target] : s.litellm.model_alias_map) {
        known.insert(alias);
    }
    auto exists = [&](const std::string& name, const std::set<std::string>& names) {
        return name == "*" || names.count(name) != 0 ||
               std::any_of(patterns.begin(), patterns.end(), [&](const std::string& p) {
                   return glob_match(p, name);
               });
    };
    for (const NameRef& ref : group_refs) {
        if (exists(ref.name, known)) {
            continue;
        }
        std::string msg = "unknown model group " + shown(ref) + " in fallbacks" +
                          (ref.env_ref.empty() ? did_you_mean(suggest(ref.name, known)) : "");
        if (g.store_model_in_db) {
            ctx.warn(ref.mark, ref.path, msg + " (it may be added through /model/new)");
        } else {
            ctx.error(ref.mark, ref.path, msg);
        }
    }
    for (const NameRef& ref : aliases.targets) {
        if (!exists(ref.name, groups)) {
            ctx.warn(ref.mark,
                     ref.path,
                     "alias target " + shown(ref) + " is not a model group" +
                         (ref.env_ref.empty() ? did_you_mean(suggest(ref.name, groups)) : ""));
        }
    }

    s.model_list.reserve(builds.size());
    for (DeploymentBuild& b : builds) {
        b.d.model_info_json = model_info_json(b.info, b.d.id);
        s.model_list.push_back(std::move(b.d));
    }
    return settings;
}

LoadResult finish(Context& ctx, std::shared_ptr<Settings> settings) {
    LoadResult r;
    const bool failed = ctx.has_error();
    r.diagnostics = ctx.take_diagnostics();
    if (!failed) {
        r.settings = std::move(settings);
    }
    return r;
}

LoadResult internal_failure(std::string_view file, std::string_view what) {
    LoadResult r;
    std::string msg(file);
    msg += file.empty() ? "" : ": ";
    msg += "internal error while loading the configuration: ";
    msg += what;
    r.diagnostics.push_back(Diagnostic{Diagnostic::Level::kError, std::move(msg)});
    return r;
}

LoadResult load_text(Context& ctx, std::string_view text, const std::string& display) {
    IncludeState st;
    std::error_code ec;
    fs::path self = fs::weakly_canonical(fs::path(display), ec);
    st.chain.push_back(ec ? fs::path(display) : self);
    std::optional<Node> root =
        load_document(ctx, text, display, fs::path(display).parent_path(), st);
    if (!root) {
        return finish(ctx, nullptr);
    }
    std::shared_ptr<Settings> s = decode_document(ctx, *root, display);
    return finish(ctx, std::move(s));
}

}  // namespace

EnvLookup process_env() {
    return [](std::string_view name) -> std::optional<std::string> {
        const std::string n(name);
        if (const char* v = std::getenv(n.c_str()); v != nullptr) {
            return std::string(v);
        }
        return std::nullopt;
    };
}

LoadResult load_file(const std::string& path, const LoadOptions& opts) {
    try {
        // environment_variables also reach the process environment (child libraries, providers
        // reading env at call time) unless the caller supplies its own environment view.
        Context ctx(opts, !opts.env);
        std::string why;
        std::optional<std::string> text = read_file(path, why);
        if (!text) {
            ctx.add_file(path);
            ctx.error(Mark{0, 0, 0}, "", "cannot read config file: " + why);
            return finish(ctx, nullptr);
        }
        return load_text(ctx, *text, path);
    } catch (const std::exception& e) {
        return internal_failure(path, e.what());
    } catch (...) {
        return internal_failure(path, "unknown exception");
    }
}

LoadResult load_string(std::string_view yaml_text,
                       const std::string& file_name,
                       const LoadOptions& opts) {
    try {
        Context ctx(opts, false);
        return load_text(ctx, yaml_text, file_name);
    } catch (const std::exception& e) {
        return internal_failure(file_name, e.what());
    } catch (...) {
        return internal_failure(file_name, "unknown exception");
    }
}

LoadResult load_defaults(const LoadOptions& opts) {
    try {
        Context ctx(opts, false);
        Node empty;
        std::shared_ptr<Settings> s = decode_document(ctx, empty, "");
        return finish(ctx, std::move(s));
    } catch (const std::exception& e) {
        return internal_failure("", e.what());
    } catch (...) {
        return internal_failure("", "unknown exception");
    }
}

}  // namespace sy::config
