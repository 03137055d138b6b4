#pragma once
// Cost of one call in USD (auth-budgets-limits.md §8), and the worst-case reservation (§6.4).
//
// Thread safety: CostCalculator is immutable after construction; all methods are const and
// safe from any thread.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "sy/core/error.hpp"
#include "sy/spend/price_table.hpp"
#include "sy/spend/usage.hpp"

namespace sy::spend {

// Per-deployment price sources, as written in config.yaml. Each is a price record read with
// parse_model_price() from `litellm_params` / `model_info`; leave empty when the deployment sets
// no cost field there. `base_model` is `model_info.base_model` (Azure deployments name it).
struct PriceOverrides {
    std::optional<ModelPrice> litellm_params;
    std::optional<ModelPrice> model_info;
    std::optional<std::string> base_model;

    // Builds overrides from the JSON text of a deployment's litellm_params and model_info
    // objects ("{}" or "" when absent). Fields that are not prices are ignored. Errors as
    // parse_model_price().
    static Result<PriceOverrides> from_json(std::string_view litellm_params_json,
                                            std::string_view model_info_json);

    // From the typed fields config::Deployment keeps (input_cost_per_token,
    // output_cost_per_token from litellm_params; model_info_json as written).
    static Result<PriceOverrides> from_deployment(std::optional<double> input_cost_per_token,
                                                  std::optional<double> output_cost_per_token,
                                                  std::string_view model_info_json);
};

// The prices that apply to one deployment, and where they came from.
struct ResolvedPrice {
    ModelPrice price;
    enum class Source : std::uint8_t { kLitellmParams, kModelInfo, kBaseModel, kMap } source =
        Source::kMap;
};

// Default output allowance for a reservation when neither the request nor the map says
// (auth-budgets-limits.md §6.4).
inline constexpr std::int64_t kDefaultMaxOutputTokens = 4096;

class CostCalculator {
public:
    // `table` must outlive the calculator. Defaults to the bundled map.
    explicit CostCalculator(const PriceTable& table = PriceTable::bundled()) : table_(&table) {}

    // Price source for a deployment, first hit wins (§8): litellm_params prices -> model_info
    // prices -> map entry for base_model -> map entry for `model` (PriceTable::find, which
    // tries the provider-prefixed and bare names). A source counts only if it sets at least one
    // cost field, and it is taken as a whole (fields are not mixed across sources).
    // nullopt = unpriced: cost() returns 0 and the caller should WARN once per model.
    std::optional<ResolvedPrice> resolve(std::string_view model,
                                         const PriceOverrides& overrides = {},
                                         std::string_view provider = {}) const;

    // Cost in USD of `usage` on `model` (e.g. "openai/gpt-4o"); 0 when unpriced.
    double cost(std::string_view model,
                const PriceOverrides& overrides,
                const Usage& usage,
                std::string_view provider = {}) const;

    // The §8 formula on a known price:
    //   uncached = prompt - cached - cache_creation
    //   cost = uncached * input
    //        + cached * (cache_read_input_token_cost, else input)
    //        + cache_creation * (cache_creation_input_token_cost, else input)
    //        + (completion - reasoning) * output
    //        + reasoning * (output_cost_per_reasoning_token, else output)
    // With prompt_tokens > 200000, each *_above_200k_tokens price that exists replaces its base
    // price for the whole request. With per-second prices and usage.duration_s > 0, the
    // per-second price replaces the per-token price of that side (LiteLLM).
    static double cost(const ModelPrice& price, const Usage& usage);

    // Worst-case cost for a budget reservation (§6.4): prompt_estimate * input +
    // max_out * output, where max_out = max_tokens if given, else the price's max_output_tokens,
    // else kDefaultMaxOutputTokens; output at the dearer of the output and reasoning prices;
    // tier prices when prompt_estimate > 200k. Embeddings (mode "embedding"): the input part
    // only. 0 when unpriced.
    static double worst_case_cost(const ModelPrice* price,
                                  std::int64_t prompt_estimate,
                                  std::optional<std::int64_t> max_tokens);

private:
    const PriceTable* table_;
};

}  // namespace sy::spend
