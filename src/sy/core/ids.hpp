#pragma once
// Request ids and hashing helpers.
//
// Thread safety: new_call_id() uses a thread-local generator; sha256_hex is pure.

#include <string>
#include <string_view>

namespace sy {

// A random UUIDv4 string (lower-case, 36 chars).
std::string new_call_id();

// A time-ordered UUIDv7 string (48-bit Unix milliseconds, then 74 random bits; lower-case, 36
// chars). Used for per-request ids (x-litellm-call-id, spend-log ledger ids): ids written close
// in time sort together, so the spend-log indexes on them grow at their end instead of
// dirtying a random page per row.
std::string new_uuid_v7();

// True when `id` is 1–128 chars of [A-Za-z0-9._:-] (client-supplied x-litellm-call-id).
bool valid_call_id(std::string_view id);

// Lower-case hex SHA-256 of `data`.
std::string sha256_hex(std::string_view data);

// Constant-time equality of two byte strings (compares SHA-256 digests, so the time does not
// depend on where the inputs differ or on the secret's length).
bool secure_equals(std::string_view a, std::string_view b);

// Lower-case hex SHA-256 of a secret presented on a request (an API key): same value as
// sha256_hex, with the digests of the last few secrets seen on this thread remembered (clients
// send the same key on every request). The lookup runs in constant time for keys up to 128
// bytes; longer ones are hashed every time.
std::string secret_sha256_hex(std::string_view secret);

// SHA-256 digest (32 raw bytes) of `data`, and a constant-time comparison of `candidate`'s digest
// against a precomputed one (saves hashing the secret on every request; `candidate`'s digest
// comes from the same per-thread memo as secret_sha256_hex).
std::string sha256_raw(std::string_view data);
bool secure_equals_digest(std::string_view candidate, std::string_view digest);

}  // namespace sy
