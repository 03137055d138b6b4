#include "sy/config/loader.hpp"  // first: the header is self-contained

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <boost/json.hpp>
#include <cstdio>
#include <string>

#include "unit/config/config_test_util.hpp"

namespace sy::config {
namespace {

using namespace sy::config::testing;  // NOLINT(google-build-using-namespace)

const std::string kTestData = SY_CONFIG_TESTDATA;
const std::string kSeed = kTestData + "/litellm_config.yaml";
const std::string kMasterKey = "sk-test-master-0123456789abcdefghijklmnop";

// SHA-256 hex computed here with OpenSSL's one-shot API, independently of the loader.
std::string sha256_hex(const std::string& s) {
    unsigned char md[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(s.data()), s.size(), md);
    std::string out;
    char buf[3];
    for (unsigned char c : md) {
        std::snprintf(buf, sizeof buf, "%02x", c);
        out += buf;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// The seed configuration (config.md §10).

TEST(Seed, LoadsUnchangedWithMasterKeySet) {
    LoadResult r = load_file(kSeed, options({{"LITELLM_MASTER_KEY", kMasterKey}}));
    ASSERT_TRUE(r.ok()) << dump(r);
    const Settings& s = *r.settings;
    EXPECT_EQ(s.config_path, kSeed);
    ASSERT_EQ(s.model_list.size(), 4U);

    const Deployment& claude = s.model_list[0];
    EXPECT_EQ(claude.model_name, "claude-quality");
    EXPECT_EQ(claude.model, "claude-sonnet-4-6");
    EXPECT_EQ(claude.provider, "anthropic");
    EXPECT_EQ(claude.upstream_model, "claude-sonnet-4-6");
    EXPECT_TRUE(claude.provider_supported);
    EXPECT_EQ(claude.api_base, "https://api.anthropic.com");
    EXPECT_FALSE(claude.api_key.has_value());
    EXPECT_EQ(claude.mark.path, "model_list[0]");
    EXPECT_EQ(claude.mark.line, 5);

    const Deployment& fast = s.model_list[1];
    EXPECT_EQ(fast.model_name, "gpt-fast");
    EXPECT_EQ(fast.provider, "openai");
    EXPECT_EQ(fast.upstream_model, "gpt-4o-mini");
    EXPECT_TRUE(fast.provider_supported);
    EXPECT_EQ(fast.api_base, "https://api.openai.com/v1");

    EXPECT_EQ(s.model_list[2].model_name, "gpt4o-pool");
    EXPECT_EQ(s.model_list[3].model_name, "gpt4o-pool");
    EXPECT_EQ(s.model_list[2].provider, "openai");
    EXPECT_EQ(s.model_list[2].upstream_model, "gpt-4o");
    EXPECT_NE(s.model_list[2].id, s.model_list[3].id);
    for (const Deployment& d : s.model_list) {
        EXPECT_EQ(d.id.size(), 64U);
        EXPECT_EQ(d.id.find_first_not_of("0123456789abcdef"), std::string::npos);
        EXPECT_EQ(d.default_params_json, "{}");
        EXPECT_EQ(d.mode, "chat");
    }

    EXPECT_TRUE(s.litellm.drop_params);
    EXPECT_TRUE(s.litellm.cache);
    // host and password reference unset variables: absent (config.md §1.3).
    EXPECT_EQ(s.litellm.cache_params_json, R"({"port":6379,"ttl":3600,"type":"redis"})");

    EXPECT_EQ(s.router.routing_strategy, RoutingStrategy::kLatencyBased);
    EXPECT_EQ(s.router.num_retries, 3);
    EXPECT_DOUBLE_EQ(s.router.retry_after_s, 5.0);
    EXPECT_DOUBLE_EQ(s.router.timeout_s, 60.0);  // litellm_settings.request_timeout
    ASSERT_EQ(s.router.fallbacks.size(), 1U);
    EXPECT_EQ(s.router.fallbacks[0].group, "gpt4o-pool");
    EXPECT_EQ(s.router.fallbacks[0].targets, std::vector<std::string>{"claude-quality"});

    ASSERT_TRUE(s.general.master_key.has_value());
    EXPECT_EQ(s.general.master_key->value, kMasterKey);
    EXPECT_EQ(s.general.master_key->source, "os.environ/LITELLM_MASTER_KEY");
    EXPECT_FALSE(s.general.database_url.has_value());
    EXPECT_EQ(s.general.database_path, kTestData + "/switchyard.db");

    const auto w = warnings(r);
    EXPECT_TRUE(any_contains(w, "environment variable REDIS_HOST is not set")) << dump(r);
    EXPECT_TRUE(any_contains(w, "environment variable DATABASE_URL is not set")) << dump(r);
    EXPECT_FALSE(any_contains(w, "provider anthropic not supported yet")) << dump(r);
    EXPECT_TRUE(any_contains(w,
                             kSeed + ":13:16: model_list[1].litellm_params.api_key: environment "
                                     "variable OPENAI_API_KEY is not set"))
        << dump(r);
    for (const Diagnostic& d : r.diagnostics) {
        EXPECT_EQ(d.message.find(kMasterKey), std::string::npos) << d.message;
    }
}

TEST(Seed, ResolvesProviderKeysFromEnvironment) {
    LoadResult r = load_file(kSeed,
                             options({{"LITELLM_MASTER_KEY", kMasterKey},
                                      {"ANTHROPIC_API_KEY", "sk-ant-secret"},
                                      {"OPENAI_API_KEY", "sk-openai-secret"},
                                      {"OPENAI_API_KEY_1", "sk-one"},
                                      {"DATABASE_URL", "postgresql://u:p@db/litellm"}}));
    ASSERT_TRUE(r.ok()) << dump(r);
    const Settings& s = *r.settings;
    ASSERT_TRUE(s.model_list[0].api_key.has_value());
    EXPECT_EQ(s.model_list[0].api_key->value, "sk-ant-secret");
    EXPECT_EQ(s.model_list[0].api_key->source, "os.environ/ANTHROPIC_API_KEY");
    EXPECT_EQ(s.model_list[2].api_key->value, "sk-one");
    EXPECT_EQ(s.model_list[2].api_key->source, "os.environ/OPENAI_API_KEY_1");
    // OPENAI_API_KEY_2 is unset: the reference is absent, the provider variable fills in.
    EXPECT_EQ(s.model_list[3].api_key->value, "sk-openai-secret");
    EXPECT_EQ(s.model_list[3].api_key->source, "os.environ/OPENAI_API_KEY");
    ASSERT_TRUE(s.general.database_url.has_value());
    EXPECT_EQ(s.general.database_url->source, "os.environ/DATABASE_URL");
    for (const Diagnostic& d : r.diagnostics) {
        for (const char* secret : {"sk-ant-secret", "sk-openai-secret", "sk-one", "u:p@db"}) {
            EXPECT_EQ(d.message.find(secret), std::string::npos) << d.message;
        }
    }
}

TEST(Seed, DeploymentIdIsSha256OfCanonicalJson) {
    LoadResult r = load_file(kSeed, options({{"LITELLM_MASTER_KEY", kMasterKey}}));
    ASSERT_TRUE(r.ok()) << dump(r);
    const std::string expected = sha256_hex(
        R"({"litellm_params":{"api_key":"os.environ/OPENAI_API_KEY_1","model":"gpt-4o"},)"
        R"("model_name":"gpt4o-pool"})");
    EXPECT_EQ(r.settings->model_list[2].id, expected);
    EXPECT_EQ(r.settings->model_list[3].id,
              sha256_hex(R"({"litellm_params":{"api_key":"os.environ/OPENAI_API_KEY_2",)"
                         R"("model":"gpt-4o"},"model_name":"gpt4o-pool"})"));

    // Stable: unchanged by key rotation (the unresolved reference is hashed, not the key).
    LoadResult rotated = load_file(
        kSeed, options({{"LITELLM_MASTER_KEY", kMasterKey}, {"OPENAI_API_KEY_1", "sk-rotated"}}));
    ASSERT_TRUE(rotated.ok());
    EXPECT_EQ(rotated.settings->model_list[2].id, expected);
    EXPECT_EQ(rotated.settings->model_list[2].model_info_json, R"({"id":")" + expected + "\"}");
}

// ---------------------------------------------------------------------------------------------
// Master key (README D1).

TEST(MasterKey, UnsetReferenceIsAnErrorNamingVariableAndLine) {
    LoadResult r = load(
        "model_list: []\n"
        "general_settings:\n"
        "  master_key: os.environ/MY_MASTER_KEY\n",
        {},
        false,
        "conf/proxy.yaml");
    EXPECT_FALSE(r.ok());
    const auto e = errors(r);
    ASSERT_EQ(e.size(), 1U) << dump(r);
    EXPECT_EQ(e[0].rfind("conf/proxy.yaml:3:15: general_settings.master_key: environment variable "
                         "MY_MASTER_KEY is not set",
                         0),
              0U)
        << e[0];
}

TEST(MasterKey, EmptyReferenceIsAnError) {
    LoadResult r = load("general_settings:\n  master_key: os.environ/MK\n", {{"MK", ""}});
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(any_contains(errors(r), "environment variable MK is empty")) << dump(r);
}

TEST(MasterKey, LiteralAndEnvFallback) {
    LoadResult r = load("general_settings:\n  master_key: sk-1234\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.settings->general.master_key->value, "sk-1234");
    EXPECT_EQ(r.settings->general.master_key->source, "inline");
    EXPECT_TRUE(any_contains(warnings(r), "master_key is shorter than 32 characters"));
    for (const Diagnostic& d : r.diagnostics) {
        EXPECT_EQ(d.message.find("sk-1234"), std::string::npos) << d.message;
    }

    r = load("model_list: []\n", {{"LITELLM_MASTER_KEY", kMasterKey}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.settings->general.master_key->value, kMasterKey);
    EXPECT_EQ(r.settings->general.master_key->source, "os.environ/LITELLM_MASTER_KEY");
}

TEST(MasterKey, AbsentIsNotAConfigError) {
    // README D1: no master key is a valid dev setup; the app logs the loud warning and binds
    // to loopback only, so the loader reports nothing.
    LoadResult r = load("model_list: []\n");
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.settings->general.master_key.has_value());
    EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
}

// ---------------------------------------------------------------------------------------------
// os.environ/ references and environment_variables.

TEST(EnvRefs, UnsetApiKeyWarnsNamingVariableAndPath) {
    LoadResult r = load(
        "model_list:\n"
        "  - model_name: m\n"
        "    litellm_params:\n"
        "      model: openai/gpt-4o\n"
        "      api_key: os.environ/TEAM_OPENAI_KEY\n",
        {{"LITELLM_MASTER_KEY", kMasterKey}});
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_TRUE(any_equals(warnings(r),
                           "test.yaml:5:16: model_list[0].litellm_params.api_key: environment "
                           "variable TEAM_OPENAI_KEY is not set; treated as absent"))
        << dump(r);
    EXPECT_TRUE(any_contains(warnings(r), "deployment m has no API key for provider openai"))
        << dump(r);
    EXPECT_FALSE(r.settings->model_list[0].api_key.has_value());
}

TEST(EnvRefs, EnvironmentVariablesAreVisibleToReferences) {
    LoadResult r = load(
        "environment_variables:\n"
        "  MY_KEY: sk-from-config-section\n"
        "  MY_TIMEOUT: \"42\"\n"
        "model_list:\n"
        "  - model_name: m\n"
        "    litellm_params: {model: openai/gpt-4o, api_key: os.environ/MY_KEY}\n"
        "litellm_settings:\n"
        "  request_timeout: os.environ/MY_TIMEOUT\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    ASSERT_TRUE(r.settings->model_list[0].api_key.has_value());
    EXPECT_EQ(r.settings->model_list[0].api_key->value, "sk-from-config-section");
    EXPECT_EQ(r.settings->model_list[0].api_key->source, "os.environ/MY_KEY");
    EXPECT_DOUBLE_EQ(r.settings->router.timeout_s, 42.0);
}

TEST(EnvRefs, EnvironmentVariablesOverrideTheRealEnvironmentAndFeedProviderFallbacks) {
    LoadResult r = load(
        "environment_variables:\n"
        "  OPENAI_API_BASE: http://127.0.0.1:4010/v1\n"
        "model_list:\n"
        "  - model_name: m\n"
        "    litellm_params: {model: openai/gpt-4o}\n",
        {{"OPENAI_API_BASE", "http://real-env.example/v1"}});
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.settings->model_list[0].api_base, "http://127.0.0.1:4010/v1");
}

TEST(EnvRefs, ConvertedToTheFieldTypeAfterSubstitution) {
    LoadResult r = load(
        "litellm_settings:\n"
        "  cache: os.environ/CACHE_ON\n"
        "  cache_params: {type: redis, host: os.environ/RH, port: os.environ/RP}\n"
        "router_settings:\n"
        "  num_retries: os.environ/RETRIES\n",
        {{"CACHE_ON", "True"}, {"RH", "redis.internal"}, {"RP", "6380"}, {"RETRIES", "4"}});
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_TRUE(r.settings->litellm.cache);
    EXPECT_EQ(r.settings->litellm.cache_params_json,
              R"({"host":"redis.internal","port":6380,"type":"redis"})");
    EXPECT_EQ(r.settings->router.num_retries, 4);
}

TEST(EnvRefs, ConversionFailureIsAnErrorWithoutTheValue) {
    LoadResult r = load("router_settings:\n  timeout: os.environ/T\n", {{"T", "sk-not-a-number"}});
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(any_equals(errors(r),
                           "test.yaml:2:12: router_settings.timeout: expected a number, got the "
                           "value of os.environ/T"))
        << dump(r);
    for (const Diagnostic& d : r.diagnostics) {
        EXPECT_EQ(d.message.find("sk-not-a-number"), std::string::npos);
    }
}

// ---------------------------------------------------------------------------------------------
// Validation errors and warnings.

TEST(Validation, BadRoutingStrategyIsErrorWithPathAndLine) {
    LoadResult r = load(
        "router_settings:\n"
        "  num_retries: 2\n"
        "  routing_strategy: least_busy\n");
    EXPECT_FALSE(r.ok());
    const auto e = errors(r);
    ASSERT_EQ(e.size(), 1U) << dump(r);
    EXPECT_EQ(e[0],
              "test.yaml:3:21: router_settings.routing_strategy: invalid value \"least_busy\" "
              "(expected simple-shuffle, least-busy, latency-based-routing, usage-based-routing, "
              "usage-based-routing-v2 or cost-based-routing) (did you mean least-busy?)");
}

TEST(Validation, EveryRoutingStrategy) {
    const std::pair<const char*, RoutingStrategy> cases[] = {
        {"simple-shuffle", RoutingStrategy::kSimpleShuffle},
        {"least-busy", RoutingStrategy::kLeastBusy},
        {"latency-based-routing", RoutingStrategy::kLatencyBased},
        {"usage-based-routing", RoutingStrategy::kUsageBased},
        {"usage-based-routing-v2", RoutingStrategy::kUsageBased},
        {"cost-based-routing", RoutingStrategy::kCostBased},
    };
    for (const auto& [text, expected] : cases) {
        LoadResult r = load(std::string("router_settings: {routing_strategy: ") + text + "}\n");
        ASSERT_TRUE(r.ok()) << text << dump(r);
        EXPECT_EQ(r.settings->router.routing_strategy, expected) << text;
    }
}

TEST(Validation, UnknownKeyWarnsWithSuggestion) {
    LoadResult r = load(
        "general_settings:\n"
        "  mater_key: sk-1234\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_TRUE(any_equals(warnings(r),
                           "test.yaml:2:3: general_settings.mater_key: unknown key "
                           "general_settings.mater_key (did you mean master_key?)"))
        << dump(r);
}

TEST(Validation, StrictModeTurnsUnknownKeysIntoErrors) {
    LoadResult r = load("general_settings:\n  mater_key: sk-1234\n", {}, true);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(any_equals(errors(r),
                           "test.yaml:2:3: general_settings.mater_key: unknown key "
                           "general_settings.mater_key (did you mean master_key?)"))
        << dump(r);
}

TEST(Validation, LaterKeysWarnOnceAndNeverFailEvenStrict) {
    LoadResult r = load(
        "credential_list: []\n"
        "general_settings:\n"
        "  alerting: [slack]\n"
        "model_list:\n"
        "  - model_name: a\n"
        "    litellm_params: {model: openai/gpt-4o, tags: [x], api_key: k}\n"
        "  - model_name: b\n"
        "    litellm_params: {model: openai/gpt-4o, tags: [y], api_key: k}\n",
        {},
        true);
    ASSERT_TRUE(r.ok()) << dump(r);
    const auto w = warnings(r);
    EXPECT_TRUE(any_equals(w,
                           "test.yaml:1:1: credential_list: credential_list not supported, "
                           "ignored"))
        << dump(r);
    EXPECT_TRUE(any_equals(w,
                           "test.yaml:3:3: general_settings.alerting: general_settings.alerting "
                           "not supported, ignored"))
        << dump(r);
    int tags = 0;
    for (const std::string& s : w) {
        tags += s.find("litellm_params.tags not supported, ignored") != std::string::npos;
    }
    EXPECT_EQ(tags, 1) << dump(r);
}

TEST(Validation, UnknownTopLevelSectionWarns) {
    LoadResult r = load("model_lists: []\n");
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(any_equals(warnings(r),
                           "test.yaml:1:1: model_lists: unknown top-level section model_lists, "
                           "ignored (did you mean model_list?)"))
        << dump(r);
}

TEST(Validation, FallbackToUnknownGroupIsAnError) {
    LoadResult r = load(
        "model_list:\n"
        "  - model_name: a\n"
        "    litellm_params: {model: openai/gpt-4o, api_key: k}\n"
        "  - model_name: claude-quality\n"
        "    litellm_params: {model: openai/gpt-4o, api_key: k}\n"
        "router_settings:\n"
        "  fallbacks: [{a: [claude-qualty]}]\n");
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(any_equals(errors(r),
                           "test.yaml:7:20: router_settings.fallbacks[0].a[0]: unknown model group "
                           "\"claude-qualty\" in fallbacks (did you mean claude-quality?)"))
        << dump(r);
}

TEST(Validation, FallbackMatchedByWildcardGroupIsAccepted) {
    LoadResult r = load(
        "model_list:\n"
        "  - model_name: a\n"
        "    litellm_params: {model: openai/gpt-4o, api_key: k}\n"
        "  - model_name: anthropic/*\n"
        "    litellm_params: {model: anthropic/*, api_key: k}\n"
        "litellm_settings:\n"
        "  fallbacks: [{a: [anthropic/claude-3-haiku]}]\n"
        "  default_fallbacks: [a]\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.settings->router.default_fallbacks, std::vector<std::string>{"a"});
    EXPECT_EQ(r.settings->model_list[1].provider, "anthropic");
    EXPECT_EQ(r.settings->model_list[1].upstream_model, "*");
}

TEST(Validation, FallbackGroupKeyMustExistToo) {
    LoadResult r = load(
        "model_list:\n"
        "  - model_name: a\n"
        "    litellm_params: {model: openai/gpt-4o, api_key: k}\n"
        "litellm_settings:\n"
        "  context_window_fallbacks: [{nope: [a]}]\n");
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(any_contains(errors(r), "unknown model group \"nope\" in fallbacks")) << dump(r);
}

TEST(Validation, TypeErrors) {
    LoadResult r = load(
        "router_settings:\n"
        "  timeout: abc\n"
        "  num_retries: [1]\n"
        "litellm_settings:\n"
        "  drop_params: maybe\n");
    EXPECT_FALSE(r.ok());
    const auto e = errors(r);
    EXPECT_TRUE(any_equals(e,
                           "test.yaml:2:12: router_settings.timeout: expected a number, got "
                           "\"abc\""))
        << dump(r);
    EXPECT_TRUE(any_equals(e,
                           "test.yaml:3:16: router_settings.num_retries: expected an integer, "
                           "got a list"))
        << dump(r);
    EXPECT_TRUE(any_equals(e,
                           "test.yaml:5:16: litellm_settings.drop_params: expected a boolean "
                           "(true or false), got \"maybe\""))
        << dump(r);
}

TEST(Validation, NegativeTimeoutsAreErrors) {
    LoadResult r = load(
        "litellm_settings: {request_timeout: -1}\n"
        "router_settings: {stream_timeout: 0, cooldown_time: -5}\n"
        "model_list:\n"
        "  - model_name: a\n"
        "    litellm_params: {model: openai/gpt-4o, api_key: k, timeout: -3}\n");
    EXPECT_FALSE(r.ok());
    const auto e = errors(r);
    EXPECT_TRUE(any_contains(e, "litellm_settings.request_timeout: must be greater than 0"));
    EXPECT_TRUE(any_contains(e, "router_settings.stream_timeout: must be greater than 0"));
    EXPECT_TRUE(any_contains(e, "router_settings.cooldown_time: must not be negative"));
    EXPECT_TRUE(any_contains(e, "model_list[0].litellm_params.timeout: must be greater than 0"));
}

TEST(Validation, CustomAuthIsAnError) {
    LoadResult r = load("general_settings:\n  custom_auth: custom_auth.user_api_key_auth\n");
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(any_contains(errors(r), "test.yaml:2:3: general_settings.custom_auth: custom_auth"))
        << dump(r);
}

TEST(Validation, YamlSyntaxErrorHasLineAndColumn) {
    LoadResult r = load("model_list:\n  - model_name: [a, b\n");
    EXPECT_FALSE(r.ok());
    const auto e = errors(r);
    ASSERT_EQ(e.size(), 1U) << dump(r);
    EXPECT_EQ(e[0].rfind("test.yaml:3:1: YAML syntax error: ", 0), 0U) << e[0];
}

TEST(Validation, TopLevelMustBeAMapping) {
    LoadResult r = load("- a\n- b\n");
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(any_contains(errors(r), "expected a YAML mapping at the top level")) << dump(r);
    EXPECT_TRUE(load("").ok());
    EXPECT_TRUE(load("# only a comment\n").ok());
}

// ---------------------------------------------------------------------------------------------
// include (config.md §1.2).

TEST(Include, MergesListsAndMapsAndTheIncludingFileWins) {
    LoadResult r = load_file(kTestData + "/include/main.yaml", options());
    ASSERT_TRUE(r.ok()) << dump(r);
    const Settings& s = *r.settings;
    ASSERT_EQ(s.model_list.size(), 2U);
    EXPECT_EQ(s.model_list[0].model_name, "main-model");
    EXPECT_EQ(s.model_list[1].model_name, "included-model");
    EXPECT_EQ(s.router.num_retries, 4);               // including file wins
    EXPECT_DOUBLE_EQ(s.router.cooldown_time_s, 7.0);  // merged from the included map
    ASSERT_TRUE(s.general.master_key.has_value());    // nested include, relative path
    EXPECT_EQ(s.general.master_key->value, "sk-included-master-key-0123456789abcdef");
    ASSERT_EQ(s.router.fallbacks.size(), 1U);  // fallback to a group from the include
    // Diagnostics from an included file name that file.
    EXPECT_EQ(s.model_list[1].mark.file, kTestData + "/include/models.yaml");
    EXPECT_EQ(s.model_list[1].mark.line, 5);
}

TEST(Include, MissingFileIsAnErrorAtTheIncludeEntry) {
    LoadResult r = load("include:\n  - does-not-exist.yaml\n", {}, false, kTestData + "/x.yaml");
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(
        any_contains(errors(r), kTestData + "/x.yaml:2:5: include[0]: cannot read included file"))
        << dump(r);
}

TEST(Include, CycleIsAnError) {
    // main.yaml includes itself through a string document named like it.
    LoadResult r = load("include: [main.yaml]\n", {}, false, kTestData + "/include/main.yaml");
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(any_contains(errors(r), "include cycle")) << dump(r);
}

// ---------------------------------------------------------------------------------------------
// api_base / api_key resolution (providers.md §5-§6).

const char* kOpenAiNoBase =
    "model_list:\n"
    "  - model_name: m\n"
    "    litellm_params: {model: openai/gpt-4o, api_key: sk-x}\n";

TEST(Credentials, OpenAiApiBaseEnvOverridesTheDefault) {
    LoadResult r = load(kOpenAiNoBase, {{"OPENAI_API_BASE", "http://127.0.0.1:4010/v1"}});
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.settings->model_list[0].api_base, "http://127.0.0.1:4010/v1");

    r = load(kOpenAiNoBase, {{"OPENAI_BASE_URL", "http://second.example/v1/"}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.settings->model_list[0].api_base, "http://second.example/v1");  // trimmed

    r = load(kOpenAiNoBase,
             {{"OPENAI_API_BASE", "http://first.example/v1"},
              {"OPENAI_BASE_URL", "http://second.example/v1"}});
    EXPECT_EQ(r.settings->model_list[0].api_base, "http://first.example/v1");

    r = load(kOpenAiNoBase);
    EXPECT_EQ(r.settings->model_list[0].api_base, "https://api.openai.com/v1");
}

TEST(Credentials, LitellmParamsApiBaseWins) {
    LoadResult r = load(
        "model_list:\n"
        "  - model_name: m\n"
        "    litellm_params: {model: openai/gpt-4o, api_key: k, api_base: 'http://own:8000/v1'}\n",
        {{"OPENAI_API_BASE", "http://127.0.0.1:4010/v1"}});
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.settings->model_list[0].api_base, "http://own:8000/v1");
}

TEST(Credentials, InvalidApiBaseIsAnError) {
    LoadResult r = load(
        "model_list:\n"
        "  - model_name: m\n"
        "    litellm_params: {model: openai/gpt-4o, api_key: k, api_base: 'localhost:8000'}\n");
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(any_contains(errors(r), "model_list[0].litellm_params.api_base: must be an http"))
        << dump(r);
}

TEST(Credentials, ProviderNeedingApiBase) {
    const char* yaml =
        "model_list:\n"
        "  - model_name: local\n"
        "    litellm_params: {model: hosted_vllm/meta-llama/Llama-3-8b}\n";
    LoadResult r = load(yaml);
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(any_contains(errors(r),
                             "test.yaml:3:29: model_list[0].litellm_params.api_base: provider "
                             "hosted_vllm needs an api_base"))
        << dump(r);

    r = load(yaml, {{"HOSTED_VLLM_API_BASE", "http://gpu-box:8000/v1"}});
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.settings->model_list[0].api_base, "http://gpu-box:8000/v1");
    EXPECT_EQ(r.settings->model_list[0].upstream_model, "meta-llama/Llama-3-8b");
    EXPECT_FALSE(any_contains(warnings(r), "has no API key"));  // key optional for vLLM
}

TEST(Credentials, AzureResolvesFully) {
    const char* yaml =
        "model_list:\n"
        "  - model_name: gpt4o-eu\n"
        "    litellm_params:\n"
        "      model: azure/my-gpt4o\n"
        "      api_base: https://example-eu.openai.azure.com/\n"
        "      api_key: os.environ/AZURE_API_KEY_EU\n";
    LoadResult r = load(yaml, {{"AZURE_API_KEY_EU", "az-secret"}});
    ASSERT_TRUE(r.ok()) << dump(r);
    const Deployment& d = r.settings->model_list[0];
    EXPECT_EQ(d.provider, "azure");
    EXPECT_EQ(d.upstream_model, "my-gpt4o");
    EXPECT_TRUE(d.provider_supported);
    EXPECT_EQ(d.api_base, "https://example-eu.openai.azure.com");
    EXPECT_EQ(d.api_version, "2024-10-21");
    EXPECT_FALSE(any_contains(warnings(r), "provider azure not supported yet")) << dump(r);

    r = load(yaml, {{"AZURE_API_KEY_EU", "az"}, {"AZURE_API_VERSION", "2025-01-01-preview"}});
    EXPECT_EQ(r.settings->model_list[0].api_version, "2025-01-01-preview");

    r = load("model_list:\n  - model_name: x\n    litellm_params: {model: azure/d, api_key: k}\n");
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(any_contains(errors(r), "provider azure needs an api_base")) << dump(r);
}

TEST(Credentials, UnsupportedProviderWarnsOncePerProvider) {
    LoadResult r = load(
        "model_list:\n"
        "  - model_name: a\n"
        "    litellm_params: {model: bedrock/anthropic.claude-v2}\n"
        "  - model_name: b\n"
        "    litellm_params: {model: openai/gpt-4o, api_key: k}\n"
        "  - model_name: c\n"
        "    litellm_params: {model: bedrock/amazon.titan}\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_FALSE(r.settings->model_list[0].provider_supported);
    EXPECT_TRUE(r.settings->model_list[1].provider_supported);
    int n = 0;
    for (const std::string& w : warnings(r)) {
        if (w.find("provider bedrock not supported yet (model_list[0], model_list[2])") !=
            std::string::npos) {
            ++n;
        }
    }
    EXPECT_EQ(n, 1) << dump(r);
}

TEST(Credentials, UnknownPrefixIsABareNameAndFails) {
    LoadResult r = load(
        "model_list:\n"
        "  - model_name: gemma\n"
        "    litellm_params:\n"
        "      model: google/gemma-3\n");
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(any_equals(errors(r),
                           "test.yaml:4:14: model_list[0].litellm_params.model: LLM Provider NOT "
                           "provided. Pass in the LLM provider you are trying to call. You passed "
                           "model=google/gemma-3"))
        << dump(r);
}

// ---------------------------------------------------------------------------------------------
// Deployment ids, defaults and model_info.

TEST(Deployments, IdenticalDeploymentsGetSuffixedIds) {
    LoadResult r = load(
        "model_list:\n"
        "  - model_name: g\n"
        "    litellm_params: {model: openai/gpt-4o, api_key: k}\n"
        "  - model_name: g\n"
        "    litellm_params: {model: openai/gpt-4o, api_key: k}\n"
        "  - model_name: g\n"
        "    litellm_params: {api_key: k, model: openai/gpt-4o}\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    const std::string base = sha256_hex(
        R"({"litellm_params":{"api_key":"k","model":"openai/gpt-4o"},"model_name":"g"})");
    EXPECT_EQ(r.settings->model_list[0].id, base);
    EXPECT_EQ(r.settings->model_list[1].id, base + "-1");
    EXPECT_EQ(r.settings->model_list[2].id, base + "-2");  // key order does not matter
    EXPECT_TRUE(any_contains(warnings(r),
                             "test.yaml:4:5: model_list[1]: deployment id is also used by "
                             "model_list[0] (same model_name and litellm_params, or the same "
                             "model_info.id); this deployment's id gets the suffix -1"))
        << dump(r);
}

TEST(Deployments, IdCoversNumbersAndNestedValuesCanonically) {
    LoadResult r = load(
        "model_list:\n"
        "  - model_name: g\n"
        "    litellm_params:\n"
        "      model: openai/gpt-4o\n"
        "      rpm: 600\n"
        "      temperature: 0.50\n"
        "      api_version: \"2024-10-21\"\n"
        "      extra_headers: {b: '1', a: x}\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.settings->model_list[0].id,
              sha256_hex(R"({"litellm_params":{"api_version":"2024-10-21",)"
                         R"("extra_headers":{"a":"x","b":"1"},"model":"openai/gpt-4o",)"
                         R"("rpm":600,"temperature":0.5},"model_name":"g"})"));
}

TEST(Deployments, ModelInfoIdWinsAndModelInfoIsKeptAsJson) {
    LoadResult r = load(
        "model_list:\n"
        "  - model_name: g\n"
        "    litellm_params: {model: openai/gpt-4o, api_key: k}\n"
        "    model_info:\n"
        "      id: eu-1\n"
        "      mode: embedding\n"
        "      base_model: azure/gpt-4o-2024-08-06\n"
        "      access_groups: [beta]\n"
        "      max_input_tokens: 128000\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    const Deployment& d = r.settings->model_list[0];
    EXPECT_EQ(d.id, "eu-1");
    EXPECT_EQ(d.mode, "embedding");
    EXPECT_EQ(d.base_model, "azure/gpt-4o-2024-08-06");
    EXPECT_EQ(d.model_info_json,
              R"({"access_groups":["beta"],"base_model":"azure/gpt-4o-2024-08-06",)"
              R"("id":"eu-1","max_input_tokens":128000,"mode":"embedding"})");
}

TEST(Deployments, OpenAiParamsBecomeDefaultParams) {
    LoadResult r = load(
        "model_list:\n"
        "  - model_name: g\n"
        "    litellm_params:\n"
        "      model: openai/gpt-4o\n"
        "      api_key: k\n"
        "      temperature: 0.2\n"
        "      max_tokens: 100\n"
        "      stop: [\"\\n\", END]\n"
        "      response_format: {type: json_object}\n"
        "      seed: 7\n"
        "      user: \"123\"\n"
        "      rpm: 10\n"
        "      mock_timeout: false\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    const Deployment& d = r.settings->model_list[0];
    EXPECT_EQ(d.default_params_json,
              R"({"max_tokens":100,"response_format":{"type":"json_object"},"seed":7,)"
              R"("stop":["\n","END"],"temperature":0.2,"user":"123"})");
    EXPECT_EQ(d.rpm, 10);
    boost::json::value parsed = boost::json::parse(d.default_params_json);
    EXPECT_TRUE(parsed.is_object());
}

TEST(Deployments, TypedLitellmParams) {
    LoadResult r = load(
        "model_list:\n"
        "  - model_name: g\n"
        "    litellm_params:\n"
        "      model: openai/gpt-4o\n"
        "      api_key: k\n"
        "      organization: org-1\n"
        "      rpm: 600\n"
        "      tpm: 100000\n"
        "      weight: 2.5\n"
        "      order: 1\n"
        "      timeout: 120\n"
        "      stream_timeout: 15\n"
        "      max_retries: 1\n"
        "      num_retries: 4\n"
        "      cooldown_time: 0\n"
        "      max_parallel_requests: 8\n"
        "      input_cost_per_token: 0.000001\n"
        "      output_cost_per_token: 2e-6\n"
        "      extra_headers: {X-Team: blue}\n"
        "      drop_params: true\n"
        "      additional_drop_params: [logit_bias]\n"
        "      region_name: eu\n"
        "      mock_response: hello\n"
        "      mock_testing_rate_limit_error: true\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    const Deployment& d = r.settings->model_list[0];
    EXPECT_EQ(d.organization, "org-1");
    EXPECT_EQ(d.tpm, 100000);
    EXPECT_DOUBLE_EQ(*d.weight, 2.5);
    EXPECT_EQ(d.order, 1);
    EXPECT_DOUBLE_EQ(*d.timeout_s, 120.0);
    EXPECT_DOUBLE_EQ(*d.stream_timeout_s, 15.0);
    EXPECT_EQ(d.max_retries, 1);
    EXPECT_EQ(d.num_retries, 4);
    EXPECT_DOUBLE_EQ(*d.cooldown_time_s, 0.0);
    EXPECT_EQ(d.max_parallel_requests, 8);
    EXPECT_DOUBLE_EQ(*d.input_cost_per_token, 1e-6);
    EXPECT_DOUBLE_EQ(*d.output_cost_per_token, 2e-6);
    EXPECT_EQ(d.extra_headers.at("X-Team"), "blue");
    EXPECT_EQ(d.drop_params, true);
    EXPECT_EQ(d.additional_drop_params, std::vector<std::string>{"logit_bias"});
    EXPECT_EQ(d.region_name, "eu");
    EXPECT_EQ(d.mock_response, "hello");
    EXPECT_TRUE(d.mock_testing_rate_limit_error);
    EXPECT_EQ(d.default_params_json, "{}");
}

TEST(Deployments, WildcardDeploymentResolvesPerRequest) {
    LoadResult r = load("model_list:\n  - model_name: '*'\n    litellm_params: {model: '*'}\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    const Deployment& d = r.settings->model_list[0];
    EXPECT_EQ(d.provider, "");
    EXPECT_EQ(d.upstream_model, "*");
    EXPECT_TRUE(d.provider_supported);
    EXPECT_EQ(d.api_base, "");
}

TEST(Deployments, DefaultLitellmParamsFillMissingKeys) {
    LoadResult r = load(
        "router_settings:\n"
        "  default_litellm_params: {timeout: 30, temperature: 0.1}\n"
        "model_list:\n"
        "  - model_name: a\n"
        "    litellm_params: {model: openai/gpt-4o, api_key: k, timeout: 5}\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_DOUBLE_EQ(*r.settings->model_list[0].timeout_s, 5.0);
    EXPECT_EQ(r.settings->model_list[0].default_params_json, R"({"temperature":0.1})");
    // The id hashes the deployment as written, without router defaults.
    EXPECT_EQ(r.settings->model_list[0].id,
              sha256_hex(R"({"litellm_params":{"api_key":"k","model":"openai/gpt-4o",)"
                         R"("timeout":5},"model_name":"a"})"));
}

}  // namespace
}  // namespace sy::config
