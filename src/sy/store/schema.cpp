#include "sy/store/schema.hpp"

namespace sy::store {
namespace {

using T = ColType;

// Version 1: every table of issue 6. Lists are JSON text (LiteLLM's PostgreSQL schema uses
// TEXT[]/JSONB; one textual form keeps the SQL identical on both back-ends).
constexpr std::string_view kV1 = R"SQL(
CREATE TABLE IF NOT EXISTS "LiteLLM_VerificationToken" (
  "token" TEXT PRIMARY KEY,
  "key_name" TEXT,
  "key_alias" TEXT UNIQUE,
  "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
  "max_budget" DOUBLE PRECISION,
  "soft_budget" DOUBLE PRECISION,
  "expires" TEXT,
  "models" TEXT NOT NULL DEFAULT '[]',
  "aliases" TEXT NOT NULL DEFAULT '{}',
  "config" TEXT NOT NULL DEFAULT '{}',
  "user_id" TEXT,
  "team_id" TEXT,
  "organization_id" TEXT,
  "max_parallel_requests" BIGINT,
  "metadata" TEXT NOT NULL DEFAULT '{}',
  "tpm_limit" BIGINT,
  "rpm_limit" BIGINT,
  "budget_duration" TEXT,
  "budget_reset_at" TEXT,
  "allowed_cache_controls" TEXT NOT NULL DEFAULT '[]',
  "allowed_routes" TEXT NOT NULL DEFAULT '[]',
  "permissions" TEXT NOT NULL DEFAULT '{}',
  "model_max_budget" TEXT NOT NULL DEFAULT '{}',
  "blocked" BIGINT,
  "key_type" TEXT NOT NULL DEFAULT 'default',
  "created_at" TEXT,
  "created_by" TEXT,
  "updated_at" TEXT,
  "updated_by" TEXT
);
CREATE INDEX IF NOT EXISTS "sy_vt_user" ON "LiteLLM_VerificationToken" ("user_id");
CREATE INDEX IF NOT EXISTS "sy_vt_team" ON "LiteLLM_VerificationToken" ("team_id");
CREATE TABLE IF NOT EXISTS "LiteLLM_UserTable" (
  "user_id" TEXT PRIMARY KEY,
  "user_email" TEXT,
  "user_alias" TEXT,
  "user_role" TEXT,
  "teams" TEXT NOT NULL DEFAULT '[]',
  "organization_id" TEXT,
  "max_budget" DOUBLE PRECISION,
  "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
  "models" TEXT NOT NULL DEFAULT '[]',
  "tpm_limit" BIGINT,
  "rpm_limit" BIGINT,
  "max_parallel_requests" BIGINT,
  "budget_duration" TEXT,
  "budget_reset_at" TEXT,
  "metadata" TEXT NOT NULL DEFAULT '{}',
  "created_at" TEXT,
  "updated_at" TEXT
);
CREATE TABLE IF NOT EXISTS "LiteLLM_TeamTable" (
  "team_id" TEXT PRIMARY KEY,
  "team_alias" TEXT,
  "organization_id" TEXT,
  "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
  "max_budget" DOUBLE PRECISION,
  "budget_duration" TEXT,
  "budget_reset_at" TEXT,
  "models" TEXT NOT NULL DEFAULT '[]',
  "tpm_limit" BIGINT,
  "rpm_limit" BIGINT,
  "max_parallel_requests" BIGINT,
  "members_with_roles" TEXT NOT NULL DEFAULT '[]',
  "metadata" TEXT NOT NULL DEFAULT '{}',
  "blocked" BIGINT NOT NULL DEFAULT 0,
  "model_aliases" TEXT NOT NULL DEFAULT '{}',
  "created_at" TEXT,
  "updated_at" TEXT
);
CREATE TABLE IF NOT EXISTS "LiteLLM_TeamMembership" (
  "user_id" TEXT NOT NULL,
  "team_id" TEXT NOT NULL,
  "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
  "budget_id" TEXT,
  PRIMARY KEY ("user_id", "team_id")
);
CREATE TABLE IF NOT EXISTS "LiteLLM_EndUserTable" (
  "user_id" TEXT PRIMARY KEY,
  "alias" TEXT,
  "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
  "allowed_model_region" TEXT,
  "default_model" TEXT,
  "budget_id" TEXT,
  "blocked" BIGINT NOT NULL DEFAULT 0,
  "max_budget" DOUBLE PRECISION,
  "tpm_limit" BIGINT,
  "rpm_limit" BIGINT,
  "budget_duration" TEXT,
  "budget_reset_at" TEXT,
  "created_at" TEXT,
  "updated_at" TEXT
);
CREATE TABLE IF NOT EXISTS "LiteLLM_SpendLogs" (
  "request_id" TEXT PRIMARY KEY,
  "response_id" TEXT,
  "call_type" TEXT,
  "api_key" TEXT,
  "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
  "total_tokens" BIGINT NOT NULL DEFAULT 0,
  "prompt_tokens" BIGINT NOT NULL DEFAULT 0,
  "completion_tokens" BIGINT NOT NULL DEFAULT 0,
  "startTime" TEXT,
  "endTime" TEXT,
  "completionStartTime" TEXT,
  "model" TEXT,
  "model_id" TEXT,
  "model_group" TEXT,
  "custom_llm_provider" TEXT,
  "api_base" TEXT,
  "user" TEXT,
  "end_user" TEXT,
  "team_id" TEXT,
  "organization_id" TEXT,
  "metadata" TEXT NOT NULL DEFAULT '{}',
  "cache_hit" TEXT,
  "cache_key" TEXT,
  "request_tags" TEXT NOT NULL DEFAULT '[]',
  "requester_ip_address" TEXT,
  "messages" TEXT NOT NULL DEFAULT '{}',
  "response" TEXT NOT NULL DEFAULT '{}',
  "proxy_server_request" TEXT NOT NULL DEFAULT '{}',
  "session_id" TEXT,
  "status" TEXT
);
CREATE INDEX IF NOT EXISTS "sy_sl_start" ON "LiteLLM_SpendLogs" ("startTime");
CREATE INDEX IF NOT EXISTS "sy_sl_key" ON "LiteLLM_SpendLogs" ("api_key");
CREATE INDEX IF NOT EXISTS "sy_sl_response" ON "LiteLLM_SpendLogs" ("response_id");
)SQL";

// Version 2: spend-log rows are keyed by a server-generated `ledger_id` (the write-ahead log's
// idempotency key). `request_id` is the client-visible call id (x-litellm-call-id, which a client
// may choose and repeat), so it is no longer unique. Rows written before get ledger_id =
// request_id, which is also what a replayed pre-v2 WAL line gets (Store::apply_spend).
constexpr std::string_view kV2 = R"SQL(
CREATE TABLE "sy_spendlogs_v2" (
  "ledger_id" TEXT PRIMARY KEY,
  "request_id" TEXT NOT NULL,
  "response_id" TEXT,
  "call_type" TEXT,
  "api_key" TEXT,
  "spend" DOUBLE PRECISION NOT NULL DEFAULT 0,
  "total_tokens" BIGINT NOT NULL DEFAULT 0,
  "prompt_tokens" BIGINT NOT NULL DEFAULT 0,
  "completion_tokens" BIGINT NOT NULL DEFAULT 0,
  "startTime" TEXT,
  "endTime" TEXT,
  "completionStartTime" TEXT,
  "model" TEXT,
  "model_id" TEXT,
  "model_group" TEXT,
  "custom_llm_provider" TEXT,
  "api_base" TEXT,
  "user" TEXT,
  "end_user" TEXT,
  "team_id" TEXT,
  "organization_id" TEXT,
  "metadata" TEXT NOT NULL DEFAULT '{}',
  "cache_hit" TEXT,
  "cache_key" TEXT,
  "request_tags" TEXT NOT NULL DEFAULT '[]',
  "requester_ip_address" TEXT,
  "messages" TEXT NOT NULL DEFAULT '{}',
  "response" TEXT NOT NULL DEFAULT '{}',
  "proxy_server_request" TEXT NOT NULL DEFAULT '{}',
  "session_id" TEXT,
  "status" TEXT
);
INSERT INTO "sy_spendlogs_v2" ("ledger_id", "request_id", "response_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens", "completion_tokens", "startTime", "endTime", "completionStartTime", "model", "model_id", "model_group", "custom_llm_provider", "api_base", "user", "end_user", "team_id", "organization_id", "metadata", "cache_hit", "cache_key", "request_tags", "requester_ip_address", "messages", "response", "proxy_server_request", "session_id", "status")
  SELECT "request_id", "request_id", "response_id", "call_type", "api_key", "spend", "total_tokens", "prompt_tokens", "completion_tokens", "startTime", "endTime", "completionStartTime", "model", "model_id", "model_group", "custom_llm_provider", "api_base", "user", "end_user", "team_id", "organization_id", "metadata", "cache_hit", "cache_key", "request_tags", "requester_ip_address", "messages", "response", "proxy_server_request", "session_id", "status" FROM "LiteLLM_SpendLogs";
DROP TABLE "LiteLLM_SpendLogs";
ALTER TABLE "sy_spendlogs_v2" RENAME TO "LiteLLM_SpendLogs";
CREATE INDEX IF NOT EXISTS "sy_sl_start" ON "LiteLLM_SpendLogs" ("startTime");
CREATE INDEX IF NOT EXISTS "sy_sl_key" ON "LiteLLM_SpendLogs" ("api_key");
CREATE INDEX IF NOT EXISTS "sy_sl_response" ON "LiteLLM_SpendLogs" ("response_id");
CREATE INDEX IF NOT EXISTS "sy_sl_request" ON "LiteLLM_SpendLogs" ("request_id");
)SQL";

// Version 3: /key/regenerate records old -> new token, so spend rows queued (or journaled) for
// the old hash still add to the key's spend (Store::apply_spend follows the rename).
constexpr std::string_view kV3 = R"SQL(
CREATE TABLE IF NOT EXISTS "sy_token_renames" (
  "old_token" TEXT PRIMARY KEY,
  "new_token" TEXT NOT NULL,
  "renamed_at" TEXT
);
CREATE INDEX IF NOT EXISTS "sy_tr_new" ON "sy_token_renames" ("new_token");
)SQL";

}  // namespace

const Table& keys_table() {
    static const Table t{"LiteLLM_VerificationToken",
                         {"token"},
                         {{"token", T::kText},
                          {"key_name", T::kText},
                          {"key_alias", T::kText},
                          {"spend", T::kReal},
                          {"max_budget", T::kReal},
                          {"soft_budget", T::kReal},
                          {"expires", T::kText},
                          {"models", T::kJson},
                          {"aliases", T::kJson},
                          {"config", T::kJson},
                          {"user_id", T::kText},
                          {"team_id", T::kText},
                          {"organization_id", T::kText},
                          {"max_parallel_requests", T::kInt},
                          {"metadata", T::kJson},
                          {"tpm_limit", T::kInt},
                          {"rpm_limit", T::kInt},
                          {"budget_duration", T::kText},
                          {"budget_reset_at", T::kText},
                          {"allowed_cache_controls", T::kJson},
                          {"allowed_routes", T::kJson},
                          {"permissions", T::kJson},
                          {"model_max_budget", T::kJson},
                          {"blocked", T::kBool},
                          {"key_type", T::kText},
                          {"created_at", T::kText},
                          {"created_by", T::kText},
                          {"updated_at", T::kText},
                          {"updated_by", T::kText}}};
    return t;
}

const Table& users_table() {
    static const Table t{"LiteLLM_UserTable",
                         {"user_id"},
                         {{"user_id", T::kText},
                          {"user_email", T::kText},
                          {"user_alias", T::kText},
                          {"user_role", T::kText},
                          {"teams", T::kJson},
                          {"organization_id", T::kText},
                          {"max_budget", T::kReal},
                          {"spend", T::kReal},
                          {"models", T::kJson},
                          {"tpm_limit", T::kInt},
                          {"rpm_limit", T::kInt},
                          {"max_parallel_requests", T::kInt},
                          {"budget_duration", T::kText},
                          {"budget_reset_at", T::kText},
                          {"metadata", T::kJson},
                          {"created_at", T::kText},
                          {"updated_at", T::kText}}};
    return t;
}

const Table& teams_table() {
    static const Table t{"LiteLLM_TeamTable",
                         {"team_id"},
                         {{"team_id", T::kText},
                          {"team_alias", T::kText},
                          {"organization_id", T::kText},
                          {"spend", T::kReal},
                          {"max_budget", T::kReal},
                          {"budget_duration", T::kText},
                          {"budget_reset_at", T::kText},
                          {"models", T::kJson},
                          {"tpm_limit", T::kInt},
                          {"rpm_limit", T::kInt},
                          {"max_parallel_requests", T::kInt},
                          {"members_with_roles", T::kJson},
                          {"metadata", T::kJson},
                          {"blocked", T::kBool},
                          {"model_aliases", T::kJson},
                          {"created_at", T::kText},
                          {"updated_at", T::kText}}};
    return t;
}

const Table& members_table() {
    static const Table t{"LiteLLM_TeamMembership",
                         {"user_id", "team_id"},
                         {{"user_id", T::kText},
                          {"team_id", T::kText},
                          {"spend", T::kReal},
                          {"budget_id", T::kText}}};
    return t;
}

const Table& customers_table() {
    static const Table t{"LiteLLM_EndUserTable",
                         {"user_id"},
                         {{"user_id", T::kText},
                          {"alias", T::kText},
                          {"spend", T::kReal},
                          {"allowed_model_region", T::kText},
                          {"default_model", T::kText},
                          {"budget_id", T::kText},
                          {"blocked", T::kBool},
                          {"max_budget", T::kReal},
                          {"tpm_limit", T::kInt},
                          {"rpm_limit", T::kInt},
                          {"budget_duration", T::kText},
                          {"budget_reset_at", T::kText},
                          {"created_at", T::kText},
                          {"updated_at", T::kText}}};
    return t;
}

const Table& spend_logs_table() {
    static const Table t{"LiteLLM_SpendLogs",
                         {"ledger_id"},
                         {{"ledger_id", T::kText},
                          {"request_id", T::kText},
                          {"response_id", T::kText},
                          {"call_type", T::kText},
                          {"api_key", T::kText},
                          {"spend", T::kReal},
                          {"total_tokens", T::kInt},
                          {"prompt_tokens", T::kInt},
                          {"completion_tokens", T::kInt},
                          {"startTime", T::kText},
                          {"endTime", T::kText},
                          {"completionStartTime", T::kText},
                          {"model", T::kText},
                          {"model_id", T::kText},
                          {"model_group", T::kText},
                          {"custom_llm_provider", T::kText},
                          {"api_base", T::kText},
                          {"user", T::kText},
                          {"end_user", T::kText},
                          {"team_id", T::kText},
                          {"organization_id", T::kText},
                          {"metadata", T::kJson},
                          {"cache_hit", T::kText},
                          {"cache_key", T::kText},
                          {"request_tags", T::kJson},
                          {"requester_ip_address", T::kText},
                          {"messages", T::kJson},
                          {"response", T::kJson},
                          {"proxy_server_request", T::kJson},
                          {"session_id", T::kText},
                          {"status", T::kText}}};
    return t;
}

const std::vector<Migration>& migrations() {
    static const std::vector<Migration> m{
        {1, "keys, users, teams, end users, spend logs", kV1},
        {2, "spend logs keyed by a server-generated ledger_id", kV2},
        {3, "token renames (key regenerate)", kV3}};
    return m;
}

}  // namespace sy::store
