// How long a route, gateway or leaf node that dialled us may take to send its CONNECT: the
// block's `authorization { timeout }` (seconds), else 2.9.10's getDefaultAuthTimeout for that
// block: the block's TLS timeout plus one second when it has TLS (the handshake must fit in
// too), two seconds without. The client authorization timeout plays no part, as in 2.9.10.
// A timeout of 0 or less counts as unset (2.9.10 keeps a negative one and then cuts every
// peer at once; this server does not copy that).
// Header only: config reload compares the same value (server/reload_links.cpp).
#pragma once

#include "config/options.h"

namespace nats {

inline Duration link_auth_timeout(Duration configured, const TlsOptions& tls) {
  if (configured.count() > 0) return configured;
  if (tls.enabled) return tls.timeout + std::chrono::seconds(1);
  return std::chrono::seconds(2);
}

}  // namespace nats
