#include "state.hpp"

#include <algorithm>
#include <boost/json/parse.hpp>

namespace sy::mock {
namespace json = boost::json;

std::string RecordedRequest::header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
        if (k == name) {
            return v;
        }
    }
    return {};
}

json::value RecordedRequest::body_json() const {
    if (body.empty()) {
        return nullptr;
    }
    boost::system::error_code ec;
    json::value v = json::parse(body, ec);
    if (ec) {
        return nullptr;
    }
    return v;
}

std::optional<json::object> State::record(RecordedRequest r, std::string_view model) {
    std::optional<json::object> directives;
    {
        std::lock_guard lock(mu_);
        ++total_;
        ++by_tag_[r.tag];
        ++by_path_[r.path];
        if (!scripts_.empty()) {
            directives = scripts_.take(r.tag, model, r.path);
        }
        if (records_.size() >= kMaxRecords) {
            records_.pop_front();
        }
        records_.push_back(std::move(r));
    }
    notify();
    return directives;
}

void State::push_script(Script s) {
    std::lock_guard lock(mu_);
    scripts_.push(std::move(s));
}

std::size_t State::pending_scripts() const {
    std::lock_guard lock(mu_);
    return scripts_.entries().size();
}

json::array State::scripts_json() const {
    std::lock_guard lock(mu_);
    json::array out;
    for (const auto& s : scripts_.entries()) {
        out.emplace_back(script_to_json(s));
    }
    return out;
}

void State::reset() {
    {
        std::lock_guard lock(mu_);
        records_.clear();
        scripts_.clear();
        total_ = 0;
        by_tag_.clear();
        by_path_.clear();
        seq_ = 0;
        control_seq_ = 0;
        accepted_ = 0;
        cancelled_ = 0;
        cancelled_streams_ = 0;
    }
    notify();
}

std::vector<RecordedRequest> State::requests(const std::optional<std::string>& tag,
                                             std::uint64_t since,
                                             std::size_t limit) const {
    std::vector<RecordedRequest> out;
    std::lock_guard lock(mu_);
    for (const auto& r : records_) {
        if (r.seq <= since || (tag && r.tag != *tag)) {
            continue;
        }
        out.push_back(r);
    }
    if (out.size() > limit) {  // keep the newest
        out.erase(out.begin(), out.end() - static_cast<std::ptrdiff_t>(limit));
    }
    return out;
}

Stats State::stats() const {
    Stats s;
    {
        std::lock_guard lock(mu_);
        s.total = total_;
        s.by_tag = by_tag_;
        s.by_path = by_path_;
    }
    s.connections_accepted = accepted_.load();
    s.open_connections = open_.load();
    s.active = active_.load();
    s.cancelled = cancelled_.load();
    s.cancelled_streams = cancelled_streams_.load();
    return s;
}

bool State::wait_for(const std::function<bool(const Stats&)>& pred,
                     std::chrono::milliseconds timeout) const {
    // Counters change outside the mutex, so a wake-up can slip between the check and the wait;
    // short wait slices bound that window instead of locking on the hot path.
    constexpr auto kSlice = std::chrono::milliseconds(5);
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        if (pred(stats())) {
            return true;
        }
        const auto now = std::chrono::steady_clock::now();
        if (now >= deadline) {
            return false;
        }
        std::unique_lock lock(mu_);
        cv_.wait_for(lock, std::min<std::chrono::steady_clock::duration>(kSlice, deadline - now));
    }
}

void State::on_accept() {
    ++accepted_;
    ++open_;
    notify();
}

void State::on_connection_closed() {
    --open_;
    notify();
}

void State::on_request_begin() { ++active_; }

void State::on_request_end() {
    --active_;
    notify();
}

void State::on_cancel(bool stream_started) {
    ++cancelled_;
    if (stream_started) {
        ++cancelled_streams_;
    }
    notify();
}

json::object record_to_json(const RecordedRequest& r) {
    json::object headers;
    for (const auto& [k, v] : r.headers) {
        if (json::value* existing = headers.if_contains(k)) {
            std::string joined(existing->get_string());
            joined += ", ";
            joined += v;
            *existing = joined;
        } else {
            headers[k] = v;
        }
    }
    json::object o;
    o["seq"] = r.seq;
    o["tag"] = r.tag;
    o["method"] = r.method;
    o["path"] = r.path;
    o["query"] = r.query;
    o["headers"] = std::move(headers);
    o["body"] = r.body;
    o["body_json"] = r.body_json();
    o["received_at_ms"] = r.received_at_ms;
    return o;
}

json::object stats_to_json(const Stats& s) {
    json::object by_tag;
    for (const auto& [k, v] : s.by_tag) {
        by_tag[k] = v;
    }
    json::object by_path;
    for (const auto& [k, v] : s.by_path) {
        by_path[k] = v;
    }
    json::object o;
    o["total"] = s.total;
    o["by_tag"] = std::move(by_tag);
    o["by_path"] = std::move(by_path);
    o["connections_accepted"] = s.connections_accepted;
    o["open_connections"] = s.open_connections;
    o["active"] = s.active;
    o["cancelled"] = s.cancelled;
    o["cancelled_streams"] = s.cancelled_streams;
    return o;
}

std::optional<std::uint64_t> stat_counter(const Stats& s, std::string_view name) {
    if (name == "total") {
        return s.total;
    }
    if (name == "connections_accepted") {
        return s.connections_accepted;
    }
    if (name == "open_connections") {
        return s.open_connections;
    }
    if (name == "active") {
        return s.active;
    }
    if (name == "cancelled") {
        return s.cancelled;
    }
    if (name == "cancelled_streams") {
        return s.cancelled_streams;
    }
    return std::nullopt;
}

}  // namespace sy::mock
