#include "federation/config_signature.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <vector>

#include "config/config_file.hpp"

namespace fedprobe {

namespace {

constexpr std::size_t kSignatureBytes = 64;  // Ed25519 (RFC 8032)
constexpr std::size_t kMaxKeyBytes = 64 * 1024;
constexpr std::size_t kMaxFiles = 256;  // keys, or signatures in FILE.sig.d

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

struct TrustedKey {
    std::string file;
    Key key;
};

// Every DIR/*.pem, each an Ed25519 public key; a file that is not one is an error, not
// skipped: a trust anchor that silently does nothing is worse than a refusal.
Result<std::vector<TrustedKey>> read_keys(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    std::vector<std::string> files;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
        if (it->path().extension() == ".pem") files.push_back(it->path().string());
    if (ec) return Status::error("--trusted-keys " + dir + ": cannot read: " + ec.message());
    if (files.empty())
        return Status::error("--trusted-keys " + dir + ": holds no public key (*.pem)");
    if (files.size() > kMaxFiles)
        return Status::error("--trusted-keys " + dir + ": more than " + std::to_string(kMaxFiles) +
                             " keys");
    std::sort(files.begin(), files.end());
    std::vector<TrustedKey> keys;
    for (const auto& f : files) {
        auto pem = read_config_file(f, kMaxKeyBytes, "a public key");
        if (!pem.ok()) return Status::error(f + ": " + pem.status().message());
        std::unique_ptr<BIO, decltype(&BIO_free)> bio(
            BIO_new_mem_buf(pem->data(), static_cast<int>(pem->size())), &BIO_free);
        Key key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr,
                &EVP_PKEY_free);
        if (!key) return Status::error(f + ": not a PEM public key");
        if (EVP_PKEY_id(key.get()) != EVP_PKEY_ED25519)
            return Status::error(f + ": not an Ed25519 public key");
        keys.push_back(TrustedKey{f, std::move(key)});
    }
    return keys;
}

bool verifies(EVP_PKEY* key, std::string_view sig, std::string_view text) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    // Ed25519 signs the message itself (no digest: md is NULL).
    return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, key) == 1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()),
                            sig.size(), reinterpret_cast<const unsigned char*>(text.data()),
                            text.size()) == 1;
}

}  // namespace

Status verify_config_signature(const std::string& path, std::string_view text,
                               const ConfigTrust& trust) {
    if (trust.keys_dir.empty()) return Status();
    auto keys = read_keys(trust.keys_dir);
    if (!keys.ok()) return keys.status();
    namespace fs = std::filesystem;
    std::vector<std::string> sig_files;
    std::error_code ec;
    if (fs::exists(path + ".sig", ec)) sig_files.push_back(path + ".sig");
    const std::string sig_dir = path + ".sig.d";
    if (fs::is_directory(sig_dir, ec)) {
        std::vector<std::string> more;
        for (fs::directory_iterator it(sig_dir, ec), end; !ec && it != end; it.increment(ec))
            if (it->path().extension() == ".sig") more.push_back(it->path().string());
        if (ec) return Status::error(sig_dir + ": cannot read: " + ec.message());
        if (more.size() > kMaxFiles)
            return Status::error(sig_dir + ": more than " + std::to_string(kMaxFiles) +
                                 " signatures");
        std::sort(more.begin(), more.end());
        sig_files.insert(sig_files.end(), more.begin(), more.end());
    }
    if (sig_files.empty())
        return Status::error(path + ".sig: no signature, and --trusted-keys " + trust.keys_dir +
                             " requires one (openssl pkeyutl -sign -rawin -inkey KEY -in " + path +
                             " -out " + path + ".sig)");
    std::vector<std::string> signers;  // key files, each counted once
    std::string refused;
    for (const auto& f : sig_files) {
        auto sig = read_config_file(f, 4096, "a signature");
        if (!sig.ok()) return Status::error(f + ": " + sig.status().message());
        if (sig->size() != kSignatureBytes) {
            refused = f + " is " + std::to_string(sig->size()) +
                      " bytes: an Ed25519 signature is 64 (raw, as openssl pkeyutl -sign -rawin "
                      "writes it)";
            continue;
        }
        bool matched = false;
        for (const auto& k : *keys)
            if (verifies(k.key.get(), *sig, text)) {
                matched = true;
                if (std::find(signers.begin(), signers.end(), k.file) == signers.end())
                    signers.push_back(k.file);
                break;
            }
        if (!matched)
            refused = f + ": not the signature of this file by any key in " + trust.keys_dir +
                      " (another key signed it, or the file changed since)";
    }
    if (static_cast<int>(signers.size()) >= trust.signatures) return Status();
    std::string msg = path + ": signed by " + std::to_string(signers.size()) + " of the keys in " +
                      trust.keys_dir + ", " + std::to_string(trust.signatures) + " needed";
    if (!refused.empty()) msg += "; " + refused;
    return Status::error(msg);
}

}  // namespace fedprobe
