#pragma once
// Composition root: builds every service from a validated Settings snapshot, owns the server and
// the per-worker upstream pools, and runs the shutdown sequence (readiness 503 -> stop accepting
// -> drain in-flight requests and streams within the grace period -> stop).
//
// Thread safety: start()/shutdown() are called from one controlling thread.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "sy/config/settings.hpp"
#include "sy/core/error.hpp"
#include "sy/core/lifecycle.hpp"

namespace sy::app {

struct AppOptions {
    std::string host = "0.0.0.0";
    std::uint16_t port = 4000;
    int num_workers = 1;
};

class App {
public:
    App(config::SettingsConstSharedPtr settings, AppOptions opts);
    ~App();
    App(const App&) = delete;
    App& operator=(const App&) = delete;

    // Binds, starts workers and marks the process ready. Returns the bound port.
    Result<std::uint16_t> start();
    // Readiness 503, stop accepting, wait for in-flight work up to the grace period, stop.
    // Returns true when everything finished within the grace period.
    bool shutdown();
    const Lifecycle& lifecycle() const { return life_; }
    const std::string& bound_host() const { return host_; }

private:
    Status start_coordination();

    struct Impl;
    std::unique_ptr<Impl> impl_;
    Lifecycle life_;
    std::string host_;
};

}  // namespace sy::app
