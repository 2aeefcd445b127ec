// Which client an HTTP request comes from, for the handlers that prometheus-cpp calls with
// the request's credentials only. civetweb serves each request start to end on one of its
// worker threads and calls begin_request first on that thread, so the address is kept
// thread-local there. Called on the HTTP server's threads only.
#pragma once

#include <string_view>

struct mg_connection;

namespace fedprobe {

// civetweb's begin_request callback: records the peer address; always lets the request go on.
int remember_web_client(mg_connection* connection);

// The peer address of the request this thread is serving ("" outside a request).
std::string_view current_web_client();

}  // namespace fedprobe
