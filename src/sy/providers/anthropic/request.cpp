// OpenAI chat request -> Anthropic Messages request (providers.md §1.2-§1.4, §1.6).

#include <algorithm>
#include <boost/json.hpp>
#include <iterator>

#include "sy/providers/anthropic/detail/json_util.hpp"
#include "sy/providers/anthropic/translate.hpp"
#include "sy/providers/common/request_util.hpp"

namespace sy::providers::anthropic {
namespace {

namespace json = boost::json;
using common::in;
using common::is_gateway_only;
using common::positive_int;
using common::sv;
using detail::bad_request;
using detail::find;
using detail::find_array;
using detail::find_object;
using detail::find_string;
using detail::starts_with_ci;

// Params translated by this adapter.
constexpr std::string_view kSupported[] = {
    "model",
    "messages",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "top_k",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "user",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "reasoning_effort",
    "thinking",
    "functions",
    "function_call",
};

// `user` is forwarded only when it is not personal data (providers.md §1.2).
bool looks_like_email(std::string_view s) {
    auto at = s.find('@');
    if (at == std::string_view::npos || at == 0 || at + 1 >= s.size()) {
        return false;
    }
    std::string_view domain = s.substr(at + 1);
    auto dot = domain.find('.');
    return dot != std::string_view::npos && dot > 0 && dot + 1 < domain.size() &&
           s.find(' ') == std::string_view::npos;
}

bool looks_like_phone(std::string_view s) {
    int digits = 0;
    for (char c : s) {
        if (c >= '0' && c <= '9') {
            ++digits;
        } else if (c != '+' && c != '-' && c != ' ' && c != '(' && c != ')' && c != '.') {
            return false;
        }
    }
    return digits >= 7;
}

bool whitespace_only(std::string_view s) {
    return std::all_of(s.begin(), s.end(), [](char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
    });
}

// `data:<mime>;base64,<b64>` -> {"type":"base64","media_type","data"}.
Result<json::object> data_url_source(std::string_view url, std::string_view where) {
    auto du = common::parse_data_url(url, where);
    if (!du) {
        return std::move(du).error();
    }
    json::object src;
    src["type"] = "base64";
    src["media_type"] = du->mime;
    src["data"] = du->data;
    return src;
}

void copy_cache_control(const json::object& from, json::object& to) {
    if (const json::value* cc = find(from, "cache_control"); cc != nullptr && !cc->is_null()) {
        to["cache_control"] = *cc;
    }
}

// image_url part -> image block (data URL -> base64 source, http(s) URL -> url source; a PDF data
// URL -> document block).
Result<json::object> image_block(const json::object& part, std::string_view where) {
    std::string_view url;
    if (const json::value* iu = find(part, "image_url")) {
        if (const json::string* s = iu->if_string()) {
            url = sv(*s);
        } else if (const json::object* o = iu->if_object()) {
            url = find_string(*o, "url");
        }
    }
    if (url.empty()) {
        return bad_request(std::string(where) + ".image_url.url: missing");
    }
    json::object block;
    if (starts_with_ci(url, "data:")) {
        auto src = data_url_source(url, std::string(where) + ".image_url.url");
        if (!src) {
            return std::move(src).error();
        }
        bool pdf = find_string(*src, "media_type") == "application/pdf";
        block["type"] = pdf ? "document" : "image";
        block["source"] = std::move(*src);
    } else if (starts_with_ci(url, "https://") || starts_with_ci(url, "http://")) {
        // Passed by reference: Anthropic fetches it, the gateway never does (security.md S3b).
        block["type"] = "image";
        json::object src;
        src["type"] = "url";
        src["url"] = url;
        block["source"] = std::move(src);
    } else {
        return bad_request(std::string(where) +
                           ".image_url.url: expected a data: URL or an http(s) URL");
    }
    copy_cache_control(part, block);
    return block;
}

// One OpenAI content part -> zero or one Anthropic block. `allow_files` is false inside tool
// results, which take text and images only.
Status convert_part(const json::value& pv,
                    std::string_view where,
                    bool allow_files,
                    json::array& out) {
    const json::object* part = pv.if_object();
    if (part == nullptr) {
        if (const json::string* s = pv.if_string()) {
            if (!s->empty()) {
                out.push_back(json::object{{"type", "text"}, {"text", *s}});
            }
            return ok_status();
        }
        return bad_request(std::string(where) + ": content part must be an object");
    }
    std::string_view type = find_string(*part, "type");
    if (type == "text") {
        const json::value* t = find(*part, "text");
        if (t == nullptr || !t->is_string()) {
            return bad_request(std::string(where) + ".text: must be a string");
        }
        if (t->get_string().empty()) {
            return ok_status();  // Anthropic rejects empty text blocks
        }
        json::object b;
        b["type"] = "text";
        b["text"] = *t;
        copy_cache_control(*part, b);
        out.push_back(std::move(b));
        return ok_status();
    }
    if (type == "image_url") {
        auto b = image_block(*part, where);
        if (!b) {
            return std::move(b).error();
        }
        out.push_back(std::move(*b));
        return ok_status();
    }
    if (type == "file" && allow_files) {
        const json::object* f = find_object(*part, "file");
        std::string_view data = f != nullptr ? find_string(*f, "file_data") : std::string_view{};
        if (!starts_with_ci(data, "data:")) {
            return bad_request(
                std::string(where) +
                ".file: only inline file_data (data: URL) is supported by anthropic");
        }
        auto src = data_url_source(data, std::string(where) + ".file.file_data");
        if (!src) {
            return std::move(src).error();
        }
        json::object b;
        b["type"] = "document";
        b["source"] = std::move(*src);
        copy_cache_control(*part, b);
        out.push_back(std::move(b));
        return ok_status();
    }
    if (type == "image" || (type == "document" && allow_files)) {
        out.push_back(*part);  // already in Anthropic form
        return ok_status();
    }
    return bad_request(std::string(where) + ": content part type '" + std::string(type) +
                       "' is not supported by anthropic");
}

// OpenAI message content (string, list of parts or null) -> blocks. `from_string` is set when
// the content was a plain string (so an unmerged turn can stay a string).
Status convert_content(const json::value* content,
                       std::string_view where,
                       bool allow_files,
                       json::array& out,
                       bool& from_string) {
    from_string = false;
    if (content == nullptr || content->is_null()) {
        return ok_status();
    }
    if (const json::string* s = content->if_string()) {
        if (!s->empty()) {
            out.push_back(json::object{{"type", "text"}, {"text", *s}});
            from_string = true;
        }
        return ok_status();
    }
    if (const json::array* parts = content->if_array()) {
        for (std::size_t i = 0; i < parts->size(); ++i) {
            Status st = convert_part(
                (*parts)[i], std::string(where) + "[" + std::to_string(i) + "]", allow_files, out);
            if (!st) {
                return st;
            }
        }
        return ok_status();
    }
    return bad_request(std::string(where) + ": must be a string, a list of parts or null");
}

struct Turn {
    std::string role;
    json::array blocks;
    bool string_form = false;  // a single unmerged string content: sent as a string
};

class MessageBuilder {
public:
    Status add(const json::object& msg, std::size_t i);
    // Collapse, validate; fills system/messages.
    Status finish(const RequestOptions& opts, bool have_tools, json::object& out);
    bool uses_tools() const { return uses_tools_; }

private:
    void push(std::string role, json::array blocks, bool string_form);
    Status add_system(const json::object& msg, const std::string& where);
    Status add_user(const json::object& msg, const std::string& where);
    Status add_assistant(const json::object& msg, const std::string& where);
    Status add_tool_result(const json::object& msg, const std::string& where, bool legacy);

    json::array system_;
    std::vector<Turn> turns_;
    bool uses_tools_ = false;
    int legacy_calls_ = 0;
    std::string last_legacy_id_;
};

void apply_message_cache_control(const json::object& msg, json::array& blocks) {
    const json::value* cc = find(msg, "cache_control");
    if (cc == nullptr || cc->is_null() || blocks.empty()) {
        return;
    }
    if (json::object* last = blocks.back().if_object()) {
        (*last)["cache_control"] = *cc;
    }
}

void MessageBuilder::push(std::string role, json::array blocks, bool string_form) {
    if (blocks.empty()) {
        return;  // Anthropic rejects empty turns; a null/"" message carries nothing
    }
    if (!turns_.empty() && turns_.back().role == role) {
        Turn& t = turns_.back();
        t.string_form = false;
        for (auto& b : blocks) {
            t.blocks.push_back(std::move(b));
        }
        if (role == "user") {
            // Tool results must open the user turn that follows tool_use (providers.md §1.3).
            std::stable_partition(t.blocks.begin(), t.blocks.end(), [](const json::value& b) {
                const json::object* o = b.if_object();
                return o != nullptr && find_string(*o, "type") == "tool_result";
            });
        }
        return;
    }
    turns_.push_back(Turn{std::move(role), std::move(blocks), string_form});
}

Status MessageBuilder::add(const json::object& msg, std::size_t i) {
    std::string where = "messages[" + std::to_string(i) + "]";
    const json::value* rv = find(msg, "role");
    if (rv == nullptr || !rv->is_string()) {
        return bad_request(where + ".role: missing or not a string");
    }
    std::string_view role = sv(rv->get_string());
    if (role == "system" || role == "developer") {
        return add_system(msg, where);
    }
    if (role == "user") {
        return add_user(msg, where);
    }
    if (role == "assistant") {
        return add_assistant(msg, where);
    }
    if (role == "tool") {
        return add_tool_result(msg, where, false);
    }
    if (role == "function") {
        return add_tool_result(msg, where, true);
    }
    return bad_request(where + ".role: unknown role '" + std::string(role) + "'");
}

Status MessageBuilder::add_system(const json::object& msg, const std::string& where) {
    json::array blocks;
    bool from_string = false;
    Status st =
        convert_content(find(msg, "content"), where + ".content", false, blocks, from_string);
    if (!st) {
        return st;
    }
    for (auto& b : blocks) {
        if (find_string(b.as_object(), "type") != "text") {
            return bad_request(where + ".content: system messages take text only");
        }
    }
    apply_message_cache_control(msg, blocks);
    for (auto& b : blocks) {
        system_.push_back(std::move(b));
    }
    return ok_status();
}

Status MessageBuilder::add_user(const json::object& msg, const std::string& where) {
    json::array blocks;
    bool from_string = false;
    Status st =
        convert_content(find(msg, "content"), where + ".content", true, blocks, from_string);
    if (!st) {
        return st;
    }
    apply_message_cache_control(msg, blocks);
    bool has_cc = find(msg, "cache_control") != nullptr;
    push("user", std::move(blocks), from_string && !has_cc);
    return ok_status();
}

Result<json::object> tool_use_block(const json::object& call, const std::string& where) {
    std::string_view id = find_string(call, "id");
    const json::object* fn = find_object(call, "function");
    if (id.empty()) {
        return bad_request(where + ".id: missing");
    }
    std::string_view name = fn != nullptr ? find_string(*fn, "name") : std::string_view{};
    if (name.empty()) {
        return bad_request(where + ".function.name: missing");
    }
    json::object input;
    if (const json::value* args = find(*fn, "arguments"); args != nullptr && !args->is_null()) {
        if (const json::object* o = args->if_object()) {
            input = *o;
        } else if (const json::string* s = args->if_string()) {
            std::string_view text = sv(*s);
            if (!std::all_of(text.begin(), text.end(), [](char c) {
                    return c == ' ' || c == '\n' || c == '\t' || c == '\r';
                })) {
                json::value parsed;
                std::string why;
                if (!detail::parse_json(text, parsed, why) || !parsed.is_object()) {
                    return bad_request(where + ".function.arguments: not a JSON object (" +
                                       (why.empty() ? std::string("wrong type") : why) + ")");
                }
                input = std::move(parsed.get_object());
            }
        } else {
            return bad_request(where + ".function.arguments: must be a JSON string");
        }
    }
    json::object b;
    b["type"] = "tool_use";
    b["id"] = id;
    b["name"] = name;
    b["input"] = std::move(input);
    copy_cache_control(call, b);
    return b;
}

Status MessageBuilder::add_assistant(const json::object& msg, const std::string& where) {
    json::array blocks;
    // Thinking blocks returned earlier must precede the tool_use they led to.
    if (const json::array* tb = find_array(msg, "thinking_blocks")) {
        for (const auto& b : *tb) {
            const json::object* o = b.if_object();
            std::string_view t = o != nullptr ? find_string(*o, "type") : std::string_view{};
            if (t == "thinking" || t == "redacted_thinking") {
                blocks.push_back(*o);
            }
        }
    }
    json::array content;
    bool from_string = false;
    const json::value* cv = find(msg, "content");
    if (const json::array* parts = cv != nullptr ? cv->if_array() : nullptr) {
        // Assistant parts are text (or refusal) only.
        for (std::size_t i = 0; i < parts->size(); ++i) {
            const json::object* p = (*parts)[i].if_object();
            std::string pw = where + ".content[" + std::to_string(i) + "]";
            if (p == nullptr) {
                return bad_request(pw + ": content part must be an object");
            }
            std::string_view type = find_string(*p, "type");
            std::string_view text = find_string(*p, type == "refusal" ? "refusal" : "text");
            if (type != "text" && type != "refusal") {
                return bad_request(pw + ": assistant content part type '" + std::string(type) +
                                   "' is not supported by anthropic");
            }
            if (!text.empty()) {
                json::object b{{"type", "text"}, {"text", text}};
                copy_cache_control(*p, b);
                content.push_back(std::move(b));
            }
        }
    } else {
        Status st = convert_content(cv, where + ".content", false, content, from_string);
        if (!st) {
            return st;
        }
    }
    bool only_text = blocks.empty();
    for (auto& b : content) {
        blocks.push_back(std::move(b));
    }
    if (const json::value* tcv = find(msg, "tool_calls"); tcv != nullptr && !tcv->is_null()) {
        const json::array* tcs = tcv->if_array();
        if (tcs == nullptr) {
            return bad_request(where + ".tool_calls: must be a list");
        }
        for (std::size_t i = 0; i < tcs->size(); ++i) {
            std::string tw = where + ".tool_calls[" + std::to_string(i) + "]";
            const json::object* call = (*tcs)[i].if_object();
            if (call == nullptr) {
                return bad_request(tw + ": must be an object");
            }
            auto b = tool_use_block(*call, tw);
            if (!b) {
                return std::move(b).error();
            }
            blocks.push_back(std::move(*b));
            uses_tools_ = true;
            only_text = false;
        }
    }
    if (const json::object* fc = find_object(msg, "function_call")) {
        // Legacy single function call: synthesise an id the following `function` message uses.
        last_legacy_id_ = "call_legacy_" + std::to_string(++legacy_calls_);
        json::object call{{"id", last_legacy_id_}, {"function", *fc}};
        auto b = tool_use_block(call, where + ".function_call");
        if (!b) {
            return std::move(b).error();
        }
        blocks.push_back(std::move(*b));
        uses_tools_ = true;
        only_text = false;
    }
    apply_message_cache_control(msg, blocks);
    bool has_cc = find(msg, "cache_control") != nullptr;
    push("assistant", std::move(blocks), from_string && only_text && !has_cc);
    return ok_status();
}

Status MessageBuilder::add_tool_result(const json::object& msg,
                                       const std::string& where,
                                       bool legacy) {
    std::string id(find_string(msg, "tool_call_id"));
    if (id.empty() && legacy) {
        id = last_legacy_id_;
    }
    if (id.empty()) {
        return bad_request(where + ".tool_call_id: missing");
    }
    json::object b;
    b["type"] = "tool_result";
    b["tool_use_id"] = id;
    const json::value* cv = find(msg, "content");
    if (cv != nullptr && cv->is_string()) {
        b["content"] = *cv;
    } else if (cv != nullptr && cv->is_array()) {
        json::array parts;
        bool from_string = false;
        Status st = convert_content(cv, where + ".content", false, parts, from_string);
        if (!st) {
            return st;
        }
        b["content"] = std::move(parts);
    } else if (cv != nullptr && !cv->is_null()) {
        return bad_request(where + ".content: must be a string or a list of parts");
    }
    copy_cache_control(msg, b);
    uses_tools_ = true;
    push("user", json::array{std::move(b)}, false);
    return ok_status();
}

void rstrip_text(json::object& block) {
    json::value* t = block.if_contains("text");
    if (t == nullptr || !t->is_string()) {
        return;
    }
    std::string s(t->get_string());
    while (!s.empty() &&
           (s.back() == ' ' || s.back() == '\n' || s.back() == '\t' || s.back() == '\r')) {
        s.pop_back();
    }
    *t = s;
}

Status MessageBuilder::finish(const RequestOptions& opts, bool have_tools, json::object& out) {
    if (uses_tools_ && !have_tools) {
        if (!opts.modify_params) {
            return bad_request(
                "litellm.UnsupportedParamsError: Anthropic doesn't support tool calling without "
                "`tools=` param specified. Pass `tools=` param OR set `litellm.modify_params = "
                "True` // `litellm_settings::modify_params: True` to add dummy tool to the "
                "request.");
        }
    }
    if (opts.modify_params && !turns_.empty() && turns_.front().role == "assistant") {
        turns_.insert(
            turns_.begin(),
            Turn{"user", json::array{json::object{{"type", "text"}, {"text", "."}}}, true});
    }
    if (turns_.empty()) {
        return bad_request("messages: at least one non-system message with content is required");
    }
    // A final assistant turn is a prefill; Anthropic rejects trailing whitespace in it.
    if (turns_.back().role == "assistant") {
        json::array& bl = turns_.back().blocks;
        json::object& last = bl.back().as_object();
        if (find_string(last, "type") == "text") {
            rstrip_text(last);
            if (find_string(last, "text").empty()) {
                bl.pop_back();
            }
        }
        if (bl.empty()) {
            turns_.pop_back();
            if (turns_.empty()) {
                return bad_request(
                    "messages: at least one non-system message with content is required");
            }
        }
    }
    if (!system_.empty()) {
        out["system"] = std::move(system_);
    }
    json::array messages;
    for (auto& t : turns_) {
        json::object m;
        m["role"] = t.role;
        if (t.string_form && t.blocks.size() == 1) {
            m["content"] = t.blocks[0].as_object()["text"];
        } else {
            m["content"] = std::move(t.blocks);
        }
        messages.push_back(std::move(m));
    }
    out["messages"] = std::move(messages);
    return ok_status();
}

// OpenAI tool -> Anthropic tool.
Status convert_tool(const json::value& tv, std::string_view where, json::array& out) {
    const json::object* t = tv.if_object();
    if (t == nullptr) {
        return bad_request(std::string(where) + ": must be an object");
    }
    if (find(*t, "input_schema") != nullptr) {
        out.push_back(*t);  // already Anthropic form
        return ok_status();
    }
    std::string_view type = find_string(*t, "type", "function");
    const json::object* fn = find_object(*t, "function");
    if (type != "function" || fn == nullptr) {
        if (type != "function" && fn == nullptr) {
            out.push_back(*t);  // Anthropic hosted tool (web_search_..., bash_...)
            return ok_status();
        }
        return bad_request(std::string(where) + ".function: missing");
    }
    std::string_view name = find_string(*fn, "name");
    if (name.empty()) {
        return bad_request(std::string(where) + ".function.name: missing");
    }
    json::object a;
    a["name"] = name;
    if (const json::value* d = find(*fn, "description"); d != nullptr && d->is_string()) {
        a["description"] = *d;
    }
    const json::value* params = find(*fn, "parameters");
    if (params != nullptr && params->is_object()) {
        a["input_schema"] = *params;
    } else {
        a["input_schema"] = json::object{{"type", "object"}, {"properties", json::object{}}};
    }
    copy_cache_control(*t, a);
    copy_cache_control(*fn, a);
    out.push_back(std::move(a));
    return ok_status();
}

// OpenAI tool_choice -> Anthropic tool_choice; null result = none given.
Result<json::value> convert_tool_choice(const json::value& v, std::string_view where) {
    if (const json::string* s = v.if_string()) {
        if (*s == "auto") {
            return json::value(json::object{{"type", "auto"}});
        }
        if (*s == "required" || *s == "any") {
            return json::value(json::object{{"type", "any"}});
        }
        if (*s == "none") {
            return json::value(json::object{{"type", "none"}});
        }
        return bad_request(std::string(where) + ": unknown value '" + std::string(sv(*s)) + "'");
    }
    if (const json::object* o = v.if_object()) {
        std::string_view type = find_string(*o, "type");
        if (type == "function") {
            const json::object* fn = find_object(*o, "function");
            std::string_view name = fn != nullptr ? find_string(*fn, "name") : std::string_view{};
            if (name.empty()) {
                return bad_request(std::string(where) + ".function.name: missing");
            }
            return json::value(json::object{{"type", "tool"}, {"name", name}});
        }
        if (type == "auto" || type == "any" || type == "none" || type == "tool") {
            return json::value(*o);  // already Anthropic form
        }
        return bad_request(std::string(where) + ".type: unknown value '" + std::string(type) + "'");
    }
    return bad_request(std::string(where) + ": must be a string or an object");
}

Result<std::string> translate(const json::object& body, const RequestOptions& opts) {
    // 1. Parameter admission: additional_drop_params, gateway-only fields, unsupported params.
    std::vector<std::string> unsupported;
    auto dropped = [&](std::string_view k) {
        return std::find(opts.additional_drop_params.begin(),
                         opts.additional_drop_params.end(),
                         k) != opts.additional_drop_params.end();
    };
    auto get = [&](std::string_view k) -> const json::value* {
        if (dropped(k)) {
            return nullptr;
        }
        const json::value* v = find(body, k);
        return v != nullptr && !v->is_null() ? v : nullptr;
    };
    for (const auto& kv : body) {
        std::string_view k = kv.key();
        if (dropped(k) || in(kSupported, k) || is_gateway_only(k) || kv.value().is_null()) {
            continue;
        }
        if (!opts.drop_params) {
            unsupported.emplace_back(k);
        }
    }
    if (!unsupported.empty()) {
        return common::unsupported_params_error("anthropic", unsupported, opts.upstream_model);
    }

    json::object out;
    out["model"] = opts.upstream_model;

    // 2. max_tokens (required by Anthropic).
    std::int64_t max_tokens =
        opts.default_max_tokens > 0 ? opts.default_max_tokens : kDefaultMaxTokens;
    if (const json::value* v = get("max_completion_tokens")) {
        auto n = positive_int(*v, "max_completion_tokens");
        if (!n) {
            return std::move(n).error();
        }
        max_tokens = *n;
    } else if (const json::value* mv = get("max_tokens")) {
        auto n = positive_int(*mv, "max_tokens");
        if (!n) {
            return std::move(n).error();
        }
        max_tokens = *n;
    }
    out["max_tokens"] = max_tokens;

    // 3. stop -> stop_sequences.
    if (const json::value* v = get("stop")) {
        json::array seqs;
        auto add = [&](const json::value& s) -> Status {
            const json::string* str = s.if_string();
            if (str == nullptr) {
                return bad_request("stop: must be a string or a list of strings");
            }
            if (opts.drop_params && whitespace_only(sv(*str))) {
                return ok_status();
            }
            seqs.push_back(*str);
            return ok_status();
        };
        if (const json::array* a = v->if_array()) {
            for (const auto& s : *a) {
                if (Status st = add(s); !st) {
                    return std::move(st).error();
                }
            }
        } else if (Status st = add(*v); !st) {
            return std::move(st).error();
        }
        if (!seqs.empty()) {
            out["stop_sequences"] = std::move(seqs);
        }
    }

    // 4. user -> metadata.user_id.
    if (const json::value* v = get("user")) {
        const json::string* u = v->if_string();
        if (u == nullptr) {
            return bad_request("user: must be a string");
        }
        if (!u->empty() && !looks_like_email(sv(*u)) && !looks_like_phone(sv(*u))) {
            out["metadata"] = json::object{{"user_id", *u}};
        }
    }

    // 5. thinking: given directly, else from reasoning_effort.
    bool thinking_on = false;
    if (const json::value* v = get("thinking")) {
        if (!v->is_object()) {
            return bad_request("thinking: must be an object");
        }
        out["thinking"] = *v;
        thinking_on = find_string(v->get_object(), "type") == "enabled";
    } else if (const json::value* re = get("reasoning_effort")) {
        const json::string* s = re->if_string();
        std::int64_t budget = -1;
        if (s != nullptr && (*s == "low" || *s == "minimal")) {
            budget = 1024;
        } else if (s != nullptr && *s == "medium") {
            budget = 2048;
        } else if (s != nullptr && *s == "high") {
            budget = 4096;
        } else if (s != nullptr && *s == "none") {
            budget = 0;
        } else {
            return bad_request(
                "reasoning_effort: expected one of none, minimal, low, medium, high");
        }
        if (budget > 0) {
            out["thinking"] = json::object{{"type", "enabled"}, {"budget_tokens", budget}};
            thinking_on = true;
        }
    }

    // 6. Messages.
    const json::value* mv = get("messages");
    const json::array* msgs = mv != nullptr ? mv->if_array() : nullptr;
    if (msgs == nullptr || msgs->empty()) {
        return bad_request("messages: must be a non-empty list");
    }

    // 7. Tools, tool_choice, parallel_tool_calls, response_format.
    json::array tools;
    if (const json::value* v = get("tools")) {
        const json::array* a = v->if_array();
        if (a == nullptr) {
            return bad_request("tools: must be a list");
        }
        for (std::size_t i = 0; i < a->size(); ++i) {
            if (Status st = convert_tool((*a)[i], "tools[" + std::to_string(i) + "]", tools); !st) {
                return std::move(st).error();
            }
        }
    }
    if (const json::value* v = get("functions")) {
        const json::array* a = v->if_array();
        if (a == nullptr) {
            return bad_request("functions: must be a list");
        }
        for (std::size_t i = 0; i < a->size(); ++i) {
            json::object wrapped{{"type", "function"}, {"function", (*a)[i]}};
            if (Status st = convert_tool(wrapped, "functions[" + std::to_string(i) + "]", tools);
                !st) {
                return std::move(st).error();
            }
        }
    }
    json::value choice;  // null = none given
    if (const json::value* v = get("tool_choice")) {
        auto c = convert_tool_choice(*v, "tool_choice");
        if (!c) {
            return std::move(c).error();
        }
        choice = std::move(*c);
    } else if (const json::value* fc = get("function_call")) {
        json::value converted = *fc;
        if (const json::object* o = fc->if_object()) {
            converted = json::object{{"type", "function"}, {"function", *o}};
        }
        auto c = convert_tool_choice(converted, "function_call");
        if (!c) {
            return std::move(c).error();
        }
        choice = std::move(*c);
    }
    if (const json::value* rf = get("response_format")) {
        const json::object* o = rf->if_object();
        if (o == nullptr) {
            return bad_request("response_format: must be an object");
        }
        std::string_view type = find_string(*o, "type");
        json::value schema;
        if (type == "json_object") {
            schema = json::object{{"type", "object"}};
        } else if (type == "json_schema") {
            const json::object* js = find_object(*o, "json_schema");
            const json::object* s = js != nullptr ? find_object(*js, "schema") : nullptr;
            schema = s != nullptr ? json::value(*s) : json::value(json::object{{"type", "object"}});
        } else if (type != "text") {
            return bad_request("response_format.type: expected text, json_object or json_schema");
        }
        if (!schema.is_null()) {
            tools.push_back(json::object{{"name", kJsonToolName}, {"input_schema", schema}});
            if (!thinking_on) {
                // Anthropic refuses a forced tool while extended thinking is on.
                choice = json::object{{"type", "tool"}, {"name", kJsonToolName}};
            }
        }
    }
    if (const json::value* v = get("parallel_tool_calls")) {
        if (!v->is_bool()) {
            return bad_request("parallel_tool_calls: must be a boolean");
        }
        if (!v->get_bool()) {
            if (choice.is_null()) {
                choice = json::object{{"type", "auto"}};
            }
            json::object& c = choice.as_object();
            if (find_string(c, "type") != "none") {
                c["disable_parallel_tool_use"] = true;
            }
        }
    }

    MessageBuilder mb;
    for (std::size_t i = 0; i < msgs->size(); ++i) {
        const json::object* m = (*msgs)[i].if_object();
        if (m == nullptr) {
            return bad_request("messages[" + std::to_string(i) + "]: must be an object");
        }
        if (Status st = mb.add(*m, i); !st) {
            return std::move(st).error();
        }
    }
    if (mb.uses_tools() && tools.empty() && opts.modify_params) {
        tools.push_back(json::object{
            {"name", "dummy_tool"},
            {"description", "placeholder"},
            {"input_schema", json::object{{"type", "object"}, {"properties", json::object{}}}}});
    }
    if (Status st = mb.finish(opts, !tools.empty(), out); !st) {
        return std::move(st).error();
    }
    if (!tools.empty()) {
        out["tools"] = std::move(tools);
        if (!choice.is_null()) {
            out["tool_choice"] = std::move(choice);
        }
    }

    // 8. Sampling.
    for (std::string_view k : {"temperature", "top_p", "top_k"}) {
        if (const json::value* v = get(k)) {
            if (!v->is_number()) {
                return bad_request(std::string(k) + ": must be a number");
            }
            out[k] = *v;
        }
    }
    if (const json::value* v = get("stream")) {
        if (!v->is_bool()) {
            return bad_request("stream: must be a boolean");
        }
        if (v->get_bool()) {
            out["stream"] = true;
        }
    }
    return json::serialize(out);
}

}  // namespace

Result<std::string> openai_to_anthropic_request(const boost::json::object& openai_chat_body,
                                                const RequestOptions& opts) {
    return common::guard_translation([&] { return translate(openai_chat_body, opts); });
}

}  // namespace sy::providers::anthropic
