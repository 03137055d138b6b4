#include "sy/config/provider_catalog.hpp"

#include <array>

namespace sy::config {

namespace {

// A provider that is known (so its prefix parses) but whose calls are not implemented yet.
ProviderInfo later(std::string_view slug,
                   std::string_view default_base = {},
                   std::vector<std::string_view> key_envs = {},
                   std::vector<std::string_view> base_envs = {}) {
    return ProviderInfo{
        slug, false, false, default_base, std::move(key_envs), std::move(base_envs), false, false};
}

// OpenAI-compatible provider with a fixed default base (providers.md §5).
ProviderInfo compatible(std::string_view slug,
                        std::string_view default_base,
                        std::vector<std::string_view> key_envs,
                        std::vector<std::string_view> base_envs) {
    return ProviderInfo{
        slug, true, true, default_base, std::move(key_envs), std::move(base_envs), false, true};
}

// OpenAI-compatible self-hosted server: no default base, key optional.
ProviderInfo self_hosted(std::string_view slug,
                         std::vector<std::string_view> key_envs,
                         std::vector<std::string_view> base_envs) {
    return ProviderInfo{
        slug, true, true, {}, std::move(key_envs), std::move(base_envs), true, false};
}

std::vector<ProviderInfo> build_table() {
    std::vector<ProviderInfo> t;
    t.push_back(compatible("openai",
                           "https://api.openai.com/v1",
                           {"OPENAI_API_KEY"},
                           {"OPENAI_API_BASE", "OPENAI_BASE_URL"}));

    // Translated providers: parsed and resolved completely (key, base, api_version). anthropic
    // is translated by src/sy/providers/anthropic, azure is OpenAI's body on Azure's URL
    // shape (src/sy/providers/openai.cpp), gemini is translated by src/sy/providers/gemini.
    t.push_back(ProviderInfo{"anthropic",
                             true,
                             false,
                             "https://api.anthropic.com",
                             {"ANTHROPIC_API_KEY"},
                             {"ANTHROPIC_API_BASE", "ANTHROPIC_BASE_URL"},
                             false,
                             true});
    t.push_back(
        ProviderInfo{"azure", true, false, {}, {"AZURE_API_KEY"}, {"AZURE_API_BASE"}, true, true});
    t.push_back(ProviderInfo{"gemini",
                             true,
                             false,
                             "https://generativelanguage.googleapis.com",
                             {"GEMINI_API_KEY"},
                             {"GEMINI_API_BASE"},
                             false,
                             true});

    t.push_back(
        compatible("groq", "https://api.groq.com/openai/v1", {"GROQ_API_KEY"}, {"GROQ_API_BASE"}));
    t.push_back(compatible(
        "mistral", "https://api.mistral.ai/v1", {"MISTRAL_API_KEY"}, {"MISTRAL_API_BASE"}));
    t.push_back(compatible(
        "deepseek", "https://api.deepseek.com/beta", {"DEEPSEEK_API_KEY"}, {"DEEPSEEK_API_BASE"}));
    t.push_back(compatible("openrouter",
                           "https://openrouter.ai/api/v1",
                           {"OPENROUTER_API_KEY", "OR_API_KEY"},
                           {"OPENROUTER_API_BASE"}));
    t.push_back(compatible("together_ai",
                           "https://api.together.xyz/v1",
                           {"TOGETHER_API_KEY", "TOGETHER_AI_API_KEY", "TOGETHERAI_API_KEY"},
                           {"TOGETHER_AI_API_BASE"}));
    t.push_back(compatible("fireworks_ai",
                           "https://api.fireworks.ai/inference/v1",
                           {"FIREWORKS_API_KEY", "FIREWORKS_AI_API_KEY"},
                           {"FIREWORKS_AI_API_BASE"}));
    t.push_back(compatible("xai", "https://api.x.ai/v1", {"XAI_API_KEY"}, {"XAI_API_BASE"}));
    t.push_back(
        compatible("perplexity", "https://api.perplexity.ai", {"PERPLEXITYAI_API_KEY"}, {}));
    t.push_back(
        compatible("deepinfra", "https://api.deepinfra.com/v1/openai", {"DEEPINFRA_API_KEY"}, {}));
    t.push_back(compatible(
        "cerebras", "https://api.cerebras.ai/v1", {"CEREBRAS_API_KEY"}, {"CEREBRAS_API_BASE"}));
    t.push_back(compatible("nvidia_nim",
                           "https://integrate.api.nvidia.com/v1",
                           {"NVIDIA_NIM_API_KEY"},
                           {"NVIDIA_NIM_API_BASE"}));
    t.push_back(compatible(
        "sambanova", "https://api.sambanova.ai/v1", {"SAMBANOVA_API_KEY"}, {"SAMBANOVA_API_BASE"}));
    t.push_back(self_hosted("hosted_vllm", {"HOSTED_VLLM_API_KEY"}, {"HOSTED_VLLM_API_BASE"}));
    t.push_back(self_hosted("lm_studio", {"LM_STUDIO_API_KEY"}, {"LM_STUDIO_API_BASE"}));
    t.push_back(self_hosted("llamafile", {"LLAMAFILE_API_KEY"}, {"LLAMAFILE_API_BASE"}));

    // LATER (config.md §3.1): the prefix is recognised, the deployment loads with a warning and
    // its calls answer 400 "provider not supported: <slug>".
    t.push_back(later("ollama", "http://localhost:11434", {}, {"OLLAMA_API_BASE"}));
    t.push_back(later("ollama_chat", "http://localhost:11434", {}, {"OLLAMA_API_BASE"}));
    t.push_back(later("text-completion-openai",
                      "https://api.openai.com/v1",
                      {"OPENAI_API_KEY"},
                      {"OPENAI_API_BASE", "OPENAI_BASE_URL"}));
    for (std::string_view slug : {"azure_ai",
                                  "vertex_ai",
                                  "vertex_ai_beta",
                                  "bedrock",
                                  "cohere",
                                  "cohere_chat",
                                  "huggingface",
                                  "replicate",
                                  "watsonx",
                                  "sagemaker",
                                  "sagemaker_chat",
                                  // Other litellm_provider values of LiteLLM's model map.
                                  "databricks",
                                  "cloudflare",
                                  "ai21",
                                  "ai21_chat",
                                  "anyscale",
                                  "baseten",
                                  "clarifai",
                                  "codestral",
                                  "text-completion-codestral",
                                  "dashscope",
                                  "friendliai",
                                  "github",
                                  "nlp_cloud",
                                  "aleph_alpha",
                                  "palm",
                                  "petals",
                                  "predibase",
                                  "triton",
                                  "vllm",
                                  "voyage",
                                  "jina_ai",
                                  "volcengine",
                                  "nebius",
                                  "novita",
                                  "nscale",
                                  "featherless_ai",
                                  "lambda_ai",
                                  "hyperbolic",
                                  "moonshot",
                                  "infinity",
                                  "oci",
                                  "snowflake",
                                  "gradient_ai",
                                  "azure_text",
                                  "assemblyai",
                                  "deepgram",
                                  "elevenlabs",
                                  "openai_like",
                                  "custom_openai"}) {
        t.push_back(later(slug));
    }
    return t;
}

bool starts_with(std::string_view s, std::string_view p) {
    return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

std::string_view bare_name_provider(std::string_view model) {
    static constexpr std::array<std::string_view, 11> kOpenAiPrefixes = {"gpt-",
                                                                         "chatgpt-",
                                                                         "o1",
                                                                         "o3",
                                                                         "o4",
                                                                         "gpt-5",
                                                                         "text-embedding-",
                                                                         "ft:gpt-",
                                                                         "dall-e-",
                                                                         "whisper-",
                                                                         "tts-"};
    for (std::string_view p : kOpenAiPrefixes) {
        if (starts_with(model, p)) {
            return "openai";
        }
    }
    if (starts_with(model, "claude-")) {
        return "anthropic";
    }
    return {};
}

Error not_provided(std::string_view model) {
    return Error::make(Errc::kBadRequest,
                       "LLM Provider NOT provided. Pass in the LLM provider you are trying to "
                       "call. You passed model=" +
                           std::string(model))
        .with_param("model");
}

}  // namespace

const std::vector<ProviderInfo>& all_providers() {
    static const std::vector<ProviderInfo> table = build_table();
    return table;
}

const ProviderInfo* find_provider(std::string_view slug) {
    if (slug.empty()) {
        return nullptr;
    }
    for (const ProviderInfo& p : all_providers()) {
        if (p.slug == slug) {
            return &p;
        }
    }
    return nullptr;
}

bool has_wildcard(std::string_view model) { return model.find('*') != std::string_view::npos; }

Result<ResolvedModel> resolve_model(std::string_view model, std::string_view custom_llm_provider) {
    if (model.empty()) {
        return not_provided(model);
    }
    if (!custom_llm_provider.empty()) {
        const ProviderInfo* p = find_provider(custom_llm_provider);
        if (p == nullptr) {
            return Error::make(Errc::kBadRequest,
                               "unknown custom_llm_provider: " + std::string(custom_llm_provider));
        }
        std::string_view rest = model;
        if (rest.size() > p->slug.size() && starts_with(rest, p->slug) &&
            rest[p->slug.size()] == '/') {
            rest.remove_prefix(p->slug.size() + 1);
        }
        if (rest.empty()) {
            return not_provided(model);
        }
        return ResolvedModel{std::string(p->slug), std::string(rest)};
    }
    if (std::size_t slash = model.find('/'); slash != std::string_view::npos) {
        if (const ProviderInfo* p = find_provider(model.substr(0, slash)); p != nullptr) {
            std::string_view rest = model.substr(slash + 1);
            if (rest.empty()) {
                return Error::make(
                           Errc::kBadRequest,
                           "model name missing after provider prefix: " + std::string(model))
                    .with_param("model");
            }
            return ResolvedModel{std::string(p->slug), std::string(rest)};
        }
    }
    if (std::string_view p = bare_name_provider(model); !p.empty()) {
        return ResolvedModel{std::string(p), std::string(model)};
    }
    if (has_wildcard(model)) {
        return ResolvedModel{std::string(), std::string(model)};
    }
    return not_provided(model);
}

}  // namespace sy::config
