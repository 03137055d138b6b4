#include "sy/pipeline/shared_budget.hpp"

#include <charconv>

#include "sy/observability/log.hpp"

namespace sy::pipeline {
namespace {

// KEYS: per scope the hash and its lease set. ARGV: now_ms, lease expiry ms, lease member,
// reserve, then per scope max_budget, seed spend, reset_at. Returns {0, ""} when admitted, else
// {i, spend+reserved} for the first scope i (1-based) over its budget.
constexpr std::string_view kAdmitScript = R"lua(
local now = tonumber(ARGV[1])
local n = #KEYS / 2
for i = 1, n do
  local h, z = KEYS[2 * i - 1], KEYS[2 * i]
  local b = 4 + 3 * (i - 1)
  local reset = ARGV[b + 3]
  if redis.call('EXISTS', h) == 0 then
    redis.call('HSET', h, 'spend', ARGV[b + 2], 'reserved', '0', 'reset_at', reset)
  else
    local cur = redis.call('HGET', h, 'reset_at') or ''
    if reset ~= '' and reset > cur then
      if cur ~= '' then redis.call('HSET', h, 'spend', '0') end
      redis.call('HSET', h, 'reset_at', reset)
    end
  end
  local expired = redis.call('ZRANGEBYSCORE', z, '-inf', now)
  if #expired > 0 then
    local sum = 0
    for _, m in ipairs(expired) do sum = sum + (tonumber(string.match(m, '|(.*)$')) or 0) end
    redis.call('ZREMRANGEBYSCORE', z, '-inf', now)
    if tonumber(redis.call('HINCRBYFLOAT', h, 'reserved', string.format('%.17g', -sum))) < 0 then
      redis.call('HSET', h, 'reserved', '0')
    end
  end
  local used = tonumber(redis.call('HGET', h, 'spend') or '0') +
               tonumber(redis.call('HGET', h, 'reserved') or '0')
  if used >= tonumber(ARGV[b + 1]) then
    return {i, string.format('%.17g', used)}
  end
end
for i = 1, n do
  redis.call('HINCRBYFLOAT', KEYS[2 * i - 1], 'reserved', ARGV[4])
  redis.call('ZADD', KEYS[2 * i], ARGV[2], ARGV[3])
end
return {0, ''}
)lua";

// KEYS as above. ARGV: lease member, reserve, cost. A lease already dropped as expired releases
// nothing twice; a hash that vanished is seeded again at the next admission.
constexpr std::string_view kSettleScript = R"lua(
for i = 1, #KEYS, 2 do
  local h, z = KEYS[i], KEYS[i + 1]
  local held = redis.call('ZREM', z, ARGV[1]) == 1
  if redis.call('EXISTS', h) == 1 then
    if held and tonumber(redis.call('HINCRBYFLOAT', h, 'reserved', '-' .. ARGV[2])) < 0 then
      redis.call('HSET', h, 'reserved', '0')
    end
    redis.call('HINCRBYFLOAT', h, 'spend', ARGV[3])
  end
end
return 1
)lua";

const kv::RedisScript& admit_script() {
    static const kv::RedisScript s{std::string(kAdmitScript)};
    return s;
}

const kv::RedisScript& settle_script() {
    static const kv::RedisScript s{std::string(kSettleScript)};
    return s;
}

std::int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace

RedisBudgets::RedisBudgets(const auth::Governor& gov, kv::RedisClient& redis,
                           std::chrono::seconds lease)
    : gov_(gov), redis_(redis), lease_(lease) {}

std::string RedisBudgets::hash_key(std::string_view scope) {
    std::string_view kind = "global";
    if (scope.size() >= 2 && scope[1] == ':') {
        switch (scope[0]) {
            case 'k': kind = "key"; break;
            case 'u': kind = "user"; break;
            case 't': kind = "team"; break;
            case 'c': kind = "end_user"; break;
            default: kind = scope.substr(0, 1); break;
        }
        return "{budget:" + std::string(kind) + ":" + std::string(scope.substr(2)) + "}";
    }
    return "{budget:" + std::string(kind) + "}";
}

void RedisBudgets::warn_down(const std::string& detail) {
    std::int64_t now = now_ms();
    std::int64_t last = last_warn_ms_.load();
    if (now - last >= 30000 && last_warn_ms_.compare_exchange_strong(last, now)) {
        obs::warn("budgets: redis unavailable, budgets are per instance until it returns",
                  {{"detail", detail}});
    }
}

http::Task<Status> RedisBudgets::admit(CallContext& ctx, double reserve) {
    if (!ctx.admission) {
        co_return ok_status();
    }
    std::vector<auth::BudgetView> views = gov_.limited_scopes(*ctx.admission, ctx.key.get());
    if (views.empty()) {
        co_return ok_status();
    }
    std::int64_t now = now_ms();
    std::string amount = format_cost(reserve);
    std::string member = ctx.call_id + "|" + amount;
    std::vector<std::string> keys;
    std::vector<std::string> args{std::to_string(now),
                                  std::to_string(now + lease_.count() * 1000), member, amount};
    for (const auto& v : views) {
        std::string h = hash_key(v.scope);
        keys.push_back(h);
        keys.push_back(h + ":leases");
        args.push_back(format_cost(v.max_budget));
        args.push_back(format_cost(v.spend));
        args.push_back(v.reset_at_text);
    }
    std::vector<std::string> held = keys;
    auto reply = co_await redis_.eval(admit_script(), std::move(keys), std::move(args));
    if (!reply) {
        warn_down(reply.error().message);
        co_return ok_status();  // fail-open: the local reservation stands
    }
    const kv::RedisReply& r = reply.value();
    if (r.type != kv::RedisReply::Type::kArray || r.elements.size() != 2) {
        warn_down(r.is_error() ? r.str : "unexpected reply");
        co_return ok_status();
    }
    std::int64_t over = r.elements[0].integer;
    if (over <= 0 || static_cast<std::size_t>(over) > views.size()) {
        ctx.budget_keys = std::move(held);
        ctx.budget_lease = std::move(member);
        ctx.budget_reserved = reserve;
        co_return ok_status();
    }
    const auth::BudgetView& v = views[static_cast<std::size_t>(over - 1)];
    double used = 0;
    const std::string& s = r.elements[1].str;
    std::from_chars(s.data(), s.data() + s.size(), used);
    co_return auth::Governor::budget_error(v.kind, v.name, used, v.max_budget, v.reset_at,
                                           auth::SysClock::now());
}

void RedisBudgets::settle(CallContext& ctx, double cost) {
    if (ctx.budget_keys.empty()) {
        return;
    }
    std::vector<std::string> keys = std::move(ctx.budget_keys);
    ctx.budget_keys.clear();
    redis_.eval_detached(settle_script(), std::move(keys),
                         {ctx.budget_lease, format_cost(ctx.budget_reserved), format_cost(cost)});
}

}  // namespace sy::pipeline
