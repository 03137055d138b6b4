#pragma once
// Virtual-key governance off the database: an in-memory cache of keys, users, teams and end
// users (loaded from the store at start-up, refreshed in the background, updated at once by this
// instance's management writes), model access (auth-budgets-limits.md §4) and budgets with
// reserve-then-settle admission and lazy resets (§6, README D3/D7/D8).
//
// Thread safety: every public method is thread-safe (one mutex; each call is short and never
// does I/O). Snapshots handed out (KeyInfo) are immutable.

#include <boost/json/object.hpp>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "sy/auth/duration.hpp"
#include "sy/core/error.hpp"

namespace sy::auth {

struct Limits {
    std::optional<std::int64_t> tpm;
    std::optional<std::int64_t> rpm;
    std::optional<std::int64_t> max_parallel;
};

// One virtual key as the request path needs it.
struct KeyInfo {
    std::string token;  // sha256 hex of the key
    std::optional<std::string> key_alias;
    std::vector<std::string> models;
    std::map<std::string, std::string> aliases;
    std::optional<TimePoint> expires;
    std::string expires_text;
    bool blocked = false;
    std::optional<std::string> user_id;
    std::optional<std::string> team_id;
    std::optional<double> max_budget;
    std::string key_type = "default";
    std::vector<std::string> allowed_routes;  // empty = every route the role allows
    Limits limits;
    // Per-model-group key limits (metadata.model_rpm_limit / model_tpm_limit).
    std::map<std::string, std::int64_t, std::less<>> model_rpm_limit;
    std::map<std::string, std::int64_t, std::less<>> model_tpm_limit;
};
using KeyInfoConstPtr = std::shared_ptr<const KeyInfo>;

struct UserInfo {
    std::string user_id;
    std::string role;  // user_role; empty = internal_user
    std::vector<std::string> models;
    Limits limits;
};

struct TeamInfo {
    std::string team_id;
    std::vector<std::string> models;
    bool blocked = false;
    Limits limits;
};

struct CustomerInfo {
    std::string user_id;
    bool blocked = false;
    Limits limits;
};

// A budget reset this instance applied and the store should record (compare-and-set on the old
// reset time so concurrent instances reset once).
struct PendingReset {
    char scope = 'k';  // k key, u user, t team, c customer
    std::string id;
    std::string old_reset_at;
    std::string new_reset_at;
};

// The scopes one admitted request reserved budget on.
struct Admission {
    std::vector<std::string> scopes;  // budget-state ids ("k:<hash>", "u:<id>", ...)
    double reserved = 0;
    double key_spend_before = 0;
};

// One budget-limited scope of an admission, as the shared (Redis) budget needs it.
struct BudgetView {
    std::string scope;  // "k:<hash>", "u:<id>", "t:<id>", "c:<id>", "g"
    char kind = 'k';
    std::string name;  // the id in messages
    double max_budget = 0;
    double spend = 0;  // this instance's view: stored spend + its unflushed spend
    std::string reset_at_text;
    std::optional<TimePoint> reset_at;
};

// A scope's spend as the store holds it, plus this instance's spend not yet written there.
struct StoredSpend {
    std::string scope;
    double spend = 0;
    std::string reset_at_text;  // the row's budget_reset_at ("" = none)
};

// Result of looking a key up in the cache.
enum class Lookup : unsigned char { kFound, kUnknown, kMiss };

class Governor {
public:
    // `authoritative`: the cache holds every key (single-instance SQLite store), so a miss is an
    // unknown key; otherwise a miss must be looked up in the store.
    explicit Governor(bool authoritative = true);

    class Snapshot;

    // Background refresh without stalling the request path (README D3):
    //   auto v = gov.version();           // before reading the store
    //   ... read the four tables ...
    //   auto snap = Governor::build(...); // parses outside the governor's lock
    //   gov.apply(std::move(*snap), v);   // short lock: swap maps, merge budgets
    // An entry this instance wrote (management write, lookup) after `v` keeps its local state,
    // present or deleted, so a snapshot read before the write can neither lose nor resurrect it.
    // Spend of a scope this instance already tracks is kept (its counters include unflushed
    // requests); new scopes take the stored spend.
    std::uint64_t version() const;
    static std::unique_ptr<Snapshot> build(const std::vector<boost::json::object>& keys,
                                           const std::vector<boost::json::object>& users,
                                           const std::vector<boost::json::object>& teams,
                                           const std::vector<boost::json::object>& customers);
    void apply(Snapshot&& snap, std::uint64_t since);
    // build() + apply() from the current version (start-up, tests).
    void load(const std::vector<boost::json::object>& keys,
              const std::vector<boost::json::object>& users,
              const std::vector<boost::json::object>& teams,
              const std::vector<boost::json::object>& customers);

    // What a management write changed about a budget, beyond its limits (always taken from the
    // row): kSetSpend = the row's spend replaces this instance's counter (e.g. {"spend": 0});
    // kSetReset = the row's budget_duration/budget_reset_at replace the live ones even when the
    // new reset is earlier. Otherwise the live spend and a newer local reset are kept.
    enum BudgetWrite : unsigned { kKeepBudget = 0, kSetSpend = 1, kSetReset = 2 };

    // Management writes of this instance (rows as stored).
    void put_key(const boost::json::object& row, unsigned budget_write = kKeepBudget);
    void erase_key(const std::string& token);
    // /key/regenerate: the key's budget state (spend, reservations) moves to the new hash, and
    // requests admitted under the old hash settle on the new one.
    void rename_key(const std::string& old_token, const std::string& new_token);
    void put_user(const boost::json::object& row, unsigned budget_write = kKeepBudget);
    void erase_user(const std::string& id);
    void put_team(const boost::json::object& row, unsigned budget_write = kKeepBudget);
    void erase_team(const std::string& id);
    void put_customer(const boost::json::object& row, unsigned budget_write = kKeepBudget);
    void erase_customer(const std::string& id);
    // A miss answered by the store: remember the row, or remember briefly that it does not exist.
    void note_lookup(const std::string& token, const std::optional<boost::json::object>& row);

    Lookup find_key(const std::string& token, KeyInfoConstPtr& out) const;
    std::optional<UserInfo> user(const std::string& id) const;
    std::optional<TeamInfo> team(const std::string& id) const;
    std::optional<CustomerInfo> customer(const std::string& id) const;
    bool authoritative() const { return authoritative_; }

    // Steps 7-8 of the auth flow for a found key: blocked key, expiry, missing or blocked team.
    Status check_key(const KeyInfo& k, TimePoint now) const;

    // Model access (§4) for `requested` resolving to `group` (group may equal requested).
    Status check_model(const KeyInfo& k, std::string_view requested, std::string_view group) const;

    // Atomic check-and-reserve over the key, user (personal keys), team, end user and global
    // scopes (§6). `key` null = the master key (only the end-user scope applies, README D6).
    Result<Admission> admit(const KeyInfo* key, std::string_view end_user, double reserve,
                            TimePoint now);
    // Releases the reservation and adds `cost` to every scope the call rolls up to (key, user,
    // team, end user, global), whether or not it was budget-limited.
    void settle(const Admission& a, double cost);
    // Adds spend without a reservation (rows replayed at start-up are already in the store).
    double spend_of(const std::string& scope) const;
    std::optional<std::string> reset_at_of(const std::string& scope) const;

    // Global budget (litellm_settings.max_budget; 0 or unset = none).
    void set_global_budget(std::optional<double> max_budget, double spend);

    std::vector<PendingReset> take_pending_resets();

    // Multi-instance budgets (README D7/D10). Sets each listed scope's spend to the given value
    // (the store's spend plus this instance's unflushed spend), so spend made on other
    // instances is counted from the next reload on. Skipped for a scope whose reset time
    // differs from the given one (a reset this instance applied and the store has not yet
    // recorded, or a row read before another instance's reset).
    // `since` (spend_seq() taken before the stored values were read): scopes whose spend this
    // instance settled after that keep their live value (the stored one is older); the next
    // reload syncs them.
    void sync_spend(const std::vector<StoredSpend>& stored,
                    std::uint64_t since = std::numeric_limits<std::uint64_t>::max());
    std::uint64_t spend_seq() const;
    // Orders a call's "journal the spend row, then settle" (held shared around the two) against
    // a reload's reading of spend_seq() (held exclusively for that read): a reload never takes
    // `since` between a row being queued and its settle, where the row would be counted in the
    // stored value and again by the settle that follows the sync.
    std::shared_mutex& settle_gate() const { return settle_gate_; }
    // The scope a spend row of `scope` counts toward now (follows /key/regenerate renames).
    std::string current_scope(const std::string& scope) const;
    // The budget-limited, enforced scopes of an admission (`key` as admitted; null = master).
    std::vector<BudgetView> limited_scopes(const Admission& a, const KeyInfo* key) const;
    // The 429 budget_exceeded error for scope `kind`/`name` (§6.5 messages; retry-after until
    // the reset when there is one).
    static Error budget_error(char kind, const std::string& name, double current, double max,
                              std::optional<TimePoint> reset_at, TimePoint now);

    static std::string key_scope(const std::string& token) { return "k:" + token; }

private:
    struct Budget {
        double spend = 0;
        double reserved = 0;
        std::optional<double> max_budget;
        std::optional<Duration> duration;
        std::optional<TimePoint> reset_at;
        std::string reset_at_text;
        std::uint64_t spend_seq = 0;  // spend_seq_ when this instance last settled here
    };
    struct Negative {
        TimePoint until;
    };

    void put_key_locked(const boost::json::object& row);
    void put_budget_locked(const std::string& scope, const boost::json::object& row,
                           unsigned budget_write);
    std::string settle_scope_locked(const std::string& scope) const;
    // Merges a budget read from the store into the live one (keeps local spend and a newer
    // local reset).
    static void merge_budget(Budget& live, Budget&& stored);
    void touch_locked(const std::string& scope) { touched_[scope] = ++version_; }
    Status check_budget_locked(const std::string& scope, char kind, const std::string& id,
                               TimePoint now);

    mutable std::mutex mu_;
    mutable std::shared_mutex settle_gate_;
    bool authoritative_;
    std::unordered_map<std::string, KeyInfoConstPtr> keys_;
    std::unordered_map<std::string, UserInfo> users_;
    std::unordered_map<std::string, TeamInfo> teams_;
    std::unordered_map<std::string, CustomerInfo> customers_;
    std::unordered_map<std::string, Budget> budgets_;
    std::unordered_map<std::string, Negative> negative_;
    std::vector<PendingReset> pending_resets_;
    std::unordered_map<std::string, std::string> renamed_;  // old token -> new (regenerate)
    std::uint64_t spend_seq_ = 0;  // bumped by every settle
    std::uint64_t version_ = 0;                             // bumped by every local write
    std::unordered_map<std::string, std::uint64_t> touched_;  // "k:<hash>", "u:<id>", ... -> version

public:
    // Parsed rows, ready to swap in (build()).
    class Snapshot {
    public:
        std::unordered_map<std::string, KeyInfoConstPtr> keys;
        std::unordered_map<std::string, UserInfo> users;
        std::unordered_map<std::string, TeamInfo> teams;
        std::unordered_map<std::string, CustomerInfo> customers;
        std::unordered_map<std::string, Budget> budgets;
    };
};

// Model-list entry matching (§4): exact, `prefix*` wildcard patterns, `all-proxy-models`.
bool model_list_allows(const std::vector<std::string>& list, std::string_view requested,
                       std::string_view group);

// "sk-...abcd"
std::string key_name_of(std::string_view key);

}  // namespace sy::auth
