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
#include "sy/routing/deployment_state.hpp"

namespace sy::routing {

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
    // simple-shuffle weights (router.md §3.1), decided over all members at build time.
    std::vector<double> weights;
    // Smooth weighted round-robin state, one slot per member.
    mutable std::mutex mu;
    mutable std::vector<double> current;
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
    // Upstream model name for a deployment chosen through `r`.
    static std::string upstream_model(const DeploymentRuntime& d, const Resolved& r);

    std::vector<std::string> public_group_names() const;  // sorted, wildcard groups omitted
    const std::vector<std::unique_ptr<DeploymentRuntime>>& deployments() const {
        return deployments_;
    }
    const ModelGroup* group(std::string_view name) const;  // exact name, wildcards included
    const config::Settings& settings() const { return *settings_; }

private:
    config::SettingsConstSharedPtr settings_;
    std::vector<std::unique_ptr<DeploymentRuntime>> deployments_;
    std::vector<std::unique_ptr<ModelGroup>> groups_;
};

// Single-'*' glob match; on success `capture` receives the text matched by '*'.
bool glob_match(std::string_view pattern, std::string_view text, std::string* capture);

}  // namespace sy::routing
