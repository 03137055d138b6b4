#include "sy/store/pg_listener.hpp"

#include <libpq-fe.h>
#include <poll.h>

#include <algorithm>
#include <chrono>

#include "sy/observability/log.hpp"

namespace sy::store {
namespace {

constexpr int kPollSliceMs = 200;
constexpr auto kMinBackoff = std::chrono::milliseconds(200);
constexpr auto kMaxBackoff = std::chrono::milliseconds(5000);

void ignore_notice(void*, const char*) {}

struct Conn {
    PGconn* c = nullptr;
    ~Conn() {
        if (c != nullptr) {
            PQfinish(c);
        }
    }
};

// "name" with embedded quotes doubled: a quoted identifier, so any channel text is safe.
std::string quote_ident(std::string_view s) {
    std::string out = "\"";
    for (char ch : s) {
        out += ch;
        if (ch == '"') {
            out += '"';
        }
    }
    return out + "\"";
}

}  // namespace

PgListener::PgListener(std::string url, std::string channel, OnConnect on_connect,
                       OnNotify on_notify)
    : url_(std::move(url)),
      channel_(std::move(channel)),
      on_connect_(std::move(on_connect)),
      on_notify_(std::move(on_notify)) {}

PgListener::~PgListener() { stop(); }

void PgListener::start() {
    if (!thread_.joinable()) {
        stopping_ = false;
        thread_ = std::thread([this] { run(); });
    }
}

void PgListener::stop() {
    stopping_ = true;
    if (thread_.joinable()) {
        thread_.join();
    }
}

void PgListener::run() {
    auto backoff = kMinBackoff;
    bool warned = false;
    while (!stopping_) {
        bool was_listening = session();
        listening_ = false;
        if (stopping_) {
            break;
        }
        if (was_listening) {
            backoff = kMinBackoff;
            warned = false;
        }
        if (!warned) {
            obs::warn("key revocation: postgres LISTEN connection lost; reconnecting");
            warned = true;
        }
        // Back-off before reconnecting, in slices so stop() stays prompt.
        auto until = std::chrono::steady_clock::now() + backoff;
        while (!stopping_ && std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        backoff = std::min(backoff * 2, kMaxBackoff);
    }
}

bool PgListener::session() {
    Conn conn;
    // A bounded connect, so an unreachable server cannot hold stop() for a TCP timeout.
    const char* keys[] = {"dbname", "connect_timeout", nullptr};
    const char* values[] = {url_.c_str(), "3", nullptr};
    conn.c = PQconnectdbParams(keys, values, 1);
    if (PQstatus(conn.c) != CONNECTION_OK) {
        return false;
    }
    PQsetNoticeProcessor(conn.c, ignore_notice, nullptr);
    std::string listen = "LISTEN " + quote_ident(channel_);
    {
        PGresult* r = PQexec(conn.c, listen.c_str());
        bool ok = r != nullptr && PQresultStatus(r) == PGRES_COMMAND_OK;
        PQclear(r);
        if (!ok) {
            return false;
        }
    }
    listening_ = true;
    if (on_connect_) {
        on_connect_();
    }
    while (!stopping_) {
        pollfd p{PQsocket(conn.c), POLLIN, 0};
        if (p.fd < 0) {
            return true;
        }
        int n = ::poll(&p, 1, kPollSliceMs);
        if (n < 0) {
            return true;
        }
        if (n > 0 && PQconsumeInput(conn.c) == 0) {
            return true;  // connection lost
        }
        while (PGnotify* note = PQnotifies(conn.c)) {
            if (on_notify_) {
                on_notify_(note->extra != nullptr ? std::string_view(note->extra)
                                                  : std::string_view());
            }
            PQfreemem(note);
        }
        if (n > 0 && PQstatus(conn.c) != CONNECTION_OK) {
            return true;
        }
    }
    return true;
}

}  // namespace sy::store
