// Anthropic message -> OpenAI chat.completion (providers.md §1.5).

#include <boost/json.hpp>

#include "sy/core/ids.hpp"
#include "sy/core/json_text.hpp"
#include "sy/providers/common/request_util.hpp"
#include "sy/providers/anthropic/detail/json_util.hpp"
#include "sy/providers/anthropic/translate.hpp"

namespace sy::providers::anthropic {
namespace {

namespace json = boost::json;
using detail::find;
using detail::find_array;
using detail::find_object;
using detail::find_string;

constexpr std::string_view kLabel = "AnthropicException";

Result<std::string> translate(std::string_view text, std::string_view client_model) {
    json::value root;
    std::string why;
    if (!detail::parse_json(text, root, why)) {
        return detail::protocol_error(kLabel, "invalid JSON in response: " + why);
    }
    const json::object* msg = root.if_object();
    if (msg == nullptr) {
        return detail::protocol_error(kLabel, "response is not a JSON object");
    }
    if (find_string(*msg, "type") == "error" || find_object(*msg, "error") != nullptr) {
        const json::object* err = find_object(*msg, "error");
        std::string_view type = err != nullptr ? find_string(*err, "type") : std::string_view{};
        return map_anthropic_error(detail::status_for_anthropic_type(type), text);
    }
    const json::array* content = find_array(*msg, "content");
    if (content == nullptr) {
        return detail::protocol_error(kLabel, "response has no content array");
    }

    std::string text_out;
    bool any_text = false;
    std::string reasoning;
    bool any_reasoning = false;
    json::array thinking_blocks;
    json::array tool_calls;
    json::array citations;
    const json::object* json_tool_input = nullptr;
    for (const auto& bv : *content) {
        const json::object* b = bv.if_object();
        if (b == nullptr) {
            return detail::protocol_error(kLabel, "content block is not an object");
        }
        std::string_view type = find_string(*b, "type");
        if (type == "text") {
            text_out.append(find_string(*b, "text"));
            any_text = true;
            if (const json::array* c = find_array(*b, "citations")) {
                for (const auto& x : *c) {
                    citations.push_back(x);
                }
            }
        } else if (type == "thinking") {
            reasoning.append(find_string(*b, "thinking"));
            any_reasoning = true;
            thinking_blocks.push_back(*b);
        } else if (type == "redacted_thinking") {
            thinking_blocks.push_back(*b);
        } else if (type == "tool_use") {
            std::string_view name = find_string(*b, "name");
            const json::value* input = find(*b, "input");
            if (name == kJsonToolName && json_tool_input == nullptr && input != nullptr &&
                input->is_object()) {
                json_tool_input = &input->get_object();
                continue;
            }
            json::object call;
            call["id"] = find_string(*b, "id");
            call["type"] = "function";
            call["function"] =
                json::object{{"name", name},
                             {"arguments",
                              input != nullptr && !input->is_null() ? json::serialize(*input)
                                                                    : std::string("{}")}};
            tool_calls.push_back(std::move(call));
        }
        // server_tool_use / web_search_tool_result / unknown future types: not representable in
        // an OpenAI message; ignored.
    }

    json::object message;
    message["role"] = "assistant";
    if (json_tool_input != nullptr) {
        message["content"] = json::serialize(*json_tool_input);
    } else if (any_text) {
        message["content"] = text_out;
    } else {
        message["content"] = nullptr;
    }
    if (!tool_calls.empty()) {
        message["tool_calls"] = std::move(tool_calls);
    }
    if (any_reasoning) {
        message["reasoning_content"] = reasoning;
    }
    if (!thinking_blocks.empty()) {
        message["thinking_blocks"] = std::move(thinking_blocks);
    }
    if (!citations.empty()) {
        message["provider_specific_fields"] = json::object{{"citations", std::move(citations)}};
    }

    std::string_view stop = find_string(*msg, "stop_reason");
    std::string_view finish = "stop";
    if (stop == "max_tokens") {
        finish = "length";
    } else if (stop == "tool_use") {
        finish = message.contains("tool_calls") ? "tool_calls" : "stop";
    } else if (stop == "refusal") {
        finish = "content_filter";
    }

    const json::object* u = find_object(*msg, "usage");
    std::int64_t input = detail::token_count(u, "input_tokens");
    std::int64_t output = detail::token_count(u, "output_tokens");
    std::int64_t cache_write = detail::token_count(u, "cache_creation_input_tokens");
    std::int64_t cache_read = detail::token_count(u, "cache_read_input_tokens");
    std::int64_t prompt = input + cache_write + cache_read;
    json::object usage;
    usage["prompt_tokens"] = prompt;
    usage["completion_tokens"] = output;
    usage["total_tokens"] = prompt + output;
    usage["prompt_tokens_details"] = json::object{{"cached_tokens", cache_read}};
    usage["cache_creation_input_tokens"] = cache_write;
    usage["cache_read_input_tokens"] = cache_read;

    json::object out;
    std::string_view id = find_string(*msg, "id");
    out["id"] = id.empty() ? "chatcmpl-" + new_call_id() : std::string(id);
    out["object"] = "chat.completion";
    out["created"] = detail::unix_now();
    out["model"] = detail::sanitize_utf8(client_model);
    out["system_fingerprint"] = nullptr;
    json::object choice;
    choice["index"] = 0;
    choice["message"] = std::move(message);
    choice["logprobs"] = nullptr;
    choice["finish_reason"] = finish;
    out["choices"] = json::array{std::move(choice)};
    out["usage"] = std::move(usage);
    return json_text(out);
}

}  // namespace

Result<std::string> anthropic_to_openai_response(std::string_view anthropic_json,
                                                 std::string_view client_model) {
    return common::guard_response(kLabel, [&] { return translate(anthropic_json, client_model); });
}

}  // namespace sy::providers::anthropic
