#pragma once
// The model price map: USD per token (and per second) for each known model, in LiteLLM's
// `model_prices_and_context_window.json` field names. The bundled map (data/model_prices.json)
// is compiled into the binary and never fetched (README D16).
//
// Thread safety: a PriceTable is immutable after construction; bundled() is safe to call from
// any thread (built once, on first use).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/fwd.hpp>

#include "sy/core/error.hpp"

namespace sy::spend {

// Prices for one model. Every field is optional: absent means "this model has no such price",
// which the cost formula treats as documented in cost.hpp (e.g. cache reads fall back to the
// input price).
struct ModelPrice {
    std::optional<double> input_cost_per_token;
    std::optional<double> output_cost_per_token;
    std::optional<double> cache_read_input_token_cost;
    std::optional<double> cache_creation_input_token_cost;
    std::optional<double> output_cost_per_reasoning_token;
    std::optional<double> input_cost_per_token_above_200k_tokens;
    std::optional<double> output_cost_per_token_above_200k_tokens;
    std::optional<double> cache_read_input_token_cost_above_200k_tokens;
    std::optional<double> cache_creation_input_token_cost_above_200k_tokens;
    std::optional<double> input_cost_per_second;
    std::optional<double> output_cost_per_second;

    std::string litellm_provider;  // informational ("openai", "anthropic", ...)
    std::string mode;              // "chat", "embedding", "completion", ... ("" = unknown)
    std::optional<std::int64_t> max_input_tokens;
    std::optional<std::int64_t> max_output_tokens;

    // True when at least one cost field is set (a record with only max_tokens is not a price).
    bool has_any_cost() const;
};

// Reads the cost fields (and mode/max_*_tokens) of one JSON object, such as a map entry, a
// deployment's `model_info` or its `litellm_params`. Unknown keys are ignored. Numbers may be
// given as JSON numbers or numeric strings ("1e-6"), as LiteLLM configs do.
// Errors (kBadRequest, message names the field): a cost that is negative, not finite, not a
// number, or >= 1 USD per token (auth-budgets-limits.md §12: a price typo must not become a
// budget-exceeded outage).
Result<ModelPrice> parse_model_price(const boost::json::object& obj);

class PriceTable {
public:
    PriceTable() = default;

    // Parses a LiteLLM-format map: {"<model>": {<fields>}, ...}. Keys starting with '_' and the
    // LiteLLM `sample_spec` entry are skipped. Keys are matched case-insensitively.
    static Result<PriceTable> parse(std::string_view json_text);

    // The map bundled into the binary. Parsed once; a malformed bundled file is a build bug and
    // aborts (the unit tests parse it).
    static const PriceTable& bundled();

    // LiteLLM-style lookup of a deployment model string. Tried in order, first hit wins:
    //   1. `model` as given (e.g. "groq/llama-3.1-8b-instant", "gpt-4o");
    //   2. "<provider>/<model>" when `provider` is given and `model` has no such prefix;
    //   3. `model` without its first "<prefix>/" segment ("openai/gpt-4o" -> "gpt-4o",
    //      "azure/gpt-4o" -> "gpt-4o", "groq/meta-llama/x" -> "meta-llama/x");
    //   4. each of the above with a trailing version stripped: "-YYYY-MM-DD", "-YYYYMMDD",
    //      "@YYYYMMDD", "-latest", "-NNN"/"-NNNN" ("gpt-4o-2099-01-01" -> "gpt-4o").
    // Exact entries always win over stripped ones, so "gpt-3.5-turbo-0301" keeps its own price.
    // Returns nullptr when nothing matches.
    const ModelPrice* find(std::string_view model, std::string_view provider = {}) const;

    std::size_t size() const { return entries_.size(); }

private:
    const ModelPrice* find_exact(std::string_view key) const;
    std::map<std::string, ModelPrice, std::less<>> entries_;
};

}  // namespace sy::spend
