#pragma once
// Deterministic mutation fuzzing shared by the provider robustness tests
// (tests/unit/providers_*/robustness_test.cpp): a seeded mutator for JSON values and texts,
// text-seed fuzzing and stream-event edits. Each provider supplies its own steering words.
//
// SY_FUZZ_ITERATIONS (env) overrides the per-target iteration count.

#include <gtest/gtest.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <limits>
#include <random>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace sy::test {

namespace json = boost::json;

inline int iterations() {
    if (const char* s = std::getenv("SY_FUZZ_ITERATIONS")) {
        int n = std::atoi(s);
        if (n > 0) {
            return n;
        }
    }
    return 4000;
}

class Mutator {
public:
    // `words`: strings that steer mutations into the translators' interesting branches.
    Mutator(std::uint32_t seed, std::span<const char* const> words) : rng_(seed), words_(words) {}

    std::size_t below(std::size_t n) { return n == 0 ? 0 : rng_() % n; }

    // A steering word that is valid UTF-8: values in a json::value always come from a parser
    // that validates UTF-8, so structural mutations must not invent invalid strings.
    std::string_view word_utf8() {
        for (;;) {
            std::string_view w = words_[below(words_.size())];
            if (w != "\xC3\x28") {
                return w;
            }
        }
    }
    bool coin(int one_in) { return below(static_cast<std::size_t>(one_in)) == 0; }

    json::value random_scalar_or_container(int depth = 0) {
        switch (below(14)) {
            case 0:
                return nullptr;
            case 1:
                return coin(2);
            case 2:
                return static_cast<std::int64_t>(below(5)) - 2;
            case 3:
                return std::numeric_limits<std::int64_t>::max();
            case 4:
                return std::numeric_limits<std::uint64_t>::max();
            case 5:
                return coin(2) ? 1e308 : -0.5;
            case 6:
                return json::string(word_utf8());
            case 7:
                return json::array{};
            case 8:
                return json::object{};
            case 9: {
                json::value v = json::array{};
                json::value* cur = &v;
                int d = static_cast<int>(below(100));
                for (int i = 0; i < d; ++i) {
                    cur->as_array().push_back(json::array{});
                    cur = &cur->as_array().back();
                }
                return v;
            }
            case 10:
                if (depth < 2) {
                    json::object o;
                    o["type"] = word_utf8();
                    o[word_utf8()] = random_scalar_or_container(depth + 1);
                    return o;
                }
                return "x";
            case 11:
                if (depth < 2) {
                    return json::array{random_scalar_or_container(depth + 1)};
                }
                return 7;
            case 12:
                return json::string(below(300), 'z');
            default:
                return json::string("\xF0\x9F\x98\x80 unicode \u00e9");
        }
    }

    // Collects pointers to every value in `v` (pre-order).
    static void collect(json::value& v, std::vector<json::value*>& out) {
        out.push_back(&v);
        if (json::object* o = v.if_object()) {
            for (auto& kv : *o) {
                collect(kv.value(), out);
            }
        } else if (json::array* a = v.if_array()) {
            for (auto& e : *a) {
                collect(e, out);
            }
        }
    }

    void mutate_structure(json::value& root) {
        int n = 1 + static_cast<int>(below(4));
        for (int k = 0; k < n; ++k) {
            std::vector<json::value*> nodes;
            collect(root, nodes);
            json::value* target = nodes[below(nodes.size())];
            switch (below(6)) {
                case 0:
                case 1:
                    if (target != &root || coin(8)) {
                        *target = random_scalar_or_container();
                    }
                    break;
                case 2:
                    if (json::object* o = target->if_object(); o != nullptr && !o->empty()) {
                        auto it = o->begin();
                        std::advance(it, static_cast<std::ptrdiff_t>(below(o->size())));
                        o->erase(it);
                    }
                    break;
                case 3:
                    if (json::array* a = target->if_array(); a != nullptr && !a->empty()) {
                        json::value copy = (*a)[below(a->size())];
                        a->insert(a->begin() + static_cast<std::ptrdiff_t>(below(a->size() + 1)),
                                  std::move(copy));
                    }
                    break;
                case 4:
                    if (json::object* o = target->if_object()) {
                        (*o)[word_utf8()] = random_scalar_or_container();
                    }
                    break;
                default: {
                    json::value* other = nodes[below(nodes.size())];
                    if (other != target && target != &root) {
                        json::value copy = *other;  // may copy an ancestor: fine, it's a copy
                        *target = std::move(copy);
                    }
                    break;
                }
            }
        }
    }

    std::string mutate_text(std::string s) {
        int n = 1 + static_cast<int>(below(3));
        for (int k = 0; k < n; ++k) {
            switch (below(6)) {
                case 0:
                    if (!s.empty()) {
                        s[below(s.size())] = static_cast<char>(rng_());
                    }
                    break;
                case 1:
                    s.resize(below(s.size() + 1));
                    break;
                case 2: {
                    std::size_t pos = below(s.size() + 1);
                    s.insert(pos, words_[below(words_.size())]);
                    break;
                }
                case 3:
                    if (!s.empty()) {
                        std::size_t a = below(s.size());
                        std::size_t len = below(s.size() - a + 1);
                        s.erase(a, len);
                    }
                    break;
                case 4:
                    if (!s.empty()) {
                        std::size_t a = below(s.size());
                        std::size_t len = below(std::min<std::size_t>(s.size() - a, 64) + 1);
                        s.insert(below(s.size() + 1), s.substr(a, len));
                    }
                    break;
                default: {
                    const char punct[] = "{}[]\",:\\0-eE.";
                    s.insert(below(s.size() + 1), 1, punct[below(sizeof punct - 1)]);
                    break;
                }
            }
        }
        return s;
    }

    std::mt19937& rng() { return rng_; }

private:
    std::mt19937 rng_;
    std::span<const char* const> words_;
};

// The text is valid JSON (depth up to 1000).
inline bool parses(std::string_view text) {
    boost::system::error_code ec;
    json::parse_options opts;
    opts.max_depth = 1000;
    json::parse(text, ec, {}, opts);
    return !ec;
}

// Checks a translation result: a success must be valid JSON, a failure must pass `check_error`.
template <class R, class CheckError>
void check_result(const R& r, CheckError check_error) {
    if (r) {
        EXPECT_TRUE(parses(r.value())) << r.value();
    } else {
        check_error(r.error());
    }
}

// Feeds `fn` iterations() texts, each one of `seeds_v` mutated as text or (when it is JSON) as
// structure.
template <class Fn>
void fuzz_text(std::uint32_t seed,
               std::span<const char* const> words,
               const std::vector<std::string>& seeds_v,
               Fn fn) {
    Mutator m(seed, words);
    ASSERT_FALSE(seeds_v.empty());
    for (int i = 0; i < iterations(); ++i) {
        const std::string& base = seeds_v[m.below(seeds_v.size())];
        std::string text;
        if (m.coin(2)) {
            text = m.mutate_text(base);
        } else {
            boost::system::error_code ec;
            json::value v = json::parse(base, ec);
            if (ec) {
                text = m.mutate_text(base);
            } else {
                m.mutate_structure(v);
                text = json::serialize(v);
            }
        }
        fn(text);
    }
}

// Applies 1-4 random edits to a list of stream events: one event's data mutated as text or as
// JSON structure, an event dropped, duplicated or two swapped. `data_of(event)` is the event's
// data string; `extra(event)`, when given, is one more kind of edit, as likely as each other.
template <class Event, class DataOf, class Extra = std::nullptr_t>
void mutate_events(Mutator& m, std::vector<Event>& events, DataOf data_of, Extra extra = nullptr) {
    constexpr bool kHasExtra = !std::is_same_v<Extra, std::nullptr_t>;
    int edits = 1 + static_cast<int>(m.below(4));
    for (int k = 0; k < edits && !events.empty(); ++k) {
        std::size_t at = m.below(events.size());
        switch (m.below(kHasExtra ? 6 : 5)) {
            case 0:
                data_of(events[at]) = m.mutate_text(data_of(events[at]));
                break;
            case 1: {
                boost::system::error_code ec;
                json::value v = json::parse(data_of(events[at]), ec);
                if (!ec) {
                    m.mutate_structure(v);
                    data_of(events[at]) = json::serialize(v);
                }
                break;
            }
            case 2:
                events.erase(events.begin() + static_cast<std::ptrdiff_t>(at));
                break;
            case 3:
                events.insert(events.begin() + static_cast<std::ptrdiff_t>(m.below(events.size())),
                              events[at]);
                break;
            case 4:
                std::swap(events[at], events[m.below(events.size())]);
                break;
            default:
                if constexpr (kHasExtra) {
                    extra(events[at]);
                }
                break;
        }
    }
}

// mutate_events() for events that are just their data.
inline void mutate_events(Mutator& m, std::vector<std::string>& events) {
    mutate_events(m, events, [](std::string& s) -> std::string& { return s; });
}

}  // namespace sy::test
