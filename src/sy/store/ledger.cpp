#include "sy/store/ledger.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "sy/observability/log.hpp"

namespace sy::store {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

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
        if (num.empty() || !std::all_of(num.begin(), num.end(), ::isdigit)) {
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

}  // namespace

SpendLedger::SpendLedger(Store& store, LedgerOptions opts) : store_(store), opts_(std::move(opts)) {}

SpendLedger::~SpendLedger() {
    stop();
    if (fd_ >= 0) {
        ::close(fd_);
    }
}

bool SpendLedger::open_segment(std::uint64_t n) {
    if (fd_ >= 0) {
        ::fdatasync(fd_);
        ::close(fd_);
        fd_ = -1;
    }
    segment_ = n;
    if (opts_.wal_path.empty()) {
        return true;
    }
    fd_ = ::open(segment_path(opts_.wal_path, n).c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                 0600);
    if (fd_ < 0) {
        obs::error("spend ledger: cannot open the write-ahead log",
                   {{"path", segment_path(opts_.wal_path, n)}});
        return false;
    }
    return true;
}

Result<std::int64_t> SpendLedger::replay() {
    std::uint64_t next = 1;
    std::int64_t added = 0;
    if (opts_.wal_path.empty()) {
        open_segment(next);
        return added;
    }
    auto segs = segments_on_disk(opts_.wal_path);
    std::size_t rows_seen = 0;
    for (auto n : segs) {
        std::ifstream in(segment_path(opts_.wal_path, n));
        std::vector<Row> batch;
        std::string line;
        while (std::getline(in, line)) {
            boost::system::error_code ec;
            auto v = json::parse(line, ec);
            if (ec || !v.is_object()) {
                continue;  // a line torn by a crash mid-write was never acknowledged
            }
            batch.push_back(std::move(v.get_object()));
            if (batch.size() >= 500) {
                auto r = store_.apply_spend(batch);
                if (!r) {
                    return std::move(r).error();
                }
                added += r.value();
                rows_seen += batch.size();
                batch.clear();
            }
        }
        if (!batch.empty()) {
            auto r = store_.apply_spend(batch);
            if (!r) {
                return std::move(r).error();
            }
            added += r.value();
            rows_seen += batch.size();
        }
        next = std::max(next, n + 1);
    }
    for (auto n : segs) {
        std::error_code ec;
        fs::remove(segment_path(opts_.wal_path, n), ec);
    }
    if (!segs.empty()) {
        obs::info("spend ledger: replayed the write-ahead log",
                  {obs::num("rows", static_cast<long long>(rows_seen)),
                   obs::num("new_rows", static_cast<long long>(added))});
    }
    std::lock_guard lk(mu_);
    open_segment(next);
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
    if (fd_ >= 0) {
        ::fdatasync(fd_);
    }
}

bool SpendLedger::append(const Row& row) {
    std::string line = json::serialize(row);
    line += '\n';
    std::lock_guard lk(mu_);
    bool ok = true;
    if (fd_ >= 0) {
        // One write() per row: the line is in the kernel before the response is sent, so a
        // kill -9 of the process cannot lose it.
        ok = ::write(fd_, line.data(), line.size()) == static_cast<ssize_t>(line.size());
    }
    queue_.push_back(row);
    if (queue_.size() >= opts_.batch_rows) {
        cv_.notify_one();
    }
    return ok;
}

std::size_t SpendLedger::pending() const {
    std::lock_guard lk(mu_);
    return queue_.size();
}

std::unordered_map<std::string, double> SpendLedger::pending_spend(
    const std::function<void()>& read) {
    std::lock_guard fl(flush_mu_);
    read();
    std::unordered_map<std::string, double> out;
    std::lock_guard lk(mu_);
    for (const auto& row : queue_) {
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
    std::vector<Row> batch;
    std::uint64_t first_new = 0;
    {
        std::lock_guard lk(mu_);
        if (queue_.empty()) {
            return true;
        }
        batch.assign(std::make_move_iterator(queue_.begin()), std::make_move_iterator(queue_.end()));
        queue_.clear();
        first_new = segment_ + 1;
        open_segment(first_new);  // rows appended from now on go to the next segment
    }
    auto r = store_.apply_spend(batch);
    if (!r) {
        std::lock_guard lk(mu_);
        // Back to the front, in order; their segments stay on disk until written.
        queue_.insert(queue_.begin(), std::make_move_iterator(batch.begin()),
                      std::make_move_iterator(batch.end()));
        last_ok_ = false;
        return false;
    }
    last_ok_ = true;
    if (!opts_.wal_path.empty()) {
        for (auto n : segments_on_disk(opts_.wal_path)) {
            if (n < first_new) {
                std::error_code ec;
                fs::remove(segment_path(opts_.wal_path, n), ec);
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
            cv_.wait_for(lk, wait, [&] { return stopping_ || queue_.size() >= opts_.batch_rows; });
            if (stopping_) {
                return;
            }
            if (fd_ >= 0) {
                ::fdatasync(fd_);
            }
        }
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
