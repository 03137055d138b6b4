#include "sy/pipeline/stream_transform.hpp"

#include <boost/json.hpp>

#include "sy/core/json_scan.hpp"
#include "sy/pipeline/completions_adapter.hpp"
#include "sy/pipeline/error_render.hpp"
#include "sy/providers/anthropic/translate.hpp"
#include "sy/providers/gemini/translate.hpp"

namespace sy::pipeline {

std::string StreamTransform::error_event(const Error& e) const { return error_sse_event(e); }

Status StreamTransform::on_end(std::string&) { return ok_status(); }

namespace {

std::string anthropic_error_event(const Error& e) {
    return "event: error\ndata: " +
           providers::anthropic::anthropic_error_envelope(e.http_status(), e.message) + "\n\n";
}

namespace json = boost::json;

Error protocol_error(std::string_view label, std::string_view what) {
    return Error::make(Errc::kUpstreamProtocol, "litellm.InternalServerError: " +
                                                    std::string(label) + " - " + std::string(what));
}

void read_usage(std::string_view usage_json, StreamTransform& t) {
    read_usage_tokens(usage_json, t.prompt_tokens, t.completion_tokens);
}

// Appends one OpenAI chunk as a client event: as is, or converted to a legacy text_completion
// chunk when the client called /completions on a chat model.
Status append_chunk(std::string& out,
                    std::string_view chunk,
                    bool as_completion,
                    std::string_view client_model,
                    const providers::ErrorContext& err_ctx) {
    if (!as_completion) {
        out += "data: ";
        out += chunk;
        out += "\n\n";
        return ok_status();
    }
    auto converted = chat_chunk_to_completion(chunk, client_model);
    if (!converted) {
        return protocol_error(err_ctx.exception_label, converted.error().message);
    }
    out += "data: ";
    out += converted.value();
    out += "\n\n";
    return ok_status();
}

class OpenAIPassthrough : public StreamTransform {
public:
    OpenAIPassthrough(std::string client_model, const providers::ErrorContext& err_ctx)
        : client_model_(std::move(client_model)), err_ctx_(err_ctx) {}

    Status on_event(std::string_view, std::string_view data, std::string& out) override {
        if (done_) {
            return ok_status();  // nothing after [DONE] is forwarded
        }
        if (data.empty()) {
            return ok_status();  // comment or keep-alive
        }
        if (data == "[DONE]") {
            done_ = true;
            out += "data: [DONE]\n\n";
            return ok_status();
        }
        if (data.front() != '{' || !json_scan::is_valid(data)) {
            return protocol_error(err_ctx_.exception_label, "malformed chunk in upstream stream");
        }
        static constexpr std::string_view kKeys[] = {"error", "usage", "model"};
        std::optional<json_scan::Span> spans[3];
        json_scan::find_top_level_many(data, kKeys, spans, 3);
        if (spans[0]) {
            return providers::map_stream_error_event(data, err_ctx_);
        }
        if (spans[1] && data[spans[1]->offset] == '{') {
            read_usage(data.substr(spans[1]->offset, spans[1]->length), *this);
            if (strip_usage_chunk_) {
                auto choices = json_scan::find_top_level(data, "choices");
                if (!choices || data.substr(choices->offset, choices->length) == "[]") {
                    return ok_status();  // asked for by the gateway, not by the client
                }
            }
        }
        return emit(data, spans[2], out);
    }

    bool done() const override { return done_; }

protected:
    virtual Status emit(std::string_view data,
                        std::optional<json_scan::Span> model_span,
                        std::string& out) {
        out += "data: ";
        json_scan::append_replacing_string(out, data, model_span, client_model_);
        out += "\n\n";
        return ok_status();
    }

    std::string client_model_;
    const providers::ErrorContext& err_ctx_;
    bool done_ = false;

public:
    bool strip_usage_chunk_ = false;
};

class ChatToCompletion : public OpenAIPassthrough {
public:
    using OpenAIPassthrough::OpenAIPassthrough;

protected:
    Status emit(std::string_view data, std::optional<json_scan::Span>, std::string& out) override {
        return append_chunk(out, data, true, client_model_, err_ctx_);
    }
};

class AnthropicToOpenAI : public StreamTransform {
public:
    AnthropicToOpenAI(std::string client_model,
                      bool include_usage,
                      bool completion_from_chat,
                      const providers::ErrorContext& err_ctx)
        : conv_(client_model, include_usage),
          client_model_(std::move(client_model)),
          completion_(completion_from_chat),
          err_ctx_(err_ctx) {}

    Status on_event(std::string_view event_type, std::string_view data, std::string& out) override {
        if (done_ || (event_type.empty() && data.empty())) {
            return ok_status();
        }
        auto chunks = conv_.on_event(event_type, data);
        note_usage();
        if (!chunks) {
            return std::move(chunks).error();
        }
        for (const auto& c : chunks.value()) {
            if (auto st = emit(c, out); !st) {
                return st;
            }
        }
        if (conv_.finished()) {
            for (const auto& c : conv_.finish()) {
                if (auto st = emit(c, out); !st) {
                    return st;
                }
            }
            out += "data: [DONE]\n\n";
            done_ = true;
        }
        return ok_status();
    }

    bool done() const override { return done_; }

private:
    void note_usage() {
        const auto& u = conv_.usage();
        if (u.input_tokens || u.cache_read_input_tokens || u.cache_creation_input_tokens) {
            prompt_tokens =
                u.input_tokens + u.cache_read_input_tokens + u.cache_creation_input_tokens;
        }
        if (u.output_tokens) {
            completion_tokens = u.output_tokens;
        }
    }

    Status emit(const std::string& chunk, std::string& out) {
        return append_chunk(out, chunk, completion_, client_model_, err_ctx_);
    }

    providers::anthropic::StreamToOpenAI conv_;
    std::string client_model_;
    bool completion_;
    const providers::ErrorContext& err_ctx_;
    bool done_ = false;
};

class GeminiToOpenAI : public StreamTransform {
public:
    GeminiToOpenAI(std::string client_model,
                   bool include_usage,
                   bool completion_from_chat,
                   const providers::ErrorContext& err_ctx)
        : conv_(client_model, include_usage),
          client_model_(std::move(client_model)),
          completion_(completion_from_chat),
          err_ctx_(err_ctx) {}

    Status on_event(std::string_view, std::string_view data, std::string& out) override {
        if (done_ || data.empty()) {
            return ok_status();
        }
        auto chunks = conv_.on_event(data);
        if (!chunks) {
            return std::move(chunks).error();
        }
        note_usage();
        return emit_all(chunks.value(), out);
    }

    Status on_end(std::string& out) override {
        if (done_ || !conv_.finished()) {
            return ok_status();  // no finishReason: the relay reports a cut stream
        }
        if (auto st = emit_all(conv_.finish(), out); !st) {
            return st;
        }
        out += "data: [DONE]\n\n";
        done_ = true;
        return ok_status();
    }

    bool done() const override { return done_; }

private:
    void note_usage() {
        const auto& u = conv_.usage();
        if (u.prompt_tokens > 0) {
            prompt_tokens = u.prompt_tokens;
        }
        if (u.candidates_tokens + u.thoughts_tokens > 0) {
            completion_tokens = u.candidates_tokens + u.thoughts_tokens;
        }
    }

    Status emit_all(const std::vector<std::string>& chunks, std::string& out) {
        for (const auto& c : chunks) {
            if (auto st = append_chunk(out, c, completion_, client_model_, err_ctx_); !st) {
                return st;
            }
        }
        return ok_status();
    }

    providers::gemini::StreamToOpenAI conv_;
    std::string client_model_;
    bool completion_;
    const providers::ErrorContext& err_ctx_;
    bool done_ = false;
};

class AnthropicPassthrough : public StreamTransform {
public:
    AnthropicPassthrough(std::string, const providers::ErrorContext& err_ctx) : err_ctx_(err_ctx) {}

    Status on_event(std::string_view event_type, std::string_view data, std::string& out) override {
        if (done_ || data.empty()) {
            return ok_status();
        }
        if (data.front() != '{' || !json_scan::is_valid(data)) {
            return protocol_error(err_ctx_.exception_label, "malformed event in upstream stream");
        }
        if (event_type == "error") {
            return error_from_event(data);
        }
        if (event_type == "message_start" || event_type == "message_delta") {
            read_usage(data);
        }
        if (!event_type.empty()) {
            out += "event: ";
            out += event_type;
            out += '\n';
        }
        out += "data: ";
        out += data;
        out += "\n\n";
        if (event_type == "message_stop") {
            done_ = true;
        }
        return ok_status();
    }

    bool done() const override { return done_; }
    std::string error_event(const Error& e) const override { return anthropic_error_event(e); }

private:
    Error error_from_event(std::string_view data) const {
        boost::system::error_code ec;
        json::value v = json::parse(data, ec);
        std::string type;
        if (!ec && v.is_object()) {
            if (auto* err = v.get_object().if_contains("error"); err && err->is_object()) {
                if (auto* t = err->get_object().if_contains("type"); t && t->is_string()) {
                    type = std::string(t->get_string());
                }
            }
        }
        int status = type == "overloaded_error"       ? 529
                     : type == "rate_limit_error"      ? 429
                     : type == "invalid_request_error" ? 400
                                                       : 500;
        return providers::anthropic::map_anthropic_error(status, data);
    }

    void read_usage(std::string_view data) {
        boost::system::error_code ec;
        json::value v = json::parse(data, ec);
        if (ec || !v.is_object()) {
            return;
        }
        const json::object* usage = nullptr;
        if (auto* m = v.get_object().if_contains("message"); m && m->is_object()) {
            if (auto* u = m->get_object().if_contains("usage"); u && u->is_object()) {
                usage = &u->get_object();
            }
        } else if (auto* u = v.get_object().if_contains("usage"); u && u->is_object()) {
            usage = &u->get_object();
        }
        if (!usage) {
            return;
        }
        if (auto* in = usage->if_contains("input_tokens"); in && in->is_int64()) {
            prompt_tokens = in->get_int64();
        }
        if (auto* o = usage->if_contains("output_tokens"); o && o->is_int64()) {
            completion_tokens = o->get_int64();
        }
    }

    const providers::ErrorContext& err_ctx_;
    bool done_ = false;
};

class OpenAIToAnthropic : public StreamTransform {
public:
    OpenAIToAnthropic(std::string client_model, const providers::ErrorContext& err_ctx)
        : conv_(std::move(client_model)), err_ctx_(err_ctx) {}

    Status on_event(std::string_view, std::string_view data, std::string& out) override {
        if (done_ || data.empty()) {
            return ok_status();
        }
        if (data != "[DONE]") {
            if (auto span = json_scan::find_top_level(data, "usage");
                span && data[span->offset] == '{') {
                read_usage(data.substr(span->offset, span->length), *this);
            }
        }
        auto events = conv_.on_chunk(data);
        if (!events) {
            return std::move(events).error();
        }
        for (const auto& ev : events.value()) {
            out += providers::anthropic::format_sse(ev);
        }
        done_ = conv_.finished();
        return ok_status();
    }

    bool done() const override { return done_; }
    std::string error_event(const Error& e) const override { return anthropic_error_event(e); }

private:
    providers::anthropic::OpenAIStreamToAnthropic conv_;
    const providers::ErrorContext& err_ctx_;
    bool done_ = false;
};

}  // namespace

StreamTransformPtr make_gemini_to_openai(std::string client_model,
                                         bool include_usage,
                                         bool completion_from_chat,
                                         const providers::ErrorContext& err_ctx) {
    return std::make_unique<GeminiToOpenAI>(std::move(client_model), include_usage,
                                            completion_from_chat, err_ctx);
}

StreamTransformPtr make_anthropic_passthrough(std::string client_model,
                                              const providers::ErrorContext& err_ctx) {
    return std::make_unique<AnthropicPassthrough>(std::move(client_model), err_ctx);
}

StreamTransformPtr make_openai_to_anthropic(std::string client_model,
                                            const providers::ErrorContext& err_ctx) {
    return std::make_unique<OpenAIToAnthropic>(std::move(client_model), err_ctx);
}

StreamTransformPtr make_anthropic_to_openai(std::string client_model,
                                            bool include_usage,
                                            bool completion_from_chat,
                                            const providers::ErrorContext& err_ctx) {
    return std::make_unique<AnthropicToOpenAI>(std::move(client_model), include_usage,
                                               completion_from_chat, err_ctx);
}

void read_usage_tokens(std::string_view usage_json, std::int64_t& prompt, std::int64_t& completion) {
    std::optional<std::int64_t> p;
    std::optional<std::int64_t> c;
    bool ok = json_scan::for_each_member(usage_json, [&](const json_scan::Member& m) {
        std::string_view v = usage_json.substr(m.value.offset, m.value.length);
        if (m.key == "prompt_tokens") {
            p = json_scan::as_int64(v);
        } else if (m.key == "completion_tokens") {
            c = json_scan::as_int64(v);
        }
        return true;
    });
    if (!ok) {
        return;
    }
    if (p) {
        prompt = *p;
    }
    if (c) {
        completion = *c;
    }
}

StreamTransformPtr make_openai_passthrough(std::string client_model,
                                           const providers::ErrorContext& err_ctx,
                                           bool strip_usage_chunk) {
    auto t = std::make_unique<OpenAIPassthrough>(std::move(client_model), err_ctx);
    t->strip_usage_chunk_ = strip_usage_chunk;
    return t;
}

StreamTransformPtr make_chat_to_completion(std::string client_model,
                                           const providers::ErrorContext& err_ctx,
                                           bool strip_usage_chunk) {
    auto t = std::make_unique<ChatToCompletion>(std::move(client_model), err_ctx);
    t->strip_usage_chunk_ = strip_usage_chunk;
    return t;
}

}  // namespace sy::pipeline
