#include <gtest/gtest.h>

#include "sy/routing/model_table.hpp"

namespace sy::routing {
namespace {

config::Deployment dep(std::string group, std::string upstream, std::string id) {
    config::Deployment d;
    d.model_name = std::move(group);
    d.model = "openai/" + upstream;
    d.provider = "openai";
    d.upstream_model = std::move(upstream);
    d.api_base = "http://127.0.0.1:1/v1";
    d.id = std::move(id);
    return d;
}

std::unique_ptr<ModelTable> table(std::vector<config::Deployment> ds,
                                  std::map<std::string, std::string> aliases = {}) {
    auto s = std::make_shared<config::Settings>();
    s->model_list = std::move(ds);
    s->router.model_group_alias = std::move(aliases);
    auto t = ModelTable::build(s);
    EXPECT_TRUE(t);
    return std::move(t).value();
}

TEST(ModelTable, ResolvesIdAliasExactAndWildcardInOrder) {
    auto t = table({dep("gpt-4o", "gpt-4o-2024", "id-a"), dep("gpt-4o", "gpt-4o-2024", "id-b"),
                    dep("openai/*", "*", "id-w"), dep("*", "*", "id-any")},
                   {{"smart", "gpt-4o"}});
    auto byid = t->resolve("id-b");
    ASSERT_TRUE(byid);
    EXPECT_EQ(byid->pinned->cfg->id, "id-b");
    EXPECT_EQ(t->resolve("smart")->group->name, "gpt-4o");
    EXPECT_EQ(t->resolve("gpt-4o")->group->members.size(), 2u);
    auto w = t->resolve("openai/gpt-5");
    ASSERT_TRUE(w);
    EXPECT_EQ(w->group->name, "openai/*");
    EXPECT_EQ(ModelTable::upstream_model(*w->group->members[0], *w), "gpt-5");
    EXPECT_EQ(t->resolve("something-else")->group->name, "*");
}

TEST(ModelTable, UnknownModelIsNotResolved) {
    auto t = table({dep("gpt-4o", "gpt-4o", "a")});
    EXPECT_FALSE(t->resolve("gpt-5"));
}

TEST(ModelTable, PublicNamesSortedWithoutWildcards) {
    auto t = table({dep("b", "m", "1"), dep("a", "m", "2"), dep("x/*", "*", "3")}, {{"c", "a"}});
    EXPECT_EQ(t->public_group_names(), (std::vector<std::string>{"a", "b", "c"}));
}

TEST(ModelTable, HiddenAliasesAreRoutableButNotListed) {
    auto s = std::make_shared<config::Settings>();
    s->model_list = {dep("a", "m", "1")};
    s->router.model_group_alias = {{"visible", "a"}, {"secret", "a"}};
    s->router.hidden_model_group_aliases = {"secret"};
    auto t = std::move(ModelTable::build(s)).value();
    EXPECT_EQ(t->public_group_names(), (std::vector<std::string>{"a", "visible"}));
    EXPECT_EQ(t->resolve("secret")->group->name, "a");
}

TEST(Glob, SingleStar) {
    std::string cap;
    EXPECT_TRUE(glob_match("anthropic/*", "anthropic/claude-3", &cap));
    EXPECT_EQ(cap, "claude-3");
    EXPECT_FALSE(glob_match("anthropic/*", "openai/x", &cap));
    EXPECT_TRUE(glob_match("*", "", &cap));
}

}  // namespace
}  // namespace sy::routing
