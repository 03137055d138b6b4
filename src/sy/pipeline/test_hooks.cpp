#include "sy/pipeline/test_hooks.hpp"

#include <boost/json.hpp>
#include <chrono>

#include "sy/core/ids.hpp"
#include "sy/core/json_text.hpp"

namespace sy::pipeline {
namespace {

namespace json = boost::json;

// LiteLLM's fixed usage for mock responses.
json::object mock_usage() {
    return json::object{{"prompt_tokens", 10}, {"completion_tokens", 20}, {"total_tokens", 30}};
}

std::int64_t now_s() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string event(const json::value& v) { return "data: " + json_text(v) + "\n\n"; }

}  // namespace

std::optional<Error> mock_response_error(std::string_view text) {
    if (text == "litellm.RateLimitError") {
        return Error::make(Errc::kRateLimited,
                           "litellm.RateLimitError: this is a mock rate limit error");
    }
    if (text == "litellm.InternalServerError") {
        return Error::make(Errc::kUpstreamStatus,
                           "litellm.InternalServerError: this is a mock internal server error")
            .with_status(500)
            .with_type("api_error");
    }
    if (text == "litellm.ContextWindowExceededError") {
        return Error::make(Errc::kContextWindow,
                           "litellm.ContextWindowExceededError: this is a mock context window "
                           "exceeded error");
    }
    return std::nullopt;
}

std::string mock_response_body(providers::Route route, std::string_view model, std::string_view text) {
    if (route == providers::Route::kCompletions) {
        json::object o{{"id", "cmpl-" + new_call_id()},
                       {"object", "text_completion"},
                       {"created", now_s()},
                       {"model", model},
                       {"choices", json::array{json::object{{"text", text},
                                                            {"index", 0},
                                                            {"logprobs", nullptr},
                                                            {"finish_reason", "stop"}}}},
                       {"usage", mock_usage()}};
        return json_text(o);
    }
    json::object msg{{"role", "assistant"}, {"content", text}};
    json::object o{{"id", "chatcmpl-" + new_call_id()},
                   {"object", "chat.completion"},
                   {"created", now_s()},
                   {"model", model},
                   {"choices", json::array{json::object{{"index", 0},
                                                        {"message", msg},
                                                        {"finish_reason", "stop"}}}},
                   {"usage", mock_usage()}};
    return json_text(o);
}

std::string mock_response_stream(providers::Route route,
                                 std::string_view model,
                                 std::string_view text,
                                 bool include_usage) {
    std::string id = (route == providers::Route::kCompletions ? "cmpl-" : "chatcmpl-") + new_call_id();
    std::int64_t created = now_s();
    bool chat = route != providers::Route::kCompletions;
    const char* object = chat ? "chat.completion.chunk" : "text_completion";
    auto chunk = [&](json::object choice, bool with_usage_null) {
        json::object o{{"id", id}, {"object", object}, {"created", created}, {"model", model},
                       {"choices", json::array{std::move(choice)}}};
        if (with_usage_null) {
            o["usage"] = nullptr;
        }
        return event(o);
    };
    std::string out;
    // Words keep their leading space so that concatenating the deltas gives the text back.
    std::vector<std::string_view> pieces;
    std::size_t start = 0;
    for (std::size_t i = 1; i <= text.size(); ++i) {
        if (i == text.size() || text[i] == ' ') {
            pieces.push_back(text.substr(start, i - start));
            start = i;
        }
    }
    for (std::size_t i = 0; i < pieces.size(); ++i) {
        json::object choice{{"index", 0}, {"finish_reason", nullptr}};
        if (chat) {
            json::object delta{{"content", pieces[i]}};
            if (i == 0) {
                delta["role"] = "assistant";
            }
            choice["delta"] = std::move(delta);
        } else {
            choice["text"] = pieces[i];
        }
        out += chunk(std::move(choice), include_usage);
    }
    json::object last{{"index", 0}, {"finish_reason", "stop"}};
    if (chat) {
        last["delta"] = json::object{};
    } else {
        last["text"] = "";
    }
    out += chunk(std::move(last), include_usage);
    if (include_usage) {
        json::object u{{"id", id}, {"object", object}, {"created", created}, {"model", model},
                       {"choices", json::array{}}, {"usage", mock_usage()}};
        out += event(u);
    }
    out += "data: [DONE]\n\n";
    return out;
}

Error mock_timeout_error(double timeout_s) {
    return Error::make(Errc::kTimeout, "litellm.Timeout: This is a mock timeout error")
        .with_header("x-litellm-timeout", providers::python_float(timeout_s));
}

}  // namespace sy::pipeline
