#include "sy/http/url.hpp"

#include <charconv>

namespace sy::http {

std::string Origin::key() const {
    std::string k;
    append_key(k);
    return k;
}

void Origin::append_key(std::string& out) const {
    out += tls ? "https://" : "http://";
    out += host;
    out += ':';
    char buf[8];
    auto [p, ec] = std::to_chars(buf, buf + sizeof buf, port);
    (void)ec;
    out.append(buf, p);
}

bool Origin::is_loopback() const {
    return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

Result<ParsedUrl> parse_url(std::string_view url) {
    ParsedUrl out;
    std::string_view rest;
    if (url.rfind("https://", 0) == 0) {
        out.origin.tls = true;
        out.origin.port = 443;
        rest = url.substr(8);
    } else if (url.rfind("http://", 0) == 0) {
        out.origin.port = 80;
        rest = url.substr(7);
    } else {
        return Error::make(Errc::kBadRequest, "api_base must start with http:// or https://");
    }
    std::size_t end_auth = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, end_auth);
    std::string_view tail = end_auth == std::string_view::npos ? "" : rest.substr(end_auth);
    if (auto at = authority.rfind('@'); at != std::string_view::npos) {
        authority = authority.substr(at + 1);
    }
    std::string_view host = authority;
    std::string_view port;
    if (!authority.empty() && authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) {
            return Error::make(Errc::kBadRequest, "api_base has an invalid IPv6 host");
        }
        host = authority.substr(1, close - 1);
        std::string_view after = authority.substr(close + 1);
        if (!after.empty()) {
            if (after.front() != ':') {
                return Error::make(Errc::kBadRequest, "api_base has an invalid port");
            }
            port = after.substr(1);
        }
    } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) {
        return Error::make(Errc::kBadRequest, "api_base has no host");
    }
    if (!port.empty()) {
        unsigned p = 0;
        auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), p);
        if (ec != std::errc{} || ptr != port.data() + port.size() || p == 0 || p > 65535) {
            return Error::make(Errc::kBadRequest, "api_base has an invalid port");
        }
        out.origin.port = static_cast<std::uint16_t>(p);
    }
    out.origin.host = std::string(host);
    std::string_view path = tail;
    if (auto h = path.find('#'); h != std::string_view::npos) {
        path = path.substr(0, h);
    }
    if (auto q = path.find('?'); q != std::string_view::npos) {
        out.query = std::string(path.substr(q + 1));
        path = path.substr(0, q);
    }
    while (!path.empty() && path.back() == '/') {
        path.remove_suffix(1);
    }
    out.base_path = std::string(path);
    out.display = (out.origin.tls ? "https://" : "http://") + std::string(authority) + out.base_path;
    return out;
}

}  // namespace sy::http
