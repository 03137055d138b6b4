#include "sy/pipeline/error_render.hpp"

#include "sy/core/json_scan.hpp"
#include "sy/providers/anthropic/translate.hpp"

namespace sy::pipeline {

std::string error_json(const Error& e) {
    std::string out;
    out.reserve(96 + e.message.size());
    out += "{\"error\":{\"message\":";
    json_scan::append_json_string(out, e.message);
    out += ",\"type\":";
    json_scan::append_json_string(out, e.http_type());
    out += ",\"param\":";
    if (e.param) {
        json_scan::append_json_string(out, *e.param);
    } else {
        out += "null";
    }
    out += ",\"code\":\"";
    out += std::to_string(e.http_status());
    out += "\"}}";
    return out;
}

http::Response render_error(const Error& e, unsigned http_version) {
    http::Response res{static_cast<http::bhttp::status>(e.http_status()), http_version};
    res.set(http::bhttp::field::content_type, "application/json");
    for (const auto& h : e.headers) {
        res.set(h.name, h.value);
    }
    res.body() = error_json(e);
    return res;
}

http::Response render_anthropic_error(const Error& e, unsigned http_version) {
    http::Response res{static_cast<http::bhttp::status>(e.http_status()), http_version};
    res.set(http::bhttp::field::content_type, "application/json");
    for (const auto& h : e.headers) {
        res.set(h.name, h.value);
    }
    res.body() = providers::anthropic::anthropic_error_envelope(e.http_status(), e.message);
    return res;
}

std::string error_sse_event(const Error& e) { return "data: " + error_json(e) + "\n\n"; }

}  // namespace sy::pipeline
