#pragma once
// The spend ledger (auth-budgets-limits.md §9.1): one row per request, appended to a local
// write-ahead log (copied into a shared file mapping, so it is in the kernel's page cache and
// survives a kill -9, before the response is acknowledged; no system call per row) and queued; a
// background thread writes the queue to the store in batches (every second or 10000 rows) with
// apply_spend(), which is idempotent by the row's `ledger_id` (assigned here, unique per row;
// never the client-chosen request_id). Segments whose rows reached the store are deleted.
//
// WAL layout: every running instance owns a directory `<wal_dir>/<instance>/` (claimed with an
// flock on its `lock` file, held for the life of the process) holding its segments `spend.<n>`
// and a `db` file naming the database the rows belong to. Instances never touch a directory
// whose lock is held; at start-up an instance replays (then removes) every unlocked directory a
// dead instance left for the same database. DB failures are retried with backoff; rows are never
// dropped.
//
// Thread safety: append(), flush(), pending() and wal_ok() are thread-safe.

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
    std::string wal_dir;      // root of the instance directories; empty = no WAL (:memory: store)
    std::string db_identity;  // the database rows go to; orphans of another database are skipped
    std::string legacy_wal_path;  // pre-directory segments <path>.<n> to replay once (optional)
    std::chrono::milliseconds interval{1000};
    std::size_t batch_rows = 10000;
    // Rows held in memory while the store is unreachable; beyond that they are only in the WAL
    // and are re-read from it once the store is back (no bound without a WAL).
    std::size_t max_queued = 100000;
};

class SpendLedger {
public:
    SpendLedger(Store& store, LedgerOptions opts);
    ~SpendLedger();
    SpendLedger(const SpendLedger&) = delete;
    SpendLedger& operator=(const SpendLedger&) = delete;

    // Claims this instance's WAL directory and opens its first segment. An error (unwritable
    // directory, ...) means the gateway must not start: acknowledged rows could not be journaled.
    Status open();
    // Writes rows left in WAL directories of dead instances (and legacy segments) to the store,
    // then deletes them. Call once, after open() and before start(). Returns the number of rows
    // that were new.
    Result<std::int64_t> replay();
    void start();
    // Final flush (retried briefly), then the thread stops. Rows that still could not be
    // written stay in the WAL for the next start.
    void stop();

    // Journals and queues one LiteLLM_SpendLogs row, giving it a fresh `ledger_id` unless it has
    // one. Returns false if the WAL write failed (the row is still queued in memory, logged, and
    // wal_ok() turns false until a write succeeds again).
    bool append(Row row);
    // The same for a row already serialized as one JSON object (no newline) that has its
    // `ledger_id` (new_ledger_id()): the request path builds the line directly.
    bool append_line(std::string line);
    // Writes everything queued so far to the store now. True on success (or nothing to do).
    bool flush();

    std::size_t pending() const;
    // Runs `read` (reads of the store's spend columns) while no flush is in progress, and returns
    // the spend of the rows still queued per scope ("k:<key hash>", "u:<user>", "t:<team>",
    // "c:<end user>"): what `read` saw plus this map is everything this instance spent, with no
    // row counted twice or missed (multi-instance budgets, README D7).
    std::unordered_map<std::string, double> pending_spend(const std::function<void()>& read);
    bool last_flush_ok() const { return last_ok_.load(); }
    bool wal_ok() const { return wal_ok_.load(); }
    const std::string& instance_dir() const { return dir_; }

    // Rows that failed on their own (not because the store is down) and were set aside in
    // <wal_dir>/parked-spend.jsonl with an error log, so they do not block the rows after them.
    std::size_t parked() const { return parked_.load(); }

private:
    void run();
    // One WAL segment file: preallocated (fallocate, so a full disk fails here and not as a
    // SIGBUS on a later store) and mapped shared; rows are copied to map + used. Mapped only on
    // local file systems whose fallocate reserves blocks (ext4, xfs, tmpfs, overlay); elsewhere
    // (NFS, btrfs, ZFS, ...) or when fallocate or mmap is refused, rows are written with
    // pwrite() at `used` instead, so an I/O error is an error value, never a SIGBUS.
    struct Segment {
        int fd = -1;
        char* map = nullptr;
        std::size_t cap = 0;
        std::size_t used = 0;
        bool preallocated = false;  // fallocate'd: trimmed to `used` when closed
    };
    // Opens segment n for appends; returns the previous one for the caller to close with
    // close_segment() outside mu_ (never fdatasync under the lock append() takes on workers).
    Segment open_segment(std::uint64_t n);
    // Unmaps, trims to the bytes written, syncs and closes. A failed trim or sync is logged
    // and turns wal_ok() false (readiness unhealthy) until a later segment closes cleanly.
    void close_segment(Segment s);
    // Copies one line (with its newline) into the current segment, moving to a fresh segment
    // when it is full. Called with mu_ held. False when the line could not be journaled.
    bool journal(const std::string& line);
    Result<std::int64_t> replay_files(const std::vector<std::string>& files);
    // apply_spend() with poison-row isolation: when the batch fails for a reason other than the
    // store being unavailable, rows are retried one by one and the failing ones parked.
    Result<std::int64_t> write_rows(const std::vector<std::string>& lines);
    void park(const std::string& line, const Error& e);
    std::string segment_base() const;

    Store& store_;
    LedgerOptions opts_;
    std::string dir_;              // this instance's directory; empty = no WAL
    int lock_fd_ = -1;
    mutable std::mutex mu_;        // queue_, seg_, segment_, retired_
    std::mutex flush_mu_;          // one flush at a time
    std::condition_variable cv_;
    std::deque<std::string> queue_;        // journaled rows as JSON lines (bounded by max_queued)
    std::deque<std::string> unjournaled_;  // rows whose WAL write failed: never dropped
    bool spilled_ = false;         // some journaled rows are only in the WAL segments
    std::atomic<std::size_t> parked_{0};
    Segment seg_;
    std::vector<Segment> retired_;  // filled between flushes; closed by the flush thread
    std::uint64_t segment_ = 0;
    bool stopping_ = false;
    std::atomic<bool> last_ok_{true};
    std::atomic<bool> wal_ok_{true};
    std::thread thread_;
};

// A fresh ledger id (a time-ordered UUID v7).
std::string new_ledger_id();

// The identity written beside an instance's WAL: "sqlite:<path>" or "postgres:<url without
// credentials or options>".
std::string wal_db_identity(const std::string& database_url, const std::string& sqlite_path);

}  // namespace sy::store
