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
#include <memory_resource>
#include <type_traits>

namespace sy::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using Clock = std::chrono::steady_clock;
using Duration = std::chrono::steady_clock::duration;

template <class T>
using Task = net::awaitable<T>;

// Header containers of hot-path messages (the client's request, the upstream's response) take
// their memory from a per-connection arena that is reset before each request; elsewhere they
// use the heap (a default-constructed allocator).
// (std::pmr::polymorphic_allocator is not assignable, which Beast requires.) Moves carry the
// arena along; copies go to the heap, so that a copy may outlive the arena.
template <class T>
class ArenaAllocator {
public:
    using value_type = T;
    using propagate_on_container_move_assignment = std::true_type;
    using propagate_on_container_copy_assignment = std::false_type;
    using propagate_on_container_swap = std::true_type;

    ArenaAllocator() noexcept : r_(std::pmr::get_default_resource()) {}
    explicit ArenaAllocator(std::pmr::memory_resource* r) noexcept
        : r_(r ? r : std::pmr::get_default_resource()) {}
    template <class U>
    ArenaAllocator(const ArenaAllocator<U>& o) noexcept : r_(o.resource()) {}  // NOLINT

    T* allocate(std::size_t n) {
        return static_cast<T*>(r_->allocate(n * sizeof(T), alignof(T)));
    }
    void deallocate(T* p, std::size_t n) noexcept { r_->deallocate(p, n * sizeof(T), alignof(T)); }
    ArenaAllocator select_on_container_copy_construction() const { return ArenaAllocator(); }
    std::pmr::memory_resource* resource() const noexcept { return r_; }

    friend bool operator==(const ArenaAllocator& a, const ArenaAllocator& b) noexcept {
        return a.r_ == b.r_;
    }
    friend bool operator!=(const ArenaAllocator& a, const ArenaAllocator& b) noexcept {
        return a.r_ != b.r_;
    }

private:
    std::pmr::memory_resource* r_;
};

using FieldsAlloc = ArenaAllocator<char>;
using Fields = bhttp::basic_fields<FieldsAlloc>;

// An allocator for Fields from `arena`, or from the heap when it is null.
inline FieldsAlloc fields_alloc(std::pmr::memory_resource* arena) { return FieldsAlloc(arena); }

// Completion token that returns (error_code, ...) as a tuple instead of throwing.
inline constexpr auto kNoThrow = net::as_tuple(net::use_awaitable);

// Reads one HTTP message (or its head only) by feeding the parser from `buf` and reading more
// from `s` only when the parser needs it. Unlike Beast's composed async_read this allocates no
// operation state and completes inline when the bytes are already buffered (the common case on
// keep-alive connections). Returns the parser's or the socket's error.
template <class Stream, class Parser>
Task<boost::system::error_code> read_message(Stream& s,
                                             beast::flat_buffer& buf,
                                             Parser& parser,
                                             bool head_only) {
    parser.eager(!head_only);
    for (;;) {
        if (buf.size() > 0) {
            boost::system::error_code ec;
            std::size_t n = parser.put(buf.data(), ec);
            buf.consume(n);
            if (ec && ec != bhttp::error::need_more) {
                co_return ec;
            }
            if (parser.is_done() || (head_only && parser.is_header_done())) {
                co_return boost::system::error_code{};
            }
            if (!ec && n > 0 && buf.size() > 0) {
                continue;  // progress and bytes left: parse again before reading
            }
        } else if (parser.is_done() || (head_only && parser.is_header_done())) {
            co_return boost::system::error_code{};
        }
        if (buf.capacity() - buf.size() < 4096) {
            buf.reserve(buf.size() + 16 * 1024);
        }
        auto [ec, n] = co_await s.async_read_some(buf.prepare(buf.capacity() - buf.size()),
                                                  kNoThrow);
        if (ec) {
            if (ec == net::error::eof) {
                // A message delimited by the end of the connection is complete now.
                boost::system::error_code pec;
                parser.put_eof(pec);
                if (!pec && parser.is_done()) {
                    co_return boost::system::error_code{};
                }
                co_return parser.got_some() ? boost::system::error_code(bhttp::error::partial_message)
                                            : boost::system::error_code(bhttp::error::end_of_stream);
            }
            co_return ec;
        }
        buf.commit(n);
    }
}

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
