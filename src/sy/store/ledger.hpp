#pragma once
// The spend ledger (auth-budgets-limits.md §9.1): one row per request, appended to a local
// write-ahead log (one write() per row, before the response is acknowledged) and queued; a
// background thread writes the queue to the store in batches (every second or 100 rows) with
// apply_spend(), which is idempotent by request_id. Segments whose rows reached the store are
// deleted; segments left by a crash (kill -9) are replayed at the next start. DB failures are
// retried with backoff; rows are never dropped.
//
// Thread safety: append(), flush() and pending() are thread-safe.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <unordered_map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "sy/store/store.hpp"

namespace sy::store {

struct LedgerOptions {
    std::string wal_path;  // segment files are <wal_path>.<n>; empty = no WAL (:memory: store)
    std::chrono::milliseconds interval{1000};
    std::size_t batch_rows = 100;
};

class SpendLedger {
public:
    SpendLedger(Store& store, LedgerOptions opts);
    ~SpendLedger();
    SpendLedger(const SpendLedger&) = delete;
    SpendLedger& operator=(const SpendLedger&) = delete;

    // Writes rows left in WAL segments by a previous run to the store, then deletes the
    // segments. Call once, before start(). Returns the number of rows that were new.
    Result<std::int64_t> replay();
    void start();
    // Final flush (retried briefly), then the thread stops. Rows that still could not be
    // written stay in the WAL for the next start.
    void stop();

    // Journals and queues one LiteLLM_SpendLogs row. Returns false if the WAL write failed
    // (the row is still queued in memory).
    bool append(const Row& row);
    // Writes everything queued so far to the store now. True on success (or nothing to do).
    bool flush();

    std::size_t pending() const;
    // Runs `read` (reads of the store's spend columns) while no flush is in progress, and returns
    // the spend of the rows still queued per scope ("k:<key hash>", "u:<user>", "t:<team>",
    // "c:<end user>"): what `read` saw plus this map is everything this instance spent, with no
    // row counted twice or missed (multi-instance budgets, README D7).
    std::unordered_map<std::string, double> pending_spend(const std::function<void()>& read);
    bool last_flush_ok() const { return last_ok_.load(); }

private:
    void run();
    bool open_segment(std::uint64_t n);

    Store& store_;
    LedgerOptions opts_;
    mutable std::mutex mu_;        // queue_, fd_, segment_
    std::mutex flush_mu_;          // one flush at a time
    std::condition_variable cv_;
    std::deque<Row> queue_;
    int fd_ = -1;
    std::uint64_t segment_ = 0;
    bool stopping_ = false;
    std::atomic<bool> last_ok_{true};
    std::thread thread_;
};

}  // namespace sy::store
