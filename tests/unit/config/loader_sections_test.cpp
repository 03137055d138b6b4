#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstdlib>
#include <string>

#include "sy/config/loader.hpp"  // first: the header is self-contained
#include "unit/config/config_test_util.hpp"

namespace sy::config {
namespace {

using namespace sy::config::testing;  // NOLINT(google-build-using-namespace)

const std::string kTestData = SY_CONFIG_TESTDATA;
const std::string kSourceDir = SY_SOURCE_DIR;

// ---------------------------------------------------------------------------------------------
// Defaults and the empty configuration.

TEST(Defaults, LoadDefaults) {
    LoadResult r =
        load_defaults(options({{"LITELLM_MASTER_KEY", "sk-from-env-0123456789abcdef0123"}}));
    ASSERT_TRUE(r.ok()) << dump(r);
    const Settings& s = *r.settings;
    EXPECT_TRUE(s.config_path.empty());
    EXPECT_TRUE(s.model_list.empty());
    EXPECT_EQ(s.general.master_key->source, "os.environ/LITELLM_MASTER_KEY");
    EXPECT_EQ(s.general.database_path, "switchyard.db");
    EXPECT_EQ(s.router.routing_strategy, RoutingStrategy::kSimpleShuffle);
    EXPECT_EQ(s.router.num_retries, kDefaultNumRetries);
    EXPECT_DOUBLE_EQ(s.router.timeout_s, kDefaultRequestTimeoutS);
    EXPECT_DOUBLE_EQ(s.general.max_request_size_mb, kDefaultMaxRequestSizeMb);
    EXPECT_TRUE(s.litellm.require_auth_for_metrics_endpoint);

    r = load_defaults(options());
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r.settings->general.master_key.has_value());
    EXPECT_TRUE(r.diagnostics.empty()) << dump(r);
}

TEST(Defaults, EnvironmentDefaultsForRouterAndFlags) {
    LoadResult r = load("model_list: []\n",
                        {{"DEFAULT_COOLDOWN_TIME_SECONDS", "9"},
                         {"DEFAULT_ALLOWED_FAILS", "6"},
                         {"ROUTER_MAX_FALLBACKS", "2"},
                         {"JSON_LOGS", "True"},
                         {"STORE_MODEL_IN_DB", "True"}});
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_DOUBLE_EQ(r.settings->router.cooldown_time_s, 9.0);
    EXPECT_EQ(r.settings->router.allowed_fails, 6);
    EXPECT_EQ(r.settings->router.max_fallbacks, 2);
    EXPECT_TRUE(r.settings->litellm.json_logs);
    EXPECT_TRUE(r.settings->general.store_model_in_db);

    // The config wins over the environment default.
    r = load("router_settings: {cooldown_time: 1}\n", {{"DEFAULT_COOLDOWN_TIME_SECONDS", "9"}});
    EXPECT_DOUBLE_EQ(r.settings->router.cooldown_time_s, 1.0);

    r = load("model_list: []\n", {{"DEFAULT_ALLOWED_FAILS", "lots"}});
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(any_contains(warnings(r),
                             "environment variable DEFAULT_ALLOWED_FAILS is not a "
                             "valid"));
}

// ---------------------------------------------------------------------------------------------
// litellm_settings / router_settings precedence (config.md §1.4, §6).

TEST(RouterSettings, RouterWinsOverLitellmSettings) {
    LoadResult r = load(
        "model_list:\n"
        "  - {model_name: a, litellm_params: {model: openai/gpt-4o, api_key: k}}\n"
        "  - {model_name: b, litellm_params: {model: openai/gpt-4o, api_key: k}}\n"
        "litellm_settings:\n"
        "  num_retries: 7\n"
        "  request_timeout: 100\n"
        "  allowed_fails: 9\n"
        "  fallbacks: [{a: [b]}]\n"
        "router_settings:\n"
        "  num_retries: 1\n"
        "  timeout: 20\n"
        "  fallbacks: [{b: [a]}]\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    const RouterSettings& rs = r.settings->router;
    EXPECT_EQ(rs.num_retries, 1);
    EXPECT_DOUBLE_EQ(rs.timeout_s, 20.0);
    EXPECT_EQ(rs.allowed_fails, 9);  // only litellm_settings gives it
    ASSERT_EQ(rs.fallbacks.size(), 1U);
    EXPECT_EQ(rs.fallbacks[0].group, "b");
}

TEST(RouterSettings, LitellmSettingsApplyWhenRouterIsSilent) {
    LoadResult r = load("litellm_settings: {num_retries: 0, request_timeout: 12.5}\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.settings->router.num_retries, 0);
    EXPECT_DOUBLE_EQ(r.settings->router.timeout_s, 12.5);
}

TEST(RouterSettings, AllTypedFields) {
    LoadResult r = load(
        "model_list:\n"
        "  - {model_name: a, litellm_params: {model: openai/gpt-4o, api_key: k}}\n"
        "  - {model_name: b, litellm_params: {model: openai/gpt-4o, api_key: k}}\n"
        "router_settings:\n"
        "  routing_strategy: usage-based-routing-v2\n"
        "  routing_strategy_args: {ttl: 60, max_latency_list_size: 5}\n"
        "  retry_after: 2\n"
        "  retry_policy: {RateLimitErrorRetries: 5, TimeoutErrorRetries: 1}\n"
        "  allowed_fails_policy: {RateLimitErrorAllowedFails: 10}\n"
        "  cooldown_time: 30\n"
        "  disable_cooldowns: true\n"
        "  stream_timeout: 15\n"
        "  max_fallbacks: 3\n"
        "  context_window_fallbacks: [{a: [b]}]\n"
        "  content_policy_fallbacks: [{a: b}]\n"
        "  default_fallbacks: [b]\n"
        "  model_group_alias: {gpt-4: a, secret-b: {model: b, hidden: true}}\n"
        "  enable_pre_call_checks: true\n"
        "  default_max_parallel_requests: 50\n"
        "  model_group_retry_policy: {a: {TimeoutErrorRetries: 0}}\n"
        "  redis_host: localhost\n"
        "  redis_port: 6379\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    const RouterSettings& rs = r.settings->router;
    EXPECT_EQ(rs.routing_strategy, RoutingStrategy::kUsageBased);
    EXPECT_EQ(rs.routing_strategy_args_json, R"({"max_latency_list_size":5,"ttl":60})");
    EXPECT_DOUBLE_EQ(rs.retry_after_s, 2.0);
    EXPECT_EQ(rs.retry_policy_json, R"({"RateLimitErrorRetries":5,"TimeoutErrorRetries":1})");
    EXPECT_EQ(rs.allowed_fails_policy_json, R"({"RateLimitErrorAllowedFails":10})");
    EXPECT_DOUBLE_EQ(rs.cooldown_time_s, 30.0);
    EXPECT_TRUE(rs.disable_cooldowns);
    EXPECT_DOUBLE_EQ(*rs.stream_timeout_s, 15.0);
    EXPECT_EQ(rs.max_fallbacks, 3);
    ASSERT_EQ(rs.context_window_fallbacks.size(), 1U);
    ASSERT_EQ(rs.content_policy_fallbacks.size(), 1U);
    EXPECT_EQ(rs.content_policy_fallbacks[0].targets, std::vector<std::string>{"b"});
    EXPECT_EQ(rs.default_fallbacks, std::vector<std::string>{"b"});
    EXPECT_EQ(rs.model_group_alias.at("gpt-4"), "a");
    EXPECT_EQ(rs.model_group_alias.at("secret-b"), "b");
    EXPECT_EQ(rs.hidden_model_group_aliases, std::vector<std::string>{"secret-b"});
    EXPECT_TRUE(rs.enable_pre_call_checks);
    EXPECT_EQ(rs.default_max_parallel_requests, 50);
    EXPECT_EQ(rs.other_settings_json,
              R"({"model_group_retry_policy":{"a":{"TimeoutErrorRetries":0}},)"
              R"("redis_host":"localhost","redis_port":6379})");
}

TEST(RouterSettings, UnknownPolicyKeyWarns) {
    LoadResult r = load("router_settings:\n  retry_policy: {RateLimitErrorRetry: 5}\n");
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(any_contains(warnings(r),
                             "unknown key router_settings.retry_policy.RateLimitErrorRetry (did "
                             "you mean RateLimitErrorRetries?)"))
        << dump(r);
}

TEST(RouterSettings, AliasToUnknownGroupWarns) {
    LoadResult r = load("router_settings:\n  model_group_alias: {gpt-4: nothing}\n");
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(any_contains(warnings(r), "alias target \"nothing\" is not a model group"));
}

TEST(RouterSettings, FallbackToUnknownGroupOnlyWarnsWithStoreModelInDb) {
    LoadResult r = load(
        "general_settings: {store_model_in_db: true}\n"
        "router_settings: {fallbacks: [{a: [b]}]}\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_TRUE(any_contains(warnings(r), "it may be added through /model/new"));
}

// ---------------------------------------------------------------------------------------------
// litellm_settings.

TEST(LitellmSettings, AllTypedFields) {
    LoadResult r = load(
        "litellm_settings:\n"
        "  drop_params: True\n"
        "  modify_params: yes\n"
        "  json_logs: true\n"
        "  turn_off_message_logging: true\n"
        "  set_verbose: false\n"
        "  cache: true\n"
        "  cache_params: {type: local, ttl: 600, namespace: ns, supported_call_types: "
        "[acompletion], "
        "mode: default_off, scope: team}\n"
        "  callbacks: [prometheus]\n"
        "  model_alias_map: {gpt-4: gpt-4o}\n"
        "  max_budget: 100\n"
        "  budget_duration: 30d\n"
        "  require_auth_for_metrics_endpoint: false\n"
        "  timezone: Europe/Paris\n"
        "  max_end_user_budget: 1.5\n"
        "model_list:\n"
        "  - {model_name: gpt-4o, litellm_params: {model: openai/gpt-4o, api_key: k}}\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    const LitellmSettings& l = r.settings->litellm;
    EXPECT_TRUE(l.drop_params);
    EXPECT_TRUE(l.modify_params);
    EXPECT_TRUE(l.json_logs);
    EXPECT_TRUE(l.turn_off_message_logging);
    EXPECT_FALSE(l.set_verbose);
    EXPECT_TRUE(l.cache);
    EXPECT_EQ(l.cache_params_json,
              R"({"mode":"default_off","namespace":"ns","scope":"team",)"
              R"("supported_call_types":["acompletion"],"ttl":600,"type":"local"})");
    EXPECT_EQ(l.callbacks, std::vector<std::string>{"prometheus"});
    EXPECT_EQ(l.model_alias_map.at("gpt-4"), "gpt-4o");
    EXPECT_DOUBLE_EQ(*l.max_budget, 100.0);
    EXPECT_EQ(l.budget_duration, "30d");
    EXPECT_FALSE(l.require_auth_for_metrics_endpoint);
    EXPECT_EQ(l.other_settings_json, R"({"max_end_user_budget":1.5,"timezone":"Europe/Paris"})");
    EXPECT_TRUE(warnings(r).empty() || !any_contains(warnings(r), "unknown key")) << dump(r);
}

TEST(LitellmSettings, BadDurationAndCacheValues) {
    LoadResult r = load(
        "litellm_settings:\n"
        "  budget_duration: 30x\n"
        "  cache_params: {type: memcached, mode: sometimes}\n");
    EXPECT_FALSE(r.ok());
    const auto e = errors(r);
    EXPECT_TRUE(any_contains(e, "litellm_settings.budget_duration: invalid duration \"30x\""));
    EXPECT_TRUE(any_contains(e, "litellm_settings.cache_params.type: invalid value \"memcached\""));
    EXPECT_TRUE(any_contains(e, "litellm_settings.cache_params.mode: invalid value \"sometimes\""));
}

TEST(LitellmSettings, LaterCacheTypesAndCallbacksWarn) {
    LoadResult r = load(
        "litellm_settings:\n"
        "  callbacks: [prometheus, langfuse]\n"
        "  success_callback: [langfuse]\n"
        "  cache_params: {type: redis-semantic, similarity_threshold: 0.8, s3_bucket_name: b}\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    const auto w = warnings(r);
    EXPECT_TRUE(
        any_contains(w, "litellm_settings.callbacks: callback langfuse not supported, ignored"));
    EXPECT_TRUE(any_contains(w, "litellm_settings.success_callback not supported, ignored"));
    EXPECT_TRUE(any_contains(w, "cache type \"redis-semantic\" not supported"));
    EXPECT_TRUE(any_contains(w, "cache_params.similarity_threshold not supported, ignored"));
    EXPECT_TRUE(any_contains(w, "cache_params.s3_bucket_name not supported, ignored"));
}

// ---------------------------------------------------------------------------------------------
// general_settings.

TEST(GeneralSettings, AllTypedFields) {
    LoadResult r = load(
        "general_settings:\n"
        "  master_key: sk-0123456789abcdef0123456789abcdef\n"
        "  allow_unauthenticated: true\n"
        "  database_url: postgresql://user:pw@db:5432/litellm\n"
        "  max_request_size_mb: 8\n"
        "  litellm_key_header_name: X-Api-Key\n"
        "  background_health_checks: true\n"
        "  health_check_interval: 60\n"
        "  health_check_details: false\n"
        "  global_max_parallel_requests: 100\n"
        "  dangerously_allow_mock_testing_request_params: false\n"
        "  max_header_bytes: 32768\n"
        "  idle_timeout: 10\n"
        "  header_read_timeout: 5\n"
        "  graceful_shutdown_timeout: 3\n"
        "  token_rate_limit_type: output\n"
        "  disable_spend_logs: true\n"
        "  maximum_spend_logs_retention_period: 7d\n");
    ASSERT_TRUE(r.ok()) << dump(r);
    const GeneralSettings& g = r.settings->general;
    EXPECT_EQ(g.master_key->source, "inline");
    EXPECT_TRUE(g.allow_unauthenticated);
    EXPECT_EQ(g.database_url->value, "postgresql://user:pw@db:5432/litellm");
    EXPECT_DOUBLE_EQ(g.max_request_size_mb, 8.0);
    EXPECT_EQ(g.litellm_key_header_name, "X-Api-Key");
    EXPECT_TRUE(g.background_health_checks);
    EXPECT_DOUBLE_EQ(g.health_check_interval_s, 60.0);
    EXPECT_FALSE(g.health_check_details);
    EXPECT_EQ(g.global_max_parallel_requests, 100);
    EXPECT_EQ(g.dangerously_allow_mock_testing_request_params, false);
    EXPECT_EQ(g.max_header_bytes, 32768U);
    EXPECT_DOUBLE_EQ(g.idle_timeout_s, 10.0);
    EXPECT_DOUBLE_EQ(g.header_read_timeout_s, 5.0);
    EXPECT_DOUBLE_EQ(g.graceful_shutdown_timeout_s, 3.0);
    EXPECT_EQ(g.other_settings_json,
              R"({"disable_spend_logs":true,"maximum_spend_logs_retention_period":"7d",)"
              R"("token_rate_limit_type":"output"})");
    for (const Diagnostic& d : r.diagnostics) {
        EXPECT_EQ(d.message.find("user:pw"), std::string::npos) << d.message;
    }
}

TEST(GeneralSettings, DatabasePath) {
    LoadResult r = load("model_list: []\n", {}, false, "/etc/switchyard/config.yaml");
    EXPECT_EQ(r.settings->general.database_path, "/etc/switchyard/switchyard.db");

    r = load("general_settings: {database_path: data/keys.db}\n", {}, false, "/srv/cfg/c.yaml");
    EXPECT_EQ(r.settings->general.database_path, "/srv/cfg/data/keys.db");

    r = load("general_settings: {database_path: /var/lib/sy.db}\n", {}, false, "/srv/c.yaml");
    EXPECT_EQ(r.settings->general.database_path, "/var/lib/sy.db");

    r = load("general_settings: {database_path: ':memory:'}\n", {}, false, "/srv/c.yaml");
    EXPECT_EQ(r.settings->general.database_path, ":memory:");
}

TEST(GeneralSettings, DatabaseUrl) {
    LoadResult r = load("model_list: []\n", {{"DATABASE_URL", "postgresql://a:b@h/d"}});
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.settings->general.database_url->source, "os.environ/DATABASE_URL");

    r = load("general_settings: {database_url: 'mysql://a:secretpw@h/d'}\n");
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(any_contains(errors(r), "database_url must be a postgresql:// URL"));
    for (const Diagnostic& d : r.diagnostics) {
        EXPECT_EQ(d.message.find("secretpw"), std::string::npos) << d.message;
    }
}

TEST(GeneralSettings, BadValues) {
    LoadResult r = load(
        "general_settings:\n"
        "  max_request_size_mb: 0\n"
        "  token_rate_limit_type: both\n"
        "  health_check_interval: -1\n"
        "  max_header_bytes: 12\n");
    EXPECT_FALSE(r.ok());
    const auto e = errors(r);
    EXPECT_TRUE(any_contains(e, "general_settings.max_request_size_mb: must be greater than 0"));
    EXPECT_TRUE(any_contains(e, "general_settings.token_rate_limit_type: invalid value \"both\""));
    EXPECT_TRUE(any_contains(e, "general_settings.health_check_interval: must be greater than 0"));
    EXPECT_TRUE(any_contains(e, "general_settings.max_header_bytes: must be at least 1024"));
}

// ---------------------------------------------------------------------------------------------
// YAML features.

TEST(Yaml, DuplicateKeysWarnAndTheLastWins) {
    LoadResult r = load("router_settings:\n  num_retries: 1\n  num_retries: 5\n");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.settings->router.num_retries, 5);
    EXPECT_TRUE(any_equals(warnings(r),
                           "test.yaml:3:3: router_settings.num_retries: duplicate key "
                           "num_retries; the last value is used"))
        << dump(r);
}

TEST(Yaml, AnchorsAliasesAndMergeKeys) {
    LoadResult r = load(
        "x-common: &common {api_key: os.environ/K, rpm: 10}\n"
        "model_list:\n"
        "  - model_name: a\n"
        "    litellm_params:\n"
        "      <<: *common\n"
        "      model: openai/gpt-4o\n"
        "      rpm: 20\n",
        {{"K", "sk-k"}});
    ASSERT_TRUE(r.ok()) << dump(r);
    const Deployment& d = r.settings->model_list[0];
    EXPECT_EQ(d.rpm, 20);  // explicit key wins over the merge
    EXPECT_EQ(d.api_key->value, "sk-k");
    EXPECT_TRUE(any_contains(warnings(r), "unknown top-level section x-common"));
}

TEST(Yaml, RecursiveAliasIsAnError) {
    LoadResult r = load("a: &x [1, *x]\n");
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(any_contains(errors(r), "alias refers to an anchor that is not complete"));
}

TEST(Yaml, ComplexKeysAreErrors) {
    LoadResult r = load("? [a]\n: b\n");
    EXPECT_FALSE(r.ok());
    EXPECT_TRUE(any_contains(errors(r), "mapping keys must be plain strings")) << dump(r);
}

// ---------------------------------------------------------------------------------------------
// Files.

TEST(Files, MissingConfigFileIsAnError) {
    LoadResult r = load_file("/nonexistent/dir/config.yaml", options());
    EXPECT_FALSE(r.ok());
    ASSERT_EQ(errors(r).size(), 1U);
    EXPECT_EQ(errors(r)[0].rfind("/nonexistent/dir/config.yaml: cannot read config file", 0), 0U);
}

TEST(Files, ExampleConfigLoadsAndUsesTheMockBase) {
    const std::string path = kSourceDir + "/config/example.yaml";
    LoadResult r = load_file(path, options({{"OPENAI_API_BASE", "http://127.0.0.1:4010/v1"}}));
    ASSERT_TRUE(r.ok()) << dump(r);
    const Settings& s = *r.settings;
    ASSERT_GE(s.model_list.size(), 3U);
    std::vector<std::string> groups;
    for (const Deployment& d : s.model_list) {
        groups.push_back(d.model_name);
        EXPECT_EQ(d.provider, "openai") << d.model_name;
        EXPECT_TRUE(d.provider_supported);
        EXPECT_EQ(d.api_base, "http://127.0.0.1:4010/v1") << d.model_name;
    }
    for (const char* g : {"gpt-4o", "gpt-4o-mini", "text-embedding-3-small"}) {
        EXPECT_NE(std::find(groups.begin(), groups.end(), g), groups.end()) << g;
    }
    EXPECT_EQ(s.general.master_key->value, "sk-1234");
    EXPECT_TRUE(errors(r).empty());

    // Without the mock variable the real OpenAI base is used.
    r = load_file(path, options({{"OPENAI_API_KEY", "sk-real"}}));
    ASSERT_TRUE(r.ok()) << dump(r);
    EXPECT_EQ(r.settings->model_list[0].api_base, "https://api.openai.com/v1");
    EXPECT_EQ(r.settings->model_list[0].api_key->value, "sk-real");
}

TEST(Files, EnvironmentVariablesReachTheProcessForLoadFileWithoutCustomEnv) {
    const std::string path = kTestData + "/env_vars.yaml";
    ::unsetenv("SY_CONFIG_TEST_FROM_FILE");
    LoadOptions o;  // no custom EnvLookup: process environment
    LoadResult r = load_file(path, o);
    ASSERT_TRUE(r.ok()) << dump(r);
    const char* v = std::getenv("SY_CONFIG_TEST_FROM_FILE");
    ASSERT_NE(v, nullptr);
    EXPECT_STREQ(v, "from-config");
    EXPECT_EQ(r.settings->model_list[0].api_key->value, "from-config");
    ::unsetenv("SY_CONFIG_TEST_FROM_FILE");

    // With a custom EnvLookup the process environment is left alone.
    r = load_file(path, options());
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(std::getenv("SY_CONFIG_TEST_FROM_FILE"), nullptr);
    EXPECT_EQ(r.settings->model_list[0].api_key->value, "from-config");
}

}  // namespace
}  // namespace sy::config
