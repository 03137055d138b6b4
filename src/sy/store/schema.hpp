#pragma once
// The tables the gateway owns (LiteLLM's table and column names, auth-budgets-limits.md §5, §9.2)
// and the versioned migrations that create them. Column names are the only identifiers ever
// placed in SQL text, and only from these fixed lists.
//
// Thread safety: immutable data.

#include <string_view>
#include <vector>

namespace sy::store {

enum class ColType : unsigned char { kText, kReal, kInt, kBool, kJson };

struct Column {
    std::string_view name;
    ColType type;
};

struct Table {
    std::string_view name;
    std::vector<std::string_view> pk;  // one or more columns
    std::vector<Column> cols;
    const Column* find(std::string_view col) const {
        for (const auto& c : cols) {
            if (c.name == col) {
                return &c;
            }
        }
        return nullptr;
    }
};

const Table& keys_table();        // LiteLLM_VerificationToken
const Table& users_table();       // LiteLLM_UserTable
const Table& teams_table();       // LiteLLM_TeamTable
const Table& members_table();     // LiteLLM_TeamMembership
const Table& customers_table();   // LiteLLM_EndUserTable
const Table& spend_logs_table();  // LiteLLM_SpendLogs

struct Migration {
    int version;
    std::string_view description;
    std::string_view sql;  // valid in both SQLite and PostgreSQL
};

// In version order. Never edit a released migration; append a new one.
const std::vector<Migration>& migrations();

}  // namespace sy::store
