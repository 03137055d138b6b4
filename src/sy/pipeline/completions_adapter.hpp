#pragma once
// Legacy /completions served by chat models (api.md §4.1): the prompt becomes one user message
// on the upstream's /chat/completions, and the chat answer (or each stream chunk) is turned
// back into the text_completion shape. Text-completion models are called on /completions as is.
//
// Thread safety: pure functions.

#include <boost/json/object.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "sy/config/settings.hpp"
#include "sy/core/error.hpp"

namespace sy::pipeline {

// True when the deployment serves the legacy completions API natively (model_info.mode
// "completion", or an instruct/davinci/babbage-style model name).
bool is_text_completion_model(const config::Deployment& d, std::string_view upstream_model);

// Rewrites a completions body into a chat body in place. Errors: 400 for a prompt that is not a
// string or a one-element list of strings, and for parameters chat models cannot honour
// (`echo: true`, `suffix`, `best_of` > 1).
Status completion_body_to_chat(boost::json::object& body);

// chat.completion JSON -> text_completion JSON (model = client_model).
Result<std::string> chat_response_to_completion(std::string_view chat_json,
                                                std::string_view client_model);

// One chat.completion.chunk JSON -> text_completion chunk JSON (model = client_model).
Result<std::string> chat_chunk_to_completion(std::string_view chunk_json,
                                             std::string_view client_model);

}  // namespace sy::pipeline
