#pragma once
// LiteLLM's management API (api.md §8-10): /key/*, /user/*, /team/*, /customer/* (and
// /end_user/*), /spend/logs, /global/spend, /global/spend/report. Bodies are validated before
// anything is written (wrong types, negative budgets or limits, bad durations -> 400 and no
// change); unknown fields are ignored and named in `x-litellm-warning` (README D27).
//
// handle() blocks on the store: run it on the StorePool, never on a worker thread.
// Thread safety: handle() may run concurrently (the store and governor are thread-safe).

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sy/auth/governor.hpp"
#include "sy/config/settings.hpp"
#include "sy/core/error.hpp"
#include "sy/store/store.hpp"

namespace sy::admin {

// Who calls a management route.
struct Caller {
    bool is_master = false;
    auth::KeyInfoConstPtr key;  // null for the master key
    std::string role;           // user_role of the key's user row ("" = none)
};

struct MgmtReply {
    int status = 200;
    std::string body;
    std::vector<Header> headers;
};

class Management {
public:
    // `flush_ledger` (may be empty) writes pending spend rows before spend is read.
    Management(const config::Settings& settings, store::Store& store, auth::Governor& gov,
               std::function<void()> flush_ledger);

    MgmtReply handle(const Caller& caller, bool is_get, std::string_view path,
                     std::string_view query, std::string_view body);

private:
    const config::Settings& settings_;
    store::Store& store_;
    auth::Governor& gov_;
    std::function<void()> flush_ledger_;
};

// Random `sk-` key: 16 CSPRNG bytes, base64url without padding (auth-budgets-limits.md §5).
std::string generate_key();

}  // namespace sy::admin
