#include "sy/pipeline/auth.hpp"

#include "sy/core/ascii.hpp"
#include "sy/core/ids.hpp"

namespace sy::pipeline {
namespace {

std::string_view trim(std::string_view s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
    if (s.size() < prefix.size()) {
        return false;
    }
    for (std::size_t i = 0; i < prefix.size(); ++i) {
        if (ascii_lower(s[i]) != ascii_lower(prefix[i])) {
            return false;
        }
    }
    return true;
}

Error auth_error(std::string msg) { return Error::make(Errc::kAuthInvalid, std::move(msg)); }

}  // namespace

Authenticator::Authenticator(const config::Settings& s, const auth::Governor* gov)
    : settings_(s), gov_(gov) {
    if (s.general.master_key && !s.general.master_key->empty()) {
        master_digest_ = sha256_raw(s.general.master_key->value);
    }
}

Result<Principal> Authenticator::authenticate(const http::Request& req) const {
    const config::Settings& s = settings_;
    if (master_digest_.empty()) {
        Principal p;
        p.unauthenticated = true;
        return p;
    }
    std::string_view key;
    bool found = false;
    auto header = [&](std::string_view name) -> std::optional<std::string_view> {
        auto it = req.find(name);
        if (it == req.end()) {
            return std::nullopt;
        }
        return std::string_view(it->value().data(), it->value().size());
    };
    if (s.general.litellm_key_header_name) {
        if (auto v = header(*s.general.litellm_key_header_name)) {
            key = trim(*v);
            if (starts_with_ci(key, "bearer ")) {
                key = trim(key.substr(7));
            }
            found = true;
        }
    } else if (auto v = header("authorization")) {
        std::string_view a = trim(*v);
        if (starts_with_ci(a, "bearer ")) {
            key = trim(a.substr(7));
        } else if (starts_with_ci(a, "basic ")) {
            key = trim(a.substr(6));
        } else {
            return auth_error(
                "Authentication Error, Malformed API Key passed in. Ensure Key has `Bearer ` "
                "prefix.");
        }
        found = true;
    } else if (auto v2 = header("x-litellm-api-key")) {
        key = trim(*v2);
        if (starts_with_ci(key, "bearer ")) {
            key = trim(key.substr(7));
        }
        found = true;
    } else if (auto v3 = header("api-key")) {
        key = trim(*v3);
        found = true;
    } else if (auto v4 = header("x-api-key")) {
        key = trim(*v4);
        found = true;
    }
    if (!found || key.empty()) {
        return Error::make(Errc::kAuthMissing, "Authentication Error, No api key passed in.");
    }
    if (secure_equals_digest(key, master_digest_)) {
        Principal p;
        p.is_master = true;
        return p;
    }
    if (key.rfind("sk-", 0) != 0) {
        return auth_error("Authentication Error, LiteLLM Virtual Key expected.");
    }
    if (gov_) {
        std::string token = secret_sha256_hex(key);
        Principal p;
        switch (gov_->find_key(token, p.key)) {
            case auth::Lookup::kFound: {
                auto st = gov_->check_key(*p.key, auth::SysClock::now());
                if (!st) {
                    return std::move(st).error();
                }
                return p;
            }
            case auth::Lookup::kMiss:
                p.miss_token = std::move(token);
                return p;
            case auth::Lookup::kUnknown:
                break;
        }
    }
    return auth_error("Authentication Error, Invalid proxy server token passed.");
}

}  // namespace sy::pipeline
