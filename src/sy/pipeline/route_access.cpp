#include "sy/pipeline/route_access.hpp"

namespace sy::pipeline {
namespace {

// "/v1/chat/completions" and "/chat/completions" name the same route.
std::string_view without_v1(std::string_view p) {
    return p.starts_with("/v1/") ? p.substr(3) : p;
}

bool entry_matches(std::string_view entry, std::string_view path, RouteClass c) {
    if (entry == "llm_api_routes") {
        return c == RouteClass::kLlm || c == RouteClass::kModels;
    }
    if (entry == "info_routes") {
        return c == RouteClass::kInfo;
    }
    if (entry == "management_routes") {
        return c == RouteClass::kManagement || c == RouteClass::kInfo;
    }
    std::string_view p = without_v1(path);
    std::string_view e = without_v1(entry);
    if (e.ends_with("/*")) {
        std::string_view prefix = e.substr(0, e.size() - 1);  // keeps the '/'
        return p.starts_with(prefix) || p == e.substr(0, e.size() - 2);
    }
    return p == e;
}

Error denied(std::string_view path, std::string_view why) {
    return Error::make(Errc::kForbidden, "Authentication Error - key not allowed to access route " +
                                             std::string(path) + ": " + std::string(why))
        .with_type("auth_error");
}

}  // namespace

RouteClass management_class(std::string_view path, bool is_get) {
    if (is_get && (path.ends_with("/info")) &&
        (path.starts_with("/key/") || path.starts_with("/user/") || path.starts_with("/team/") ||
         path.starts_with("/customer/") || path.starts_with("/end_user/"))) {
        return RouteClass::kInfo;
    }
    if (is_get && (path == "/model/info" || path == "/v1/model/info" || path == "/v2/model/info" ||
                   path == "/model_group/info")) {
        return RouteClass::kModels;
    }
    return RouteClass::kManagement;
}

Status check_key_route(const auth::KeyInfo& key, std::string_view path, RouteClass c) {
    const std::string& t = key.key_type;
    if (t == "llm_api" && c != RouteClass::kLlm && c != RouteClass::kModels &&
        c != RouteClass::kHealth) {
        return denied(path, "key_type llm_api allows LLM and model routes only");
    }
    if (t == "management" && c != RouteClass::kManagement && c != RouteClass::kInfo) {
        return denied(path, "key_type management allows management routes only");
    }
    if (t == "read_only" && c != RouteClass::kInfo) {
        return denied(path, "key_type read_only allows info routes only");
    }
    if (key.team_id && *key.team_id == "litellm-dashboard" && c != RouteClass::kManagement &&
        c != RouteClass::kInfo) {
        return denied(path, "UI session keys allow management and info routes only");
    }
    if (!key.allowed_routes.empty()) {
        for (const auto& e : key.allowed_routes) {
            if (entry_matches(e, path, c)) {
                return ok_status();
            }
        }
        return denied(path, "not in the key's allowed_routes");
    }
    return ok_status();
}

}  // namespace sy::pipeline
