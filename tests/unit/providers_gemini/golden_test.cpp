// Golden-file tests for providers/gemini (tests/golden/gemini/<case>/, see its README.md).
//
//   providers_gemini_unit_tests                   compare every case
//   providers_gemini_unit_tests --update-golden   rewrite expected files from current output
//
// This file also holds the binary's main() (it has to see --update-golden before gtest does).

#include <gtest/gtest.h>

#include <map>

#include "golden_support.hpp"

namespace sy::providers::gemini::golden {
namespace {

using Golden = ::sy::test::golden::GoldenTest<Kind>;

TEST_P(Golden, MatchesExpected) {
    const Case& c = GetParam();
    ::sy::test::golden::check_case(
        c.dir, is_stream(c.kind), run_case(c), ::sy::test::golden::generated_id_placeholder);
}

INSTANTIATE_TEST_SUITE_P(Gemini,
                         Golden,
                         ::testing::ValuesIn(discover()),
                         ::sy::test::golden::CaseName{});

TEST(GoldenCoverage, AtLeastFifteenCasesPerDirection) {
    std::map<Kind, int> counts;
    for (const auto& c : discover()) {
        ++counts[c.kind];
    }
    for (Kind k : {Kind::kRequest, Kind::kResponse, Kind::kStream, Kind::kError}) {
        EXPECT_GE(counts[k], 15) << kind_name(k);
    }
}

TEST(GoldenSupport, PlaceholdersAndSemanticCompare) {
    json::value e =
        json::parse(R"({"a":"$int","b":"$prefix:call_","c":[1,2.5],"d":{"x":1,"y":2}})");
    json::value a = json::parse(R"({"d":{"y":2,"x":1},"c":[1,2.5],"b":"call_01","a":17})");
    EXPECT_EQ(compare(e, a), "");
    json::value bad = json::parse(R"({"d":{"y":2,"x":1},"c":[1,2.5],"b":"chatcmpl-1","a":17})");
    EXPECT_NE(compare(e, bad), "");
    json::value extra = json::parse(R"({"d":{"y":2,"x":1,"z":0},"c":[1,2.5],"b":"call_","a":1})");
    EXPECT_NE(compare(e, extra), "");
}

}  // namespace
}  // namespace sy::providers::gemini::golden

int main(int argc, char** argv) { return sy::test::golden::run_tests(argc, argv); }
