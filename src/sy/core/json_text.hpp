#pragma once
// JSON text of a Boost.JSON value for response bodies, with numbers written the way LiteLLM
// (Python's json module) writes them: 0.25, 0.0, 1e-07, 3.0. Boost.JSON itself writes every
// double in exponent form (2.5E-1, 0E0), which is valid JSON but not what clients and scripts
// comparing against LiteLLM expect. Non-finite doubles become null (JSON has no NaN).
//
// Thread safety: pure functions.

#include <boost/json/value.hpp>
#include <string>

namespace sy {

std::string json_text(const boost::json::value& v);
void append_json_text(std::string& out, const boost::json::value& v);

}  // namespace sy
