// mock_upstream: see the README block in mock_upstream.hpp.

#include <pthread.h>

#include <charconv>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>
#include <string_view>

#include "mock_upstream.hpp"

namespace {

constexpr std::string_view kUsage =
    "usage: mock_upstream --port N [--host 127.0.0.1] [--threads 1] [--idle-timeout-ms 120000]\n"
    "  --port 0 picks a free port; prints 'mock_upstream listening on <host>:<port>' once ready.\n"
    "  Directives and the /__mock control API are documented in mock_upstream.hpp.\n";

template <class T>
bool parse_number(std::string_view s, T& out, T lo, T hi) {
    T v{};
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || p != s.data() + s.size() || v < lo || v > hi) {
        return false;
    }
    out = v;
    return true;
}

int usage_error(std::string_view message) {
    std::cerr << "mock_upstream: " << message << '\n' << kUsage;
    return 2;
}

}  // namespace

int main(int argc, char** argv) {
    sy::mock::Options options;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            std::cout << kUsage;
            return 0;
        }
        if (i + 1 >= argc) {
            return usage_error("missing value for " + std::string(arg));
        }
        const std::string_view value = argv[++i];
        if (arg == "--port") {
            if (!parse_number<std::uint16_t>(value, options.port, 0, 65535)) {
                return usage_error("bad --port " + std::string(value));
            }
        } else if (arg == "--host") {
            options.host = std::string(value);
        } else if (arg == "--threads") {
            if (!parse_number(value, options.threads, 1, 256)) {
                return usage_error("bad --threads " + std::string(value));
            }
        } else if (arg == "--idle-timeout-ms") {
            long long ms = 0;
            if (!parse_number<long long>(value, ms, 1, 86'400'000)) {
                return usage_error("bad --idle-timeout-ms " + std::string(value));
            }
            options.idle_timeout = std::chrono::milliseconds(ms);
        } else {
            return usage_error("unknown argument " + std::string(arg));
        }
    }

    // Block the shutdown signals before any worker thread exists, so that only sigwait below
    // receives them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    const std::string host = options.host;
    sy::mock::MockUpstream mock(std::move(options));
    std::uint16_t port = 0;
    try {
        port = mock.start();
    } catch (const std::exception& e) {
        std::cerr << "mock_upstream: cannot listen on " << host << ": " << e.what() << '\n';
        return 1;
    }
    std::cout << "mock_upstream listening on " << host << ':' << port << std::endl;

    int received = 0;
    sigwait(&signals, &received);
    mock.stop();
    return 0;
}
