#pragma once
// Minimal SQL driver interface shared by the SQLite and PostgreSQL back-ends. SQL text uses `?`
// placeholders (the PostgreSQL driver numbers them); every value is a bound parameter, never
// spliced into the text. Identifiers are fixed strings of the repository code.
//
// Thread safety: a Db is NOT thread-safe; the repository serialises access with its mutex.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "sy/core/error.hpp"

namespace sy::store {

// Text bound without a copy (the caller keeps the bytes alive until exec() returns); the hot
// spend-log insert binds slices of its write-ahead-log line this way.
struct TextRef {
    std::string_view text;
};

using Value = std::variant<std::monostate, std::int64_t, double, std::string, TextRef>;

struct QueryResult {
    std::vector<std::string> columns;
    std::vector<std::vector<Value>> rows;
    std::int64_t affected = 0;  // rows changed by INSERT/UPDATE/DELETE
};

// Failure classes a caller acts on; the message is for logs and 5xx bodies.
enum class DbErrc : std::uint8_t { kConflict, kUnavailable, kOther };

struct DbError {
    DbErrc code = DbErrc::kOther;
    std::string message;
};

template <class T>
using DbResult = std::variant<T, DbError>;

class Db {
public:
    virtual ~Db() = default;
    // Runs one statement with `params` bound to its `?` placeholders.
    virtual DbResult<QueryResult> exec(std::string_view sql, const std::vector<Value>& params) = 0;
    // Runs several statements without parameters (migrations).
    virtual DbResult<QueryResult> exec_script(std::string_view sql) = 0;
    // Cheap liveness probe; may reconnect.
    virtual bool ping() = 0;
    virtual std::string_view dialect() const = 0;  // "sqlite" | "postgres"
};

using DbPtr = std::unique_ptr<Db>;

// Opens (creating when needed) an SQLite database in WAL mode. `path` may be ":memory:".
DbResult<DbPtr> open_sqlite(const std::string& path);
// Connects to PostgreSQL (`url` = postgresql://...).
DbResult<DbPtr> open_postgres(const std::string& url);

// Value helpers.
inline bool is_null(const Value& v) { return std::holds_alternative<std::monostate>(v); }
std::optional<std::string> as_text(const Value& v);
// The bytes of a text value (std::string or TextRef); empty for other values.
std::string_view text_view(const Value& v);
std::optional<double> as_double(const Value& v);
std::optional<std::int64_t> as_int(const Value& v);

}  // namespace sy::store
