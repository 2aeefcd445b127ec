// CA bundles for https probes, loaded once and shared by every connection: loading a bundle per
// probe would cost more than the handshake. A file that changes on disk is picked up again.
#pragma once

#include <openssl/x509_vfy.h>

#include <map>
#include <string>

#include "core/event_loop.hpp"

namespace fedprobe {

class CaStores {
  public:
    CaStores() = default;
    ~CaStores();
    CaStores(const CaStores&) = delete;
    CaStores& operator=(const CaStores&) = delete;

    // The store for `path` ("" for the system's default bundle), or null with `error` set.
    // Owned here; SSL_CTX_set1_cert_store takes its own reference.
    X509_STORE* get(const std::string& path, TimePoint now, std::string& error);

  private:
    struct Entry {
        X509_STORE* store = nullptr;
        std::string error;
        TimePoint checked;
        long mtime_ns = 0;
        long size = -1;
    };
    std::map<std::string, Entry> stores_;
    void load(const std::string& path, Entry& e);
};

}  // namespace fedprobe
