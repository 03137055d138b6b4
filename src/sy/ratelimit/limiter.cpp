#include "sy/ratelimit/limiter.hpp"

#include <algorithm>
#include <ctime>

namespace sy::ratelimit {

Clock system_clock() {
    return [] { return std::chrono::system_clock::now(); };
}

std::string_view scope_name(Scope s) {
    switch (s) {
        case Scope::kApiKey: return "api_key";
        case Scope::kUser: return "user";
        case Scope::kTeam: return "team";
        case Scope::kTeamMember: return "team_member";
        case Scope::kEndUser: return "end_user";
        case Scope::kModelPerKey: return "model_per_key";
        case Scope::kGlobal: return "global";
    }
    return "unknown";
}

std::string_view limit_type_name(LimitKind k) {
    switch (k) {
        case LimitKind::kRequests: return "requests";
        case LimitKind::kTokens: return "tokens";
        case LimitKind::kParallel: return "max_parallel_requests";
    }
    return "requests";
}

namespace {
Descriptor make(Scope s, std::string id, Limits l) {
    Descriptor d;
    d.scope = s;
    d.id = std::move(id);
    d.limits = l;
    return d;
}
}  // namespace

Descriptor Descriptor::api_key(std::string key_hash, Limits l) {
    return make(Scope::kApiKey, std::move(key_hash), l);
}
Descriptor Descriptor::user(std::string user_id, Limits l) {
    return make(Scope::kUser, std::move(user_id), l);
}
Descriptor Descriptor::team(std::string team_id, Limits l) {
    return make(Scope::kTeam, std::move(team_id), l);
}
Descriptor Descriptor::team_member(std::string_view team_id, std::string_view user_id, Limits l) {
    std::string id;
    id.reserve(team_id.size() + 1 + user_id.size());
    id.append(team_id).append(":").append(user_id);
    return make(Scope::kTeamMember, std::move(id), l);
}
Descriptor Descriptor::end_user(std::string end_user_id, Limits l) {
    return make(Scope::kEndUser, std::move(end_user_id), l);
}
Descriptor Descriptor::model_per_key(std::string_view key_hash, std::string group, Limits l) {
    std::string id;
    id.append(key_hash).append(":").append(group);
    Descriptor d = make(Scope::kModelPerKey, std::move(id), l);
    d.model_group = std::move(group);
    return d;
}
Descriptor Descriptor::global(Limits l) { return make(Scope::kGlobal, "", l); }

std::string Descriptor::key() const {
    std::string k(scope_name(scope));
    k.append(":").append(id);
    return k;
}

Request& Request::add(Descriptor d) {
    if (d.limits.any()) {
        descriptors.push_back(std::move(d));
    }
    return *this;
}

std::int64_t count_tokens(TokenCounting c, std::int64_t prompt, std::int64_t completion) {
    prompt = std::max<std::int64_t>(prompt, 0);
    completion = std::max<std::int64_t>(completion, 0);
    switch (c) {
        case TokenCounting::kInput: return prompt;
        case TokenCounting::kOutput: return completion;
        case TokenCounting::kTotal: break;
    }
    return prompt + completion;
}

namespace {

std::string group_suffix(std::string_view group) {
    std::string s(group);
    std::replace(s.begin(), s.end(), '/', '-');
    std::replace(s.begin(), s.end(), ':', '-');
    return s;
}

std::string utc_date(std::chrono::system_clock::time_point t) {
    std::time_t tt = std::chrono::system_clock::to_time_t(t);
    std::tm tm{};
    gmtime_r(&tt, &tm);
    char buf[40];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

}  // namespace

std::vector<Header> status_headers(const std::vector<LimitStatus>& statuses) {
    std::vector<Header> out;
    const LimitStatus* tightest[2] = {nullptr, nullptr};
    for (const LimitStatus& s : statuses) {
        if (s.kind == LimitKind::kParallel) {
            continue;
        }
        const bool tokens = s.kind == LimitKind::kTokens;
        const char* unit = tokens ? "tokens" : "requests";
        std::string prefix = "x-ratelimit-" + std::string(scope_name(s.scope));
        out.push_back({prefix + "-remaining-" + unit, std::to_string(s.remaining)});
        out.push_back({prefix + "-limit-" + unit, std::to_string(s.limit)});
        if (s.scope == Scope::kModelPerKey) {
            out.push_back({std::string("x-litellm-key-remaining-") + unit + "-" +
                               group_suffix(s.model_group),
                           std::to_string(s.remaining)});
        }
        const LimitStatus*& t = tightest[tokens ? 1 : 0];
        if (t == nullptr || s.remaining < t->remaining) {
            t = &s;
        }
    }
    for (int i = 0; i < 2; ++i) {
        if (const LimitStatus* t = tightest[i]) {
            const char* unit = i == 1 ? "tokens" : "requests";
            out.push_back({std::string("x-ratelimit-limit-") + unit, std::to_string(t->limit)});
            out.push_back(
                {std::string("x-ratelimit-remaining-") + unit, std::to_string(t->remaining)});
            out.push_back(
                {std::string("x-ratelimit-reset-") + unit, std::to_string(t->reset_s) + "s"});
        }
    }
    return out;
}

Error rejection_error(const Rejection& r,
                      const std::vector<LimitStatus>& statuses,
                      std::chrono::system_clock::time_point now) {
    const LimitStatus& s = r.status;
    const std::int64_t wait = std::max<std::int64_t>(r.retry_after_s, 1);
    const std::string reset_at = utc_date(now + std::chrono::seconds(wait));
    std::string msg = "Rate limit exceeded for ";
    msg.append(scope_name(s.scope))
        .append(": ")
        .append(s.id.empty() ? "proxy" : s.id)
        .append(". Limit type: ")
        .append(limit_type_name(s.kind))
        .append(". Current limit: ")
        .append(std::to_string(s.limit))
        .append(", Remaining: ")
        .append(std::to_string(s.remaining))
        .append(". Limit resets at: ")
        .append(reset_at);
    Error e = Error::make(Errc::kRateLimited, std::move(msg))
                  .with_header("retry-after", std::to_string(wait))
                  .with_header("rate_limit_type", std::string(limit_type_name(s.kind)))
                  .with_header("reset_at", reset_at);
    for (Header& h : status_headers(statuses)) {
        e.headers.push_back(std::move(h));
    }
    return e;
}

Reservation::Reservation(std::unique_ptr<Ticket> ticket, std::vector<LimitStatus> statuses)
    : ticket_(std::move(ticket)), statuses_(std::move(statuses)) {}

Reservation& Reservation::operator=(Reservation&& other) noexcept {
    if (this != &other) {
        cancel();
        ticket_ = std::move(other.ticket_);
        statuses_ = std::move(other.statuses_);
    }
    return *this;
}

Reservation::~Reservation() { cancel(); }

void Reservation::settle(std::int64_t actual_tokens) {
    if (auto t = std::move(ticket_)) {
        t->finish(std::max<std::int64_t>(actual_tokens, 0));
    }
}

void Reservation::cancel() {
    if (auto t = std::move(ticket_)) {
        t->finish(std::nullopt);
    }
}

}  // namespace sy::ratelimit
