#pragma once
// Helpers shared by the config unit tests: a fake environment and diagnostic queries.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sy/config/loader.hpp"

namespace sy::config::testing {

using EnvMap = std::map<std::string, std::string>;

inline EnvLookup fake_env(EnvMap vars) {
    return [vars = std::move(vars)](std::string_view name) -> std::optional<std::string> {
        auto it = vars.find(std::string(name));
        if (it == vars.end()) {
            return std::nullopt;
        }
        return it->second;
    };
}

inline LoadOptions options(EnvMap env = {}, bool strict = false) {
    LoadOptions o;
    o.strict = strict;
    o.env = fake_env(std::move(env));
    return o;
}

inline LoadResult load(std::string_view yaml,
                       EnvMap env = {},
                       bool strict = false,
                       const std::string& file = "test.yaml") {
    return load_string(yaml, file, options(std::move(env), strict));
}

inline std::vector<std::string> messages(const LoadResult& r, Diagnostic::Level level) {
    std::vector<std::string> out;
    for (const Diagnostic& d : r.diagnostics) {
        if (d.level == level) {
            out.push_back(d.message);
        }
    }
    return out;
}

inline std::vector<std::string> errors(const LoadResult& r) {
    return messages(r, Diagnostic::Level::kError);
}

inline std::vector<std::string> warnings(const LoadResult& r) {
    return messages(r, Diagnostic::Level::kWarning);
}

inline bool any_contains(const std::vector<std::string>& list, std::string_view needle) {
    for (const std::string& s : list) {
        if (s.find(needle) != std::string::npos) {
            return true;
        }
    }
    return false;
}

inline bool any_equals(const std::vector<std::string>& list, std::string_view text) {
    for (const std::string& s : list) {
        if (s == text) {
            return true;
        }
    }
    return false;
}

// All diagnostics as one string, for failure messages.
inline std::string dump(const LoadResult& r) {
    std::string out;
    for (const Diagnostic& d : r.diagnostics) {
        out += d.level == Diagnostic::Level::kError ? "E " : "W ";
        out += d.message;
        out += '\n';
    }
    return out;
}

}  // namespace sy::config::testing
