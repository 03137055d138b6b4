#include "sy/pipeline/decode.hpp"

#include <algorithm>
#include <cmath>
#include <boost/json.hpp>
#include <boost/json/monotonic_resource.hpp>
#include <vector>

namespace sy::pipeline {
namespace {

namespace json = boost::json;

// Fields the gateway consumes; never forwarded upstream (api.md §2.1).
constexpr std::string_view kGatewayFields[] = {
    "metadata",
    "num_retries",
    "timeout",
    "stream_timeout",
    "fallbacks",
    "context_window_fallbacks",
    "content_policy_fallbacks",
    "disable_fallbacks",
    "drop_params",
    "additional_drop_params",
    "cache",
    "caching",
    "tags",
    "mock_response",
    "mock_testing_rate_limit_error",
    "mock_timeout",
    "mock_testing_fallbacks",
    "mock_testing_context_fallbacks",
    "mock_testing_content_policy_fallbacks",
    "mock_delay",
    "proxy_server_request",
    "litellm_logging_obj",
    "fastest_response",
};

// Client-side credentials and endpoints: always rejected (security.md S3, README D20).
constexpr std::string_view kRejectedFields[] = {
    "api_key", "api_base", "base_url", "api_version", "organization",
};

Error bad_field(std::string_view field, std::string_view reason) {
    return Error::make(Errc::kBadRequest,
                       "Invalid value for " + std::string(field) + ": " + std::string(reason))
        .with_param(std::string(field));
}

Error missing_field(std::string_view field, providers::Route r) {
    return Error::make(Errc::kBadRequest,
                       std::string(route_label(r)) + ": missing required parameter '" +
                           std::string(field) + "'")
        .with_param(std::string(field));
}

bool is_number(const json::value& v) { return v.is_number(); }

// Upper bound for client-supplied timeouts (body `timeout`/`stream_timeout`, x-litellm-timeout).
constexpr double kMaxClientTimeoutS = 86400.0;

std::optional<double> as_double(const json::value& v) {
    if (v.is_double()) {
        return v.get_double();
    }
    if (v.is_int64()) {
        return static_cast<double>(v.get_int64());
    }
    if (v.is_uint64()) {
        return static_cast<double>(v.get_uint64());
    }
    return std::nullopt;
}

std::optional<Error> check_rejected(const json::object& o) {
    for (auto name : kRejectedFields) {
        if (o.contains(name)) {
            return Error::make(Errc::kBadRequest,
                               "Rejected client-side parameter: " + std::string(name))
                .with_param(std::string(name));
        }
    }
    if (auto* eb = o.if_contains("extra_body"); eb && eb->is_object()) {
        for (auto name : kRejectedFields) {
            if (eb->get_object().contains(name)) {
                return Error::make(Errc::kBadRequest,
                                   "Rejected client-side parameter: " + std::string(name))
                    .with_param("extra_body." + std::string(name));
            }
        }
    }
    return std::nullopt;
}

std::optional<Error> check_types(const json::object& o) {
    struct Rule {
        std::string_view name;
        enum { kBool, kNumber, kInteger, kObject, kArray, kString, kStringOrArray } kind;
    };
    static constexpr Rule kRules[] = {
        {"stream", Rule::kBool},
        {"temperature", Rule::kNumber},
        {"top_p", Rule::kNumber},
        {"presence_penalty", Rule::kNumber},
        {"frequency_penalty", Rule::kNumber},
        {"max_tokens", Rule::kInteger},
        {"max_completion_tokens", Rule::kInteger},
        {"n", Rule::kInteger},
        {"seed", Rule::kInteger},
        {"stream_options", Rule::kObject},
        {"tools", Rule::kArray},
        {"logit_bias", Rule::kObject},
        {"response_format", Rule::kObject},
        {"user", Rule::kString},
        {"stop", Rule::kStringOrArray},
        {"metadata", Rule::kObject},
        {"parallel_tool_calls", Rule::kBool},
        {"logprobs", Rule::kBool},
    };
    for (const auto& r : kRules) {
        const json::value* v = o.if_contains(r.name);
        if (!v || v->is_null()) {
            continue;
        }
        bool ok = true;
        const char* want = "";
        switch (r.kind) {
            case Rule::kBool:
                ok = v->is_bool();
                want = "must be a boolean";
                break;
            case Rule::kNumber:
                ok = is_number(*v);
                want = "must be a number";
                break;
            case Rule::kInteger:
                ok = v->is_int64() || v->is_uint64();
                want = "must be an integer";
                break;
            case Rule::kObject:
                ok = v->is_object();
                want = "must be an object";
                break;
            case Rule::kArray:
                ok = v->is_array();
                want = "must be a list";
                break;
            case Rule::kString:
                ok = v->is_string();
                want = "must be a string";
                break;
            case Rule::kStringOrArray:
                ok = v->is_string() || v->is_array();
                want = "must be a string or a list of strings";
                break;
        }
        if (!ok) {
            return bad_field(r.name, want);
        }
    }
    return std::nullopt;
}

}  // namespace

std::string_view route_label(providers::Route r) { return providers::route_path(r); }

Result<LlmRequest> decode_request(providers::Route route, std::string_view text) {
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 64;
    // One arena per request instead of one allocation per JSON node; freed with the request.
    json::storage_ptr arena = json::make_shared_resource<json::monotonic_resource>(
        std::max<std::size_t>(1024, text.size() * 2));
    json::value v = json::parse(text, ec, arena, opts);
    if (ec) {
        return Error::make(Errc::kBadRequest,
                           "Invalid JSON in request body: " + ec.message());
    }
    if (!v.is_object()) {
        return Error::make(Errc::kBadRequest, "Request body must be a JSON object");
    }
    // Move-constructing keeps the arena (assignment would deep-copy into the default allocator).
    LlmRequest req(route, std::move(v.get_object()));
    json::object& o = req.body;

    const json::value* model = o.if_contains("model");
    if (!model || model->is_null()) {
        return missing_field("model", route);
    }
    if (!model->is_string() || model->get_string().empty()) {
        return bad_field("model", "must be a non-empty string");
    }
    req.model = std::string(model->get_string());

    if (auto err = check_rejected(o)) {
        return std::move(*err);
    }
    if (auto err = check_types(o)) {
        return std::move(*err);
    }

    switch (route) {
        case providers::Route::kChat: {
            const json::value* m = o.if_contains("messages");
            if (!m || m->is_null()) {
                return missing_field("messages", route);
            }
            if (!m->is_array() || m->get_array().empty()) {
                return bad_field("messages", "must be a non-empty list");
            }
            for (const auto& msg : m->get_array()) {
                if (!msg.is_object()) {
                    return bad_field("messages", "every message must be an object");
                }
                const json::value* role = msg.get_object().if_contains("role");
                if (!role || !role->is_string()) {
                    return bad_field("messages", "every message needs a string 'role'");
                }
            }
            break;
        }
        case providers::Route::kCompletions: {
            const json::value* p = o.if_contains("prompt");
            if (!p || p->is_null()) {
                return missing_field("prompt", route);
            }
            if (!p->is_string() && !p->is_array()) {
                return bad_field("prompt", "must be a string or a list");
            }
            break;
        }
        case providers::Route::kEmbeddings: {
            const json::value* in = o.if_contains("input");
            if (!in || in->is_null()) {
                return missing_field("input", route);
            }
            if (!in->is_string() && !in->is_array()) {
                return bad_field("input", "must be a string or a list");
            }
            if (in->is_array() && in->get_array().empty()) {
                return bad_field("input", "must not be empty");
            }
            break;
        }
    }

    if (auto* s = o.if_contains("stream"); s && s->is_bool()) {
        req.stream = s->get_bool();
    }
    if (req.stream && route == providers::Route::kEmbeddings) {
        return bad_field("stream", "embeddings cannot be streamed");
    }
    if (auto* so = o.if_contains("stream_options"); so && so->is_object()) {
        if (auto* iu = so->get_object().if_contains("include_usage"); iu && iu->is_bool()) {
            req.include_usage = iu->get_bool();
        }
    }
    if (auto* t = o.if_contains("timeout"); t && !t->is_null()) {
        auto d = as_double(*t);
        if (!d || !std::isfinite(*d) || *d <= 0 || *d > kMaxClientTimeoutS) {
            return bad_field("timeout", "must be a positive number of seconds, at most 86400");
        }
        req.timeout_s = d;
    }
    if (auto* t = o.if_contains("stream_timeout"); t && !t->is_null()) {
        auto d = as_double(*t);
        if (!d || !std::isfinite(*d) || *d <= 0 || *d > kMaxClientTimeoutS) {
            return bad_field("stream_timeout", "must be a positive number of seconds, at most 86400");
        }
        req.stream_timeout_s = d;
    }
    if (auto* mr = o.if_contains("mock_response"); mr && !mr->is_null()) {
        if (!mr->is_string()) {
            return bad_field("mock_response", "must be a string");
        }
        req.mock_response = std::string(mr->get_string());
    }
    if (auto* mt = o.if_contains("mock_timeout"); mt && mt->is_bool()) {
        req.mock_timeout = mt->get_bool();
    }
    if (auto* mr = o.if_contains("mock_testing_rate_limit_error"); mr && mr->is_bool()) {
        req.mock_testing_rate_limit_error = mr->get_bool();
    }
    for (auto name : kGatewayFields) {
        o.erase(name);
    }
    return req;
}

std::string build_upstream_body(LlmRequest& req,
                                std::string_view upstream_model,
                                const json::object& defaults) {
    // Edited in place and restored, so that another attempt (a different deployment) starts
    // from the client's body again; no deep copy of the messages.
    json::object& body = req.body;
    body["model"] = upstream_model;
    std::vector<std::string_view> added;
    for (const auto& kv : defaults) {
        if (!body.contains(kv.key())) {
            body[kv.key()] = kv.value();
            added.push_back(kv.key());
        }
    }
    std::string out = json::serialize(body);
    for (auto k : added) {
        body.erase(k);
    }
    body["model"] = req.model;
    return out;
}

}  // namespace sy::pipeline
