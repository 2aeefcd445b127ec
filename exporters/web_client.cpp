#include "exporters/web_client.hpp"

#include <civetweb.h>

#include <malloc.h>

#include <cstring>

namespace fedprobe {
namespace {
thread_local char client[sizeof(mg_request_info::remote_addr)] = "";
}  // namespace

int remember_web_client(mg_connection* connection) {
    const mg_request_info* info = mg_get_request_info(connection);
    if (info) {
        std::memcpy(client, info->remote_addr, sizeof client);
        client[sizeof client - 1] = '\0';
    } else {
        client[0] = '\0';
    }
    return 0;  // 0: civetweb goes on to handle the request
}

void end_web_request(const mg_connection* connection, int /*status*/) {
    client[0] = '\0';
    const mg_request_info* info = mg_get_request_info(connection);
    if (info && info->local_uri && std::strcmp(info->local_uri, "/metrics") == 0) malloc_trim(0);
}

std::string_view current_web_client() {
    return client;
}

}  // namespace fedprobe
