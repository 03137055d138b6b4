// OpenAI chat request -> Gemini generateContent request (providers.md §4.1).

#include <algorithm>
#include <boost/json.hpp>
#include <iterator>
#include <map>

#include "sy/providers/common/request_util.hpp"
#include "sy/providers/gemini/detail/json_util.hpp"
#include "sy/providers/gemini/translate.hpp"

namespace sy::providers::gemini {
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

// Params translated by this adapter. `user` is the gateway's end-user id (api.md §2.1): accepted,
// never forwarded (Gemini has no such field). `parallel_tool_calls` is accepted only as `true`.
constexpr std::string_view kSupported[] = {
    "model",
    "messages",
    "stream",
    "stream_options",
    "temperature",
    "top_p",
    "top_k",
    "n",
    "stop",
    "max_tokens",
    "max_completion_tokens",
    "presence_penalty",
    "frequency_penalty",
    "seed",
    "user",
    "tools",
    "tool_choice",
    "parallel_tool_calls",
    "response_format",
    "reasoning_effort",
    "thinking",
    "functions",
    "function_call",
    "safety_settings",
};

// Gemini-native tool objects passed through as their own `tools` entries (snake_case spellings
// are normalised to camelCase, providers.md §4).
constexpr std::pair<std::string_view, std::string_view> kNativeTools[] = {
    {"googleSearch", "googleSearch"},
    {"google_search", "googleSearch"},
    {"googleSearchRetrieval", "googleSearchRetrieval"},
    {"google_search_retrieval", "googleSearchRetrieval"},
    {"codeExecution", "codeExecution"},
    {"code_execution", "codeExecution"},
    {"urlContext", "urlContext"},
    {"url_context", "urlContext"},
};

// Schema keywords Gemini's OpenAPI-subset Schema accepts. Everything else (additionalProperties,
// $schema, strict, $defs, patternProperties, exclusiveMinimum, ...) is rejected upstream with
// "Unknown name", so it is removed.
constexpr std::string_view kSchemaScalars[] = {
    "description",
    "title",
    "nullable",
    "minItems",
    "maxItems",
    "minLength",
    "maxLength",
    "minProperties",
    "maxProperties",
    "minimum",
    "maximum",
    "pattern",
    "default",
    "example",
    "propertyOrdering",
};

// `format` values Gemini accepts (STRING: enum, date-time; INTEGER: int32, int64; NUMBER: float,
// double); others ("email", "uri", ...) are removed.
constexpr std::string_view kSchemaFormats[] = {
    "enum", "date-time", "int32", "int64", "float", "double"};

// Bounds for schema cleaning: $ref expansion can recurse or blow up exponentially.
constexpr int kMaxSchemaDepth = 64;
constexpr std::size_t kMaxSchemaNodes = 20000;

std::string at(std::string_view where, std::size_t i) {
    return std::string(where) + "[" + std::to_string(i) + "]";
}

// ---------------------------------------------------------------------------------------------
// JSON schema -> Gemini Schema
// ---------------------------------------------------------------------------------------------

class SchemaCleaner {
public:
    SchemaCleaner(const json::object& root, std::string where)
        : root_(root), where_(std::move(where)) {}

    Result<json::object> clean(const json::value& v, int depth);

private:
    Result<const json::value*> resolve(std::string_view ref);
    Status merge_alternatives(const json::array& alts,
                              std::string_view keyword,
                              json::object& out,
                              int depth);
    static void merge_into(json::object& out, const json::object& in);

    const json::object& root_;
    std::string where_;
    std::size_t nodes_ = 0;
};

Result<const json::value*> SchemaCleaner::resolve(std::string_view ref) {
    std::string_view rest;
    const json::object* defs = nullptr;
    if (ref.substr(0, 8) == "#/$defs/") {
        rest = ref.substr(8);
        defs = find_object(root_, "$defs");
    } else if (ref.substr(0, 14) == "#/definitions/") {
        rest = ref.substr(14);
        defs = find_object(root_, "definitions");
    }
    // JSON pointer unescaping (~1 -> '/', ~0 -> '~'); nested pointers are not supported.
    std::string name;
    for (std::size_t i = 0; i < rest.size(); ++i) {
        if (rest[i] == '~' && i + 1 < rest.size() && (rest[i + 1] == '0' || rest[i + 1] == '1')) {
            name.push_back(rest[i + 1] == '0' ? '~' : '/');
            ++i;
        } else {
            name.push_back(rest[i]);
        }
    }
    const json::value* target = defs != nullptr && !name.empty() ? find(*defs, name) : nullptr;
    if (target == nullptr || name.find('/') != std::string::npos) {
        return bad_request(where_ + ": cannot resolve $ref '" + detail::truncate_utf8(ref, 200) +
                           "' (only local #/$defs/<name> and #/definitions/<name> are supported)");
    }
    return target;
}

void SchemaCleaner::merge_into(json::object& out, const json::object& in) {
    for (const auto& kv : in) {
        if (kv.key() == "properties" && kv.value().is_object()) {
            json::value& p = out["properties"];
            if (!p.is_object()) {
                p = json::object{};
            }
            for (const auto& pk : kv.value().get_object()) {
                if (!p.get_object().contains(pk.key())) {
                    p.get_object()[pk.key()] = pk.value();
                }
            }
        } else if (kv.key() == "required" && kv.value().is_array()) {
            json::value& r = out["required"];
            if (!r.is_array()) {
                r = json::array{};
            }
            for (const auto& name : kv.value().get_array()) {
                if (std::find(r.get_array().begin(), r.get_array().end(), name) ==
                    r.get_array().end()) {
                    r.get_array().push_back(name);
                }
            }
        } else if (!out.contains(kv.key())) {
            out[kv.key()] = kv.value();
        }
    }
}

// anyOf / oneOf / allOf: `{"type":"null"}` alternatives become `nullable`; a single remaining
// alternative (or every allOf member) is merged into the schema itself.
Status SchemaCleaner::merge_alternatives(const json::array& alts,
                                         std::string_view keyword,
                                         json::object& out,
                                         int depth) {
    json::array kept;
    for (const auto& a : alts) {
        const json::object* ao = a.if_object();
        if (ao != nullptr && ao->size() == 1 && find_string(*ao, "type") == "null") {
            out["nullable"] = true;
            continue;
        }
        auto c = clean(a, depth + 1);
        if (!c) {
            return std::move(c).error();
        }
        kept.push_back(std::move(*c));
    }
    if (keyword == "allOf" || kept.size() == 1) {
        for (const auto& k : kept) {
            merge_into(out, k.get_object());
        }
    } else if (!kept.empty()) {
        out["anyOf"] = std::move(kept);
    }
    return ok_status();
}

Result<json::object> SchemaCleaner::clean(const json::value& v, int depth) {
    if (depth > kMaxSchemaDepth || ++nodes_ > kMaxSchemaNodes) {
        return bad_request(where_ + ": schema too deep or too large (recursive $ref?)");
    }
    const json::object* o = v.if_object();
    if (o == nullptr) {
        if (v.is_bool()) {
            return json::object{};  // `true` / `false` schemas: no constraint expressible
        }
        return bad_request(where_ + ": a schema must be an object");
    }
    json::object out;
    if (const json::value* ref = find(*o, "$ref")) {
        if (!ref->is_string()) {
            return bad_request(where_ + ": $ref must be a string");
        }
        auto target = resolve(sv(ref->get_string()));
        if (!target) {
            return std::move(target).error();
        }
        auto resolved = clean(**target, depth + 1);
        if (!resolved) {
            return std::move(resolved).error();
        }
        out = std::move(*resolved);
        // Sibling keywords (description, ...) refine the referenced schema.
    }
    for (const auto& kv : *o) {
        std::string_view k = kv.key();
        const json::value& val = kv.value();
        if (k == "type") {
            if (const json::string* s = val.if_string()) {
                if (*s == "null") {
                    out["nullable"] = true;
                } else {
                    out["type"] = *s;
                }
            } else if (const json::array* types = val.if_array()) {
                json::array rest;
                for (const auto& t : *types) {
                    if (t.is_string() && t.get_string() == "null") {
                        out["nullable"] = true;
                    } else if (t.is_string()) {
                        rest.push_back(t);
                    }
                }
                if (rest.size() == 1) {
                    out["type"] = rest[0];
                } else if (rest.size() > 1) {
                    json::array alts;
                    for (auto& t : rest) {
                        alts.push_back(json::object{{"type", t}});
                    }
                    out["anyOf"] = std::move(alts);
                }
            }
        } else if (k == "properties") {
            const json::object* props = val.if_object();
            if (props == nullptr) {
                continue;
            }
            json::object cleaned;
            for (const auto& p : *props) {
                auto c = clean(p.value(), depth + 1);
                if (!c) {
                    return std::move(c).error();
                }
                cleaned[p.key()] = std::move(*c);
            }
            if (!cleaned.empty()) {
                out["properties"] = std::move(cleaned);  // Gemini rejects empty OBJECT properties
            }
        } else if (k == "items") {
            const json::value* item = &val;
            if (const json::array* tuple = val.if_array()) {
                if (tuple->empty()) {
                    continue;
                }
                item = &tuple->front();  // tuple validation: Gemini has one item schema
            }
            auto c = clean(*item, depth + 1);
            if (!c) {
                return std::move(c).error();
            }
            out["items"] = std::move(*c);
        } else if (k == "anyOf" || k == "oneOf" || k == "allOf") {
            if (const json::array* alts = val.if_array()) {
                if (Status st = merge_alternatives(*alts, k, out, depth); !st) {
                    return std::move(st).error();
                }
            }
        } else if (k == "enum") {
            const json::array* e = val.if_array();
            // Gemini enums are STRING-only; a numeric enum is dropped rather than rejected.
            if (e != nullptr && !e->empty() &&
                std::all_of(
                    e->begin(), e->end(), [](const json::value& x) { return x.is_string(); })) {
                out["enum"] = *e;
            }
        } else if (k == "const") {
            if (val.is_string()) {
                out["enum"] = json::array{val};
            }
        } else if (k == "required") {
            if (const json::array* r = val.if_array()) {
                json::array names;
                for (const auto& n : *r) {
                    if (n.is_string()) {
                        names.push_back(n);
                    }
                }
                out["required"] = std::move(names);
            }
        } else if (k == "format") {
            if (val.is_string() && in(kSchemaFormats, sv(val.get_string()))) {
                out["format"] = val;
            }
        } else if (k == "nullable") {
            if (val.is_bool() && val.get_bool()) {
                out["nullable"] = true;
            }
        } else if (in(kSchemaScalars, k)) {
            out[k] = val;
        }
        // $ref (handled above), $schema, $id, $defs, definitions, additionalProperties, strict,
        // examples, patternProperties, not, if/then/else, ...: removed.
    }
    // Gemini enums are typed STRING (`const: "x"` and untyped string enums need the type).
    if (out.contains("enum") && !out.contains("type") && !out.contains("anyOf")) {
        out["type"] = "string";
    }
    // `required` may only name declared properties.
    if (json::value* r = out.if_contains("required")) {
        const json::object* props = find_object(out, "properties");
        json::array kept;
        for (const auto& n : r->get_array()) {
            if (props != nullptr && props->contains(n.get_string())) {
                kept.push_back(n);
            }
        }
        if (kept.empty()) {
            out.erase("required");
        } else {
            *r = std::move(kept);
        }
    }
    return out;
}

Result<json::object> clean_schema(const json::object& schema, std::string where) {
    SchemaCleaner c(schema, std::move(where));
    return c.clean(schema, 0);
}

// ---------------------------------------------------------------------------------------------
// Content parts
// ---------------------------------------------------------------------------------------------

std::string lower_ascii(std::string_view s) {
    std::string out(s);
    for (char& c : out) {
        if (c >= 'A' && c <= 'Z') {
            c = static_cast<char>(c - 'A' + 'a');
        }
    }
    return out;
}

// MIME type from the extension of a URL's path; "" when unknown.
std::string_view guess_mime(std::string_view url) {
    std::string_view path = url.substr(0, url.find_first_of("?#"));
    auto slash = path.rfind('/');
    std::string_view file = slash == std::string_view::npos ? path : path.substr(slash + 1);
    auto dot = file.rfind('.');
    if (dot == std::string_view::npos) {
        return {};
    }
    std::string ext = lower_ascii(file.substr(dot + 1));
    static constexpr std::pair<std::string_view, std::string_view> kTypes[] = {
        {"png", "image/png"},   {"jpg", "image/jpeg"},      {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},   {"webp", "image/webp"},     {"heic", "image/heic"},
        {"heif", "image/heif"}, {"pdf", "application/pdf"}, {"txt", "text/plain"},
        {"mp3", "audio/mp3"},   {"wav", "audio/wav"},       {"ogg", "audio/ogg"},
        {"flac", "audio/flac"}, {"aac", "audio/aac"},       {"m4a", "audio/m4a"},
        {"mp4", "video/mp4"},   {"mov", "video/mov"},       {"mpeg", "video/mpeg"},
        {"mpg", "video/mpg"},   {"webm", "video/webm"},     {"avi", "video/avi"},
        {"wmv", "video/wmv"},   {"flv", "video/x-flv"},     {"3gp", "video/3gpp"},
    };
    for (const auto& [e, mime] : kTypes) {
        if (ext == e) {
            return mime;
        }
    }
    return {};
}

// `data:<mime>;base64,<b64>` -> {"inlineData":{"mimeType","data"}}.
Result<json::object> inline_data_part(std::string_view url, const std::string& where) {
    auto du = common::parse_data_url(url, where);
    if (!du) {
        return std::move(du).error();
    }
    return json::object{{"inlineData", json::object{{"mimeType", du->mime}, {"data", du->data}}}};
}

// A data URL -> inlineData; an http(s) or gs:// URL -> fileData (Gemini reads it; nothing is
// fetched here). `mime` overrides the guess; `dflt_mime` is used when neither is known.
Result<json::object> media_part(std::string_view url,
                                std::string_view mime,
                                std::string_view dflt_mime,
                                const std::string& where) {
    if (url.empty()) {
        return bad_request(where + ": missing URL");
    }
    if (starts_with_ci(url, "data:")) {
        return inline_data_part(url, where);
    }
    if (!starts_with_ci(url, "https://") && !starts_with_ci(url, "http://") &&
        !starts_with_ci(url, "gs://")) {
        return bad_request(where + ": expected a data: URL or an https URL");
    }
    if (mime.empty()) {
        mime = guess_mime(url);
    }
    if (mime.empty()) {
        mime = dflt_mime;
    }
    json::object fd;
    if (!mime.empty()) {
        fd["mimeType"] = mime;
    }
    fd["fileUri"] = url;
    return json::object{{"fileData", std::move(fd)}};
}

std::string_view image_url_of(const json::object& part, std::string_view* format) {
    const json::value* iu = find(part, "image_url");
    if (iu == nullptr) {
        return {};
    }
    if (const json::string* s = iu->if_string()) {
        return sv(*s);
    }
    if (const json::object* o = iu->if_object()) {
        if (format != nullptr) {
            *format = find_string(*o, "format");
        }
        return find_string(*o, "url");
    }
    return {};
}

enum class PartsAllowed : std::uint8_t { kTextOnly, kAll };

// One OpenAI content part -> zero or one Gemini part.
Status convert_part(const json::value& pv,
                    const std::string& where,
                    PartsAllowed allowed,
                    json::array& out) {
    const json::object* part = pv.if_object();
    if (part == nullptr) {
        if (const json::string* s = pv.if_string()) {
            if (!s->empty()) {
                out.push_back(json::object{{"text", *s}});
            }
            return ok_status();
        }
        return bad_request(where + ": content part must be an object");
    }
    std::string_view type = find_string(*part, "type");
    if (type == "text" || type == "refusal") {
        const json::value* t = find(*part, type);
        if (t == nullptr || !t->is_string()) {
            return bad_request(where + "." + std::string(type) + ": must be a string");
        }
        if (!t->get_string().empty()) {
            out.push_back(json::object{{"text", *t}});
        }
        return ok_status();
    }
    if (allowed == PartsAllowed::kTextOnly) {
        return bad_request(where + ": system messages take text only");
    }
    if (type == "image_url") {
        std::string_view format;
        std::string_view url = image_url_of(*part, &format);
        auto p = media_part(url, format, "image/jpeg", where + ".image_url.url");
        if (!p) {
            return std::move(p).error();
        }
        out.push_back(std::move(*p));
        return ok_status();
    }
    if (type == "input_audio") {
        const json::object* a = find_object(*part, "input_audio");
        std::string_view data = a != nullptr ? find_string(*a, "data") : std::string_view{};
        std::string_view format = a != nullptr ? find_string(*a, "format") : std::string_view{};
        if (data.empty() || format.empty()) {
            return bad_request(where + ".input_audio: data and format are required");
        }
        out.push_back(json::object{
            {"inlineData",
             json::object{{"mimeType", "audio/" + lower_ascii(format)}, {"data", data}}}});
        return ok_status();
    }
    if (type == "file") {
        const json::object* f = find_object(*part, "file");
        if (f == nullptr) {
            return bad_request(where + ".file: missing");
        }
        std::string_view format = find_string(*f, "format");
        std::string_view data = find_string(*f, "file_data");
        std::string_view id = find_string(*f, "file_id");
        if (!data.empty()) {
            if (!starts_with_ci(data, "data:")) {
                return bad_request(where + ".file.file_data: expected a data: URL");
            }
            auto p = inline_data_part(data, where + ".file.file_data");
            if (!p) {
                return std::move(p).error();
            }
            out.push_back(std::move(*p));
            return ok_status();
        }
        auto p = media_part(id, format, {}, where + ".file.file_id");
        if (!p) {
            return std::move(p).error();
        }
        out.push_back(std::move(*p));
        return ok_status();
    }
    return bad_request(where + ": content part type '" + detail::truncate_utf8(type, 100) +
                       "' is not supported by gemini");
}

// OpenAI message content (string, list of parts or null) -> parts.
Status convert_content(const json::value* content,
                       const std::string& where,
                       PartsAllowed allowed,
                       json::array& out) {
    if (content == nullptr || content->is_null()) {
        return ok_status();
    }
    if (const json::string* s = content->if_string()) {
        if (!s->empty()) {
            out.push_back(json::object{{"text", *s}});
        }
        return ok_status();
    }
    if (const json::array* parts = content->if_array()) {
        for (std::size_t i = 0; i < parts->size(); ++i) {
            if (Status st = convert_part((*parts)[i], at(where, i), allowed, out); !st) {
                return st;
            }
        }
        return ok_status();
    }
    return bad_request(where + ": must be a string, a list of parts or null");
}

// Tool-call `arguments` (JSON text, or an object some clients send) -> functionCall.args.
Result<json::object> parse_arguments(const json::value* args, const std::string& where) {
    if (args == nullptr || args->is_null()) {
        return json::object{};
    }
    if (const json::object* o = args->if_object()) {
        return *o;
    }
    const json::string* s = args->if_string();
    if (s == nullptr) {
        return bad_request(where + ": must be a JSON string");
    }
    std::string_view text = sv(*s);
    if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) {
        return json::object{};
    }
    json::value v;
    std::string why;
    if (!detail::parse_json(text, v, why)) {
        return bad_request(where + ": not valid JSON (" + why + ")");
    }
    if (!v.is_object()) {
        return bad_request(where + ": must encode a JSON object");
    }
    return std::move(v.get_object());
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

struct Turn {
    std::string role;  // "user" or "model"
    json::array parts;
};

bool is_function_response(const json::value& p) {
    const json::object* o = p.if_object();
    return o != nullptr && o->contains("functionResponse");
}

class MessageBuilder {
public:
    Status add(const json::object& msg, std::size_t i);
    Status finish(json::object& out);

private:
    void push(std::string_view role, json::array parts);
    Status add_assistant(const json::object& msg, const std::string& where);
    Status add_tool_result(const json::object& msg, const std::string& where, bool legacy);

    json::array system_;
    std::vector<Turn> turns_;
    std::map<std::string, std::string, std::less<>> call_names_;  // tool_call id -> name
    std::string last_legacy_name_;
};

void MessageBuilder::push(std::string_view role, json::array parts) {
    if (parts.empty()) {
        return;  // Gemini rejects turns without parts; a null/"" message carries nothing
    }
    if (!turns_.empty() && turns_.back().role == role) {
        Turn& t = turns_.back();
        for (auto& p : parts) {
            t.parts.push_back(std::move(p));
        }
        if (role == "user") {
            // Function responses must directly answer the model turn's calls.
            std::stable_partition(t.parts.begin(), t.parts.end(), is_function_response);
        }
        return;
    }
    turns_.push_back(Turn{std::string(role), std::move(parts)});
}

Status MessageBuilder::add(const json::object& msg, std::size_t i) {
    std::string where = at("messages", i);
    const json::value* rv = find(msg, "role");
    if (rv == nullptr || !rv->is_string()) {
        return bad_request(where + ".role: missing or not a string");
    }
    std::string_view role = sv(rv->get_string());
    if (role == "system" || role == "developer") {
        return convert_content(
            find(msg, "content"), where + ".content", PartsAllowed::kTextOnly, system_);
    }
    if (role == "user") {
        json::array parts;
        if (Status st = convert_content(
                find(msg, "content"), where + ".content", PartsAllowed::kAll, parts);
            !st) {
            return st;
        }
        push("user", std::move(parts));
        return ok_status();
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
    return bad_request(where + ".role: unknown role '" + detail::truncate_utf8(role, 100) + "'");
}

Status MessageBuilder::add_assistant(const json::object& msg, const std::string& where) {
    json::array parts;
    if (Status st =
            convert_content(find(msg, "content"), where + ".content", PartsAllowed::kAll, parts);
        !st) {
        return st;
    }
    if (const json::value* tcv = find(msg, "tool_calls"); tcv != nullptr && !tcv->is_null()) {
        const json::array* calls = tcv->if_array();
        if (calls == nullptr) {
            return bad_request(where + ".tool_calls: must be a list");
        }
        for (std::size_t k = 0; k < calls->size(); ++k) {
            std::string cw = at(where + ".tool_calls", k);
            const json::object* call = (*calls)[k].if_object();
            if (call == nullptr) {
                return bad_request(cw + ": must be an object");
            }
            std::string_view type = find_string(*call, "type", "function");
            const json::object* fn = find_object(*call, "function");
            if (type != "function" || fn == nullptr) {
                return bad_request(cw + ": only function tool calls are supported by gemini");
            }
            std::string_view name = find_string(*fn, "name");
            if (name.empty()) {
                return bad_request(cw + ".function.name: missing");
            }
            auto args = parse_arguments(find(*fn, "arguments"), cw + ".function.arguments");
            if (!args) {
                return std::move(args).error();
            }
            if (std::string_view id = find_string(*call, "id"); !id.empty()) {
                call_names_.insert_or_assign(std::string(id), std::string(name));
            }
            json::object part;
            part["functionCall"] = json::object{{"name", name}, {"args", std::move(*args)}};
            if (const json::object* psf = find_object(*call, "provider_specific_fields")) {
                std::string_view sig = find_string(*psf, "thought_signature");
                if (!sig.empty()) {
                    part["thoughtSignature"] = sig;  // Gemini 3 requires it back on the call
                }
            }
            parts.push_back(std::move(part));
        }
    }
    if (const json::object* fc = find_object(msg, "function_call")) {
        std::string_view name = find_string(*fc, "name");
        if (name.empty()) {
            return bad_request(where + ".function_call.name: missing");
        }
        auto args = parse_arguments(find(*fc, "arguments"), where + ".function_call.arguments");
        if (!args) {
            return std::move(args).error();
        }
        last_legacy_name_ = std::string(name);
        parts.push_back(json::object{
            {"functionCall", json::object{{"name", name}, {"args", std::move(*args)}}}});
    }
    push("model", std::move(parts));
    return ok_status();
}

Status MessageBuilder::add_tool_result(const json::object& msg,
                                       const std::string& where,
                                       bool legacy) {
    std::string name;
    if (!legacy) {
        std::string_view id = find_string(msg, "tool_call_id");
        if (auto it = call_names_.find(id); !id.empty() && it != call_names_.end()) {
            name = it->second;
        }
    }
    if (name.empty()) {
        name = std::string(find_string(msg, "name"));
    }
    if (name.empty() && legacy) {
        name = last_legacy_name_;
    }
    if (name.empty()) {
        return bad_request(where + ".tool_call_id: no earlier assistant tool call has id '" +
                           detail::truncate_utf8(find_string(msg, "tool_call_id"), 200) +
                           "' (Gemini needs the function name)");
    }
    // Text parts are joined into response.content; media parts follow the functionResponse.
    std::string text;
    json::array media;
    const json::value* content = find(msg, "content");
    if (content != nullptr && !content->is_null()) {
        if (const json::string* s = content->if_string()) {
            text = std::string(sv(*s));
        } else if (content->is_array()) {
            json::array parts;
            if (Status st = convert_content(content, where + ".content", PartsAllowed::kAll, parts);
                !st) {
                return st;
            }
            for (auto& p : parts) {
                const json::object& po = p.get_object();
                if (const json::value* t = find(po, "text")) {
                    text += sv(t->get_string());
                } else {
                    media.push_back(std::move(p));
                }
            }
        } else {
            return bad_request(where + ".content: must be a string, a list of parts or null");
        }
    }
    json::array parts;
    parts.push_back(json::object{
        {"functionResponse",
         json::object{{"name", name}, {"response", json::object{{"content", text}}}}}});
    for (auto& m : media) {
        parts.push_back(std::move(m));
    }
    push("user", std::move(parts));
    return ok_status();
}

Status MessageBuilder::finish(json::object& out) {
    if (turns_.empty()) {
        return bad_request("messages: at least one non-system message with content is required");
    }
    json::array contents;
    for (auto& t : turns_) {
        contents.push_back(json::object{{"role", t.role}, {"parts", std::move(t.parts)}});
    }
    out["contents"] = std::move(contents);
    if (!system_.empty()) {
        out["systemInstruction"] = json::object{{"parts", std::move(system_)}};
    }
    return ok_status();
}

// ---------------------------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------------------------

// OpenAI tool -> a functionDeclaration, or a Gemini-native tool object.
Status convert_tool(const json::value& tv,
                    const std::string& where,
                    json::array& declarations,
                    json::array& native) {
    const json::object* t = tv.if_object();
    if (t == nullptr) {
        return bad_request(where + ": must be an object");
    }
    const json::object* fn = find_object(*t, "function");
    if (fn == nullptr && !t->contains("type")) {
        for (const auto& [key, camel] : kNativeTools) {
            if (const json::value* cfg = find(*t, key); cfg != nullptr && t->size() == 1) {
                native.push_back(
                    json::object{{camel, cfg->is_object() ? *cfg : json::value(json::object{})}});
                return ok_status();
            }
        }
    }
    std::string_view type = find_string(*t, "type", "function");
    if (type != "function" || fn == nullptr) {
        return bad_request(where +
                           ": only function tools (and Gemini's googleSearch, "
                           "codeExecution, urlContext) are supported by gemini");
    }
    std::string_view name = find_string(*fn, "name");
    if (name.empty()) {
        return bad_request(where + ".function.name: missing");
    }
    json::object decl;
    decl["name"] = name;
    if (const json::value* d = find(*fn, "description"); d != nullptr && d->is_string()) {
        decl["description"] = *d;
    }
    if (const json::value* params = find(*fn, "parameters");
        params != nullptr && !params->is_null()) {
        const json::object* po = params->if_object();
        if (po == nullptr) {
            return bad_request(where + ".function.parameters: must be an object");
        }
        auto schema = clean_schema(*po, where + ".function.parameters");
        if (!schema) {
            return std::move(schema).error();
        }
        // A function without arguments has no `parameters`: Gemini rejects an OBJECT schema
        // with empty properties.
        if (schema->contains("properties") || schema->contains("anyOf") ||
            (schema->contains("type") && find_string(*schema, "type") != "object")) {
            decl["parameters"] = std::move(*schema);
        }
    }
    declarations.push_back(std::move(decl));
    return ok_status();
}

// OpenAI tool_choice -> functionCallingConfig.
Result<json::object> convert_tool_choice(const json::value& v, const std::string& where) {
    if (const json::string* s = v.if_string()) {
        if (*s == "auto") {
            return json::object{{"mode", "AUTO"}};
        }
        if (*s == "required" || *s == "any") {
            return json::object{{"mode", "ANY"}};
        }
        if (*s == "none") {
            return json::object{{"mode", "NONE"}};
        }
        return bad_request(where + ": unknown value '" + detail::truncate_utf8(sv(*s), 100) + "'");
    }
    if (const json::object* o = v.if_object()) {
        std::string_view type = find_string(*o, "type", "function");
        const json::object* fn = find_object(*o, "function");
        std::string_view name = fn != nullptr ? find_string(*fn, "name") : find_string(*o, "name");
        if (type != "function" || name.empty()) {
            return bad_request(where +
                               ": expected {\"type\":\"function\",\"function\":{\"name\":"
                               "...}}");
        }
        return json::object{{"mode", "ANY"}, {"allowedFunctionNames", json::array{name}}};
    }
    return bad_request(where + ": must be a string or an object");
}

// ---------------------------------------------------------------------------------------------
// The request
// ---------------------------------------------------------------------------------------------

Result<std::int64_t> thinking_budget(const json::value& effort) {
    const json::string* s = effort.if_string();
    if (s != nullptr) {
        if (*s == "none" || *s == "disable") {
            return std::int64_t{0};
        }
        if (*s == "minimal") {
            return std::int64_t{128};
        }
        if (*s == "low") {
            return std::int64_t{1024};
        }
        if (*s == "medium") {
            return std::int64_t{2048};
        }
        if (*s == "high") {
            return std::int64_t{4096};
        }
    }
    return bad_request("reasoning_effort: expected one of none, minimal, low, medium, high");
}

json::object thinking_config(std::int64_t budget) {
    json::object tc;
    tc["thinkingBudget"] = budget;
    if (budget > 0) {
        tc["includeThoughts"] = true;  // thought summaries come back as reasoning_content
    }
    return tc;
}

Result<std::string> translate(const json::object& body, const RequestOptions& opts) {
    // 1. Parameter admission: additional_drop_params, gateway-only fields, unsupported params.
    auto dropped = [&](std::string_view k) {
        return std::find(opts.additional_drop_params.begin(),
                         opts.additional_drop_params.end(),
                         k) != opts.additional_drop_params.end();
    };
    std::vector<std::string> unsupported;
    std::vector<std::string_view> ignored;  // dropped unsupported params (drop_params)
    for (const auto& kv : body) {
        std::string_view k = kv.key();
        if (dropped(k) || is_gateway_only(k) || kv.value().is_null()) {
            continue;
        }
        bool supported = in(kSupported, k);
        // Gemini cannot be told to make at most one call per turn.
        if (k == "parallel_tool_calls" && kv.value().is_bool() && !kv.value().get_bool()) {
            supported = false;
        }
        if (supported) {
            continue;
        }
        if (opts.drop_params) {
            ignored.push_back(k);
        } else {
            unsupported.emplace_back(k);
        }
    }
    if (!unsupported.empty()) {
        return common::unsupported_params_error("gemini", unsupported, opts.upstream_model);
    }
    auto get = [&](std::string_view k) -> const json::value* {
        if (dropped(k) || std::find(ignored.begin(), ignored.end(), k) != ignored.end()) {
            return nullptr;
        }
        const json::value* v = find(body, k);
        return v != nullptr && !v->is_null() ? v : nullptr;
    };

    json::object out;
    json::object gen;

    // 2. Messages.
    const json::value* mv = get("messages");
    const json::array* msgs = mv != nullptr ? mv->if_array() : nullptr;
    if (msgs == nullptr || msgs->empty()) {
        return bad_request("messages: must be a non-empty list");
    }
    MessageBuilder mb;
    for (std::size_t i = 0; i < msgs->size(); ++i) {
        const json::object* m = (*msgs)[i].if_object();
        if (m == nullptr) {
            return bad_request(at("messages", i) + ": must be an object");
        }
        if (Status st = mb.add(*m, i); !st) {
            return std::move(st).error();
        }
    }
    if (Status st = mb.finish(out); !st) {
        return std::move(st).error();
    }

    // 3. Tools and tool_choice.
    json::array declarations;
    json::array native;
    if (const json::value* v = get("tools")) {
        const json::array* a = v->if_array();
        if (a == nullptr) {
            return bad_request("tools: must be a list");
        }
        for (std::size_t i = 0; i < a->size(); ++i) {
            if (Status st = convert_tool((*a)[i], at("tools", i), declarations, native); !st) {
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
            if (Status st = convert_tool(wrapped, at("functions", i), declarations, native); !st) {
                return std::move(st).error();
            }
        }
    }
    json::object calling;
    if (const json::value* v = get("tool_choice")) {
        auto c = convert_tool_choice(*v, "tool_choice");
        if (!c) {
            return std::move(c).error();
        }
        calling = std::move(*c);
    } else if (const json::value* fc = get("function_call")) {
        auto c = convert_tool_choice(*fc, "function_call");
        if (!c) {
            return std::move(c).error();
        }
        calling = std::move(*c);
    }
    if (const json::value* v = get("parallel_tool_calls"); v != nullptr && !v->is_bool()) {
        return bad_request("parallel_tool_calls: must be a boolean");
    }
    if (!declarations.empty() || !native.empty()) {
        json::array tools;
        if (!declarations.empty()) {
            tools.push_back(json::object{{"functionDeclarations", std::move(declarations)}});
        }
        for (auto& n : native) {
            tools.push_back(std::move(n));
        }
        out["tools"] = std::move(tools);
        if (!calling.empty()) {
            out["toolConfig"] = json::object{{"functionCallingConfig", std::move(calling)}};
        }
    }

    // 4. generationConfig.
    constexpr std::pair<std::string_view, std::string_view> kNumbers[] = {
        {"temperature", "temperature"},
        {"top_p", "topP"},
        {"top_k", "topK"},
        {"presence_penalty", "presencePenalty"},
        {"frequency_penalty", "frequencyPenalty"},
    };
    for (const auto& [k, g] : kNumbers) {
        if (const json::value* v = get(k)) {
            if (!v->is_number()) {
                return bad_request(std::string(k) + ": must be a number");
            }
            gen[g] = *v;
        }
    }
    if (const json::value* v = get("max_completion_tokens")) {
        auto n = positive_int(*v, "max_completion_tokens");
        if (!n) {
            return std::move(n).error();
        }
        gen["maxOutputTokens"] = *n;
    } else if (const json::value* mt = get("max_tokens")) {
        auto n = positive_int(*mt, "max_tokens");
        if (!n) {
            return std::move(n).error();
        }
        gen["maxOutputTokens"] = *n;
    }
    if (const json::value* v = get("n")) {
        auto n = positive_int(*v, "n");
        if (!n) {
            return std::move(n).error();
        }
        gen["candidateCount"] = *n;
    }
    if (const json::value* v = get("seed")) {
        auto n = detail::as_integer(v);
        if (!n) {
            return bad_request("seed: must be an integer");
        }
        gen["seed"] = *n;
    }
    if (const json::value* v = get("stop")) {
        json::array seqs;
        auto add = [&](const json::value& s) -> Status {
            const json::string* str = s.if_string();
            if (str == nullptr) {
                return bad_request("stop: must be a string or a list of strings");
            }
            if (!str->empty()) {
                seqs.push_back(*str);
            }
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
            gen["stopSequences"] = std::move(seqs);
        }
    }
    if (const json::value* rf = get("response_format")) {
        const json::object* o = rf->if_object();
        if (o == nullptr) {
            return bad_request("response_format: must be an object");
        }
        std::string_view type = find_string(*o, "type");
        if (type == "json_object" || type == "json_schema") {
            gen["responseMimeType"] = "application/json";
            const json::object* js =
                type == "json_schema" ? find_object(*o, "json_schema") : nullptr;
            const json::object* schema = js != nullptr ? find_object(*js, "schema") : nullptr;
            if (schema != nullptr) {
                auto cleaned = clean_schema(*schema, "response_format.json_schema.schema");
                if (!cleaned) {
                    return std::move(cleaned).error();
                }
                gen["responseSchema"] = std::move(*cleaned);
            }
        } else if (type != "text") {
            return bad_request("response_format.type: expected text, json_object or json_schema");
        }
    }
    if (const json::value* v = get("thinking")) {
        const json::object* o = v->if_object();
        if (o == nullptr) {
            return bad_request("thinking: must be an object");
        }
        std::string_view type = find_string(*o, "type");
        if (type == "enabled") {
            const json::value* bt = find(*o, "budget_tokens");
            auto budget =
                positive_int(bt != nullptr ? *bt : json::value(nullptr), "thinking.budget_tokens");
            if (!budget) {
                return std::move(budget).error();
            }
            gen["thinkingConfig"] = thinking_config(*budget);
        } else if (type == "disabled") {
            gen["thinkingConfig"] = thinking_config(0);
        } else {
            return bad_request("thinking.type: expected enabled or disabled");
        }
    } else if (const json::value* re = get("reasoning_effort")) {
        auto budget = thinking_budget(*re);
        if (!budget) {
            return std::move(budget).error();
        }
        gen["thinkingConfig"] = thinking_config(*budget);
    }
    if (!gen.empty()) {
        out["generationConfig"] = std::move(gen);
    }

    // 5. Gemini-specific extras and the remaining type checks.
    if (const json::value* v = get("safety_settings")) {
        if (!v->is_array()) {
            return bad_request("safety_settings: must be a list");
        }
        out["safetySettings"] = *v;
    }
    if (const json::value* v = get("stream"); v != nullptr && !v->is_bool()) {
        return bad_request("stream: must be a boolean");
    }
    if (const json::value* v = get("user"); v != nullptr && !v->is_string()) {
        return bad_request("user: must be a string");
    }
    return json::serialize(out);
}

void collect_urls(const json::value* content, std::vector<std::string>& out) {
    const json::array* parts = content != nullptr ? content->if_array() : nullptr;
    if (parts == nullptr) {
        return;
    }
    for (const auto& p : *parts) {
        const json::object* po = p.if_object();
        if (po == nullptr || find_string(*po, "type") != "image_url") {
            continue;
        }
        std::string_view url = image_url_of(*po, nullptr);
        if (url.empty() || starts_with_ci(url, "data:")) {
            continue;
        }
        if (std::find(out.begin(), out.end(), url) == out.end()) {
            out.emplace_back(url);
        }
    }
}

}  // namespace

Result<std::string> openai_to_gemini_request(const boost::json::object& openai_chat_body,
                                             const RequestOptions& opts) {
    return common::guard_translation([&] { return translate(openai_chat_body, opts); });
}

std::vector<std::string> image_urls(const boost::json::object& openai_chat_body) {
    std::vector<std::string> out;
    try {
        const json::array* msgs = find_array(openai_chat_body, "messages");
        if (msgs == nullptr) {
            return out;
        }
        for (const auto& m : *msgs) {
            if (const json::object* mo = m.if_object()) {
                collect_urls(find(*mo, "content"), out);
            }
        }
    } catch (...) {
        out.clear();
    }
    return out;
}

}  // namespace sy::providers::gemini
