#include "sy/core/ids.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>
#include <cstdint>
#include <random>

namespace sy {
namespace {

// SHA-256 through a per-thread context and an algorithm fetched once: the one-shot SHA256()
// looks the algorithm up in OpenSSL's provider tables on every call.
std::array<unsigned char, SHA256_DIGEST_LENGTH> digest(std::string_view data) {
    struct Ctx {
        EVP_MD* md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
        EVP_MD_CTX* ctx = EVP_MD_CTX_new();
        ~Ctx() {
            EVP_MD_CTX_free(ctx);
            EVP_MD_free(md);
        }
    };
    thread_local Ctx c;
    std::array<unsigned char, SHA256_DIGEST_LENGTH> out{};
    unsigned int len = 0;
    if (!c.md || !c.ctx || EVP_DigestInit_ex(c.ctx, c.md, nullptr) != 1 ||
        EVP_DigestUpdate(c.ctx, data.data(), data.size()) != 1 ||
        EVP_DigestFinal_ex(c.ctx, out.data(), &len) != 1) {
        SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), out.data());
    }
    return out;
}

}  // namespace

std::string new_call_id() {
    thread_local std::mt19937_64 rng{std::random_device{}()};
    std::uint64_t hi = rng();
    std::uint64_t lo = rng();
    hi = (hi & 0xffffffffffff0fffULL) | 0x0000000000004000ULL;  // version 4
    lo = (lo & 0x3fffffffffffffffULL) | 0x8000000000000000ULL;  // variant 10
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s(36, '-');
    int pos = 0;
    auto put = [&](std::uint64_t v, int nibbles) {
        for (int n = nibbles - 1; n >= 0; --n) {
            if (pos == 8 || pos == 13 || pos == 18 || pos == 23) {
                ++pos;
            }
            s[pos++] = kHex[(v >> (n * 4)) & 0xf];
        }
    };
    put(hi, 16);
    put(lo, 16);
    return s;
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

std::string sha256_hex(std::string_view data) {
    auto d = digest(data);
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    s.reserve(d.size() * 2);
    for (unsigned char b : d) {
        s.push_back(kHex[b >> 4]);
        s.push_back(kHex[b & 0xf]);
    }
    return s;
}

std::string sha256_raw(std::string_view data) {
    auto d = digest(data);
    return std::string(reinterpret_cast<const char*>(d.data()), d.size());
}

bool secure_equals_digest(std::string_view candidate, std::string_view expected_digest) {
    auto d = digest(candidate);
    return expected_digest.size() == d.size() &&
           CRYPTO_memcmp(d.data(), expected_digest.data(), d.size()) == 0;
}

bool secure_equals(std::string_view a, std::string_view b) {
    auto da = digest(a);
    auto db = digest(b);
    return CRYPTO_memcmp(da.data(), db.data(), da.size()) == 0;
}

}  // namespace sy
