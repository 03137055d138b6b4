#include "sy/pipeline/completions_adapter.hpp"

#include <boost/json.hpp>

#include "sy/core/json_text.hpp"

namespace sy::pipeline {
namespace {

namespace json = boost::json;

bool contains(std::string_view hay, std::string_view needle) {
    return hay.find(needle) != std::string_view::npos;
}

Error bad(std::string_view field, std::string_view reason) {
    return Error::make(Errc::kBadRequest,
                       "Invalid value for " + std::string(field) + ": " + std::string(reason))
        .with_param(std::string(field));
}

// Choice text from a chat message or delta (content may be null).
json::value text_of(const json::object& msg) {
    const json::value* c = msg.if_contains("content");
    if (c && c->is_string()) {
        return c->get_string();
    }
    return json::string();
}

json::object completion_envelope(const json::object& chat, std::string_view client_model) {
    json::object out;
    if (auto* id = chat.if_contains("id")) {
        out["id"] = *id;
    }
    out["object"] = "text_completion";
    if (auto* c = chat.if_contains("created")) {
        out["created"] = *c;
    }
    out["model"] = client_model;
    if (auto* fp = chat.if_contains("system_fingerprint")) {
        out["system_fingerprint"] = *fp;
    }
    return out;
}

}  // namespace

bool is_text_completion_model(const config::Deployment& d, std::string_view m) {
    if (d.mode == "completion" || d.provider == "text-completion-openai") {
        return true;
    }
    return contains(m, "-instruct") || m.rfind("davinci", 0) == 0 || m.rfind("babbage", 0) == 0 ||
           m.rfind("text-davinci", 0) == 0 || m.rfind("text-curie", 0) == 0;
}

Status completion_body_to_chat(json::object& body) {
    json::value* p = body.if_contains("prompt");
    if (!p) {
        return bad("prompt", "required");
    }
    json::string prompt;
    if (p->is_string()) {
        prompt = p->get_string();
    } else if (p->is_array() && p->get_array().size() == 1 && p->get_array()[0].is_string()) {
        prompt = p->get_array()[0].get_string();
    } else {
        return bad("prompt",
                   "chat models take a single prompt string (a list of prompts or token ids needs "
                   "a text-completion model)");
    }
    if (auto* e = body.if_contains("echo"); e && e->is_bool() && e->get_bool()) {
        return bad("echo", "not supported by chat models");
    }
    if (auto* s = body.if_contains("suffix"); s && !s->is_null()) {
        return bad("suffix", "not supported by chat models");
    }
    if (auto* b = body.if_contains("best_of"); b && b->is_int64() && b->get_int64() > 1) {
        return bad("best_of", "not supported by chat models");
    }
    for (auto k : {"prompt", "echo", "suffix", "best_of", "logprobs"}) {
        body.erase(k);
    }
    body["messages"] = json::array{json::object{{"role", "user"}, {"content", prompt}}};
    return ok_status();
}

namespace {

// A chat answer or chunk as a text_completion: choices take their text from `text_field`
// ("message" for a complete answer, "delta" for a stream chunk).
Result<std::string> to_completion(std::string_view chat_json,
                                  std::string_view client_model,
                                  std::string_view text_field,
                                  std::string_view malformed_message) {
    boost::system::error_code ec;
    json::value v = json::parse(chat_json, ec);
    if (ec || !v.is_object()) {
        return Error::make(Errc::kUpstreamProtocol, std::string(malformed_message));
    }
    const json::object& chat = v.get_object();
    json::object out = completion_envelope(chat, client_model);
    json::array choices;
    if (auto* cs = chat.if_contains("choices"); cs && cs->is_array()) {
        for (const auto& c : cs->get_array()) {
            if (!c.is_object()) {
                continue;
            }
            const json::object& co = c.get_object();
            json::object choice;
            const json::value* src = co.if_contains(text_field);
            choice["text"] = src && src->is_object() ? text_of(src->get_object()) : json::string();
            choice["index"] = co.contains("index") ? co.at("index") : json::value(0);
            choice["logprobs"] = nullptr;
            choice["finish_reason"] =
                co.contains("finish_reason") ? co.at("finish_reason") : json::value(nullptr);
            choices.push_back(std::move(choice));
        }
    }
    out["choices"] = std::move(choices);
    if (auto* u = chat.if_contains("usage")) {
        out["usage"] = *u;
    }
    return json_text(out);
}

}  // namespace

Result<std::string> chat_response_to_completion(std::string_view chat_json,
                                                std::string_view client_model) {
    return to_completion(chat_json, client_model, "message", "upstream returned malformed JSON");
}

Result<std::string> chat_chunk_to_completion(std::string_view chunk_json,
                                             std::string_view client_model) {
    return to_completion(chunk_json, client_model, "delta", "malformed chunk in upstream stream");
}

}  // namespace sy::pipeline
