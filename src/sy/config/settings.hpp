#pragma once
// Typed, validated configuration. Built once by the loader (loader.hpp); immutable afterwards and
// shared as std::shared_ptr<const Settings>. No other module sees YAML.
//
// Thread safety: immutable after load; safe to read from any thread.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace sy::config {

// Named defaults (ARCHITECTURE.md: bounded everything, defaults next to the struct).
inline constexpr double kDefaultRequestTimeoutS = 600.0;     // README D17
inline constexpr int kDefaultNumRetries = 2;                 // README D17
inline constexpr double kDefaultCooldownTimeS = 5.0;
inline constexpr int kDefaultAllowedFails = 3;
inline constexpr double kDefaultMaxRequestSizeMb = 32.0;
inline constexpr int kDefaultPort = 4000;
inline constexpr std::size_t kDefaultMaxHeaderBytes = 16 * 1024;
inline constexpr double kDefaultIdleTimeoutS = 75.0;         // client keep-alive idle
inline constexpr double kDefaultHeaderReadTimeoutS = 30.0;   // time to receive a full request head
inline constexpr double kDefaultGracePeriodS = 30.0;         // SIGTERM drain bound
inline constexpr double kDefaultConnectTimeoutCapS = 10.0;   // connect = min(timeout, 10 s)
inline constexpr int kDefaultMaxFallbacks = 5;

// A secret value (API key, master key). Never printed: use masked() for logs and dumps.
struct Secret {
    std::string value;
    std::string source;  // "os.environ/NAME" when it came from the environment, else "inline"
    bool empty() const { return value.empty(); }
    std::string masked() const { return source.empty() ? "***" : source + " (***)"; }
};

// Where a config value came from, for error messages and warnings ("file:line:col").
struct SourceMark {
    std::string file;
    int line = 0;    // 1-based
    int column = 0;  // 1-based
    std::string path;  // YAML path, e.g. model_list[3].litellm_params.model
};

// One model_list entry (a deployment).
struct Deployment {
    std::string model_name;  // group name clients call; may contain '*'
    std::string model;       // litellm_params.model as configured (e.g. "openai/gpt-4o", "gpt-4o")
    std::string provider;    // resolved provider slug ("openai", "anthropic", "azure", ...)
    std::string upstream_model;  // model sent upstream (prefix stripped)
    bool provider_supported = true;  // false: known but LATER provider (calls -> 400)

    std::optional<Secret> api_key;   // absent: provider env var (resolved at load when set)
    std::string api_base;            // resolved: litellm_params, else env, else provider default
    std::optional<std::string> api_version;
    std::optional<std::string> organization;
    std::map<std::string, std::string> extra_headers;

    std::optional<double> timeout_s;         // whole attempt / inter-chunk gap
    std::optional<double> stream_timeout_s;  // until first chunk
    std::optional<int> rpm;
    std::optional<int> tpm;
    std::optional<double> weight;
    std::optional<int> order;
    std::optional<int> max_retries;
    std::optional<int> num_retries;
    std::optional<double> cooldown_time_s;
    std::optional<int> max_parallel_requests;
    std::optional<double> input_cost_per_token;
    std::optional<double> output_cost_per_token;
    std::optional<bool> drop_params;
    std::vector<std::string> additional_drop_params;
    std::optional<std::string> region_name;

    // Test hooks (api.md §2.1); never forwarded upstream.
    std::optional<std::string> mock_response;
    bool mock_timeout = false;
    bool mock_testing_rate_limit_error = false;

    // OpenAI request params given as per-deployment defaults (temperature, max_tokens, ...),
    // as a JSON object text ("{}" when none). The client's value wins.
    std::string default_params_json = "{}";

    // model_info
    std::string id;  // model_info.id, else sha256 of canonical JSON (config.md §2.3)
    std::string mode = "chat";
    std::optional<std::string> base_model;
    std::string model_info_json = "{}";  // all model_info keys as JSON, echoed by /model/info

    SourceMark mark;  // where this entry starts
};

struct FallbackRule {
    std::string group;                 // "*" allowed for default_fallbacks
    std::vector<std::string> targets;  // in order
};

enum class RoutingStrategy : std::uint8_t {
    kSimpleShuffle,
    kLeastBusy,
    kLatencyBased,
    kUsageBased,
    kCostBased,  // LATER
};

struct RouterSettings {
    RoutingStrategy routing_strategy = RoutingStrategy::kSimpleShuffle;
    int num_retries = kDefaultNumRetries;
    double retry_after_s = 0.0;
    int allowed_fails = kDefaultAllowedFails;
    bool allowed_fails_explicit = false;  // set in the config: legacy cooldown rule (router.md §4.2)
    double cooldown_time_s = kDefaultCooldownTimeS;
    bool disable_cooldowns = false;
    double timeout_s = kDefaultRequestTimeoutS;
    std::optional<double> stream_timeout_s;  // unset = timeout
    int max_fallbacks = kDefaultMaxFallbacks;
    std::vector<FallbackRule> fallbacks;
    std::vector<FallbackRule> context_window_fallbacks;
    std::vector<FallbackRule> content_policy_fallbacks;
    std::vector<std::string> default_fallbacks;
    std::map<std::string, std::string> model_group_alias;  // alias -> group
    std::optional<int> default_max_parallel_requests;
    bool enable_pre_call_checks = false;
    std::string routing_strategy_args_json = "{}";
    std::string retry_policy_json = "{}";
    std::string allowed_fails_policy_json = "{}";
    // model_group_alias entries written as {model: group, hidden: true}: kept out of /v1/models.
    std::vector<std::string> hidden_model_group_aliases;
    // Known keys without a typed field yet (model_group_retry_policy, redis_*), type-checked,
    // as a JSON object with sorted keys.
    std::string other_settings_json = "{}";
};

struct LitellmSettings {
    bool drop_params = false;
    bool modify_params = false;
    bool json_logs = false;
    bool turn_off_message_logging = false;
    bool set_verbose = false;
    bool cache = false;
    std::string cache_params_json = "{}";
    std::vector<std::string> callbacks;
    std::map<std::string, std::string> model_alias_map;
    std::optional<double> max_budget;
    std::optional<std::string> budget_duration;
    bool require_auth_for_metrics_endpoint = true;
    // Known keys without a typed field yet (timezone, max_end_user_budget,
    // default_key_generate_params, ...), type-checked, as a JSON object with sorted keys.
    std::string other_settings_json = "{}";
};

struct GeneralSettings {
    std::optional<Secret> master_key;  // absent: no auth (README D1)
    bool allow_unauthenticated = false;
    std::optional<Secret> database_url;
    std::string database_path;  // resolved: beside the config file, default switchyard.db
    // Spend-ledger write-ahead log root (resolved against the config directory); empty = the
    // default (app.cpp: beside the SQLite file, or under $XDG_STATE_HOME with PostgreSQL).
    std::string spend_wal_dir;
    double max_request_size_mb = kDefaultMaxRequestSizeMb;
    std::optional<std::string> litellm_key_header_name;
    bool background_health_checks = false;
    double health_check_interval_s = 300.0;
    bool health_check_details = true;
    std::optional<int> global_max_parallel_requests;
    std::optional<bool> dangerously_allow_mock_testing_request_params;
    bool store_model_in_db = false;  // also env STORE_MODEL_IN_DB=True
    // Server limits (ours).
    std::size_t max_header_bytes = kDefaultMaxHeaderBytes;
    double idle_timeout_s = kDefaultIdleTimeoutS;
    double header_read_timeout_s = kDefaultHeaderReadTimeoutS;
    double graceful_shutdown_timeout_s = kDefaultGracePeriodS;
    // Known keys without a typed field yet (disable_spend_logs, token_rate_limit_type,
    // user_api_key_cache_ttl, ...), type-checked, as a JSON object with sorted keys.
    std::string other_settings_json = "{}";
};

// The whole validated configuration.
struct Settings {
    std::string config_path;  // empty when started without --config
    std::vector<Deployment> model_list;
    LitellmSettings litellm;
    RouterSettings router;
    GeneralSettings general;
};

using SettingsConstSharedPtr = std::shared_ptr<const Settings>;

}  // namespace sy::config
