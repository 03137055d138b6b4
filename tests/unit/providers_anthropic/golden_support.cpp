#include "golden_support.hpp"

#include "sy/providers/anthropic/translate.hpp"

namespace sy::providers::anthropic::golden {

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

// Longest prefixes first ("mreq_" before "req_" would not matter, but keep it explicit).
constexpr KindPrefix<Kind> kPrefixes[] = {
    {"mreq_", Kind::kMsgRequest},
    {"mresp_", Kind::kMsgResponse},
    {"mstream_", Kind::kMsgStream},
    {"req_", Kind::kRequest},
    {"resp_", Kind::kResponse},
    {"stream_", Kind::kStream},
    {"err_", Kind::kError},
};

json::value run_stream(const Case& c, const json::object& opts) {
    StreamToOpenAI t(opt_string(opts, "client_model", "claude-quality"),
                     !opts.contains("include_usage") || opts.at("include_usage").as_bool());
    return ::sy::test::golden::run_stream(
        t, parse_sse(read_file(c.dir / "events.sse")), [](StreamToOpenAI& s, const SseEvent& ev) {
            return s.on_event(ev.type, ev.data);
        });
}

json::value run_msg_stream(const Case& c, const json::object& opts) {
    json::array lines;
    auto events = parse_sse(read_file(c.dir / "events.sse"));
    std::int64_t hint = 0;
    if (const json::value* h = opts.if_contains("input_tokens_hint")) {
        hint = h->as_int64();
    }
    OpenAIStreamToAnthropic t(opt_string(opts, "client_model", "claude-via-openai"), hint);
    auto push = [&](const std::vector<AnthropicEvent>& evs) {
        for (const auto& e : evs) {
            lines.push_back(
                json::object{{"event", e.event_type}, {"data", output_json(e.data_json)}});
        }
    };
    for (const auto& ev : events) {
        auto r = t.on_chunk(ev.data);
        if (!r) {
            lines.push_back(error_json(r.error()));
            auto ee =
                OpenAIStreamToAnthropic::error_event(r.error().http_status(), r.error().message);
            push({ee});
            break;
        }
        push(*r);
    }
    lines.push_back(json::object{{"finished", t.finished()}});
    return lines;
}

RequestOptions request_options(const json::object& o) {
    auto r = ::sy::test::golden::basic_request_options<RequestOptions>(o, "claude-sonnet-4-6");
    if (const json::value* v = o.if_contains("default_max_tokens")) {
        r.default_max_tokens = static_cast<int>(v->as_int64());
    }
    if (const json::value* v = o.if_contains("modify_params")) {
        r.modify_params = v->as_bool();
    }
    return r;
}

}  // namespace

bool is_stream(Kind k) { return k == Kind::kStream || k == Kind::kMsgStream; }

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::kRequest:
            return "request (OpenAI -> Anthropic)";
        case Kind::kResponse:
            return "response (Anthropic -> OpenAI)";
        case Kind::kStream:
            return "stream (Anthropic SSE -> OpenAI chunks)";
        case Kind::kMsgRequest:
            return "request (Anthropic -> OpenAI)";
        case Kind::kMsgResponse:
            return "response (OpenAI -> Anthropic)";
        case Kind::kMsgStream:
            return "stream (OpenAI chunks -> Anthropic SSE)";
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
            auto r = openai_to_anthropic_request(in.as_object(), request_options(opts));
            return r ? output_json(*r) : error_json(r.error());
        }
        case Kind::kResponse: {
            auto r =
                anthropic_to_openai_response(read_file(c.dir / "input.json"),
                                             opt_string(opts, "client_model", "claude-quality"));
            return r ? output_json(*r) : error_json(r.error());
        }
        case Kind::kStream:
            return run_stream(c, opts);
        case Kind::kMsgRequest: {
            fs::path p = c.dir / "input.json";
            json::value in = parse_or_throw(read_file(p), p);
            auto r = anthropic_to_openai_request(in.as_object(),
                                                 opt_string(opts, "upstream_model", "gpt-4o-mini"));
            return r ? output_json(*r) : error_json(r.error());
        }
        case Kind::kMsgResponse: {
            auto r =
                openai_to_anthropic_response(read_file(c.dir / "input.json"),
                                             opt_string(opts, "client_model", "claude-via-openai"));
            return r ? output_json(*r) : error_json(r.error());
        }
        case Kind::kMsgStream:
            return run_msg_stream(c, opts);
        case Kind::kError: {
            auto [status, body] = ::sy::test::golden::read_error_input(c.dir);
            Error e = map_anthropic_error(status, body);
            json::value out = error_json(e);
            out.as_object()["envelope"] =
                output_json(anthropic_error_envelope(e.http_status(), e.message));
            return out;
        }
    }
    return nullptr;
}

}  // namespace sy::providers::anthropic::golden
