#include "sy/admin/management.hpp"

#include <openssl/rand.h>

#include <boost/json.hpp>
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "sy/core/ascii.hpp"
#include "sy/core/ids.hpp"
#include "sy/core/json_scan.hpp"
#include "sy/core/json_text.hpp"
#include "sy/observability/log.hpp"

namespace sy::admin {
namespace {

namespace json = boost::json;
using store::Filter;
using store::Page;
using store::Row;
using store::Value;

// Control-plane code: a rejected request unwinds with ApiError, caught at the top of
// Management::handle (the module edge) and rendered as the error envelope.
struct ApiError {
    Error e;
};

[[noreturn]] void fail(Errc c, std::string msg, std::optional<std::string> param = std::nullopt,
                       std::string type = {}, int status = 0) {
    Error e = Error::make(c, std::move(msg));
    e.param = std::move(param);
    e.type = std::move(type);
    e.status = status;
    throw ApiError{std::move(e)};
}

[[noreturn]] void invalid(std::string_view field, std::string reason) {
    fail(Errc::kBadRequest, "Invalid value for " + std::string(field) + ": " + reason,
         std::string(field));
}

[[noreturn]] void not_found(std::string msg, std::optional<std::string> param = std::nullopt) {
    fail(Errc::kNotFound, std::move(msg), std::move(param), "not_found_error");
}

template <class T>
T need(Result<T> r) {
    if (!r) {
        throw ApiError{std::move(r).error()};
    }
    return std::move(r).value();
}

enum class F { kStr, kNum, kInt, kBool, kDur, kObj, kStrList, kAny, kRole, kKeyType, kMembers };

struct FieldSpec {
    std::string_view name;
    F type;
};

const std::set<std::string_view> kRoles{"proxy_admin", "proxy_admin_viewer", "internal_user",
                                        "internal_user_viewer"};

bool has_control_chars(std::string_view s) {
    return std::any_of(s.begin(), s.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x20 || c == 0x7f;
    });
}

// Largest integer a limit may hold: exact in a double and in BIGINT.
constexpr double kMaxInt = 9007199254740992.0;  // 2^53

void check_field(const FieldSpec& f, const json::value& v) {
    if (v.is_null()) {
        return;
    }
    switch (f.type) {
        case F::kStr:
            if (!v.is_string()) {
                invalid(f.name, "expected a string");
            }
            if (has_control_chars(v.get_string())) {
                invalid(f.name, "control characters are not allowed");
            }
            break;
        case F::kNum:
            if (!v.is_number()) {
                invalid(f.name, "expected a number");
            }
            if (v.to_number<double>() < 0 || !std::isfinite(v.to_number<double>())) {
                invalid(f.name, "must not be negative");
            }
            break;
        case F::kInt: {
            bool integral = v.is_int64() || v.is_uint64() ||
                            (v.is_double() && std::floor(v.get_double()) == v.get_double() &&
                             std::isfinite(v.get_double()));
            if (!integral) {
                invalid(f.name, "expected an integer");
            }
            if (v.to_number<double>() < 0) {
                invalid(f.name, "must not be negative");
            }
            if (v.to_number<double>() > kMaxInt) {
                invalid(f.name, "too large");
            }
            break;
        }
        case F::kBool:
            if (!v.is_bool()) {
                invalid(f.name, "expected true or false");
            }
            break;
        case F::kDur:
            if (!v.is_string() || !auth::parse_duration(v.get_string())) {
                invalid(f.name, "expected a duration such as 30s, 30m, 24h, 30d or 1mo");
            }
            break;
        case F::kObj:
            if (!v.is_object()) {
                invalid(f.name, "expected an object");
            }
            break;
        case F::kStrList:
            if (!v.is_array()) {
                invalid(f.name, "expected a list of strings");
            }
            for (const auto& e : v.get_array()) {
                if (!e.is_string()) {
                    invalid(f.name, "expected a list of strings");
                }
                if (has_control_chars(e.get_string())) {
                    invalid(f.name, "control characters are not allowed");
                }
            }
            break;
        case F::kRole:
            if (!v.is_string() || !kRoles.count(v.get_string())) {
                invalid(f.name, "expected one of proxy_admin, proxy_admin_viewer, internal_user, "
                                "internal_user_viewer");
            }
            break;
        case F::kKeyType:
            if (!v.is_string() || (v.get_string() != "default" && v.get_string() != "llm_api" &&
                                   v.get_string() != "management" && v.get_string() != "read_only")) {
                invalid(f.name, "expected one of default, llm_api, management, read_only");
            }
            break;
        case F::kMembers:
            if (!v.is_array() && !v.is_object()) {
                invalid(f.name, "expected a member object or a list of them");
            }
            break;
        case F::kAny:
            break;
    }
}

// Validates every known field and collects the unknown ones (api.md Conventions).
json::object parse_body(std::string_view body, const std::vector<FieldSpec>& spec,
                        std::vector<std::string>& unknown) {
    if (body.empty()) {
        return {};
    }
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec || !v.is_object()) {
        fail(Errc::kBadRequest, "Request body must be a JSON object");
    }
    json::object& o = v.get_object();
    for (const auto& [k, val] : o) {
        const FieldSpec* f = nullptr;
        for (const auto& s : spec) {
            if (s.name == k) {
                f = &s;
                break;
            }
        }
        if (!f) {
            std::string name(k);
            bool ok = !name.empty() && name.size() <= 64;
            for (char c : name) {
                ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' ||
                            c == '-');
            }
            unknown.push_back(ok ? name : "?");
            continue;
        }
        check_field(*f, val);
    }
    return std::move(o);
}

std::string warning_header(const std::vector<std::string>& unknown) {
    std::string s = "ignored unknown fields: ";
    std::set<std::string> seen;
    int n = 0;
    int more = 0;
    for (const auto& u : unknown) {
        if (!seen.insert(u).second) {
            continue;
        }
        if (n == 20) {
            ++more;
            continue;
        }
        s += n++ ? "," : "";
        s += u;
    }
    if (more) {
        s += ",+" + std::to_string(more) + " more";
    }
    return s;
}

std::string query_param(std::string_view query, std::string_view name) {
    while (!query.empty()) {
        auto amp = query.find('&');
        std::string_view kv = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        auto eq = kv.find('=');
        if (kv.substr(0, eq) == name && eq != std::string_view::npos) {
            std::string out;
            std::string_view v = kv.substr(eq + 1);
            auto hex = [](char c) -> int {
                if (c >= '0' && c <= '9') {
                    return c - '0';
                }
                if (c >= 'a' && c <= 'f') {
                    return c - 'a' + 10;
                }
                if (c >= 'A' && c <= 'F') {
                    return c - 'A' + 10;
                }
                return -1;
            };
            for (std::size_t i = 0; i < v.size(); ++i) {
                if (v[i] == '+') {
                    out += ' ';
                } else if (v[i] == '%') {
                    int hi = i + 2 < v.size() ? hex(v[i + 1]) : -1;
                    int lo = i + 2 < v.size() ? hex(v[i + 2]) : -1;
                    if (hi < 0 || lo < 0) {
                        invalid(name, "malformed percent-encoding");
                    }
                    out += static_cast<char>(hi * 16 + lo);
                    i += 2;
                } else {
                    out += v[i];
                }
            }
            for (char c : out) {
                if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
                    invalid(name, "control characters are not allowed");
                }
            }
            return out;
        }
    }
    return {};
}

std::int64_t int_param(std::string_view query, std::string_view name, std::int64_t def,
                       std::int64_t lo, std::int64_t hi) {
    std::string v = query_param(query, name);
    if (v.empty()) {
        return def;
    }
    char* end = nullptr;
    long long n = std::strtoll(v.c_str(), &end, 10);
    if (*end || n < lo || n > hi) {
        invalid(name, "expected an integer between " + std::to_string(lo) + " and " +
                          std::to_string(hi));
    }
    return n;
}


bool is_hash(std::string_view s) {
    if (s.size() != 64) {
        return false;
    }
    for (char c : s) {
        if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c))) {
            return false;
        }
    }
    return true;
}

// A key as given (plaintext sk-... or its 64-hex hash) -> stored token.
std::string token_of(std::string_view key) { return is_hash(key) ? std::string(key) : sha256_hex(key); }

std::string str_of(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    return v && v->is_string() ? std::string(v->get_string()) : std::string();
}


const json::value* present(const json::object& o, std::string_view k) {
    auto* v = o.if_contains(k);
    return v && !v->is_null() ? v : nullptr;
}

std::string json_default(std::string_view col) {
    static const std::set<std::string_view> lists{"models", "allowed_cache_controls",
                                                 "allowed_routes", "teams", "members_with_roles",
                                                 "request_tags"};
    return lists.count(col) ? "[]" : "{}";
}

bool in_spec(const std::vector<FieldSpec>& spec, std::string_view name) {
    return std::any_of(spec.begin(), spec.end(), [&](const FieldSpec& f) { return f.name == name; });
}

// Copies the fields of `body` that the route's spec accepts (validated by parse_body) and that
// are columns of `t` into `row`; nothing else (an unknown field that happens to be a column, such
// as `expires` or `spend` on a team, is never written). On create, nulls are skipped (column
// default); on update a null clears the column (JSON columns to their empty value).
void copy_columns(const store::Table& t, const std::vector<FieldSpec>& spec,
                  const json::object& body, Row& row,
                  std::initializer_list<std::string_view> skip, bool update) {
    for (const auto& [k, v] : body) {
        const store::Column* c = t.find(k);
        if (!c || !in_spec(spec, k) ||
            std::find(skip.begin(), skip.end(), std::string_view(k)) != skip.end()) {
            continue;
        }
        if (v.is_null()) {
            if (!update) {
                continue;
            }
            if (c->type == store::ColType::kJson) {
                row[k] = json::parse(json_default(k));
                continue;
            }
            if (k == "spend") {
                row[k] = 0.0;
                continue;
            }
        }
        row[k] = v;
    }
}

// How a management write changes a live budget (Governor::BudgetWrite).
unsigned budget_write_of(const json::object& body) {
    unsigned w = auth::Governor::kKeepBudget;
    if (body.contains("spend")) {
        w |= auth::Governor::kSetSpend;
    }
    if (body.contains("budget_duration")) {
        w |= auth::Governor::kSetReset;
    }
    return w;
}

void set_budget_reset(const json::object& body, Row& row, auth::TimePoint now) {
    if (auto* d = body.if_contains("budget_duration")) {
        if (d->is_string()) {
            auto dur = auth::parse_duration(d->get_string());
            row["budget_reset_at"] = auth::iso_seconds(auth::next_reset(now, *dur, now));
        } else {
            row["budget_reset_at"] = nullptr;
        }
    }
}


}  // namespace

std::string generate_key() {
    unsigned char raw[16];
    if (RAND_bytes(raw, sizeof raw) != 1) {
        fail(Errc::kInternal, "could not generate a random key");
    }
    static constexpr char kAlphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string out = "sk-";
    std::uint32_t acc = 0;
    int bits = 0;
    for (unsigned char b : raw) {
        acc = (acc << 8) | b;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += kAlphabet[(acc >> bits) & 0x3f];
        }
    }
    if (bits > 0) {
        out += kAlphabet[(acc << (6 - bits)) & 0x3f];
    }
    return out;
}

Management::Management(const config::Settings& settings, store::Store& store, auth::Governor& gov,
                       std::function<void()> flush_ledger)
    : settings_(settings), store_(store), gov_(gov), flush_ledger_(std::move(flush_ledger)) {}

namespace {

const std::vector<FieldSpec> kKeyFields{
    {"key_alias", F::kStr},       {"models", F::kStrList},      {"max_budget", F::kNum},
    {"soft_budget", F::kNum},     {"budget_duration", F::kDur}, {"tpm_limit", F::kInt},
    {"rpm_limit", F::kInt},       {"max_parallel_requests", F::kInt},
    {"duration", F::kDur},        {"user_id", F::kStr},         {"team_id", F::kStr},
    {"metadata", F::kObj},        {"aliases", F::kObj},         {"key", F::kStr},
    {"model_rpm_limit", F::kObj}, {"model_tpm_limit", F::kObj}, {"model_max_budget", F::kObj},
    {"allowed_cache_controls", F::kStrList}, {"blocked", F::kBool}, {"key_type", F::kKeyType},
    {"allowed_routes", F::kStrList}, {"tags", F::kAny},        {"enforced_params", F::kAny},
    {"guardrails", F::kAny},      {"permissions", F::kObj},     {"config", F::kObj},
    {"budget_id", F::kAny},       {"spend", F::kNum},           {"send_invite_email", F::kAny},
    {"object_permission", F::kAny}, {"organization_id", F::kStr},
    {"temp_budget_increase", F::kNum}, {"temp_budget_expiry", F::kStr}, {"new_key", F::kStr},
    {"key_name", F::kAny}};

const std::vector<FieldSpec> kUserFields{
    {"user_id", F::kStr},         {"user_email", F::kStr},      {"user_alias", F::kStr},
    {"user_role", F::kRole},      {"teams", F::kStrList},       {"team_id", F::kStr},
    {"organizations", F::kAny},   {"max_budget", F::kNum},      {"budget_duration", F::kDur},
    {"models", F::kStrList},      {"tpm_limit", F::kInt},       {"rpm_limit", F::kInt},
    {"max_parallel_requests", F::kInt}, {"metadata", F::kObj},  {"auto_create_key", F::kBool},
    {"duration", F::kDur},        {"key_alias", F::kStr},       {"aliases", F::kObj},
    {"spend", F::kNum},           {"send_invite_email", F::kAny}, {"password", F::kAny},
    {"user_ids", F::kStrList}};

const std::vector<FieldSpec> kTeamFields{
    {"team_alias", F::kStr},      {"team_id", F::kStr},         {"organization_id", F::kStr},
    {"members_with_roles", F::kMembers}, {"metadata", F::kObj}, {"tpm_limit", F::kInt},
    {"rpm_limit", F::kInt},       {"max_parallel_requests", F::kInt}, {"max_budget", F::kNum},
    {"budget_duration", F::kDur}, {"models", F::kStrList},      {"blocked", F::kBool},
    {"model_aliases", F::kObj},   {"team_member_permissions", F::kAny}, {"tags", F::kAny},
    {"guardrails", F::kAny},      {"member", F::kMembers},      {"max_budget_in_team", F::kNum},
    {"user_id", F::kStr},         {"user_email", F::kStr},      {"team_ids", F::kStrList}};

const std::vector<FieldSpec> kCustomerFields{
    {"user_id", F::kStr},         {"alias", F::kStr},           {"blocked", F::kBool},
    {"max_budget", F::kNum},      {"budget_id", F::kStr},       {"allowed_model_region", F::kStr},
    {"default_model", F::kStr},   {"tpm_limit", F::kInt},       {"rpm_limit", F::kInt},
    {"budget_duration", F::kDur}, {"user_ids", F::kStrList}};

const std::vector<FieldSpec> kDeleteKeyFields{{"keys", F::kStrList}, {"key_aliases", F::kStrList}};

class Call {
public:
    Call(const config::Settings& s, store::Store& st, auth::Governor& g,
         const std::function<void()>& flush, const Caller& c, std::string_view q)
        : settings(s), store(st), gov(g), flush_ledger(flush), caller(c), query(q) {}

    const config::Settings& settings;
    store::Store& store;
    auth::Governor& gov;
    const std::function<void()>& flush_ledger;
    const Caller& caller;
    std::string_view query;
    std::vector<std::string> unknown;
    auth::TimePoint now = auth::SysClock::now();

    // Multi-row writes run in one store transaction (all or nothing); cache updates made
    // meanwhile wait for the commit (gov_do), so a rolled-back write never reaches enforcement.
    template <class F>
    auto in_tx(F f) {
        store::Store::Tx tx(store);
        need(tx.begun());
        in_tx_ = true;
        struct Reset {
            Call& c;
            ~Reset() {
                c.in_tx_ = false;
                c.deferred_.clear();
            }
        } reset{*this};
        auto out = f();
        need(tx.commit());
        auto todo = std::move(deferred_);
        deferred_.clear();
        for (auto& fn : todo) {
            fn();
        }
        return out;
    }

    template <class F>
    void gov_do(F f) {
        if (in_tx_) {
            deferred_.emplace_back(std::move(f));
        } else {
            f();
        }
    }

    bool in_tx_ = false;
    std::vector<std::function<void()>> deferred_;

    std::string actor() const {
        if (caller.is_master || !caller.key || !caller.key->user_id) {
            return "default_user_id";
        }
        return *caller.key->user_id;
    }

    // ---- keys ----

    Row key_row(const std::string& token) {
        auto r = need(store.get(store::keys_table(), {token}));
        if (!r) {
            not_found("Key not found in database", "key");
        }
        return *r;
    }

    // The stored row as the API shows it: live spend from the governor, no token.
    json::object key_view(Row row, bool with_token) {
        std::string token = str_of(row, "token");
        double live = gov.spend_of(auth::Governor::key_scope(token));
        if (auto* s = row.if_contains("spend"); s && s->is_number()) {
            row["spend"] = std::max(live, s->to_number<double>());
        }
        if (auto r = gov.reset_at_of(auth::Governor::key_scope(token))) {
            row["budget_reset_at"] = *r;
        }
        if (!with_token) {
            row.erase("token");
        }
        row["soft_budget_cooldown"] = false;
        return row;
    }

    void check_alias_free(const json::object& body, const std::string& self_token) {
        auto* a = present(body, "key_alias");
        if (!a) {
            return;
        }
        auto rows = need(store.find(store::keys_table(), {{"key_alias", "=", std::string(a->get_string())}}));
        for (const auto& r : rows) {
            if (str_of(r, "token") != self_token) {
                fail(Errc::kBadRequest,
                     "Key with alias '" + std::string(a->get_string()) + "' already exists.",
                     "key_alias");
            }
        }
    }

    void check_team_exists(const json::object& body) {
        if (auto* t = present(body, "team_id")) {
            std::string id(t->get_string());
            if (id != "litellm-dashboard" && !need(store.get(store::teams_table(), {id}))) {
                fail(Errc::kBadRequest, "Team id=" + id + " does not exist in db", "team_id");
            }
        }
    }

    Row build_key(const json::object& body, const std::string& plaintext) {
        Row row;
        copy_columns(store::keys_table(), kKeyFields, body, row, {"spend", "key_name"}, false);
        std::string token = sha256_hex(plaintext);
        row["token"] = token;
        row["key_name"] = auth::key_name_of(plaintext);
        row["spend"] = 0.0;
        if (auto* sp = present(body, "spend")) {
            row["spend"] = sp->to_number<double>();
        }
        json::object meta;
        if (auto* m = present(body, "metadata")) {
            meta = m->get_object();
        }
        for (auto f : {"model_rpm_limit", "model_tpm_limit"}) {
            if (auto* v = present(body, f)) {
                meta[f] = *v;
            }
        }
        row["metadata"] = meta;
        if (auto* d = present(body, "duration")) {
            row["expires"] = auth::iso_seconds(
                auth::add_duration(now, *auth::parse_duration(d->get_string())));
        } else {
            row["expires"] = nullptr;
        }
        set_budget_reset(body, row, now);
        row["created_at"] = auth::iso_seconds(now);
        row["updated_at"] = auth::iso_seconds(now);
        row["created_by"] = actor();
        row["updated_by"] = actor();
        return row;
    }

    std::string custom_key(const json::object& body, std::string_view field) {
        auto* k = present(body, field);
        if (!k) {
            return generate_key();
        }
        std::string_view key = k->get_string();
        bool ok = key.size() >= 23 && key.substr(0, 3) == "sk-";
        for (char c : key.substr(std::min<std::size_t>(3, key.size()))) {
            ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-');
        }
        if (!ok) {
            invalid(field, "a custom key must be sk- followed by at least 20 characters of "
                           "[A-Za-z0-9_-]");
        }
        return std::string(key);
    }

    json::object key_generate(std::string_view body_text) {
        json::object body = parse_body(body_text, kKeyFields, unknown);
        return create_key(body);
    }

    json::object create_key(const json::object& body) {
        std::string plaintext = custom_key(body, "key");
        check_team_exists(body);
        check_alias_free(body, "");
        Row row = build_key(body, plaintext);
        if (!need(store.insert(store::keys_table(), row))) {
            fail(Errc::kBadRequest, "A key with this value or alias already exists.", "key");
        }
        gov_do([&g = gov, row] { g.put_key(row); });
        json::object out = key_view(row, true);
        out["key"] = plaintext;
        out["token_id"] = row["token"];
        out["key_type"] = str_of(row, "key_type").empty() ? json::value("default") : row["key_type"];
        for (auto f : {"max_parallel_requests", "tpm_limit", "rpm_limit", "user_id", "team_id",
                       "max_budget", "budget_duration", "key_alias", "blocked", "soft_budget"}) {
            if (!out.contains(f)) {
                out[f] = nullptr;
            }
        }
        for (auto f : {"models", "allowed_routes", "allowed_cache_controls"}) {
            if (!out.contains(f)) {
                out[f] = json::array{};
            }
        }
        if (!out.contains("aliases")) {
            out["aliases"] = json::object{};
        }
        return out;
    }

    json::object key_update(std::string_view body_text) {
        json::object body = parse_body(body_text, kKeyFields, unknown);
        auto* k = present(body, "key");
        if (!k || !k->is_string()) {
            invalid("key", "required");
        }
        std::string as_given(k->get_string());
        std::string token = token_of(as_given);
        Row current = key_row(token);
        check_team_exists(body);
        check_alias_free(body, token);
        Row ch;
        copy_columns(store::keys_table(), kKeyFields, body, ch, {"token", "key_name", "created_at", "created_by"},
                     true);
        if (body.contains("model_rpm_limit") || body.contains("model_tpm_limit")) {
            json::object meta = ch.contains("metadata") ? ch["metadata"].as_object()
                                                        : current["metadata"].as_object();
            for (auto f : {"model_rpm_limit", "model_tpm_limit"}) {
                if (auto* v = body.if_contains(f)) {
                    meta[f] = *v;
                }
            }
            ch["metadata"] = meta;
        }
        if (auto* d = body.if_contains("duration")) {
            ch["expires"] = d->is_string()
                                ? json::value(auth::iso_seconds(auth::add_duration(
                                      now, *auth::parse_duration(d->get_string()))))
                                : json::value(nullptr);
        }
        set_budget_reset(body, ch, now);
        ch["updated_at"] = auth::iso_seconds(now);
        ch["updated_by"] = actor();
        if (!need(store.update(store::keys_table(), {token}, ch))) {
            not_found("Key not found in database", "key");
        }
        Row updated = key_row(token);
        gov.put_key(updated, budget_write_of(body));
        json::object out = key_view(updated, false);
        out["key"] = as_given;
        return out;
    }

    json::object key_delete(std::string_view body_text) {
        json::object body = parse_body(body_text, kDeleteKeyFields, unknown);
        json::array deleted;
        if (auto* keys = present(body, "keys")) {
            for (const auto& k : keys->get_array()) {
                std::string token = token_of(k.get_string());
                if (need(store.remove(store::keys_table(), {{"token", "=", token}})) > 0) {
                    gov_do([&g = gov, token] { g.erase_key(token); });
                    deleted.push_back(k);
                }
            }
        }
        if (auto* aliases = present(body, "key_aliases")) {
            for (const auto& a : aliases->get_array()) {
                auto rows = need(store.find(store::keys_table(),
                                            {{"key_alias", "=", std::string(a.get_string())}}));
                for (const auto& r : rows) {
                    std::string token = str_of(r, "token");
                    if (need(store.remove(store::keys_table(), {{"token", "=", token}})) > 0) {
                        gov_do([&g = gov, token] { g.erase_key(token); });
                        deleted.push_back(a);
                    }
                }
            }
        }
        if (deleted.empty()) {
            not_found("No keys found", "keys");
        }
        return json::object{{"deleted_keys", deleted}};
    }

    json::object model_spend(const std::string& token) {
        json::object out;
        auto r = need(store.query("SELECT \"model_group\", SUM(\"spend\") FROM \"LiteLLM_SpendLogs\" "
                                  "WHERE \"api_key\" = ? GROUP BY \"model_group\"",
                                  {token}));
        for (const auto& row : r.rows) {
            if (auto g = store::as_text(row[0])) {
                out[*g] = store::as_double(row[1]).value_or(0.0);
            }
        }
        return out;
    }

    json::object key_info() {
        std::string as_given = query_param(query, "key");
        std::string token;
        if (as_given.empty()) {
            if (!caller.key) {
                invalid("key", "required for the master key");
            }
            token = caller.key->token;
        } else {
            token = token_of(as_given);
        }
        Row row = key_row(token);
        if (!is_admin_reader() && (!caller.key || caller.key->token != token)) {
            fail(Errc::kForbidden, "You are not allowed to access this key's info. Your key can "
                                   "only read its own info.");
        }
        // No ledger flush here: spend comes from memory (key_view), so a key polling its own
        // info cannot make every call a synchronous store write.
        json::object info = key_view(row, false);
        info["model_spend"] = model_spend(token);
        return json::object{{"key", as_given.empty() ? json::value(token) : json::value(as_given)},
                            {"info", info}};
    }

    json::object key_list() {
        std::int64_t page = int_param(query, "page", 1, 1, 1000000);
        std::int64_t size = int_param(query, "size", 10, 1, 100);
        std::vector<Filter> where;
        std::string user = query_param(query, "user_id");
        std::string team = query_param(query, "team_id");
        std::string alias = query_param(query, "key_alias");
        std::string hash = query_param(query, "key_hash");
        if (!user.empty()) {
            where.push_back({"user_id", "=", user});
        }
        if (!team.empty()) {
            where.push_back({"team_id", "=", team});
        }
        if (!alias.empty()) {
            where.push_back({"key_alias", "=", alias});
        }
        if (!hash.empty()) {
            where.push_back({"token", "=", token_of(hash)});
        }
        std::string full = query_param(query, "return_full_object");
        bool full_object = full == "true" || full == "True" || full == "1";
        std::int64_t total = need(store.count(store::keys_table(), where));
        Page p;
        p.order_by = "created_at";
        p.then_by = "token";  // keys created in the same second page deterministically
        p.desc = query_param(query, "sort_order") != "asc";
        p.limit = size;
        p.offset = (page - 1) * size;
        auto rows = need(store.find(store::keys_table(), where, p));
        json::array keys;
        for (auto& r : rows) {
            if (full_object) {
                keys.push_back(key_view(r, true));
            } else {
                keys.push_back(r["token"]);
            }
        }
        return json::object{{"keys", keys},
                            {"total_count", total},
                            {"current_page", page},
                            {"total_pages", (total + size - 1) / size}};
    }

    json::object key_regenerate(std::string_view body_text, std::string path_key) {
        json::object body = parse_body(body_text, kKeyFields, unknown);
        std::string as_given = path_key;
        if (as_given.empty()) {
            auto* k = present(body, "key");
            if (!k) {
                invalid("key", "required");
            }
            as_given = std::string(k->get_string());
        }
        std::string old_token = token_of(as_given);
        Row current = key_row(old_token);
        std::string plaintext = custom_key(body, "new_key");
        std::string token = sha256_hex(plaintext);
        Row ch{{"token", token},
               {"key_name", auth::key_name_of(plaintext)},
               {"updated_at", auth::iso_seconds(now)},
               {"updated_by", actor()}};
        if (auto* d = body.if_contains("duration")) {
            ch["expires"] = d->is_string()
                                ? json::value(auth::iso_seconds(auth::add_duration(
                                      now, *auth::parse_duration(d->get_string()))))
                                : json::value(nullptr);
        }
        {
            // Spend rows still queued for the old hash follow the rename (Store::apply_spend).
            store::Store::Tx tx(store);
            need(tx.begun());
            if (!need(store.update(store::keys_table(), {old_token}, ch))) {
                not_found("Key not found in database", "key");
            }
            need(store.rename_token(old_token, token, auth::iso_seconds(now)));
            need(tx.commit());
        }
        gov.rename_key(old_token, token);  // live spend and reservations move with the key
        Row updated = key_row(token);
        gov.put_key(updated);
        json::object out = key_view(updated, true);
        out["key"] = plaintext;
        out["token_id"] = token;
        return out;
    }

    json::object key_block(std::string_view body_text, bool block) {
        json::object body = parse_body(body_text, {{"key", F::kStr}}, unknown);
        auto* k = present(body, "key");
        if (!k) {
            invalid("key", "required");
        }
        std::string token = token_of(k->get_string());
        Row ch{{"blocked", block}, {"updated_at", auth::iso_seconds(now)}, {"updated_by", actor()}};
        if (!need(store.update(store::keys_table(), {token}, ch))) {
            not_found("Key not found in database", "key");
        }
        Row updated = key_row(token);
        gov.put_key(updated);
        return key_view(updated, true);
    }

    // ---- users ----

    std::optional<Row> user_by_email(const std::string& email) {
        // Case-insensitive comparison in code: the email column is not indexed for it.
        auto all = need(store.find(store::users_table(), {}));
        for (auto& r : all) {
            std::string e = str_of(r, "user_email");
            if (!e.empty() && ascii_iequals(e, email)) {
                return r;
            }
        }
        return std::nullopt;
    }

    json::object user_new(std::string_view body_text) {
        json::object body = parse_body(body_text, kUserFields, unknown);
        std::string id = present(body, "user_id") ? str_of(body, "user_id") : new_call_id();
        if (need(store.get(store::users_table(), {id}))) {
            fail(Errc::kBadRequest, "User with id=" + id + " already exists", "user_id", "", 409);
        }
        if (auto* e = present(body, "user_email"); e && user_by_email(std::string(e->get_string()))) {
            fail(Errc::kBadRequest, "User with email already exists", "user_email", "", 409);
        }
        std::string team = str_of(body, "team_id");
        if (!team.empty() && !need(store.get(store::teams_table(), {team}))) {
            fail(Errc::kBadRequest, "Team id=" + team + " does not exist in db", "team_id");
        }
        Row row;
        copy_columns(store::users_table(), kUserFields, body, row, {"spend"}, false);
        row["user_id"] = id;
        if (!row.contains("user_role")) {
            row["user_role"] = "internal_user";
        }
        json::array teams = row.contains("teams") ? row["teams"].as_array() : json::array{};
        if (!team.empty()) {
            teams.push_back(json::value(team));
        }
        row["teams"] = teams;
        set_budget_reset(body, row, now);
        row["created_at"] = auth::iso_seconds(now);
        row["updated_at"] = auth::iso_seconds(now);
        if (!need(store.insert(store::users_table(), row))) {
            fail(Errc::kBadRequest, "User with id=" + id + " already exists", "user_id", "", 409);
        }
        gov_do([&g = gov, row] { g.put_user(row); });
        if (!team.empty()) {
            add_member(team, id, "user");
        }
        json::object out = row;
        bool auto_key = !present(body, "auto_create_key") || body.at("auto_create_key").as_bool();
        if (auto_key) {
            json::object kb;
            kb["user_id"] = id;
            for (auto f : {"duration", "key_alias", "aliases", "models"}) {
                if (auto* v = present(body, f)) {
                    kb[f] = *v;
                }
            }
            if (!team.empty()) {
                kb["team_id"] = team;
            }
            json::object key = create_key(kb);
            out["key"] = key["key"];
            out["token"] = key["token"];
            out["key_name"] = key["key_name"];
            out["expires"] = key["expires"];
        }
        return out;
    }

    json::object user_info() {
        std::string id = query_param(query, "user_id");
        if (id.empty()) {
            if (!caller.key || !caller.key->user_id) {
                invalid("user_id", "required");
            }
            id = *caller.key->user_id;
        }
        if (!is_admin_reader() && (!caller.key || caller.key->user_id != id)) {
            fail(Errc::kForbidden, "You are not allowed to view this user.");
        }
        auto row = need(store.get(store::users_table(), {id}));
        if (!row) {
            not_found("User not found: " + id, "user_id");
        }
        json::array keys;
        for (auto& k : need(store.find(store::keys_table(), {{"user_id", "=", id}}))) {
            keys.push_back(key_view(k, true));
        }
        json::array teams;
        for (auto& m : need(store.find(store::members_table(), {{"user_id", "=", id}}))) {
            if (auto t = need(store.get(store::teams_table(), {str_of(m, "team_id")}))) {
                json::object team = *t;
                team["team_memberships"] = json::array{
                    json::object{{"user_id", id},
                                 {"team_id", m["team_id"]},
                                 {"spend", m["spend"]},
                                 {"budget_id", m["budget_id"]},
                                 {"litellm_budget_table", nullptr}}};
                teams.push_back(team);
            }
        }
        Row u = *row;
        u["spend"] = std::max(gov.spend_of("u:" + id), u["spend"].to_number<double>());
        return json::object{{"user_id", id}, {"user_info", u}, {"keys", keys}, {"teams", teams}};
    }

    json::object user_update(std::string_view body_text) {
        json::object body = parse_body(body_text, kUserFields, unknown);
        std::string id = str_of(body, "user_id");
        if (id.empty()) {
            if (auto* e = present(body, "user_email")) {
                auto r = user_by_email(std::string(e->get_string()));
                id = r ? str_of(*r, "user_id") : new_call_id();
            } else {
                invalid("user_id", "user_id or user_email required");
            }
        }
        Row ch;
        copy_columns(store::users_table(), kUserFields, body, ch, {"user_id", "created_at"}, true);
        set_budget_reset(body, ch, now);
        ch["updated_at"] = auth::iso_seconds(now);
        if (!need(store.update(store::users_table(), {id}, ch))) {
            ch["user_id"] = id;
            ch["created_at"] = auth::iso_seconds(now);
            if (!ch.contains("user_role") || ch["user_role"].is_null()) {
                ch["user_role"] = "internal_user";
            }
            need(store.insert(store::users_table(), ch));
        }
        auto row = need(store.get(store::users_table(), {id}));
        gov.put_user(*row, budget_write_of(body));
        return json::object{{"user_id", id}, {"data", *row}};
    }

    json::object user_delete(std::string_view body_text) {
        json::object body = parse_body(body_text, kUserFields, unknown);
        auto* ids = present(body, "user_ids");
        if (!ids) {
            invalid("user_ids", "required");
        }
        json::array deleted;
        for (const auto& v : ids->get_array()) {
            std::string id(v.get_string());
            for (auto& k : need(store.find(store::keys_table(), {{"user_id", "=", id}}))) {
                gov_do([&g = gov, t = str_of(k, "token")] { g.erase_key(t); });
            }
            need(store.remove(store::keys_table(), {{"user_id", "=", id}}));
            need(store.remove(store::members_table(), {{"user_id", "=", id}}));
            if (need(store.remove(store::users_table(), {{"user_id", "=", id}})) > 0) {
                gov_do([&g = gov, id] { g.erase_user(id); });
                deleted.push_back(v);
            }
        }
        if (deleted.empty()) {
            not_found("No users found", "user_ids");
        }
        return json::object{{"deleted_users", deleted}};
    }

    json::object user_list() {
        std::int64_t page = int_param(query, "page", 1, 1, 1000000);
        std::int64_t size = int_param(query, "page_size", 25, 1, 100);
        std::vector<Filter> where;
        std::string role = query_param(query, "role");
        if (!role.empty()) {
            where.push_back({"user_role", "=", role});
        }
        std::int64_t total = need(store.count(store::users_table(), where));
        Page p;
        p.order_by = "created_at";
        p.then_by = "user_id";
        p.limit = size;
        p.offset = (page - 1) * size;
        json::array users;
        for (auto& r : need(store.find(store::users_table(), where, p))) {
            users.push_back(r);
        }
        return json::object{{"users", users},
                            {"total", total},
                            {"page", page},
                            {"page_size", size},
                            {"total_pages", (total + size - 1) / size}};
    }

    // ---- teams ----

    Row team_row(const std::string& id, Errc missing = Errc::kNotFound) {
        auto r = need(store.get(store::teams_table(), {id}));
        if (!r) {
            if (missing == Errc::kNotFound) {
                not_found("Team not found: " + id, "team_id");
            }
            fail(Errc::kBadRequest, "Team id=" + id + " does not exist in db", "team_id");
        }
        return *r;
    }

    // Resolves a member object to a user id, creating the user when needed (api.md §9.2).
    std::pair<std::string, std::string> resolve_member(const json::value& m, std::string_view field) {
        if (!m.is_object()) {
            invalid(field, "members must be objects");
        }
        const auto& o = m.get_object();
        for (const auto& [k, v] : o) {
            if (k != "role" && k != "user_id" && k != "user_email") {
                unknown.push_back(std::string(field) + "." + std::string(k));
            }
        }
        std::string role = str_of(o, "role").empty() ? "user" : str_of(o, "role");
        if (role != "admin" && role != "user") {
            invalid(std::string(field) + ".role", "expected admin or user");
        }
        for (auto k : {"user_id", "user_email", "role"}) {
            if (auto* x = o.if_contains(k); x && !x->is_null() &&
                                           (!x->is_string() || has_control_chars(x->get_string()))) {
                invalid(std::string(field) + "." + k, "expected a string without control characters");
            }
        }
        std::string id = str_of(o, "user_id");
        std::string email = str_of(o, "user_email");
        if (id.empty() && email.empty()) {
            invalid(field, "each member needs user_id or user_email");
        }
        if (!email.empty()) {
            auto byemail = user_by_email(email);
            if (byemail && !id.empty() && str_of(*byemail, "user_id") != id) {
                fail(Errc::kBadRequest, "user_id and user_email belong to different users",
                     std::string(field));
            }
            if (byemail) {
                id = str_of(*byemail, "user_id");
            }
        }
        if (id.empty()) {
            id = new_call_id();
        }
        if (!need(store.get(store::users_table(), {id}))) {
            Row u{{"user_id", id},
                  {"user_role", "internal_user"},
                  {"created_at", auth::iso_seconds(now)},
                  {"updated_at", auth::iso_seconds(now)}};
            if (!email.empty()) {
                u["user_email"] = email;
            }
            need(store.insert(store::users_table(), u));
            gov_do([&g = gov, u] { g.put_user(u); });
        }
        return {id, role};
    }

    // Adds membership rows and the team to the user's `teams`. Returns false if already a member.
    bool add_member(const std::string& team, const std::string& user, const std::string& role) {
        if (!need(store.insert(store::members_table(),
                               Row{{"user_id", user}, {"team_id", team}, {"spend", 0.0}}))) {
            return false;
        }
        if (auto u = need(store.get(store::users_table(), {user}))) {
            json::array teams = u->contains("teams") && (*u)["teams"].is_array()
                                    ? (*u)["teams"].as_array()
                                    : json::array{};
            bool present_already = false;
            for (const auto& t : teams) {
                present_already = present_already || (t.is_string() && t.get_string() == team);
            }
            if (!present_already) {
                teams.push_back(json::value(team));
                need(store.update(store::users_table(), {user}, Row{{"teams", teams}}));
            }
        }
        (void)role;
        return true;
    }

    json::array members_of(const Row& team) {
        auto* m = team.if_contains("members_with_roles");
        return m && m->is_array() ? m->get_array() : json::array{};
    }

    json::value member_json(const std::string& user, const std::string& role) {
        auto u = need(store.get(store::users_table(), {user}));
        json::value email = nullptr;
        if (u && u->contains("user_email")) {
            email = (*u)["user_email"];
        }
        return json::object{{"role", role}, {"user_id", user}, {"user_email", email}};
    }

    json::object team_new(std::string_view body_text) {
        json::object body = parse_body(body_text, kTeamFields, unknown);
        std::string id = present(body, "team_id") ? str_of(body, "team_id") : new_call_id();
        if (present(body, "organization_id")) {
            fail(Errc::kBadRequest, "Organization id=" + str_of(body, "organization_id") +
                                        " does not exist in db",
                 "organization_id");
        }
        if (need(store.get(store::teams_table(), {id}))) {
            fail(Errc::kBadRequest, "Team id=" + id + " already exists", "team_id");
        }
        std::vector<std::pair<std::string, std::string>> members;
        if (auto* m = present(body, "members_with_roles")) {
            if (m->is_object()) {
                members.push_back(resolve_member(*m, "members_with_roles"));
            } else {
                for (const auto& e : m->get_array()) {
                    members.push_back(resolve_member(e, "members_with_roles"));
                }
            }
        }
        std::string me = actor();
        bool listed = false;
        for (const auto& [u, r] : members) {
            listed = listed || u == me;
        }
        if (!listed) {
            if (!need(store.get(store::users_table(), {me}))) {
                Row u{{"user_id", me}, {"user_role", caller.is_master ? "proxy_admin" : "internal_user"},
                      {"created_at", auth::iso_seconds(now)}, {"updated_at", auth::iso_seconds(now)}};
                need(store.insert(store::users_table(), u));
                gov_do([&g = gov, u] { g.put_user(u); });
            }
            members.emplace_back(me, "admin");
        }
        Row row;
        copy_columns(store::teams_table(), kTeamFields, body, row, {"spend", "members_with_roles"}, false);
        row["team_id"] = id;
        row["spend"] = 0.0;
        set_budget_reset(body, row, now);
        row["created_at"] = auth::iso_seconds(now);
        row["updated_at"] = auth::iso_seconds(now);
        row["members_with_roles"] = json::array{};
        if (!need(store.insert(store::teams_table(), row))) {
            fail(Errc::kBadRequest, "Team id=" + id + " already exists", "team_id");
        }
        json::array mj;
        for (const auto& [u, r] : members) {
            if (add_member(id, u, r)) {
                mj.push_back(member_json(u, r));
            }
        }
        need(store.update(store::teams_table(), {id}, Row{{"members_with_roles", mj}}));
        Row out = team_row(id);
        gov_do([&g = gov, out] { g.put_team(out); });
        return full_team(out);
    }

    json::object full_team(Row t) {
        for (auto f : {"team_alias", "organization_id", "max_budget", "budget_duration",
                       "budget_reset_at", "tpm_limit", "rpm_limit", "max_parallel_requests"}) {
            if (!t.contains(f)) {
                t[f] = nullptr;
            }
        }
        std::string id = str_of(t, "team_id");
        t["spend"] = std::max(gov.spend_of("t:" + id), t["spend"].to_number<double>());
        return t;
    }

    json::object team_info() {
        std::string id = query_param(query, "team_id");
        if (id.empty()) {
            invalid("team_id", "required");
        }
        bool own = caller.key && caller.key->team_id && *caller.key->team_id == id;
        if (!is_admin_reader() && !own) {
            fail(Errc::kForbidden, "You are not allowed to view this team.");
        }
        Row t = team_row(id);
        json::array keys;
        for (auto& k : need(store.find(store::keys_table(), {{"team_id", "=", id}}))) {
            keys.push_back(key_view(k, true));
        }
        json::array ms;
        for (auto& m : need(store.find(store::members_table(), {{"team_id", "=", id}}))) {
            m["litellm_budget_table"] = nullptr;
            ms.push_back(m);
        }
        return json::object{{"team_id", id}, {"team_info", full_team(t)}, {"keys", keys},
                            {"team_memberships", ms}};
    }

    json::object team_update(std::string_view body_text) {
        json::object body = parse_body(body_text, kTeamFields, unknown);
        std::string id = str_of(body, "team_id");
        if (id.empty()) {
            invalid("team_id", "required");
        }
        team_row(id);
        Row ch;
        copy_columns(store::teams_table(), kTeamFields, body, ch, {"team_id", "members_with_roles", "created_at"},
                     true);
        set_budget_reset(body, ch, now);
        ch["updated_at"] = auth::iso_seconds(now);
        need(store.update(store::teams_table(), {id}, ch));
        Row t = team_row(id);
        gov.put_team(t, budget_write_of(body));
        return json::object{{"team_id", id}, {"data", full_team(t)}};
    }

    json::object team_block(std::string_view body_text, bool block) {
        json::object body = parse_body(body_text, {{"team_id", F::kStr}}, unknown);
        std::string id = str_of(body, "team_id");
        team_row(id);
        need(store.update(store::teams_table(), {id},
                          Row{{"blocked", block}, {"updated_at", auth::iso_seconds(now)}}));
        Row t = team_row(id);
        gov.put_team(t);
        return full_team(t);
    }

    json::value team_delete(std::string_view body_text) {
        json::object body = parse_body(body_text, kTeamFields, unknown);
        auto* ids = present(body, "team_ids");
        if (!ids) {
            invalid("team_ids", "required");
        }
        json::array deleted;
        for (const auto& v : ids->get_array()) {
            std::string id(v.get_string());
            auto t = need(store.get(store::teams_table(), {id}));
            if (!t) {
                not_found("Team not found: " + id, "team_ids");
            }
            for (auto& k : need(store.find(store::keys_table(), {{"team_id", "=", id}}))) {
                gov_do([&g = gov, t = str_of(k, "token")] { g.erase_key(t); });
            }
            need(store.remove(store::keys_table(), {{"team_id", "=", id}}));
            for (auto& m : need(store.find(store::members_table(), {{"team_id", "=", id}}))) {
                drop_team_from_user(str_of(m, "user_id"), id);
            }
            need(store.remove(store::members_table(), {{"team_id", "=", id}}));
            need(store.remove(store::teams_table(), {{"team_id", "=", id}}));
            gov_do([&g = gov, id] { g.erase_team(id); });
            deleted.push_back(*t);
        }
        return json::object{{"deleted_teams", deleted}};
    }

    void drop_team_from_user(const std::string& user, const std::string& team) {
        if (auto u = need(store.get(store::users_table(), {user}))) {
            json::array keep;
            if (auto* ts = u->if_contains("teams"); ts && ts->is_array()) {
                for (const auto& t : ts->get_array()) {
                    if (!(t.is_string() && t.get_string() == team)) {
                        keep.push_back(t);
                    }
                }
            }
            need(store.update(store::users_table(), {user}, Row{{"teams", keep}}));
        }
    }

    json::value team_list() {
        json::array out;
        for (auto& t : need(store.find(store::teams_table(), {}))) {
            out.push_back(full_team(t));
        }
        return out;
    }

    json::object member_add(std::string_view body_text) {
        json::object body = parse_body(body_text, kTeamFields, unknown);
        std::string id = str_of(body, "team_id");
        if (id.empty()) {
            invalid("team_id", "required");
        }
        Row t = team_row(id);
        auto* m = present(body, "member");
        if (!m) {
            invalid("member", "required");
        }
        std::vector<std::pair<std::string, std::string>> members;
        bool list = m->is_array();
        if (list) {
            for (const auto& e : m->get_array()) {
                members.push_back(resolve_member(e, "member"));
            }
        } else {
            members.push_back(resolve_member(*m, "member"));
        }
        json::array mj = members_of(t);
        json::array updated_users;
        json::array updated_memberships;
        for (const auto& [u, r] : members) {
            if (add_member(id, u, r)) {
                mj.push_back(member_json(u, r));
                updated_users.push_back(*need(store.get(store::users_table(), {u})));
                updated_memberships.push_back(json::object{{"user_id", u}, {"team_id", id},
                                                           {"spend", 0.0}, {"budget_id", nullptr}});
            }
        }
        if (updated_users.empty()) {
            fail(Errc::kBadRequest,
                 list ? "All users are already in team " + id : "User already in team " + id,
                 std::nullopt, "team_member_already_in_team");
        }
        need(store.update(store::teams_table(), {id},
                          Row{{"members_with_roles", mj}, {"updated_at", auth::iso_seconds(now)}}));
        json::object out = full_team(team_row(id));
        out["updated_users"] = updated_users;
        out["updated_team_memberships"] = updated_memberships;
        return out;
    }

    json::object member_delete(std::string_view body_text) {
        json::object body = parse_body(body_text, kTeamFields, unknown);
        std::string id = str_of(body, "team_id");
        Row t = team_row(id, Errc::kBadRequest);
        std::string user = str_of(body, "user_id");
        if (user.empty() && present(body, "user_email")) {
            if (auto u = user_by_email(str_of(body, "user_email"))) {
                user = str_of(*u, "user_id");
            }
        }
        if (user.empty() ||
            need(store.remove(store::members_table(), {{"user_id", "=", user}, {"team_id", "=", id}})) == 0) {
            fail(Errc::kBadRequest, "User not found in team", "user_id");
        }
        json::array keep;
        for (const auto& m : members_of(t)) {
            if (!(m.is_object() && str_of(m.get_object(), "user_id") == user)) {
                keep.push_back(m);
            }
        }
        need(store.update(store::teams_table(), {id}, Row{{"members_with_roles", keep}}));
        drop_team_from_user(user, id);
        for (auto& k : need(store.find(store::keys_table(),
                                       {{"user_id", "=", user}, {"team_id", "=", id}}))) {
            gov_do([&g = gov, t = str_of(k, "token")] { g.erase_key(t); });
        }
        need(store.remove(store::keys_table(), {{"user_id", "=", user}, {"team_id", "=", id}}));
        Row updated = team_row(id);
        gov_do([&g = gov, updated] { g.put_team(updated); });
        return full_team(updated);
    }

    // ---- customers (end users) ----

    json::object customer_view(Row r) {
        std::string id = str_of(r, "user_id");
        r["spend"] = std::max(gov.spend_of("c:" + id), r["spend"].to_number<double>());
        json::object budget{{"max_budget", r.contains("max_budget") ? r["max_budget"] : nullptr},
                            {"tpm_limit", r.contains("tpm_limit") ? r["tpm_limit"] : nullptr},
                            {"rpm_limit", r.contains("rpm_limit") ? r["rpm_limit"] : nullptr},
                            {"budget_duration", r.contains("budget_duration") ? r["budget_duration"] : nullptr},
                            {"budget_reset_at", r.contains("budget_reset_at") ? r["budget_reset_at"] : nullptr}};
        bool any = false;
        for (const auto& [k, v] : budget) {
            any = any || !v.is_null();
        }
        r["litellm_budget_table"] = any ? json::value(budget) : json::value(nullptr);
        return r;
    }

    json::object customer_new(std::string_view body_text) {
        json::object body = parse_body(body_text, kCustomerFields, unknown);
        std::string id = str_of(body, "user_id");
        if (id.empty()) {
            invalid("user_id", "required");
        }
        if (auto* reg = present(body, "allowed_model_region");
            reg && reg->get_string() != "eu" && reg->get_string() != "us") {
            invalid("allowed_model_region", "expected eu or us");
        }
        Row row;
        copy_columns(store::customers_table(), kCustomerFields, body, row, {"spend"}, false);
        row["spend"] = 0.0;
        set_budget_reset(body, row, now);
        row["created_at"] = auth::iso_seconds(now);
        row["updated_at"] = auth::iso_seconds(now);
        if (!need(store.insert(store::customers_table(), row))) {
            fail(Errc::kBadRequest, "Customer with user_id=" + id + " already exists", "user_id");
        }
        gov.put_customer(row);
        return customer_view(row);
    }

    Row customer_row(const std::string& id) {
        auto r = need(store.get(store::customers_table(), {id}));
        if (!r) {
            not_found("End user not found: " + id, "user_id");
        }
        return *r;
    }

    json::object customer_update(std::string_view body_text) {
        json::object body = parse_body(body_text, kCustomerFields, unknown);
        std::string id = str_of(body, "user_id");
        customer_row(id);
        Row ch;
        copy_columns(store::customers_table(), kCustomerFields, body, ch, {"user_id", "created_at"}, true);
        set_budget_reset(body, ch, now);
        ch["updated_at"] = auth::iso_seconds(now);
        need(store.update(store::customers_table(), {id}, ch));
        Row r = customer_row(id);
        gov.put_customer(r, budget_write_of(body));
        return customer_view(r);
    }

    json::object customer_delete(std::string_view body_text) {
        json::object body = parse_body(body_text, kCustomerFields, unknown);
        auto* ids = present(body, "user_ids");
        if (!ids) {
            invalid("user_ids", "required");
        }
        json::array deleted;
        for (const auto& v : ids->get_array()) {
            std::string id(v.get_string());
            if (need(store.remove(store::customers_table(), {{"user_id", "=", id}})) > 0) {
                gov.erase_customer(id);
                deleted.push_back(v);
            }
        }
        if (deleted.empty()) {
            not_found("No end users found", "user_ids");
        }
        return json::object{{"deleted_customers", deleted}};
    }

    json::object customer_info() {
        std::string id = query_param(query, "end_user_id");
        if (id.empty()) {
            id = query_param(query, "user_id");
        }
        return customer_view(customer_row(id));
    }

    json::value customer_list() {
        json::array out;
        for (auto& r : need(store.find(store::customers_table(), {}))) {
            out.push_back(customer_view(r));
        }
        return out;
    }

    // ---- spend ----

    std::string day_after(const std::string& date, std::string_view field) {
        auto t = auth::parse_iso(date);
        if (!t || date.size() != 10) {
            invalid(field, "expected YYYY-MM-DD");
        }
        return auth::iso_seconds(*t + std::chrono::hours(24)).substr(0, 10);
    }

    json::value spend_logs() {
        if (flush_ledger) {
            flush_ledger();
        }
        std::vector<Filter> where;
        std::string key = query_param(query, "api_key");
        std::string user = query_param(query, "user_id");
        std::string team = query_param(query, "team_id");
        std::string model = query_param(query, "model");
        std::string start = query_param(query, "start_date");
        std::string end = query_param(query, "end_date");
        std::string rid = query_param(query, "request_id");
        if (!key.empty()) {
            where.push_back({"api_key", "=", token_of(key)});
        }
        if (!user.empty()) {
            where.push_back({"user", "=", user});
        }
        if (!team.empty()) {
            where.push_back({"team_id", "=", team});
        }
        if (!model.empty()) {
            where.push_back({"model_group", "=", model});
        }
        std::string end_excl;
        if (!start.empty()) {
            day_after(start, "start_date");
            where.push_back({"startTime", ">=", start});
        }
        if (!end.empty()) {
            end_excl = day_after(end, "end_date");
            where.push_back({"startTime", "<", end_excl});
        }
        std::int64_t page = int_param(query, "page", 1, 1, 1000000);
        std::int64_t size = int_param(query, "page_size", 100, 1, 1000);
        Page p;
        p.order_by = "startTime";
        p.then_by = "ledger_id";
        p.desc = true;
        std::string summarize = query_param(query, "summarize");
        bool summary = !start.empty() && !end.empty() && summarize != "false" && summarize != "False";
        if (!summary) {
            p.limit = size;
            p.offset = (page - 1) * size;
        }
        std::vector<Row> rows;
        if (!rid.empty()) {
            auto a = where;
            a.push_back({"request_id", "=", rid});
            rows = need(store.find(store::spend_logs_table(), a, p));
            auto b = where;
            b.push_back({"response_id", "=", rid});
            for (auto& r : need(store.find(store::spend_logs_table(), b, p))) {
                if (str_of(r, "request_id") != rid) {
                    rows.push_back(std::move(r));
                }
            }
        } else {
            rows = need(store.find(store::spend_logs_table(), where, p));
        }
        if (!summary) {
            json::array out;
            for (auto& r : rows) {
                r.erase("ledger_id");  // internal idempotency key, not a LiteLLM column
                out.push_back(std::move(r));
            }
            return out;
        }
        std::map<std::string, json::object> days;
        for (auto& r : rows) {
            std::string day = str_of(r, "startTime").substr(0, 10);
            json::object& d = days[day];
            double s = r["spend"].to_number<double>();
            d["startTime"] = day;
            d["spend"] = (d.contains("spend") ? d["spend"].to_number<double>() : 0.0) + s;
            json::object& users = d["users"].is_object() ? d["users"].as_object()
                                                         : d["users"].emplace_object();
            std::string u = str_of(r, "user");
            users[u] = (users.contains(u) ? users[u].to_number<double>() : 0.0) + s;
            json::object& models = d["models"].is_object() ? d["models"].as_object()
                                                           : d["models"].emplace_object();
            std::string m = str_of(r, "model_group");
            models[m] = (models.contains(m) ? models[m].to_number<double>() : 0.0) + s;
        }
        json::array out;
        for (auto& [k, v] : days) {
            out.push_back(v);
        }
        return out;
    }

    json::object global_spend() {
        if (flush_ledger) {
            flush_ledger();
        }
        auto r = need(store.query("SELECT COALESCE(SUM(\"spend\"), 0) FROM \"LiteLLM_SpendLogs\"", {}));
        double total = store::as_double(r.rows.at(0).at(0)).value_or(0.0);
        return json::object{{"spend", total},
                            {"max_budget", settings.litellm.max_budget.value_or(0.0)}};
    }

    json::value global_spend_report() {
        if (flush_ledger) {
            flush_ledger();
        }
        std::string start = query_param(query, "start_date");
        std::string end = query_param(query, "end_date");
        if (start.empty()) {
            invalid("start_date", "required (YYYY-MM-DD)");
        }
        if (end.empty()) {
            invalid("end_date", "required (YYYY-MM-DD)");
        }
        day_after(start, "start_date");
        std::string end_excl = day_after(end, "end_date");
        std::string group = query_param(query, "group_by");
        if (!group.empty() && group != "team") {
            invalid("group_by", "only team is supported");
        }
        auto r = need(store.query(
            "SELECT SUBSTR(\"startTime\", 1, 10), \"team_id\", \"model_group\", \"api_key\", "
            "SUM(\"spend\"), SUM(\"total_tokens\") FROM \"LiteLLM_SpendLogs\" WHERE \"startTime\" "
            ">= ? AND \"startTime\" < ? GROUP BY SUBSTR(\"startTime\", 1, 10), \"team_id\", "
            "\"model_group\", \"api_key\" ORDER BY 1",
            {start, end_excl}));
        std::map<std::string, std::map<std::string, json::object>> days;
        std::map<std::string, std::string> names;
        for (const auto& row : r.rows) {
            std::string day = store::as_text(row[0]).value_or("");
            std::string team = store::as_text(row[1]).value_or("");
            if (!names.count(team)) {
                std::string name = "Unassigned Team";
                if (!team.empty()) {
                    name = team;
                    if (auto t = need(store.get(store::teams_table(), {team}))) {
                        if (auto a = str_of(*t, "team_alias"); !a.empty()) {
                            name = a;
                        }
                    }
                }
                names[team] = name;
            }
            json::object& entry = days[day][team];
            double s = store::as_double(row[4]).value_or(0.0);
            entry["team_name"] = names[team];
            entry["total_spend"] =
                (entry.contains("total_spend") ? entry["total_spend"].to_number<double>() : 0.0) + s;
            json::array& meta = entry["metadata"].is_array() ? entry["metadata"].as_array()
                                                              : entry["metadata"].emplace_array();
            meta.push_back(json::object{{"model", store::as_text(row[2]).value_or("")},
                                        {"api_key", store::as_text(row[3]).value_or("")},
                                        {"spend", s},
                                        {"total_tokens", store::as_int(row[5]).value_or(0)}});
        }
        json::array out;
        for (auto& [day, teams] : days) {
            json::array ts;
            for (auto& [id, e] : teams) {
                ts.push_back(e);
            }
            out.push_back(json::object{{"group_by_day", day}, {"teams", ts}});
        }
        return out;
    }

    bool is_admin() const { return caller.is_master || caller.role == "proxy_admin"; }
    bool is_admin_reader() const { return is_admin() || caller.role == "proxy_admin_viewer"; }
};

}  // namespace

MgmtReply Management::handle(const Caller& caller, bool is_get, std::string_view path,
                             std::string_view query, std::string_view body) {
    Call c(settings_, store_, gov_, flush_ledger_, caller, query);
    MgmtReply reply;
    try {
        json::value out;
        // Route permission (auth-budgets-limits.md §3): admins everything, proxy_admin_viewer the
        // read routes, every other key only information about itself.
        static const std::set<std::string_view> kSelfRead{"/key/info", "/user/info", "/team/info"};
        static const std::set<std::string_view> kViewerRead{
            "/key/list", "/user/list", "/team/list", "/customer/list", "/end_user/list",
            "/customer/info", "/end_user/info", "/spend/logs", "/global/spend",
            "/global/spend/report"};
        bool allowed = c.is_admin() || kSelfRead.count(path) ||
                       (c.is_admin_reader() && kViewerRead.count(path));
        if (!allowed) {
            std::string uid = caller.key && caller.key->user_id ? *caller.key->user_id : "None";
            fail(Errc::kForbidden,
                 "Authentication Error, Only proxy admin can be used to generate, delete, update "
                 "info for new keys/users/teams. Route=" + std::string(path) + ". Your role=" +
                     (caller.role.empty() ? std::string("unknown") : caller.role) +
                     ". Your user_id=" + uid);
        }
        // An update that sets `spend` first writes the spend rows still queued in the ledger:
        // flushed later, their increments would land on top of the value the admin just set.
        if (!is_get && flush_ledger_ && path.ends_with("/update") &&
            json_scan::find_top_level(body, "spend")) {
            flush_ledger_();
        }
        auto method = [&](bool want_get) {
            if (is_get != want_get) {
                fail(Errc::kMethodNotAllowed, "Method Not Allowed", std::nullopt, "", 405);
            }
        };
        std::string_view p = path;
        if (p.rfind("/end_user/", 0) == 0) {
            static thread_local std::string alias;
            alias = "/customer/" + std::string(p.substr(10));
            p = alias;
        }
        if (p == "/key/generate") {
            method(false);
            out = c.key_generate(body);
        } else if (p == "/key/update") {
            method(false);
            out = c.key_update(body);
        } else if (p == "/key/delete") {
            method(false);
            out = c.key_delete(body);
        } else if (p == "/key/info") {
            method(true);
            out = c.key_info();
        } else if (p == "/key/list") {
            method(true);
            out = c.key_list();
        } else if (p == "/key/regenerate") {
            method(false);
            out = c.key_regenerate(body, "");
        } else if (p.rfind("/key/", 0) == 0 && p.size() > 16 &&
                   p.substr(p.size() - 11) == "/regenerate") {
            method(false);
            out = c.key_regenerate(body, std::string(p.substr(5, p.size() - 16)));
        } else if (p == "/key/block" || p == "/key/unblock") {
            method(false);
            out = c.key_block(body, p == "/key/block");
        } else if (p == "/user/new") {
            method(false);
            out = c.in_tx([&] { return c.user_new(body); });
        } else if (p == "/user/info") {
            method(true);
            out = c.user_info();
        } else if (p == "/user/update") {
            method(false);
            out = c.user_update(body);
        } else if (p == "/user/delete") {
            method(false);
            out = c.in_tx([&] { return c.user_delete(body); });
        } else if (p == "/user/list") {
            method(true);
            out = c.user_list();
        } else if (p == "/team/new") {
            method(false);
            out = c.in_tx([&] { return c.team_new(body); });
        } else if (p == "/team/info") {
            method(true);
            out = c.team_info();
        } else if (p == "/team/update") {
            method(false);
            out = c.team_update(body);
        } else if (p == "/team/delete") {
            method(false);
            out = c.in_tx([&] { return c.team_delete(body); });
        } else if (p == "/team/list") {
            method(true);
            out = c.team_list();
        } else if (p == "/team/member_add") {
            method(false);
            out = c.in_tx([&] { return c.member_add(body); });
        } else if (p == "/team/member_delete") {
            method(false);
            out = c.in_tx([&] { return c.member_delete(body); });
        } else if (p == "/team/block" || p == "/team/unblock") {
            method(false);
            out = c.team_block(body, p == "/team/block");
        } else if (p == "/customer/new") {
            method(false);
            out = c.customer_new(body);
        } else if (p == "/customer/update") {
            method(false);
            out = c.customer_update(body);
        } else if (p == "/customer/delete") {
            method(false);
            out = c.customer_delete(body);
        } else if (p == "/customer/info") {
            method(true);
            out = c.customer_info();
        } else if (p == "/customer/list") {
            method(true);
            out = c.customer_list();
        } else if (p == "/spend/logs") {
            method(true);
            out = c.spend_logs();
        } else if (p == "/global/spend") {
            method(true);
            out = c.global_spend();
        } else if (p == "/global/spend/report") {
            method(true);
            out = c.global_spend_report();
        } else {
            fail(Errc::kNotFound, "Not implemented yet: " + std::string(path), std::nullopt, "", 501);
        }
        reply.body = json_text(out);
    } catch (ApiError& e) {
        reply.status = e.e.http_status();
        Error& err = e.e;
        json::object env{{"message", err.message},
                         {"type", std::string(err.http_type())},
                         {"param", err.param ? json::value(*err.param) : json::value(nullptr)},
                         {"code", std::to_string(reply.status)}};
        reply.body = json_text(json::object{{"error", env}});
        for (auto& h : err.headers) {
            reply.headers.push_back(h);
        }
    } catch (const std::exception& e) {
        obs::error("management route failed", {{"route", std::string(path)}, {"detail", e.what()}});
        reply.status = 500;
        reply.body = R"({"error":{"message":"internal error","type":"internal_server_error","param":null,"code":"500"}})";
    }
    if (!c.unknown.empty()) {
        reply.headers.push_back({"x-litellm-warning", warning_header(c.unknown)});
        obs::debug("ignored unknown management fields", {{"route", std::string(path)}});
    }
    return reply;
}

}  // namespace sy::admin
