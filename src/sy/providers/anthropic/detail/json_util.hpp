#pragma once
// Helpers shared by the translation units of providers/anthropic. Not part of the public API.
// The provider-neutral ones live in providers/common and are re-exported here.
//
// Thread safety: pure functions.

#include <boost/json.hpp>
#include <string>
#include <string_view>

#include "sy/core/error.hpp"
#include "sy/providers/common/json_util.hpp"

namespace sy::providers::anthropic::detail {

namespace json = boost::json;

using common::kMaxErrorMessageBytes;
using common::kMaxParseDepth;
using common::kMaxTokens;

using common::append_int;
using common::append_quoted;
using common::as_integer;
using common::bad_request;
using common::contains_ci;
using common::find;
using common::find_array;
using common::find_object;
using common::find_string;
using common::parse_json;
using common::protocol_error;
using common::sanitize_utf8;
using common::starts_with_ci;
using common::token_count;
using common::truncate_utf8;
using common::unix_now;

// Upstream status + provider message -> client error (providers.md §8).
Error map_status_error(int status, std::string_view provider_message, std::string_view label);
// Anthropic error.type -> the HTTP status Anthropic sends it with.
int status_for_anthropic_type(std::string_view type);
// The message of an error body: error.message, else message, else the raw text.
std::string error_message_of(std::string_view body);

}  // namespace sy::providers::anthropic::detail
