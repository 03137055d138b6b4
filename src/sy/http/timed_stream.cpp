#include "sy/http/timed_stream.hpp"

#include <boost/asio/execution/context.hpp>
#include <boost/asio/query.hpp>
#include <cstdio>
#include <cstdlib>

namespace sy::http {

net::execution_context::id DeadlineService::id;

DeadlineService::DeadlineService(net::execution_context& ctx)
    : net::execution_context::service(ctx),
      io_(static_cast<net::io_context&>(ctx)),
      timer_(std::make_unique<net::steady_timer>(io_)) {}

DeadlineService::~DeadlineService() = default;

DeadlineService& DeadlineService::of(const tcp::socket::executor_type& ex) {
    auto& ctx = net::query(ex, net::execution::context);
    return net::use_service<DeadlineService>(ctx);
}

void DeadlineService::shutdown() {
    // The io_context is going away: pending operations are destroyed without completing, and
    // the streams they belong to with them. Forget the list; nothing wakes any more.
    shut_down_ = true;
    while (TimedStream* s = head_) {
        head_ = s->next_;
        s->watched_ = false;
        s->prev_ = s->next_ = nullptr;
    }
    watched_ = 0;
    timer_.reset();
}

void DeadlineService::watch(TimedStream& s) {
    if (shut_down_) {
        return;
    }
    s.prev_ = nullptr;
    s.next_ = head_;
    if (head_) {
        head_->prev_ = &s;
    }
    head_ = &s;
    s.watched_ = true;
    ++watched_;
    if (s.deadline_ < wake_at_) {
        arm(s.deadline_);
    }
}

void DeadlineService::unwatch(TimedStream& s) {
    if (!s.watched_) {
        return;
    }
    if (s.prev_) {
        s.prev_->next_ = s.next_;
    } else {
        head_ = s.next_;
    }
    if (s.next_) {
        s.next_->prev_ = s.prev_;
    }
    s.prev_ = s.next_ = nullptr;
    s.watched_ = false;
    --watched_;
    // The timer stays armed: when it wakes with nothing due it goes back to sleep (cheaper than
    // re-arming it on every completion).
}

void DeadlineService::deadline_lowered(Clock::time_point t) {
    if (!shut_down_ && t < wake_at_) {
        arm(t);
    }
}

void DeadlineService::arm(Clock::time_point t) {
    wake_at_ = t;
    std::uint64_t gen = ++arm_generation_;
    timer_->expires_at(t);  // cancels the earlier wait, whose handler then finds a newer generation
    timer_->async_wait([this, gen](const boost::system::error_code& ec) {
        if (ec || gen != arm_generation_ || shut_down_) {
            return;
        }
        on_wake();
    });
}

void DeadlineService::on_wake() {
    wake_at_ = Clock::time_point::max();
    auto now = Clock::now();
    auto next = Clock::time_point::max();
    TimedStream* s = head_;
    while (s) {
        TimedStream* following = s->next_;
        if (s->deadline_ <= now) {
            // Expired with an operation pending: close the socket (as Beast does). The pending
            // operations complete with operation_aborted, reported as beast::error::timeout.
            s->timed_out_ = true;
            unwatch(*s);
            s->close();
        } else if (s->deadline_ < next) {
            next = s->deadline_;
        }
        s = following;
    }
    if (next != Clock::time_point::max()) {
        arm(next);
    }
}

namespace {

// A completion would reach a stream that no longer exists (memory corruption): stop instead.
[[noreturn]] void pending_operation_outlived_stream() {
    std::fputs("switchyard: internal error: a TimedStream was destroyed or moved with an "
               "operation pending\n",
               stderr);
    std::abort();
}

}  // namespace

TimedStream::TimedStream(TimedStream&& o) noexcept
    : socket_(std::move(o.socket_)),
      svc_(o.svc_),
      deadline_(o.deadline_),
      pending_(0),
      timed_out_(o.timed_out_) {
    if (o.pending_ != 0 || o.watched_) {
        pending_operation_outlived_stream();
    }
}

TimedStream::~TimedStream() {
    // While its io_context shuts down, pending operations are destroyed without completing:
    // only then may a stream go away with some pending.
    if (pending_ != 0 && !svc_->shut_down()) {
        pending_operation_outlived_stream();
    }
    if (watched_) {
        svc_->unwatch(*this);
    }
}

void TimedStream::expires_at(Clock::time_point t) {
    deadline_ = t;
    if (!watched_) {
        if (t != kNever && pending_ > 0) {
            svc_->watch(*this);  // a deadline set while an operation is pending applies to it
        }
        return;
    }
    if (t == kNever) {
        svc_->unwatch(*this);
    } else {
        svc_->deadline_lowered(t);
    }
}

}  // namespace sy::http
