#include "sy/core/json_scan.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <string>
#include <vector>

#include "sy/core/ids.hpp"

namespace sy {
namespace {

TEST(JsonScan, FindsTopLevelKeyNotNested) {
    std::string t = R"({"a":{"model":"inner"},"model":"outer","b":[1,{"model":2}]})";
    auto s = json_scan::find_top_level(t, "model");
    ASSERT_TRUE(s);
    EXPECT_EQ(t.substr(s->offset, s->length), "\"outer\"");
}

TEST(JsonScan, ReplacePreservesEveryOtherByte) {
    std::string t = "{ \"id\" : \"x\",\n \"model\":  \"gpt-4o-2024\" , \"v\": 1.0E0 }";
    EXPECT_EQ(json_scan::replace_top_level_string(t, "model", "gpt-4o"),
              "{ \"id\" : \"x\",\n \"model\":  \"gpt-4o\" , \"v\": 1.0E0 }");
}

TEST(JsonScan, EscapesReplacement) {
    EXPECT_EQ(json_scan::replace_top_level_string(R"({"model":"a"})", "model", "q\"\\\n"),
              R"({"model":"q\"\\\n"})");
}

TEST(JsonScan, StringsWithBracesAndEscapedQuotes) {
    std::string t = R"({"x":"}{\"model\":1","model":"m"})";
    auto s = json_scan::find_top_level(t, "model");
    ASSERT_TRUE(s);
    EXPECT_EQ(t.substr(s->offset, s->length), "\"m\"");
}

TEST(JsonScan, AbsentOrMalformedReturnsNothingAndLeavesTextUnchanged) {
    EXPECT_FALSE(json_scan::find_top_level(R"({"a":1})", "model"));
    EXPECT_FALSE(json_scan::find_top_level("[1,2]", "model"));
    EXPECT_FALSE(json_scan::find_top_level(R"({"a":"unterminated)", "model"));
    EXPECT_FALSE(json_scan::find_top_level("", "model"));
    EXPECT_EQ(json_scan::replace_top_level_string("not json", "model", "x"), "not json");
}

// The scanners read sixteen and eight bytes at a time between quotes, brackets, backslashes
// and control bytes: put each of those at every offset around the block boundaries.
TEST(JsonScan, SpecialBytesAtEveryOffset) {
    for (std::size_t at = 0; at < 40; ++at) {
        for (std::string special : {std::string("\\\""), std::string("\\\\"), std::string("\\n"),
                                    std::string("{"), std::string("]"), std::string("[}")}) {
            std::string value = std::string(at, 'a') + special + std::string(30 - at % 7, 'b');
            std::string t = "{\"pad\":\"" + value + "\",\"model\":\"m\",\"x\":{\"k\":\"" + value +
                            "\"}}";
            auto s = json_scan::find_top_level(t, "model");
            ASSERT_TRUE(s) << t;
            EXPECT_EQ(t.substr(s->offset, s->length), "\"m\"") << t;
            auto x = json_scan::find_top_level(t, "x");
            ASSERT_TRUE(x) << t;
            EXPECT_EQ(t.substr(x->offset, x->length), "{\"k\":\"" + value + "\"}") << t;
        }
        // Brackets outside strings at every offset: nested containers end where they end.
        std::string nested = "{\"a\":[" + std::string(at, ' ') + "{\"b\":[1,2,{}]}" +
                             std::string(at % 5, ' ') + "],\"model\":\"m\"}";
        auto a = json_scan::find_top_level(nested, "a");
        ASSERT_TRUE(a) << nested;
        EXPECT_EQ(nested.substr(a->offset, a->length),
                  "[" + std::string(at, ' ') + "{\"b\":[1,2,{}]}" + std::string(at % 5, ' ') + "]");
        // An unterminated string ending at each offset is malformed, not over-read.
        std::string open = "{\"a\":\"" + std::string(at, 'a');
        EXPECT_FALSE(json_scan::find_top_level(open, "a"));
        EXPECT_FALSE(json_scan::find_top_level(open + "\\", "a"));
    }
}

TEST(JsonScan, AppendJsonStringEscapesAtEveryOffset) {
    auto reference = [](std::string_view v) {
        std::string out = "\"";
        for (char c : v) {
            auto u = static_cast<unsigned char>(c);
            if (c == '"') {
                out += "\\\"";
            } else if (c == '\\') {
                out += "\\\\";
            } else if (c == '\n') {
                out += "\\n";
            } else if (c == '\r') {
                out += "\\r";
            } else if (c == '\t') {
                out += "\\t";
            } else if (u < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", u);
                out += buf;
            } else {
                out += c;
            }
        }
        return out + "\"";
    };
    for (std::size_t at = 0; at < 40; ++at) {
        for (char special : {'"', '\\', '\n', '\x01', '\x1f', '\t', '\x7f'}) {
            std::string v = std::string(at, 'x') + special + "tail-\xc3\xa9-" + std::string(at, 'y');
            std::string got;
            json_scan::append_json_string(got, v);
            EXPECT_EQ(got, reference(v)) << at << " " << static_cast<int>(special);
        }
    }
}

TEST(JsonScan, DeepNestingIsBounded) {
    std::string t = "{\"a\":" + std::string(5000, '[') + std::string(5000, ']') + ",\"model\":1}";
    EXPECT_FALSE(json_scan::find_top_level(t, "model"));
}

TEST(Ids, CallIdIsUuid4) {
    auto id = new_call_id();
    ASSERT_EQ(id.size(), 36u);
    EXPECT_EQ(id[14], '4');
    EXPECT_NE(id, new_call_id());
    EXPECT_TRUE(valid_call_id(id));
    EXPECT_FALSE(valid_call_id(""));
    EXPECT_FALSE(valid_call_id("has space"));
    EXPECT_FALSE(valid_call_id(std::string(129, 'a')));
}

TEST(Ids, RequestIdIsTimeOrderedUuid7) {
    auto a = new_uuid_v7();
    ASSERT_EQ(a.size(), 36u);
    EXPECT_EQ(a[14], '7');
    EXPECT_TRUE(a[19] == '8' || a[19] == '9' || a[19] == 'a' || a[19] == 'b');
    EXPECT_TRUE(valid_call_id(a));
    // The first 48 bits are the Unix milliseconds: ids of later calls never sort before.
    auto b = new_uuid_v7();
    EXPECT_LE(a.substr(0, 13), b.substr(0, 13));
    EXPECT_NE(a, b);
}

TEST(Ids, Sha256AndSecureEquals) {
    EXPECT_EQ(sha256_hex("abc"),
              "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    EXPECT_TRUE(secure_equals("sk-1234", "sk-1234"));
    EXPECT_FALSE(secure_equals("sk-1234", "sk-1235"));
    EXPECT_FALSE(secure_equals("sk-1234", "sk-12345"));
}

// The per-thread memo of presented secrets gives the plain digest for every key, remembered or
// not: more keys than slots, keys that differ only in length, in the last byte, an empty key and
// one longer than the remembered width.
TEST(Ids, SecretDigestMemoMatchesPlainDigest) {
    std::vector<std::string> keys = {"sk-1234", "sk-12345", "sk-1235", "sk-123", "", "sk-a",
                                     "sk-b", std::string(128, 'k'), std::string(129, 'k'),
                                     std::string("sk-\0x", 5)};
    for (int round = 0; round < 3; ++round) {
        for (const auto& k : keys) {
            EXPECT_EQ(secret_sha256_hex(k), sha256_hex(k)) << k.size();
            EXPECT_TRUE(secure_equals_digest(k, sha256_raw(k))) << k.size();
        }
    }
    EXPECT_FALSE(secure_equals_digest("sk-1234", sha256_raw("sk-12345")));
    EXPECT_FALSE(secure_equals_digest("sk-12345", sha256_raw("sk-1234")));
    EXPECT_FALSE(secure_equals_digest(std::string("sk-1234\0", 8), sha256_raw("sk-1234")));
}

}  // namespace
}  // namespace sy

namespace sy {
namespace {

TEST(JsonValidate, AcceptsValidRejectsMalformed) {
    EXPECT_TRUE(json_scan::is_valid(R"({"a":[1,2,{"b":null}],"c":"x\"y"})"));
    EXPECT_TRUE(json_scan::is_valid("3"));
    EXPECT_FALSE(json_scan::is_valid("{not json"));
    EXPECT_FALSE(json_scan::is_valid(R"({"a":1} trailing)"));
    EXPECT_FALSE(json_scan::is_valid(""));
    EXPECT_FALSE(json_scan::is_valid(std::string(100, '[') + std::string(100, ']')));
}

TEST(JsonScan, AsInt64AcceptsOnlyIntegersInRange) {
    EXPECT_EQ(json_scan::as_int64("12"), 12);
    EXPECT_EQ(json_scan::as_int64("-3"), -3);
    EXPECT_EQ(json_scan::as_int64("0"), 0);
    EXPECT_EQ(json_scan::as_int64("9223372036854775807"), INT64_MAX);
    EXPECT_FALSE(json_scan::as_int64("9223372036854775808"));
    EXPECT_FALSE(json_scan::as_int64("12.0"));
    EXPECT_FALSE(json_scan::as_int64("1e3"));
    EXPECT_FALSE(json_scan::as_int64("+1"));
    EXPECT_FALSE(json_scan::as_int64("\"12\""));
    EXPECT_FALSE(json_scan::as_int64(""));
    EXPECT_FALSE(json_scan::as_int64("null"));
}

}  // namespace
}  // namespace sy
