#include "sy/routing/model_table.hpp"

#include <algorithm>
#include <boost/json.hpp>

namespace sy::routing {

namespace {

// router.md §3.1: `weight` if any member has one (missing = 1); else `rpm` if every member has
// one; else `tpm` if every member has one; else equal.
void set_weights(ModelGroup& g) {
    bool any_weight = false, all_rpm = true, all_tpm = true;
    for (const auto* d : g.members) {
        any_weight = any_weight || d->cfg->weight.has_value();
        all_rpm = all_rpm && d->cfg->rpm.has_value();
        all_tpm = all_tpm && d->cfg->tpm.has_value();
    }
    g.weights.clear();
    for (const auto* d : g.members) {
        double w = 1;
        if (any_weight) {
            w = d->cfg->weight.value_or(1.0);
        } else if (all_rpm) {
            w = *d->cfg->rpm;
        } else if (all_tpm) {
            w = *d->cfg->tpm;
        }
        g.weights.push_back(w > 0 ? w : 0);
    }
    g.current.assign(g.members.size(), 0.0);
}

}  // namespace

bool glob_match(std::string_view pattern, std::string_view text, std::string* capture) {
    auto star = pattern.find('*');
    if (star == std::string_view::npos) {
        return pattern == text;
    }
    std::string_view pre = pattern.substr(0, star);
    std::string_view post = pattern.substr(star + 1);
    if (text.size() < pre.size() + post.size()) {
        return false;
    }
    if (text.substr(0, pre.size()) != pre || text.substr(text.size() - post.size()) != post) {
        return false;
    }
    if (capture) {
        *capture = std::string(text.substr(pre.size(), text.size() - pre.size() - post.size()));
    }
    return true;
}

Result<std::unique_ptr<ModelTable>> ModelTable::build(config::SettingsConstSharedPtr settings) {
    auto t = std::make_unique<ModelTable>();
    t->settings_ = std::move(settings);
    for (const auto& d : t->settings_->model_list) {
        if (providers::has_control_chars(d.model_name) || providers::has_control_chars(d.id)) {
            return Error::make(Errc::kBadRequest,
                               "model_list: a model_name or model_info.id contains control "
                               "characters");
        }
        auto rt = std::make_unique<DeploymentRuntime>();
        rt->cfg = &d;
        if (d.provider_supported) {
            auto target = providers::prepare_target(d);
            if (!target) {
                return std::move(target).error();
            }
            rt->target = std::move(target).value();
        }
        boost::system::error_code ec;
        auto v = boost::json::parse(d.default_params_json, ec);
        if (!ec && v.is_object()) {
            rt->defaults = std::move(v.get_object());
        }
        ModelGroup* g = nullptr;
        for (auto& existing : t->groups_) {
            if (existing->name == d.model_name) {
                g = existing.get();
                break;
            }
        }
        if (!g) {
            t->groups_.push_back(std::make_unique<ModelGroup>());
            g = t->groups_.back().get();
            g->name = d.model_name;
            g->wildcard = d.model_name.find('*') != std::string::npos;
        }
        g->members.push_back(rt.get());
        t->deployments_.push_back(std::move(rt));
    }
    for (auto& g : t->groups_) {
        set_weights(*g);
    }
    return t;
}

std::optional<Resolved> ModelTable::resolve(std::string_view requested) const {
    // 1. deployment id
    for (const auto& d : deployments_) {
        if (d->cfg->id == requested) {
            for (const auto& g : groups_) {
                if (g->name == d->cfg->model_name) {
                    return Resolved{g.get(), d.get(), {}};
                }
            }
        }
    }
    // 2. aliases (litellm_settings.model_alias_map, then router_settings.model_group_alias)
    std::string_view name = requested;
    if (auto it = settings_->litellm.model_alias_map.find(std::string(name));
        it != settings_->litellm.model_alias_map.end()) {
        name = it->second;
    } else if (auto it2 = settings_->router.model_group_alias.find(std::string(name));
               it2 != settings_->router.model_group_alias.end()) {
        name = it2->second;
    }
    // 3. exact group
    for (const auto& g : groups_) {
        if (!g->wildcard && g->name == name) {
            return Resolved{g.get(), nullptr, {}};
        }
    }
    // 4. wildcard groups, longest literal part first; '*' alone last
    const ModelGroup* best = nullptr;
    std::string best_capture;
    std::size_t best_literal = 0;
    for (const auto& g : groups_) {
        std::string cap;
        if (g->wildcard && glob_match(g->name, name, &cap)) {
            std::size_t literal = g->name.size() - 1;
            if (!best || literal > best_literal) {
                best = g.get();
                best_capture = std::move(cap);
                best_literal = literal;
            }
        }
    }
    if (best) {
        return Resolved{best, nullptr, std::move(best_capture)};
    }
    return std::nullopt;
}

const ModelGroup* ModelTable::group(std::string_view name) const {
    for (const auto& g : groups_) {
        if (g->name == name) {
            return g.get();
        }
    }
    return nullptr;
}

std::string ModelTable::upstream_model(const DeploymentRuntime& d, const Resolved& r) {
    const std::string& m = d.cfg->upstream_model;
    if (r.group && r.group->wildcard) {
        auto star = m.find('*');
        if (star != std::string::npos) {
            return m.substr(0, star) + r.wildcard_capture + m.substr(star + 1);
        }
    }
    return m;
}

std::vector<std::string> ModelTable::public_group_names() const {
    std::vector<std::string> names;
    for (const auto& g : groups_) {
        if (!g->wildcard) {
            names.push_back(g->name);
        }
    }
    const auto& hidden = settings_->router.hidden_model_group_aliases;
    for (const auto& [alias, target] : settings_->router.model_group_alias) {
        if (std::find(hidden.begin(), hidden.end(), alias) == hidden.end()) {
            names.push_back(alias);
        }
    }
    std::sort(names.begin(), names.end());
    names.erase(std::unique(names.begin(), names.end()), names.end());
    return names;
}

}  // namespace sy::routing
