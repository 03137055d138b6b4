#include "support/golden_support.hpp"

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace sy::test::golden {

bool g_update_golden = false;

namespace fs = std::filesystem;

namespace {

const char* errc_name(Errc c) {
    switch (c) {
        case Errc::kBadRequest:
            return "kBadRequest";
        case Errc::kUnknownModel:
            return "kUnknownModel";
        case Errc::kProviderNotSupported:
            return "kProviderNotSupported";
        case Errc::kContextWindow:
            return "kContextWindow";
        case Errc::kContentPolicy:
            return "kContentPolicy";
        case Errc::kAuthMissing:
            return "kAuthMissing";
        case Errc::kAuthInvalid:
            return "kAuthInvalid";
        case Errc::kForbidden:
            return "kForbidden";
        case Errc::kNotFound:
            return "kNotFound";
        case Errc::kMethodNotAllowed:
            return "kMethodNotAllowed";
        case Errc::kTimeout:
            return "kTimeout";
        case Errc::kBodyTooLarge:
            return "kBodyTooLarge";
        case Errc::kRateLimited:
            return "kRateLimited";
        case Errc::kUpstreamStatus:
            return "kUpstreamStatus";
        case Errc::kUpstreamConnection:
            return "kUpstreamConnection";
        case Errc::kUpstreamProtocol:
            return "kUpstreamProtocol";
        case Errc::kServiceUnavailable:
            return "kServiceUnavailable";
        case Errc::kInternal:
            return "kInternal";
    }
    return "?";
}

void pretty_into(const json::value& v, std::string& out, int indent) {
    auto pad = [&](int n) { out.append(static_cast<std::size_t>(n) * 2, ' '); };
    if (const json::object* o = v.if_object()) {
        if (o->empty()) {
            out += "{}";
            return;
        }
        out += "{\n";
        std::size_t i = 0;
        for (const auto& kv : *o) {
            pad(indent + 1);
            out += json::serialize(json::string(kv.key()));
            out += ": ";
            pretty_into(kv.value(), out, indent + 1);
            out += ++i < o->size() ? ",\n" : "\n";
        }
        pad(indent);
        out += '}';
        return;
    }
    if (const json::array* a = v.if_array()) {
        if (a->empty()) {
            out += "[]";
            return;
        }
        out += "[\n";
        for (std::size_t i = 0; i < a->size(); ++i) {
            pad(indent + 1);
            pretty_into((*a)[i], out, indent + 1);
            out += i + 1 < a->size() ? ",\n" : "\n";
        }
        pad(indent);
        out += ']';
        return;
    }
    if (v.is_double()) {
        // Shortest round-trip form ("0.2"), easier to read than Boost's "2E-1".
        char buf[64];
        auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v.get_double());
        std::string num = ec == std::errc() ? std::string(buf, p) : json::serialize(v);
        if (num.find_first_of(".eE") == std::string::npos) {
            num += ".0";
        }
        out += num;
        return;
    }
    out += json::serialize(v);
}

bool is_placeholder(const json::value& v) {
    if (!v.is_string()) {
        return false;
    }
    std::string_view s = v.get_string();
    return s == "$int" || s == "$string" || s.rfind("$prefix:", 0) == 0;
}

bool placeholder_matches(std::string_view p, const json::value& a) {
    if (p == "$int") {
        return a.is_int64() || a.is_uint64();
    }
    if (p == "$string") {
        return a.is_string();
    }
    std::string_view prefix = p.substr(8);
    return a.is_string() && std::string_view(a.get_string()).rfind(prefix, 0) == 0;
}

bool numbers_equal(const json::value& e, const json::value& a) {
    if (e.is_double() || a.is_double()) {
        return e.to_number<double>() == a.to_number<double>();
    }
    if (e.is_int64() && a.is_int64()) {
        return e.get_int64() == a.get_int64();
    }
    if (e.is_uint64() && a.is_uint64()) {
        return e.get_uint64() == a.get_uint64();
    }
    // int64 vs uint64
    const json::value& s = e.is_int64() ? e : a;
    const json::value& u = e.is_int64() ? a : e;
    return s.get_int64() >= 0 && static_cast<std::uint64_t>(s.get_int64()) == u.get_uint64();
}

bool all_hex(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-';
    });
}

// Placeholders survive a rewrite where they still match; `created` (and, with `ids`, generated
// ids) always become placeholders.
json::value merge_placeholders(const json::value& actual,
                               const json::value& old,
                               std::string_view key,
                               IdPlaceholder ids) {
    if (key == "created" && (actual.is_int64() || actual.is_uint64())) {
        return "$int";
    }
    if (const char* p = ids != nullptr ? ids(actual) : nullptr) {
        return p;
    }
    if (is_placeholder(old) && placeholder_matches(old.get_string(), actual)) {
        return old;
    }
    if (const json::object* ao = actual.if_object()) {
        const json::object* oo = old.if_object();
        json::object out;
        for (const auto& kv : *ao) {
            const json::value* ov = oo != nullptr ? oo->if_contains(kv.key()) : nullptr;
            out[kv.key()] =
                merge_placeholders(kv.value(), ov != nullptr ? *ov : json::value(), kv.key(), ids);
        }
        return out;
    }
    if (const json::array* aa = actual.if_array()) {
        const json::array* oa = old.if_array();
        json::array out;
        for (std::size_t i = 0; i < aa->size(); ++i) {
            out.push_back(merge_placeholders(
                (*aa)[i], oa != nullptr && i < oa->size() ? (*oa)[i] : json::value(), {}, ids));
        }
        return out;
    }
    return actual;
}

}  // namespace

int run_tests(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--update-golden") == 0) {
            g_update_golden = true;
            for (int j = i; j + 1 < argc; ++j) {
                argv[j] = argv[j + 1];
            }
            --argc;
            --i;
        }
    }
    ::testing::InitGoogleTest(&argc, argv);
    return RUN_ALL_TESTS();
}

std::vector<std::pair<std::string, fs::path>> case_dirs(const fs::path& root) {
    std::vector<std::pair<std::string, fs::path>> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(root, ec)) {
        if (e.is_directory()) {
            out.emplace_back(e.path().filename().string(), e.path());
        }
    }
    std::sort(
        out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    return out;
}

std::string read_file(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) {
        throw std::runtime_error("cannot read " + p.string());
    }
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

json::value parse_or_throw(const std::string& text, const fs::path& where) {
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 256;
    json::value v = json::parse(text, ec, {}, opts);
    if (ec) {
        throw std::runtime_error(where.string() + ": invalid JSON: " + ec.message());
    }
    return v;
}

json::object options_of(const fs::path& dir) {
    fs::path p = dir / "options.json";
    if (!fs::exists(p)) {
        return {};
    }
    return parse_or_throw(read_file(p), p).as_object();
}

std::string opt_string(const json::object& o, std::string_view key, std::string_view dflt) {
    if (const json::value* v = o.if_contains(key); v != nullptr && v->is_string()) {
        return std::string(v->get_string());
    }
    return std::string(dflt);
}

json::value error_json(const Error& e) {
    return json::object{{"error",
                         json::object{{"code", errc_name(e.code)},
                                      {"status", e.http_status()},
                                      {"type", e.http_type()},
                                      {"message", e.message}}}};
}

json::value output_json(const std::string& text) {
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 256;
    json::value v = json::parse(text, ec, {}, opts);
    if (ec) {
        return json::object{{"$invalid_json_output", text}};
    }
    return v;
}

ErrorInput read_error_input(const fs::path& dir) {
    fs::path p = dir / "input.json";
    json::object in = parse_or_throw(read_file(p), p).as_object();
    ErrorInput out;
    out.status = static_cast<int>(in.at("status").as_int64());
    const json::value& b = in.at("body");
    out.body = b.is_string() ? std::string(b.get_string()) : json::serialize(b);
    return out;
}

std::vector<SseEvent> parse_sse(const std::string& text) {
    std::vector<SseEvent> out;
    SseEvent cur;
    bool has_data = false;
    std::istringstream in(text);
    std::string line;
    auto flush = [&] {
        if (has_data || !cur.type.empty()) {
            out.push_back(cur);
        }
        cur = SseEvent{};
        has_data = false;
    };
    while (std::getline(in, line)) {
        if (!line.empty() && line.back() == '\r') {
            line.pop_back();
        }
        if (line.empty()) {
            flush();
            continue;
        }
        if (line[0] == ':') {
            continue;
        }
        auto field_end = line.find(':');
        std::string field = line.substr(0, field_end);
        std::string value = field_end == std::string::npos ? "" : line.substr(field_end + 1);
        if (!value.empty() && value[0] == ' ') {
            value.erase(0, 1);
        }
        if (field == "event") {
            cur.type = value;
        } else if (field == "data") {
            if (has_data) {
                cur.data += '\n';
            }
            cur.data += value;
            has_data = true;
        }
    }
    flush();
    return out;
}

const char* generated_id_placeholder(const json::value& v) {
    if (!v.is_string()) {
        return nullptr;
    }
    std::string_view s = v.get_string();
    if (s.size() == 29 && s.rfind("call_", 0) == 0 && all_hex(s.substr(5))) {
        return "$prefix:call_";
    }
    if (s.size() == 45 && s.rfind("chatcmpl-", 0) == 0 && all_hex(s.substr(9))) {
        return "$prefix:chatcmpl-";
    }
    return nullptr;
}

json::value load_expected(const fs::path& dir, bool stream) {
    if (stream) {
        fs::path p = dir / "expected.jsonl";
        if (!fs::exists(p)) {
            return nullptr;
        }
        json::array lines;
        std::istringstream in(read_file(p));
        std::string line;
        while (std::getline(in, line)) {
            if (!line.empty()) {
                lines.push_back(parse_or_throw(line, p));
            }
        }
        return lines;
    }
    fs::path p = dir / "expected.json";
    if (!fs::exists(p)) {
        return nullptr;
    }
    return parse_or_throw(read_file(p), p);
}

void write_expected(const fs::path& dir,
                    bool stream,
                    const json::value& actual,
                    const json::value& old_expected,
                    IdPlaceholder ids) {
    json::value merged = merge_placeholders(actual, old_expected, {}, ids);
    if (stream) {
        std::ofstream out(dir / "expected.jsonl", std::ios::binary | std::ios::trunc);
        for (const auto& line : merged.as_array()) {
            out << json::serialize(line) << '\n';
        }
        return;
    }
    std::ofstream out(dir / "expected.json", std::ios::binary | std::ios::trunc);
    out << pretty(merged) << '\n';
}

std::string compare(const json::value& e, const json::value& a, const std::string& path) {
    if (is_placeholder(e)) {
        return placeholder_matches(e.get_string(), a)
                   ? std::string()
                   : path + ": expected " + std::string(e.get_string()) + ", got " +
                         json::serialize(a);
    }
    if (e.is_number() && a.is_number()) {
        return numbers_equal(e, a)
                   ? std::string()
                   : path + ": expected " + json::serialize(e) + ", got " + json::serialize(a);
    }
    if (e.kind() != a.kind()) {
        return path + ": expected " + json::serialize(e) + ", got " + json::serialize(a);
    }
    if (const json::object* eo = e.if_object()) {
        const json::object& ao = a.get_object();
        for (const auto& kv : *eo) {
            std::string p = path + "." + std::string(kv.key());
            const json::value* av = ao.if_contains(kv.key());
            if (av == nullptr) {
                return p + ": missing in actual";
            }
            if (std::string d = compare(kv.value(), *av, p); !d.empty()) {
                return d;
            }
        }
        for (const auto& kv : ao) {
            if (!eo->contains(kv.key())) {
                return path + "." + std::string(kv.key()) +
                       ": unexpected in actual: " + json::serialize(kv.value());
            }
        }
        return {};
    }
    if (const json::array* ea = e.if_array()) {
        const json::array& aa = a.get_array();
        for (std::size_t i = 0; i < std::min(ea->size(), aa.size()); ++i) {
            if (std::string d = compare((*ea)[i], aa[i], path + "[" + std::to_string(i) + "]");
                !d.empty()) {
                return d;
            }
        }
        if (ea->size() != aa.size()) {
            return path + ": expected " + std::to_string(ea->size()) + " elements, got " +
                   std::to_string(aa.size());
        }
        return {};
    }
    return e == a ? std::string()
                  : path + ": expected " + json::serialize(e) + ", got " + json::serialize(a);
}

std::string pretty(const json::value& v) {
    std::string out;
    pretty_into(v, out, 0);
    return out;
}

void check_case(const fs::path& dir, bool stream, const json::value& actual, IdPlaceholder ids) {
    json::value expected = load_expected(dir, stream);
    if (g_update_golden) {
        write_expected(dir, stream, actual, expected, ids);
        return;
    }
    ASSERT_FALSE(expected.is_null())
        << dir << ": no expected file; run with --update-golden and review the result";
    std::string diff = compare(expected, actual);
    EXPECT_TRUE(diff.empty()) << dir << "\n" << diff << "\nactual:\n" << pretty(actual);
}

}  // namespace sy::test::golden
