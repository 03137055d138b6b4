// Gemini streamGenerateContent?alt=sse events -> OpenAI chat.completion.chunk (providers.md §4.2,
// api.md §3.1).

#include <boost/json.hpp>

#include "sy/core/ids.hpp"
#include "sy/providers/gemini/detail/json_util.hpp"
#include "sy/providers/gemini/translate.hpp"

namespace sy::providers::gemini {
namespace {

namespace json = boost::json;
using detail::append_int;
using detail::append_quoted;
using detail::find;
using detail::find_object;
using detail::find_string;

// A malicious or broken upstream must not make us keep unbounded per-stream state.
constexpr std::int64_t kMaxCandidates = 64;
constexpr int kMaxToolCalls = 4096;

std::string_view trim(std::string_view s) {
    while (!s.empty() &&
           (s.front() == ' ' || s.front() == '\t' || s.front() == '\r' || s.front() == '\n')) {
        s.remove_prefix(1);
    }
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
        s.remove_suffix(1);
    }
    return s;
}

std::string field_delta(std::string_view key, std::string_view text) {
    std::string d = "{";
    append_quoted(d, key);
    d += ':';
    append_quoted(d, text);
    d += '}';
    return d;
}

}  // namespace

StreamToOpenAI::StreamToOpenAI(std::string client_model, bool include_usage, std::int64_t created)
    : model_(detail::sanitize_utf8(client_model)),
      include_usage_(include_usage),
      created_(created != 0 ? created : detail::unix_now()) {}

void StreamToOpenAI::start(std::string_view response_id) {
    id_ = response_id.empty() ? "chatcmpl-" + new_call_id() : std::string(response_id);
    prefix_ = R"({"id":)";
    append_quoted(prefix_, id_);
    prefix_ += R"(,"object":"chat.completion.chunk","created":)";
    append_int(prefix_, created_);
    prefix_ += R"(,"model":)";
    append_quoted(prefix_, model_);
    prefix_ += R"(,"system_fingerprint":null,"choices":[{"index":)";
    started_ = true;
}

std::string StreamToOpenAI::chunk(const Choice& c,
                                  std::string_view delta_json,
                                  std::string_view finish_reason) {
    std::string out;
    out.reserve(prefix_.size() + delta_json.size() + 96);
    out += prefix_;
    append_int(out, c.index);
    out += R"(,"delta":)";
    if (!c.role_sent) {
        // The first chunk of a choice names the role (api.md §3.1).
        out += R"({"role":"assistant")";
        if (delta_json.size() > 2) {
            out += ',';
            out.append(delta_json.substr(1));
        } else {
            out += '}';
        }
    } else {
        out += delta_json;
    }
    common::append_chunk_tail(out, finish_reason, include_usage_);
    return out;
}

std::string StreamToOpenAI::usage_chunk() const {
    std::string c = R"({"id":)";
    append_quoted(c, id_);
    c += R"(,"object":"chat.completion.chunk","created":)";
    append_int(c, created_);
    c += R"(,"model":)";
    append_quoted(c, model_);
    c += R"(,"choices":[],"usage":)";
    c += json::serialize(detail::usage_object(usage_));
    c += '}';
    return c;
}

StreamToOpenAI::Choice* StreamToOpenAI::choice_for(std::int64_t index) {
    for (auto& c : choices_) {
        if (c.index == index) {
            return &c;
        }
    }
    if (index < 0 || index >= kMaxCandidates) {
        return nullptr;
    }
    choices_.push_back(Choice{index});
    return &choices_.back();
}

Result<std::vector<std::string>> StreamToOpenAI::on_event(std::string_view data_json) {
    if (failed_) {
        return error_;
    }
    Result<std::vector<std::string>> r = std::vector<std::string>{};
    try {
        r = handle(data_json);
    } catch (const std::exception& e) {
        r = detail::protocol_error(std::string("cannot translate stream event: ") + e.what());
    } catch (...) {
        r = detail::protocol_error("cannot translate stream event");
    }
    if (!r) {
        failed_ = true;
        error_ = r.error();
    }
    return r;
}

Result<std::vector<std::string>> StreamToOpenAI::handle(std::string_view data_json) {
    std::string_view data = trim(data_json);
    std::vector<std::string> out;
    if (data == "[DONE]") {
        return out;  // not sent by Gemini; tolerated from OpenAI-minded proxies and mocks
    }
    unsigned char buf[4096];
    json::monotonic_resource mr(buf, sizeof buf);
    json::value root;
    std::string why;
    if (!detail::parse_json(data, root, why, &mr)) {
        return detail::protocol_error("malformed stream event: " + why);
    }
    if (const json::object* err = detail::error_object(root)) {
        return detail::map_error_object(0, *err);
    }
    if (const json::object* resp = root.if_object()) {
        if (Status st = on_response(*resp, out); !st) {
            return std::move(st).error();
        }
    } else if (const json::array* list = root.if_array()) {
        // The non-SSE stream format (a JSON array of responses) delivered in one piece.
        for (const auto& v : *list) {
            const json::object* resp = v.if_object();
            if (resp == nullptr) {
                return detail::protocol_error("stream event is not a GenerateContentResponse");
            }
            if (Status st = on_response(*resp, out); !st) {
                return std::move(st).error();
            }
        }
    } else {
        return detail::protocol_error("stream event is not a JSON object");
    }
    return out;
}

Status StreamToOpenAI::on_response(const json::object& resp, std::vector<std::string>& out) {
    const json::value* cv = find(resp, "candidates");
    const json::array* candidates = cv != nullptr ? cv->if_array() : nullptr;
    if (cv != nullptr && !cv->is_null() && candidates == nullptr) {
        return detail::protocol_error("stream event candidates is not a list");
    }
    const json::object* um = find_object(resp, "usageMetadata");
    if (candidates == nullptr || candidates->empty()) {
        const json::object* fb = find_object(resp, "promptFeedback");
        if (fb != nullptr && !find_string(*fb, "blockReason").empty()) {
            return detail::blocked_prompt_error(*fb);
        }
        if (um == nullptr) {
            // Neither content, usage nor a block: not a GenerateContentResponse at all.
            return detail::protocol_error("stream event has no candidates or usageMetadata");
        }
    }
    if (!started_) {
        start(find_string(resp, "responseId"));
    }
    if (um != nullptr) {
        usage_ = detail::read_usage(*um);  // cumulative: the last one wins
    }
    if (candidates != nullptr) {
        for (std::size_t i = 0; i < candidates->size(); ++i) {
            const json::object* cand = (*candidates)[i].if_object();
            if (cand == nullptr) {
                return detail::protocol_error("stream candidate is not an object");
            }
            if (Status st = on_candidate(*cand, static_cast<std::int64_t>(i), out); !st) {
                return st;
            }
        }
    }
    bool all = !choices_.empty();
    for (const auto& c : choices_) {
        all = all && c.finished;
    }
    finished_ = all;
    return ok_status();
}

Status StreamToOpenAI::on_candidate(const json::object& cand,
                                    std::int64_t position,
                                    std::vector<std::string>& out) {
    auto idx = detail::as_integer(find(cand, "index"));
    Choice* c = choice_for(idx ? *idx : position);
    if (c == nullptr) {
        return detail::protocol_error("stream candidate index out of range");
    }
    if (c->finished) {
        return ok_status();  // nothing may follow a choice's finish chunk
    }
    // Adjacent text (or thought) parts of one event become one delta.
    enum class Run : std::uint8_t { kNone, kText, kThought };
    Run run = Run::kNone;
    std::string pending;
    auto flush = [&] {
        if (run != Run::kNone && !pending.empty()) {
            out.push_back(chunk(
                *c, field_delta(run == Run::kText ? "content" : "reasoning_content", pending)));
            c->role_sent = true;
        }
        pending.clear();
        run = Run::kNone;
    };
    const json::object* content = find_object(cand, "content");
    const json::value* pv = content != nullptr ? find(*content, "parts") : nullptr;
    if (pv != nullptr && !pv->is_null()) {
        const json::array* parts = pv->if_array();
        if (parts == nullptr) {
            return detail::protocol_error("stream candidate content.parts is not a list");
        }
        for (const auto& p : *parts) {
            const json::object* part = p.if_object();
            if (part == nullptr) {
                return detail::protocol_error("stream candidate part is not an object");
            }
            if (const json::object* fc = find_object(*part, "functionCall")) {
                flush();
                std::string_view name = find_string(*fc, "name");
                if (name.empty()) {
                    return detail::protocol_error("functionCall part without a name");
                }
                if (total_tools_ >= kMaxToolCalls) {
                    return detail::protocol_error("too many function calls in one stream");
                }
                ++total_tools_;
                const json::value* args = find(*fc, "args");
                std::string d = R"({"tool_calls":[{"index":)";
                append_int(d, c->tool_count++);
                d += R"(,"id":)";
                append_quoted(d, detail::new_tool_call_id());
                d += R"(,"type":"function","function":{"name":)";
                append_quoted(d, name);
                d += R"(,"arguments":)";
                append_quoted(d,
                              args != nullptr && !args->is_null() ? json::serialize(*args)
                                                                  : std::string("{}"));
                d += '}';
                std::string_view sig = find_string(*part, "thoughtSignature");
                if (!sig.empty()) {
                    d += R"(,"provider_specific_fields":{"thought_signature":)";
                    append_quoted(d, sig);
                    d += '}';
                }
                d += "}]}";
                out.push_back(chunk(*c, d));
                c->role_sent = true;
                continue;
            }
            const json::value* t = find(*part, "text");
            if (t == nullptr || !t->is_string() || t->get_string().empty()) {
                continue;  // inlineData, executableCode, signature-only parts, ...
            }
            const json::value* thought = find(*part, "thought");
            Run kind = thought != nullptr && thought->is_bool() && thought->get_bool()
                           ? Run::kThought
                           : Run::kText;
            if (kind != run) {
                flush();
                run = kind;
            }
            pending.append(t->get_string().data(), t->get_string().size());
        }
    }
    flush();
    std::string_view reason = find_string(cand, "finishReason");
    if (!reason.empty()) {
        out.push_back(chunk(*c, "{}", detail::finish_reason_for(reason, c->tool_count > 0)));
        c->role_sent = true;
        c->finished = true;
    }
    return ok_status();
}

std::vector<std::string> StreamToOpenAI::finish() {
    std::vector<std::string> out;
    try {
        if (include_usage_ && finished_ && !failed_ && !usage_sent_) {
            usage_sent_ = true;
            out.push_back(usage_chunk());
        }
    } catch (...) {
        out.clear();  // allocation failure: nothing sensible to emit
    }
    return out;
}

}  // namespace sy::providers::gemini
