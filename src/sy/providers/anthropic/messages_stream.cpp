// OpenAI chat.completion.chunk stream -> Anthropic SSE events (providers.md §2.4).

#include <boost/json.hpp>

#include "sy/core/ids.hpp"
#include "sy/providers/anthropic/detail/json_util.hpp"
#include "sy/providers/anthropic/translate.hpp"

namespace sy::providers::anthropic {
namespace {

namespace json = boost::json;
using detail::append_int;
using detail::append_quoted;
using detail::find;
using detail::find_array;
using detail::find_object;
using detail::find_string;

constexpr std::string_view kLabel = "OpenAIException";

// Bound on distinct tool calls per message (state per call is kept for late fragments).
constexpr std::size_t kMaxToolCalls = 1024;

std::string_view trim(std::string_view s) {
    while (!s.empty() &&
           (s.front() == ' ' || s.front() == '\n' || s.front() == '\r' || s.front() == '\t')) {
        s.remove_prefix(1);
    }
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\n' || s.back() == '\r' || s.back() == '\t')) {
        s.remove_suffix(1);
    }
    return s;
}

AnthropicEvent block_delta(std::int64_t index, std::string_view delta_json) {
    std::string d = R"({"type":"content_block_delta","index":)";
    append_int(d, index);
    d += R"(,"delta":)";
    d += delta_json;
    d += '}';
    return {"content_block_delta", std::move(d)};
}

std::string typed_text(std::string_view type, std::string_view key, std::string_view text) {
    std::string d = R"({"type":)";
    append_quoted(d, type);
    d += ',';
    append_quoted(d, key);
    d += ':';
    append_quoted(d, text);
    d += '}';
    return d;
}

std::string_view stop_reason_for(std::string_view finish_reason) {
    if (finish_reason == "length") {
        return "max_tokens";
    }
    if (finish_reason == "tool_calls" || finish_reason == "function_call") {
        return "tool_use";
    }
    if (finish_reason == "content_filter") {
        return "refusal";
    }
    return "end_turn";
}

// `{"error": {...}}` chunk -> client error (status from error.code when numeric).
Error chunk_error(const json::object& err) {
    std::string_view msg = find_string(err, "message", "upstream stream error");
    int status = 500;
    if (auto code = detail::as_integer(find(err, "code")); code && *code >= 400 && *code < 600) {
        status = static_cast<int>(*code);
    } else {
        std::string_view cs = find_string(err, "code");
        if (cs.size() == 3 && cs[0] >= '4' && cs[0] <= '5' && cs[1] >= '0' && cs[1] <= '9' &&
            cs[2] >= '0' && cs[2] <= '9') {
            status = (cs[0] - '0') * 100 + (cs[1] - '0') * 10 + (cs[2] - '0');
        } else if (find_string(err, "type") == "rate_limit_error" || cs == "rate_limit_exceeded") {
            status = 429;
        } else if (cs == "context_length_exceeded") {
            status = 400;
        }
    }
    return detail::map_status_error(status, msg, kLabel);
}

}  // namespace

std::string format_sse(const AnthropicEvent& ev) {
    std::string out;
    out.reserve(ev.event_type.size() + ev.data_json.size() + 16);
    out += "event: ";
    out += ev.event_type;
    out += "\ndata: ";
    out += ev.data_json;
    out += "\n\n";
    return out;
}

OpenAIStreamToAnthropic::OpenAIStreamToAnthropic(std::string client_model,
                                                 std::int64_t input_tokens_hint)
    : model_(detail::sanitize_utf8(client_model)),
      input_hint_(input_tokens_hint < 0                    ? 0
                  : input_tokens_hint > detail::kMaxTokens ? detail::kMaxTokens
                                                           : input_tokens_hint) {}

AnthropicEvent OpenAIStreamToAnthropic::error_event(int status, std::string_view message) {
    return {"error", anthropic_error_envelope(status, message)};
}

void OpenAIStreamToAnthropic::ensure_started(std::string_view upstream_id,
                                             std::vector<AnthropicEvent>& out) {
    if (started_) {
        return;
    }
    started_ = true;
    if (upstream_id.rfind("msg_", 0) == 0) {
        id_ = upstream_id;
    } else if (upstream_id.empty()) {
        id_ = "msg_" + new_call_id();
    } else {
        id_ = "msg_" + detail::sanitize_utf8(upstream_id);
    }
    std::string d = R"({"type":"message_start","message":{"id":)";
    append_quoted(d, id_);
    d += R"(,"type":"message","role":"assistant","model":)";
    append_quoted(d, model_);
    d += R"(,"content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":)";
    append_int(d, input_hint_);
    d += R"(,"output_tokens":0}}})";
    out.push_back({"message_start", std::move(d)});
}

void OpenAIStreamToAnthropic::close_open(std::vector<AnthropicEvent>& out) {
    if (open_ == Open::kNone) {
        return;
    }
    std::string d = R"({"type":"content_block_stop","index":)";
    append_int(d, open_index_);
    d += '}';
    out.push_back({"content_block_stop", std::move(d)});
    open_ = Open::kNone;
    open_index_ = -1;
}

void OpenAIStreamToAnthropic::open_block(Open kind,
                                         std::string_view block_json,
                                         std::vector<AnthropicEvent>& out) {
    close_open(out);
    open_ = kind;
    open_index_ = next_index_++;
    std::string d = R"({"type":"content_block_start","index":)";
    append_int(d, open_index_);
    d += R"(,"content_block":)";
    d += block_json;
    d += '}';
    out.push_back({"content_block_start", std::move(d)});
}

Status OpenAIStreamToAnthropic::on_tool_calls(const json::array& calls,
                                              std::vector<AnthropicEvent>& out) {
    for (std::size_t pos = 0; pos < calls.size(); ++pos) {
        const json::object* call = calls[pos].if_object();
        if (call == nullptr) {
            return detail::protocol_error(kLabel, "tool_calls entry is not an object");
        }
        const json::object* fn = find_object(*call, "function");
        std::string_view id = find_string(*call, "id");
        std::string_view name = fn != nullptr ? find_string(*fn, "name") : std::string_view{};
        std::string_view args = fn != nullptr ? find_string(*fn, "arguments") : std::string_view{};

        std::int64_t key = 0;
        if (auto idx = detail::as_integer(find(*call, "index"))) {
            key = *idx;
        } else if (!id.empty()) {
            // Providers that omit `index`: a new id starts a new call (a repeated id continues
            // its call), a fragment without id continues the latest call.
            bool known = false;
            for (const auto& [k, t] : tools_) {
                if (t.id == id) {
                    key = k;
                    known = true;
                    break;
                }
            }
            if (!known && !tools_.empty()) {
                std::int64_t last = tools_.rbegin()->first;
                if (last == INT64_MAX) {
                    return detail::protocol_error(kLabel, "tool call index out of range");
                }
                key = last + 1;
            }
        } else if (!tools_.empty()) {
            key = last_tool_key_;  // set whenever a tool was seen
        }

        auto it = tools_.find(key);
        if (it == tools_.end()) {
            if (tools_.size() >= kMaxToolCalls) {
                return detail::protocol_error(kLabel, "too many tool calls in one message");
            }
            std::string tool_id = id.empty() ? "toolu_" + new_call_id() : std::string(id);
            std::string b = R"({"type":"tool_use","id":)";
            append_quoted(b, tool_id);
            b += R"(,"name":)";
            append_quoted(b, name);
            b += R"(,"input":{}})";
            open_block(Open::kTool, b, out);
            it = tools_.emplace(key, Tool{open_index_, std::move(tool_id)}).first;
        }
        last_tool_key_ = key;
        if (!args.empty()) {
            // A fragment for an earlier tool goes to that tool's block, never dropped.
            out.push_back(block_delta(it->second.block,
                                      typed_text("input_json_delta", "partial_json", args)));
        }
    }
    return ok_status();
}

void OpenAIStreamToAnthropic::emit_end(std::vector<AnthropicEvent>& out) {
    close_open(out);
    std::string_view stop = stop_reason_.empty() ? std::string_view("end_turn") : stop_reason_;
    if (stop == "end_turn" && !tools_.empty()) {
        stop = "tool_use";  // some providers finish tool calls with "stop"
    }
    std::string d = R"({"type":"message_delta","delta":{"stop_reason":)";
    append_quoted(d, stop);
    d += R"(,"stop_sequence":null},"usage":{"output_tokens":)";
    append_int(d, completion_tokens_);
    if (usage_seen_) {
        d += R"(,"input_tokens":)";
        append_int(d, prompt_tokens_ - cached_tokens_);
        d += R"(,"cache_read_input_tokens":)";
        append_int(d, cached_tokens_);
    }
    d += "}}";
    out.push_back({"message_delta", std::move(d)});
    out.push_back({"message_stop", R"({"type":"message_stop"})"});
    finished_ = true;
}

Result<std::vector<AnthropicEvent>> OpenAIStreamToAnthropic::on_chunk(std::string_view chunk_json) {
    if (failed_) {
        return error_;
    }
    Result<std::vector<AnthropicEvent>> r = std::vector<AnthropicEvent>{};
    try {
        r = handle(chunk_json);
    } catch (const std::exception& e) {
        r = detail::protocol_error(kLabel,
                                   std::string("cannot translate stream chunk: ") + e.what());
    } catch (...) {
        r = detail::protocol_error(kLabel, "cannot translate stream chunk");
    }
    if (!r) {
        failed_ = true;
        error_ = r.error();
    }
    return r;
}

Result<std::vector<AnthropicEvent>> OpenAIStreamToAnthropic::handle(std::string_view chunk_json) {
    std::vector<AnthropicEvent> out;
    std::string_view text = trim(chunk_json);
    if (text == "[DONE]") {
        return finish();
    }
    if (finished_) {
        return out;
    }
    unsigned char buf[4096];
    json::monotonic_resource mr(buf, sizeof buf);
    json::value root;
    std::string why;
    if (!detail::parse_json(text, root, why, &mr)) {
        return detail::protocol_error(kLabel, "malformed stream chunk: " + why);
    }
    const json::object* c = root.if_object();
    if (c == nullptr) {
        return detail::protocol_error(kLabel, "stream chunk is not a JSON object");
    }
    if (const json::object* err = find_object(*c, "error")) {
        return chunk_error(*err);
    }
    ensure_started(find_string(*c, "id"), out);

    if (const json::array* choices = find_array(*c, "choices")) {
        for (const auto& chv : *choices) {
            const json::object* ch = chv.if_object();
            if (ch == nullptr) {
                return detail::protocol_error(kLabel, "choices entry is not an object");
            }
            if (auto idx = detail::as_integer(find(*ch, "index")); idx && *idx != 0) {
                continue;  // n > 1 has no Anthropic equivalent; choice 0 is the message
            }
            if (const json::object* delta = find_object(*ch, "delta")) {
                std::string_view reasoning = find_string(*delta, "reasoning_content");
                if (reasoning.empty()) {
                    reasoning = find_string(*delta, "reasoning");
                }
                if (!reasoning.empty()) {
                    if (open_ != Open::kThinking) {
                        open_block(Open::kThinking,
                                   R"({"type":"thinking","thinking":"","signature":""})",
                                   out);
                    }
                    out.push_back(block_delta(open_index_,
                                              typed_text("thinking_delta", "thinking", reasoning)));
                }
                std::string_view content = find_string(*delta, "content");
                if (!content.empty()) {
                    if (open_ != Open::kText) {
                        open_block(Open::kText, R"({"type":"text","text":""})", out);
                    }
                    out.push_back(
                        block_delta(open_index_, typed_text("text_delta", "text", content)));
                }
                if (const json::array* calls = find_array(*delta, "tool_calls")) {
                    if (Status st = on_tool_calls(*calls, out); !st) {
                        return std::move(st).error();
                    }
                }
            }
            std::string_view fr = find_string(*ch, "finish_reason");
            if (!fr.empty() && !finish_seen_) {
                finish_seen_ = true;
                stop_reason_ = stop_reason_for(fr);
                close_open(out);
            }
        }
    }
    if (const json::object* u = find_object(*c, "usage")) {
        usage_seen_ = true;
        prompt_tokens_ = detail::token_count(u, "prompt_tokens");
        completion_tokens_ = detail::token_count(u, "completion_tokens");
        cached_tokens_ =
            detail::token_count(find_object(*u, "prompt_tokens_details"), "cached_tokens");
        if (cached_tokens_ > prompt_tokens_) {
            cached_tokens_ = prompt_tokens_;
        }
    }
    if (finish_seen_ && usage_seen_) {
        emit_end(out);
    }
    return out;
}

std::vector<AnthropicEvent> OpenAIStreamToAnthropic::finish() {
    std::vector<AnthropicEvent> out;
    if (finished_ || failed_) {
        return out;
    }
    try {
        ensure_started({}, out);
        emit_end(out);
    } catch (...) {
        out.clear();  // allocation failure: nothing sensible to emit
    }
    return out;
}

}  // namespace sy::providers::anthropic
