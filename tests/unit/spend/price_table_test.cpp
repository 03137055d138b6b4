#include "sy/spend/price_table.hpp"  // self-contained header check

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sy::spend {
namespace {

TEST(PriceTable, BundledMapParsesAndHasTheMinimumTable) {
    const PriceTable& t = PriceTable::bundled();
    EXPECT_GT(t.size(), 100U);
    // auth-budgets-limits.md §8.1: exact values.
    struct Row {
        const char* model;
        double in, out;
        std::optional<double> read, write;
        std::int64_t max_in;
    };
    const Row rows[] = {
        {"gpt-3.5-turbo", 5e-07, 1.5e-06, {}, {}, 16385},
        {"gpt-3.5-turbo-0125", 5e-07, 1.5e-06, {}, {}, 16385},
        {"gpt-3.5-turbo-0301", 1.5e-06, 2e-06, {}, {}, 4097},
        {"gpt-3.5-turbo-0613", 1.5e-06, 2e-06, {}, {}, 4097},
        {"gpt-3.5-turbo-1106", 1e-06, 2e-06, {}, {}, 16385},
        {"gpt-3.5-turbo-16k", 3e-06, 4e-06, {}, {}, 16385},
        {"gpt-3.5-turbo-16k-0613", 3e-06, 4e-06, {}, {}, 16385},
        {"gpt-3.5-turbo-instruct", 1.5e-06, 2e-06, {}, {}, 8192},
        {"gpt-4", 3e-05, 6e-05, {}, {}, 8192},
        {"gpt-4o", 2.5e-06, 1e-05, 1.25e-06, {}, 128000},
        {"gpt-4o-mini", 1.5e-07, 6e-07, 7.5e-08, {}, 128000},
        {"gpt-4.1", 2e-06, 8e-06, 5e-07, {}, 1047576},
        {"gpt-4.1-mini", 4e-07, 1.6e-06, 1e-07, {}, 1047576},
        {"gpt-4.1-nano", 1e-07, 4e-07, 2.5e-08, {}, 1047576},
        {"text-embedding-3-small", 2e-08, 0, {}, {}, 8191},
        {"text-embedding-3-large", 1.3e-07, 0, {}, {}, 8191},
        {"text-embedding-ada-002", 1e-07, 0, {}, {}, 8191},
        {"claude-sonnet-4-6", 3e-06, 1.5e-05, 3e-07, 3.75e-06, 1000000},
        {"claude-sonnet-4-5-20250929", 3e-06, 1.5e-05, 3e-07, 3.75e-06, 200000},
        {"claude-3-5-haiku-20241022", 8e-07, 4e-06, 8e-08, 1e-06, 200000},
        {"claude-3-opus-20240229", 1.5e-05, 7.5e-05, 1.5e-06, 1.875e-05, 200000},
    };
    for (const Row& r : rows) {
        SCOPED_TRACE(r.model);
        const ModelPrice* p = t.find(r.model);
        ASSERT_NE(p, nullptr);
        EXPECT_EQ(p->input_cost_per_token, r.in);
        EXPECT_EQ(p->output_cost_per_token, r.out);
        EXPECT_EQ(p->cache_read_input_token_cost, r.read);
        EXPECT_EQ(p->cache_creation_input_token_cost, r.write);
        EXPECT_EQ(p->max_input_tokens, r.max_in);
    }
    const ModelPrice* s45 = t.find("claude-sonnet-4-5-20250929");
    EXPECT_EQ(s45->input_cost_per_token_above_200k_tokens, 6e-06);
    EXPECT_EQ(s45->output_cost_per_token_above_200k_tokens, 2.25e-05);
    EXPECT_EQ(t.find("gpt-3.5-turbo-instruct")->mode, "completion");
    EXPECT_EQ(t.find("text-embedding-3-small")->mode, "embedding");
}

TEST(PriceTable, BundledMapCoversTheCommonFamilies) {
    const PriceTable& t = PriceTable::bundled();
    for (const char* m : {"openai/gpt-4o", "gpt-4o-2024-08-06", "o1", "o3", "o3-mini", "o4-mini",
                          "o1-mini", "gpt-4.1-2025-04-14", "text-embedding-3-small",
                          "anthropic/claude-3-5-sonnet-20241022", "claude-3-7-sonnet-20250219",
                          "claude-sonnet-4-20250514", "claude-opus-4-20250514",
                          "claude-3-haiku-20240307", "claude-haiku-4-5", "gemini/gemini-1.5-pro",
                          "gemini/gemini-1.5-flash", "gemini/gemini-2.0-flash",
                          "gemini/gemini-2.5-pro", "gemini/gemini-2.5-flash",
                          "vertex_ai/gemini-2.5-flash", "mistral/mistral-large-latest",
                          "mistral/mistral-small-latest", "groq/llama-3.1-8b-instant",
                          "groq/llama-3.3-70b-versatile", "azure/gpt-4o-mini"}) {
        EXPECT_NE(t.find(m), nullptr) << m;
    }
}

TEST(PriceTable, LookupStripsProviderPrefixAndDatedVariants) {
    const PriceTable& t = PriceTable::bundled();
    const ModelPrice* base = t.find("gpt-4o");
    ASSERT_NE(base, nullptr);
    EXPECT_EQ(t.find("openai/gpt-4o"), base);
    EXPECT_EQ(t.find("GPT-4o"), base);
    EXPECT_EQ(t.find("openai/gpt-4o-2099-01-01"), base);  // unknown snapshot -> family price
    EXPECT_EQ(t.find("claude-3-5-haiku-20241022"), t.find("anthropic/claude-3-5-haiku-20241022"));
    EXPECT_EQ(t.find("claude-sonnet-4-5-20991231"), t.find("claude-sonnet-4-5"));
    EXPECT_EQ(t.find("gemini/gemini-2.5-flash-001"), t.find("gemini-2.5-flash"));
    EXPECT_EQ(t.find("gemini-2.5-pro-latest"), t.find("gemini-2.5-pro"));
    // Explicit snapshots keep their own price.
    EXPECT_EQ(t.find("gpt-3.5-turbo-0301")->input_cost_per_token, 1.5e-06);
    EXPECT_EQ(t.find("gpt-4o-2024-05-13")->input_cost_per_token, 5e-06);
    // Provider hint for bare names of prefixed entries.
    EXPECT_EQ(t.find("llama-3.1-8b-instant"), nullptr);
    EXPECT_EQ(t.find("llama-3.1-8b-instant", "groq"), t.find("groq/llama-3.1-8b-instant"));
    EXPECT_EQ(t.find("mistral-large-latest", "mistral"), t.find("mistral/mistral-large-latest"));
    // Nested names: only the first prefix is stripped.
    EXPECT_NE(t.find("groq/meta-llama/llama-4-scout-17b-16e-instruct"), nullptr);
    EXPECT_EQ(t.find("openai/gpt-oss-120b"), nullptr);  // the groq price is not borrowed
    EXPECT_EQ(t.find("no-such-model"), nullptr);
    EXPECT_EQ(t.find(""), nullptr);
}

TEST(PriceTable, ParseValidatesPrices) {
    auto ok = PriceTable::parse(R"({"_comment":"x","sample_spec":{"input_cost_per_token":"n/a"},
                                   "m":{"input_cost_per_token":"1e-6","output_cost_per_token":2e-6}})");
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_EQ(ok->size(), 1U);
    EXPECT_EQ(ok->find("m")->input_cost_per_token, 1e-6);

    for (const char* bad : {R"({"m":{"input_cost_per_token":-1e-6}})",
                            R"({"m":{"output_cost_per_token":1.5}})",
                            R"({"m":{"output_cost_per_token":"cheap"}})",
                            R"({"m":{"output_cost_per_token":true}})", R"({"m":3})", "[1]",
                            "{not json"}) {
        auto r = PriceTable::parse(bad);
        EXPECT_FALSE(r) << bad;
    }
    auto r = PriceTable::parse(R"({"m":{"input_cost_per_token":-1}})");
    ASSERT_FALSE(r);
    EXPECT_NE(r.error().message.find("m.input_cost_per_token"), std::string::npos);
}

TEST(PriceTable, AllBundledPricesAreSane) {
    // Also parsed by bundled(); this documents the invariant for anyone editing the data file.
    const PriceTable& t = PriceTable::bundled();
    for (const char* m : {"gpt-4o", "claude-3-opus-20240229", "gemini-2.5-pro"}) {
        const ModelPrice* p = t.find(m);
        ASSERT_NE(p, nullptr);
        EXPECT_TRUE(p->has_any_cost());
        EXPECT_TRUE(p->max_output_tokens.has_value()) << m;
    }
}

}  // namespace
}  // namespace sy::spend
