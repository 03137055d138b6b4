#include "sy/pipeline/stream_transform.hpp"

#include <boost/json.hpp>

#include "sy/core/json_scan.hpp"
#include "sy/pipeline/completions_adapter.hpp"
#include "sy/providers/anthropic/translate.hpp"

namespace sy::pipeline {
namespace {

namespace json = boost::json;

Error protocol_error(std::string_view label, std::string_view what) {
    return Error::make(Errc::kUpstreamProtocol, "litellm.InternalServerError: " +
                                                    std::string(label) + " - " + std::string(what));
}

void read_usage(std::string_view usage_json, StreamTransform& t) {
    boost::system::error_code ec;
    auto v = json::parse(usage_json, ec);
    if (ec || !v.is_object()) {
        return;
    }
    const auto& u = v.get_object();
    if (auto* p = u.if_contains("prompt_tokens"); p && p->is_int64()) {
        t.prompt_tokens = p->get_int64();
    }
    if (auto* c = u.if_contains("completion_tokens"); c && c->is_int64()) {
        t.completion_tokens = c->get_int64();
    }
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
};

class ChatToCompletion : public OpenAIPassthrough {
public:
    using OpenAIPassthrough::OpenAIPassthrough;

protected:
    Status emit(std::string_view data, std::optional<json_scan::Span>, std::string& out) override {
        auto converted = chat_chunk_to_completion(data, client_model_);
        if (!converted) {
            return protocol_error(err_ctx_.exception_label, converted.error().message);
        }
        out += "data: ";
        out += converted.value();
        out += "\n\n";
        return ok_status();
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
        if (!completion_) {
            out += "data: ";
            out += chunk;
            out += "\n\n";
            return ok_status();
        }
        auto converted = chat_chunk_to_completion(chunk, client_model_);
        if (!converted) {
            return protocol_error(err_ctx_.exception_label, converted.error().message);
        }
        out += "data: ";
        out += converted.value();
        out += "\n\n";
        return ok_status();
    }

    providers::anthropic::StreamToOpenAI conv_;
    std::string client_model_;
    bool completion_;
    const providers::ErrorContext& err_ctx_;
    bool done_ = false;
};

}  // namespace

StreamTransformPtr make_anthropic_to_openai(std::string client_model,
                                            bool include_usage,
                                            bool completion_from_chat,
                                            const providers::ErrorContext& err_ctx) {
    return std::make_unique<AnthropicToOpenAI>(std::move(client_model), include_usage,
                                               completion_from_chat, err_ctx);
}

StreamTransformPtr make_openai_passthrough(std::string client_model,
                                           const providers::ErrorContext& err_ctx) {
    return std::make_unique<OpenAIPassthrough>(std::move(client_model), err_ctx);
}

StreamTransformPtr make_chat_to_completion(std::string client_model,
                                           const providers::ErrorContext& err_ctx) {
    return std::make_unique<ChatToCompletion>(std::move(client_model), err_ctx);
}

}  // namespace sy::pipeline
