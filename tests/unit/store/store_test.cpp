// The repository suite runs against SQLite always and against PostgreSQL when SY_TEST_PG_URL is
// set (scripts/test-services.sh starts a throwaway server and sets it).
#include "sy/store/store.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sy/store/pool.hpp"

namespace sy::store {
namespace {

namespace json = boost::json;

std::string pg_url() {
    const char* v = std::getenv("SY_TEST_PG_URL");
    return v ? v : "";
}

// Drops everything the gateway created, so each PostgreSQL test starts from an empty database.
void reset_postgres(const std::string& url) {
    auto db = open_postgres(url);
    ASSERT_TRUE(std::holds_alternative<DbPtr>(db)) << std::get<DbError>(db).message;
    auto r = std::get<DbPtr>(db)->exec_script(
        "DROP TABLE IF EXISTS sy_schema_migrations, \"LiteLLM_VerificationToken\", "
        "\"LiteLLM_UserTable\", \"LiteLLM_TeamTable\", \"LiteLLM_TeamMembership\", "
        "\"LiteLLM_EndUserTable\", \"LiteLLM_SpendLogs\", sy_spendlogs_v2, sy_token_renames CASCADE");
    ASSERT_TRUE(std::holds_alternative<QueryResult>(r)) << std::get<DbError>(r).message;
}

class StoreTest : public ::testing::TestWithParam<std::string> {
protected:
    void SetUp() override {
        if (GetParam() == "postgres") {
            if (pg_url().empty()) {
                GTEST_SKIP() << "SY_TEST_PG_URL not set";
            }
            reset_postgres(pg_url());
            opts_.database_url = pg_url();
        } else {
            dir_ = std::filesystem::temp_directory_path() /
                   ("sy-store-test-" + std::to_string(::getpid()) + "-" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
            std::filesystem::remove_all(dir_);
            std::filesystem::create_directories(dir_);
            opts_.sqlite_path = (dir_ / "switchyard.db").string();
        }
        auto s = Store::open(opts_);
        ASSERT_TRUE(s) << s.error().message;
        store_ = std::move(s).value();
    }
    void TearDown() override {
        store_.reset();
        if (!dir_.empty()) {
            std::filesystem::remove_all(dir_);
        }
    }

    Row key_row(std::string token, std::string alias) {
        return json::object{{"token", token},
                            {"key_name", "sk-...abcd"},
                            {"key_alias", alias},
                            {"spend", 0.0},
                            {"max_budget", 5.0},
                            {"models", json::array{"gpt-fast", "gpt4o-pool"}},
                            {"metadata", json::object{{"team", "x"}}},
                            {"rpm_limit", 100},
                            {"tpm_limit", nullptr},
                            {"blocked", false},
                            {"user_id", "u1"},
                            {"created_at", "2026-01-01T00:00:00Z"}};
    }

    StoreOptions opts_;
    std::filesystem::path dir_;
    StorePtr store_;
};

TEST_P(StoreTest, MigrationsAreRecordedAndReopenIsIdempotent) {
    auto v = store_->query("SELECT MAX(version) FROM sy_schema_migrations", {});
    ASSERT_TRUE(v);
    EXPECT_EQ(as_int(v->rows.at(0).at(0)), migrations().back().version);
    store_.reset();
    auto again = Store::open(opts_);
    ASSERT_TRUE(again) << again.error().message;
    auto n = again.value()->query("SELECT COUNT(*) FROM sy_schema_migrations", {});
    ASSERT_TRUE(n);
    EXPECT_EQ(as_int(n->rows.at(0).at(0)), static_cast<std::int64_t>(migrations().size()));
}

TEST_P(StoreTest, KeyRowRoundTripsEveryColumnType) {
    ASSERT_TRUE(store_->insert(keys_table(), key_row("h1", "alias-1")).value());
    auto got = store_->get(keys_table(), {std::string("h1")});
    ASSERT_TRUE(got);
    ASSERT_TRUE(got->has_value());
    const Row& r = **got;
    EXPECT_EQ(r.at("key_alias"), "alias-1");
    EXPECT_EQ(r.at("max_budget").as_double(), 5.0);
    EXPECT_EQ(r.at("models"), (json::array{"gpt-fast", "gpt4o-pool"}));
    EXPECT_EQ(r.at("metadata"), (json::object{{"team", "x"}}));
    EXPECT_EQ(r.at("rpm_limit"), 100);
    EXPECT_TRUE(r.at("tpm_limit").is_null());
    EXPECT_EQ(r.at("blocked"), false);
    EXPECT_EQ(r.at("key_type"), "default");  // column default
    EXPECT_TRUE(r.at("expires").is_null());
    auto missing = store_->get(keys_table(), {std::string("nope")});
    ASSERT_TRUE(missing);
    EXPECT_FALSE(missing->has_value());
}

TEST_P(StoreTest, DuplicatePrimaryKeyOrAliasIsAConflictAndChangesNothing) {
    ASSERT_TRUE(store_->insert(keys_table(), key_row("h1", "same")).value());
    auto dup_alias = store_->insert(keys_table(), key_row("h2", "same"));
    ASSERT_TRUE(dup_alias);
    EXPECT_FALSE(dup_alias.value());
    auto dup_pk = store_->insert(keys_table(), key_row("h1", "other"));
    ASSERT_TRUE(dup_pk);
    EXPECT_FALSE(dup_pk.value());
    EXPECT_EQ(store_->count(keys_table(), {}).value(), 1);
}

TEST_P(StoreTest, SqlLookingValuesAreStoredVerbatim) {
    std::string evil = "x'); DROP TABLE \"LiteLLM_VerificationToken\"; --";
    ASSERT_TRUE(store_->insert(keys_table(), key_row("h1", evil)).value());
    auto found = store_->find(keys_table(), {{"key_alias", "=", evil}});
    ASSERT_TRUE(found);
    ASSERT_EQ(found->size(), 1u);
    EXPECT_EQ(found->at(0).at("key_alias").as_string(), evil);
    auto none = store_->find(keys_table(), {{"key_alias", "=", std::string("' OR '1'='1")}});
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
}

TEST_P(StoreTest, UpdateSetsOnlyGivenColumnsAndHonoursCompareAndSet) {
    ASSERT_TRUE(store_->insert(keys_table(), key_row("h1", "a")).value());
    Row ch{{"max_budget", nullptr}, {"blocked", true}, {"budget_reset_at", "2026-02-01T00:00:00Z"}};
    EXPECT_TRUE(store_->update(keys_table(), {std::string("h1")}, ch).value());
    auto r = store_->get(keys_table(), {std::string("h1")}).value().value();
    EXPECT_TRUE(r.at("max_budget").is_null());
    EXPECT_EQ(r.at("blocked"), true);
    EXPECT_EQ(r.at("rpm_limit"), 100);
    EXPECT_FALSE(store_->update(keys_table(), {std::string("zz")}, ch).value());
    // CAS: the reset applies once.
    Row reset{{"spend", 0.0}, {"budget_reset_at", "2026-03-01T00:00:00Z"}};
    Filter expect{"budget_reset_at", "=", std::string("2026-02-01T00:00:00Z")};
    EXPECT_TRUE(store_->update(keys_table(), {std::string("h1")}, reset, expect).value());
    EXPECT_FALSE(store_->update(keys_table(), {std::string("h1")}, reset, expect).value());
}

TEST_P(StoreTest, FindPagesAndCounts) {
    for (int i = 0; i < 7; ++i) {
        auto row = key_row("h" + std::to_string(i), "a" + std::to_string(i));
        row["user_id"] = i % 2 ? "odd" : "even";
        ASSERT_TRUE(store_->insert(keys_table(), row).value());
    }
    EXPECT_EQ(store_->count(keys_table(), {{"user_id", "=", std::string("odd")}}).value(), 3);
    Page p;
    p.limit = 3;
    p.offset = 3;
    p.order_by = "token";
    auto page = store_->find(keys_table(), {}, p);
    ASSERT_TRUE(page);
    ASSERT_EQ(page->size(), 3u);
    EXPECT_EQ(page->at(0).at("token"), "h3");
    EXPECT_EQ(store_->remove(keys_table(), {{"user_id", "=", std::string("even")}}).value(), 4);
    EXPECT_EQ(store_->count(keys_table(), {}).value(), 3);
}

TEST_P(StoreTest, ApplySpendIsIdempotentAndRollsUp) {
    ASSERT_TRUE(store_->insert(keys_table(), key_row("h1", "a")).value());
    ASSERT_TRUE(store_->insert(users_table(), Row{{"user_id", "u1"}}).value());
    ASSERT_TRUE(store_->insert(teams_table(), Row{{"team_id", "t1"}}).value());
    ASSERT_TRUE(store_->insert(members_table(), Row{{"user_id", "u1"}, {"team_id", "t1"}}).value());
    ASSERT_TRUE(store_->insert(customers_table(), Row{{"user_id", "c1"}}).value());
    std::vector<Row> rows;
    for (int i = 0; i < 3; ++i) {
        rows.push_back(Row{{"request_id", "r" + std::to_string(i)},
                           {"api_key", "h1"},
                           {"user", "u1"},
                           {"team_id", "t1"},
                           {"end_user", "c1"},
                           {"spend", 0.25},
                           {"prompt_tokens", 10},
                           {"completion_tokens", 5},
                           {"total_tokens", 15},
                           {"startTime", "2026-01-01T00:00:0" + std::to_string(i) + ".000Z"},
                           {"metadata", json::object{{"status", "success"}}},
                           {"status", "success"}});
    }
    EXPECT_EQ(store_->apply_spend(rows).value(), 3);
    EXPECT_EQ(store_->apply_spend(rows).value(), 0);  // replay: nothing added twice
    auto spend = [&](const Table& t, std::vector<Value> pk) {
        return store_->get(t, pk).value().value().at("spend").as_double();
    };
    EXPECT_DOUBLE_EQ(spend(keys_table(), {std::string("h1")}), 0.75);
    EXPECT_DOUBLE_EQ(spend(users_table(), {std::string("u1")}), 0.75);
    EXPECT_DOUBLE_EQ(spend(teams_table(), {std::string("t1")}), 0.75);
    EXPECT_DOUBLE_EQ(spend(members_table(), {std::string("u1"), std::string("t1")}), 0.75);
    EXPECT_DOUBLE_EQ(spend(customers_table(), {std::string("c1")}), 0.75);
    EXPECT_EQ(store_->count(spend_logs_table(), {}).value(), 3);
    Page newest;
    newest.order_by = "startTime";
    newest.desc = true;
    auto logs = store_->find(spend_logs_table(), {{"startTime", ">=", std::string("2026-01-01T00:00:01")}},
                             newest);
    ASSERT_TRUE(logs);
    ASSERT_EQ(logs->size(), 2u);
    EXPECT_EQ(logs->at(0).at("request_id"), "r2");
    EXPECT_EQ(logs->at(0).at("metadata").at("status"), "success");
}

// Regression: a client-chosen x-litellm-call-id (request_id) repeated over several calls must
// not make the store skip rows and their spend; only the server's ledger_id deduplicates.
TEST_P(StoreTest, RepeatedRequestIdsAreDistinctRowsOnlyLedgerIdDeduplicates) {
    ASSERT_TRUE(store_->insert(keys_table(), key_row("h1", "a")).value());
    std::vector<Row> rows;
    for (int i = 0; i < 5; ++i) {
        rows.push_back(Row{{"ledger_id", "l" + std::to_string(i)},
                           {"request_id", i % 2 ? "client-a" : "client-b"},
                           {"response_id", "chatcmpl-" + std::to_string(i)},
                           {"api_key", "h1"},
                           {"spend", 0.5},
                           {"startTime", "2026-01-01T00:00:0" + std::to_string(i) + ".000Z"}});
    }
    EXPECT_EQ(store_->apply_spend(rows).value(), 5);
    EXPECT_EQ(store_->apply_spend(rows).value(), 0);  // WAL replay: nothing twice
    EXPECT_EQ(store_->count(spend_logs_table(), {}).value(), 5);
    EXPECT_EQ(store_->count(spend_logs_table(), {{"request_id", "=", std::string("client-a")}}).value(), 2);
    EXPECT_DOUBLE_EQ(store_->get(keys_table(), {std::string("h1")}).value().value().at("spend").as_double(),
                     2.5);
    // A WAL line from before ledger ids: request_id stands in for it.
    std::vector<Row> old{Row{{"request_id", "legacy-1"}, {"api_key", "h1"}, {"spend", 1.0}}};
    EXPECT_EQ(store_->apply_spend(old).value(), 1);
    EXPECT_EQ(store_->apply_spend(old).value(), 0);
}

// A large batch as the ledger writes it (PostgreSQL: several multi-row statements): rows with
// different column sets, a row repeated inside the batch, and a partial replay.
TEST_P(StoreTest, LargeMixedBatchCountsEveryNewRowOnce) {
    ASSERT_TRUE(store_->insert(keys_table(), key_row("h1", "a")).value());
    std::vector<std::string> lines;
    for (int i = 0; i < 450; ++i) {
        Row r{{"ledger_id", "big-" + std::to_string(i)},
              {"request_id", "req-" + std::to_string(i)},
              {"api_key", "h1"},
              {"spend", 0.01}};
        if (i % 3 == 0) {
            r["end_user"] = "";  // another column set every third row
        }
        lines.push_back(json::serialize(r));
    }
    lines.push_back(lines[10]);  // the same row twice in one batch
    lines.push_back("{\"ledger_id\": torn");  // a torn line is skipped
    EXPECT_EQ(store_->apply_spend_lines(lines).value(), 450);
    EXPECT_EQ(store_->count(spend_logs_table(), {}).value(), 450);
    EXPECT_NEAR(store_->get(keys_table(), {std::string("h1")}).value().value().at("spend").as_double(),
                4.5, 1e-9);
    // Replay of a part plus one new row: only the new row counts.
    std::vector<std::string> again(lines.begin() + 100, lines.begin() + 300);
    again.push_back(json::serialize(
        Row{{"ledger_id", "big-new"}, {"request_id", "req-new"}, {"api_key", "h1"}, {"spend", 1.0}}));
    EXPECT_EQ(store_->apply_spend_lines(again).value(), 1);
    EXPECT_NEAR(store_->get(keys_table(), {std::string("h1")}).value().value().at("spend").as_double(),
                5.5, 1e-9);
}

// The decoder tries each member's column from the previous line's order first: lines in other
// orders, with members that are no column, still bind every value to its own column.
TEST_P(StoreTest, SpendLinesInAnyMemberOrderBindTheirOwnColumns) {
    ASSERT_TRUE(store_->insert(keys_table(), key_row("h1", "a")).value());
    std::vector<std::string> lines = {
        R"({"ledger_id":"ord-1","request_id":"r1","api_key":"h1","spend":0.25,"model":"m1","prompt_tokens":3})",
        R"({"prompt_tokens":4,"model":"m2","spend":0.5,"api_key":"h1","request_id":"r2","ledger_id":"ord-2"})",
        R"({"x-unknown":1,"ledger_id":"ord-3","extra":"e","request_id":"r3","api_key":"h1","spend":1,"model":"m3"})",
        R"({"ledger_id":"ord-4","request_id":"r4","api_key":"h1","spend":0.25,"model":"m4","prompt_tokens":5})",
    };
    EXPECT_EQ(store_->apply_spend_lines(lines).value(), 4);
    EXPECT_NEAR(store_->get(keys_table(), {std::string("h1")}).value().value().at("spend").as_double(),
                2.0, 1e-9);
    const char* models[] = {"m1", "m2", "m3", "m4"};
    const char* requests[] = {"r1", "r2", "r3", "r4"};
    for (int i = 0; i < 4; ++i) {
        auto row = store_->find(spend_logs_table(),
                                {{"ledger_id", "=", "ord-" + std::to_string(i + 1)}});
        ASSERT_TRUE(row);
        ASSERT_EQ(row->size(), 1u) << i;
        EXPECT_EQ(row->at(0).at("model"), models[i]);
        EXPECT_EQ(row->at(0).at("request_id"), requests[i]);
    }
    auto r2 = store_->find(spend_logs_table(), {{"ledger_id", "=", std::string("ord-2")}});
    EXPECT_EQ(r2->at(0).at("prompt_tokens").as_int64(), 4);
}

// Lines are bound from their text: odd values behave as the JSON-tree path did (no scope credit
// for a non-string id, escapes decoded, integers clamped instead of undefined conversions).
TEST_P(StoreTest, OddSpendLineValuesAreBoundSafely) {
    ASSERT_TRUE(store_->insert(keys_table(), key_row("h1", "a")).value());
    ASSERT_TRUE(store_->insert(users_table(), Row{{"user_id", "7"}}).value());
    std::vector<std::string> lines = {
        R"({"ledger_id":"odd-1","request_id":"r","api_key":"h1","user":7,"spend":0.5,)"
        R"("total_tokens":18446744073709551615,"prompt_tokens":1e300,"model":"m\"q\u00e9"})",
    };
    EXPECT_EQ(store_->apply_spend_lines(lines).value(), 1);
    EXPECT_EQ(store_->apply_spend_lines(lines).value(), 0);
    EXPECT_DOUBLE_EQ(store_->get(keys_table(), {std::string("h1")}).value().value().at("spend").as_double(),
                     0.5);
    // "user": 7 is not a user id string: user "7" is not credited.
    EXPECT_DOUBLE_EQ(store_->get(users_table(), {std::string("7")}).value().value().at("spend").as_double(),
                     0.0);
    auto row = store_->find(spend_logs_table(), {{"ledger_id", "=", std::string("odd-1")}});
    ASSERT_TRUE(row);
    ASSERT_EQ(row->size(), 1u);
    EXPECT_EQ(row->at(0).at("model"), "m\"q\u00e9");
    EXPECT_GT(row->at(0).at("total_tokens").as_int64(), 0);
}

// Regression: rows queued for a key before /key/regenerate must add to the regenerated key.
TEST_P(StoreTest, SpendOfARenamedTokenReachesTheCurrentKey) {
    ASSERT_TRUE(store_->insert(keys_table(), key_row("h1", "a")).value());
    {
        Store::Tx tx(*store_);
        ASSERT_TRUE(tx.begun());
        ASSERT_TRUE(store_->update(keys_table(), {std::string("h1")}, Row{{"token", "h2"}}).value());
        ASSERT_TRUE(store_->rename_token("h1", "h2", "2026-01-01T00:00:00Z"));
        ASSERT_TRUE(tx.commit());
    }
    {
        Store::Tx tx(*store_);  // and again: h1 and h2 both lead to h3
        ASSERT_TRUE(store_->update(keys_table(), {std::string("h2")}, Row{{"token", "h3"}}).value());
        ASSERT_TRUE(store_->rename_token("h2", "h3", "2026-01-01T00:00:01Z"));
        ASSERT_TRUE(tx.commit());
    }
    std::vector<Row> rows{Row{{"ledger_id", "a"}, {"request_id", "r1"}, {"api_key", "h1"}, {"spend", 1.0}},
                          Row{{"ledger_id", "b"}, {"request_id", "r2"}, {"api_key", "h2"}, {"spend", 2.0}},
                          Row{{"ledger_id", "c"}, {"request_id", "r3"}, {"api_key", "h3"}, {"spend", 4.0}}};
    EXPECT_EQ(store_->apply_spend(rows).value(), 3);
    EXPECT_DOUBLE_EQ(store_->get(keys_table(), {std::string("h3")}).value().value().at("spend").as_double(),
                     7.0);
}

TEST_P(StoreTest, ATransactionThatIsNotCommittedChangesNothing) {
    {
        Store::Tx tx(*store_);
        ASSERT_TRUE(tx.begun());
        ASSERT_TRUE(store_->insert(users_table(), Row{{"user_id", "u1"}}).value());
        EXPECT_FALSE(store_->insert(users_table(), Row{{"user_id", "u1"}}).value());  // conflict
        ASSERT_TRUE(store_->insert(users_table(), Row{{"user_id", "u2"}}).value());  // still usable
    }
    EXPECT_EQ(store_->count(users_table(), {}).value(), 0);
}

TEST_P(StoreTest, PoolRunsCallsOffTheCallerThreadAndResumesOnIt) {
    StorePool pool(2);
    boost::asio::io_context io;
    std::thread::id caller;
    std::thread::id ran_on;
    std::thread::id resumed_on;
    std::int64_t n = -1;
    Store* s = store_.get();
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
            caller = std::this_thread::get_id();
            auto r = co_await pool.run([s, &ran_on] {
                ran_on = std::this_thread::get_id();
                return s->count(keys_table(), {});
            });
            resumed_on = std::this_thread::get_id();
            n = r.value();
        },
        boost::asio::detached);
    io.run();
    EXPECT_EQ(n, 0);
    EXPECT_TRUE(ran_on != caller);
    EXPECT_TRUE(resumed_on == caller);
}

// Regression: connections carry a statement timeout (a stuck statement cannot hold the store
// mutex for minutes).
TEST_P(StoreTest, PostgresSessionsHaveAStatementTimeout) {
    if (GetParam() != "postgres") {
        GTEST_SKIP() << "PostgreSQL only";
    }
    auto r = store_->query("SHOW statement_timeout", {});
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(as_text(r->rows.at(0).at(0)), "10s");
}

// Regression: a server that accepts the TCP connection and never answers (blackholed) makes
// the connect fail after connect_timeout instead of hanging.
TEST(PostgresConnect, ABlackholedServerTimesOut) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    ASSERT_GE(fd, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    ASSERT_EQ(::listen(fd, 4), 0);  // never accepted: the handshake completes, nothing answers
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    std::string url = "postgresql://u@127.0.0.1:" + std::to_string(ntohs(a.sin_port)) + "/db";
    auto done = std::make_shared<std::promise<bool>>();
    auto fut = done->get_future();
    std::thread([url, done] {
        auto r = open_postgres(url);
        done->set_value(std::holds_alternative<DbError>(r));
    }).detach();
    ASSERT_EQ(fut.wait_for(std::chrono::seconds(20)), std::future_status::ready)
        << "connect to a blackholed server did not time out";
    EXPECT_TRUE(fut.get());
    ::close(fd);
}

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest, ::testing::Values("sqlite", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace sy::store
