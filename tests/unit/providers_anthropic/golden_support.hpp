#pragma once
// Golden-file cases of the Anthropic translation tests (tests/golden/anthropic/): case kinds,
// discovery and running one case. The shared machinery (comparison with placeholders, pretty
// printing, --update-golden) is tests/support/golden_support.hpp.

#include <boost/json.hpp>
#include <filesystem>
#include <vector>

#include "support/golden_support.hpp"

namespace sy::providers::anthropic::golden {

namespace json = boost::json;

using ::sy::test::golden::compare;
using ::sy::test::golden::g_update_golden;
using ::sy::test::golden::pretty;
using ::sy::test::golden::read_file;

// Case kinds, by directory-name prefix.
enum class Kind { kRequest, kResponse, kStream, kMsgRequest, kMsgResponse, kMsgStream, kError };

using Case = ::sy::test::golden::BasicCase<Kind>;

std::filesystem::path golden_dir();
std::vector<Case> discover();
const char* kind_name(Kind k);
// Stream kinds compare expected.jsonl (one JSON value a line) instead of expected.json.
bool is_stream(Kind k);

// Runs the case and returns its actual output as JSON: one value for request/response/error
// kinds, an array of lines for stream kinds.
json::value run_case(const Case& c);

}  // namespace sy::providers::anthropic::golden
