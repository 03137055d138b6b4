#include <sqlite3.h>

#include <charconv>
#include <string>
#include <unordered_map>

#include "sy/store/db.hpp"

namespace sy::store {
namespace {

class SqliteDb final : public Db {
public:
    explicit SqliteDb(sqlite3* db) : db_(db) {}
    ~SqliteDb() override {
        clear_cache();
        sqlite3_close_v2(db_);
    }

    DbResult<QueryResult> exec(std::string_view sql, const std::vector<Value>& params) override {
        // Prepared statements are kept and reused (bind / step / reset): the ledger writes the
        // same few statements for every spend row. Bounded: a full cache starts over.
        sqlite3_stmt* st = nullptr;
        auto it = stmts_.find(sql);
        if (it != stmts_.end()) {
            st = it->second;
        } else {
            if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                                   SQLITE_PREPARE_PERSISTENT, &st, nullptr) != SQLITE_OK) {
                return fail();
            }
            if (stmts_.size() >= kMaxCached) {
                clear_cache();
            }
            stmts_.emplace(std::string(sql), st);
        }
        struct Reset {
            sqlite3_stmt* s;
            ~Reset() {
                sqlite3_reset(s);
                sqlite3_clear_bindings(s);
            }
        } guard{st};
        for (std::size_t i = 0; i < params.size(); ++i) {
            int idx = static_cast<int>(i + 1);
            int rc = SQLITE_OK;
            const Value& v = params[i];
            if (std::holds_alternative<std::monostate>(v)) {
                rc = sqlite3_bind_null(st, idx);
            } else if (auto* n = std::get_if<std::int64_t>(&v)) {
                rc = sqlite3_bind_int64(st, idx, *n);
            } else if (auto* d = std::get_if<double>(&v)) {
                rc = sqlite3_bind_double(st, idx, *d);
            } else if (auto* ref = std::get_if<TextRef>(&v)) {
                // Alive until this call returns; the guard resets the statement before that.
                rc = sqlite3_bind_text(st, idx, ref->text.data(),
                                       static_cast<int>(ref->text.size()), SQLITE_STATIC);
            } else {
                const auto& s = std::get<std::string>(v);
                rc = sqlite3_bind_text(st, idx, s.data(), static_cast<int>(s.size()),
                                       SQLITE_TRANSIENT);
            }
            if (rc != SQLITE_OK) {
                return fail();
            }
        }
        QueryResult out;
        int ncol = sqlite3_column_count(st);
        for (int c = 0; c < ncol; ++c) {
            out.columns.emplace_back(sqlite3_column_name(st, c));
        }
        for (;;) {
            int rc = sqlite3_step(st);
            if (rc == SQLITE_DONE) {
                break;
            }
            if (rc != SQLITE_ROW) {
                return fail();
            }
            std::vector<Value> row;
            row.reserve(static_cast<std::size_t>(ncol));
            for (int c = 0; c < ncol; ++c) {
                switch (sqlite3_column_type(st, c)) {
                    case SQLITE_NULL:
                        row.emplace_back(std::monostate{});
                        break;
                    case SQLITE_INTEGER:
                        row.emplace_back(static_cast<std::int64_t>(sqlite3_column_int64(st, c)));
                        break;
                    case SQLITE_FLOAT:
                        row.emplace_back(sqlite3_column_double(st, c));
                        break;
                    default: {
                        const auto* p = sqlite3_column_text(st, c);
                        int n = sqlite3_column_bytes(st, c);
                        row.emplace_back(std::string(reinterpret_cast<const char*>(p),
                                                     static_cast<std::size_t>(n)));
                    }
                }
            }
            out.rows.push_back(std::move(row));
        }
        out.affected = sqlite3_changes64(db_);
        return out;
    }

    DbResult<QueryResult> exec_script(std::string_view sql) override {
        clear_cache();  // migrations may change the schema under cached statements
        std::string s(sql);
        char* err = nullptr;
        if (sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
            std::string m = err ? err : "sqlite error";
            sqlite3_free(err);
            return DbError{DbErrc::kOther, "sqlite: " + m};
        }
        return QueryResult{};
    }

    bool ping() override { return true; }
    std::string_view dialect() const override { return "sqlite"; }

private:
    struct Hash {
        using is_transparent = void;
        std::size_t operator()(std::string_view s) const {
            return std::hash<std::string_view>{}(s);
        }
    };
    static constexpr std::size_t kMaxCached = 256;

    void clear_cache() {
        for (auto& [sql, st] : stmts_) {
            sqlite3_finalize(st);
        }
        stmts_.clear();
    }

    DbError fail() {
        int ext = sqlite3_extended_errcode(db_);
        DbErrc c = DbErrc::kOther;
        if (ext == SQLITE_CONSTRAINT_UNIQUE || ext == SQLITE_CONSTRAINT_PRIMARYKEY) {
            c = DbErrc::kConflict;
        } else if ((ext & 0xff) == SQLITE_BUSY || (ext & 0xff) == SQLITE_IOERR ||
                   (ext & 0xff) == SQLITE_CANTOPEN || (ext & 0xff) == SQLITE_FULL) {
            c = DbErrc::kUnavailable;
        }
        return DbError{c, std::string("sqlite: ") + sqlite3_errmsg(db_)};
    }

    sqlite3* db_;
    std::unordered_map<std::string, sqlite3_stmt*, Hash, std::equal_to<>> stmts_;
};

}  // namespace

DbResult<DbPtr> open_sqlite(const std::string& path) {
    sqlite3* db = nullptr;
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
        std::string m = db ? sqlite3_errmsg(db) : "out of memory";
        sqlite3_close_v2(db);
        return DbError{DbErrc::kUnavailable, "sqlite: cannot open " + path + ": " + m};
    }
    sqlite3_busy_timeout(db, 5000);
    auto out = std::make_unique<SqliteDb>(db);
    auto r = out->exec_script(
        "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=OFF;");
    if (auto* e = std::get_if<DbError>(&r)) {
        return *e;
    }
    return DbPtr(std::move(out));
}

std::string_view text_view(const Value& v) {
    if (auto* s = std::get_if<std::string>(&v)) {
        return *s;
    }
    if (auto* ref = std::get_if<TextRef>(&v)) {
        return ref->text;
    }
    return {};
}

std::optional<std::string> as_text(const Value& v) {
    if (auto* s = std::get_if<std::string>(&v)) {
        return *s;
    }
    if (auto* ref = std::get_if<TextRef>(&v)) {
        return std::string(ref->text);
    }
    if (auto* n = std::get_if<std::int64_t>(&v)) {
        return std::to_string(*n);
    }
    if (auto* d = std::get_if<double>(&v)) {
        char buf[32];
        auto [p, ec] = std::to_chars(buf, buf + sizeof buf, *d);
        return std::string(buf, p);
    }
    return std::nullopt;
}

std::optional<double> as_double(const Value& v) {
    if (auto* d = std::get_if<double>(&v)) {
        return *d;
    }
    if (auto* n = std::get_if<std::int64_t>(&v)) {
        return static_cast<double>(*n);
    }
    if (std::holds_alternative<std::string>(v) || std::holds_alternative<TextRef>(v)) {
        std::string_view s = text_view(v);
        double d = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), d);
        if (ec == std::errc{}) {
            return d;
        }
    }
    return std::nullopt;
}

std::optional<std::int64_t> as_int(const Value& v) {
    if (auto* n = std::get_if<std::int64_t>(&v)) {
        return *n;
    }
    if (auto* d = std::get_if<double>(&v)) {
        return static_cast<std::int64_t>(*d);
    }
    if (std::holds_alternative<std::string>(v) || std::holds_alternative<TextRef>(v)) {
        std::string_view s = text_view(v);
        std::int64_t n = 0;
        auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
        if (ec == std::errc{}) {
            return n;
        }
    }
    return std::nullopt;
}

}  // namespace sy::store
