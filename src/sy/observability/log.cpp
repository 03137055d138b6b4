#include "sy/observability/log.hpp"

#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <cctype>
#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>
#include <thread>

#include "sy/core/ascii.hpp"
#include "sy/core/json_scan.hpp"
#include "sy/core/number_text.hpp"

namespace sy::obs {

using namespace std::string_view_literals;
namespace {

std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};

// A sink that appends formatted lines to a buffer and lets a background thread write it to
// stdout every kFlushInterval (or sooner when the buffer is large). Request threads never make
// a syscall or wake another thread to log, which keeps logging off the request's CPU path.
class BatchingStdoutSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    static constexpr auto kFlushInterval = std::chrono::milliseconds(20);
    static constexpr std::size_t kWakeBytes = 256 * 1024;
    static constexpr std::size_t kMaxBytes = 64 * 1024 * 1024;  // beyond: wait for the writer

    BatchingStdoutSink() : writer_([this] { run(); }) {}
    ~BatchingStdoutSink() override { stop(); }

    void stop() {
        {
            std::lock_guard lk(state_mu_);
            if (stopping_) {
                return;
            }
            stopping_ = true;
        }
        cv_.notify_one();
        if (writer_.joinable()) {
            writer_.join();
        }
        write_out();
    }

    // The same for a line that is already complete (the access log): no spdlog message, no
    // clock read, one lock.
    void append_line(std::string_view line) {
        std::size_t size = 0;
        {
            std::lock_guard lk(state_mu_);
            buf_.append(line.data(), line.size());
            buf_.push_back('\n');
            size = buf_.size();
        }
        if (size >= kWakeBytes) {
            cv_.notify_one();
        }
        if (size >= kMaxBytes) {
            write_out();
        }
    }

protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
        append_line(std::string_view(msg.payload.data(), msg.payload.size()));
    }
    void flush_() override { write_out(); }

private:
    void run() {
        std::unique_lock lk(state_mu_);
        while (!stopping_) {
            cv_.wait_for(lk, kFlushInterval);
            lk.unlock();
            write_out();
            lk.lock();
        }
    }
    void write_out() {
        std::lock_guard out_lk(out_mu_);
        {
            std::lock_guard lk(state_mu_);
            out_.swap(buf_);
        }
        std::size_t off = 0;
        while (off < out_.size()) {
            ssize_t n = ::write(STDOUT_FILENO, out_.data() + off, out_.size() - off);
            if (n <= 0) {
                if (n < 0 && errno == EINTR) {
                    continue;
                }
                break;  // stdout closed: drop rather than block the gateway
            }
            off += static_cast<std::size_t>(n);
        }
        out_.clear();
    }

    std::mutex state_mu_;
    std::mutex out_mu_;
    std::condition_variable cv_;
    std::string buf_;
    std::string out_;
    bool stopping_ = false;
    std::thread writer_;
};

std::shared_ptr<BatchingStdoutSink> g_sink;
std::shared_ptr<spdlog::logger> g_logger;

const char* level_name(Level l) {
    switch (l) {
        case Level::kDebug:
            return "DEBUG";
        case Level::kInfo:
            return "INFO";
        case Level::kWarning:
            return "WARNING";
        case Level::kError:
            return "ERROR";
    }
    return "INFO";
}

// Appends ISO-8601 UTC with milliseconds. The date-time part is formatted once per second per
// thread; nothing is allocated beyond `out`'s own growth.
void append_timestamp(std::string& out) {
    thread_local std::time_t cached_secs = -1;
    thread_local char cached[32];
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
    if (secs != cached_secs) {
        std::tm tm{};
        gmtime_r(&secs, &tm);
        std::strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
        cached_secs = secs;
    }
    out += cached;
    int m = static_cast<int>(ms.count());
    out += '.';
    out += static_cast<char>('0' + m / 100);
    out += static_cast<char>('0' + (m / 10) % 10);
    out += static_cast<char>('0' + m % 10);
    out += 'Z';
}

bool is_token_char(char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
           c == '~' || c == '+' || c == '/' || c == '=';
}

}  // namespace

void init_logging(Level min_level, bool async) {
    g_min_level.store(static_cast<int>(min_level));
    if (g_logger) {
        return;
    }
    g_sink = std::make_shared<BatchingStdoutSink>();
    g_logger = std::make_shared<spdlog::logger>("switchyard", g_sink);
    g_logger->set_pattern("%v");
    g_logger->set_level(spdlog::level::trace);
    // Errors and warnings are written at once; INFO lines (the access log) are batched.
    g_logger->flush_on(async ? spdlog::level::warn : spdlog::level::trace);
}

void shutdown_logging() {
    if (g_logger) {
        g_logger->flush();
    }
    if (g_sink) {
        g_sink->stop();
    }
    g_logger.reset();
    g_sink.reset();
}

bool enabled(Level level) { return static_cast<int>(level) >= g_min_level.load(); }

void log(Level level, std::string_view message, const std::vector<Field>& fields) {
    if (!enabled(level)) {
        return;
    }
    std::string line;
    line.reserve(128 + message.size());
    line += "{\"timestamp\":\""sv;
    append_timestamp(line);
    line += "\",\"level\":\""sv;
    line += level_name(level);
    line += "\",\"message\":"sv;
    json_scan::append_json_string(line, scrub(message));
    for (const auto& f : fields) {
        line.push_back(',');
        json_scan::append_json_string(line, f.key);
        line.push_back(':');
        if (f.raw_json) {
            line += f.value;
        } else {
            json_scan::append_json_string(line, scrub(f.value));
        }
    }
    line.push_back('}');
    if (g_logger) {
        g_logger->info(line);
    } else {
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fputc('\n', stdout);
        std::fflush(stdout);
    }
}

std::string format_double(double v) {
    std::string s;
    append_fixed3(s, v);
    return s;
}

void append_line_prefix(std::string& out, Level level, std::string_view message) {
    out += "{\"timestamp\":\""sv;
    append_timestamp(out);
    out += "\",\"level\":\""sv;
    out += level_name(level);
    out += "\",\"message\":"sv;
    json_scan::append_json_string(out, message);
}

void write_json_line(std::string_view line) {
    if (g_sink) {  // set together with g_logger
        g_sink->append_line(line);
    } else {
        std::fwrite(line.data(), 1, line.size(), stdout);
        std::fputc('\n', stdout);
        std::fflush(stdout);
    }
}

std::string scrub(std::string_view t) {
    // Fast path: nothing that could be a secret.
    if (t.find("sk-") == std::string_view::npos && t.find("Bearer") == std::string_view::npos &&
        t.find("AIza") == std::string_view::npos && t.find("key=") == std::string_view::npos) {
        return std::string(t);
    }
    std::string out;
    out.reserve(t.size());
    std::size_t i = 0;
    auto mask_token_from = [&](std::size_t start) {
        std::size_t j = start;
        while (j < t.size() && is_token_char(t[j])) {
            ++j;
        }
        return j;
    };
    while (i < t.size()) {
        if (t.compare(i, 3, "sk-") == 0) {
            std::size_t j = mask_token_from(i + 3);
            if (j - (i + 3) >= 8) {
                out += "sk-***"sv;
                i = j;
                continue;
            }
        } else if (t.compare(i, 7, "Bearer ") == 0) {
            std::size_t j = mask_token_from(i + 7);
            if (j > i + 7) {
                out += "Bearer ***"sv;
                i = j;
                continue;
            }
        } else if (t.compare(i, 4, "AIza") == 0) {
            std::size_t j = mask_token_from(i + 4);
            if (j - i >= 39) {
                out += "AIza***"sv;
                i = j;
                continue;
            }
        } else if (t.compare(i, 4, "key=") == 0) {
            std::size_t j = i + 4;
            while (j < t.size() && t[j] != '&' && t[j] != ' ' && t[j] != '"') {
                ++j;
            }
            out += "key=***"sv;
            i = j;
            continue;
        }
        out.push_back(t[i]);
        ++i;
    }
    return out;
}

Level parse_level(std::string_view s, Level fallback) {
    std::string u;
    for (char c : s) {
        u.push_back(ascii_upper(c));
    }
    if (u == "DEBUG") {
        return Level::kDebug;
    }
    if (u == "INFO") {
        return Level::kInfo;
    }
    if (u == "WARNING" || u == "WARN") {
        return Level::kWarning;
    }
    if (u == "ERROR") {
        return Level::kError;
    }
    return fallback;
}

}  // namespace sy::obs
