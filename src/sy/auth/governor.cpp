#include "sy/auth/governor.hpp"

#include <boost/json.hpp>
#include <charconv>

namespace sy::auth {
namespace {

namespace json = boost::json;
constexpr auto kNegativeTtl = std::chrono::seconds(5);
constexpr std::size_t kMaxNegative = 10000;

std::optional<std::string> opt_str(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    if (v && v->is_string()) {
        return std::string(v->get_string());
    }
    return std::nullopt;
}

std::optional<double> opt_num(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    if (v && v->is_number()) {
        return v->to_number<double>();
    }
    return std::nullopt;
}

std::optional<std::int64_t> opt_int(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    if (v && v->is_int64()) {
        return v->get_int64();
    }
    if (v && v->is_double()) {
        return static_cast<std::int64_t>(v->get_double());
    }
    return std::nullopt;
}

bool opt_bool(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    return v && v->is_bool() && v->get_bool();
}

std::vector<std::string> str_list(const json::object& o, std::string_view k) {
    std::vector<std::string> out;
    if (auto* v = o.if_contains(k); v && v->is_array()) {
        for (const auto& e : v->get_array()) {
            if (e.is_string()) {
                out.emplace_back(e.get_string());
            }
        }
    }
    return out;
}

Limits limits_of(const json::object& o) {
    return Limits{opt_int(o, "tpm_limit"), opt_int(o, "rpm_limit"),
                  opt_int(o, "max_parallel_requests")};
}

// A JSON object column, stored as an object or as its text.
std::optional<json::object> object_of(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    if (v && v->is_object()) {
        return v->get_object();
    }
    if (v && v->is_string()) {
        boost::system::error_code ec;
        auto parsed = json::parse(v->get_string(), ec);
        if (!ec && parsed.is_object()) {
            return std::move(parsed.get_object());
        }
    }
    return std::nullopt;
}

// {"group": N, ...} -> map; non-integer and negative values are skipped.
std::map<std::string, std::int64_t, std::less<>> int_map(const json::object& o,
                                                          std::string_view k) {
    std::map<std::string, std::int64_t, std::less<>> out;
    if (auto* v = o.if_contains(k); v && v->is_object()) {
        for (const auto& [name, n] : v->get_object()) {
            if (n.is_int64() && n.get_int64() >= 0) {
                out[std::string(name)] = n.get_int64();
            } else if (n.is_double() && n.get_double() >= 0) {
                out[std::string(name)] = static_cast<std::int64_t>(n.get_double());
            }
        }
    }
    return out;
}

// Python's repr of a float, as LiteLLM's messages print it (5 -> 5.0).
std::string py_float(double v) {
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, v);
    std::string s(buf, p);
    if (s.find_first_of(".en") == std::string::npos) {
        s += ".0";
    }
    return s;
}

std::string py_list(const std::vector<std::string>& v) {
    std::string s = "[";
    for (std::size_t i = 0; i < v.size(); ++i) {
        s += i ? ", '" : "'";
        s += v[i];
        s += "'";
    }
    return s + "]";
}

bool pattern_match(std::string_view pattern, std::string_view name) {
    auto star = pattern.find('*');
    if (star == std::string_view::npos) {
        return pattern == name;
    }
    std::string_view pre = pattern.substr(0, star);
    std::string_view post = pattern.substr(star + 1);
    return name.size() >= pre.size() + post.size() && name.substr(0, pre.size()) == pre &&
           name.substr(name.size() - post.size()) == post;
}

Error auth_error(std::string msg) { return Error::make(Errc::kAuthInvalid, std::move(msg)); }

}  // namespace

bool model_list_allows(const std::vector<std::string>& list, std::string_view requested,
                       std::string_view group) {
    for (const auto& e : list) {
        if (e == "all-proxy-models" || e == "*") {
            return true;
        }
        if (pattern_match(e, requested) || pattern_match(e, group)) {
            return true;
        }
    }
    return false;
}

std::string key_name_of(std::string_view key) {
    return "sk-..." + std::string(key.size() >= 4 ? key.substr(key.size() - 4) : key);
}

Governor::Governor(bool authoritative) : authoritative_(authoritative) {}

namespace {

template <class B>
B budget_of(const json::object& row) {
    B b;
    b.spend = opt_num(row, "spend").value_or(0.0);
    b.max_budget = opt_num(row, "max_budget");
    if (auto d = opt_str(row, "budget_duration")) {
        b.duration = parse_duration(*d);
    }
    auto r = opt_str(row, "budget_reset_at");
    b.reset_at_text = r.value_or("");
    b.reset_at = r ? parse_iso(*r) : std::nullopt;
    return b;
}

std::shared_ptr<KeyInfo> key_of(const json::object& row) {
    auto k = std::make_shared<KeyInfo>();
    k->token = opt_str(row, "token").value_or("");
    if (k->token.empty()) {
        return nullptr;
    }
    k->key_alias = opt_str(row, "key_alias");
    k->models = str_list(row, "models");
    if (auto* a = row.if_contains("aliases"); a && a->is_object()) {
        for (const auto& [name, target] : a->get_object()) {
            if (target.is_string()) {
                k->aliases[std::string(name)] = std::string(target.get_string());
            }
        }
    }
    if (auto e = opt_str(row, "expires")) {
        k->expires = parse_iso(*e);
        k->expires_text = *e;
    }
    k->blocked = opt_bool(row, "blocked");
    k->user_id = opt_str(row, "user_id");
    k->team_id = opt_str(row, "team_id");
    k->max_budget = opt_num(row, "max_budget");
    k->key_type = opt_str(row, "key_type").value_or("default");
    k->allowed_routes = str_list(row, "allowed_routes");
    k->limits = limits_of(row);
    if (auto meta = object_of(row, "metadata")) {
        k->model_rpm_limit = int_map(*meta, "model_rpm_limit");
        k->model_tpm_limit = int_map(*meta, "model_tpm_limit");
    }
    return k;
}

UserInfo user_of(const json::object& r) {
    return UserInfo{opt_str(r, "user_id").value_or(""), opt_str(r, "user_role").value_or(""),
                    str_list(r, "models"), limits_of(r)};
}

TeamInfo team_of(const json::object& r) {
    return TeamInfo{opt_str(r, "team_id").value_or(""), str_list(r, "models"),
                    opt_bool(r, "blocked"), limits_of(r)};
}

CustomerInfo customer_of(const json::object& r) {
    return CustomerInfo{opt_str(r, "user_id").value_or(""), opt_bool(r, "blocked"), limits_of(r)};
}

}  // namespace

void Governor::merge_budget(Budget& b, Budget&& stored) {
    b.max_budget = stored.max_budget;
    b.duration = stored.duration;
    // A reset this instance applied and has not persisted yet is newer than the stored one.
    if (!(b.reset_at && !stored.reset_at_text.empty() && stored.reset_at_text < b.reset_at_text)) {
        b.reset_at_text = std::move(stored.reset_at_text);
        b.reset_at = stored.reset_at;
    }
}

void Governor::put_budget_locked(const std::string& scope, const json::object& row,
                                 unsigned budget_write) {
    auto [it, fresh] = budgets_.try_emplace(scope);
    Budget stored = budget_of<Budget>(row);
    Budget& b = it->second;
    if (fresh) {
        b = std::move(stored);
        return;
    }
    if (budget_write & kSetSpend) {
        b.spend = stored.spend;
    }
    if (budget_write & kSetReset) {
        b.max_budget = stored.max_budget;
        b.duration = stored.duration;
        b.reset_at = stored.reset_at;
        b.reset_at_text = std::move(stored.reset_at_text);
        return;
    }
    merge_budget(b, std::move(stored));
}

std::string Governor::settle_scope_locked(const std::string& scope) const {
    if (scope.size() < 2 || scope[0] != 'k' || renamed_.empty()) {
        return scope;
    }
    std::string token = scope.substr(2);
    for (int hops = 0; hops < 8; ++hops) {
        auto it = renamed_.find(token);
        if (it == renamed_.end()) {
            break;
        }
        token = it->second;
    }
    return "k:" + token;
}

void Governor::rename_key(const std::string& old_token, const std::string& new_token) {
    std::lock_guard lk(mu_);
    if (auto it = budgets_.find("k:" + old_token); it != budgets_.end()) {
        Budget b = std::move(it->second);
        budgets_.erase(it);
        budgets_["k:" + new_token] = std::move(b);
    }
    keys_.erase(old_token);
    if (renamed_.size() >= 10000) {
        renamed_.clear();  // bounded; in-flight requests of long-gone renames are rare
    }
    renamed_[old_token] = new_token;
    touch_locked("k:" + old_token);
    touch_locked("k:" + new_token);
}

void Governor::put_key_locked(const json::object& row) {
    auto k = key_of(row);
    if (!k) {
        return;
    }
    negative_.erase(k->token);
    touch_locked("k:" + k->token);
    keys_[k->token] = std::move(k);
}

std::uint64_t Governor::version() const {
    std::lock_guard lk(mu_);
    return version_;
}

std::unique_ptr<Governor::Snapshot> Governor::build(const std::vector<json::object>& keys,
                                                    const std::vector<json::object>& users,
                                                    const std::vector<json::object>& teams,
                                                    const std::vector<json::object>& customers) {
    auto snap = std::make_unique<Snapshot>();
    snap->keys.reserve(keys.size());
    snap->budgets.reserve(keys.size() + users.size() + teams.size() + customers.size());
    for (const auto& r : keys) {
        if (auto k = key_of(r)) {
            snap->budgets.emplace("k:" + k->token, budget_of<Budget>(r));
            std::string token = k->token;
            snap->keys.emplace(std::move(token), std::move(k));
        }
    }
    for (const auto& r : users) {
        UserInfo u = user_of(r);
        snap->budgets.emplace("u:" + u.user_id, budget_of<Budget>(r));
        std::string id = u.user_id;
        snap->users.emplace(std::move(id), std::move(u));
    }
    for (const auto& r : teams) {
        TeamInfo t = team_of(r);
        snap->budgets.emplace("t:" + t.team_id, budget_of<Budget>(r));
        std::string id = t.team_id;
        snap->teams.emplace(std::move(id), std::move(t));
    }
    for (const auto& r : customers) {
        CustomerInfo c = customer_of(r);
        snap->budgets.emplace("c:" + c.user_id, budget_of<Budget>(r));
        std::string id = c.user_id;
        snap->customers.emplace(std::move(id), std::move(c));
    }
    return snap;
}

void Governor::apply(Snapshot&& snap, std::uint64_t since) {
    std::unique_lock lk(mu_);
    // Entries written here after the snapshot was taken: the local state (present or erased)
    // wins over the older stored one.
    auto patch = [](auto& fresh, const auto& live, const std::string& id) {
        if (auto it = live.find(id); it != live.end()) {
            fresh[id] = it->second;
        } else {
            fresh.erase(id);
        }
    };
    for (auto it = touched_.begin(); it != touched_.end();) {
        if (it->second <= since) {
            it = touched_.erase(it);  // the snapshot already reflects that write
            continue;
        }
        const std::string& scope = it->first;
        std::string id = scope.substr(2);
        switch (scope[0]) {
            case 'k':
                patch(snap.keys, keys_, id);
                break;
            case 'u':
                patch(snap.users, users_, id);
                break;
            case 't':
                patch(snap.teams, teams_, id);
                break;
            default:
                patch(snap.customers, customers_, id);
                break;
        }
        snap.budgets.erase(scope);  // the live budget stays as it is
        ++it;
    }
    keys_.swap(snap.keys);
    users_.swap(snap.users);
    teams_.swap(snap.teams);
    customers_.swap(snap.customers);
    for (auto& [scope, stored] : snap.budgets) {
        auto [it, fresh] = budgets_.try_emplace(scope);
        if (fresh) {
            it->second = std::move(stored);
        } else {
            merge_budget(it->second, std::move(stored));
        }
    }
    lk.unlock();
    // The old maps are freed outside the lock.
}

void Governor::load(const std::vector<json::object>& keys,
                    const std::vector<json::object>& users,
                    const std::vector<json::object>& teams,
                    const std::vector<json::object>& customers) {
    auto v = version();
    apply(std::move(*build(keys, users, teams, customers)), v);
}

void Governor::put_key(const json::object& row, unsigned budget_write) {
    std::lock_guard lk(mu_);
    put_key_locked(row);
    if (auto t = opt_str(row, "token")) {
        put_budget_locked("k:" + *t, row, budget_write);
    }
}

void Governor::erase_key(const std::string& token) {
    std::lock_guard lk(mu_);
    keys_.erase(token);
    touch_locked("k:" + token);
}

void Governor::put_user(const json::object& r, unsigned budget_write) {
    std::lock_guard lk(mu_);
    UserInfo u = user_of(r);
    put_budget_locked("u:" + u.user_id, r, budget_write);
    touch_locked("u:" + u.user_id);
    users_[u.user_id] = std::move(u);
}

void Governor::erase_user(const std::string& id) {
    std::lock_guard lk(mu_);
    users_.erase(id);
    budgets_.erase("u:" + id);
    touch_locked("u:" + id);
}

void Governor::put_team(const json::object& r, unsigned budget_write) {
    std::lock_guard lk(mu_);
    TeamInfo t = team_of(r);
    put_budget_locked("t:" + t.team_id, r, budget_write);
    touch_locked("t:" + t.team_id);
    teams_[t.team_id] = std::move(t);
}

void Governor::erase_team(const std::string& id) {
    std::lock_guard lk(mu_);
    teams_.erase(id);
    budgets_.erase("t:" + id);
    touch_locked("t:" + id);
}

void Governor::put_customer(const json::object& r, unsigned budget_write) {
    std::lock_guard lk(mu_);
    CustomerInfo c = customer_of(r);
    put_budget_locked("c:" + c.user_id, r, budget_write);
    touch_locked("c:" + c.user_id);
    customers_[c.user_id] = std::move(c);
}

void Governor::erase_customer(const std::string& id) {
    std::lock_guard lk(mu_);
    customers_.erase(id);
    budgets_.erase("c:" + id);
    touch_locked("c:" + id);
}

void Governor::note_lookup(const std::string& token, const std::optional<json::object>& row) {
    std::lock_guard lk(mu_);
    if (row) {
        put_key_locked(*row);
        put_budget_locked("k:" + token, *row, kKeepBudget);
        return;
    }
    if (negative_.size() >= kMaxNegative) {
        negative_.clear();
    }
    negative_[token] = Negative{SysClock::now() + kNegativeTtl};
}

Lookup Governor::find_key(const std::string& token, KeyInfoConstPtr& out) const {
    std::lock_guard lk(mu_);
    if (auto it = keys_.find(token); it != keys_.end()) {
        out = it->second;
        return Lookup::kFound;
    }
    if (authoritative_) {
        return Lookup::kUnknown;
    }
    if (auto it = negative_.find(token); it != negative_.end() && it->second.until > SysClock::now()) {
        return Lookup::kUnknown;
    }
    return Lookup::kMiss;
}

std::optional<UserInfo> Governor::user(const std::string& id) const {
    std::lock_guard lk(mu_);
    auto it = users_.find(id);
    return it == users_.end() ? std::nullopt : std::optional<UserInfo>(it->second);
}

std::optional<TeamInfo> Governor::team(const std::string& id) const {
    std::lock_guard lk(mu_);
    auto it = teams_.find(id);
    return it == teams_.end() ? std::nullopt : std::optional<TeamInfo>(it->second);
}

std::optional<CustomerInfo> Governor::customer(const std::string& id) const {
    std::lock_guard lk(mu_);
    auto it = customers_.find(id);
    return it == customers_.end() ? std::nullopt : std::optional<CustomerInfo>(it->second);
}

Status Governor::check_key(const KeyInfo& k, TimePoint now) const {
    if (k.blocked) {
        return auth_error("Authentication Error, Key is blocked.");
    }
    if (k.expires && *k.expires < now) {
        return Error::make(Errc::kAuthInvalid, "Authentication Error - Expired Key. Key Expiry time " +
                                                   k.expires_text + " and current time " +
                                                   iso_seconds(now))
            .with_type("expired_key");
    }
    if (k.team_id && *k.team_id != "litellm-dashboard") {
        auto t = team(*k.team_id);
        if (!t) {
            return auth_error("Authentication Error, Team " + *k.team_id + " does not exist.");
        }
        if (t->blocked) {
            return auth_error("Authentication Error, Team is blocked.");
        }
    }
    return ok_status();
}

Status Governor::check_model(const KeyInfo& k, std::string_view requested,
                             std::string_view group) const {
    // Key level ("all-team-models" defers to the team's list).
    bool key_defers = k.models.size() == 1 && k.models[0] == "all-team-models";
    if (!k.models.empty() && !key_defers && !model_list_allows(k.models, requested, group)) {
        return Error::make(Errc::kForbidden,
                           "key not allowed to access model. This key can only access models=" +
                               py_list(k.models) + ". Tried to access " + std::string(requested))
            .with_type("key_model_access_denied")
            .with_param("model");
    }
    if (k.team_id) {
        auto t = team(*k.team_id);
        if (t && !t->models.empty() && !model_list_allows(t->models, requested, group)) {
            return Error::make(Errc::kForbidden,
                               "team not allowed to access model. This team can only access "
                               "models=" + py_list(t->models) + ". Tried to access " +
                                   std::string(requested))
                .with_type("team_model_access_denied")
                .with_param("model");
        }
    } else if (k.user_id) {
        auto u = user(*k.user_id);
        if (u && !u->models.empty()) {
            bool none = u->models.size() == 1 && u->models[0] == "no-default-models";
            if (none || !model_list_allows(u->models, requested, group)) {
                return Error::make(Errc::kForbidden,
                                   "user not allowed to access model. This user can only access "
                                   "models=" + py_list(u->models) + ". Tried to access " +
                                       std::string(requested))
                    .with_type("user_model_access_denied")
                    .with_param("model");
            }
        }
    }
    return ok_status();
}

Status Governor::check_budget_locked(const std::string& scope, char kind, const std::string& id,
                                     TimePoint now) {
    auto it = budgets_.find(scope);
    if (it == budgets_.end()) {
        return ok_status();
    }
    Budget& b = it->second;
    // Lazy reset (README D8): once per period, recorded for the store with a compare-and-set.
    if (b.duration && b.reset_at && now >= *b.reset_at) {
        TimePoint next = advance_reset(*b.reset_at, *b.duration, now);
        std::string next_text = iso_seconds(next);
        pending_resets_.push_back(PendingReset{kind, id, b.reset_at_text, next_text});
        b.spend = 0;
        b.reset_at = next;
        b.reset_at_text = next_text;
    }
    if (!b.max_budget) {
        return ok_status();
    }
    double current = b.spend + b.reserved;
    if (current < *b.max_budget) {
        return ok_status();
    }
    return budget_error(kind, id, current, *b.max_budget, b.reset_at, now);
}

Error Governor::budget_error(char kind, const std::string& id, double current, double max,
                             std::optional<TimePoint> reset_at, TimePoint now) {
    std::string cur = py_float(current);
    std::string max_text = py_float(max);
    std::string msg;
    switch (kind) {
        case 'k':
            msg = "Budget has been exceeded! Current cost: " + cur + ", Max budget: " + max_text;
            break;
        case 't':
            msg = "Budget has been exceeded! Team=" + id + " Current cost: " + cur +
                  ", Max budget: " + max_text;
            break;
        case 'u':
            msg = "ExceededBudget: User=" + id + " over budget. Spend=" + cur +
                  ", Budget=" + max_text;
            break;
        case 'c':
            msg = "ExceededBudget: End User=" + id + " over budget. Spend=" + cur +
                  ", Budget=" + max_text;
            break;
        default:
            msg = "ExceededBudget: LiteLLM Proxy has exceeded its budget. Current spend: " + cur +
                  "; Max Budget: " + max_text;
    }
    Error e = Error::make(Errc::kRateLimited, std::move(msg)).with_type("budget_exceeded");
    if (reset_at) {
        auto secs = std::chrono::ceil<std::chrono::seconds>(*reset_at - now).count();
        e.headers.push_back({"retry-after", std::to_string(std::max<long long>(1, secs))});
    }
    return e;
}

Result<Admission> Governor::admit(const KeyInfo* key, std::string_view end_user, double reserve,
                                  TimePoint now) {
    std::lock_guard lk(mu_);
    struct Scope {
        std::string id;
        char kind;
        std::string name;
        bool enforce;
    };
    std::vector<Scope> scopes;
    if (key) {
        scopes.push_back({"k:" + key->token, 'k', key->token, true});
        if (key->user_id) {
            // Personal keys are held to the user's budget; team keys only add to it (§6.1).
            scopes.push_back({"u:" + *key->user_id, 'u', *key->user_id, !key->team_id});
        }
        if (key->team_id) {
            scopes.push_back({"t:" + *key->team_id, 't', *key->team_id, true});
        }
        scopes.push_back({"g", 'g', "", true});
    }
    if (!end_user.empty()) {
        scopes.push_back({"c:" + std::string(end_user), 'c', std::string(end_user), true});
    }
    for (const auto& s : scopes) {
        if (!s.enforce) {
            continue;
        }
        auto st = check_budget_locked(s.id, s.kind, s.name, now);
        if (!st) {
            return std::move(st).error();
        }
    }
    Admission a;
    a.reserved = reserve;
    for (auto& s : scopes) {
        auto it = budgets_.find(s.id);
        if (it != budgets_.end()) {
            it->second.reserved += reserve;
        }
        a.scopes.push_back(std::move(s.id));
    }
    if (key) {
        if (auto it = budgets_.find("k:" + key->token); it != budgets_.end()) {
            a.key_spend_before = it->second.spend;
        }
    }
    return a;
}

void Governor::settle(const Admission& a, double cost) {
    std::lock_guard lk(mu_);
    for (const auto& scope : a.scopes) {
        std::string s = settle_scope_locked(scope);
        auto it = budgets_.find(s);
        if (it == budgets_.end()) {
            if (s == "g") {
                continue;
            }
            it = budgets_.try_emplace(s).first;  // a scope without a row yet still rolls up
        }
        it->second.reserved = std::max(0.0, it->second.reserved - a.reserved);
        it->second.spend += cost;
        it->second.spend_seq = ++spend_seq_;
    }
}

double Governor::spend_of(const std::string& scope) const {
    std::lock_guard lk(mu_);
    auto it = budgets_.find(scope);
    return it == budgets_.end() ? 0.0 : it->second.spend;
}

std::optional<std::string> Governor::reset_at_of(const std::string& scope) const {
    std::lock_guard lk(mu_);
    auto it = budgets_.find(scope);
    if (it == budgets_.end() || it->second.reset_at_text.empty()) {
        return std::nullopt;
    }
    return it->second.reset_at_text;
}

void Governor::set_global_budget(std::optional<double> max_budget, double spend) {
    std::lock_guard lk(mu_);
    if (!max_budget || *max_budget <= 0) {
        budgets_.erase("g");
        return;
    }
    Budget& b = budgets_["g"];
    b.max_budget = max_budget;
    b.spend = spend;
}

std::string Governor::current_scope(const std::string& scope) const {
    std::lock_guard lk(mu_);
    return settle_scope_locked(scope);
}

std::uint64_t Governor::spend_seq() const {
    std::lock_guard lk(mu_);
    return spend_seq_;
}

void Governor::sync_spend(const std::vector<StoredSpend>& stored, std::uint64_t since) {
    std::lock_guard lk(mu_);
    for (const auto& s : stored) {
        auto it = budgets_.find(s.scope);
        if (it == budgets_.end() || it->second.reset_at_text != s.reset_at_text ||
            it->second.spend_seq > since) {
            continue;
        }
        it->second.spend = s.spend;
    }
}

std::vector<BudgetView> Governor::limited_scopes(const Admission& a, const KeyInfo* key) const {
    std::lock_guard lk(mu_);
    std::vector<BudgetView> out;
    for (const auto& s : a.scopes) {
        auto it = budgets_.find(s);
        if (it == budgets_.end() || !it->second.max_budget || s.empty()) {
            continue;
        }
        char kind = s[0];
        if (kind == 'u' && key && key->team_id) {
            continue;  // team keys only add to the user's spend (§6.1)
        }
        const Budget& b = it->second;
        out.push_back(BudgetView{s, kind, s.size() > 2 ? s.substr(2) : std::string(),
                                 *b.max_budget, b.spend, b.reset_at_text, b.reset_at});
    }
    return out;
}

std::vector<PendingReset> Governor::take_pending_resets() {
    std::lock_guard lk(mu_);
    std::vector<PendingReset> out;
    out.swap(pending_resets_);
    return out;
}

}  // namespace sy::auth
