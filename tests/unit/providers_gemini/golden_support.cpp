#include "golden_support.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "sy/providers/gemini/translate.hpp"

namespace sy::providers::gemini::golden {

bool g_update_golden = false;

namespace fs = std::filesystem;

fs::path golden_dir() { return fs::path(SY_GOLDEN_DIR); }

namespace {

struct Prefix {
    std::string_view prefix;
    Kind kind;
};

constexpr Prefix kPrefixes[] = {
    {"req_", Kind::kRequest},
    {"resp_", Kind::kResponse},
    {"stream_", Kind::kStream},
    {"err_", Kind::kError},
};

bool is_stream(Kind k) { return k == Kind::kStream; }

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

json::object options_of(const Case& c) {
    fs::path p = c.dir / "options.json";
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

json::value error_json(const Error& e) {
    return json::object{{"error",
                         json::object{{"code", errc_name(e.code)},
                                      {"status", e.http_status()},
                                      {"type", e.http_type()},
                                      {"message", e.message}}}};
}

// A JSON text produced by the translator: must parse, or the test fails loudly.
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

struct SseEvent {
    std::string type;  // unused by Gemini (no `event:` lines); kept for transcripts that have one
    std::string data;
};

// Minimal SSE framing for fixtures: events end at a blank line; a final event without the blank
// line is still delivered (that is how truncated transcripts are expressed).
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

json::value run_stream(const Case& c, const json::object& opts) {
    json::array lines;
    auto events = parse_sse(read_file(c.dir / "events.sse"));
    StreamToOpenAI t(opt_string(opts, "client_model", "gemini-flash"),
                     !opts.contains("include_usage") || opts.at("include_usage").as_bool());
    bool failed = false;
    for (const auto& ev : events) {
        auto r = t.on_event(ev.data);
        if (!r) {
            lines.push_back(error_json(r.error()));
            failed = true;
            break;
        }
        for (const auto& chunk : *r) {
            lines.push_back(output_json(chunk));
        }
    }
    if (!failed) {
        for (const auto& chunk : t.finish()) {
            lines.push_back(output_json(chunk));
        }
    }
    lines.push_back(json::object{{"finished", t.finished()}});
    return lines;
}

RequestOptions request_options(const json::object& o) {
    RequestOptions r;
    r.upstream_model = opt_string(o, "upstream_model", "gemini-2.5-flash");
    if (const json::value* v = o.if_contains("drop_params")) {
        r.drop_params = v->as_bool();
    }
    if (const json::value* v = o.if_contains("additional_drop_params")) {
        for (const auto& s : v->as_array()) {
            r.additional_drop_params.emplace_back(s.as_string());
        }
    }
    return r;
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

// Ids the translator generates: `call_<24 hex>` and `chatcmpl-<uuid>`.
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

// Placeholders survive a rewrite where they still match; `created` and generated ids always
// become placeholders.
json::value merge_placeholders(const json::value& actual,
                               const json::value& old,
                               std::string_view key) {
    if (key == "created" && (actual.is_int64() || actual.is_uint64())) {
        return "$int";
    }
    if (const char* p = generated_id_placeholder(actual)) {
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
                merge_placeholders(kv.value(), ov != nullptr ? *ov : json::value(), kv.key());
        }
        return out;
    }
    if (const json::array* aa = actual.if_array()) {
        const json::array* oa = old.if_array();
        json::array out;
        for (std::size_t i = 0; i < aa->size(); ++i) {
            out.push_back(merge_placeholders(
                (*aa)[i], oa != nullptr && i < oa->size() ? (*oa)[i] : json::value(), {}));
        }
        return out;
    }
    return actual;
}

}  // namespace

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::kRequest:
            return "request (OpenAI -> Gemini)";
        case Kind::kResponse:
            return "response (Gemini -> OpenAI)";
        case Kind::kStream:
            return "stream (Gemini SSE -> OpenAI chunks)";
        case Kind::kError:
            return "errors";
    }
    return "?";
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

std::vector<Case> discover() {
    std::vector<Case> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(golden_dir(), ec)) {
        if (!e.is_directory()) {
            continue;
        }
        std::string name = e.path().filename().string();
        for (const auto& p : kPrefixes) {
            if (name.rfind(p.prefix, 0) == 0) {
                out.push_back(Case{name, p.kind, e.path()});
                break;
            }
        }
    }
    std::sort(out.begin(), out.end(), [](const Case& a, const Case& b) { return a.name < b.name; });
    return out;
}

json::value run_case(const Case& c) {
    json::object opts = options_of(c);
    switch (c.kind) {
        case Kind::kRequest: {
            fs::path p = c.dir / "input.json";
            json::value in = parse_or_throw(read_file(p), p);
            auto r = openai_to_gemini_request(in.as_object(), request_options(opts));
            return r ? output_json(*r) : error_json(r.error());
        }
        case Kind::kResponse: {
            auto r = gemini_to_openai_response(read_file(c.dir / "input.json"),
                                               opt_string(opts, "client_model", "gemini-flash"));
            return r ? output_json(*r) : error_json(r.error());
        }
        case Kind::kStream:
            return run_stream(c, opts);
        case Kind::kError: {
            fs::path p = c.dir / "input.json";
            json::object in = parse_or_throw(read_file(p), p).as_object();
            int status = static_cast<int>(in.at("status").as_int64());
            const json::value& b = in.at("body");
            std::string body = b.is_string() ? std::string(b.get_string()) : json::serialize(b);
            json::value out = error_json(map_gemini_error(status, body));
            std::optional<double> delay = retry_delay_seconds(body);
            out.as_object()["retry_delay_seconds"] =
                delay ? json::value(*delay) : json::value(nullptr);
            return out;
        }
    }
    return nullptr;
}

json::value load_expected(const Case& c) {
    if (is_stream(c.kind)) {
        fs::path p = c.dir / "expected.jsonl";
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
    fs::path p = c.dir / "expected.json";
    if (!fs::exists(p)) {
        return nullptr;
    }
    return parse_or_throw(read_file(p), p);
}

void write_expected(const Case& c, const json::value& actual, const json::value& old_expected) {
    json::value merged = merge_placeholders(actual, old_expected, {});
    if (is_stream(c.kind)) {
        std::ofstream out(c.dir / "expected.jsonl", std::ios::binary | std::ios::trunc);
        for (const auto& line : merged.as_array()) {
            out << json::serialize(line) << '\n';
        }
        return;
    }
    std::ofstream out(c.dir / "expected.json", std::ios::binary | std::ios::trunc);
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

}  // namespace sy::providers::gemini::golden
