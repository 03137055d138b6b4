#pragma once
// Stage `authenticate`: who is calling (api.md §12.2 auth rows, README D1).
//
// Thread safety: pure functions over immutable settings.

#include <string>

#include "sy/config/settings.hpp"
#include "sy/core/error.hpp"
#include "sy/http/server.hpp"

namespace sy::pipeline {

struct Principal {
    bool is_master = false;      // the master key (admin)
    bool unauthenticated = false;  // no master key configured: open LLM routes, no admin
};

// Extracts the credential from Authorization (Bearer), x-litellm-api-key, api-key, or the
// configured litellm_key_header_name, and checks it in constant time against the master key.
class Authenticator {
public:
    explicit Authenticator(const config::Settings& s);
    Result<Principal> authenticate(const http::Request& req) const;

private:
    const config::Settings& settings_;
    std::string master_digest_;  // SHA-256 of the master key; empty when there is none
};

}  // namespace sy::pipeline
