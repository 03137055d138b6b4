// Anthropic SSE events -> OpenAI chat.completion.chunk (providers.md §1.7, api.md §3.1).

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
using detail::find_object;
using detail::find_string;

constexpr std::string_view kLabel = "AnthropicException";

// A malicious or broken upstream must not make us keep unbounded per-block state.
constexpr std::size_t kMaxBlocks = 4096;

bool known_event(std::string_view t) {
    return t == "message_start" || t == "content_block_start" || t == "content_block_delta" ||
           t == "content_block_stop" || t == "message_delta" || t == "message_stop" || t == "error";
}

std::string content_delta(std::string_view text) {
    std::string d = R"({"content":)";
    append_quoted(d, text);
    d += '}';
    return d;
}

std::string single_field_delta(std::string_view key, std::string_view text) {
    std::string d = "{";
    append_quoted(d, key);
    d += ':';
    append_quoted(d, text);
    d += '}';
    return d;
}

std::string_view finish_for(std::string_view stop_reason, int tool_count) {
    if (stop_reason == "max_tokens") {
        return "length";
    }
    if (stop_reason == "tool_use") {
        return tool_count > 0 ? "tool_calls" : "stop";  // JSON mode: only json_tool_call was used
    }
    if (stop_reason == "refusal") {
        return "content_filter";
    }
    return "stop";
}

}  // namespace

StreamToOpenAI::StreamToOpenAI(std::string client_model, bool include_usage, std::int64_t created)
    : model_(detail::sanitize_utf8(client_model)),
      include_usage_(include_usage),
      created_(created != 0 ? created : detail::unix_now()) {}

void StreamToOpenAI::start(std::string id, std::vector<std::string>& out) {
    id_ = std::move(id);
    prefix_ = R"({"id":)";
    append_quoted(prefix_, id_);
    prefix_ += R"(,"object":"chat.completion.chunk","created":)";
    append_int(prefix_, created_);
    prefix_ += R"(,"model":)";
    append_quoted(prefix_, model_);
    prefix_ += R"(,"system_fingerprint":null,"choices":[{"index":0,"delta":)";
    started_ = true;
    out.push_back(chunk(R"({"role":"assistant","content":""})"));
}

std::string StreamToOpenAI::chunk(std::string_view delta_json,
                                  std::string_view finish_reason) const {
    std::string c;
    c.reserve(prefix_.size() + delta_json.size() + 64);
    c += prefix_;
    c += delta_json;
    common::append_chunk_tail(c, finish_reason, include_usage_);
    return c;
}

std::string StreamToOpenAI::usage_chunk() const {
    const StreamUsage& u = usage_;
    std::int64_t prompt =
        u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens;
    std::string c = R"({"id":)";
    append_quoted(c, id_);
    c += R"(,"object":"chat.completion.chunk","created":)";
    append_int(c, created_);
    c += R"(,"model":)";
    append_quoted(c, model_);
    c += R"(,"choices":[],"usage":{"prompt_tokens":)";
    append_int(c, prompt);
    c += R"(,"completion_tokens":)";
    append_int(c, u.output_tokens);
    c += R"(,"total_tokens":)";
    append_int(c, prompt + u.output_tokens);
    c += R"(,"prompt_tokens_details":{"cached_tokens":)";
    append_int(c, u.cache_read_input_tokens);
    c += R"(},"cache_creation_input_tokens":)";
    append_int(c, u.cache_creation_input_tokens);
    c += R"(,"cache_read_input_tokens":)";
    append_int(c, u.cache_read_input_tokens);
    c += "}}";
    return c;
}

void StreamToOpenAI::read_usage(const json::object& u) {
    // message_delta usage is cumulative; newer API versions repeat the input counts there too.
    if (u.contains("input_tokens")) {
        usage_.input_tokens = detail::token_count(&u, "input_tokens");
    }
    if (u.contains("output_tokens")) {
        usage_.output_tokens = detail::token_count(&u, "output_tokens");
    }
    if (u.contains("cache_creation_input_tokens")) {
        usage_.cache_creation_input_tokens = detail::token_count(&u, "cache_creation_input_tokens");
    }
    if (u.contains("cache_read_input_tokens")) {
        usage_.cache_read_input_tokens = detail::token_count(&u, "cache_read_input_tokens");
    }
}

Result<std::vector<std::string>> StreamToOpenAI::on_event(std::string_view event_type,
                                                          std::string_view data_json) {
    if (failed_) {
        return error_;
    }
    if (finished_) {
        return std::vector<std::string>{};
    }
    Result<std::vector<std::string>> r = std::vector<std::string>{};
    try {
        r = handle(event_type, data_json);
    } catch (const std::exception& e) {
        r = detail::protocol_error(kLabel,
                                   std::string("cannot translate stream event: ") + e.what());
    } catch (...) {
        r = detail::protocol_error(kLabel, "cannot translate stream event");
    }
    if (!r) {
        failed_ = true;
        error_ = r.error();
    }
    return r;
}

Result<std::vector<std::string>> StreamToOpenAI::handle(std::string_view event_type,
                                                        std::string_view data_json) {
    if (!event_type.empty() && !known_event(event_type)) {
        return std::vector<std::string>{};  // ping and future event types
    }
    unsigned char buf[4096];
    json::monotonic_resource mr(buf, sizeof buf);
    json::value root;
    std::string why;
    if (!detail::parse_json(data_json, root, why, &mr)) {
        return detail::protocol_error(
            kLabel, "malformed stream event '" + std::string(event_type) + "': " + why);
    }
    const json::object* ev = root.if_object();
    if (ev == nullptr) {
        return detail::protocol_error(
            kLabel, "stream event '" + std::string(event_type) + "' is not a JSON object");
    }
    std::string_view type = event_type.empty() ? find_string(*ev, "type") : event_type;
    if (!known_event(type)) {
        return std::vector<std::string>{};
    }
    return dispatch(type, *ev);
}

Result<std::vector<std::string>> StreamToOpenAI::dispatch(std::string_view type,
                                                          const json::object& ev) {
    std::vector<std::string> out;
    if (type == "error") {
        const json::object* err = find_object(ev, "error");
        std::string_view etype = err != nullptr ? find_string(*err, "type") : std::string_view{};
        std::string_view msg = err != nullptr ? find_string(*err, "message") : std::string_view{};
        std::string body = anthropic_error_envelope(detail::status_for_anthropic_type(etype),
                                                    msg.empty() ? "stream error event" : msg);
        return map_anthropic_error(detail::status_for_anthropic_type(etype), body);
    }
    if (type == "message_start") {
        const json::object* m = find_object(ev, "message");
        if (m == nullptr) {
            return detail::protocol_error(kLabel, "message_start without a message object");
        }
        if (const json::object* u = find_object(*m, "usage")) {
            read_usage(*u);
        }
        if (!started_) {
            std::string_view id = find_string(*m, "id");
            start(id.empty() ? "chatcmpl-" + new_call_id() : std::string(id), out);
        }
        return out;
    }
    if (type == "message_stop") {
        if (!started_) {
            start("chatcmpl-" + new_call_id(), out);
        }
        if (!finish_sent_) {
            out.push_back(chunk("{}", "stop"));
            finish_sent_ = true;
        }
        finished_ = true;
        return out;
    }
    if (!started_) {
        start("chatcmpl-" + new_call_id(), out);
    }
    if (type == "message_delta") {
        if (const json::object* u = find_object(ev, "usage")) {
            read_usage(*u);
        }
        const json::object* d = find_object(ev, "delta");
        std::string_view stop = d != nullptr ? find_string(*d, "stop_reason") : std::string_view{};
        if (!stop.empty() && !finish_sent_) {
            out.push_back(chunk("{}", finish_for(stop, tool_count_)));
            finish_sent_ = true;
        }
        return out;
    }

    // content_block_*: all carry an index.
    std::optional<std::int64_t> index = detail::as_integer(find(ev, "index"));
    if (!index) {
        return detail::protocol_error(kLabel, std::string(type) + " without an integer index");
    }
    if (type == "content_block_start") {
        const json::object* cb = find_object(ev, "content_block");
        if (cb == nullptr) {
            return detail::protocol_error(kLabel, "content_block_start without content_block");
        }
        if (blocks_.size() >= kMaxBlocks && blocks_.find(*index) == blocks_.end()) {
            return detail::protocol_error(kLabel, "too many content blocks in one message");
        }
        Block& b = blocks_[*index];
        b = Block{};
        std::string_view btype = find_string(*cb, "type");
        if (btype == "text") {
            b.kind = BlockKind::kText;
            std::string_view t = find_string(*cb, "text");
            if (!t.empty()) {
                out.push_back(chunk(content_delta(t)));
            }
        } else if (btype == "tool_use") {
            std::string_view name = find_string(*cb, "name");
            const json::value* input = find(*cb, "input");
            bool has_input = input != nullptr && input->is_object() && !input->get_object().empty();
            std::string args = has_input ? json::serialize(*input) : std::string();
            if (name == kJsonToolName && !json_tool_seen_) {
                b.kind = BlockKind::kJsonTool;
                json_tool_seen_ = true;
                if (has_input) {
                    b.got_input = true;
                    out.push_back(chunk(content_delta(args)));
                }
                return out;
            }
            b.kind = BlockKind::kToolUse;
            b.tool_index = tool_count_++;
            b.got_input = has_input;
            std::string d = R"({"tool_calls":[{"index":)";
            append_int(d, b.tool_index);
            d += R"(,"id":)";
            append_quoted(d, find_string(*cb, "id"));
            d += R"(,"type":"function","function":{"name":)";
            append_quoted(d, name);
            d += R"(,"arguments":)";
            append_quoted(d, args);
            d += "}}]}";
            out.push_back(chunk(d));
        } else if (btype == "thinking") {
            b.kind = BlockKind::kThinking;
            std::string_view t = find_string(*cb, "thinking");
            if (!t.empty()) {
                out.push_back(chunk(single_field_delta("reasoning_content", t)));
            }
        } else if (btype == "redacted_thinking") {
            b.kind = BlockKind::kOther;
            out.push_back(chunk(R"({"thinking_blocks":[)" + json::serialize(*cb) + "]}"));
        }
        // server_tool_use, web_search_tool_result, future block types: nothing to emit.
        return out;
    }
    auto it = blocks_.find(*index);
    if (type == "content_block_delta") {
        const json::object* d = find_object(ev, "delta");
        if (d == nullptr) {
            return detail::protocol_error(kLabel, "content_block_delta without delta");
        }
        std::string_view dtype = find_string(*d, "type");
        if (dtype == "text_delta") {
            std::string_view t = find_string(*d, "text");
            if (!t.empty()) {
                out.push_back(chunk(content_delta(t)));
            }
        } else if (dtype == "input_json_delta") {
            if (it == blocks_.end() || (it->second.kind != BlockKind::kToolUse &&
                                        it->second.kind != BlockKind::kJsonTool)) {
                // Never guess: a fragment we cannot attribute would corrupt some tool's arguments.
                return detail::protocol_error(kLabel,
                                              "input_json_delta for content block " +
                                                  std::to_string(*index) +
                                                  " which is not a started tool_use block");
            }
            const json::value* pj = find(*d, "partial_json");
            if (pj == nullptr || !pj->is_string()) {
                return detail::protocol_error(kLabel, "input_json_delta without partial_json");
            }
            std::string_view frag(pj->get_string().data(), pj->get_string().size());
            if (frag.empty()) {
                return out;  // Anthropic opens every tool input with an empty fragment
            }
            Block& b = it->second;
            b.got_input = true;
            if (b.kind == BlockKind::kJsonTool) {
                out.push_back(chunk(content_delta(frag)));
            } else {
                std::string dj = R"({"tool_calls":[{"index":)";
                append_int(dj, b.tool_index);
                dj += R"(,"function":{"arguments":)";
                append_quoted(dj, frag);
                dj += "}}]}";
                out.push_back(chunk(dj));
            }
        } else if (dtype == "thinking_delta") {
            std::string_view t = find_string(*d, "thinking");
            if (!t.empty()) {
                out.push_back(chunk(single_field_delta("reasoning_content", t)));
            }
        } else if (dtype == "signature_delta") {
            std::string dj = R"({"thinking_blocks":[{"type":"thinking","signature":)";
            append_quoted(dj, find_string(*d, "signature"));
            dj += "}]}";
            out.push_back(chunk(dj));
        } else if (dtype == "citations_delta") {
            if (const json::value* c = find(*d, "citation")) {
                out.push_back(chunk(R"({"provider_specific_fields":{"citations":[)" +
                                    json::serialize(*c) + "]}}"));
            }
        }
        // Unknown delta types are ignored (forward compatibility).
        return out;
    }
    // content_block_stop
    if (it != blocks_.end() && !it->second.got_input) {
        Block& b = it->second;
        if (b.kind == BlockKind::kToolUse) {
            std::string dj = R"({"tool_calls":[{"index":)";
            append_int(dj, b.tool_index);
            dj += R"(,"function":{"arguments":"{}"}}]})";
            out.push_back(chunk(dj));
            b.got_input = true;
        } else if (b.kind == BlockKind::kJsonTool) {
            out.push_back(chunk(content_delta("{}")));
            b.got_input = true;
        }
    }
    return out;
}

std::vector<std::string> StreamToOpenAI::finish() {
    std::vector<std::string> out;
    try {
        if (include_usage_ && finished_ && !usage_sent_) {
            usage_sent_ = true;
            out.push_back(usage_chunk());
        }
    } catch (...) {
        out.clear();  // allocation failure: nothing sensible to emit
    }
    return out;
}

}  // namespace sy::providers::anthropic
