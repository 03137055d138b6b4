#pragma once
// Golden-file helpers for the Gemini translation tests: case discovery, running one case,
// semantic JSON comparison with placeholders, and pretty printing for --update-golden.
//
// Placeholders in expected files (strings): "$int" matches any integer, "$string" any string,
// "$prefix:<p>" any string starting with <p>. When expected files are rewritten, a placeholder
// is kept wherever the new output still matches it, and `created` always becomes "$int".

#include <boost/json.hpp>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

namespace sy::providers::gemini::golden {

namespace json = boost::json;

// Case kinds, by directory-name prefix.
enum class Kind { kRequest, kResponse, kStream, kError };

struct Case {
    std::string name;
    Kind kind;
    std::filesystem::path dir;
};

inline void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

std::filesystem::path golden_dir();
std::vector<Case> discover();
const char* kind_name(Kind k);

// Runs the case and returns its actual output as JSON: one value for request/response/error
// kinds, an array of lines for stream kinds.
json::value run_case(const Case& c);

// The expected output (JSON value, or array of lines for stream kinds). Missing file -> null.
json::value load_expected(const Case& c);
void write_expected(const Case& c, const json::value& actual, const json::value& old_expected);

// Semantic comparison: object key order ignored, numbers compared by value, placeholders
// honoured. Returns an empty string when equal, else a description of the first difference.
std::string compare(const json::value& expected,
                    const json::value& actual,
                    const std::string& path = "$");

std::string pretty(const json::value& v);
std::string read_file(const std::filesystem::path& p);

extern bool g_update_golden;

}  // namespace sy::providers::gemini::golden
