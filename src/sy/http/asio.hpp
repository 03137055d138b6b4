#pragma once
// Common Asio/Beast aliases for the http module and its users.

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>

namespace sy::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Duration = std::chrono::steady_clock::duration;

template <class T>
using Task = net::awaitable<T>;

// Completion token that returns (error_code, ...) as a tuple instead of throwing.
inline constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);

// Seconds to a steady-clock duration, clamped to [0, 1 year] (no overflow, no negative waits).
inline Duration seconds_to_duration(double s) {
    constexpr double kMax = 365.0 * 86400.0;
    if (!(s > 0)) {
        s = 0;
    } else if (s > kMax) {
        s = kMax;
    }
    return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(s));
}

}  // namespace sy::http
