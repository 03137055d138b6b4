// switchyard: OpenAI-compatible LLM gateway. argv, signals, --check-config, App::run().

#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <malloc.h>
#include <pthread.h>
#include <thread>

#include "sy/app/app.hpp"
#include "sy/config/loader.hpp"
#include "sy/core/lifecycle.hpp"
#include "sy/observability/log.hpp"

namespace {

std::string env_or(const char* name, std::string fallback) {
    const char* v = std::getenv(name);
    return v && *v ? std::string(v) : std::move(fallback);
}

int print_diagnostics(const sy::config::LoadResult& r, bool to_log) {
    int errors = 0;
    for (const auto& d : r.diagnostics) {
        bool err = d.level == sy::config::Diagnostic::Level::kError;
        errors += err ? 1 : 0;
        if (to_log) {
            sy::obs::log(err ? sy::obs::Level::kError : sy::obs::Level::kWarning, d.message);
        } else {
            std::cerr << (err ? "error: " : "warning: ") << d.message << "\n";
        }
    }
    return errors;
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App cli{"Switchyard: an OpenAI-compatible LLM gateway that reads LiteLLM config.yaml"};
    std::string config_path = env_or("CONFIG_FILE_PATH", "");
    std::string check_config;
    std::string host = env_or("HOST", "0.0.0.0");
    int port = std::atoi(env_or("PORT", "4000").c_str());
    int num_workers = std::atoi(env_or("NUM_WORKERS", "0").c_str());
    bool strict = false;
    bool debug = false;
    bool detailed_debug = false;
    bool version = false;
    std::string db_path;
    cli.add_option("--config,-c", config_path, "LiteLLM-format config.yaml (env CONFIG_FILE_PATH)");
    cli.add_option("--port,-p", port, "listen port (env PORT, default 4000)");
    cli.add_option("--host", host, "bind address (env HOST, default 0.0.0.0)");
    cli.add_option("--num_workers", num_workers,
                   "worker threads (env NUM_WORKERS, default = number of cores)");
    cli.add_option("--check-config", check_config,
                   "validate FILE and exit 0 (valid) or 1 (invalid)");
    cli.add_flag("--strict", strict, "unknown config keys are errors instead of warnings");
    cli.add_option("--db", db_path, "SQLite database path (overrides general_settings.database_path)");
    cli.add_flag("--debug", debug, "log level INFO");
    cli.add_flag("--detailed_debug", detailed_debug, "log level DEBUG");
    cli.add_flag("--version,-v", version, "print the version and exit");
    CLI11_PARSE(cli, argc, argv);

    if (version) {
        std::cout << "switchyard " << sy::kVersion << "\n";
        return 0;
    }

    sy::config::LoadOptions lo;
    lo.strict = strict;

    if (!check_config.empty()) {
        auto r = sy::config::load_file(check_config, lo);
        int errors = print_diagnostics(r, false);
        if (!r.ok() || errors > 0) {
            std::cerr << check_config << ": invalid (" << errors << " error(s))\n";
            return 1;
        }
        std::cerr << check_config << ": ok (" << r.settings->model_list.size()
                  << " deployment(s))\n";
        return 0;
    }

    // Signals are handled by sigwait on this thread; every thread (workers, the
    // logger's) inherits the blocked mask, so it must be set before any thread starts.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    std::signal(SIGPIPE, SIG_IGN);

    auto level = sy::obs::parse_level(env_or("LITELLM_LOG", "INFO"), sy::obs::Level::kInfo);
    if (detailed_debug) {
        level = sy::obs::Level::kDebug;
    } else if (debug) {
        level = sy::obs::Level::kInfo;
    }
    sy::obs::init_logging(level, true);

    auto loaded = config_path.empty() ? sy::config::load_defaults(lo)
                                      : sy::config::load_file(config_path, lo);
    print_diagnostics(loaded, true);
    if (!loaded.ok()) {
        sy::obs::error("invalid configuration; not starting",
                       {{"config", config_path.empty() ? "(none)" : config_path}});
        sy::obs::shutdown_logging();
        return 2;
    }
    if (!db_path.empty()) {
        loaded.settings->general.database_path = db_path;
    }
    if (num_workers <= 0) {
        num_workers = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    }
    if (port < 0 || port > 65535) {
        sy::obs::error("invalid --port");
        return 2;
    }

    sy::app::AppOptions opts;
    opts.host = host;
    opts.port = static_cast<std::uint16_t>(port);
    opts.num_workers = num_workers;
    sy::app::App app(loaded.settings, opts);
    auto started = app.start();
    if (!started) {
        sy::obs::error(started.error().message);
        sy::obs::shutdown_logging();
        return 1;
    }
    std::map<std::string, int> groups;
    for (const auto& d : loaded.settings->model_list) {
        ++groups[d.model_name];
    }
    std::string group_text;
    for (const auto& [g, n] : groups) {
        group_text += (group_text.empty() ? "" : ", ") + g + "=" + std::to_string(n);
    }
    sy::obs::info("switchyard listening",
                  {{"version", sy::kVersion},
                   {"address", app.bound_host() + ":" + std::to_string(started.value())},
                   sy::obs::num("port", static_cast<long long>(started.value())),
                   sy::obs::num("workers", static_cast<long long>(num_workers)),
                   {"config", config_path.empty() ? "(none)" : config_path},
                   {"model_groups", group_text}});

    // Start-up parsed the config and the price table into temporary trees; give the freed heap
    // back to the system so an idle gateway holds only what it uses.
    malloc_trim(0);

    int sig = 0;
    for (;;) {
        sigwait(&set, &sig);
        if (sig == SIGHUP) {
            sy::obs::warn("SIGHUP received: configuration reload is not supported yet; ignored");
            continue;
        }
        break;
    }
    sy::obs::info("shutting down: readiness 503, draining in-flight requests",
                  {{"signal", sig == SIGTERM ? "SIGTERM" : "SIGINT"}});
    bool clean = app.shutdown();
    sy::obs::info(clean ? "shutdown complete" : "shutdown grace period expired; connections cut");
    sy::obs::shutdown_logging();
    return 0;
}
