#pragma once
// The HTTP route table: maps method + path to the LLM pipeline, health and model routes, runs
// authentication first on every non-public route, and writes the access log line.
//
// Thread safety: immutable after construction; serves all workers.

#include <memory>
#include <vector>

#include "sy/core/lifecycle.hpp"
#include "sy/http/server.hpp"
#include "sy/http/upstream.hpp"
#include "sy/pipeline/auth.hpp"
#include "sy/pipeline/call_context.hpp"
#include "sy/pipeline/llm_handler.hpp"
#include "sy/routing/model_table.hpp"

namespace sy::app {

class HttpRouter : public http::RequestHandler {
public:
    HttpRouter(const routing::ModelTable& table,
               const Lifecycle& life,
               std::vector<std::unique_ptr<http::UpstreamPool>>& pools);

    http::Task<void> handle(http::Exchange& ex) override;
    http::Response protocol_error(int status, std::string_view message) override;
    std::optional<http::Response> screen_head(const http::Request& head) override;

private:
    http::Task<void> dispatch(http::Exchange& ex, pipeline::CallContext& ctx);
    http::Task<void> dispatch_other(http::Exchange& ex, pipeline::CallContext& ctx);
    void access_log(const pipeline::CallContext& ctx) const;

    const routing::ModelTable& table_;
    const Lifecycle& life_;
    pipeline::Authenticator auth_;
    pipeline::LlmHandler llm_;
};

}  // namespace sy::app
