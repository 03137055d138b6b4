#pragma once
// The repository: keys, users, teams, memberships, end users and spend-log rows over either
// SQLite (default, README D2) or PostgreSQL, with the same SQL. Rows are JSON objects whose
// members are the table's columns (schema.hpp); members that are not columns are ignored.
// Every value is a bound parameter.
//
// Calls block: run them on the StorePool (pool.hpp), never on a worker thread.
// Thread safety: all methods are thread-safe (one connection, serialised by a mutex).

#include <unordered_map>
#include <boost/json/object.hpp>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "sy/core/error.hpp"
#include "sy/store/db.hpp"
#include "sy/store/schema.hpp"

namespace sy::store {

using Row = boost::json::object;

struct StoreOptions {
    std::string database_url;   // postgresql://... ; empty = SQLite
    std::string sqlite_path;    // file or ":memory:"
};

struct Filter {
    std::string_view col;  // a column of the table
    std::string_view op;   // "=", ">=", "<", "<=", ">"
    Value value;
};

struct Page {
    std::string_view order_by;  // a column; empty = primary key
    std::string_view then_by;   // a tiebreaker column (same direction); empty = none
    bool desc = false;
    std::int64_t limit = -1;  // -1 = all
    std::int64_t offset = 0;
};

class Store {
public:
    // Opens the database named by `opts`, checks that it is ours (or empty) and applies the
    // pending migrations.
    static Result<std::unique_ptr<Store>> open(const StoreOptions& opts);
    explicit Store(DbPtr db);

    std::string_view dialect() const { return dialect_; }
    bool ping();

    // Inserts `row`. Returns false (and changes nothing) on a primary-key or unique conflict
    // (ON CONFLICT DO NOTHING, so an open transaction stays usable on PostgreSQL).
    Result<bool> insert(const Table& t, const Row& row);
    Result<std::optional<Row>> get(const Table& t, const std::vector<Value>& pk);
    Result<std::vector<Row>> find(const Table& t, const std::vector<Filter>& where,
                                  const Page& page = {});
    Result<std::int64_t> count(const Table& t, const std::vector<Filter>& where);
    // Sets the columns present in `changes`. Returns false when no row has that key. With
    // `expect`, the update applies only when that column still holds that value
    // (compare-and-set, e.g. budget resets); false then also means "changed meanwhile".
    Result<bool> update(const Table& t, const std::vector<Value>& pk, const Row& changes,
                        const std::optional<Filter>& expect = std::nullopt);
    Result<std::int64_t> remove(const Table& t, const std::vector<Filter>& where);

    // Writes spend-log rows and adds their `spend` to the key, user, team, membership and end
    // user rows they name, all in one transaction. A row whose ledger_id (server-generated,
    // unique per row; request_id when absent) exists already is skipped together with its
    // increments, so replaying a batch is harmless. request_id (the client's call id) may repeat.
    // Returns the number of new rows.
    Result<std::int64_t> apply_spend(const std::vector<Row>& rows);
    // The same for rows as the spend ledger journals them: one compact JSON object per string
    // (its write-ahead-log line). Values are bound straight from the text (no JSON tree); lines
    // that are not JSON objects are skipped.
    Result<std::int64_t> apply_spend_lines(const std::vector<std::string>& lines);

    // Records that key `old_token` is now `new_token` (/key/regenerate): earlier renames to
    // `old_token` are re-pointed, and apply_spend() adds spend of rows naming an old hash to the
    // current one.
    Status rename_token(const std::string& old_token, const std::string& new_token,
                        const std::string& when);

    // One transaction over several calls of this store (multi-row management writes). The
    // constructor locks the store (other callers wait) and begins; the destructor rolls back
    // unless commit() succeeded. Calls of this store made by the owning thread join it.
    class Tx {
    public:
        explicit Tx(Store& s);
        ~Tx();
        Tx(const Tx&) = delete;
        Tx& operator=(const Tx&) = delete;
        const Status& begun() const { return begun_; }
        Status commit();

    private:
        Store& s_;
        std::unique_lock<std::recursive_mutex> lk_;
        Status begun_ = ok_status();
        bool done_ = false;
    };

    // SELECT with `?` parameters for the fixed report queries of this module's callers.
    Result<QueryResult> query(std::string_view sql, const std::vector<Value>& params);

    // Row <-> values of one column, by its declared type.
    static Value to_value(const Column& c, const boost::json::value& v);
    static boost::json::value from_value(const Column& c, const Value& v);

private:
    Status migrate();
    Result<QueryResult> run(std::string_view sql, const std::vector<Value>& params);
    Row to_row(const Table& t, const QueryResult& r, std::size_t i) const;

    std::recursive_mutex mu_;  // recursive: calls inside a Tx re-lock on the same thread
    DbPtr db_;
    std::string dialect_;
    std::unordered_map<std::uint64_t, std::string> spend_insert_sql_;  // by present-column mask
};

using StorePtr = std::unique_ptr<Store>;

// "DB not connected" (503) for driver failures; details go to the log, not to clients.
Error store_error(const DbError& e);

}  // namespace sy::store
