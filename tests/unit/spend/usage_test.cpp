#include "sy/spend/usage.hpp"  // self-contained header check

#include <gtest/gtest.h>

#include <boost/json.hpp>

namespace sy::spend {
namespace {

TEST(Usage, OpenAIChatUsage) {
    auto u = usage_from_json(boost::json::parse(
        R"({"prompt_tokens":1200,"completion_tokens":300,"total_tokens":1500,
            "prompt_tokens_details":{"cached_tokens":1024,"audio_tokens":0},
            "completion_tokens_details":{"reasoning_tokens":128}})"));
    ASSERT_TRUE(u);
    EXPECT_EQ(u->prompt_tokens, 1200);
    EXPECT_EQ(u->completion_tokens, 300);
    EXPECT_EQ(u->cached_tokens, 1024);
    EXPECT_EQ(u->reasoning_tokens, 128);
    EXPECT_EQ(u->cache_creation_tokens, 0);
    EXPECT_EQ(u->total_tokens(), 1500);
}

TEST(Usage, FromWholeResponseOrFinalChunk) {
    auto u = usage_from_json_text(
        R"({"id":"x","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":7,"completion_tokens":3}})");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->prompt_tokens, 7);
    EXPECT_EQ(u->completion_tokens, 3);
    EXPECT_FALSE(usage_from_json_text(R"({"choices":[],"usage":null})"));
    EXPECT_FALSE(usage_from_json_text(R"({"choices":[]})"));
    EXPECT_FALSE(usage_from_json_text("not json"));
    EXPECT_FALSE(usage_from_json_text(""));
    EXPECT_FALSE(usage_from_json(boost::json::value(3)));
}

TEST(Usage, OpenAIUsageObjectReadWithoutATreeMatchesTheTreeReading) {
    // The usage object alone (what the request path passes), with details, null and a float.
    for (const char* text : {
             R"({"prompt_tokens":9,"completion_tokens":12,"total_tokens":21})",
             R"({"prompt_tokens":100,"completion_tokens":50,"prompt_tokens_details":{"cached_tokens":40},"completion_tokens_details":{"reasoning_tokens":20}})",
             R"({"prompt_tokens":100,"completion_tokens":null,"prompt_tokens_details":null})",
             R"({"prompt_tokens":100.0,"completion_tokens":5,"cache_read_input_tokens":7})",
             R"({"prompt_tokens":3,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":9}})",
             R"({"prompt_tokens":null,"completion_tokens":null,"input_tokens":7,"output_tokens":5})",
             R"({"prompt_tokens":null,"completion_tokens":4})",
         }) {
        SCOPED_TRACE(text);
        auto fast = usage_from_json_text(text);
        auto tree = usage_from_json(boost::json::parse(text));
        ASSERT_TRUE(fast);
        ASSERT_TRUE(tree);
        EXPECT_EQ(fast->prompt_tokens, tree->prompt_tokens);
        EXPECT_EQ(fast->completion_tokens, tree->completion_tokens);
        EXPECT_EQ(fast->cached_tokens, tree->cached_tokens);
        EXPECT_EQ(fast->cache_creation_tokens, tree->cache_creation_tokens);
        EXPECT_EQ(fast->reasoning_tokens, tree->reasoning_tokens);
    }
    auto u = usage_from_json_text(
        R"({"prompt_tokens":100,"completion_tokens":50,"prompt_tokens_details":{"cached_tokens":40},"completion_tokens_details":{"reasoning_tokens":20}})");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->cached_tokens, 40);
    EXPECT_EQ(u->reasoning_tokens, 20);
    EXPECT_FALSE(usage_from_json_text(R"({"prompt_tokens":5,)"));  // malformed: no usage
    EXPECT_FALSE(usage_from_json_text(R"({"prompt_tokens":null})"));  // as the tree reading
}

TEST(Usage, AnthropicRawUsage) {
    auto u = usage_from_json_text(
        R"({"type":"message_start","message":{"usage":{"input_tokens":10,"cache_creation_input_tokens":20,"cache_read_input_tokens":30,"output_tokens":1}}})");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->prompt_tokens, 60);
    EXPECT_EQ(u->cached_tokens, 30);
    EXPECT_EQ(u->cache_creation_tokens, 20);
    EXPECT_EQ(u->completion_tokens, 1);
}

TEST(Usage, OpenAIResponsesUsage) {
    auto u = usage_from_json_text(
        R"({"usage":{"input_tokens":100,"input_tokens_details":{"cached_tokens":40},"output_tokens":50,"output_tokens_details":{"reasoning_tokens":20},"total_tokens":150}})");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->prompt_tokens, 100);
    EXPECT_EQ(u->cached_tokens, 40);
    EXPECT_EQ(u->completion_tokens, 50);
    EXPECT_EQ(u->reasoning_tokens, 20);
}

TEST(Usage, GeminiUsageMetadata) {
    auto u = usage_from_json_text(
        R"({"candidates":[],"usageMetadata":{"promptTokenCount":100,"candidatesTokenCount":30,"thoughtsTokenCount":70,"cachedContentTokenCount":50,"totalTokenCount":200}})");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->prompt_tokens, 100);
    EXPECT_EQ(u->completion_tokens, 100);
    EXPECT_EQ(u->reasoning_tokens, 70);
    EXPECT_EQ(u->cached_tokens, 50);
}

TEST(Usage, HostileCountsAreClamped) {
    auto u = usage_from_json_text(
        R"({"prompt_tokens":-5,"completion_tokens":10,"prompt_tokens_details":{"cached_tokens":99},
            "completion_tokens_details":{"reasoning_tokens":50},"cache_creation_input_tokens":"x"})");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->prompt_tokens, 0);
    EXPECT_EQ(u->cached_tokens, 0);
    EXPECT_EQ(u->reasoning_tokens, 10);
    auto big = usage_from_json_text(R"({"prompt_tokens":100,"prompt_tokens_details":{"cached_tokens":80},"cache_creation_input_tokens":80})");
    ASSERT_TRUE(big);
    EXPECT_EQ(big->cached_tokens + big->cache_creation_tokens, 100);
}

}  // namespace
}  // namespace sy::spend
