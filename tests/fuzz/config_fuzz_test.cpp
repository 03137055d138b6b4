// Robustness of the config loader: no input may throw, crash, hang or leak a secret into a
// diagnostic. Deterministic (fixed seeds), so failures reproduce; meant to run under
// ASan/UBSan (cmake -DSY_SANITIZE=ON).

#include <gtest/gtest.h>

#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sy/config/loader.hpp"

namespace sy::config {
namespace {

const std::string kTestData = SY_CONFIG_TESTDATA;
const std::string kSourceDir = SY_SOURCE_DIR;

// Secret values the environment holds: they must never appear in a diagnostic.
const char* const kSecrets[] = {"sk-SECRET-master-9f8e7d6c5b4a39281706",
                                "sk-SECRET-openai-1a2b3c4d5e6f",
                                "sk-SECRET-anthropic-0f1e2d3c",
                                "SECRETredispw"};

LoadOptions fuzz_options(bool strict = false) {
    LoadOptions o;
    o.strict = strict;
    o.env = [](std::string_view name) -> std::optional<std::string> {
        if (name == "LITELLM_MASTER_KEY") {
            return kSecrets[0];
        }
        if (name == "OPENAI_API_KEY" || name == "OPENAI_API_KEY_1") {
            return kSecrets[1];
        }
        if (name == "ANTHROPIC_API_KEY") {
            return kSecrets[2];
        }
        if (name == "REDIS_PASSWORD") {
            return kSecrets[3];
        }
        if (name == "REDIS_PORT") {
            return "6379";
        }
        if (name == "NOT_A_NUMBER") {
            return kSecrets[1];  // a secret where a number is expected
        }
        return std::nullopt;
    };
    return o;
}

// A config touching most sections and value shapes.
const char* const kRichConfig = R"yaml(
environment_variables:
  EXTRA_VAR: "1"
model_list:
  - model_name: claude-quality
    litellm_params:
      model: claude-sonnet-4-6
      api_key: os.environ/ANTHROPIC_API_KEY
  - model_name: gpt4o-pool
    litellm_params: {model: gpt-4o, api_key: os.environ/OPENAI_API_KEY_1, rpm: 600, tpm: 100000}
  - model_name: gpt4o-pool
    litellm_params:
      model: openai/gpt-4o
      api_key: os.environ/OPENAI_API_KEY_2
      api_base: https://example.com/v1/
      timeout: 30
      stream_timeout: 5
      temperature: 0.3
      stop: ["\n", "END"]
      response_format: {type: json_object}
      extra_headers: {X-Team: blue}
    model_info: {id: pool-b, mode: chat, base_model: gpt-4o, access_groups: [beta]}
  - model_name: "*"
    litellm_params: {model: "*"}
  - model_name: azure-eu
    litellm_params:
      model: azure/my-deployment
      api_base: https://eu.openai.azure.com
      api_version: "2024-10-21"
      api_key: os.environ/AZURE_KEY
litellm_settings:
  fallbacks: [{"gpt4o-pool": ["claude-quality"]}]
  context_window_fallbacks: [{"gpt4o-pool": ["claude-quality"]}]
  num_retries: 3
  request_timeout: 60
  drop_params: true
  cache: true
  cache_params: {type: redis, host: os.environ/REDIS_HOST, port: os.environ/REDIS_PORT,
                 password: os.environ/REDIS_PASSWORD, ttl: 3600}
  callbacks: [prometheus]
  model_alias_map: {gpt-4: gpt4o-pool}
  max_budget: 10
  budget_duration: 30d
router_settings:
  routing_strategy: latency-based-routing
  num_retries: 3
  retry_after: 5
  timeout: 30
  cooldown_time: 5
  model_group_alias: {fast: gpt4o-pool, hidden-one: {model: claude-quality, hidden: true}}
  retry_policy: {RateLimitErrorRetries: 2}
  default_litellm_params: {temperature: 0.1}
general_settings:
  master_key: os.environ/LITELLM_MASTER_KEY
  database_url: os.environ/DATABASE_URL
  database_path: data/keys.db
  max_request_size_mb: 16
  alerting: [slack]
)yaml";

std::string read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::vector<std::string> corpus() {
    std::vector<std::string> docs = {kRichConfig};
    for (const std::string& p :
         {kTestData + "/litellm_config.yaml", kSourceDir + "/config/example.yaml"}) {
        std::string t = read_text(p);
        if (!t.empty()) {
            docs.push_back(std::move(t));
        }
    }
    return docs;
}

// Loads `text`; checks the invariants that hold for every input. Returns the result.
LoadResult check(const std::string& text, bool strict = false) {
    LoadResult r;
    EXPECT_NO_THROW(r = load_string(text, "fuzz.yaml", fuzz_options(strict)));
    bool has_error = false;
    for (const Diagnostic& d : r.diagnostics) {
        EXPECT_FALSE(d.message.empty());
        has_error = has_error || d.level == Diagnostic::Level::kError;
        for (const char* secret : kSecrets) {
            EXPECT_EQ(d.message.find(secret), std::string::npos)
                << "secret in diagnostic: " << d.message;
        }
    }
    EXPECT_EQ(r.ok(), !has_error);
    if (r.ok()) {
        // Every id is non-empty and unique after de-duplication.
        std::vector<std::string> ids;
        for (const Deployment& d : r.settings->model_list) {
            EXPECT_FALSE(d.id.empty());
            ids.push_back(d.id);
        }
        std::sort(ids.begin(), ids.end());
        EXPECT_EQ(std::adjacent_find(ids.begin(), ids.end()), ids.end());
    }
    return r;
}

void expect_error(const std::string& text) {
    LoadResult r = check(text);
    EXPECT_FALSE(r.ok()) << text.substr(0, 200);
    bool has_error = false;
    for (const Diagnostic& d : r.diagnostics) {
        has_error = has_error || d.level == Diagnostic::Level::kError;
    }
    EXPECT_TRUE(has_error);
}

TEST(ConfigFuzz, CorpusLoads) {
    for (const std::string& doc : corpus()) {
        LoadResult r = check(doc);
        EXPECT_TRUE(r.ok()) << doc.substr(0, 80);
    }
}

TEST(ConfigFuzz, EveryTruncation) {
    for (const std::string& doc : corpus()) {
        for (std::size_t n = 0; n <= doc.size(); ++n) {
            check(doc.substr(0, n));
        }
    }
}

TEST(ConfigFuzz, RandomByteFlips) {
    std::mt19937 rng(20240601);
    const std::vector<std::string> docs = corpus();
    const char interesting[] = {'\0', '\n', '\t', ' ',  ':',    '-',    '[',    ']',  '{', '}',
                                ',',  '&',  '*',  '!',  '|',    '>',    '"',    '\'', '#', '%',
                                '@',  '`',  '?',  '\\', '\xff', '\xc3', '\x80', '<'};
    for (int iter = 0; iter < 3000; ++iter) {
        std::string doc = docs[static_cast<std::size_t>(iter) % docs.size()];
        const int flips = 1 + static_cast<int>(rng() % 8);
        for (int f = 0; f < flips; ++f) {
            std::size_t pos = rng() % doc.size();
            switch (rng() % 4) {
                case 0:
                    doc[pos] = static_cast<char>(rng() & 0xFF);
                    break;
                case 1:
                    doc[pos] = interesting[rng() % sizeof(interesting)];
                    break;
                case 2:
                    doc.erase(pos, 1 + rng() % 16);
                    break;
                default:
                    doc.insert(pos, 1, interesting[rng() % sizeof(interesting)]);
                    break;
            }
            if (doc.empty()) {
                doc = "x";
            }
        }
        check(doc, iter % 5 == 0);
    }
}

TEST(ConfigFuzz, LineShuffles) {
    std::mt19937 rng(7);
    const std::vector<std::string> docs = corpus();
    for (int iter = 0; iter < 600; ++iter) {
        std::vector<std::string> lines;
        std::stringstream ss(docs[static_cast<std::size_t>(iter) % docs.size()]);
        for (std::string line; std::getline(ss, line);) {
            lines.push_back(line);
        }
        if (lines.size() < 2) {
            continue;
        }
        const std::size_t a = rng() % lines.size();
        const std::size_t b = rng() % lines.size();
        switch (rng() % 4) {
            case 0:
                std::swap(lines[a], lines[b]);
                break;
            case 1:
                lines.erase(lines.begin() + static_cast<std::ptrdiff_t>(a));
                break;
            case 2:
                lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(a), lines[b]);
                break;
            default:
                lines[a] = std::string(rng() % 12, ' ') + lines[a];  // re-indent
                break;
        }
        std::string doc;
        for (const std::string& l : lines) {
            doc += l + "\n";
        }
        check(doc);
    }
}

TEST(ConfigFuzz, DeepNesting) {
    expect_error(std::string(100000, '['));
    expect_error(std::string(100000, '{'));
    expect_error(std::string(50000, '[') + std::string(50000, ']'));
    std::string flow_maps;
    for (int i = 0; i < 5000; ++i) {
        flow_maps += "{a: ";
    }
    expect_error(flow_maps);
    std::string dashes;
    for (int i = 0; i < 5000; ++i) {
        dashes += "- ";
    }
    expect_error(dashes + "x\n");
    std::string block;
    for (int i = 0; i < 300; ++i) {
        block +=
            std::string(static_cast<std::size_t>(i) * 2, ' ') + "k" + std::to_string(i) + ":\n";
    }
    expect_error(block + std::string(600, ' ') + "v\n");
    // Nesting inside a JSON-kept value (model_info) within the limit loads.
    std::string nested =
        "model_list:\n  - model_name: a\n    litellm_params: {model: openai/x}\n"
        "    model_info: {x: ";
    for (int i = 0; i < 40; ++i) {
        nested += "[";
    }
    nested += "1";
    for (int i = 0; i < 40; ++i) {
        nested += "]";
    }
    nested += "}\n";
    EXPECT_TRUE(check(nested).ok());
}

TEST(ConfigFuzz, AliasBombsStopEarly) {
    std::string bomb =
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n";
    char prev = 'a';
    for (char c = 'b'; c <= 'j'; ++c) {
        bomb += std::string(1, c) + ": &" + c + " [";
        for (int i = 0; i < 9; ++i) {
            bomb += std::string(i ? "," : "") + "*" + prev;
        }
        bomb += "]\n";
        prev = c;
    }
    expect_error(bomb);

    std::string big(1 << 20, 'x');
    std::string wide = "a: &big \"" + big + "\"\nb: [";
    for (int i = 0; i < 200; ++i) {
        wide += std::string(i ? "," : "") + "*big";
    }
    expect_error(wide + "]\n");
}

TEST(ConfigFuzz, HugeInputs) {
    // A 17 MiB document is refused before parsing.
    expect_error("model_list: []\n# " + std::string(17U << 20, 'x') + "\n");
    // Multi-megabyte scalars in every string position load or fail cleanly.
    const std::string huge(4U << 20, 'a');
    check("model_list:\n  - model_name: " + huge + "\n    litellm_params: {model: openai/" + huge +
          "}\n");
    check("general_settings:\n  master_key: sk-" + huge + "\n");
    check("general_settings:\n  " + huge + ": 1\n");  // unknown key: suggestion search bounded
    check("router_settings:\n  routing_strategy: " + huge + "\n");
    check("model_list: [" + std::string(100000, '1') + "]\n");
    // Many keys and many deployments.
    std::string many = "general_settings:\n";
    for (int i = 0; i < 20000; ++i) {
        many += "  k" + std::to_string(i) + ": " + std::to_string(i) + "\n";
    }
    check(many);
    std::string deployments = "model_list:\n";
    for (int i = 0; i < 3000; ++i) {
        deployments += "  - {model_name: g, litellm_params: {model: openai/gpt-4o}}\n";
    }
    LoadResult r = check(deployments);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.settings->model_list.back().id.substr(64), "-2999");
}

TEST(ConfigFuzz, WrongTypesAtEveryField) {
    struct Field {
        const char* section;
        const char* key;
    };
    const Field fields[] = {
        {"litellm_settings", "drop_params"},
        {"litellm_settings", "num_retries"},
        {"litellm_settings", "request_timeout"},
        {"litellm_settings", "fallbacks"},
        {"litellm_settings", "default_fallbacks"},
        {"litellm_settings", "cache"},
        {"litellm_settings", "cache_params"},
        {"litellm_settings", "callbacks"},
        {"litellm_settings", "model_alias_map"},
        {"litellm_settings", "max_budget"},
        {"litellm_settings", "budget_duration"},
        {"litellm_settings", "timezone"},
        {"router_settings", "routing_strategy"},
        {"router_settings", "routing_strategy_args"},
        {"router_settings", "num_retries"},
        {"router_settings", "retry_after"},
        {"router_settings", "retry_policy"},
        {"router_settings", "allowed_fails_policy"},
        {"router_settings", "cooldown_time"},
        {"router_settings", "timeout"},
        {"router_settings", "stream_timeout"},
        {"router_settings", "max_fallbacks"},
        {"router_settings", "fallbacks"},
        {"router_settings", "model_group_alias"},
        {"router_settings", "default_litellm_params"},
        {"router_settings", "redis_port"},
        {"general_settings", "master_key"},
        {"general_settings", "database_url"},
        {"general_settings", "database_path"},
        {"general_settings", "max_request_size_mb"},
        {"general_settings", "allow_unauthenticated"},
        {"general_settings", "global_max_parallel_requests"},
        {"general_settings", "max_header_bytes"},
        {"general_settings", "token_rate_limit_type"},
        {"general_settings", "user_url_allowed_hosts"},
    };
    const char* params[] = {"model",
                            "api_key",
                            "api_base",
                            "api_version",
                            "custom_llm_provider",
                            "rpm",
                            "tpm",
                            "weight",
                            "order",
                            "timeout",
                            "stream_timeout",
                            "max_retries",
                            "cooldown_time",
                            "extra_headers",
                            "drop_params",
                            "additional_drop_params",
                            "mock_response",
                            "mock_timeout",
                            "temperature",
                            "input_cost_per_token"};
    const char* values[] = {"abc",
                            "-1",
                            "0",
                            "1e400",
                            "99999999999999999999999",
                            "[1, [2, {a: b}]]",
                            "{x: {y: z}}",
                            "~",
                            "''",
                            "true",
                            "os.environ/UNSET_VAR_X",
                            "os.environ/NOT_A_NUMBER",
                            "os.environ/",
                            "\"\\u0000\\x01\"",
                            "!!binary aGVsbG8=",
                            "&anchor 5",
                            "|\n    multi\n    line"};
    for (const Field& f : fields) {
        for (const char* v : values) {
            check(std::string(f.section) + ":\n  " + f.key + ": " + v + "\n");
            check(std::string(f.section) + ": " + v + "\n");
        }
    }
    for (const char* p : params) {
        for (const char* v : values) {
            std::string doc = "model_list:\n  - model_name: m\n    litellm_params:\n";
            if (std::string(p) != "model") {
                doc += "      model: openai/gpt-4o\n";
            }
            doc += std::string("      ") + p + ": " + v + "\n";
            check(doc);
        }
    }
    for (const char* v : values) {
        check(std::string("model_list: ") + v + "\n");
        check(std::string("model_list:\n  - ") + v + "\n");
        check(std::string("model_list:\n  - model_name: ") + v + "\n    litellm_params: " + v +
              "\n    model_info: " + v + "\n");
        check(std::string("include: ") + v + "\n");
        check(std::string("environment_variables: ") + v + "\n");
        check(std::string("environment_variables: {A: ") + v + "}\n");
    }
}

TEST(ConfigFuzz, RandomTokenSoup) {
    std::mt19937 rng(99);
    const char* tokens[] = {"model_list",
                            ":",
                            "\n",
                            "  ",
                            "- ",
                            "[",
                            "]",
                            "{",
                            "}",
                            ",",
                            "model_name",
                            "litellm_params",
                            "model",
                            "openai/gpt-4o",
                            "*",
                            "os.environ/LITELLM_MASTER_KEY",
                            "&a ",
                            "*a",
                            "<<",
                            "\"",
                            "'",
                            "general_settings",
                            "master_key",
                            "router_settings",
                            "routing_strategy",
                            "fallbacks",
                            "include",
                            "x.yaml",
                            "? ",
                            "!!str ",
                            "---\n",
                            "...\n",
                            "%YAML 1.2\n",
                            "#",
                            "|",
                            ">",
                            "\t",
                            "1e5",
                            "-1"};
    for (int iter = 0; iter < 3000; ++iter) {
        std::string doc;
        const int n = 1 + static_cast<int>(rng() % 60);
        for (int i = 0; i < n; ++i) {
            doc += tokens[rng() % (sizeof(tokens) / sizeof(tokens[0]))];
            if (rng() % 3 == 0) {
                doc += ' ';
            }
        }
        check(doc);
    }
}

}  // namespace
}  // namespace sy::config
