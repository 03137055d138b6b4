// OpenAI chat.completion -> Anthropic message (providers.md §2.3).

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

constexpr std::string_view kLabel = "OpenAIException";

std::string message_id(std::string_view upstream_id) {
    if (upstream_id.rfind("msg_", 0) == 0) {
        return std::string(upstream_id);
    }
    if (upstream_id.empty()) {
        return "msg_" + new_call_id();
    }
    return "msg_" + std::string(upstream_id);
}

// OpenAI `{"error": {...}}` body -> client error; the status comes from error.code when numeric.
Error openai_body_error(const json::object& err) {
    std::string_view msg = find_string(err, "message", "upstream returned an error");
    int status = 500;
    if (auto code = detail::as_integer(find(err, "code")); code && *code >= 400 && *code < 600) {
        status = static_cast<int>(*code);
    } else {
        std::string_view cs = find_string(err, "code");
        if (cs.size() == 3 && cs[0] >= '4' && cs[0] <= '5') {
            status = (cs[0] - '0') * 100 + (cs[1] - '0') * 10 + (cs[2] - '0');
        } else if (find_string(err, "type") == "rate_limit_error" || cs == "rate_limit_exceeded") {
            status = 429;
        } else if (cs == "context_length_exceeded" ||
                   find_string(err, "type") == "invalid_request_error") {
            status = 400;
        }
    }
    return detail::map_status_error(status, msg, kLabel);
}

Result<std::string> translate(std::string_view text, std::string_view client_model) {
    json::value root;
    std::string why;
    if (!detail::parse_json(text, root, why)) {
        return detail::protocol_error(kLabel, "invalid JSON in response: " + why);
    }
    const json::object* resp = root.if_object();
    if (resp == nullptr) {
        return detail::protocol_error(kLabel, "response is not a JSON object");
    }
    if (const json::object* err = find_object(*resp, "error")) {
        return openai_body_error(*err);
    }
    const json::array* choices = find_array(*resp, "choices");
    if (choices == nullptr || choices->empty() || !(*choices)[0].is_object()) {
        return detail::protocol_error(kLabel, "response has no choices");
    }
    const json::object& choice = (*choices)[0].get_object();
    const json::object* msg = find_object(choice, "message");
    if (msg == nullptr) {
        return detail::protocol_error(kLabel, "choices[0] has no message");
    }

    json::array content;
    std::string_view reasoning = find_string(*msg, "reasoning_content");
    if (reasoning.empty()) {
        reasoning = find_string(*msg, "reasoning");
    }
    if (!reasoning.empty()) {
        content.push_back(
            json::object{{"type", "thinking"}, {"thinking", reasoning}, {"signature", ""}});
    }
    std::string text_out;
    if (const json::value* c = find(*msg, "content")) {
        if (const json::string* s = c->if_string()) {
            text_out = *s;
        } else if (const json::array* parts = c->if_array()) {
            for (const auto& p : *parts) {
                if (const json::object* po = p.if_object()) {
                    if (find_string(*po, "type") == "text") {
                        text_out.append(find_string(*po, "text"));
                    }
                }
            }
        }
    }
    if (!text_out.empty()) {
        content.push_back(json::object{{"type", "text"}, {"text", text_out}});
    }
    bool any_tool = false;
    if (const json::array* calls = find_array(*msg, "tool_calls")) {
        for (const auto& cv : *calls) {
            const json::object* call = cv.if_object();
            if (call == nullptr) {
                continue;
            }
            const json::object* fn = find_object(*call, "function");
            std::string_view name = fn != nullptr ? find_string(*fn, "name") : std::string_view{};
            std::string_view args =
                fn != nullptr ? find_string(*fn, "arguments") : std::string_view{};
            json::value input;
            std::string pwhy;
            if (args.empty() || !detail::parse_json(args, input, pwhy) || !input.is_object()) {
                input = json::object{};  // providers.md §2.3: invalid JSON -> {}
            }
            std::string_view id = find_string(*call, "id");
            content.push_back(
                json::object{{"type", "tool_use"},
                             {"id", id.empty() ? "toolu_" + new_call_id() : std::string(id)},
                             {"name", name},
                             {"input", std::move(input)}});
            any_tool = true;
        }
    }

    std::string_view fr = find_string(choice, "finish_reason");
    std::string_view stop = "end_turn";
    if (fr == "length") {
        stop = "max_tokens";
    } else if (fr == "tool_calls" || fr == "function_call") {
        stop = "tool_use";
    } else if (fr == "content_filter") {
        stop = "refusal";
    }
    if (any_tool && stop == "end_turn") {
        stop = "tool_use";  // some providers say "stop" after tool calls; clients run tools on
                            // tool_use
    }

    const json::object* u = find_object(*resp, "usage");
    std::int64_t prompt = detail::token_count(u, "prompt_tokens");
    std::int64_t completion = detail::token_count(u, "completion_tokens");
    const json::object* details = u != nullptr ? find_object(*u, "prompt_tokens_details") : nullptr;
    std::int64_t cached = detail::token_count(details, "cached_tokens");
    if (cached > prompt) {
        cached = prompt;
    }

    json::object out;
    out["id"] = message_id(find_string(*resp, "id"));
    out["type"] = "message";
    out["role"] = "assistant";
    out["model"] = detail::sanitize_utf8(client_model);
    out["content"] = std::move(content);
    out["stop_reason"] = stop;
    out["stop_sequence"] = nullptr;
    out["usage"] = json::object{{"input_tokens", prompt - cached},
                                {"output_tokens", completion},
                                {"cache_creation_input_tokens", 0},
                                {"cache_read_input_tokens", cached}};
    return json_text(out);
}

}  // namespace

Result<std::string> openai_to_anthropic_response(std::string_view openai_json,
                                                 std::string_view client_model) {
    return common::guard_response(kLabel, [&] { return translate(openai_json, client_model); });
}

}  // namespace sy::providers::anthropic
