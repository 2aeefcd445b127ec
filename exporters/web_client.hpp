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

// civetweb's end_request callback: forgets the peer address, and after a /metrics request
// gives the memory that building the exposition took back to the system. Serialising 20,000
// probes' series takes some 150 MB for an instant; glibc keeps freed memory in this thread's
// arena, so without a trim RSS sits at the size of the largest scrape for good.
void end_web_request(const mg_connection* connection, int status);

// The peer address of the request this thread is serving ("" outside a request).
std::string_view current_web_client();

}  // namespace fedprobe
