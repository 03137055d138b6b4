// The spend ledger's write-ahead log: per-instance directories claimed with flock, replay of
// directories left by dead instances, refusal to start without a writable WAL (SQLite store).
#include "sy/store/ledger.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

namespace sy::store {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

class LedgerTest : public ::testing::Test {
protected:
    void SetUp() override {
        dir_ = fs::temp_directory_path() /
               ("sy-ledger-test-" + std::to_string(::getpid()) + "-" +
                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(dir_);
        fs::create_directories(dir_);
        StoreOptions so;
        so.sqlite_path = (dir_ / "switchyard.db").string();
        auto s = Store::open(so);
        ASSERT_TRUE(s) << s.error().message;
        store_ = std::move(s).value();
        ASSERT_TRUE(store_->insert(keys_table(), Row{{"token", "h1"}}).value());
    }
    void TearDown() override {
        store_.reset();
        fs::remove_all(dir_);
    }
    LedgerOptions opts(std::string identity = "sqlite:test") {
        LedgerOptions o;
        o.wal_dir = (dir_ / "wal").string();
        o.db_identity = std::move(identity);
        o.interval = std::chrono::milliseconds(50);
        return o;
    }
    static Row row(int i, double spend = 0.25, std::size_t pad = 0) {
        Row r{{"request_id", "same-call-id"},  // clients may repeat it
              {"api_key", "h1"},
              {"spend", spend},
              {"startTime", "2026-01-01T00:00:00." + std::to_string(100 + i) + "Z"}};
        if (pad > 0) {
            r["session_id"] = std::string(pad, 'p');
        }
        return r;
    }
    std::int64_t rows_in_store() { return store_->count(spend_logs_table(), {}).value(); }
    double key_spend() {
        return store_->get(keys_table(), {std::string("h1")}).value().value().at("spend").as_double();
    }
    // A gateway killed with -9: journals `n` rows and exits without flushing or unlocking.
    void crashed_instance(int n, std::string identity = "sqlite:test", std::size_t pad = 0) {
        pid_t pid = ::fork();
        ASSERT_GE(pid, 0);
        if (pid == 0) {
            SpendLedger l(*store_, opts(identity));
            if (!l.open()) {
                ::_exit(2);
            }
            for (int i = 0; i < n; ++i) {
                l.append(row(i, 0.25, pad));
            }
            ::_exit(0);  // no destructor: nothing flushed, directory left behind
        }
        int status = 0;
        ::waitpid(pid, &status, 0);
        ASSERT_TRUE(WIFEXITED(status));
        ASSERT_EQ(WEXITSTATUS(status), 0);
    }

    fs::path dir_;
    StorePtr store_;
};

TEST_F(LedgerTest, RefusesToOpenWhenTheWalDirectoryCannotBeCreated) {
    std::ofstream(dir_ / "not-a-dir") << "x";
    LedgerOptions o = opts();
    o.wal_dir = (dir_ / "not-a-dir" / "wal").string();
    SpendLedger l(*store_, o);
    auto st = l.open();
    ASSERT_FALSE(st);
    EXPECT_NE(st.error().message.find("spend_wal_dir"), std::string::npos) << st.error().message;
}

TEST_F(LedgerTest, InstancesSharingARootNeverTouchEachOthersRowsAndDeadOnesAreReplayed) {
    crashed_instance(30);
    SpendLedger live(*store_, opts());
    ASSERT_TRUE(live.open());
    for (int i = 0; i < 7; ++i) {
        live.append(row(i));
    }
    {
        // A second instance starts next to the live one: it replays the dead instance's 30 rows,
        // leaves the live one's directory alone, and its own flushes delete only its segments.
        SpendLedger other(*store_, opts());
        ASSERT_TRUE(other.open());
        EXPECT_NE(other.instance_dir(), live.instance_dir());
        auto r = other.replay();
        ASSERT_TRUE(r) << r.error().message;
        EXPECT_EQ(r.value(), 30);
        other.append(row(99));
        EXPECT_TRUE(other.flush());
    }
    EXPECT_EQ(rows_in_store(), 31);
    EXPECT_TRUE(fs::exists(live.instance_dir()));
    // The live instance's rows are still journaled and reach the store.
    EXPECT_TRUE(live.flush());
    EXPECT_EQ(rows_in_store(), 38);
    EXPECT_DOUBLE_EQ(key_spend(), 38 * 0.25);
}

TEST_F(LedgerTest, OrphansOfAnotherDatabaseAreLeftAlone) {
    crashed_instance(5, "postgres:other-db");
    SpendLedger l(*store_, opts());
    ASSERT_TRUE(l.open());
    auto r = l.replay();
    ASSERT_TRUE(r);
    EXPECT_EQ(r.value(), 0);
    EXPECT_EQ(rows_in_store(), 0);
    std::size_t dirs = 0;
    for (const auto& e : fs::directory_iterator(dir_ / "wal")) {
        dirs += e.is_directory() ? 1 : 0;
    }
    EXPECT_EQ(dirs, 2u);  // ours and the other database's, untouched
}

TEST_F(LedgerTest, ACleanStopRemovesTheInstanceDirectory) {
    std::string mine;
    {
        SpendLedger l(*store_, opts());
        ASSERT_TRUE(l.open());
        mine = l.instance_dir();
        l.start();
        l.append(row(1));
        l.stop();
    }
    EXPECT_FALSE(fs::exists(mine));
    EXPECT_EQ(rows_in_store(), 1);
}

TEST_F(LedgerTest, APoisonRowIsParkedAndDoesNotBlockTheOthers) {
    SpendLedger l(*store_, opts());
    ASSERT_TRUE(l.open());
    l.append(row(1));
    Row poison = row(2);
    poison["metadata"] = nullptr;  // NOT NULL column: fails every time
    l.append(poison);
    l.append(row(3));
    EXPECT_TRUE(l.flush());
    EXPECT_EQ(rows_in_store(), 2);
    EXPECT_EQ(l.parked(), 1u);
    EXPECT_EQ(l.pending(), 0u);
    EXPECT_TRUE(fs::exists(dir_ / "wal" / "parked-spend.jsonl"));
    l.append(row(4));
    EXPECT_TRUE(l.flush());  // later rows are not stuck behind it
    EXPECT_EQ(rows_in_store(), 3);
}

TEST_F(LedgerTest, TheInMemoryQueueIsBoundedAndSpilledRowsAreReadBackFromTheWal) {
    LedgerOptions o = opts();
    o.max_queued = 5;
    SpendLedger l(*store_, o);
    ASSERT_TRUE(l.open());
    for (int i = 0; i < 40; ++i) {
        l.append(row(i));
    }
    EXPECT_LE(l.pending(), 6u);  // 5 rows + the "spilled" marker
    EXPECT_TRUE(l.flush());
    EXPECT_EQ(rows_in_store(), 40);
    EXPECT_DOUBLE_EQ(key_spend(), 40 * 0.25);
    EXPECT_EQ(l.pending(), 0u);
}

TEST_F(LedgerTest, RowsFillingSeveralSegmentsAreAllReadBack) {
    // 30 rows of 400 KB: more than one preallocated segment, only in the WAL (queue bound 5).
    LedgerOptions o = opts();
    o.max_queued = 5;
    SpendLedger l(*store_, o);
    ASSERT_TRUE(l.open());
    for (int i = 0; i < 30; ++i) {
        ASSERT_TRUE(l.append(row(i, 0.25, 400 * 1024)));
    }
    std::size_t segments = 0;
    for (const auto& e : fs::directory_iterator(l.instance_dir())) {
        segments += e.path().filename().string().rfind("spend.", 0) == 0 ? 1 : 0;
    }
    EXPECT_GE(segments, 2u);
    EXPECT_TRUE(l.flush());
    EXPECT_EQ(rows_in_store(), 30);
    EXPECT_DOUBLE_EQ(key_spend(), 30 * 0.25);
}

TEST_F(LedgerTest, ACrashAcrossSegmentsLosesNoJournaledRow) {
    // The killed instance leaves its segments at their preallocated size (a NUL tail).
    crashed_instance(30, "sqlite:test", 400 * 1024);
    SpendLedger l(*store_, opts());
    ASSERT_TRUE(l.open());
    auto r = l.replay();
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(r.value(), 30);
    EXPECT_EQ(rows_in_store(), 30);
}

TEST(WalIdentity, PostgresCredentialsAndOptionsAreNotPartOfIt) {
    EXPECT_EQ(wal_db_identity("postgresql://u:secret@db:5432/app?sslmode=require", ""),
              "postgres:postgresql://db:5432/app");
}

}  // namespace
}  // namespace sy::store
