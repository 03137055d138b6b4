#pragma once
// Model groups built from the model_list: resolution of a requested model name (deployment id,
// aliases, exact group, wildcard patterns) and deployment choice within a group.
//
// Thread safety: the table is immutable after build(); DeploymentState is updated concurrently
// through atomics and its own mutex.

#include <atomic>
#include <boost/json/object.hpp>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sy/config/settings.hpp"
#include "sy/core/error.hpp"
#include "sy/providers/openai.hpp"

namespace sy::routing {

// What the router observed about a deployment (passive health, /health).
class DeploymentState {
public:
    void record_success(std::int64_t latency_us);
    void record_failure(int status, std::string error_text);

    struct Snapshot {
        std::uint64_t successes = 0;
        std::uint64_t failures = 0;
        std::uint64_t consecutive_failures = 0;
        std::int64_t last_latency_us = 0;
        int last_status = 0;
        std::string last_error;
    };
    Snapshot snapshot() const;

private:
    mutable std::mutex mu_;
    Snapshot s_;
};

struct DeploymentRuntime {
    const config::Deployment* cfg = nullptr;  // owned by the settings snapshot
    std::optional<providers::Target> target;  // absent for not-yet-supported providers
    boost::json::object defaults;             // per-deployment request defaults
    std::unique_ptr<DeploymentState> state = std::make_unique<DeploymentState>();
};

struct ModelGroup {
    std::string name;
    bool wildcard = false;
    std::vector<DeploymentRuntime*> members;
};

struct Resolved {
    const ModelGroup* group = nullptr;
    DeploymentRuntime* pinned = nullptr;  // the request named a deployment id
    std::string wildcard_capture;         // text matched by '*'
};

class ModelTable {
public:
    static Result<std::unique_ptr<ModelTable>> build(config::SettingsConstSharedPtr settings);

    std::optional<Resolved> resolve(std::string_view requested) const;
    // Random choice within the group (weights and strategies come with the router).
    DeploymentRuntime* pick(const ModelGroup& g) const;
    // Upstream model name for a deployment chosen through `r`.
    static std::string upstream_model(const DeploymentRuntime& d, const Resolved& r);

    std::vector<std::string> public_group_names() const;  // sorted, wildcard groups omitted
    const std::vector<std::unique_ptr<DeploymentRuntime>>& deployments() const {
        return deployments_;
    }
    const config::Settings& settings() const { return *settings_; }

private:
    config::SettingsConstSharedPtr settings_;
    std::vector<std::unique_ptr<DeploymentRuntime>> deployments_;
    std::vector<std::unique_ptr<ModelGroup>> groups_;
};

// Single-'*' glob match; on success `capture` receives the text matched by '*'.
bool glob_match(std::string_view pattern, std::string_view text, std::string* capture);

}  // namespace sy::routing
