#pragma once
// Token count estimate for POST /v1/messages/count_tokens (issue 4: "as an estimate"): about
// four characters per token over message, system and tool text, plus a small per-message
// overhead. Not a tokenizer; never used for billing.
//
// Thread safety: pure function.

#include <cstdint>
#include <string_view>

#include "sy/core/error.hpp"

namespace sy::pipeline {

Result<std::int64_t> estimate_input_tokens(std::string_view anthropic_body);

}  // namespace sy::pipeline
