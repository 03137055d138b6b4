#pragma once
// Golden-file machinery shared by the provider translation tests (tests/unit/providers_*): case
// discovery, fixture reading, semantic JSON comparison with placeholders, pretty printing and the
// --update-golden rewrite. Each provider keeps its case kinds and runners in its own
// golden_support.{hpp,cpp}.
//
// Placeholders in expected files (strings): "$int" matches any integer, "$string" any string,
// "$prefix:<p>" any string starting with <p>. When expected files are rewritten, a placeholder
// is kept wherever the new output still matches it, and `created` always becomes "$int".

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cstddef>
#include <filesystem>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "sy/core/error.hpp"

namespace sy::test::golden {

namespace json = boost::json;

// Set by run_tests() when the binary is started with --update-golden.
extern bool g_update_golden;

// Strips --update-golden from the arguments, then runs gtest. Call it from the binary's main()
// (it has to see --update-golden before gtest does).
int run_tests(int argc, char** argv);

// ---------------------------------------------------------------------------------------------
// Cases
// ---------------------------------------------------------------------------------------------

// One case directory; `Kind` is the provider's enum of case kinds.
template <class Kind>
struct BasicCase {
    std::string name;
    Kind kind;
    std::filesystem::path dir;
};

template <class Kind>
void PrintTo(const BasicCase<Kind>& c, std::ostream* os) {
    *os << c.name;
}

// The fixture of a provider's parameterised golden test.
template <class Kind>
class GoldenTest : public ::testing::TestWithParam<BasicCase<Kind>> {};

// gtest parameter-name generator: the case's directory name.
struct CaseName {
    template <class Kind>
    std::string operator()(const ::testing::TestParamInfo<BasicCase<Kind>>& info) const {
        return info.param.name;
    }
};

// Case kinds by directory-name prefix.
template <class Kind>
struct KindPrefix {
    std::string_view prefix;
    Kind kind;
};

// The subdirectories of `root` as (name, path), sorted by name. A missing root gives none.
std::vector<std::pair<std::string, std::filesystem::path>> case_dirs(
    const std::filesystem::path& root);

// The cases under `root`: directories whose name starts with one of `prefixes` (the first match
// wins), sorted by name.
template <class Kind, std::size_t N>
std::vector<BasicCase<Kind>> discover(const std::filesystem::path& root,
                                      const KindPrefix<Kind> (&prefixes)[N]) {
    std::vector<BasicCase<Kind>> out;
    for (auto& [name, dir] : case_dirs(root)) {
        for (const auto& p : prefixes) {
            if (name.rfind(p.prefix, 0) == 0) {
                out.push_back(BasicCase<Kind>{name, p.kind, dir});
                break;
            }
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------
// Fixtures and outputs
// ---------------------------------------------------------------------------------------------

std::string read_file(const std::filesystem::path& p);
// Parses fixture JSON (depth up to 256); throws naming `where` when it is not valid.
json::value parse_or_throw(const std::string& text, const std::filesystem::path& where);
// `<dir>/options.json`, or an empty object when there is none.
json::object options_of(const std::filesystem::path& dir);
// The string option `key`, or `dflt`.
std::string opt_string(const json::object& o, std::string_view key, std::string_view dflt);

// {"error":{"code","status","type","message"}} for an Error.
json::value error_json(const Error& e);
// A JSON text produced by the translator: parsed, or {"$invalid_json_output": text} so the
// comparison fails loudly.
json::value output_json(const std::string& text);

// The request options every provider's RequestOptions has, from a case's options.json:
// upstream_model (default `default_model`), drop_params, additional_drop_params.
template <class Options>
Options basic_request_options(const json::object& o, std::string_view default_model) {
    Options r;
    r.upstream_model = opt_string(o, "upstream_model", default_model);
    if (const json::value* v = o.if_contains("drop_params")) {
        r.drop_params = v->as_bool();
    }
    if (const json::value* v = o.if_contains("additional_drop_params")) {
        for (const auto& s : v->as_array()) {
            r.additional_drop_params.emplace_back(s.as_string());
        }
    }
    return r;
}

// The status and body of an error case's input.json ({"status":N,"body":<string or JSON>}).
struct ErrorInput {
    int status = 0;
    std::string body;
};
ErrorInput read_error_input(const std::filesystem::path& dir);

struct SseEvent {
    std::string type;  // the `event:` line, if any
    std::string data;
};
// Minimal SSE framing for fixtures: events end at a blank line; a final event without the blank
// line is still delivered (that is how truncated transcripts are expressed).
std::vector<SseEvent> parse_sse(const std::string& text);

// Runs a stream translator over `events`: `feed(t, event)` returns a Result of chunk texts. The
// output lines are the chunks (or the first error, which stops the stream), then t.finish()'s
// chunks unless it failed, then {"finished": t.finished()}.
template <class Translator, class Feed>
json::value run_stream(Translator& t, const std::vector<SseEvent>& events, Feed feed) {
    json::array lines;
    bool failed = false;
    for (const auto& ev : events) {
        auto r = feed(t, ev);
        if (!r) {
            lines.push_back(error_json(r.error()));
            failed = true;
            break;
        }
        for (const auto& chunk : *r) {
            lines.push_back(output_json(chunk));
        }
    }
    if (!failed) {
        for (const auto& chunk : t.finish()) {
            lines.push_back(output_json(chunk));
        }
    }
    lines.push_back(json::object{{"finished", t.finished()}});
    return lines;
}

// ---------------------------------------------------------------------------------------------
// Expected files
// ---------------------------------------------------------------------------------------------

// For --update-golden: the placeholder a generated value always becomes, or nullptr.
using IdPlaceholder = const char* (*)(const json::value& v);

// `call_<24 hex>` -> "$prefix:call_", `chatcmpl-<uuid>` -> "$prefix:chatcmpl-".
const char* generated_id_placeholder(const json::value& v);

// The expected output of the case in `dir`: expected.json, or for streams expected.jsonl as an
// array of lines. Missing file -> null.
json::value load_expected(const std::filesystem::path& dir, bool stream);
// Rewrites the expected file from `actual`, keeping the placeholders of `old_expected` that still
// match (see above); `ids`, if given, turns generated ids into placeholders.
void write_expected(const std::filesystem::path& dir,
                    bool stream,
                    const json::value& actual,
                    const json::value& old_expected,
                    IdPlaceholder ids = nullptr);

// Semantic comparison: object key order ignored, numbers compared by value, placeholders
// honoured. Returns an empty string when equal, else a description of the first difference.
std::string compare(const json::value& expected,
                    const json::value& actual,
                    const std::string& path = "$");

std::string pretty(const json::value& v);

// The body of a golden test: compares `actual` with the expected file in `dir` (gtest
// assertions), or rewrites that file under --update-golden.
void check_case(const std::filesystem::path& dir,
                bool stream,
                const json::value& actual,
                IdPlaceholder ids = nullptr);

}  // namespace sy::test::golden
