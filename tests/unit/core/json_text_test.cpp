// Response JSON numbers as LiteLLM (Python's json) writes them, not Boost.JSON's 2.5E-1.
#include "sy/core/json_text.hpp"

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <limits>

namespace sy {
namespace {

namespace json = boost::json;

TEST(JsonText, DoublesAreWrittenLikePython) {
    json::object o{{"zero", 0.0},   {"quarter", 0.25},  {"three", 3.0},     {"tiny", 1e-7},
                   {"big", 1.5e20}, {"neg", -2.5},      {"int", 7},         {"u", 18446744073709551615ULL},
                   {"nan", std::numeric_limits<double>::quiet_NaN()}};
    EXPECT_EQ(json_text(o),
              R"({"zero":0.0,"quarter":0.25,"three":3.0,"tiny":1e-07,"big":1.5e+20,"neg":-2.5,)"
              R"("int":7,"u":18446744073709551615,"nan":null})");
}

TEST(JsonText, StructureAndStringsRoundTrip) {
    json::value v = json::parse(
        R"({"a":[1,true,null,"x\"y\\z\n",{"b":[]}],"c":{},"d":"\u0001é","e":1.0000000000000002})");
    std::string text = json_text(v);
    EXPECT_EQ(json::parse(text), v);  // same value back, every type and escape
    EXPECT_EQ(text.find('E'), std::string::npos);
}

}  // namespace
}  // namespace sy
