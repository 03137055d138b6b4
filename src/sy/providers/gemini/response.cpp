// Gemini GenerateContentResponse -> OpenAI chat.completion (providers.md §4.2).

#include <boost/json.hpp>
#include <set>

#include "sy/core/ids.hpp"
#include "sy/core/json_text.hpp"
#include "sy/providers/common/request_util.hpp"
#include "sy/providers/gemini/detail/json_util.hpp"
#include "sy/providers/gemini/translate.hpp"

namespace sy::providers::gemini {
namespace {

namespace json = boost::json;
using detail::find;
using detail::find_array;
using detail::find_object;
using detail::find_string;

// Candidates beyond this are not believable (Gemini's candidateCount is at most 8).
constexpr std::size_t kMaxCandidates = 64;

Result<json::object> convert_candidate(const json::object& cand, std::int64_t index) {
    std::string text;
    bool any_text = false;
    std::string reasoning;
    bool any_reasoning = false;
    json::array tool_calls;
    if (const json::object* content = find_object(cand, "content")) {
        if (const json::value* pv = find(*content, "parts"); pv != nullptr && !pv->is_null()) {
            const json::array* parts = pv->if_array();
            if (parts == nullptr) {
                return detail::protocol_error("candidate content.parts is not a list");
            }
            for (const auto& p : *parts) {
                const json::object* part = p.if_object();
                if (part == nullptr) {
                    return detail::protocol_error("candidate part is not an object");
                }
                if (const json::object* fc = find_object(*part, "functionCall")) {
                    std::string_view name = find_string(*fc, "name");
                    if (name.empty()) {
                        return detail::protocol_error("functionCall part without a name");
                    }
                    const json::value* args = find(*fc, "args");
                    json::object call;
                    call["id"] = detail::new_tool_call_id();
                    call["type"] = "function";
                    call["function"] =
                        json::object{{"name", name},
                                     {"arguments",
                                      args != nullptr && !args->is_null() ? json::serialize(*args)
                                                                          : std::string("{}")}};
                    std::string_view sig = find_string(*part, "thoughtSignature");
                    if (!sig.empty()) {
                        call["provider_specific_fields"] = json::object{{"thought_signature", sig}};
                    }
                    tool_calls.push_back(std::move(call));
                    continue;
                }
                const json::value* t = find(*part, "text");
                if (t == nullptr || !t->is_string()) {
                    continue;  // inlineData, executableCode, ...: not representable here
                }
                const json::value* thought = find(*part, "thought");
                if (thought != nullptr && thought->is_bool() && thought->get_bool()) {
                    reasoning.append(t->get_string().data(), t->get_string().size());
                    any_reasoning = true;
                } else {
                    text.append(t->get_string().data(), t->get_string().size());
                    any_text = true;
                }
            }
        }
    }
    json::object message;
    message["role"] = "assistant";
    if (any_text) {
        message["content"] = text;
    } else {
        message["content"] = nullptr;
    }
    bool made_calls = !tool_calls.empty();
    if (made_calls) {
        message["tool_calls"] = std::move(tool_calls);
    }
    if (any_reasoning) {
        message["reasoning_content"] = reasoning;
    }
    json::object choice;
    choice["index"] = index;
    choice["message"] = std::move(message);
    choice["logprobs"] = nullptr;
    choice["finish_reason"] =
        detail::finish_reason_for(find_string(cand, "finishReason"), made_calls);
    return choice;
}

Result<std::string> translate(std::string_view text, std::string_view client_model) {
    json::value root;
    std::string why;
    if (!detail::parse_json(text, root, why)) {
        return detail::protocol_error("invalid JSON in response: " + why);
    }
    if (const json::object* err = detail::error_object(root)) {
        return detail::map_error_object(0, *err);
    }
    const json::object* resp = root.if_object();
    if (resp == nullptr) {
        return detail::protocol_error("response is not a JSON object");
    }
    const json::array* candidates = find_array(*resp, "candidates");
    if (candidates == nullptr || candidates->empty()) {
        const json::object* fb = find_object(*resp, "promptFeedback");
        if (fb != nullptr && !find_string(*fb, "blockReason").empty()) {
            return detail::blocked_prompt_error(*fb);
        }
        return detail::protocol_error("response has no candidates");
    }
    if (candidates->size() > kMaxCandidates) {
        return detail::protocol_error("response has too many candidates");
    }
    json::array choices;
    std::set<std::int64_t> used;
    for (std::size_t i = 0; i < candidates->size(); ++i) {
        const json::object* cand = (*candidates)[i].if_object();
        if (cand == nullptr) {
            return detail::protocol_error("candidate is not an object");
        }
        // The candidate's own index when usable, else the smallest free one.
        auto idx = detail::as_integer(find(*cand, "index"));
        std::int64_t index = 0;
        if (idx && *idx >= 0 && *idx < static_cast<std::int64_t>(kMaxCandidates) &&
            used.count(*idx) == 0) {
            index = *idx;
        } else {
            while (used.count(index) != 0) {
                ++index;
            }
        }
        used.insert(index);
        auto choice = convert_candidate(*cand, index);
        if (!choice) {
            return std::move(choice).error();
        }
        choices.push_back(std::move(*choice));
    }

    StreamUsage usage;
    if (const json::object* um = find_object(*resp, "usageMetadata")) {
        usage = detail::read_usage(*um);
    }

    json::object out;
    std::string_view id = find_string(*resp, "responseId");
    out["id"] = id.empty() ? "chatcmpl-" + new_call_id() : std::string(id);
    out["object"] = "chat.completion";
    out["created"] = detail::unix_now();
    out["model"] = detail::sanitize_utf8(client_model);
    out["system_fingerprint"] = nullptr;
    out["choices"] = std::move(choices);
    out["usage"] = detail::usage_object(usage);
    return json_text(out);
}

}  // namespace

Result<std::string> gemini_to_openai_response(std::string_view gemini_json,
                                              std::string_view client_model) {
    return common::guard_response(detail::kLabel,
                                  [&] { return translate(gemini_json, client_model); });
}

}  // namespace sy::providers::gemini
