#include "sy/spend/cost.hpp"

#include <algorithm>

#include <boost/json.hpp>

namespace sy::spend {

namespace json = boost::json;

namespace {

constexpr std::int64_t kTieredThreshold = 200000;

Result<std::optional<ModelPrice>> overrides_from(std::string_view text, std::string_view what) {
    if (text.empty()) {
        return std::optional<ModelPrice>{};
    }
    boost::system::error_code ec;
    json::value v = json::parse(text, ec);
    if (ec || !v.is_object()) {
        return Error::make(Errc::kBadRequest, std::string(what) + ": expected a JSON object");
    }
    auto p = parse_model_price(v.get_object());
    if (!p) {
        return Error::make(Errc::kBadRequest, std::string(what) + "." + p.error().message);
    }
    if (!p->has_any_cost()) {
        return std::optional<ModelPrice>{};
    }
    return std::optional<ModelPrice>{std::move(p).value()};
}

}  // namespace

Result<PriceOverrides> PriceOverrides::from_json(std::string_view litellm_params_json,
                                                 std::string_view model_info_json) {
    PriceOverrides o;
    auto lp = overrides_from(litellm_params_json, "litellm_params");
    if (!lp) {
        return std::move(lp).error();
    }
    o.litellm_params = std::move(lp).value();
    auto mi = overrides_from(model_info_json, "model_info");
    if (!mi) {
        return std::move(mi).error();
    }
    o.model_info = std::move(mi).value();
    if (!model_info_json.empty()) {
        boost::system::error_code ec;
        json::value v = json::parse(model_info_json, ec);
        if (!ec && v.is_object()) {
            if (auto it = v.get_object().find("base_model");
                it != v.get_object().end() && it->value().is_string() &&
                !it->value().get_string().empty()) {
                o.base_model = std::string(it->value().get_string());
            }
        }
    }
    return o;
}

Result<PriceOverrides> PriceOverrides::from_deployment(std::optional<double> input_cost_per_token,
                                                       std::optional<double> output_cost_per_token,
                                                       std::string_view model_info_json) {
    json::object lp;
    if (input_cost_per_token) {
        lp["input_cost_per_token"] = *input_cost_per_token;
    }
    if (output_cost_per_token) {
        lp["output_cost_per_token"] = *output_cost_per_token;
    }
    return from_json(json::serialize(lp), model_info_json);
}

std::optional<ResolvedPrice> CostCalculator::resolve(std::string_view model,
                                                     const PriceOverrides& overrides,
                                                     std::string_view provider) const {
    using Source = ResolvedPrice::Source;
    if (overrides.litellm_params && overrides.litellm_params->has_any_cost()) {
        return ResolvedPrice{*overrides.litellm_params, Source::kLitellmParams};
    }
    if (overrides.model_info && overrides.model_info->has_any_cost()) {
        return ResolvedPrice{*overrides.model_info, Source::kModelInfo};
    }
    if (overrides.base_model) {
        if (const ModelPrice* p = table_->find(*overrides.base_model, provider)) {
            return ResolvedPrice{*p, Source::kBaseModel};
        }
    }
    if (const ModelPrice* p = table_->find(model, provider)) {
        return ResolvedPrice{*p, Source::kMap};
    }
    return std::nullopt;
}

double CostCalculator::cost(std::string_view model,
                            const PriceOverrides& overrides,
                            const Usage& usage,
                            std::string_view provider) const {
    auto r = resolve(model, overrides, provider);
    return r ? cost(r->price, usage) : 0.0;
}

double CostCalculator::cost(const ModelPrice& p, const Usage& raw) {
    const Usage u = raw.normalized();
    const bool tiered = u.prompt_tokens > kTieredThreshold;
    auto pick = [tiered](const std::optional<double>& above, const std::optional<double>& base) {
        return tiered && above ? above : base;
    };
    const double input =
        pick(p.input_cost_per_token_above_200k_tokens, p.input_cost_per_token).value_or(0.0);
    const double output =
        pick(p.output_cost_per_token_above_200k_tokens, p.output_cost_per_token).value_or(0.0);
    const double cache_read =
        pick(p.cache_read_input_token_cost_above_200k_tokens, p.cache_read_input_token_cost)
            .value_or(input);
    const double cache_write = pick(p.cache_creation_input_token_cost_above_200k_tokens,
                                    p.cache_creation_input_token_cost)
                                   .value_or(input);
    const double reasoning = p.output_cost_per_reasoning_token.value_or(output);

    const auto uncached = static_cast<double>(u.prompt_tokens - u.cached_tokens -
                                              u.cache_creation_tokens);
    double prompt_cost = 0.0;
    if (p.input_cost_per_second && u.duration_s > 0.0) {
        prompt_cost = *p.input_cost_per_second * u.duration_s;
    } else {
        prompt_cost = uncached * input + static_cast<double>(u.cached_tokens) * cache_read +
                      static_cast<double>(u.cache_creation_tokens) * cache_write;
    }
    double completion_cost = 0.0;
    if (p.output_cost_per_second && u.duration_s > 0.0) {
        completion_cost = *p.output_cost_per_second * u.duration_s;
    } else {
        completion_cost =
            static_cast<double>(u.completion_tokens - u.reasoning_tokens) * output +
            static_cast<double>(u.reasoning_tokens) * reasoning;
    }
    return prompt_cost + completion_cost;
}

double CostCalculator::worst_case_cost(const ModelPrice* p,
                                       std::int64_t prompt_estimate,
                                       std::optional<std::int64_t> max_tokens) {
    if (p == nullptr) {
        return 0.0;
    }
    const bool tiered = prompt_estimate > kTieredThreshold;
    const double in_price = (tiered && p->input_cost_per_token_above_200k_tokens
                                 ? p->input_cost_per_token_above_200k_tokens
                                 : p->input_cost_per_token)
                                .value_or(0.0);
    const double out_price = (tiered && p->output_cost_per_token_above_200k_tokens
                                  ? p->output_cost_per_token_above_200k_tokens
                                  : p->output_cost_per_token)
                                 .value_or(0.0);
    const double in = static_cast<double>(std::max<std::int64_t>(prompt_estimate, 0)) * in_price;
    if (p->mode == "embedding") {
        return in;
    }
    std::int64_t max_out = max_tokens && *max_tokens > 0
                               ? *max_tokens
                               : p->max_output_tokens.value_or(kDefaultMaxOutputTokens);
    const double reasoning_or_output =
        std::max(out_price, p->output_cost_per_reasoning_token.value_or(0.0));
    return in + static_cast<double>(max_out) * reasoning_or_output;
}

}  // namespace sy::spend
