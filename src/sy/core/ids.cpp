#include "sy/core/ids.hpp"

// The low-level SHA-256 functions are deprecated in OpenSSL 3 in favour of EVP, which allocates
// per call (see digest()); they remain supported for the 3.x series.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <random>

namespace sy {
namespace {

// SHA-256 with the context on the stack: OpenSSL 3's EVP interface allocates and frees its
// algorithm context on every init (and the one-shot SHA256() looks the algorithm up each call),
// while the low-level functions run the block function directly. This runs once per request.
std::array<unsigned char, SHA256_DIGEST_LENGTH> digest(std::string_view data) {
    std::array<unsigned char, SHA256_DIGEST_LENGTH> out{};
    SHA256_CTX c;
    SHA256_Init(&c);
    SHA256_Update(&c, data.data(), data.size());
    SHA256_Final(out.data(), &c);
    return out;
}

using Digest = std::array<unsigned char, SHA256_DIGEST_LENGTH>;

// The digests of the last few secrets presented on this thread. A client sends the same key on
// every request, and hashing it is the largest single cost of a request's authentication.
// Lookups compare every slot over its whole fixed width, whatever the key: the time taken does
// not depend on where a candidate differs from a remembered key (only on whether it is one).
class SecretDigestCache {
public:
    static constexpr std::size_t kSlots = 4;
    static constexpr std::size_t kMaxKey = 128;  // longer secrets are hashed every time
    static_assert(kMaxKey % 8 == 0);

    Digest get(std::string_view key) {
        if (key.size() > kMaxKey) {
            return digest(key);
        }
        unsigned char padded[kMaxKey] = {};
        std::memcpy(padded, key.data(), key.size());
        int hit = -1;
        for (std::size_t i = 0; i < kSlots; ++i) {
            // Length and bytes folded into one flag, no early exit.
            unsigned diff = static_cast<unsigned>(slots_[i].size ^ key.size()) |
                            static_cast<unsigned>(!slots_[i].used);
            std::uint64_t acc = 0;
            for (std::size_t w = 0; w < kMaxKey; w += 8) {
                std::uint64_t a = 0;
                std::uint64_t b = 0;
                std::memcpy(&a, padded + w, 8);
                std::memcpy(&b, slots_[i].key + w, 8);
                acc |= a ^ b;
            }
            diff |= static_cast<unsigned>(acc | (acc >> 32));
            hit = diff == 0 ? static_cast<int>(i) : hit;
        }
        if (hit >= 0) {
            return slots_[static_cast<std::size_t>(hit)].digest;
        }
        Slot& s = slots_[next_];
        next_ = (next_ + 1) % kSlots;
        std::memcpy(s.key, padded, kMaxKey);
        s.size = key.size();
        s.used = true;
        s.digest = digest(key);
        return s.digest;
    }

    ~SecretDigestCache() { OPENSSL_cleanse(slots_, sizeof slots_); }

private:
    struct Slot {
        unsigned char key[kMaxKey] = {};
        std::size_t size = 0;
        bool used = false;
        Digest digest{};
    };
    Slot slots_[kSlots];
    std::size_t next_ = 0;
};

Digest secret_digest(std::string_view key) {
    thread_local SecretDigestCache cache;
    return cache.get(key);
}

std::string to_hex(const Digest& d) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s(d.size() * 2, '0');
    for (std::size_t i = 0; i < d.size(); ++i) {
        s[2 * i] = kHex[d[i] >> 4];
        s[2 * i + 1] = kHex[d[i] & 0xf];
    }
    return s;
}

}  // namespace

namespace {

std::string format_uuid(std::uint64_t hi, std::uint64_t lo) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s(36, '-');
    std::size_t pos = 0;
    auto put = [&](std::uint64_t v) {
        for (int n = 15; n >= 0; --n) {
            if (pos == 8 || pos == 13 || pos == 18 || pos == 23) {
                ++pos;
            }
            s[pos++] = kHex[(v >> (n * 4)) & 0xf];
        }
    };
    put(hi);
    put(lo);
    return s;
}

std::mt19937_64& id_rng() {
    // Seeded with 256 bits from the OS, not one 32-bit word: ids of different threads and
    // instances must not collide (a repeated ledger id would make the store skip a row).
    thread_local std::mt19937_64 rng = [] {
        std::random_device rd;
        std::seed_seq seq{rd(), rd(), rd(), rd(), rd(), rd(), rd(), rd()};
        return std::mt19937_64(seq);
    }();
    return rng;
}

constexpr std::uint64_t kVariant = 0x8000000000000000ULL;  // variant 10
constexpr std::uint64_t kVariantMask = 0x3fffffffffffffffULL;

}  // namespace

std::string new_call_id() {
    auto& rng = id_rng();
    std::uint64_t hi = (rng() & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
    return format_uuid(hi, (rng() & kVariantMask) | kVariant);
}

std::string new_uuid_v7() {
    auto& rng = id_rng();
    auto ms = static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                             std::chrono::system_clock::now().time_since_epoch())
                                             .count());
    std::uint64_t hi = (ms << 16) | 0x7000ULL | (rng() & 0x0fffULL);  // version 7
    return format_uuid(hi, (rng() & kVariantMask) | kVariant);
}

bool valid_call_id(std::string_view id) {
    if (id.empty() || id.size() > 128) {
        return false;
    }
    for (char c : id) {
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == ':' || c == '-';
        if (!ok) {
            return false;
        }
    }
    return true;
}

std::string sha256_hex(std::string_view data) { return to_hex(digest(data)); }

std::string secret_sha256_hex(std::string_view secret) { return to_hex(secret_digest(secret)); }

std::string sha256_raw(std::string_view data) {
    auto d = digest(data);
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

bool secure_equals_digest(std::string_view candidate, std::string_view expected_digest) {
    auto d = secret_digest(candidate);
    return expected_digest.size() == d.size() &&
           CRYPTO_memcmp(d.data(), expected_digest.data(), d.size()) == 0;
}

bool secure_equals(std::string_view a, std::string_view b) {
    auto da = digest(a);
    auto db = digest(b);
    return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

}  // namespace sy
