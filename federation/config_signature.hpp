// Signed federation files: with --trusted-keys DIR, an appliance runs (and validate accepts) a
// file only when it carries Ed25519 signatures of its exact bytes by enough distinct keys from
// DIR, so that writing the file on one appliance does not change what that organisation
// verifies. FILE.sig is the raw 64-byte signature `openssl pkeyutl -sign -rawin -inkey KEY -in
// FILE -out FILE.sig` writes; more go in FILE.sig.d/*.sig. The keys are PEM public keys
// (DIR/*.pem). Pure file reads and OpenSSL calls: any thread (the reloader's worker calls it).
#pragma once

#include <string>
#include <string_view>

#include "core/status.hpp"

namespace fedprobe {

struct ConfigTrust {
    std::string keys_dir;  // "" : files need no signature
    int signatures = 1;    // distinct trusted keys that must have signed
};

// Ok when `text`, the bytes read from `path`, carries `trust.signatures` valid signatures by
// distinct keys of `trust.keys_dir`; else why not, naming the file, the signature or the key.
Status verify_config_signature(const std::string& path, std::string_view text,
                               const ConfigTrust& trust);

}  // namespace fedprobe
