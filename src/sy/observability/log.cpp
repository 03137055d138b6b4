#include "sy/observability/log.hpp"

#include <spdlog/async.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <cctype>
#include <chrono>
#include <ctime>

#include "sy/core/json_scan.hpp"

namespace sy::obs {
namespace {

std::atomic<int> g_min_level{static_cast<int>(Level::kInfo)};
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

std::string timestamp() {
    auto now = std::chrono::system_clock::now();
    auto secs = std::chrono::system_clock::to_time_t(now);
    auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
    char out[48];
    std::snprintf(out, sizeof out, "%s.%03dZ", buf, static_cast<int>(ms.count()));
    return out;
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
    auto sink = std::make_shared<spdlog::sinks::stdout_sink_mt>();
    if (async) {
        spdlog::init_thread_pool(16384, 1);
        g_logger = std::make_shared<spdlog::async_logger>(
            "switchyard", sink, spdlog::thread_pool(), spdlog::async_overflow_policy::block);
    } else {
        g_logger = std::make_shared<spdlog::logger>("switchyard", sink);
    }
    g_logger->set_pattern("%v");
    g_logger->set_level(spdlog::level::trace);
    g_logger->flush_on(spdlog::level::trace);
}

void shutdown_logging() {
    if (g_logger) {
        g_logger->flush();
    }
    spdlog::shutdown();
    g_logger.reset();
}

bool enabled(Level level) { return static_cast<int>(level) >= g_min_level.load(); }

void log(Level level, std::string_view message, const std::vector<Field>& fields) {
    if (!enabled(level)) {
        return;
    }
    std::string line;
    line.reserve(128 + message.size());
    line += "{\"timestamp\":\"";
    line += timestamp();
    line += "\",\"level\":\"";
    line += level_name(level);
    line += "\",\"message\":";
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
                out += "sk-***";
                i = j;
                continue;
            }
        } else if (t.compare(i, 7, "Bearer ") == 0) {
            std::size_t j = mask_token_from(i + 7);
            if (j > i + 7) {
                out += "Bearer ***";
                i = j;
                continue;
            }
        } else if (t.compare(i, 4, "AIza") == 0) {
            std::size_t j = mask_token_from(i + 4);
            if (j - i >= 39) {
                out += "AIza***";
                i = j;
                continue;
            }
        } else if (t.compare(i, 4, "key=") == 0) {
            std::size_t j = i + 4;
            while (j < t.size() && t[j] != '&' && t[j] != ' ' && t[j] != '"') {
                ++j;
            }
            out += "key=***";
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
        u.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
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
