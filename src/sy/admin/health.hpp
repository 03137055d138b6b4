#pragma once
// Health and model-listing routes: /health/liveliness, /health/readiness, /health, /v1/models.
// /health reports what the router observed; it never calls a provider (README D21).
//
// Thread safety: reads immutable tables and atomic/mutex-protected deployment state.

#include <string>

#include "sy/core/lifecycle.hpp"
#include "sy/http/server.hpp"
#include "sy/routing/model_table.hpp"

namespace sy::admin {

http::Response liveliness(unsigned version);
// `db_ok`: the store answered its last ping (api.md §7.3).
http::Response readiness(const Lifecycle& life, unsigned version, bool db_ok = true);
// `model_filter` empty = all groups. `details` adds api_base and error text (admins only).
http::Response health(const routing::ModelTable& table,
                      std::string_view model_filter,
                      bool details,
                      unsigned version);
http::Response list_models(const routing::ModelTable& table, unsigned version);
// GET /v1/models/{id}: one entry or nullopt.
std::optional<http::Response> get_model(const routing::ModelTable& table,
                                        std::string_view id,
                                        unsigned version);

}  // namespace sy::admin
