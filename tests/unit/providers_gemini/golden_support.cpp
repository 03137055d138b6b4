#include "golden_support.hpp"

#include <optional>

#include "sy/providers/gemini/translate.hpp"

namespace sy::providers::gemini::golden {

namespace fs = std::filesystem;
using ::sy::test::golden::error_json;
using ::sy::test::golden::KindPrefix;
using ::sy::test::golden::opt_string;
using ::sy::test::golden::output_json;
using ::sy::test::golden::parse_or_throw;
using ::sy::test::golden::parse_sse;
using ::sy::test::golden::SseEvent;

fs::path golden_dir() { return fs::path(SY_GOLDEN_DIR); }

namespace {

constexpr KindPrefix<Kind> kPrefixes[] = {
    {"req_", Kind::kRequest},
    {"resp_", Kind::kResponse},
    {"stream_", Kind::kStream},
    {"err_", Kind::kError},
};

// Gemini has no `event:` lines: only the data of each event is fed.
json::value run_stream(const Case& c, const json::object& opts) {
    StreamToOpenAI t(opt_string(opts, "client_model", "gemini-flash"),
                     !opts.contains("include_usage") || opts.at("include_usage").as_bool());
    return ::sy::test::golden::run_stream(
        t, parse_sse(read_file(c.dir / "events.sse")), [](StreamToOpenAI& s, const SseEvent& ev) {
            return s.on_event(ev.data);
        });
}

RequestOptions request_options(const json::object& o) {
    return ::sy::test::golden::basic_request_options<RequestOptions>(o, "gemini-2.5-flash");
}

}  // namespace

bool is_stream(Kind k) { return k == Kind::kStream; }

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::kRequest:
            return "request (OpenAI -> Gemini)";
        case Kind::kResponse:
            return "response (Gemini -> OpenAI)";
        case Kind::kStream:
            return "stream (Gemini SSE -> OpenAI chunks)";
        case Kind::kError:
            return "errors";
    }
    return "?";
}

std::vector<Case> discover() { return ::sy::test::golden::discover(golden_dir(), kPrefixes); }

json::value run_case(const Case& c) {
    json::object opts = ::sy::test::golden::options_of(c.dir);
    switch (c.kind) {
        case Kind::kRequest: {
            fs::path p = c.dir / "input.json";
            json::value in = parse_or_throw(read_file(p), p);
            auto r = openai_to_gemini_request(in.as_object(), request_options(opts));
            return r ? output_json(*r) : error_json(r.error());
        }
        case Kind::kResponse: {
            auto r = gemini_to_openai_response(read_file(c.dir / "input.json"),
                                               opt_string(opts, "client_model", "gemini-flash"));
            return r ? output_json(*r) : error_json(r.error());
        }
        case Kind::kStream:
            return run_stream(c, opts);
        case Kind::kError: {
            auto [status, body] = ::sy::test::golden::read_error_input(c.dir);
            json::value out = error_json(map_gemini_error(status, body));
            std::optional<double> delay = retry_delay_seconds(body);
            out.as_object()["retry_delay_seconds"] =
                delay ? json::value(*delay) : json::value(nullptr);
            return out;
        }
    }
    return nullptr;
}

}  // namespace sy::providers::gemini::golden
