#pragma once
// Stage `authenticate`: who is calling (api.md §12.2 auth rows, README D1).
//
// Thread safety: pure functions over immutable settings.

#include <string>

#include "sy/auth/governor.hpp"
#include "sy/config/settings.hpp"
#include "sy/core/error.hpp"
#include "sy/http/server.hpp"

namespace sy::pipeline {

struct Principal {
    bool is_master = false;      // the master key (admin)
    bool unauthenticated = false;  // no master key configured: open LLM routes, no admin
    auth::KeyInfoConstPtr key;   // a virtual key (issue 6)
    // A virtual key the cache does not know yet (shared store): look its hash up in the store,
    // tell the governor (note_lookup) and authenticate again.
    std::string miss_token;
};

// Extracts the credential from Authorization (Bearer), x-litellm-api-key, api-key, or the
// configured litellm_key_header_name, and checks it in constant time against the master key.
class Authenticator {
public:
    // `gov` (optional): virtual keys from the key cache; without it only the master key passes.
    explicit Authenticator(const config::Settings& s, const auth::Governor* gov = nullptr);
    Result<Principal> authenticate(const http::Request& req) const;

private:
    const config::Settings& settings_;
    const auth::Governor* gov_ = nullptr;
    std::string master_digest_;  // SHA-256 of the master key; empty when there is none
};

}  // namespace sy::pipeline
