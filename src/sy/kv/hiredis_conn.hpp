#pragma once
// hiredis helpers shared by RedisClient and RedisSubscriber (private to the kv module: hiredis
// appears in this target only): reply conversion, one blocking command, and opening a connection
// with its timeouts, keep-alive, AUTH and SELECT.
//
// Thread safety: each function works on the context it is given; a context belongs to one thread.

#include <hiredis/hiredis.h>

#include <chrono>
#include <string>
#include <vector>

#include "sy/kv/redis_client.hpp"

namespace sy::kv::detail {

timeval to_timeval(std::chrono::milliseconds ms);

RedisReply convert(const redisReply* r);

// redisCommandArgv for a vector of arguments; the caller frees the reply (null: connection lost).
redisReply* run_argv(redisContext* ctx, const std::vector<std::string>& argv);

// Connects to opts.host:port (connect timeout), sets the command timeout and keep-alive, and runs
// AUTH / SELECT when configured. Null on failure, with `why` (never the password).
redisContext* open_connection(const RedisOptions& opts, std::string& why);

}  // namespace sy::kv::detail
