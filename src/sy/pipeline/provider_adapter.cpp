#include "sy/pipeline/provider_adapter.hpp"

#include <cstdlib>

#include "sy/core/json_scan.hpp"
#include "sy/observability/log.hpp"
#include "sy/pipeline/completions_adapter.hpp"
#include "sy/providers/anthropic/translate.hpp"
#include "sy/providers/gemini/translate.hpp"

#include <algorithm>
#include <cmath>

namespace sy::pipeline {
namespace {

using providers::ApiShape;
using providers::Route;

int anthropic_default_max_tokens() {
    static const int value = [] {
        const char* v = std::getenv("DEFAULT_ANTHROPIC_CHAT_MAX_TOKENS");
        int n = v ? std::atoi(v) : 0;
        return n > 0 ? n : providers::anthropic::kDefaultMaxTokens;
    }();
    return value;
}

}  // namespace

Result<UpstreamPlan> plan_upstream(const routing::DeploymentRuntime& d,
                                   const config::Settings& settings,
                                   LlmRequest& req,
                                   std::string_view upstream_model) {
    UpstreamPlan plan;
    plan.route = req.route;
    const config::Deployment& cfg = *d.cfg;
    ApiShape shape = d.target->shape;
    if (req.route == Route::kMessages) {
        // Anthropic format in (api.md §5): native to Anthropic deployments, translated to
        // OpenAI-format ones (providers.md §2).
        plan.route = Route::kChat;
        if (shape == ApiShape::kAnthropic) {
            plan.body = build_upstream_body(req, upstream_model, {});
            return plan;
        }
        auto translated = providers::anthropic::anthropic_to_openai_request(req.dom(), upstream_model);
        if (!translated) {
            return std::move(translated).error();
        }
        plan.body = std::move(translated).value();
        return plan;
    }
    bool translated = shape == ApiShape::kAnthropic || shape == ApiShape::kGemini;
    if (req.route == Route::kEmbeddings && translated) {
        return Error::make(Errc::kBadRequest,
                           "litellm.BadRequestError: " + cfg.provider +
                               " does not support embeddings through this gateway yet (model "
                               "group " + cfg.model_name + ")");
    }
    if (req.route == Route::kCompletions &&
        (translated || !is_text_completion_model(cfg, upstream_model))) {
        auto st = completion_body_to_chat(req.dom());
        if (!st) {
            return std::move(st).error();
        }
        plan.route = Route::kChat;
        plan.completion_from_chat = true;
    }
    if (shape == ApiShape::kAnthropic) {
        providers::anthropic::RequestOptions opts;
        opts.upstream_model = std::string(upstream_model);
        opts.default_max_tokens = anthropic_default_max_tokens();
        opts.drop_params = cfg.drop_params.value_or(settings.litellm.drop_params);
        opts.additional_drop_params = cfg.additional_drop_params;
        opts.modify_params = settings.litellm.modify_params;
        // Deployment defaults (temperature, max_tokens, ...) apply before translation.
        boost::json::object& body = req.dom();
        for (const auto& kv : d.defaults) {
            if (!body.contains(kv.key())) {
                body[kv.key()] = kv.value();
            }
        }
        auto translated = providers::anthropic::openai_to_anthropic_request(body, opts);
        if (!translated) {
            return std::move(translated).error();
        }
        plan.body = std::move(translated).value();
        return plan;
    }
    if (shape == ApiShape::kGemini) {
        providers::gemini::RequestOptions opts;
        opts.upstream_model = std::string(upstream_model);
        opts.drop_params = cfg.drop_params.value_or(settings.litellm.drop_params);
        opts.additional_drop_params = cfg.additional_drop_params;
        boost::json::object& body = req.dom();
        for (const auto& kv : d.defaults) {
            if (!body.contains(kv.key())) {
                body[kv.key()] = kv.value();
            }
        }
        auto gemini_body = providers::gemini::openai_to_gemini_request(body, opts);
        if (!gemini_body) {
            return std::move(gemini_body).error();
        }
        plan.body = std::move(gemini_body).value();
        return plan;
    }
    plan.body = build_upstream_body(req, upstream_model, d.defaults,
                                    cfg.additional_drop_params.empty() ? nullptr
                                                                       : &cfg.additional_drop_params);
    // Streams are billed from the final usage chunk (issue 6): ask for it even when the client
    // did not (and did not send stream_options at all); the transform strips it again.
    if (req.stream && !req.include_usage && req.route != Route::kEmbeddings &&
        !json_scan::find_top_level(req.text, "stream_options") && plan.body.size() > 2 &&
        plan.body.front() == '{') {
        plan.body.insert(1, "\"stream_options\":{\"include_usage\":true},");
        plan.usage_added = true;
    }
    return plan;
}

bool response_is_passthrough(ApiShape shape, const UpstreamPlan& plan, const LlmRequest& req) {
    return req.route != Route::kMessages && shape != ApiShape::kAnthropic &&
           shape != ApiShape::kGemini && !plan.completion_from_chat;
}

Result<std::string> convert_response(ApiShape shape,
                                     const UpstreamPlan& plan,
                                     const LlmRequest& req,
                                     std::string_view upstream_body) {
    if (req.route == Route::kMessages) {
        if (shape == ApiShape::kAnthropic) {
            return json_scan::replace_top_level_string(upstream_body, "model", req.model);
        }
        return providers::anthropic::openai_to_anthropic_response(upstream_body, req.model);
    }
    std::string chat;
    if (shape == ApiShape::kAnthropic || shape == ApiShape::kGemini) {
        auto r = shape == ApiShape::kAnthropic
                     ? providers::anthropic::anthropic_to_openai_response(upstream_body, req.model)
                     : providers::gemini::gemini_to_openai_response(upstream_body, req.model);
        if (!r) {
            return std::move(r).error();
        }
        chat = std::move(r).value();
        if (!plan.completion_from_chat) {
            return chat;
        }
        return chat_response_to_completion(chat, req.model);
    }
    if (plan.completion_from_chat) {
        return chat_response_to_completion(upstream_body, req.model);
    }
    return json_scan::replace_top_level_string(upstream_body, "model", req.model);
}

StreamTransformPtr make_stream_transform(ApiShape shape,
                                         const UpstreamPlan& plan,
                                         const LlmRequest& req,
                                         const providers::ErrorContext& err_ctx) {
    if (req.route == Route::kMessages) {
        return shape == ApiShape::kAnthropic ? make_anthropic_passthrough(req.model, err_ctx)
                                             : make_openai_to_anthropic(req.model, err_ctx);
    }
    if (shape == ApiShape::kGemini) {
        return make_gemini_to_openai(req.model, req.include_usage, plan.completion_from_chat,
                                     err_ctx);
    }
    if (shape == ApiShape::kAnthropic) {
        return make_anthropic_to_openai(req.model, req.include_usage, plan.completion_from_chat,
                                        err_ctx);
    }
    return plan.completion_from_chat
               ? make_chat_to_completion(req.model, err_ctx, plan.usage_added)
               : make_openai_passthrough(req.model, err_ctx, plan.usage_added);
}

Error map_upstream_error(ApiShape shape,
                         int status,
                         const std::vector<Header>& headers,
                         std::string_view body,
                         const providers::ErrorContext& err_ctx) {
    if (shape != ApiShape::kAnthropic && shape != ApiShape::kGemini) {
        return providers::map_upstream_error(status, headers, body, err_ctx);
    }
    Error e = shape == ApiShape::kAnthropic ? providers::anthropic::map_anthropic_error(status, body)
                                            : providers::gemini::map_gemini_error(status, body);
    if (shape == ApiShape::kGemini) {
        // Gemini puts the wait in the body (google.rpc.RetryInfo), not in a header.
        if (auto delay = providers::gemini::retry_delay_seconds(body)) {
            e.headers.push_back({"retry-after", std::to_string(static_cast<long long>(
                                                    std::ceil(std::max(*delay, 1.0))))});
        }
    }
    e.message = obs::scrub(e.message);
    if (!err_ctx.model_group.empty()) {
        e.message += ". Received Model Group=" + std::string(err_ctx.model_group) +
                     "\nAvailable Model Group Fallbacks=None";
    }
    for (const auto& h : headers) {
        if (h.name == "retry-after") {
            e.headers.push_back({h.name, h.value});
        }
    }
    return e;
}

}  // namespace sy::pipeline
