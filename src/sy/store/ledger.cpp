#include "sy/store/ledger.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <random>
#include <utility>

#include "sy/core/ids.hpp"
#include "sy/core/json_scan.hpp"
#include "sy/observability/log.hpp"

namespace sy::store {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

constexpr std::string_view kSegmentPrefix = "spend.";
// Preallocated size of a segment: about ten thousand rows. A flush (every second or
// batch_rows rows) starts a new segment; a longer store outage fills several.
constexpr std::size_t kSegmentBytes = 8u << 20;

// File systems on which fallocate reserves real blocks, so stores through a mapping cannot fail
// later (a failed page-in of a mapping is a SIGBUS, not an error value).
bool mappable_fs(int fd) {
    struct statfs st {};
    if (::fstatfs(fd, &st) != 0) {
        return false;
    }
    switch (static_cast<unsigned long>(st.f_type)) {
        case 0xEF53UL:      // ext2/3/4
        case 0x58465342UL:  // xfs
        case 0x01021994UL:  // tmpfs
        case 0x794C7630UL:  // overlayfs (container root file systems)
            return true;
        default:
            return false;
    }
}

// Segment numbers present on disk for `base` (files named <base>.<n>).
std::vector<std::uint64_t> segments_on_disk(const std::string& base) {
    std::vector<std::uint64_t> out;
    fs::path p(base);
    std::error_code ec;
    fs::path dir = p.parent_path().empty() ? fs::path(".") : p.parent_path();
    std::string prefix = p.filename().string() + ".";
    for (const auto& e : fs::directory_iterator(dir, ec)) {
        std::string name = e.path().filename().string();
        if (name.rfind(prefix, 0) != 0) {
            continue;
        }
        std::string num = name.substr(prefix.size());
        if (num.empty() || num.size() > 18 || !std::all_of(num.begin(), num.end(), ::isdigit)) {
            continue;
        }
        out.push_back(std::stoull(num));
    }
    std::sort(out.begin(), out.end());
    return out;
}

std::string segment_path(const std::string& base, std::uint64_t n) {
    return base + "." + std::to_string(n);
}

std::string read_small_file(const fs::path& p) {
    std::ifstream in(p);
    std::string s;
    std::getline(in, s);
    return s;
}

// Takes the lock of an instance directory without waiting; -1 if a live instance holds it.
int try_lock(const fs::path& lock_file) {
    int fd = ::open(lock_file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        return -1;
    }
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        ::close(fd);
        return -1;
    }
    return fd;
}

std::string instance_name() {
    char host[64] = {};
    if (::gethostname(host, sizeof host - 1) != 0) {
        host[0] = 0;
    }
    std::string h;
    for (char c : std::string(host)) {
        h += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? c : '_';
    }
    return (h.empty() ? std::string("host") : h) + "-" + std::to_string(::getpid()) + "-" +
           new_call_id().substr(0, 8);
}

}  // namespace

std::string new_ledger_id() { return new_uuid_v7(); }

namespace {

Row parse_row(const std::string& line) {
    boost::system::error_code ec;
    auto v = json::parse(line, ec);
    return !ec && v.is_object() ? std::move(v.get_object()) : Row{};
}

}  // namespace

std::string wal_db_identity(const std::string& database_url, const std::string& sqlite_path) {
    if (database_url.empty()) {
        std::error_code ec;
        auto canon = fs::weakly_canonical(sqlite_path, ec);
        return "sqlite:" + (ec ? sqlite_path : canon.string());
    }
    std::string u = database_url;
    if (auto q = u.find('?'); q != std::string::npos) {
        u.erase(q);
    }
    if (auto scheme = u.find("://"); scheme != std::string::npos) {
        auto at = u.find('@', scheme + 3);
        if (at != std::string::npos) {
            u.erase(scheme + 3, at + 1 - (scheme + 3));
        }
    }
    return "postgres:" + u;
}

SpendLedger::SpendLedger(Store& store, LedgerOptions opts) : store_(store), opts_(std::move(opts)) {}

SpendLedger::~SpendLedger() {
    stop();
    close_segment(std::exchange(seg_, Segment{}));
    for (auto& r : retired_) {
        close_segment(r);
    }
    retired_.clear();
    if (lock_fd_ >= 0) {
        // A clean exit leaves nothing to replay: the directory goes with its lock.
        // Nothing queued means every journaled row reached the store.
        std::error_code ec;
        if (pending() == 0 && !dir_.empty()) {
            std::string base = (fs::path(dir_) / "spend").string();
            for (auto n : segments_on_disk(base)) {
                fs::remove(segment_path(base, n), ec);
            }
            fs::remove(fs::path(dir_) / "db", ec);
            fs::remove(fs::path(dir_) / "lock", ec);
            fs::remove(dir_, ec);
        }
        ::close(lock_fd_);
    }
}

Status SpendLedger::open() {
    if (opts_.wal_dir.empty()) {
        return ok_status();
    }
    auto fail = [&](const std::string& what, const std::error_code& ec) {
        return Error::make(Errc::kServiceUnavailable,
                           "spend ledger: " + what + " (" + ec.message() +
                               "); set general_settings.spend_wal_dir to a writable directory");
    };
    std::error_code ec;
    fs::path root(opts_.wal_dir);
    fs::create_directories(root, ec);
    if (ec) {
        return fail("cannot create the write-ahead log directory " + root.string(), ec);
    }
    // Claimed under a hidden name first, so a starting neighbour never mistakes the directory
    // for an orphan before its lock is held.
    std::string name = instance_name();
    fs::path tmp = root / ("." + name);
    fs::path final_dir = root / name;
    fs::create_directory(tmp, ec);
    if (ec) {
        return fail("cannot create " + tmp.string(), ec);
    }
    lock_fd_ = try_lock(tmp / "lock");
    if (lock_fd_ < 0) {
        ec = std::error_code(errno, std::generic_category());
        fs::remove_all(tmp);
        return fail("cannot lock " + (tmp / "lock").string(), ec);
    }
    {
        std::ofstream id(tmp / "db", std::ios::trunc);
        id << opts_.db_identity << '\n';
        if (!id.flush()) {
            fs::remove_all(tmp);
            return fail("cannot write " + (tmp / "db").string(),
                        std::error_code(EIO, std::generic_category()));
        }
    }
    fs::rename(tmp, final_dir, ec);
    if (ec) {
        fs::remove_all(tmp);
        return fail("cannot create " + final_dir.string(), ec);
    }
    dir_ = final_dir.string();
    std::lock_guard lk(mu_);
    open_segment(1);
    if (seg_.fd < 0) {
        return fail("cannot open a segment in " + dir_, std::error_code(errno, std::generic_category()));
    }
    obs::info("spend ledger: write-ahead log", {{"dir", dir_}});
    return ok_status();
}

std::string SpendLedger::segment_base() const { return (fs::path(dir_) / "spend").string(); }

SpendLedger::Segment SpendLedger::open_segment(std::uint64_t n) {
    Segment old = std::exchange(seg_, Segment{});
    segment_ = n;
    if (dir_.empty()) {
        return old;
    }
    std::string path = segment_path(segment_base(), n);
    seg_.fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (seg_.fd < 0) {
        obs::error("spend ledger: cannot open the write-ahead log", {{"path", path}});
        wal_ok_ = false;
        return old;
    }
    if (mappable_fs(seg_.fd) && ::fallocate(seg_.fd, 0, 0, static_cast<off_t>(kSegmentBytes)) == 0) {
        seg_.preallocated = true;
        void* m = ::mmap(nullptr, kSegmentBytes, PROT_READ | PROT_WRITE, MAP_SHARED, seg_.fd, 0);
        if (m != MAP_FAILED) {
            seg_.map = static_cast<char*>(m);
            seg_.cap = kSegmentBytes;
        }
    }
    return old;
}

void SpendLedger::close_segment(Segment s) {
    if (s.fd < 0) {
        return;
    }
    if (s.map != nullptr) {
        ::munmap(s.map, s.cap);
    }
    bool ok = true;
    if (s.preallocated) {
        // Drop the preallocated tail; a crash leaves it as NUL bytes, which replay skips.
        ok = ::ftruncate(s.fd, static_cast<off_t>(s.used)) == 0;
    }
    ok = ::fdatasync(s.fd) == 0 && ok;
    ::close(s.fd);
    if (!ok) {
        if (wal_ok_.exchange(false)) {
            obs::error("spend ledger: syncing a write-ahead log segment failed; rows stay queued "
                       "in memory until the store takes them (readiness reports unhealthy)",
                       {{"dir", dir_}, {"detail", std::strerror(errno)}});
        }
    }
}

bool SpendLedger::journal(const std::string& line) {
    if (seg_.fd >= 0 && seg_.map != nullptr && seg_.used + line.size() > seg_.cap &&
        seg_.used > 0 && line.size() <= seg_.cap) {
        // Full: later rows go to the next segment; the flush thread syncs this one.
        retired_.push_back(open_segment(segment_ + 1));
    }
    if (seg_.fd < 0) {
        return false;
    }
    if (seg_.map != nullptr && seg_.used + line.size() <= seg_.cap) {
        // In the page cache once copied: a kill -9 of the process cannot lose it.
        std::memcpy(seg_.map + seg_.used, line.data(), line.size());
        seg_.used += line.size();
        return true;
    }
    if (seg_.map != nullptr) {
        return false;  // one row larger than a whole segment
    }
    if (::pwrite(seg_.fd, line.data(), line.size(), static_cast<off_t>(seg_.used)) !=
        static_cast<ssize_t>(line.size())) {
        return false;
    }
    seg_.used += line.size();
    return true;
}

void SpendLedger::park(const std::string& line, const Error& e) {
    ++parked_;
    Row row = parse_row(line);
    obs::error("spend ledger: a spend row keeps failing; parked it so later rows are written",
               {{"detail", e.message},
                {"ledger_id", row.contains("ledger_id") && row.at("ledger_id").is_string()
                                  ? std::string(row.at("ledger_id").get_string())
                                  : std::string()},
                {"row", dir_.empty() ? line : std::string()}});
    if (!opts_.wal_dir.empty()) {
        std::ofstream out(fs::path(opts_.wal_dir) / "parked-spend.jsonl", std::ios::app);
        out << line << '\n';
    }
}

Result<std::int64_t> SpendLedger::write_rows(const std::vector<std::string>& lines) {
    auto r = store_.apply_spend_lines(lines);
    if (r || r.error().code == Errc::kServiceUnavailable) {
        return r;
    }
    // Something in the batch fails by itself: find it, write the others.
    std::int64_t added = 0;
    std::vector<std::string> one(1);
    for (const auto& line : lines) {
        one[0] = line;
        auto r1 = store_.apply_spend_lines(one);
        if (r1) {
            added += r1.value();
        } else if (r1.error().code == Errc::kServiceUnavailable) {
            return std::move(r1).error();  // the store went away: retry everything later
        } else {
            park(line, r1.error());
        }
    }
    return added;
}

// Applies the rows of `files` (in order) to the store in chunks; the files stay on disk.
Result<std::int64_t> SpendLedger::replay_files(const std::vector<std::string>& files) {
    std::int64_t added = 0;
    std::size_t rows_seen = 0;
    std::vector<std::string> batch;
    auto apply = [&]() -> Status {
        auto r = write_rows(batch);
        if (!r) {
            return std::move(r).error();
        }
        added += r.value();
        rows_seen += batch.size();
        batch.clear();
        return ok_status();
    };
    for (const auto& f : files) {
        std::ifstream in(f);
        std::string line;
        while (std::getline(in, line)) {
            // A segment left by a crash ends in NUL bytes (its preallocated, unwritten tail).
            if (auto nul = line.find('\0'); nul != std::string::npos) {
                line.resize(nul);
            }
            if (line.empty() || line.front() != '{' || !json_scan::is_valid(line)) {
                continue;  // a line torn by a crash mid-write was never acknowledged
            }
            batch.push_back(std::move(line));
            if (batch.size() >= 500) {
                if (auto st = apply(); !st) {
                    return std::move(st).error();
                }
            }
        }
    }
    if (!batch.empty()) {
        if (auto st = apply(); !st) {
            return std::move(st).error();
        }
    }
    if (rows_seen > 0) {
        obs::info("spend ledger: replayed the write-ahead log",
                  {obs::num("rows", static_cast<long long>(rows_seen)),
                   obs::num("new_rows", static_cast<long long>(added))});
    }
    return added;
}

Result<std::int64_t> SpendLedger::replay() {
    std::int64_t added = 0;
    auto run_files = [&](const std::vector<std::string>& files) -> Status {
        auto r = replay_files(files);
        if (!r) {
            return std::move(r).error();
        }
        added += r.value();
        for (const auto& f : files) {
            std::error_code ec;
            fs::remove(f, ec);
        }
        return ok_status();
    };
    if (!opts_.legacy_wal_path.empty()) {
        std::vector<std::string> files;
        for (auto n : segments_on_disk(opts_.legacy_wal_path)) {
            files.push_back(segment_path(opts_.legacy_wal_path, n));
        }
        if (auto st = run_files(files); !st) {
            return std::move(st).error();
        }
    }
    if (opts_.wal_dir.empty()) {
        return added;
    }
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(opts_.wal_dir, ec)) {
        std::string name = e.path().filename().string();
        if (!e.is_directory() || name.empty() || name[0] == '.' || e.path() == fs::path(dir_)) {
            continue;
        }
        int lock = try_lock(e.path() / "lock");
        if (lock < 0) {
            continue;  // a live instance (or not ours to touch)
        }
        std::string ident = read_small_file(e.path() / "db");
        if (ident != opts_.db_identity) {
            obs::warn("spend ledger: leaving the write-ahead log of another database alone",
                      {{"dir", e.path().string()}, {"database", ident}});
            ::close(lock);
            continue;
        }
        std::string base = (e.path() / "spend").string();
        std::vector<std::string> files;
        for (auto n : segments_on_disk(base)) {
            files.push_back(segment_path(base, n));
        }
        auto st = run_files(files);
        if (st) {
            std::error_code rm;
            fs::remove(e.path() / "db", rm);
            fs::remove(e.path() / "lock", rm);
            fs::remove(e.path(), rm);
        }
        ::close(lock);
        if (!st) {
            return std::move(st).error();
        }
    }
    return added;
}

void SpendLedger::start() {
    thread_ = std::thread([this] { run(); });
}

void SpendLedger::stop() {
    {
        std::lock_guard lk(mu_);
        if (stopping_ && !thread_.joinable()) {
            return;
        }
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) {
        thread_.join();
    }
    for (int i = 0; i < 3 && !flush(); ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    std::lock_guard lk(mu_);
    if (seg_.fd >= 0) {
        ::fdatasync(seg_.fd);
    }
}

bool SpendLedger::append(Row row) {
    if (!row.contains("ledger_id")) {
        row["ledger_id"] = new_ledger_id();
    }
    return append_line(json::serialize(row));
}

bool SpendLedger::append_line(std::string line) {
    line += '\n';
    std::unique_lock lk(mu_);
    bool ok = true;
    if (!dir_.empty()) {
        // The line is in the kernel before the response is sent, so a kill -9 of the process
        // cannot lose it.
        ok = journal(line);
    }
    line.pop_back();
    if (!ok) {
        unjournaled_.push_back(std::move(line));
    } else if (!dir_.empty() && (spilled_ || queue_.size() >= opts_.max_queued)) {
        // The store has been away for a while: the row waits in the WAL only.
        if (!spilled_) {
            obs::warn("spend ledger: in-memory queue full; further rows wait in the write-ahead "
                      "log until the store is back",
                      {obs::num("queued", static_cast<long long>(queue_.size()))});
        }
        spilled_ = true;
    } else {
        queue_.push_back(std::move(line));
    }
    if (queue_.size() >= opts_.batch_rows) {
        cv_.notify_one();
    }
    lk.unlock();
    if (!ok && wal_ok_.exchange(false)) {
        obs::error("spend ledger: write-ahead log append failed; spend rows are only in memory "
                   "until the store takes them (readiness reports unhealthy)",
                   {{"dir", dir_}});
    } else if (ok && !dir_.empty() && !wal_ok_.load()) {
        wal_ok_ = true;
        obs::info("spend ledger: write-ahead log writable again");
    }
    return ok;
}

std::size_t SpendLedger::pending() const {
    std::lock_guard lk(mu_);
    return queue_.size() + unjournaled_.size() + (spilled_ ? 1 : 0);
}

std::unordered_map<std::string, double> SpendLedger::pending_spend(
    const std::function<void()>& read) {
    std::lock_guard fl(flush_mu_);
    read();
    std::unordered_map<std::string, double> out;
    std::lock_guard lk(mu_);
    for (const auto& line : queue_) {
        Row row = parse_row(line);
        auto* spend = row.if_contains("spend");
        double v = spend && spend->is_number() ? spend->to_number<double>() : 0.0;
        if (v <= 0) {
            continue;
        }
        for (auto [col, prefix] : {std::pair{"api_key", "k:"}, std::pair{"user", "u:"},
                                   std::pair{"team_id", "t:"}, std::pair{"end_user", "c:"}}) {
            auto* id = row.if_contains(col);
            if (id && id->is_string() && !id->get_string().empty()) {
                out[prefix + std::string(id->get_string())] += v;
            }
        }
    }
    return out;
}

bool SpendLedger::flush() {
    std::lock_guard fl(flush_mu_);
    std::vector<std::string> batch;
    std::uint64_t first_new = 0;
    bool from_disk = false;
    std::size_t n_unjournaled = 0;
    Segment old_seg;
    std::vector<Segment> retired;
    {
        std::lock_guard lk(mu_);
        if (queue_.empty() && unjournaled_.empty() && !spilled_) {
            return true;
        }
        batch.reserve(queue_.size() + unjournaled_.size());
        n_unjournaled = unjournaled_.size();
        batch.assign(std::make_move_iterator(unjournaled_.begin()),
                     std::make_move_iterator(unjournaled_.end()));
        batch.insert(batch.end(), std::make_move_iterator(queue_.begin()),
                     std::make_move_iterator(queue_.end()));
        queue_.clear();
        unjournaled_.clear();
        from_disk = spilled_;
        spilled_ = false;
        first_new = segment_ + 1;
        old_seg = open_segment(first_new);  // rows appended from now on go to the next segment
        retired.swap(retired_);
    }
    for (auto& r : retired) {
        close_segment(r);
    }
    close_segment(old_seg);
    // Idempotent by ledger_id: rows both queued and re-read from the WAL count once.
    auto r = write_rows(batch);
    if (r && from_disk) {
        std::vector<std::string> files;
        for (auto n : segments_on_disk(segment_base())) {
            if (n < first_new) {
                files.push_back(segment_path(segment_base(), n));
            }
        }
        auto d = replay_files(files);
        if (!d) {
            r = std::move(d).error();
        }
    }
    if (!r) {
        std::lock_guard lk(mu_);
        // Back to the front, in order; their segments stay on disk until written. Journaled
        // rows beyond the bound (or already spilled) stay only in the WAL.
        auto split = batch.begin() + static_cast<std::ptrdiff_t>(n_unjournaled);
        unjournaled_.insert(unjournaled_.begin(), std::make_move_iterator(batch.begin()),
                            std::make_move_iterator(split));
        spilled_ = spilled_ || from_disk;
        if (!spilled_) {
            queue_.insert(queue_.begin(), std::make_move_iterator(split),
                          std::make_move_iterator(batch.end()));
        }
        if (!dir_.empty() && queue_.size() > opts_.max_queued) {
            queue_.clear();
            spilled_ = true;
        }
        if (spilled_) {
            queue_.clear();  // every journaled row is re-read from the WAL
        }
        last_ok_ = false;
        return false;
    }
    last_ok_ = true;
    if (!dir_.empty()) {
        for (auto n : segments_on_disk(segment_base())) {
            if (n < first_new) {
                std::error_code ec;
                fs::remove(segment_path(segment_base(), n), ec);
            }
        }
    }
    return true;
}

void SpendLedger::run() {
    auto wait = opts_.interval;
    for (;;) {
        {
            std::unique_lock lk(mu_);
            // A full batch wakes the thread early, unless the last flush failed: then the
            // backoff holds (the rows put back would otherwise wake it again at once).
            cv_.wait_for(lk, wait, [&] {
                return stopping_ || (last_ok_.load() && queue_.size() >= opts_.batch_rows);
            });
            if (stopping_) {
                return;
            }
        }
        // flush() moves appends to a new segment and syncs the one it takes rows from (outside
        // the lock: append() never waits for the disk), so the log is on disk within a second.
        if (flush()) {
            wait = opts_.interval;
        } else {
            wait = std::min<std::chrono::milliseconds>(wait * 2, std::chrono::seconds(30));
            obs::warn("spend ledger: store write failed; retrying",
                      {obs::num("queued", static_cast<long long>(pending()))});
        }
    }
}

}  // namespace sy::store
