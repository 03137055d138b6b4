#include "sy/store/store.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include <boost/json.hpp>

#include "sy/core/json_scan.hpp"
#include "sy/observability/log.hpp"

namespace sy::store {
namespace {

namespace json = boost::json;

std::string quote(std::string_view id) {
    std::string s;
    s.reserve(id.size() + 2);
    s += '"';
    s += id;
    s += '"';
    return s;
}

bool valid_op(std::string_view op) {
    return op == "=" || op == ">=" || op == "<" || op == "<=" || op == ">";
}

// Checked column name: callers pass names from code, but a typo must fail loudly, not build SQL.
std::optional<std::string> col_sql(const Table& t, std::string_view col) {
    if (!t.find(col)) {
        return std::nullopt;
    }
    return quote(col);
}

Error bad_column(const Table& t, std::string_view col) {
    return Error::make(Errc::kInternal,
                       "store: no column " + std::string(col) + " in " + std::string(t.name));
}

// WHERE clause for `where` (AND of the filters), appending bound values.
Result<std::string> where_sql(const Table& t, const std::vector<Filter>& where,
                              std::vector<Value>& params) {
    std::string s;
    for (const auto& f : where) {
        auto c = col_sql(t, f.col);
        if (!c || !valid_op(f.op)) {
            return bad_column(t, f.col);
        }
        s += s.empty() ? " WHERE " : " AND ";
        if (is_null(f.value) && f.op == "=") {
            s += *c + " IS NULL";
            continue;
        }
        s += *c;
        s += ' ';
        s += f.op;
        s += " ?";
        params.push_back(f.value);
    }
    return s;
}

Result<std::string> pk_where(const Table& t, const std::vector<Value>& pk,
                             std::vector<Value>& params) {
    if (pk.size() != t.pk.size()) {
        return Error::make(Errc::kInternal, "store: wrong primary key arity");
    }
    std::string s;
    for (std::size_t i = 0; i < pk.size(); ++i) {
        s += i == 0 ? " WHERE " : " AND ";
        s += quote(t.pk[i]) + " = ?";
        params.push_back(pk[i]);
    }
    return s;
}

}  // namespace

Error store_error(const DbError& e) {
    obs::error("store error", {{"detail", e.message}});
    if (e.code == DbErrc::kUnavailable) {
        return Error::make(Errc::kServiceUnavailable, "DB not connected");
    }
    return Error::make(Errc::kInternal, "database error");
}

Value Store::to_value(const Column& c, const json::value& v) {
    if (v.is_null()) {
        return std::monostate{};
    }
    switch (c.type) {
        case ColType::kBool:
            if (v.is_bool()) {
                return static_cast<std::int64_t>(v.get_bool() ? 1 : 0);
            }
            break;
        case ColType::kInt:
            if (v.is_int64()) {
                return v.get_int64();
            }
            if (v.is_uint64()) {
                return static_cast<std::int64_t>(v.get_uint64());
            }
            if (v.is_double()) {
                return static_cast<std::int64_t>(v.get_double());
            }
            break;
        case ColType::kReal:
            if (v.is_number()) {
                return v.to_number<double>();
            }
            break;
        case ColType::kJson:
            return json::serialize(v);
        case ColType::kText:
            if (v.is_string()) {
                return std::string(v.get_string());
            }
            break;
    }
    return json::serialize(v);
}

json::value Store::from_value(const Column& c, const Value& v) {
    if (is_null(v)) {
        return nullptr;
    }
    switch (c.type) {
        case ColType::kBool:
            return as_int(v).value_or(0) != 0;
        case ColType::kInt:
            if (auto n = as_int(v)) {
                return *n;
            }
            return nullptr;
        case ColType::kReal:
            if (auto d = as_double(v)) {
                return *d;
            }
            return nullptr;
        case ColType::kJson: {
            auto s = as_text(v).value_or("null");
            boost::system::error_code ec;
            auto parsed = json::parse(s, ec);
            return ec ? json::value(nullptr) : parsed;
        }
        case ColType::kText:
            return json::string(as_text(v).value_or(""));
    }
    return nullptr;
}

Store::Store(DbPtr db) : db_(std::move(db)), dialect_(db_->dialect()) {}

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& opts) {
    auto opened = opts.database_url.empty() ? open_sqlite(opts.sqlite_path)
                                            : open_postgres(opts.database_url);
    if (auto* e = std::get_if<DbError>(&opened)) {
        return Error::make(Errc::kServiceUnavailable, e->message);
    }
    auto s = std::make_unique<Store>(std::move(std::get<DbPtr>(opened)));
    auto m = s->migrate();
    if (!m) {
        return std::move(m).error();
    }
    return s;
}

Result<QueryResult> Store::run(std::string_view sql, const std::vector<Value>& params) {
    auto r = db_->exec(sql, params);
    if (auto* e = std::get_if<DbError>(&r)) {
        return store_error(*e);
    }
    return std::move(std::get<QueryResult>(r));
}

bool Store::ping() {
    std::lock_guard<std::recursive_mutex> lk(mu_);
    return db_->ping();
}

Status Store::migrate() {
    std::lock_guard<std::recursive_mutex> lk(mu_);
    bool pg = dialect_ == "postgres";
    if (pg) {
        // Instances starting together migrate one at a time.
        auto l = db_->exec("SELECT pg_advisory_lock(7234001)", {});
        if (auto* e = std::get_if<DbError>(&l)) {
            return Error::make(Errc::kServiceUnavailable, e->message);
        }
    }
    auto unlock = [&] {
        if (pg) {
            (void)db_->exec("SELECT pg_advisory_unlock(7234001)", {});
        }
    };
    auto exists = [&](std::string_view table) {
        auto r = db_->exec("SELECT 1 FROM " + quote(table) + " WHERE 1 = 0", {});
        return std::holds_alternative<QueryResult>(r);
    };
    bool ours = exists("sy_schema_migrations");
    if (!ours && exists(keys_table().name)) {
        unlock();
        return Error::make(Errc::kInternal,
                           "database has a LiteLLM_VerificationToken table that switchyard did not "
                           "create (no sy_schema_migrations table); point the gateway at an empty "
                           "database");
    }
    auto fail = [&](const DbError& e) {
        unlock();
        return Error::make(Errc::kInternal, "migration failed: " + e.message);
    };
    auto c = db_->exec_script(
        "CREATE TABLE IF NOT EXISTS sy_schema_migrations (version BIGINT PRIMARY KEY, "
        "description TEXT, applied_at TEXT)");
    if (auto* e = std::get_if<DbError>(&c)) {
        return fail(*e);
    }
    auto cur = db_->exec("SELECT COALESCE(MAX(version), 0) FROM sy_schema_migrations", {});
    if (auto* e = std::get_if<DbError>(&cur)) {
        return fail(*e);
    }
    std::int64_t have = as_int(std::get<QueryResult>(cur).rows.at(0).at(0)).value_or(0);
    std::int64_t newest = migrations().empty() ? 0 : migrations().back().version;
    if (have > newest) {
        unlock();
        return Error::make(Errc::kInternal,
                           "database schema version " + std::to_string(have) +
                               " is newer than this binary supports (" + std::to_string(newest) +
                               ")");
    }
    for (const auto& m : migrations()) {
        if (m.version <= have) {
            continue;
        }
        std::string script = "BEGIN;\n" + std::string(m.sql) + "\nCOMMIT;";
        auto r = db_->exec_script(script);
        if (auto* e = std::get_if<DbError>(&r)) {
            (void)db_->exec_script("ROLLBACK");
            return fail(*e);
        }
        auto ins = db_->exec(
            "INSERT INTO sy_schema_migrations (version, description, applied_at) VALUES (?, ?, "
            "CURRENT_TIMESTAMP)",
            {static_cast<std::int64_t>(m.version), std::string(m.description)});
        if (auto* e = std::get_if<DbError>(&ins)) {
            return fail(*e);
        }
        obs::info("store: applied migration",
                  {obs::num("version", static_cast<long long>(m.version)), {"description", std::string(m.description)}});
    }
    unlock();
    return ok_status();
}

Row Store::to_row(const Table& t, const QueryResult& r, std::size_t i) const {
    Row out;
    for (std::size_t c = 0; c < r.columns.size(); ++c) {
        const Column* col = t.find(r.columns[c]);
        if (col) {
            out[r.columns[c]] = from_value(*col, r.rows[i][c]);
        }
    }
    return out;
}

Result<bool> Store::insert(const Table& t, const Row& row) {
    std::string cols;
    std::string marks;
    std::vector<Value> params;
    for (const auto& c : t.cols) {
        auto it = row.find(c.name);
        if (it == row.end()) {
            continue;
        }
        cols += cols.empty() ? "" : ", ";
        cols += quote(c.name);
        marks += marks.empty() ? "?" : ", ?";
        params.push_back(to_value(c, it->value()));
    }
    std::string sql = "INSERT INTO " + quote(t.name) + " (" + cols + ") VALUES (" + marks +
                      ") ON CONFLICT DO NOTHING";
    std::lock_guard<std::recursive_mutex> lk(mu_);
    auto r = db_->exec(sql, params);
    if (auto* e = std::get_if<DbError>(&r)) {
        if (e->code == DbErrc::kConflict) {
            return false;
        }
        return store_error(*e);
    }
    return std::get<QueryResult>(r).affected > 0;
}

Store::Tx::Tx(Store& s) : s_(s), lk_(s.mu_) {
    auto r = s_.db_->exec("BEGIN", {});
    if (auto* e = std::get_if<DbError>(&r)) {
        done_ = true;
        begun_ = store_error(*e);
    }
}

Store::Tx::~Tx() {
    if (!done_) {
        (void)s_.db_->exec("ROLLBACK", {});
    }
}

Status Store::Tx::commit() {
    done_ = true;
    auto r = s_.db_->exec("COMMIT", {});
    if (auto* e = std::get_if<DbError>(&r)) {
        (void)s_.db_->exec("ROLLBACK", {});
        return store_error(*e);
    }
    return ok_status();
}

Status Store::rename_token(const std::string& old_token, const std::string& new_token,
                           const std::string& when) {
    std::lock_guard<std::recursive_mutex> lk(mu_);
    auto a = run("UPDATE \"sy_token_renames\" SET \"new_token\" = ? WHERE \"new_token\" = ?",
                 {new_token, old_token});
    if (!a) {
        return std::move(a).error();
    }
    auto b = run("INSERT INTO \"sy_token_renames\" (\"old_token\", \"new_token\", \"renamed_at\") "
                 "VALUES (?, ?, ?) ON CONFLICT (\"old_token\") DO UPDATE SET \"new_token\" = "
                 "excluded.\"new_token\", \"renamed_at\" = excluded.\"renamed_at\"",
                 {old_token, new_token, when});
    if (!b) {
        return std::move(b).error();
    }
    return ok_status();
}

Result<std::optional<Row>> Store::get(const Table& t, const std::vector<Value>& pk) {
    std::vector<Value> params;
    auto w = pk_where(t, pk, params);
    if (!w) {
        return std::move(w).error();
    }
    std::string sql = "SELECT * FROM " + quote(t.name) + w.value();
    std::lock_guard<std::recursive_mutex> lk(mu_);
    auto r = run(sql, params);
    if (!r) {
        return std::move(r).error();
    }
    if (r->rows.empty()) {
        return std::optional<Row>{};
    }
    return std::optional<Row>(to_row(t, r.value(), 0));
}

Result<std::vector<Row>> Store::find(const Table& t, const std::vector<Filter>& where,
                                     const Page& page) {
    std::vector<Value> params;
    auto w = where_sql(t, where, params);
    if (!w) {
        return std::move(w).error();
    }
    std::string order;
    if (!page.order_by.empty()) {
        auto c = col_sql(t, page.order_by);
        if (!c) {
            return bad_column(t, page.order_by);
        }
        order = *c;
        if (!page.then_by.empty()) {
            order += page.desc ? " DESC" : " ASC";
            auto t2 = col_sql(t, page.then_by);
            if (!t2) {
                return bad_column(t, page.then_by);
            }
            order += ", " + *t2;
        }
    } else {
        for (auto pk : t.pk) {
            order += order.empty() ? "" : ", ";
            order += quote(pk);
        }
    }
    std::string sql = "SELECT * FROM " + quote(t.name) + w.value() + " ORDER BY " + order +
                      (page.desc ? " DESC" : " ASC");
    if (page.limit >= 0) {
        sql += " LIMIT ? OFFSET ?";
        params.emplace_back(page.limit);
        params.emplace_back(page.offset);
    }
    std::lock_guard<std::recursive_mutex> lk(mu_);
    auto r = run(sql, params);
    if (!r) {
        return std::move(r).error();
    }
    std::vector<Row> out;
    out.reserve(r->rows.size());
    for (std::size_t i = 0; i < r->rows.size(); ++i) {
        out.push_back(to_row(t, r.value(), i));
    }
    return out;
}

Result<std::int64_t> Store::count(const Table& t, const std::vector<Filter>& where) {
    std::vector<Value> params;
    auto w = where_sql(t, where, params);
    if (!w) {
        return std::move(w).error();
    }
    std::lock_guard<std::recursive_mutex> lk(mu_);
    auto r = run("SELECT COUNT(*) FROM " + quote(t.name) + w.value(), params);
    if (!r) {
        return std::move(r).error();
    }
    return as_int(r->rows.at(0).at(0)).value_or(0);
}

Result<bool> Store::update(const Table& t, const std::vector<Value>& pk, const Row& changes,
                           const std::optional<Filter>& expect) {
    std::string sets;
    std::vector<Value> params;
    for (const auto& c : t.cols) {
        auto it = changes.find(c.name);
        if (it == changes.end()) {
            continue;
        }
        sets += sets.empty() ? "" : ", ";
        sets += quote(c.name) + " = ?";
        params.push_back(to_value(c, it->value()));
    }
    std::vector<Value> wparams;
    auto w = pk_where(t, pk, wparams);
    if (!w) {
        return std::move(w).error();
    }
    std::string where = w.value();
    if (expect) {
        std::vector<Filter> one{*expect};
        auto e = where_sql(t, one, wparams);
        if (!e) {
            return std::move(e).error();
        }
        where += " AND " + e.value().substr(7);  // drop " WHERE "
    }
    for (auto& v : wparams) {
        params.push_back(std::move(v));
    }
    std::lock_guard<std::recursive_mutex> lk(mu_);
    if (sets.empty()) {
        auto r = run("SELECT 1 FROM " + quote(t.name) + where, params);
        if (!r) {
            return std::move(r).error();
        }
        return !r->rows.empty();
    }
    auto r = run("UPDATE " + quote(t.name) + " SET " + sets + where, params);
    if (!r) {
        return std::move(r).error();
    }
    return r->affected > 0;
}

Result<std::int64_t> Store::remove(const Table& t, const std::vector<Filter>& where) {
    std::vector<Value> params;
    auto w = where_sql(t, where, params);
    if (!w) {
        return std::move(w).error();
    }
    if (where.empty()) {
        return Error::make(Errc::kInternal, "store: refusing an unfiltered DELETE");
    }
    std::lock_guard<std::recursive_mutex> lk(mu_);
    auto r = run("DELETE FROM " + quote(t.name) + w.value(), params);
    if (!r) {
        return std::move(r).error();
    }
    return r->affected;
}

Result<QueryResult> Store::query(std::string_view sql, const std::vector<Value>& params) {
    std::lock_guard<std::recursive_mutex> lk(mu_);
    return run(sql, params);
}

Result<std::int64_t> Store::apply_spend(const std::vector<Row>& rows) {
    std::vector<std::string> lines;
    lines.reserve(rows.size());
    for (const auto& r : rows) {
        lines.push_back(json::serialize(r));
    }
    return apply_spend_lines(lines);
}

namespace {

// One spend-log line decoded for binding: per column of LiteLLM_SpendLogs, the value to bind
// (text as a slice of the line unless it had escapes), and which columns were present.
struct SpendLine {
    std::vector<Value> values;
    std::uint64_t mask = 0;     // columns present in the line
    std::uint64_t strings = 0;  // columns whose value was a JSON string
};

// The value of a JSON string token (with its quotes): a slice of the line when it has no escapes.
Value json_string_value(std::string_view token) {
    std::string_view inner = token.substr(1, token.size() - 2);
    if (inner.find('\\') == std::string_view::npos) {
        return TextRef{inner};
    }
    boost::system::error_code ec;
    auto v = json::parse(token, ec);
    return !ec && v.is_string() ? Value(std::string(v.get_string())) : Value(std::string(inner));
}

// Binds a raw JSON token to a column of `type` the way Store::to_value binds a parsed value.
Value token_value(ColType type, std::string_view token) {
    if (token == "null") {
        return std::monostate{};
    }
    switch (type) {
        case ColType::kBool:
            if (token == "true" || token == "false") {
                return static_cast<std::int64_t>(token == "true" ? 1 : 0);
            }
            break;
        case ColType::kInt:
            if (auto n = json_scan::as_int64(token)) {
                return *n;
            }
            if (double d = 0; std::from_chars(token.data(), token.data() + token.size(), d).ec ==
                              std::errc{}) {
                // Clamped: converting a double outside int64 (or NaN) is undefined behaviour.
                constexpr double kMax = 9.2e18;
                return std::isnan(d) ? std::int64_t{0}
                                     : static_cast<std::int64_t>(std::clamp(d, -kMax, kMax));
            }
            break;
        case ColType::kReal:
            if (double d = 0; std::from_chars(token.data(), token.data() + token.size(), d).ec ==
                              std::errc{}) {
                return d;
            }
            break;
        case ColType::kJson:
            return TextRef{token};  // lines are compact JSON already
        case ColType::kText:
            if (!token.empty() && token.front() == '"') {
                return json_string_value(token);
            }
            break;
    }
    return TextRef{token};
}

}  // namespace

Result<std::int64_t> Store::apply_spend_lines(const std::vector<std::string>& lines) {
    const Table& t = spend_logs_table();
    // Column index by name, built once; a row's present columns form a mask, and the INSERT
    // text per mask is built once (the driver keeps the prepared statement).
    static const std::unordered_map<std::string_view, std::size_t> col_index = [&t] {
        std::unordered_map<std::string_view, std::size_t> m;
        for (std::size_t i = 0; i < t.cols.size(); ++i) {
            m.emplace(t.cols[i].name, i);
        }
        return m;
    }();
    static const std::size_t ledger_col = col_index.at("ledger_id");
    static const std::size_t request_col = col_index.at("request_id");
    static const std::size_t spend_col = col_index.at("spend");
    static const std::array<std::size_t, 4> scope_cols = {
        col_index.at("api_key"), col_index.at("user"), col_index.at("team_id"),
        col_index.at("end_user")};
    std::lock_guard<std::recursive_mutex> lk(mu_);
    auto b = db_->exec("BEGIN", {});
    if (auto* e = std::get_if<DbError>(&b)) {
        return store_error(*e);
    }
    std::int64_t added = 0;
    auto rollback = [&](const DbError& e) {
        (void)db_->exec("ROLLBACK", {});
        return store_error(e);
    };
    // Spend increments of the batch, summed per scope and applied once each.
    std::unordered_map<std::string, double> by_key;
    std::unordered_map<std::string, double> by_user;
    std::unordered_map<std::string, double> by_team;
    std::map<std::pair<std::string, std::string>, double> by_member;
    std::unordered_map<std::string, double> by_end_user;
    // Decodes one line into `row` (values are slices of `lines`, which outlive this call);
    // false for a line that is not a row (one torn by a crash mid-write was never acknowledged).
    // Lines come from one writer and name their members in the same order: the column of the
    // n-th member of the previous line is tried first (one comparison), the index otherwise.
    std::vector<std::size_t> order;  // column per member position; npos: not a column
    constexpr std::size_t kNoColumn = static_cast<std::size_t>(-1);
    auto column_of = [&](std::string_view key, std::size_t pos) {
        if (pos < order.size()) {
            std::size_t c = order[pos];
            if (c != kNoColumn && t.cols[c].name == key) {
                return c;
            }
        }
        auto it = col_index.find(key);
        std::size_t c = it != col_index.end() && it->second < 64 ? it->second : kNoColumn;
        if (pos >= order.size()) {
            order.resize(pos + 1, kNoColumn);
        }
        order[pos] = c;
        return c;
    };
    auto decode = [&](const std::string& line, SpendLine& row) {
        row.values.resize(t.cols.size());
        row.mask = 0;
        row.strings = 0;
        std::size_t pos = 0;
        bool ok = json_scan::for_each_member(line, [&](const json_scan::Member& m) {
            std::size_t c = column_of(m.key, pos++);
            if (c != kNoColumn) {
                std::string_view token(line.data() + m.value.offset, m.value.length);
                row.values[c] = token_value(t.cols[c].type, token);
                row.mask |= std::uint64_t{1} << c;
                if (!token.empty() && token.front() == '"') {
                    row.strings |= std::uint64_t{1} << c;
                }
            }
            return true;
        });
        if (ok && !(row.mask & (std::uint64_t{1} << ledger_col))) {
            // A WAL line written before ledger ids existed: its request_id was unique then.
            row.values[ledger_col] = row.strings & (std::uint64_t{1} << request_col)
                                         ? row.values[request_col]
                                         : Value(std::string());
        }
        return ok;
    };
    auto insert_sql = [&](std::uint64_t mask, std::size_t n_rows) {
        std::string cols;
        std::string marks;
        for (std::size_t i = 0; i < t.cols.size(); ++i) {
            if (mask & (std::uint64_t{1} << i)) {
                cols += cols.empty() ? "" : ", ";
                cols += quote(t.cols[i].name);
                marks += marks.empty() ? "?" : ", ?";
            }
        }
        std::string sql = "INSERT INTO " + quote(t.name) + " (" + cols + ") VALUES ";
        for (std::size_t r = 0; r < n_rows; ++r) {
            sql += r == 0 ? "(" : ", (";
            sql += marks;
            sql += ')';
        }
        return sql + " ON CONFLICT (\"ledger_id\") DO NOTHING";
    };
    auto mask_of = [&](const SpendLine& r) { return r.mask | (std::uint64_t{1} << ledger_col); };
    auto bind_row = [&](const SpendLine& r, std::vector<Value>& params) {
        std::uint64_t mask = mask_of(r);
        for (std::size_t i = 0; i < t.cols.size(); ++i) {
            if (mask & (std::uint64_t{1} << i)) {
                params.push_back(r.values[i]);
            }
        }
    };
    // Adds a newly written row's spend to its scopes.
    auto account = [&](const SpendLine& row) {
        ++added;
        auto present = [&](std::size_t col) { return (row.mask >> col) & 1U; };
        double spend = present(spend_col) ? as_double(row.values[spend_col]).value_or(0) : 0;
        if (spend == 0) {
            return;
        }
        auto text = [&](std::size_t col) {  // scope ids: JSON strings only (as before)
            return (row.strings >> col) & 1U ? text_view(row.values[col]) : std::string_view();
        };
        std::string_view key = text(scope_cols[0]);
        std::string_view user = text(scope_cols[1]);
        std::string_view team = text(scope_cols[2]);
        std::string_view end_user = text(scope_cols[3]);
        if (!key.empty()) {
            by_key[std::string(key)] += spend;
        }
        if (!user.empty()) {
            by_user[std::string(user)] += spend;
        }
        if (!team.empty()) {
            by_team[std::string(team)] += spend;
        }
        if (!team.empty() && !user.empty()) {
            by_member[{std::string(user), std::string(team)}] += spend;
        }
        if (!end_user.empty()) {
            by_end_user[std::string(end_user)] += spend;
        }
    };
    std::vector<Value> params;
    if (dialect_ == "postgres") {
        std::vector<SpendLine> rows;  // the whole batch: statements span several rows
        rows.reserve(lines.size());
        for (const auto& line : lines) {
            if (SpendLine row; decode(line, row)) {
                rows.push_back(std::move(row));
            }
        }
        // One statement per run of rows with the same columns (up to kChunk rows): a round trip
        // per chunk instead of per row. RETURNING names the rows that were new; a replayed row
        // (its ledger_id already stored) is skipped together with its increments.
        constexpr std::size_t kChunk = 200;  // x 32 columns, well under the 65535 parameters
        for (std::size_t i = 0; i < rows.size();) {
            std::uint64_t mask = mask_of(rows[i]);
            std::size_t j = i;
            while (j < rows.size() && j - i < kChunk && mask_of(rows[j]) == mask) {
                ++j;
            }
            params.clear();
            for (std::size_t k = i; k < j; ++k) {
                bind_row(rows[k], params);
            }
            auto r = db_->exec(insert_sql(mask, j - i) + " RETURNING \"ledger_id\"", params);
            if (auto* e = std::get_if<DbError>(&r)) {
                return rollback(*e);
            }
            std::unordered_set<std::string> inserted;
            for (const auto& out : std::get<QueryResult>(r).rows) {
                if (!out.empty()) {
                    inserted.insert(std::string(text_view(out[0])));
                }
            }
            for (std::size_t k = i; k < j; ++k) {
                // erase(): the same ledger id twice in one batch counts once
                if (inserted.erase(std::string(text_view(rows[k].values[ledger_col]))) > 0) {
                    account(rows[k]);
                }
            }
            i = j;
        }
    } else {
        // SQLite: one prepared statement per column set, executed per row (no round trips),
        // each line decoded into the same row buffer.
        SpendLine row;
        for (const auto& line : lines) {
            if (!decode(line, row)) {
                continue;
            }
            auto& insert = spend_insert_sql_[mask_of(row)];
            if (insert.empty()) {
                insert = insert_sql(mask_of(row), 1);
            }
            params.clear();
            bind_row(row, params);
            auto r = db_->exec(insert, params);
            if (auto* e = std::get_if<DbError>(&r)) {
                return rollback(*e);
            }
            if (std::get<QueryResult>(r).affected > 0) {
                account(row);  // 0: a replayed row, already counted
            }
        }
    }
    DbResult<QueryResult> last;
    auto inc = [&](const char* sql, const std::vector<Value>& p) -> const DbError* {
        last = db_->exec(sql, p);
        return std::get_if<DbError>(&last);
    };
    for (const auto& [key, spend] : by_key) {
        auto u = db_->exec("UPDATE \"LiteLLM_VerificationToken\" SET \"spend\" = \"spend\" + ? "
                           "WHERE \"token\" = ?",
                           {spend, key});
        if (auto* e = std::get_if<DbError>(&u)) {
            return rollback(*e);
        }
        if (std::get<QueryResult>(u).affected == 0) {
            // The key was regenerated after the row was written: follow the rename.
            if (auto* e = inc("UPDATE \"LiteLLM_VerificationToken\" SET \"spend\" = \"spend\" + ? "
                              "WHERE \"token\" = (SELECT \"new_token\" FROM \"sy_token_renames\" "
                              "WHERE \"old_token\" = ?)",
                              {spend, key})) {
                return rollback(*e);
            }
        }
    }
    for (const auto& [user, spend] : by_user) {
        if (auto* e = inc("UPDATE \"LiteLLM_UserTable\" SET \"spend\" = \"spend\" + ? WHERE "
                          "\"user_id\" = ?",
                          {spend, user})) {
            return rollback(*e);
        }
    }
    for (const auto& [team, spend] : by_team) {
        if (auto* e = inc("UPDATE \"LiteLLM_TeamTable\" SET \"spend\" = \"spend\" + ? WHERE "
                          "\"team_id\" = ?",
                          {spend, team})) {
            return rollback(*e);
        }
    }
    for (const auto& [ut, spend] : by_member) {
        if (auto* e = inc("UPDATE \"LiteLLM_TeamMembership\" SET \"spend\" = \"spend\" + ? "
                          "WHERE \"user_id\" = ? AND \"team_id\" = ?",
                          {spend, ut.first, ut.second})) {
            return rollback(*e);
        }
    }
    for (const auto& [end_user, spend] : by_end_user) {
        if (auto* e = inc("UPDATE \"LiteLLM_EndUserTable\" SET \"spend\" = \"spend\" + ? WHERE "
                          "\"user_id\" = ?",
                          {spend, end_user})) {
            return rollback(*e);
        }
    }
    auto c = db_->exec("COMMIT", {});
    if (auto* e = std::get_if<DbError>(&c)) {
        return rollback(*e);
    }
    return added;
}

}  // namespace sy::store
