#include "sy/http/sse.hpp"

namespace sy::http {

bool SseSplitter::feed(std::string_view bytes) {
    if (pos_ > 0 && pos_ == buf_.size()) {
        buf_.clear();
        pos_ = 0;
    } else if (pos_ > 64 * 1024) {
        buf_.erase(0, pos_);
        pos_ = 0;
    }
    if (bytes.find('\r') == std::string_view::npos) {
        buf_.append(bytes);
    } else {
        for (char c : bytes) {
            if (c != '\r') {
                buf_.push_back(c);
            }
        }
    }
    return pending() <= max_event_bytes_ || buf_.find("\n\n", pos_) != std::string::npos;
}

std::optional<std::string_view> SseSplitter::next_event() {
    while (true) {
        auto end = buf_.find("\n\n", pos_);
        if (end == std::string::npos) {
            return std::nullopt;
        }
        std::string_view ev(buf_.data() + pos_, end - pos_);
        pos_ = end + 2;
        // Skip leading blank lines between events.
        std::size_t first = ev.find_first_not_of('\n');
        if (first == std::string_view::npos) {
            continue;
        }
        return ev.substr(first);
    }
}

std::string sse_data(std::string_view event, std::string* event_type) {
    std::string data;
    bool have = false;
    while (!event.empty()) {
        auto nl = event.find('\n');
        std::string_view line = event.substr(0, nl);
        event = nl == std::string_view::npos ? std::string_view{} : event.substr(nl + 1);
        auto field_value = [&](std::string_view name) -> std::optional<std::string_view> {
            if (line.rfind(name, 0) != 0 || line.size() <= name.size() ||
                line[name.size()] != ':') {
                if (line == name) {
                    return std::string_view{};
                }
                return std::nullopt;
            }
            std::string_view v = line.substr(name.size() + 1);
            if (!v.empty() && v.front() == ' ') {
                v.remove_prefix(1);
            }
            return v;
        };
        if (auto v = field_value("data")) {
            if (have) {
                data.push_back('\n');
            }
            data.append(*v);
            have = true;
        } else if (auto e = field_value("event"); e && event_type) {
            *event_type = std::string(*e);
        }
    }
    return data;
}

std::string_view sse_data_view(std::string_view event, std::string& scratch) {
    if (event.rfind("data:", 0) == 0 && event.find('\n') == std::string_view::npos) {
        std::string_view v = event.substr(5);
        if (!v.empty() && v.front() == ' ') {
            v.remove_prefix(1);
        }
        return v;
    }
    scratch = sse_data(event);
    return scratch;
}

}  // namespace sy::http
