#pragma once
// Health and model-listing routes: /health/liveliness, /health/readiness, /health, /v1/models.
// /health reports what the router observed; it calls providers only when an admin asks for
// `?probe=true` (the caller runs the probes and passes their results in) (README D21).
//
// Thread safety: reads immutable tables and atomic/mutex-protected deployment state.

#include <functional>
#include <map>
#include <string>

#include "sy/core/lifecycle.hpp"
#include "sy/pipeline/health_probe.hpp"
#include "sy/http/server.hpp"
#include "sy/routing/model_table.hpp"

namespace sy::admin {

http::Response liveliness(unsigned version);
// `db_ok`: the store answered its last ping (api.md §7.3).
http::Response readiness(const Lifecycle& life, unsigned version, bool db_ok = true);
// `model_filter` empty = all groups. `details` adds api_base and error text (admins only).
// `probes` (optional): results of probes just run, by deployment id.
http::Response health(const routing::ModelTable& table,
                      std::string_view model_filter,
                      bool details,
                      unsigned version,
                      const std::map<std::string, pipeline::ProbeResult>* probes = nullptr);
// `visible` (optional): the caller may use this group (a virtual key's model list).
http::Response list_models(const routing::ModelTable& table, unsigned version,
                           const std::function<bool(const std::string&)>& visible = {});
// GET /v1/models/{id}: one entry or nullopt.
std::optional<http::Response> get_model(const routing::ModelTable& table,
                                        std::string_view id,
                                        unsigned version);

}  // namespace sy::admin
