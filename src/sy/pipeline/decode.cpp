#include "sy/pipeline/decode.hpp"

#include <algorithm>
#include <array>
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

// Upper bound for client-supplied timeouts (body `timeout`/`stream_timeout`).
constexpr double kMaxClientTimeoutS = 86400.0;

// What a JSON value is, from its first byte (the text is already validated).
enum class Kind { kString, kNumber, kObject, kArray, kBool, kNull };

Kind kind_of(std::string_view v) {
    switch (v.front()) {
        case '"':
            return Kind::kString;
        case '{':
            return Kind::kObject;
        case '[':
            return Kind::kArray;
        case 't':
        case 'f':
            return Kind::kBool;
        case 'n':
            return Kind::kNull;
        default:
            return Kind::kNumber;
    }
}

bool is_integer(std::string_view v) {
    return kind_of(v) == Kind::kNumber && v.find_first_of(".eE") == std::string_view::npos;
}

std::optional<double> number_of(std::string_view v) {
    if (kind_of(v) != Kind::kNumber) {
        return std::nullopt;
    }
    std::string tmp(v);
    char* end = nullptr;
    double d = std::strtod(tmp.c_str(), &end);
    if (end != tmp.c_str() + tmp.size()) {
        return std::nullopt;
    }
    return d;
}

bool is_gateway_field(std::string_view k) {
    for (auto f : kGatewayFields) {
        if (f == k) {
            return true;
        }
    }
    return false;
}

// Anthropic's Messages API has its own `metadata` (user_id): it is forwarded on that route.
bool is_gateway_field(std::string_view k, providers::Route route) {
    return is_gateway_field(k) && !(route == providers::Route::kMessages && k == "metadata");
}

bool is_rejected_field(std::string_view k) {
    for (auto f : kRejectedFields) {
        if (f == k) {
            return true;
        }
    }
    return false;
}

struct TypeRule {
    std::string_view name;
    enum { kBool, kNumber, kInteger, kObject, kArray, kString, kStringOrArray } want;
};

constexpr TypeRule kTypeRules[] = {
    {"stream", TypeRule::kBool},
    {"temperature", TypeRule::kNumber},
    {"top_p", TypeRule::kNumber},
    {"presence_penalty", TypeRule::kNumber},
    {"frequency_penalty", TypeRule::kNumber},
    {"max_tokens", TypeRule::kInteger},
    {"max_completion_tokens", TypeRule::kInteger},
    {"n", TypeRule::kInteger},
    {"seed", TypeRule::kInteger},
    {"stream_options", TypeRule::kObject},
    {"tools", TypeRule::kArray},
    {"logit_bias", TypeRule::kObject},
    {"response_format", TypeRule::kObject},
    {"user", TypeRule::kString},
    {"stop", TypeRule::kStringOrArray},
    {"metadata", TypeRule::kObject},
    {"parallel_tool_calls", TypeRule::kBool},
    {"logprobs", TypeRule::kBool},
};

std::optional<Error> check_type(std::string_view key, std::string_view v) {
    for (const auto& r : kTypeRules) {
        if (r.name != key) {
            continue;
        }
        Kind k = kind_of(v);
        if (k == Kind::kNull) {
            return std::nullopt;
        }
        switch (r.want) {
            case TypeRule::kBool:
                return k == Kind::kBool ? std::nullopt
                                        : std::optional(bad_field(key, "must be a boolean"));
            case TypeRule::kNumber:
                return k == Kind::kNumber ? std::nullopt
                                          : std::optional(bad_field(key, "must be a number"));
            case TypeRule::kInteger:
                return is_integer(v) ? std::nullopt
                                     : std::optional(bad_field(key, "must be an integer"));
            case TypeRule::kObject:
                return k == Kind::kObject ? std::nullopt
                                          : std::optional(bad_field(key, "must be an object"));
            case TypeRule::kArray:
                return k == Kind::kArray ? std::nullopt
                                         : std::optional(bad_field(key, "must be a list"));
            case TypeRule::kString:
                return k == Kind::kString ? std::nullopt
                                          : std::optional(bad_field(key, "must be a string"));
            case TypeRule::kStringOrArray:
                return k == Kind::kString || k == Kind::kArray
                           ? std::nullopt
                           : std::optional(bad_field(key, "must be a string or a list of strings"));
        }
    }
    return std::nullopt;
}

// `fallbacks`: a list of group names, or of {"model": <group>, "messages": [...]} objects.
std::optional<Error> read_fallbacks(std::string_view v, LlmRequest& req) {
    if (kind_of(v) == Kind::kNull) {
        return std::nullopt;
    }
    constexpr std::string_view kWant =
        "must be a list of model names or of {\"model\": ..., \"messages\": [...]} objects";
    if (kind_of(v) != Kind::kArray) {
        return bad_field("fallbacks", kWant);
    }
    std::vector<LlmRequest::Fallback> out;
    std::optional<Error> err;
    json_scan::for_each_element(v, [&](std::string_view item) {
        LlmRequest::Fallback f;
        if (kind_of(item) == Kind::kString) {
            f.model = json_scan::string_value(item);
        } else if (kind_of(item) == Kind::kObject) {
            auto model = json_scan::find_top_level(item, "model");
            if (!model || kind_of(item.substr(model->offset, model->length)) != Kind::kString) {
                err = bad_field("fallbacks", kWant);
                return false;
            }
            f.model = json_scan::string_value(item.substr(model->offset, model->length));
            if (auto msgs = json_scan::find_top_level(item, "messages")) {
                std::string_view mv = item.substr(msgs->offset, msgs->length);
                if (kind_of(mv) != Kind::kArray) {
                    err = bad_field("fallbacks", "a fallback's messages must be a list");
                    return false;
                }
                f.messages_json = std::string(mv);
            }
        } else {
            err = bad_field("fallbacks", kWant);
            return false;
        }
        if (f.model.empty() || out.size() >= 32) {
            err = bad_field("fallbacks", "needs non-empty model names, at most 32");
            return false;
        }
        out.push_back(std::move(f));
        return true;
    });
    if (err) {
        return err;
    }
    req.fallbacks = std::move(out);
    return std::nullopt;
}

}  // namespace

Result<LlmRequest> with_messages(const LlmRequest& req, std::string_view messages_json,
                                 std::string& storage) {
    if (req.messages_span.length == 0) {
        return Error::make(Errc::kBadRequest,
                           "fallbacks: messages can only be replaced on a chat request")
            .with_param("fallbacks");
    }
    storage.clear();
    storage.append(req.text.substr(0, req.messages_span.offset));
    storage.append(messages_json);
    storage.append(req.text.substr(req.messages_span.offset + req.messages_span.length));
    return decode_request(req.route, storage);
}

std::string_view route_label(providers::Route r) { return providers::route_path(r); }

json::object& LlmRequest::dom() {
    if (!dom_) {
        boost::system::error_code ec;
        json::parse_options opts;
        opts.max_depth = 64;
        json::value v = json::parse(text, ec, {}, opts);
        dom_.emplace(v.is_object() ? std::move(v.get_object()) : json::object());
        for (auto name : kGatewayFields) {
            if (is_gateway_field(name, route)) {
                dom_->erase(name);
            }
        }
    }
    return *dom_;
}

Result<LlmRequest> decode_request(providers::Route route, std::string_view text) {
    std::string why;
    if (!json_scan::is_valid(text, &why)) {
        return Error::make(Errc::kBadRequest, "Invalid JSON in request body: " + why);
    }
    LlmRequest req(route, text);
    req.members.reserve(16);
    std::optional<json_scan::Span> model, messages, prompt, input, stream_options, extra_body;
    std::optional<Error> err;
    std::array<std::string_view, 48> seen{};
    std::size_t n_seen = 0;
    bool object = json_scan::for_each_member(text, [&](const json_scan::Member& m) {
        std::string_view v = text.substr(m.value.offset, m.value.length);
        // Duplicate names of fields the gateway reads are ambiguous (which one wins differs
        // between parsers): refuse them rather than guess.
        bool known = m.key == "model" || m.key == "messages" || m.key == "prompt" ||
                     m.key == "input" || m.key == "stream" || m.key == "stream_options" ||
                     is_gateway_field(m.key) || is_rejected_field(m.key);
        if (known) {
            if (std::find(seen.begin(), seen.begin() + n_seen, m.key) != seen.begin() + n_seen) {
                err = bad_field(m.key, "appears more than once");
                return false;
            }
            if (n_seen < seen.size()) {
                seen[n_seen++] = m.key;
            }
        }
        if (is_rejected_field(m.key)) {
            err = Error::make(Errc::kBadRequest,
                              "Rejected client-side parameter: " + std::string(m.key))
                      .with_param(std::string(m.key));
            return false;
        }
        if (auto e = check_type(m.key, v)) {
            err = std::move(e);
            return false;
        }
        if (m.key == "model") {
            model = m.value;
        } else if (m.key == "messages") {
            messages = m.value;
            req.messages_span = m.value;
        } else if (m.key == "prompt") {
            prompt = m.value;
        } else if (m.key == "input") {
            input = m.value;
        } else if (m.key == "stream") {
            req.stream = v == "true";
        } else if (m.key == "stream_options") {
            stream_options = m.value;
        } else if (m.key == "extra_body") {
            extra_body = m.value;
        } else if (m.key == "user") {
            req.user_span = req.user_span ? req.user_span : m.value;
        } else if (m.key == "max_tokens") {
            req.max_tokens_span = req.max_tokens_span ? req.max_tokens_span : m.value;
        } else if (m.key == "max_completion_tokens") {
            req.max_completion_tokens_span =
                req.max_completion_tokens_span ? req.max_completion_tokens_span : m.value;
        } else if (m.key == "timeout" || m.key == "stream_timeout") {
            if (kind_of(v) != Kind::kNull) {
                auto d = number_of(v);
                if (!d || !std::isfinite(*d) || *d <= 0 || *d > kMaxClientTimeoutS) {
                    err = bad_field(m.key, "must be a positive number of seconds, at most 86400");
                    return false;
                }
                (m.key == "timeout" ? req.timeout_s : req.stream_timeout_s) = d;
            }
        } else if (m.key == "mock_response") {
            if (kind_of(v) == Kind::kString) {
                req.mock_response = json_scan::string_value(v);
            } else if (kind_of(v) != Kind::kNull) {
                err = bad_field("mock_response", "must be a string");
                return false;
            }
        } else if (m.key == "mock_timeout") {
            req.mock_timeout = v == "true";
        } else if (m.key == "mock_testing_rate_limit_error") {
            req.mock_testing_rate_limit_error = v == "true";
        } else if (m.key == "mock_testing_fallbacks") {
            req.mock_testing_fallbacks = v == "true";
        } else if (m.key == "mock_testing_context_fallbacks") {
            req.mock_testing_context_fallbacks = v == "true";
        } else if (m.key == "mock_testing_content_policy_fallbacks") {
            req.mock_testing_content_policy_fallbacks = v == "true";
        } else if (m.key == "disable_fallbacks") {
            req.disable_fallbacks = v == "true";
        } else if (m.key == "num_retries") {
            if (kind_of(v) != Kind::kNull) {
                auto n = number_of(v);
                if (!is_integer(v) || !n || *n < 0 || *n > 100) {
                    err = bad_field("num_retries", "must be an integer from 0 to 100");
                    return false;
                }
                req.num_retries = static_cast<int>(*n);
            }
        } else if (m.key == "fallbacks") {
            if (auto e = read_fallbacks(v, req)) {
                err = std::move(e);
                return false;
            }
        }
        req.members.push_back(
            {m.begin, m.value.offset + m.value.length, !is_gateway_field(m.key, route)});
        return true;
    });
    if (err) {
        return std::move(*err);
    }
    if (!object) {
        return Error::make(Errc::kBadRequest, "Request body must be a JSON object");
    }
    if (!model || kind_of(text.substr(model->offset, model->length)) == Kind::kNull) {
        return missing_field("model", route);
    }
    std::string_view model_v = text.substr(model->offset, model->length);
    if (kind_of(model_v) != Kind::kString || model_v.size() <= 2) {
        return bad_field("model", "must be a non-empty string");
    }
    req.model = json_scan::string_value(model_v);
    req.model_span = *model;
    if (extra_body && kind_of(text.substr(extra_body->offset, extra_body->length)) == Kind::kObject) {
        std::string_view eb = text.substr(extra_body->offset, extra_body->length);
        for (auto name : kRejectedFields) {
            if (json_scan::find_top_level(eb, name)) {
                return Error::make(Errc::kBadRequest,
                                   "Rejected client-side parameter: " + std::string(name))
                    .with_param("extra_body." + std::string(name));
            }
        }
    }
    auto value_of = [&](const std::optional<json_scan::Span>& s) {
        return s ? text.substr(s->offset, s->length) : std::string_view("null");
    };
    switch (route) {
        case providers::Route::kMessages:
        case providers::Route::kChat: {
            std::string_view m = value_of(messages);
            if (kind_of(m) == Kind::kNull) {
                return missing_field("messages", route);
            }
            if (kind_of(m) != Kind::kArray) {
                return bad_field("messages", "must be a non-empty list");
            }
            std::optional<Error> merr;
            std::size_t count = 0;
            json_scan::for_each_element(m, [&](std::string_view msg) {
                ++count;
                if (kind_of(msg) != Kind::kObject) {
                    merr = bad_field("messages", "every message must be an object");
                    return false;
                }
                auto role = json_scan::find_top_level(msg, "role");
                if (!role || msg[role->offset] != '"') {
                    merr = bad_field("messages", "every message needs a string 'role'");
                    return false;
                }
                return true;
            });
            if (merr) {
                return std::move(*merr);
            }
            if (count == 0) {
                return bad_field("messages", "must be a non-empty list");
            }
            if (route == providers::Route::kMessages) {
                auto mt = json_scan::find_top_level(text, "max_tokens");
                if (!mt || !is_integer(text.substr(mt->offset, mt->length))) {
                    return bad_field("max_tokens", "required, an integer");
                }
            }
            break;
        }
        case providers::Route::kCompletions: {
            std::string_view p = value_of(prompt);
            if (kind_of(p) == Kind::kNull) {
                return missing_field("prompt", route);
            }
            if (kind_of(p) != Kind::kString && kind_of(p) != Kind::kArray) {
                return bad_field("prompt", "must be a string or a list");
            }
            break;
        }
        case providers::Route::kEmbeddings: {
            std::string_view in = value_of(input);
            if (kind_of(in) == Kind::kNull) {
                return missing_field("input", route);
            }
            if (kind_of(in) != Kind::kString && kind_of(in) != Kind::kArray) {
                return bad_field("input", "must be a string or a list");
            }
            if (kind_of(in) == Kind::kArray) {
                bool any = false;
                json_scan::for_each_element(in, [&](std::string_view) {
                    any = true;
                    return false;
                });
                if (!any) {
                    return bad_field("input", "must not be empty");
                }
            }
            break;
        }
    }
    if (req.stream && route == providers::Route::kEmbeddings) {
        return bad_field("stream", "embeddings cannot be streamed");
    }
    if (stream_options) {
        auto iu = json_scan::find_top_level(value_of(stream_options), "include_usage");
        req.include_usage = iu && value_of(stream_options).substr(iu->offset, iu->length) == "true";
    }
    return req;
}

std::string build_upstream_body(LlmRequest& req,
                                std::string_view upstream_model,
                                const json::object& defaults,
                                const std::vector<std::string>* drop) {
    auto dropped = [drop](std::string_view key) {
        return drop && std::find(drop->begin(), drop->end(), key) != drop->end();
    };
    if (req.has_dom()) {
        // A translating path edited the DOM: serialise it (edited in place and restored, so
        // that another attempt starts from the same body).
        json::object& body = req.dom();
        body["model"] = upstream_model;
        std::vector<std::pair<std::string, json::value>> removed;
        if (drop) {
            for (const auto& k : *drop) {
                if (auto* v = body.if_contains(k); v && k != "model") {
                    removed.emplace_back(k, *v);
                    body.erase(k);
                }
            }
        }
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
        for (auto& [k, v] : removed) {
            body[k] = std::move(v);
        }
        body["model"] = req.model;
        return out;
    }
    // Pass-through: the client's members byte for byte, gateway-only ones left out, `model`'s
    // value replaced.
    std::string_view t = req.text;
    std::size_t model_begin = req.model_span.offset;
    std::size_t model_end = model_begin + req.model_span.length;
    std::string out;
    out.reserve(t.size() + upstream_model.size() + 64);
    out.push_back('{');
    bool first = true;
    for (const auto& p : req.members) {
        if (!p.keep) {
            continue;
        }
        if (drop) {
            std::string_view member = t.substr(p.begin, p.end - p.begin);
            std::string_view key = member.substr(1, member.find('"', 1) - 1);
            if (dropped(key) && !(model_begin >= p.begin && model_end <= p.end)) {
                continue;
            }
        }
        if (!first) {
            out.push_back(',');
        }
        first = false;
        if (model_begin >= p.begin && model_end <= p.end) {
            out.append(t.substr(p.begin, model_begin - p.begin));
            json_scan::append_json_string(out, upstream_model);
            out.append(t.substr(model_end, p.end - model_end));
        } else {
            out.append(t.substr(p.begin, p.end - p.begin));
        }
    }
    for (const auto& kv : defaults) {
        bool present = false;
        for (const auto& p : req.members) {
            std::string_view member = t.substr(p.begin, p.end - p.begin);
            if (member.size() > kv.key().size() + 1 && member[0] == '"' &&
                member.substr(1, kv.key().size()) == kv.key() && member[kv.key().size() + 1] == '"') {
                present = true;
                break;
            }
        }
        if (!present) {
            out.push_back(',');
            json_scan::append_json_string(out, kv.key());
            out.push_back(':');
            out += json::serialize(kv.value());
        }
    }
    out.push_back('}');
    return out;
}

}  // namespace sy::pipeline
