#pragma once
// Client rate limits (auth-budgets-limits.md §10; README D6, D9, D24): rpm, tpm and max parallel
// requests per descriptor (key, user, team, end user, model-per-key, ...), admitted atomically
// over all descriptors of a request.
//
// Use from the pipeline:
//   ratelimit::Request req;
//   req.add(Descriptor::api_key(key_hash, {.rpm = key.rpm_limit, .tpm = key.tpm_limit,
//                                         .max_parallel = key.max_parallel_requests}));
//   req.add(Descriptor::end_user(customer_id, customer_limits));   // also for the master key
//   req.estimated_tokens = prompt_estimate;                         // D9: total tokens
//   auto r = co_await limiter.check_and_reserve(std::move(req));
//   if (!r) -> respond with r.error() (429; message and all headers already set)
//   add r->headers() to the response (non-streaming: with it; streaming: with the first bytes)
//   ... on completion: r->settle(count_tokens(kTotal, prompt, completion));
//   ... on failure/cancel/cache hit: r->cancel()  (or just let the Reservation go out of scope)
//
// Thread safety: Limiter implementations are thread-safe. A Reservation is owned by one request
// and must not be used from two threads at once; it must not outlive the Limiter that issued it.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "sy/core/error.hpp"

namespace sy::ratelimit {

// Wall clock, injectable for tests. Wall (not steady) time: `reset_at` is shown as a UTC date,
// and instances sharing Redis must agree on bucket seconds.
using Clock = std::function<std::chrono::system_clock::time_point()>;
Clock system_clock();

// §10.1 descriptors. The names are the `<descriptor>` in x-ratelimit-<descriptor>-* headers.
enum class Scope : std::uint8_t {
    kApiKey,      // "api_key": key hash
    kUser,        // "user": user id
    kTeam,        // "team": team id
    kTeamMember,  // "team_member": "team_id:user_id"
    kEndUser,     // "end_user": end-user (customer) id
    kModelPerKey, // "model_per_key": "key_hash:group"
    kGlobal,      // "global": proxy-wide (global_max_parallel_requests)
};
std::string_view scope_name(Scope s);

// null = no limit; 0 = refuse every request (§10.1). Negative values are refused at write time
// by the key API; here they behave as 0.
struct Limits {
    std::optional<std::int64_t> rpm = std::nullopt;
    std::optional<std::int64_t> tpm = std::nullopt;
    std::optional<std::int64_t> max_parallel = std::nullopt;
    bool any() const { return rpm || tpm || max_parallel; }
};

struct Descriptor {
    Scope scope = Scope::kApiKey;
    std::string id;           // see Scope; "" for kGlobal
    std::string model_group;  // kModelPerKey only: the group, for x-litellm-key-remaining-*
    Limits limits;

    static Descriptor api_key(std::string key_hash, Limits l);
    static Descriptor user(std::string user_id, Limits l);
    static Descriptor team(std::string team_id, Limits l);
    static Descriptor team_member(std::string_view team_id, std::string_view user_id, Limits l);
    static Descriptor end_user(std::string end_user_id, Limits l);
    static Descriptor model_per_key(std::string_view key_hash, std::string group, Limits l);
    static Descriptor global(Limits l);

    // Storage key of this descriptor ("api_key:<hash>"); unique per scope and id.
    std::string key() const;
};

// One admission request.
struct Request {
    std::vector<Descriptor> descriptors;
    // Tokens reserved up front in every tpm window (§10.3): the prompt-token estimate when TPM
    // counts total or input tokens (D9), 0 when it counts output only.
    std::int64_t estimated_tokens = 0;
    // Lease of a parallel slot in a shared store: a crashed instance's slots free themselves
    // after it (§10.4: request timeout + 60 s). The local limiter needs no lease.
    std::chrono::milliseconds lease{std::chrono::seconds(660)};

    // Adds `d` unless it has no limit (descriptors are "checked only when a limit is set").
    Request& add(Descriptor d);
};

// What a tpm limit counts (general_settings.token_rate_limit_type; D9 default total).
enum class TokenCounting : std::uint8_t { kTotal, kInput, kOutput };
std::int64_t count_tokens(TokenCounting c, std::int64_t prompt, std::int64_t completion);

enum class LimitKind : std::uint8_t { kRequests, kTokens, kParallel };
// "requests", "tokens", "max_parallel_requests" (the `rate_limit_type` header).
std::string_view limit_type_name(LimitKind k);

// The state of one limit of one descriptor, as seen at admission.
struct LimitStatus {
    Scope scope = Scope::kApiKey;
    std::string id;
    std::string model_group;
    LimitKind kind = LimitKind::kRequests;
    std::int64_t limit = 0;
    std::int64_t remaining = 0;  // after this request was admitted (on rejection: now)
    std::int64_t reset_s = 0;    // seconds until the window is empty again (0 = empty)
};

// The limit that refused a request.
struct Rejection {
    LimitStatus status;
    std::int64_t retry_after_s = 1;  // smallest whole wait after which the request fits (>= 1)
};

// Response headers for the statuses (§10.5): per descriptor x-ratelimit-<d>-remaining|limit-
// requests|tokens, the OpenAI-style x-ratelimit-{limit,remaining,reset}-{requests,tokens} for
// the tightest limit (lowest remaining), and x-litellm-key-remaining-{requests,tokens}-<group>
// for per-model key limits. Empty when no rpm/tpm limit applies (then the pipeline passes the
// provider's own x-ratelimit-* through, D24).
std::vector<Header> status_headers(const std::vector<LimitStatus>& statuses);

// The 429 for a rejection: Errc::kRateLimited, LiteLLM's message text, and headers retry-after,
// rate_limit_type, reset_at (now + retry-after, "YYYY-MM-DD HH:MM:SS UTC") plus status_headers.
Error rejection_error(const Rejection& r,
                      const std::vector<LimitStatus>& statuses,
                      std::chrono::system_clock::time_point now);

// An admitted request's hold on its limits. Move-only. Finishes exactly once: settle() or
// cancel(), whichever comes first; the destructor cancels if neither was called, so a request
// that fails, is cancelled or whose client disconnects always frees its parallel slot.
class Reservation {
public:
    // Implemented by limiter back-ends. finish() is called at most once and never throws.
    class Ticket {
    public:
        virtual ~Ticket() = default;
        // actual_tokens: the counted tokens of a completed call, nullopt when it failed.
        virtual void finish(std::optional<std::int64_t> actual_tokens) noexcept = 0;
    };

    Reservation() = default;  // holds nothing (no limit applied)
    Reservation(std::unique_ptr<Ticket> ticket, std::vector<LimitStatus> statuses);
    Reservation(Reservation&& other) noexcept = default;
    Reservation& operator=(Reservation&& other) noexcept;
    Reservation(const Reservation&) = delete;
    Reservation& operator=(const Reservation&) = delete;
    ~Reservation();

    // Completion (§10.3): tpm windows get actual - estimate; the parallel slot is released.
    void settle(std::int64_t actual_tokens);
    // Failure or cache hit: the estimate is given back; the parallel slot is released.
    void cancel();
    bool active() const { return ticket_ != nullptr; }

    const std::vector<LimitStatus>& statuses() const { return statuses_; }
    std::vector<Header> headers() const { return status_headers(statuses_); }

private:
    std::unique_ptr<Ticket> ticket_;
    std::vector<LimitStatus> statuses_;
};

class Limiter {
public:
    virtual ~Limiter() = default;
    // Admits the request iff every limit of every descriptor admits it (§10.2-10.4), and then
    // reserves on all of them; otherwise changes nothing and returns the 429 (rejection_error
    // for the limit with the longest retry-after). Never blocks the calling thread.
    // A request with no descriptors is admitted with an empty Reservation at no cost.
    virtual boost::asio::awaitable<Result<Reservation>> check_and_reserve(Request req) = 0;
};

}  // namespace sy::ratelimit
