#include "sy/pipeline/token_estimate.hpp"

#include <boost/json.hpp>

namespace sy::pipeline {
namespace {

namespace json = boost::json;

std::size_t text_chars(const json::value& v, int depth) {
    if (depth > 64) {
        return 0;
    }
    if (v.is_string()) {
        return v.get_string().size();
    }
    std::size_t n = 0;
    if (v.is_array()) {
        for (const auto& e : v.get_array()) {
            n += text_chars(e, depth + 1);
        }
    } else if (v.is_object()) {
        for (const auto& kv : v.get_object()) {
            n += text_chars(kv.value(), depth + 1);
        }
    }
    return n;
}

}  // namespace

Result<std::int64_t> estimate_input_tokens(std::string_view body) {
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 64;
    json::value v = json::parse(body, ec, {}, opts);
    if (ec || !v.is_object()) {
        return Error::make(Errc::kBadRequest, "Invalid JSON in request body");
    }
    const json::object& o = v.get_object();
    const json::value* messages = o.if_contains("messages");
    if (!messages || !messages->is_array()) {
        return Error::make(Errc::kBadRequest, "Invalid value for messages: required, a list")
            .with_param("messages");
    }
    std::size_t chars = text_chars(*messages, 0);
    if (auto* s = o.if_contains("system")) {
        chars += text_chars(*s, 0);
    }
    if (auto* t = o.if_contains("tools")) {
        chars += text_chars(*t, 0);
    }
    auto n = static_cast<std::int64_t>((chars + 3) / 4 + 3 * messages->get_array().size());
    return n < 1 ? std::int64_t{1} : n;
}

}  // namespace sy::pipeline
