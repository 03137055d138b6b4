#pragma once
// Server-sent events framing: splits a byte stream into complete events.
//
// Thread safety: one instance per stream; not shared.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace sy::http {

inline constexpr std::size_t kDefaultMaxEventBytes = 4 * 1024 * 1024;

class SseSplitter {
public:
    explicit SseSplitter(std::size_t max_event_bytes = kDefaultMaxEventBytes)
        : max_event_bytes_(max_event_bytes) {}

    // Appends received bytes. Returns false when a single event exceeds the bound (the stream
    // must then be failed).
    bool feed(std::string_view bytes);

    // Next complete event (without the blank-line terminator), or nullopt when more bytes are
    // needed. CRLF line endings are normalised to LF. The view is valid until the next feed().
    std::optional<std::string_view> next_event();

    // Bytes buffered that do not yet form a complete event.
    std::size_t pending() const { return buf_.size() - pos_; }

private:
    std::string buf_;
    std::size_t pos_ = 0;
    std::size_t max_event_bytes_;
};

// The payload of the `data:` lines of one event, joined with '\n' (SSE spec). Empty when the
// event has no data line. `event_type` receives the `event:` field when present.
std::string sse_data(std::string_view event, std::string* event_type = nullptr);

// Fast path of sse_data for the common single-line `data:` event: returns a view into `event`,
// or into `scratch` when the payload had to be assembled from several lines.
std::string_view sse_data_view(std::string_view event, std::string& scratch);

}  // namespace sy::http
