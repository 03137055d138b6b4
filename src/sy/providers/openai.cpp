#include "sy/providers/openai.hpp"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>

#include "sy/core/ascii.hpp"
#include "sy/observability/log.hpp"
#include "sy/providers/gemini/translate.hpp"

namespace sy::providers {
namespace {

namespace json = boost::json;

std::string label_for(std::string_view provider) {
    static const std::pair<std::string_view, std::string_view> kLabels[] = {
        {"openai", "OpenAIException"},           {"azure", "AzureException"},
        {"groq", "GroqException"},               {"mistral", "MistralException"},
        {"deepseek", "DeepseekException"},       {"openrouter", "OpenrouterException"},
        {"together_ai", "Together_aiException"}, {"fireworks_ai", "Fireworks_aiException"},
        {"xai", "XaiException"},                 {"perplexity", "PerplexityException"},
        {"hosted_vllm", "Hosted_vllmException"}, {"anthropic", "AnthropicException"},
        {"gemini", "GeminiException"},       {"vertex_ai", "VertexAIException"},
    };
    for (const auto& [p, l] : kLabels) {
        if (p == provider) {
            return std::string(l);
        }
    }
    std::string s(provider);
    if (!s.empty()) {
        s[0] = ascii_upper(s[0]);
    }
    return s + "Exception";
}

bool contains_ci(std::string_view hay, std::string_view needle) {
    if (needle.size() > hay.size()) {
        return false;
    }
    for (std::size_t i = 0; i + needle.size() <= hay.size(); ++i) {
        bool eq = true;
        for (std::size_t j = 0; j < needle.size(); ++j) {
            if (ascii_lower(hay[i + j]) != ascii_lower(needle[j])) {
                eq = false;
                break;
            }
        }
        if (eq) {
            return true;
        }
    }
    return false;
}

struct UpstreamErrorBody {
    std::string message;
    std::string type;
    std::string code;
    std::optional<std::string> param;
};

std::string scalar_text(const json::value& v) {
    if (v.is_string()) {
        return std::string(v.get_string());
    }
    if (v.is_int64()) {
        return std::to_string(v.get_int64());
    }
    if (v.is_null()) {
        return {};
    }
    return json::serialize(v);
}

UpstreamErrorBody parse_error_body(std::string_view body) {
    UpstreamErrorBody out;
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) {
        out.message = std::string(body.substr(0, 500));
        return out;
    }
    const json::object& o = v.get_object();
    const json::value* err = o.if_contains("error");
    const json::object* eo = err && err->is_object() ? &err->get_object() : nullptr;
    if (eo) {
        if (auto* m = eo->if_contains("message")) {
            out.message = scalar_text(*m);
        }
        if (auto* t = eo->if_contains("type")) {
            out.type = scalar_text(*t);
        }
        if (auto* c = eo->if_contains("code")) {
            out.code = scalar_text(*c);
        }
        if (auto* p = eo->if_contains("param"); p && p->is_string()) {
            out.param = std::string(p->get_string());
        }
    } else if (err && err->is_string()) {
        out.message = std::string(err->get_string());
    } else if (auto* m = o.if_contains("message")) {
        out.message = scalar_text(*m);
    } else if (auto* d = o.if_contains("detail")) {
        out.message = scalar_text(*d);
    } else {
        out.message = std::string(body.substr(0, 500));
    }
    return out;
}

std::string suffix(const ErrorContext& ctx) {
    if (ctx.model_group.empty()) {
        return {};
    }
    return ". Received Model Group=" + std::string(ctx.model_group) +
           "\nAvailable Model Group Fallbacks=None";
}

}  // namespace

std::string_view route_path(Route r) {
    switch (r) {
        case Route::kChat:
            return "/chat/completions";
        case Route::kCompletions:
            return "/completions";
        case Route::kEmbeddings:
            return "/embeddings";
        case Route::kMessages:
            return "/v1/messages";
    }
    return "/chat/completions";
}

bool has_control_chars(std::string_view s) {
    for (char c : s) {
        auto u = static_cast<unsigned char>(c);
        if (u < 0x20 || u == 0x7f) {
            return true;
        }
    }
    return false;
}

static std::string_view trim_ws(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
        s.remove_prefix(1);
    }
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
        s.remove_suffix(1);
    }
    return s;
}

Result<Target> prepare_target(const config::Deployment& d) {
    auto where = [&d] { return "model_list entry " + d.model_name + " (" + d.id + "): "; };
    auto url = http::parse_url(d.api_base);
    if (!url) {
        return Error::make(Errc::kBadRequest, where() + url.error().message);
    }
    if (has_control_chars(d.api_base)) {
        return Error::make(Errc::kBadRequest, where() + "api_base contains control characters");
    }
    Target t;
    t.url = std::move(url).value();
    t.shape = d.provider == "anthropic" ? ApiShape::kAnthropic
              : d.provider == "azure"   ? ApiShape::kAzure
              : d.provider == "gemini"  ? ApiShape::kGemini
                                        : ApiShape::kOpenAI;
    if (t.shape == ApiShape::kGemini) {
        // generate_path() adds /v1beta/models/...; accept an api_base that already has it.
        std::string& p = t.url.base_path;
        for (std::string_view suffix : {"/v1beta", "/v1"}) {
            if (p.size() >= suffix.size() &&
                p.compare(p.size() - suffix.size(), suffix.size(), suffix) == 0) {
                p.resize(p.size() - suffix.size());
                break;
            }
        }
    }
    if (t.shape == ApiShape::kAzure) {
        t.api_version = d.api_version.value_or("2024-10-21");
        if (has_control_chars(t.api_version) || t.api_version.find_first_of("&# ") != std::string::npos) {
            return Error::make(Errc::kBadRequest, where() + "api_version has invalid characters");
        }
        // api_base is the resource (https://<name>.openai.azure.com); a trailing /openai is
        // tolerated.
        std::string& p = t.url.base_path;
        if (p.size() >= 7 && p.compare(p.size() - 7, 7, "/openai") == 0) {
            p.resize(p.size() - 7);
        }
    }
    if (t.shape == ApiShape::kAnthropic) {
        // api_base may be given as https://host, https://host/v1 or the full messages URL.
        std::string& p = t.url.base_path;
        if (p.size() >= 12 && p.compare(p.size() - 12, 12, "/v1/messages") == 0) {
            p.resize(p.size() - 12);
        } else if (p.size() >= 3 && p.compare(p.size() - 3, 3, "/v1") == 0) {
            p.resize(p.size() - 3);
        }
    }
    if (d.api_key && !d.api_key->empty()) {
        // A key read from a file or secret often ends with a newline: trim it. Anything else
        // that could break the request head is refused (never echoed: it is a secret).
        std::string_view key = trim_ws(d.api_key->value);
        if (has_control_chars(key)) {
            return Error::make(Errc::kBadRequest, where() + "api_key contains control characters");
        }
        if (t.shape == ApiShape::kAnthropic) {
            t.headers.push_back({"x-api-key", std::string(key)});
        } else if (t.shape == ApiShape::kAzure) {
            t.headers.push_back({"api-key", std::string(key)});
        } else if (t.shape == ApiShape::kGemini) {
            // Never in the URL (README D20: `?key=` would end up in logs and proxies).
            t.headers.push_back({"x-goog-api-key", std::string(key)});
        } else {
            t.headers.push_back({"Authorization", "Bearer " + std::string(key)});
        }
    }
    if (t.shape == ApiShape::kAnthropic) {
        std::string version(kAnthropicVersion);
        if (d.api_version && !has_control_chars(*d.api_version)) {
            version = *d.api_version;
        }
        t.headers.push_back({"anthropic-version", version});
    }
    if (d.organization) {
        if (has_control_chars(*d.organization)) {
            return Error::make(Errc::kBadRequest,
                               where() + "organization contains control characters");
        }
        t.headers.push_back({"OpenAI-Organization", *d.organization});
    }
    for (const auto& [k, v] : d.extra_headers) {
        if (k.empty() || has_control_chars(k) || k.find(':') != std::string::npos ||
            k.find(' ') != std::string::npos || has_control_chars(v)) {
            return Error::make(Errc::kBadRequest,
                               where() + "extra_headers has an invalid header name or value");
        }
        t.headers.push_back({k, v});
    }
    t.exception_label = label_for(d.provider);
    return t;
}

http::UpstreamRequest build_request(const Target& t,
                                    Route r,
                                    std::string body,
                                    std::string_view upstream_model,
                                    bool stream) {
    http::UpstreamRequest req;
    req.origin = t.url.origin;
    req.target = t.url.base_path;
    std::string query = t.url.query;
    switch (t.shape) {
        case ApiShape::kAnthropic:
            req.target += "/v1/messages";
            break;
        case ApiShape::kAzure:
            req.target += "/openai/deployments/";
            for (char c : upstream_model) {  // a path segment: escape what is not unreserved
                if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ||
                    c == '.' || c == '~') {
                    req.target += c;
                } else {
                    char buf[4];
                    std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
                    req.target += buf;
                }
            }
            req.target += route_path(r);
            query = "api-version=" + t.api_version + (query.empty() ? "" : "&" + query);
            break;
        case ApiShape::kGemini: {
            std::string path = gemini::generate_path(upstream_model, stream);
            auto q = path.find('?');
            req.target += path.substr(0, q);
            if (q != std::string::npos) {
                query = path.substr(q + 1) + (query.empty() ? "" : "&" + query);
            }
            break;
        }
        case ApiShape::kOpenAI:
            req.target += route_path(r);
            break;
    }
    if (!query.empty()) {
        req.target += '?';
        req.target += query;
    }
    req.static_headers = &t.headers;
    req.body = std::move(body);
    return req;
}

Error map_upstream_error(int status,
                         const std::vector<Header>& headers,
                         std::string_view body,
                         const ErrorContext& ctx) {
    UpstreamErrorBody eb = parse_error_body(body);
    std::string provider_msg = obs::scrub(eb.message);
    if (provider_msg.size() > 2000) {
        provider_msg.resize(2000);
    }
    while (!provider_msg.empty() && (provider_msg.back() == '.' || provider_msg.back() == ' ')) {
        provider_msg.pop_back();  // the suffix adds its own ". "
    }
    std::string cls;
    Errc code = Errc::kUpstreamStatus;
    int out_status = status;
    std::string type = eb.type;
    if (status == 400 || status == 413) {
        if (eb.code == "context_length_exceeded" || contains_ci(eb.message, "maximum context length") ||
            contains_ci(eb.message, "context window") || contains_ci(eb.message, "context length") ||
            contains_ci(eb.message, "prompt is too long")) {
            cls = "ContextWindowExceededError";
            code = Errc::kContextWindow;
            out_status = 400;
        } else if (eb.code == "content_policy_violation" || eb.code == "content_filter" ||
                   contains_ci(eb.message, "content management policy")) {
            cls = "ContentPolicyViolationError";
            code = Errc::kContentPolicy;
            out_status = 400;
        } else {
            cls = "BadRequestError";
        }
        if (type.empty()) {
            type = "invalid_request_error";
        }
    } else if (status == 401) {
        cls = "AuthenticationError";
        type = "authentication_error";
    } else if (status == 403) {
        cls = "PermissionDeniedError";
        type = "permission_error";
    } else if (status == 404) {
        cls = "NotFoundError";
        type = "not_found_error";
    } else if (status == 408) {
        cls = "Timeout";
        code = Errc::kTimeout;
        type = "timeout_error";
    } else if (status == 422) {
        cls = "UnprocessableEntityError";
        if (type.empty()) {
            type = "unprocessable_entity_error";
        }
    } else if (status == 429) {
        cls = "RateLimitError";
        code = Errc::kRateLimited;
        type = "rate_limit_error";
    } else if (status == 502 || status == 503 || status == 504 || status == 529) {
        cls = "ServiceUnavailableError";
        out_status = 503;
        type = "service_unavailable";
    } else if (status >= 500 || status < 400) {
        // 5xx, and statuses an API call should never end with (1xx, 3xx).
        cls = "InternalServerError";
        out_status = 500;
        type = "api_error";
        if (status < 400) {
            provider_msg = "unexpected upstream status " + std::to_string(status);
        }
    } else {
        cls = "BadRequestError";
        if (type.empty()) {
            type = "invalid_request_error";
        }
    }
    Error e = Error::make(code, "litellm." + cls + ": " + std::string(ctx.exception_label) + " - " +
                                    provider_msg + suffix(ctx));
    e.status = out_status;
    e.type = std::move(type);
    e.param = eb.param;
    for (const auto& h : headers) {
        if (h.name == "retry-after" || (status == 429 && h.name == "retry-after-ms")) {
            e.headers.push_back({h.name, h.value});
        }
    }
    return e;
}

Error map_transport_error(const Error& e, const ErrorContext& ctx, double timeout_s) {
    if (e.code == Errc::kTimeout) {
        Error out = Error::make(Errc::kTimeout, "litellm.Timeout: " + std::string(ctx.exception_label) +
                                                    " - " + e.message + " after " +
                                                    python_float(timeout_s) + " seconds" + suffix(ctx));
        out.headers.push_back({"x-litellm-timeout", python_float(timeout_s)});
        return out;
    }
    Error out = Error::make(e.code == Errc::kUpstreamProtocol ? Errc::kUpstreamProtocol
                                                              : Errc::kUpstreamConnection,
                            (e.code == Errc::kUpstreamProtocol ? "litellm.InternalServerError: "
                                                               : "litellm.APIConnectionError: ") +
                                std::string(ctx.exception_label) + " - " + e.message + suffix(ctx));
    return out;
}

Error map_stream_error_event(std::string_view js, const ErrorContext& ctx) {
    UpstreamErrorBody eb = parse_error_body(js);
    int status = 500;
    if (auto n = std::atoi(eb.code.c_str()); n >= 400 && n < 600) {
        status = n;
    } else if (eb.type == "rate_limit_error" || eb.code == "rate_limit_exceeded") {
        status = 429;
    } else if (eb.code == "context_length_exceeded" || eb.type == "invalid_request_error") {
        status = 400;
    }
    return map_upstream_error(status, {}, js, ctx);
}

bool forwardable_provider_header(std::string_view name) {
    static constexpr std::string_view kAllowed[] = {
        "x-request-id",
        "request-id",
        "openai-processing-ms",
        "openai-version",
        "x-ratelimit-limit-requests",
        "x-ratelimit-limit-tokens",
        "x-ratelimit-remaining-requests",
        "x-ratelimit-remaining-tokens",
        "x-ratelimit-reset-requests",
        "x-ratelimit-reset-tokens",
        "retry-after",
        "retry-after-ms",
        "apim-request-id",
        "x-ms-region",
    };
    for (auto a : kAllowed) {
        if (ascii_iequals(a, name)) {  // sizes first: most names fail there
            return true;
        }
    }
    constexpr std::string_view kAnthropic = "anthropic-ratelimit-";
    return name.size() >= kAnthropic.size() &&
           ascii_iequals(name.substr(0, kAnthropic.size()), kAnthropic);
}

std::string python_float(double v) {
    if (std::isfinite(v) && v == std::floor(v) && std::fabs(v) < 1e16) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.1f", v);
        return buf;
    }
    char buf[64];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    return std::string(buf, p);
}

}  // namespace sy::providers
