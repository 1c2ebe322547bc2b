// OpenSSL 3 (Debian: libssl-dev). libcrypto: SHA-256 through the EVP interface. libssl: the
// HTTP1 server's TLS (SSL_CTX, SSL, the error queue).
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/err.h>

// Function-like macros Swift cannot import, as inline functions with the same meaning.

// SSL_CTX_set_min_proto_version(3), SSL_CTX_set_max_proto_version(3).
static inline int copenssl_ctx_set_protocol_range(SSL_CTX *context, int minimum, int maximum) {
    return SSL_CTX_set_min_proto_version(context, minimum)
        && SSL_CTX_set_max_proto_version(context, maximum);
}

// SSL_CTX_set_mode(3): partial writes and a write buffer that may move between retries (the
// server's outbound buffer grows while a record waits), and buffers released while idle.
static inline void copenssl_ctx_set_server_modes(SSL_CTX *context) {
    SSL_CTX_set_mode(context, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER
        | SSL_MODE_RELEASE_BUFFERS);
}

// SSL_CTX_set_options(3): SSL_OP_NO_RENEGOTIATION is built with the SSL_OP_BIT macro.
static inline void copenssl_ctx_disable_renegotiation(SSL_CTX *context) {
    SSL_CTX_set_options(context, SSL_OP_NO_RENEGOTIATION);
}

// TLS1_2_VERSION and TLS1_3_VERSION are plain macros, repeated here so the Swift side does not
// depend on how the importer treats them.
static const int copenssl_tls1_2_version = TLS1_2_VERSION;
static const int copenssl_tls1_3_version = TLS1_3_VERSION;
