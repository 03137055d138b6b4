#pragma once
// State shared by every worker thread of one MockUpstream: the request log, counters and the
// script FIFO.
//
// Thread safety: every member function is safe to call concurrently. The log and the FIFO sit
// behind one mutex (taken once per API request); counters are atomics.

#include <atomic>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "directives.hpp"
#include "mock_upstream.hpp"

namespace sy::mock {

inline constexpr std::size_t kMaxRecords = 10'000;

class State {
public:
    explicit State(std::chrono::milliseconds idle_timeout) : idle_timeout_(idle_timeout) {}

    [[nodiscard]] std::chrono::milliseconds idle_timeout() const { return idle_timeout_; }
    [[nodiscard]] std::uint64_t next_seq() { return seq_.fetch_add(1) + 1; }
    [[nodiscard]] std::uint64_t next_control_seq() { return control_seq_.fetch_add(1) + 1; }

    // Appends `r` to the log and consumes the first script entry matching it, in one lock.
    [[nodiscard]] std::optional<boost::json::object> record(RecordedRequest r,
                                                            std::string_view model);

    void push_script(Script s);
    [[nodiscard]] std::size_t pending_scripts() const;
    [[nodiscard]] boost::json::array scripts_json() const;
    void reset();

    [[nodiscard]] std::vector<RecordedRequest> requests(const std::optional<std::string>& tag,
                                                        std::uint64_t since = 0,
                                                        std::size_t limit = kMaxRecords) const;
    [[nodiscard]] Stats stats() const;
    bool wait_for(const std::function<bool(const Stats&)>& pred,
                  std::chrono::milliseconds timeout) const;

    void on_accept();
    void on_connection_closed();
    void on_request_begin();
    void on_request_end();
    // The client went away before the response was complete.
    void on_cancel(bool stream_started);

private:
    void notify() const { cv_.notify_all(); }

    const std::chrono::milliseconds idle_timeout_;
    mutable std::mutex mu_;
    mutable std::condition_variable cv_;
    std::deque<RecordedRequest> records_;
    std::uint64_t total_ = 0;
    std::map<std::string, std::uint64_t> by_tag_;
    std::map<std::string, std::uint64_t> by_path_;
    ScriptQueue scripts_;

    std::atomic<std::uint64_t> seq_{0};
    std::atomic<std::uint64_t> control_seq_{0};
    std::atomic<std::uint64_t> accepted_{0};
    std::atomic<std::uint64_t> open_{0};
    std::atomic<std::uint64_t> active_{0};
    std::atomic<std::uint64_t> cancelled_{0};
    std::atomic<std::uint64_t> cancelled_streams_{0};
};

[[nodiscard]] boost::json::object record_to_json(const RecordedRequest& r);
[[nodiscard]] boost::json::object stats_to_json(const Stats& s);
// Value of a numeric counter of Stats by its JSON name ("total", "cancelled", ...).
[[nodiscard]] std::optional<std::uint64_t> stat_counter(const Stats& s, std::string_view name);

}  // namespace sy::mock
