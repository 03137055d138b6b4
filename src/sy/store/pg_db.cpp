#include <libpq-fe.h>

#include <charconv>
#include <string>
#include <vector>

#include "sy/store/db.hpp"

namespace sy::store {
namespace {

// PostgreSQL type OIDs (catalog/pg_type_d.h) for the columns the repository reads.
constexpr Oid kBoolOid = 16;
constexpr Oid kInt8Oid = 20;
constexpr Oid kInt2Oid = 21;
constexpr Oid kInt4Oid = 23;
constexpr Oid kFloat4Oid = 700;
constexpr Oid kFloat8Oid = 701;
constexpr Oid kNumericOid = 1700;

// `?` -> `$n` outside single-quoted literals and double-quoted identifiers.
std::string number_placeholders(std::string_view sql) {
    std::string out;
    out.reserve(sql.size() + 16);
    int n = 0;
    char quote = 0;
    for (char c : sql) {
        if (quote) {
            if (c == quote) {
                quote = 0;
            }
            out.push_back(c);
        } else if (c == '\'' || c == '"') {
            quote = c;
            out.push_back(c);
        } else if (c == '?') {
            out += '$';
            out += std::to_string(++n);
        } else {
            out.push_back(c);
        }
    }
    return out;
}

void ignore_notice(void*, const char*) {}

class PgDb final : public Db {
public:
    explicit PgDb(PGconn* c) : conn_(c) { PQsetNoticeProcessor(conn_, ignore_notice, nullptr); }
    ~PgDb() override { PQfinish(conn_); }

    DbResult<QueryResult> exec(std::string_view sql, const std::vector<Value>& params) override {
        if (!ensure_connected()) {
            return DbError{DbErrc::kUnavailable, std::string("postgres: ") + PQerrorMessage(conn_)};
        }
        std::string text = number_placeholders(sql);
        std::vector<std::string> storage(params.size());
        std::vector<const char*> values(params.size(), nullptr);
        for (std::size_t i = 0; i < params.size(); ++i) {
            if (auto s = as_text(params[i])) {
                storage[i] = std::move(*s);
                values[i] = storage[i].c_str();
            }
        }
        PGresult* r = PQexecParams(conn_, text.c_str(), static_cast<int>(params.size()), nullptr,
                                   values.data(), nullptr, nullptr, 0);
        return collect(r);
    }

    DbResult<QueryResult> exec_script(std::string_view sql) override {
        if (!ensure_connected()) {
            return DbError{DbErrc::kUnavailable, std::string("postgres: ") + PQerrorMessage(conn_)};
        }
        std::string s(sql);
        return collect(PQexec(conn_, s.c_str()));
    }

    bool ping() override {
        if (!ensure_connected()) {
            return false;
        }
        auto r = exec("SELECT 1", {});
        return std::holds_alternative<QueryResult>(r);
    }

    std::string_view dialect() const override { return "postgres"; }

private:
    bool ensure_connected() {
        if (PQstatus(conn_) == CONNECTION_OK) {
            return true;
        }
        PQreset(conn_);
        if (PQstatus(conn_) == CONNECTION_OK) {
            PQsetNoticeProcessor(conn_, ignore_notice, nullptr);
            return true;
        }
        return false;
    }

    DbResult<QueryResult> collect(PGresult* r) {
        struct Clear {
            PGresult* r;
            ~Clear() { PQclear(r); }
        } guard{r};
        ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
            const char* state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : nullptr;
            std::string msg = r ? PQresultErrorMessage(r) : PQerrorMessage(conn_);
            DbErrc c = DbErrc::kOther;
            if (state && std::string_view(state) == "23505") {
                c = DbErrc::kConflict;
            } else if (!state || std::string_view(state).substr(0, 2) == "08" ||
                       PQstatus(conn_) != CONNECTION_OK) {
                c = DbErrc::kUnavailable;
            }
            while (!msg.empty() && (msg.back() == '\n' || msg.back() == ' ')) {
                msg.pop_back();
            }
            return DbError{c, "postgres: " + msg};
        }
        QueryResult out;
        int nf = PQnfields(r);
        int nt = PQntuples(r);
        for (int f = 0; f < nf; ++f) {
            out.columns.emplace_back(PQfname(r, f));
        }
        out.rows.reserve(static_cast<std::size_t>(nt));
        for (int t = 0; t < nt; ++t) {
            std::vector<Value> row;
            row.reserve(static_cast<std::size_t>(nf));
            for (int f = 0; f < nf; ++f) {
                if (PQgetisnull(r, t, f)) {
                    row.emplace_back(std::monostate{});
                    continue;
                }
                std::string_view s(PQgetvalue(r, t, f), static_cast<std::size_t>(PQgetlength(r, t, f)));
                Oid type = PQftype(r, f);
                if (type == kInt8Oid || type == kInt4Oid || type == kInt2Oid) {
                    std::int64_t n = 0;
                    std::from_chars(s.data(), s.data() + s.size(), n);
                    row.emplace_back(n);
                } else if (type == kFloat8Oid || type == kFloat4Oid || type == kNumericOid) {
                    double d = 0;
                    std::from_chars(s.data(), s.data() + s.size(), d);
                    row.emplace_back(d);
                } else if (type == kBoolOid) {
                    row.emplace_back(static_cast<std::int64_t>(s == "t" ? 1 : 0));
                } else {
                    row.emplace_back(std::string(s));
                }
            }
            out.rows.push_back(std::move(row));
        }
        const char* tuples = PQcmdTuples(r);
        if (tuples && *tuples) {
            std::from_chars(tuples, tuples + std::char_traits<char>::length(tuples), out.affected);
        }
        return out;
    }

    PGconn* conn_;
};

}  // namespace

DbResult<DbPtr> open_postgres(const std::string& url) {
    // Bounded waits on an unreachable or blackholed server (PQreset reuses these): connecting
    // gives up after 5 s, keepalives and tcp_user_timeout notice a dead peer within ~25 s, and a
    // statement runs at most 10 s. Settings the URL spells itself win.
    std::vector<const char*> keys{"dbname"};
    std::vector<const char*> values{url.c_str()};
    auto add = [&](const char* k, const char* v) {
        if (url.find(std::string(k) + "=") == std::string::npos) {
            keys.push_back(k);
            values.push_back(v);
        }
    };
    add("connect_timeout", "5");
    add("keepalives", "1");
    add("keepalives_idle", "10");
    add("keepalives_interval", "5");
    add("keepalives_count", "3");
    add("tcp_user_timeout", "25000");
    add("options", "-c statement_timeout=10000");
    keys.push_back(nullptr);
    values.push_back(nullptr);
    PGconn* c = PQconnectdbParams(keys.data(), values.data(), 1);
    if (PQstatus(c) != CONNECTION_OK) {
        std::string m = PQerrorMessage(c);
        PQfinish(c);
        while (!m.empty() && m.back() == '\n') {
            m.pop_back();
        }
        return DbError{DbErrc::kUnavailable, "postgres: cannot connect: " + m};
    }
    return DbPtr(std::make_unique<PgDb>(c));
}

}  // namespace sy::store
