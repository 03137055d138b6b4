#pragma once
// Loads a LiteLLM-format config.yaml into typed Settings (settings.hpp).
// yaml-cpp is used only inside this module.
//
// Thread safety: free functions, no shared state (reads the environment through EnvLookup).

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sy/config/settings.hpp"

namespace sy::config {

struct Diagnostic {
    enum class Level { kWarning, kError };
    Level level = Level::kWarning;
    // Full human-readable text, already prefixed with "file:line:column: <yaml.path>: " when a
    // location is known. Never contains a secret value.
    std::string message;
};

// Returns the value of an environment variable, or nullopt when unset.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
EnvLookup process_env();  // getenv-backed

struct LoadOptions {
    bool strict = false;  // unknown keys become errors
    // Empty = process_env(). With an empty `env`, load_file() also setenv()s the config's
    // `environment_variables` into the process (LiteLLM behaviour); call it before starting
    // threads. load_string() and a custom `env` never touch the process environment.
    EnvLookup env;
};

struct LoadResult {
    std::shared_ptr<Settings> settings;  // null when any error was reported
    std::vector<Diagnostic> diagnostics;
    bool ok() const { return settings != nullptr; }
};

LoadResult load_file(const std::string& path, const LoadOptions& opts);
LoadResult load_string(std::string_view yaml_text, const std::string& file_name,
                       const LoadOptions& opts);

// Settings for a gateway started without --config (empty model_list; master key from
// LITELLM_MASTER_KEY when set).
LoadResult load_defaults(const LoadOptions& opts);

}  // namespace sy::config
