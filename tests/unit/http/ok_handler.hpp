#pragma once
// A request handler for server tests: "ok" to every request; protocol errors with their message.

#include <string>
#include <string_view>

#include "sy/http/server.hpp"

namespace sy::http::test_support {

class OkHandler : public RequestHandler {
public:
    Task<void> handle(Exchange& ex) override {
        Response res{bhttp::status::ok, 11};
        res.body() = "ok";
        co_await ex.respond(res);
    }
    Response protocol_error(int status, std::string_view message) override {
        Response res{static_cast<bhttp::status>(status), 11};
        res.body() = std::string(message);
        return res;
    }
};

}  // namespace sy::http::test_support
