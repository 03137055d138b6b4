#pragma once
// Process lifecycle phase, read by readiness and by sessions deciding on keep-alive.
//
// Thread safety: atomic.

#include <atomic>
#include <cstdint>

namespace sy {

enum class Phase : std::uint8_t { kStarting, kReady, kDraining };

class Lifecycle {
public:
    Phase phase() const { return phase_.load(std::memory_order_acquire); }
    void set(Phase p) { phase_.store(p, std::memory_order_release); }

private:
    std::atomic<Phase> phase_{Phase::kStarting};
};

inline constexpr const char* kVersion = "0.1.0";

}  // namespace sy
