#include "sy/core/json_text.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>

#include "sy/core/json_scan.hpp"

namespace sy {
namespace {

namespace json = boost::json;

void append_double(std::string& out, double d) {
    if (!std::isfinite(d)) {
        out += "null";
        return;
    }
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, d);  // shortest round-trip form
    std::string_view s(buf, static_cast<std::size_t>(end - buf));
    out += s;
    if (s.find_first_of(".e") == std::string_view::npos) {
        out += ".0";  // a double stays a float for Python and typed clients
    }
}

void append_value(std::string& out, const json::value& v, int depth) {
    if (depth > 256) {
        out += json::serialize(v);  // deeper than anything we build: Boost's writer
        return;
    }
    switch (v.kind()) {
        case json::kind::null:
            out += "null";
            break;
        case json::kind::bool_:
            out += v.get_bool() ? "true" : "false";
            break;
        case json::kind::int64:
        case json::kind::uint64: {
            char buf[24];
            auto [end, ec] = v.is_int64() ? std::to_chars(buf, buf + sizeof buf, v.get_int64())
                                          : std::to_chars(buf, buf + sizeof buf, v.get_uint64());
            out.append(buf, end);
            break;
        }
        case json::kind::double_:
            append_double(out, v.get_double());
            break;
        case json::kind::string:
            json_scan::append_json_string(out, v.get_string());
            break;
        case json::kind::array: {
            out += '[';
            bool first = true;
            for (const auto& e : v.get_array()) {
                if (!first) {
                    out += ',';
                }
                first = false;
                append_value(out, e, depth + 1);
            }
            out += ']';
            break;
        }
        case json::kind::object: {
            out += '{';
            bool first = true;
            for (const auto& kv : v.get_object()) {
                if (!first) {
                    out += ',';
                }
                first = false;
                json_scan::append_json_string(out, kv.key());
                out += ':';
                append_value(out, kv.value(), depth + 1);
            }
            out += '}';
            break;
        }
    }
}

}  // namespace

void append_json_text(std::string& out, const json::value& v) { append_value(out, v, 0); }

std::string json_text(const json::value& v) {
    std::string out;
    append_value(out, v, 0);
    return out;
}

}  // namespace sy
