// Golden-file tests for providers/anthropic (tests/golden/anthropic/<case>/, see its README.md).
//
//   providers_anthropic_unit_tests                   compare every case
//   providers_anthropic_unit_tests --update-golden   rewrite expected files from current output
//
// This file also holds the binary's main() (it has to see --update-golden before gtest does).

#include <gtest/gtest.h>

#include <map>

#include "golden_support.hpp"

namespace sy::providers::anthropic::golden {
namespace {

using Golden = ::sy::test::golden::GoldenTest<Kind>;

TEST_P(Golden, MatchesExpected) {
    const Case& c = GetParam();
    ::sy::test::golden::check_case(c.dir, is_stream(c.kind), run_case(c));
}

INSTANTIATE_TEST_SUITE_P(Anthropic,
                         Golden,
                         ::testing::ValuesIn(discover()),
                         ::sy::test::golden::CaseName{});

TEST(GoldenCoverage, AtLeastFifteenCasesPerDirection) {
    std::map<Kind, int> counts;
    for (const auto& c : discover()) {
        ++counts[c.kind];
    }
    for (Kind k : {Kind::kRequest,
                   Kind::kResponse,
                   Kind::kStream,
                   Kind::kMsgRequest,
                   Kind::kMsgResponse,
                   Kind::kMsgStream}) {
        EXPECT_GE(counts[k], 15) << kind_name(k);
    }
    EXPECT_GE(counts[Kind::kError], 8) << kind_name(Kind::kError);
}

TEST(GoldenSupport, PlaceholdersAndSemanticCompare) {
    json::value e = json::parse(R"({"a":"$int","b":"$prefix:msg_","c":[1,2.5],"d":{"x":1,"y":2}})");
    json::value a = json::parse(R"({"d":{"y":2,"x":1},"c":[1,2.5],"b":"msg_01","a":17})");
    EXPECT_EQ(compare(e, a), "");
    json::value bad = json::parse(R"({"d":{"y":2,"x":1},"c":[1,2.5],"b":"chatcmpl-1","a":17})");
    EXPECT_NE(compare(e, bad), "");
    json::value extra = json::parse(R"({"d":{"y":2,"x":1,"z":0},"c":[1,2.5],"b":"msg_","a":1})");
    EXPECT_NE(compare(e, extra), "");
}

}  // namespace
}  // namespace sy::providers::anthropic::golden

int main(int argc, char** argv) { return sy::test::golden::run_tests(argc, argv); }
