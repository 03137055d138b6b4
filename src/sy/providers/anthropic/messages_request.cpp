// Anthropic /v1/messages request -> OpenAI chat request (providers.md §2.2).

#include <boost/json.hpp>

#include "sy/providers/anthropic/detail/json_util.hpp"
#include "sy/providers/anthropic/translate.hpp"
#include "sy/providers/common/request_util.hpp"

namespace sy::providers::anthropic {
namespace {

namespace json = boost::json;
using detail::bad_request;
using detail::find;
using detail::find_array;
using detail::find_object;
using detail::find_string;

// Anthropic image/document source -> an OpenAI URL (data URL for base64).
Result<std::string> source_url(const json::object& block, const std::string& where) {
    const json::object* src = find_object(block, "source");
    if (src == nullptr) {
        return bad_request(where + ".source: missing");
    }
    std::string_view type = find_string(*src, "type");
    if (type == "base64") {
        std::string_view mt = find_string(*src, "media_type");
        std::string_view data = find_string(*src, "data");
        if (mt.empty() || data.empty()) {
            return bad_request(where + ".source: media_type and data are required");
        }
        return "data:" + std::string(mt) + ";base64," + std::string(data);
    }
    if (type == "url") {
        std::string_view url = find_string(*src, "url");
        if (url.empty()) {
            return bad_request(where + ".source.url: missing");
        }
        return std::string(url);
    }
    return bad_request(where + ".source.type: '" + std::string(type) +
                       "' cannot be sent to an OpenAI-format deployment");
}

json::object text_part(std::string_view t) { return json::object{{"type", "text"}, {"text", t}}; }

// A user-side block that is not a tool_result -> an OpenAI content part.
Status user_part(const json::object& b, const std::string& where, json::array& parts) {
    std::string_view type = find_string(b, "type");
    if (type == "text") {
        std::string_view t = find_string(b, "text");
        if (!t.empty()) {
            parts.push_back(text_part(t));
        }
        return ok_status();
    }
    if (type == "image") {
        auto url = source_url(b, where);
        if (!url) {
            return std::move(url).error();
        }
        parts.push_back(
            json::object{{"type", "image_url"}, {"image_url", json::object{{"url", *url}}}});
        return ok_status();
    }
    if (type == "document") {
        const json::object* src = find_object(b, "source");
        if (src != nullptr && find_string(*src, "type") == "text") {
            parts.push_back(text_part(find_string(*src, "data")));
            return ok_status();
        }
        auto url = source_url(b, where);
        if (!url) {
            return std::move(url).error();
        }
        if (url->rfind("data:", 0) != 0) {
            return bad_request(where +
                               ": URL documents cannot be sent to an OpenAI-format deployment");
        }
        // OpenAI requires a filename with inline file_data.
        std::string_view title = find_string(b, "title");
        json::object file{{"filename", title.empty() ? std::string_view("document.pdf") : title},
                          {"file_data", *url}};
        parts.push_back(json::object{{"type", "file"}, {"file", std::move(file)}});
        return ok_status();
    }
    if (type == "thinking" || type == "redacted_thinking") {
        return ok_status();
    }
    return bad_request(where + ": content block type '" + std::string(type) +
                       "' cannot be sent to an OpenAI-format deployment");
}

// parts -> message content: a single text part collapses to a string.
json::value content_of(json::array parts) {
    if (parts.size() == 1 && find_string(parts[0].as_object(), "type") == "text") {
        return parts[0].as_object()["text"];
    }
    return json::value(std::move(parts));
}

Status convert_user(const json::value& content, const std::string& where, json::array& out) {
    if (const json::string* s = content.if_string()) {
        out.push_back(json::object{{"role", "user"}, {"content", *s}});
        return ok_status();
    }
    const json::array* blocks = content.if_array();
    if (blocks == nullptr) {
        return bad_request(where + ".content: must be a string or a list of blocks");
    }
    json::array parts;
    json::array tool_images;  // images inside tool results: OpenAI tool messages take text only
    for (std::size_t i = 0; i < blocks->size(); ++i) {
        std::string bw = where + ".content[" + std::to_string(i) + "]";
        const json::object* b = (*blocks)[i].if_object();
        if (b == nullptr) {
            return bad_request(bw + ": must be an object");
        }
        if (find_string(*b, "type") != "tool_result") {
            if (Status st = user_part(*b, bw, parts); !st) {
                return st;
            }
            continue;
        }
        std::string_view id = find_string(*b, "tool_use_id");
        if (id.empty()) {
            return bad_request(bw + ".tool_use_id: missing");
        }
        std::string text;
        const json::value* c = find(*b, "content");
        if (c != nullptr && c->is_string()) {
            text = c->get_string();
        } else if (const json::array* cb = c != nullptr ? c->if_array() : nullptr) {
            for (std::size_t k = 0; k < cb->size(); ++k) {
                const json::object* x = (*cb)[k].if_object();
                std::string xw = bw + ".content[" + std::to_string(k) + "]";
                if (x == nullptr) {
                    return bad_request(xw + ": must be an object");
                }
                std::string_view xt = find_string(*x, "type");
                if (xt == "text") {
                    if (!text.empty()) {
                        text += '\n';
                    }
                    text.append(find_string(*x, "text"));
                } else if (Status st = user_part(*x, xw, tool_images); !st) {
                    return st;
                }
            }
        } else if (c != nullptr && !c->is_null()) {
            return bad_request(bw + ".content: must be a string or a list of blocks");
        }
        out.push_back(json::object{{"role", "tool"}, {"tool_call_id", id}, {"content", text}});
    }
    // Tool messages first, then the user's own content (providers.md §2.2).
    for (auto& p : parts) {
        tool_images.push_back(std::move(p));
    }
    if (!tool_images.empty()) {
        out.push_back(
            json::object{{"role", "user"}, {"content", content_of(std::move(tool_images))}});
    }
    return ok_status();
}

Status convert_assistant(const json::value& content, const std::string& where, json::array& out) {
    if (const json::string* s = content.if_string()) {
        out.push_back(json::object{{"role", "assistant"}, {"content", *s}});
        return ok_status();
    }
    const json::array* blocks = content.if_array();
    if (blocks == nullptr) {
        return bad_request(where + ".content: must be a string or a list of blocks");
    }
    std::string text;
    bool any_text = false;
    json::array calls;
    for (std::size_t i = 0; i < blocks->size(); ++i) {
        std::string bw = where + ".content[" + std::to_string(i) + "]";
        const json::object* b = (*blocks)[i].if_object();
        if (b == nullptr) {
            return bad_request(bw + ": must be an object");
        }
        std::string_view type = find_string(*b, "type");
        if (type == "text") {
            text.append(find_string(*b, "text"));
            any_text = true;
        } else if (type == "tool_use") {
            std::string_view id = find_string(*b, "id");
            std::string_view name = find_string(*b, "name");
            if (id.empty() || name.empty()) {
                return bad_request(bw + ": tool_use needs id and name");
            }
            const json::value* input = find(*b, "input");
            std::string args =
                input != nullptr && !input->is_null() ? json::serialize(*input) : "{}";
            calls.push_back(
                json::object{{"id", id},
                             {"type", "function"},
                             {"function", json::object{{"name", name}, {"arguments", args}}}});
        } else if (type == "thinking" || type == "redacted_thinking") {
            continue;  // only Anthropic-family targets can verify thinking signatures
        } else {
            return bad_request(bw + ": content block type '" + std::string(type) +
                               "' cannot be sent to an OpenAI-format deployment");
        }
    }
    if (!any_text && calls.empty()) {
        return ok_status();  // nothing left (e.g. thinking only)
    }
    json::object m;
    m["role"] = "assistant";
    m["content"] = any_text && !text.empty() ? json::value(text) : json::value(nullptr);
    if (!calls.empty()) {
        m["tool_calls"] = std::move(calls);
    }
    out.push_back(std::move(m));
    return ok_status();
}

Result<std::string> translate(const json::object& body, std::string_view upstream_model) {
    json::object out;
    out["model"] = upstream_model;
    json::array messages;

    if (const json::value* sys = find(body, "system"); sys != nullptr && !sys->is_null()) {
        std::string text;
        if (const json::string* s = sys->if_string()) {
            text = *s;
        } else if (const json::array* blocks = sys->if_array()) {
            for (std::size_t i = 0; i < blocks->size(); ++i) {
                const json::object* b = (*blocks)[i].if_object();
                if (b == nullptr || find_string(*b, "type") != "text") {
                    return bad_request("system[" + std::to_string(i) + "]: must be a text block");
                }
                if (!text.empty()) {
                    text += '\n';
                }
                text.append(find_string(*b, "text"));
            }
        } else {
            return bad_request("system: must be a string or a list of text blocks");
        }
        if (!text.empty()) {
            messages.push_back(json::object{{"role", "system"}, {"content", text}});
        }
    }

    const json::array* msgs = find_array(body, "messages");
    if (msgs == nullptr || msgs->empty()) {
        return bad_request("messages: must be a non-empty list");
    }
    for (std::size_t i = 0; i < msgs->size(); ++i) {
        std::string where = "messages[" + std::to_string(i) + "]";
        const json::object* m = (*msgs)[i].if_object();
        if (m == nullptr) {
            return bad_request(where + ": must be an object");
        }
        std::string_view role = find_string(*m, "role");
        const json::value* content = find(*m, "content");
        if (content == nullptr) {
            return bad_request(where + ".content: missing");
        }
        Status st = role == "user"        ? convert_user(*content, where, messages)
                    : role == "assistant" ? convert_assistant(*content, where, messages)
                                          : Status(bad_request(where + ".role: must be user or "
                                                                       "assistant"));
        if (!st) {
            return std::move(st).error();
        }
    }
    out["messages"] = std::move(messages);

    if (const json::value* v = find(body, "max_tokens"); v != nullptr && !v->is_null()) {
        auto n = detail::as_integer(v);
        if (!n || *n <= 0) {
            return bad_request("max_tokens: must be a positive integer");
        }
        out["max_tokens"] = *n;
    }
    if (const json::value* v = find(body, "stop_sequences"); v != nullptr && !v->is_null()) {
        const json::array* a = v->if_array();
        if (a == nullptr) {
            return bad_request("stop_sequences: must be a list of strings");
        }
        for (const auto& s : *a) {
            if (!s.is_string()) {
                return bad_request("stop_sequences: must be a list of strings");
            }
        }
        if (!a->empty()) {
            out["stop"] = *a;
        }
    }
    for (std::string_view k : {"temperature", "top_p"}) {
        if (const json::value* v = find(body, k); v != nullptr && !v->is_null()) {
            if (!v->is_number()) {
                return bad_request(std::string(k) + ": must be a number");
            }
            out[k] = *v;
        }
    }

    if (const json::value* v = find(body, "tools"); v != nullptr && !v->is_null()) {
        const json::array* a = v->if_array();
        if (a == nullptr) {
            return bad_request("tools: must be a list");
        }
        json::array tools;
        for (std::size_t i = 0; i < a->size(); ++i) {
            std::string where = "tools[" + std::to_string(i) + "]";
            const json::object* t = (*a)[i].if_object();
            if (t == nullptr) {
                return bad_request(where + ": must be an object");
            }
            std::string_view type = find_string(*t, "type", "custom");
            std::string_view name = find_string(*t, "name");
            if (type != "custom" && find(*t, "input_schema") == nullptr) {
                return bad_request(where + ": Anthropic hosted tool '" + std::string(type) +
                                   "' cannot be sent to an OpenAI-format deployment");
            }
            if (name.empty()) {
                return bad_request(where + ".name: missing");
            }
            json::object fn;
            fn["name"] = name;
            if (const json::value* d = find(*t, "description"); d != nullptr && d->is_string()) {
                fn["description"] = *d;
            }
            const json::object* schema = find_object(*t, "input_schema");
            fn["parameters"] =
                schema != nullptr
                    ? json::value(*schema)
                    : json::value(json::object{{"type", "object"}, {"properties", json::object{}}});
            tools.push_back(json::object{{"type", "function"}, {"function", std::move(fn)}});
        }
        if (!tools.empty()) {
            out["tools"] = std::move(tools);
        }
    }
    if (const json::value* v = find(body, "tool_choice"); v != nullptr && !v->is_null()) {
        const json::object* tc = v->if_object();
        if (tc == nullptr) {
            return bad_request("tool_choice: must be an object");
        }
        std::string_view type = find_string(*tc, "type");
        if (type == "auto") {
            out["tool_choice"] = "auto";
        } else if (type == "any") {
            out["tool_choice"] = "required";
        } else if (type == "none") {
            out["tool_choice"] = "none";
        } else if (type == "tool") {
            std::string_view name = find_string(*tc, "name");
            if (name.empty()) {
                return bad_request("tool_choice.name: missing");
            }
            out["tool_choice"] =
                json::object{{"type", "function"}, {"function", json::object{{"name", name}}}};
        } else {
            return bad_request("tool_choice.type: expected auto, any, tool or none");
        }
        if (const json::value* d = find(*tc, "disable_parallel_tool_use");
            d != nullptr && d->is_bool() && d->get_bool() && out.contains("tools")) {
            out["parallel_tool_calls"] = false;
        }
        if (!out.contains("tools")) {
            out.erase("tool_choice");  // OpenAI rejects tool_choice without tools
        }
    }
    if (const json::object* th = find_object(body, "thinking");
        th != nullptr && find_string(*th, "type") == "enabled") {
        auto budget = detail::as_integer(find(*th, "budget_tokens"));
        std::int64_t b = budget.value_or(0);
        out["reasoning_effort"] = b <= 1024 ? "low" : b <= 2048 ? "medium" : "high";
    }
    if (const json::object* md = find_object(body, "metadata")) {
        std::string_view user = find_string(*md, "user_id");
        if (!user.empty()) {
            out["user"] = user;
        }
    }
    if (const json::value* v = find(body, "stream");
        v != nullptr && v->is_bool() && v->get_bool()) {
        out["stream"] = true;
        out["stream_options"] = json::object{{"include_usage", true}};
    }
    return json::serialize(out);
}

}  // namespace

Result<std::string> anthropic_to_openai_request(const boost::json::object& anthropic_body,
                                                std::string_view upstream_model) {
    return common::guard_translation([&] { return translate(anthropic_body, upstream_model); });
}

}  // namespace sy::providers::anthropic
