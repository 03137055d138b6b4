#include "sy/ratelimit/redis_limiter.hpp"

#include <random>

#include "sy/observability/log.hpp"

namespace sy::ratelimit {

namespace {

// KEYS: 3 per descriptor (req, tok, par). ARGV: now_ms, estimate, lease_ms, reservation id,
// then per descriptor rpm, tpm, max_parallel (-1 = no limit).
// Returns {reject_index (0 = admitted), reject_kind (1 req, 2 tok, 3 par), retry_after,
//          then per descriptor: req_used, req_reset, tok_used, tok_reset, in_flight}.
// Same arithmetic as detail::SlidingWindow (window.cpp).
const kv::RedisScript& reserve_script() {
    static const kv::RedisScript s(R"lua(
local now_ms = tonumber(ARGV[1])
local est = tonumber(ARGV[2])
local lease = tonumber(ARGV[3])
local rid = ARGV[4]
local W = 60
local sec = math.floor(now_ms / 1000)
local n = #KEYS / 3

local function load(key)
  local flat = redis.call('HGETALL', key)
  local buckets, stale, used = {}, {}, 0
  for i = 1, #flat, 2 do
    local s, c = tonumber(flat[i]), tonumber(flat[i + 1])
    if s <= sec - W then
      stale[#stale + 1] = flat[i]
    elseif s <= sec and c > 0 then
      buckets[#buckets + 1] = {s, c}
      used = used + c
    end
  end
  if #stale > 0 then redis.call('HDEL', key, unpack(stale)) end
  return used, buckets
end

local function wait_until_at_most(buckets, max_used)
  if max_used < 0 then return W end
  for k = 1, W - 1 do
    local rem = 0
    for _, b in ipairs(buckets) do
      if b[1] > sec + k - W then rem = rem + b[2] end
    end
    if rem <= max_used then return k end
  end
  return W
end

local function until_empty(buckets)
  local newest = nil
  for _, b in ipairs(buckets) do
    if newest == nil or b[1] > newest then newest = b[1] end
  end
  if newest == nil then return 0 end
  return newest + W - sec
end

local rej_i, rej_kind, rej_wait = 0, 0, 0
local function reject(i, kind, wait)
  if rej_i == 0 or wait > rej_wait then rej_i, rej_kind, rej_wait = i, kind, wait end
end

local st = {}
for i = 1, n do
  local base = 4 + 3 * (i - 1)
  local rpm, tpm, par = tonumber(ARGV[base + 1]), tonumber(ARGV[base + 2]), tonumber(ARGV[base + 3])
  local s = {rpm = rpm, tpm = tpm, par = par, ru = 0, rr = 0, tu = 0, tr = 0, pf = 0}
  if rpm >= 0 then
    local used, b = load(KEYS[3 * i - 2])
    s.ru, s.rr = used, until_empty(b)
    if used + 1 > rpm then reject(i, 1, wait_until_at_most(b, rpm - 1)) end
  end
  if tpm >= 0 then
    local used, b = load(KEYS[3 * i - 1])
    s.tu, s.tr, s.tb = used, until_empty(b), b
    if used >= tpm then reject(i, 2, wait_until_at_most(b, tpm - 1)) end
  end
  if par >= 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[3 * i], '-inf', now_ms)
    s.pf = redis.call('ZCARD', KEYS[3 * i])
    if s.pf >= par then reject(i, 3, 1) end
  end
  st[i] = s
end

if rej_i == 0 then
  for i = 1, n do
    local s = st[i]
    if s.rpm >= 0 then
      redis.call('HINCRBY', KEYS[3 * i - 2], tostring(sec), 1)
      redis.call('PEXPIRE', KEYS[3 * i - 2], (W + 1) * 1000)
      s.ru, s.rr = s.ru + 1, W
    end
    if s.tpm >= 0 and est > 0 then
      redis.call('HINCRBY', KEYS[3 * i - 1], tostring(sec), est)
      redis.call('PEXPIRE', KEYS[3 * i - 1], (W + 1) * 1000)
      s.tu, s.tr = s.tu + est, W
    end
    if s.par >= 0 then
      redis.call('ZADD', KEYS[3 * i], now_ms + lease, rid)
      redis.call('PEXPIRE', KEYS[3 * i], lease + 1000)
      s.pf = s.pf + 1
    end
  end
end

local out = {rej_i, rej_kind, rej_wait}
for i = 1, n do
  local s = st[i]
  out[#out + 1] = s.ru
  out[#out + 1] = s.rr
  out[#out + 1] = s.tu
  out[#out + 1] = s.tr
  out[#out + 1] = s.pf
end
return out
)lua");
    return s;
}

// KEYS: tpm hashes, then parallel sets. ARGV: now_ms, reserved second, delta, reservation id,
// number of tpm keys. Refunds come out of the reservation's own bucket while it is in the
// window (never credit); extra tokens count now.
const kv::RedisScript& settle_script() {
    static const kv::RedisScript s(R"lua(
local sec = math.floor(tonumber(ARGV[1]) / 1000)
local rs = tonumber(ARGV[2])
local delta = tonumber(ARGV[3])
local rid = ARGV[4]
local nt = tonumber(ARGV[5])
for i = 1, nt do
  local k = KEYS[i]
  if delta > 0 then
    redis.call('HINCRBY', k, tostring(sec), delta)
    redis.call('PEXPIRE', k, 61000)
  elseif delta < 0 and rs > sec - 60 then
    local v = redis.call('HINCRBY', k, tostring(rs), delta)
    if v <= 0 then redis.call('HDEL', k, tostring(rs)) end
  end
end
for i = nt + 1, #KEYS do
  redis.call('ZREM', KEYS[i], rid)
end
return 1
)lua");
    return s;
}

std::string key_base(const Descriptor& d) {
    std::string k = "{rl:";
    k.append(d.key()).append("}:");
    return k;
}

std::int64_t to_ms(std::chrono::system_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

}  // namespace

class RedisLimiter::Ticket final : public Reservation::Ticket {
public:
    Ticket(RedisLimiter& owner,
           std::vector<std::string> token_keys,
           std::vector<std::string> parallel_keys,
           std::string id,
           std::int64_t estimate,
           std::int64_t second)
        : owner_(owner),
          token_keys_(std::move(token_keys)),
          parallel_keys_(std::move(parallel_keys)),
          id_(std::move(id)),
          estimate_(estimate),
          second_(second) {}

    void finish(std::optional<std::int64_t> actual) noexcept override {
        try {
            const std::int64_t delta = actual ? *actual - estimate_ : -estimate_;
            if (delta == 0 && parallel_keys_.empty()) {
                return;
            }
            std::vector<std::string> keys;
            keys.reserve(token_keys_.size() + parallel_keys_.size());
            if (delta != 0) {
                keys = std::move(token_keys_);
            }
            const std::size_t nt = keys.size();
            for (auto& k : parallel_keys_) {
                keys.push_back(std::move(k));
            }
            owner_.redis_.eval_detached(
                settle_script(), std::move(keys),
                {std::to_string(to_ms(owner_.clock_())), std::to_string(second_),
                 std::to_string(delta), id_, std::to_string(nt)});
        } catch (...) {
            // Out of memory while queueing: the lease frees the slot; nothing else to do.
        }
    }

private:
    RedisLimiter& owner_;
    std::vector<std::string> token_keys_;
    std::vector<std::string> parallel_keys_;
    std::string id_;
    std::int64_t estimate_;
    std::int64_t second_;
};

RedisLimiter::RedisLimiter(kv::RedisClient& redis, RedisLimiterOptions options, Clock clock)
    : redis_(redis), options_(options), clock_(clock), local_(clock) {
    std::random_device rd;
    std::uniform_int_distribution<std::uint64_t> dist;
    char buf[17];
    std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(dist(rd)));
    instance_ = buf;
}

RedisLimiter::~RedisLimiter() = default;

Result<Reservation> RedisLimiter::fallback(const Request& req, const Error& why) {
    up_ = false;
    const std::int64_t now_ms = to_ms(clock_());
    std::int64_t last = last_warn_ms_.load();
    const std::int64_t every =
        std::chrono::duration_cast<std::chrono::milliseconds>(options_.warn_every).count();
    if (now_ms - last >= every && last_warn_ms_.compare_exchange_strong(last, now_ms)) {
        obs::warn(options_.fail_closed ? "rate limits: redis unavailable, refusing requests"
                                       : "rate limits: redis unavailable, using local limits",
                  {{"error", why.message}});
    }
    if (options_.fail_closed) {
        return Error::make(Errc::kServiceUnavailable, "Rate limiter unavailable");
    }
    return local_.try_reserve(req);
}

boost::asio::awaitable<Result<Reservation>> RedisLimiter::check_and_reserve(Request req) {
    if (req.descriptors.empty()) {
        co_return Reservation{};
    }
    const auto now = clock_();
    const std::int64_t now_ms = to_ms(now);
    const std::int64_t estimate = std::max<std::int64_t>(req.estimated_tokens, 0);
    std::string id = instance_ + ":" + std::to_string(next_id_.fetch_add(1));

    std::vector<std::string> keys;
    std::vector<std::string> args = {std::to_string(now_ms), std::to_string(estimate),
                                     std::to_string(std::max<std::int64_t>(req.lease.count(), 1)),
                                     id};
    keys.reserve(3 * req.descriptors.size());
    args.reserve(4 + 3 * req.descriptors.size());
    auto limit_arg = [](const std::optional<std::int64_t>& v) {
        return std::to_string(v ? std::max<std::int64_t>(*v, 0) : -1);
    };
    for (const Descriptor& d : req.descriptors) {
        std::string base = key_base(d);
        keys.push_back(base + "req");
        keys.push_back(base + "tok");
        keys.push_back(base + "par");
        args.push_back(limit_arg(d.limits.rpm));
        args.push_back(limit_arg(d.limits.tpm));
        args.push_back(limit_arg(d.limits.max_parallel));
    }
    std::vector<std::string> token_keys;
    std::vector<std::string> parallel_keys;
    for (std::size_t i = 0; i < req.descriptors.size(); ++i) {
        if (req.descriptors[i].limits.tpm) {
            token_keys.push_back(keys[3 * i + 1]);
        }
        if (req.descriptors[i].limits.max_parallel) {
            parallel_keys.push_back(keys[3 * i + 2]);
        }
    }

    auto reply = co_await redis_.eval(reserve_script(), std::move(keys), std::move(args));
    const std::size_t n = req.descriptors.size();
    if (!reply) {
        co_return fallback(req, reply.error());
    }
    const kv::RedisReply& r = reply.value();
    if (r.type != kv::RedisReply::Type::kArray || r.elements.size() != 3 + 5 * n) {
        co_return fallback(req, Error::make(Errc::kInternal, r.is_error() ? r.str
                                                                          : "unexpected reply"));
    }
    up_ = true;
    auto at = [&](std::size_t i) { return r.elements[i].integer; };
    const std::int64_t rej_i = at(0);

    std::vector<LimitStatus> statuses;
    std::optional<Rejection> rejection;
    for (std::size_t i = 0; i < n; ++i) {
        const Descriptor& d = req.descriptors[i];
        const std::size_t b = 3 + 5 * i;
        auto status = [&](LimitKind k, std::int64_t limit, std::int64_t used, std::int64_t reset) {
            return LimitStatus{d.scope, d.id, d.model_group, k, limit,
                               std::max<std::int64_t>(limit - used, 0), reset};
        };
        if (d.limits.rpm) {
            statuses.push_back(status(LimitKind::kRequests, *d.limits.rpm, at(b), at(b + 1)));
        }
        if (d.limits.tpm) {
            statuses.push_back(status(LimitKind::kTokens, *d.limits.tpm, at(b + 2), at(b + 3)));
        }
        if (rej_i == static_cast<std::int64_t>(i + 1)) {
            const std::int64_t kind = at(1);
            LimitStatus s;
            if (kind == 1) {
                s = status(LimitKind::kRequests, *d.limits.rpm, at(b), at(b + 1));
            } else if (kind == 2) {
                s = status(LimitKind::kTokens, *d.limits.tpm, at(b + 2), at(b + 3));
            } else {
                s = status(LimitKind::kParallel, d.limits.max_parallel.value_or(0), at(b + 4), 0);
            }
            rejection = Rejection{std::move(s), std::max<std::int64_t>(at(2), 1)};
        }
    }
    if (rejection) {
        co_return rejection_error(*rejection, statuses, now);
    }
    if (token_keys.empty() && parallel_keys.empty()) {
        co_return Reservation{nullptr, std::move(statuses)};
    }
    co_return Reservation{std::make_unique<Ticket>(*this, std::move(token_keys),
                                                   std::move(parallel_keys), std::move(id),
                                                   estimate, now_ms / 1000),
                          std::move(statuses)};
}

}  // namespace sy::ratelimit
