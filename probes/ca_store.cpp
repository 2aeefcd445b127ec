#include "probes/ca_store.hpp"

#include <openssl/err.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>

namespace fedprobe {

namespace {

// How often a bundle's file is looked at for changes.
constexpr auto kRecheck = std::chrono::seconds(5);

std::string openssl_error() {
    unsigned long e = ERR_get_error();
    ERR_clear_error();
    if (!e) return "no certificates found";
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return buf;
}

}  // namespace

CaStores::~CaStores() {
    for (auto& [path, e] : stores_)
        X509_STORE_free(e.store);
}

void CaStores::load(const std::string& path, Entry& e) {
    X509_STORE_free(e.store);
    e.store = X509_STORE_new();
    e.error.clear();
    bool ok = e.store && (path.empty() ? X509_STORE_set_default_paths(e.store) == 1
                                       : X509_STORE_load_file(e.store, path.c_str()) == 1);
    if (!ok) {
        e.error = "cannot load the CA bundle " + (path.empty() ? "(system default)" : path) + ": " +
                  openssl_error();
        X509_STORE_free(e.store);
        e.store = nullptr;
    }
}

X509_STORE* CaStores::get(const std::string& path, TimePoint now, std::string& error) {
    auto [it, fresh] = stores_.try_emplace(path);
    Entry& e = it->second;
    if (fresh || now - e.checked >= kRecheck) {
        e.checked = now;
        struct stat st {};
        long mtime_ns = 0, size = -1;
        if (!path.empty()) {
            if (stat(path.c_str(), &st) != 0) {
                X509_STORE_free(e.store);
                e.store = nullptr;
                e.error = "cannot read the CA bundle " + path + ": " + std::strerror(errno);
                e.size = -1;
                error = e.error;
                return nullptr;
            }
            mtime_ns = st.st_mtim.tv_sec * 1000000000L + st.st_mtim.tv_nsec;
            size = st.st_size;
        }
        if (fresh || !e.store || mtime_ns != e.mtime_ns || size != e.size) {
            load(path, e);
            e.mtime_ns = mtime_ns;
            e.size = size;
        }
    }
    if (!e.store) error = e.error;
    return e.store;
}

}  // namespace fedprobe
