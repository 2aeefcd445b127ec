// Drives blackbox_exporter as Prometheus would, at a fixed rate: GET /probe?target=...
// for each URL of a list in turn, spread evenly over each second, on kept-alive connections.
// Prints what was sent and what came back, so the benchmark can charge blackbox_exporter's CPU
// to the probes it actually ran. Not a fedprobe part: only bench/http_bench.sh uses it.
#include <curl/curl.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

namespace {

struct Request {
    std::string body;
};

size_t on_body(char* data, size_t size, size_t count, void* user) {
    static_cast<Request*>(user)->body.append(data, size * count);
    return size * count;
}

}  // namespace

int main(int argc, char** argv) {
    std::string urls_file;
    double rate = 1000, seconds = 10;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--urls"))
            urls_file = argv[i + 1];
        else if (!std::strcmp(argv[i], "--rate"))
            rate = std::stod(argv[i + 1]);
        else if (!std::strcmp(argv[i], "--seconds"))
            seconds = std::stod(argv[i + 1]);
    }
    std::vector<std::string> urls;
    std::ifstream in(urls_file);
    for (std::string line; std::getline(in, line);)
        if (!line.empty()) urls.push_back(line);
    if (urls.empty()) {
        std::fprintf(stderr, "usage: http_load --urls FILE [--rate N] [--seconds S]\n");
        return 2;
    }
    curl_global_init(CURL_GLOBAL_DEFAULT);
    CURLM* multi = curl_multi_init();
    curl_multi_setopt(multi, CURLMOPT_MAX_HOST_CONNECTIONS, 64L);
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    const auto end =
        start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
    std::uint64_t sent = 0, completed = 0, success = 0, failed = 0;
    std::vector<CURL*> idle;
    int running = 0;
    while (true) {
        auto now = Clock::now();
        // Every request due by now, in order: the schedule never drifts with the load.
        auto due =
            static_cast<std::uint64_t>(std::chrono::duration<double>(now - start).count() * rate);
        while (now < end && sent < due) {
            CURL* e;
            if (!idle.empty()) {
                e = idle.back();
                idle.pop_back();
            } else {
                e = curl_easy_init();
                curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
                curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, 5000L);
            }
            auto* req = new Request;
            curl_easy_setopt(e, CURLOPT_URL, urls[sent % urls.size()].c_str());
            curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
            curl_easy_setopt(e, CURLOPT_PRIVATE, req);
            curl_multi_add_handle(multi, e);
            ++sent;
        }
        curl_multi_perform(multi, &running);
        int left = 0;
        while (CURLMsg* m = curl_multi_info_read(multi, &left)) {
            if (m->msg != CURLMSG_DONE) continue;
            CURL* e = m->easy_handle;
            CURLcode rc = m->data.result;
            Request* req = nullptr;
            curl_easy_getinfo(e, CURLINFO_PRIVATE, &req);
            ++completed;
            if (rc == CURLE_OK && req->body.find("\nprobe_success 1") != std::string::npos)
                ++success;
            else
                ++failed;
            delete req;
            curl_multi_remove_handle(multi, e);
            idle.push_back(e);
        }
        if (now >= end && running == 0) break;
        curl_multi_poll(multi, nullptr, 0, 1, nullptr);
    }
    std::printf("sent %llu completed %llu success %llu failed %llu\n",
                static_cast<unsigned long long>(sent), static_cast<unsigned long long>(completed),
                static_cast<unsigned long long>(success), static_cast<unsigned long long>(failed));
    for (CURL* e : idle)
        curl_easy_cleanup(e);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    return 0;
}
