#include "sy/config/provider_catalog.hpp"  // first: the header is self-contained

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace sy::config {
namespace {

TEST(ProviderCatalog, OpenAiIsSupportedWithDefaultBaseAndEnvs) {
    const ProviderInfo* p = find_provider("openai");
    ASSERT_NE(p, nullptr);
    EXPECT_TRUE(p->supported);
    EXPECT_TRUE(p->openai_compatible);
    EXPECT_EQ(p->default_base, "https://api.openai.com/v1");
    EXPECT_EQ(p->key_envs, (std::vector<std::string_view>{"OPENAI_API_KEY"}));
    EXPECT_EQ(p->base_envs, (std::vector<std::string_view>{"OPENAI_API_BASE", "OPENAI_BASE_URL"}));
    EXPECT_FALSE(p->needs_api_base);
}

TEST(ProviderCatalog, TranslatedProvidersAreResolved) {
    const ProviderInfo* anthropic = find_provider("anthropic");
    ASSERT_NE(anthropic, nullptr);
    EXPECT_TRUE(anthropic->supported);  // translated by src/sy/providers/anthropic
    EXPECT_EQ(anthropic->default_base, "https://api.anthropic.com");
    EXPECT_EQ(anthropic->key_envs, (std::vector<std::string_view>{"ANTHROPIC_API_KEY"}));
    EXPECT_EQ(anthropic->base_envs,
              (std::vector<std::string_view>{"ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"}));

    const ProviderInfo* azure = find_provider("azure");
    ASSERT_NE(azure, nullptr);
    EXPECT_TRUE(azure->supported);
    EXPECT_TRUE(azure->needs_api_base);
    EXPECT_EQ(azure->key_envs, (std::vector<std::string_view>{"AZURE_API_KEY"}));
    EXPECT_EQ(azure->base_envs, (std::vector<std::string_view>{"AZURE_API_BASE"}));

    const ProviderInfo* gemini = find_provider("gemini");
    ASSERT_NE(gemini, nullptr);
    EXPECT_TRUE(gemini->supported);  // translated by src/sy/providers/gemini
    EXPECT_EQ(gemini->default_base, "https://generativelanguage.googleapis.com");
    EXPECT_EQ(gemini->key_envs, (std::vector<std::string_view>{"GEMINI_API_KEY"}));
}

TEST(ProviderCatalog, OpenAiCompatibleFamily) {
    struct Row {
        std::string_view slug;
        std::string_view base;
        std::string_view key_env;
    };
    const Row rows[] = {
        {"groq", "https://api.groq.com/openai/v1", "GROQ_API_KEY"},
        {"mistral", "https://api.mistral.ai/v1", "MISTRAL_API_KEY"},
        {"deepseek", "https://api.deepseek.com/beta", "DEEPSEEK_API_KEY"},
        {"openrouter", "https://openrouter.ai/api/v1", "OPENROUTER_API_KEY"},
        {"together_ai", "https://api.together.xyz/v1", "TOGETHER_API_KEY"},
        {"fireworks_ai", "https://api.fireworks.ai/inference/v1", "FIREWORKS_API_KEY"},
        {"xai", "https://api.x.ai/v1", "XAI_API_KEY"},
        {"perplexity", "https://api.perplexity.ai", "PERPLEXITYAI_API_KEY"},
        {"deepinfra", "https://api.deepinfra.com/v1/openai", "DEEPINFRA_API_KEY"},
        {"cerebras", "https://api.cerebras.ai/v1", "CEREBRAS_API_KEY"},
        {"nvidia_nim", "https://integrate.api.nvidia.com/v1", "NVIDIA_NIM_API_KEY"},
        {"sambanova", "https://api.sambanova.ai/v1", "SAMBANOVA_API_KEY"},
    };
    for (const Row& r : rows) {
        const ProviderInfo* p = find_provider(r.slug);
        ASSERT_NE(p, nullptr) << r.slug;
        EXPECT_TRUE(p->supported) << r.slug;
        EXPECT_TRUE(p->openai_compatible) << r.slug;
        EXPECT_EQ(p->default_base, r.base) << r.slug;
        ASSERT_FALSE(p->key_envs.empty()) << r.slug;
        EXPECT_EQ(p->key_envs.front(), r.key_env) << r.slug;
        EXPECT_FALSE(p->needs_api_base) << r.slug;
    }
    for (std::string_view slug : {"hosted_vllm", "lm_studio", "llamafile"}) {
        const ProviderInfo* p = find_provider(slug);
        ASSERT_NE(p, nullptr) << slug;
        EXPECT_TRUE(p->supported) << slug;
        EXPECT_TRUE(p->needs_api_base) << slug;
        EXPECT_FALSE(p->needs_api_key) << slug;
        EXPECT_TRUE(p->default_base.empty()) << slug;
    }
    EXPECT_EQ(find_provider("hosted_vllm")->base_envs.front(), "HOSTED_VLLM_API_BASE");
}

TEST(ProviderCatalog, LaterProvidersAreKnownButUnsupported) {
    for (std::string_view slug : {"ollama",
                                  "ollama_chat",
                                  "azure_ai",
                                  "vertex_ai",
                                  "bedrock",
                                  "cohere",
                                  "huggingface",
                                  "replicate",
                                  "watsonx",
                                  "sagemaker",
                                  "text-completion-openai",
                                  "databricks",
                                  "cloudflare"}) {
        const ProviderInfo* p = find_provider(slug);
        ASSERT_NE(p, nullptr) << slug;
        EXPECT_FALSE(p->supported) << slug;
        EXPECT_FALSE(p->needs_api_base) << slug;
    }
    EXPECT_EQ(find_provider("ollama")->default_base, "http://localhost:11434");
}

TEST(ProviderCatalog, UnknownSlugs) {
    EXPECT_EQ(find_provider("google"), nullptr);
    EXPECT_EQ(find_provider(""), nullptr);
    EXPECT_EQ(find_provider("OpenAI"), nullptr);  // case-sensitive, like LiteLLM
}

TEST(ProviderCatalog, SlugsAreUnique) {
    const auto& all = all_providers();
    for (std::size_t i = 0; i < all.size(); ++i) {
        for (std::size_t j = i + 1; j < all.size(); ++j) {
            EXPECT_NE(all[i].slug, all[j].slug);
        }
    }
}

ResolvedModel resolved(std::string_view model, std::string_view custom = {}) {
    auto r = resolve_model(model, custom);
    EXPECT_TRUE(r.ok()) << model << ": " << (r.ok() ? "" : r.error().message);
    return r.ok() ? r.value() : ResolvedModel{};
}

TEST(ResolveModel, PrefixIsStripped) {
    ResolvedModel r = resolved("openai/gpt-4o");
    EXPECT_EQ(r.provider, "openai");
    EXPECT_EQ(r.upstream_model, "gpt-4o");

    r = resolved("azure/my-gpt4o-deployment");
    EXPECT_EQ(r.provider, "azure");
    EXPECT_EQ(r.upstream_model, "my-gpt4o-deployment");

    r = resolved("openrouter/anthropic/claude-3.5-sonnet");
    EXPECT_EQ(r.provider, "openrouter");
    EXPECT_EQ(r.upstream_model, "anthropic/claude-3.5-sonnet");

    r = resolved("text-completion-openai/gpt-3.5-turbo-instruct");
    EXPECT_EQ(r.provider, "text-completion-openai");
}

TEST(ResolveModel, BareNameRules) {
    for (std::string_view m : {"gpt-4o-mini",
                               "gpt-4o",
                               "chatgpt-4o-latest",
                               "o1",
                               "o1-mini",
                               "o3-mini",
                               "o4-mini",
                               "gpt-5",
                               "text-embedding-3-small",
                               "ft:gpt-4o-mini:org::abc",
                               "dall-e-3",
                               "whisper-1",
                               "tts-1-hd"}) {
        ResolvedModel r = resolved(m);
        EXPECT_EQ(r.provider, "openai") << m;
        EXPECT_EQ(r.upstream_model, m) << m;
    }
    ResolvedModel r = resolved("claude-sonnet-4-6");
    EXPECT_EQ(r.provider, "anthropic");
    EXPECT_EQ(r.upstream_model, "claude-sonnet-4-6");
}

TEST(ResolveModel, UnknownFirstSegmentIsNotAPrefix) {
    auto r = resolve_model("google/gemma-3");
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().message,
              "LLM Provider NOT provided. Pass in the LLM provider you are trying to call. You "
              "passed model=google/gemma-3");
    EXPECT_EQ(r.error().code, Errc::kBadRequest);
}

TEST(ResolveModel, BareGeminiIsNotGuessed) {
    EXPECT_FALSE(resolve_model("gemini-1.5-pro").ok());
    EXPECT_EQ(resolved("gemini/gemini-1.5-pro").provider, "gemini");
}

TEST(ResolveModel, Wildcards) {
    ResolvedModel r = resolved("*");
    EXPECT_EQ(r.provider, "");
    EXPECT_EQ(r.upstream_model, "*");

    r = resolved("anthropic/*");
    EXPECT_EQ(r.provider, "anthropic");
    EXPECT_EQ(r.upstream_model, "*");

    r = resolved("openai/*");
    EXPECT_EQ(r.provider, "openai");

    r = resolved("claude-*");
    EXPECT_EQ(r.provider, "anthropic");

    r = resolved("my-*");
    EXPECT_EQ(r.provider, "");
    EXPECT_EQ(r.upstream_model, "my-*");
    EXPECT_TRUE(has_wildcard("my-*"));
    EXPECT_FALSE(has_wildcard("gpt-4o"));
}

TEST(ResolveModel, CustomLlmProvider) {
    ResolvedModel r = resolved("meta-llama/Llama-3-8b", "openai");
    EXPECT_EQ(r.provider, "openai");
    EXPECT_EQ(r.upstream_model, "meta-llama/Llama-3-8b");

    r = resolved("openai/gpt-4o", "openai");
    EXPECT_EQ(r.upstream_model, "gpt-4o");

    r = resolved("my-model", "hosted_vllm");
    EXPECT_EQ(r.provider, "hosted_vllm");

    EXPECT_FALSE(resolve_model("x", "no_such_provider").ok());
}

TEST(ResolveModel, EmptyModels) {
    EXPECT_FALSE(resolve_model("").ok());
    EXPECT_FALSE(resolve_model("openai/").ok());
}

}  // namespace
}  // namespace sy::config
