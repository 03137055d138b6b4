#include "sy/spend/cost.hpp"  // self-contained header check

#include <gtest/gtest.h>

namespace sy::spend {
namespace {

Usage usage(std::int64_t prompt, std::int64_t completion) {
    Usage u;
    u.prompt_tokens = prompt;
    u.completion_tokens = completion;
    return u;
}

TEST(Cost, ReferenceCheckValues) {
    CostCalculator calc;
    // auth-budgets-limits.md §8.1 check values.
    EXPECT_DOUBLE_EQ(calc.cost("gpt-4o-mini", {}, usage(1000, 500)), 0.00045);
    EXPECT_DOUBLE_EQ(calc.cost("openai/gpt-4o-mini", {}, usage(1000, 500)), 0.00045);
    EXPECT_DOUBLE_EQ(calc.cost("gpt-3.5-turbo-0301", {}, usage(1000, 1000)), 0.0035);
    // §8 check value: custom price 0.001/token in and out, 1000 + 1000 tokens -> 2.0.
    PriceOverrides o;
    o.litellm_params = ModelPrice{};
    o.litellm_params->input_cost_per_token = 0.001;
    o.litellm_params->output_cost_per_token = 0.001;
    EXPECT_DOUBLE_EQ(calc.cost("my-local-model", o, usage(1000, 1000)), 2.0);
    EXPECT_DOUBLE_EQ(calc.cost("gpt-4o", o, usage(1000, 1000)), 2.0);  // overrides beat the map
}

TEST(Cost, UnpricedModelCostsZero) {
    CostCalculator calc;
    EXPECT_FALSE(calc.resolve("ollama/llama3").has_value());
    EXPECT_EQ(calc.cost("ollama/llama3", {}, usage(1000, 1000)), 0.0);
}

TEST(Cost, OpenAICachedPromptTokens) {
    // gpt-4o: 2.5e-6 in, 1e-5 out, 1.25e-6 cache read.
    Usage u = usage(2000, 100);
    u.cached_tokens = 1500;
    double expected = 500 * 2.5e-6 + 1500 * 1.25e-6 + 100 * 1e-5;
    EXPECT_DOUBLE_EQ(CostCalculator().cost("gpt-4o", {}, u), expected);
    // No cache price: cached tokens at the input price.
    EXPECT_DOUBLE_EQ(CostCalculator().cost("gpt-4", {}, u), 2000 * 3e-5 + 100 * 6e-5);
}

TEST(Cost, AnthropicCacheReadAndWrite) {
    // Raw Anthropic usage: input 100, cache write 1000, cache read 5000, output 200
    // (LiteLLM #11364 billed reads as input).
    auto u = usage_from_json_text(
        R"({"input_tokens":100,"cache_creation_input_tokens":1000,"cache_read_input_tokens":5000,"output_tokens":200})");
    ASSERT_TRUE(u);
    double expected = 100 * 3e-6 + 1000 * 3.75e-6 + 5000 * 3e-7 + 200 * 1.5e-5;
    EXPECT_DOUBLE_EQ(CostCalculator().cost("anthropic/claude-3-7-sonnet-20250219", {}, *u),
                     expected);
    // The same call after our OpenAI translation costs the same.
    auto t = usage_from_json_text(
        R"({"prompt_tokens":6100,"completion_tokens":200,"total_tokens":6300,"prompt_tokens_details":{"cached_tokens":5000},"cache_creation_input_tokens":1000,"cache_read_input_tokens":5000})");
    ASSERT_TRUE(t);
    EXPECT_DOUBLE_EQ(CostCalculator().cost("claude-3-7-sonnet-20250219", {}, *t), expected);
}

TEST(Cost, ReasoningTokensUseTheirPriceOnceOnly) {
    ModelPrice p;
    p.input_cost_per_token = 1e-6;
    p.output_cost_per_token = 4e-6;
    Usage u = usage(100, 1000);
    u.reasoning_tokens = 600;
    EXPECT_DOUBLE_EQ(CostCalculator::cost(p, u), 100 * 1e-6 + 1000 * 4e-6);  // no double count
    p.output_cost_per_reasoning_token = 2e-6;
    EXPECT_DOUBLE_EQ(CostCalculator::cost(p, u), 100 * 1e-6 + 400 * 4e-6 + 600 * 2e-6);
}

TEST(Cost, Above200kTokensAppliesToTheWholeRequest) {
    CostCalculator calc;
    EXPECT_DOUBLE_EQ(calc.cost("claude-sonnet-4-5-20250929", {}, usage(200000, 1000)),
                     200000 * 3e-6 + 1000 * 1.5e-5);
    EXPECT_DOUBLE_EQ(calc.cost("claude-sonnet-4-5-20250929", {}, usage(200001, 1000)),
                     200001 * 6e-6 + 1000 * 2.25e-5);
    // Cache reads above the threshold use their own tier price.
    Usage u = usage(300000, 0);
    u.cached_tokens = 100000;
    EXPECT_DOUBLE_EQ(calc.cost("claude-sonnet-4-5", {}, u), 200000 * 6e-6 + 100000 * 6e-7);
    // Models without tier prices keep their base price.
    EXPECT_DOUBLE_EQ(calc.cost("gpt-4.1", {}, usage(300000, 0)), 300000 * 2e-6);
}

TEST(Cost, Embeddings) {
    EXPECT_DOUBLE_EQ(CostCalculator().cost("text-embedding-3-small", {}, usage(1000, 0)), 2e-05);
    auto u = usage_from_json_text(R"({"usage":{"prompt_tokens":1000,"total_tokens":1000}})");
    ASSERT_TRUE(u);
    EXPECT_DOUBLE_EQ(CostCalculator().cost("openai/text-embedding-3-large", {}, *u), 1.3e-04);
}

TEST(Cost, PerSecondPrices) {
    ModelPrice p;
    p.input_cost_per_second = 0.0001;
    p.output_cost_per_token = 1e-6;
    Usage u = usage(1000, 10);
    u.duration_s = 2.5;
    EXPECT_DOUBLE_EQ(CostCalculator::cost(p, u), 0.00025 + 10 * 1e-6);
    u.duration_s = 0;  // duration unknown: per-token input price (absent here) applies
    EXPECT_DOUBLE_EQ(CostCalculator::cost(p, u), 10 * 1e-6);
}

TEST(Cost, PriceSourceOrder) {
    CostCalculator calc;
    auto o = PriceOverrides::from_json(R"({"model":"azure/my-deploy","api_key":"x"})",
                                       R"({"base_model":"azure/gpt-4o-mini","id":"abc"})");
    ASSERT_TRUE(o) << o.error().message;
    EXPECT_FALSE(o->litellm_params.has_value());  // no cost field there
    EXPECT_FALSE(o->model_info.has_value());
    auto r = calc.resolve("azure/my-deploy", *o, "azure");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->source, ResolvedPrice::Source::kBaseModel);
    EXPECT_DOUBLE_EQ(calc.cost("azure/my-deploy", *o, usage(1000, 500)), 0.00045);

    // model_info prices beat base_model; litellm_params prices beat model_info.
    o = PriceOverrides::from_json(R"({"model":"x"})",
                                  R"({"base_model":"gpt-4o","input_cost_per_token":1e-6})");
    ASSERT_TRUE(o);
    r = calc.resolve("x", *o);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->source, ResolvedPrice::Source::kModelInfo);
    EXPECT_DOUBLE_EQ(calc.cost("x", *o, usage(1000, 1000)), 1e-3);  // taken whole: no output price

    o = PriceOverrides::from_json(R"({"input_cost_per_token":"2e-6","output_cost_per_token":0})",
                                  R"({"input_cost_per_token":1e-6})");
    ASSERT_TRUE(o);
    EXPECT_EQ(calc.resolve("x", *o)->source, ResolvedPrice::Source::kLitellmParams);
    EXPECT_DOUBLE_EQ(calc.cost("x", *o, usage(1000, 1000)), 2e-3);

    EXPECT_FALSE(PriceOverrides::from_json(R"({"input_cost_per_token":-1})", "{}"));
    EXPECT_FALSE(PriceOverrides::from_json("{}", R"({"output_cost_per_token":5})"));
    EXPECT_FALSE(PriceOverrides::from_json("[", "{}"));
    EXPECT_TRUE(PriceOverrides::from_json("", ""));

    auto d = PriceOverrides::from_deployment(0.001, 0.001, R"({"base_model":"gpt-4o"})");
    ASSERT_TRUE(d);
    EXPECT_DOUBLE_EQ(calc.cost("openai/whatever", *d, usage(1000, 1000)), 2.0);
    d = PriceOverrides::from_deployment(std::nullopt, std::nullopt, R"({"base_model":"gpt-4o"})");
    ASSERT_TRUE(d);
    EXPECT_EQ(calc.resolve("openai/whatever", *d)->source, ResolvedPrice::Source::kBaseModel);
    EXPECT_FALSE(PriceOverrides::from_deployment(-1.0, std::nullopt, "{}"));
}

TEST(Cost, WorstCaseReservation) {
    const PriceTable& t = PriceTable::bundled();
    // §6.4: prompt_estimate x input + max_out x output.
    EXPECT_DOUBLE_EQ(CostCalculator::worst_case_cost(t.find("gpt-4o-mini"), 1000, 500),
                     1000 * 1.5e-7 + 500 * 6e-7);
    // No max_tokens: the model's max_output_tokens.
    EXPECT_DOUBLE_EQ(CostCalculator::worst_case_cost(t.find("gpt-4o-mini"), 1000, std::nullopt),
                     1000 * 1.5e-7 + 16384 * 6e-7);
    ModelPrice p;
    p.input_cost_per_token = 1e-6;
    p.output_cost_per_token = 2e-6;
    EXPECT_DOUBLE_EQ(CostCalculator::worst_case_cost(&p, 10, std::nullopt),
                     10 * 1e-6 + kDefaultMaxOutputTokens * 2e-6);
    EXPECT_DOUBLE_EQ(CostCalculator::worst_case_cost(t.find("text-embedding-3-small"), 1000, 99),
                     2e-05);
    EXPECT_EQ(CostCalculator::worst_case_cost(nullptr, 1000, 99), 0.0);
    EXPECT_DOUBLE_EQ(
        CostCalculator::worst_case_cost(t.find("claude-sonnet-4-5"), 300000, 1000),
        300000 * 6e-6 + 1000 * 2.25e-5);
}

}  // namespace
}  // namespace sy::spend
