#pragma once
// The store thread pool: blocking driver calls run here and are awaited from worker coroutines,
// which resume on their own executor (ARCHITECTURE.md §2: never block a worker thread).
//
// Thread safety: thread-safe; run() may be awaited from any executor.

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/associated_executor.hpp>
#include <optional>
#include <type_traits>

namespace sy::store {

class StorePool {
public:
    explicit StorePool(std::size_t threads = 2) : pool_(threads) {}
    ~StorePool() { stop(); }
    StorePool(const StorePool&) = delete;
    StorePool& operator=(const StorePool&) = delete;

    // Runs f() on the pool; the awaiting coroutine resumes on its own executor with the result.
    template <class F>
    boost::asio::awaitable<std::invoke_result_t<F>> run(F f) {
        using R = std::invoke_result_t<F>;
        namespace net = boost::asio;
        auto& pool = pool_;
        // The result travels in an optional because R (a Result<T>) has no default constructor.
        // The initiation is a named local: g++ 12 mishandles temporaries with non-trivial
        // destructors that live across a co_await.
        auto init = [&pool, f = std::move(f)](auto handler) mutable {
            auto ex = net::get_associated_executor(handler);
            auto work = net::make_work_guard(ex);
            net::post(pool, [f = std::move(f), handler = std::move(handler),
                             work = std::move(work)]() mutable {
                std::optional<R> r(f());
                auto ex2 = work.get_executor();
                net::post(ex2, [handler = std::move(handler), r = std::move(r)]() mutable {
                    std::move(handler)(std::move(r));
                });
            });
        };
        std::optional<R> out =
            co_await net::async_initiate<decltype(net::use_awaitable), void(std::optional<R>)>(
                std::move(init), net::use_awaitable);
        co_return std::move(*out);
    }

    // Posts fire-and-forget work (refreshes, ledger flushes).
    template <class F>
    void post(F f) {
        boost::asio::post(pool_, std::move(f));
    }

    void stop() {
        pool_.join();
    }

private:
    boost::asio::thread_pool pool_;
};

}  // namespace sy::store
