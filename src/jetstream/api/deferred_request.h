#pragma once
// An API request kept past its handler, for an answer that comes later: a replicated stream's
// purge or message delete is answered once its log entry is applied (as the reference's
// leader answers on apply), so that a client's next read sees the change.
#include <string>
#include <vector>

#include "jetstream/api/api_router.h"

namespace nats::jetstream {

class DeferredRequest {
 public:
  explicit DeferredRequest(const ApiRequest& r)
      : server_(r.server), js_(r.js), account_(r.account), jsa_(r.jsa), subject_(r.subject), reply_(r.reply),
        headers_(r.headers), payload_(r.payload), rtt_ns_(r.rtt_ns), client_server_(r.client_server),
        client_cluster_(r.client_cluster), no_audit_(r.no_audit) {}

  // The request again (its views point into this object: use it while this lives).
  ApiRequest request() const {
    ApiRequest r{server_, js_, account_, jsa_, subject_, {}, reply_, headers_, payload_};
    r.rtt_ns = rtt_ns_;
    r.client_server = client_server_;
    r.client_cluster = client_cluster_;
    r.no_audit = no_audit_;
    return r;
  }

 private:
  Server& server_;
  JetStream& js_;
  Account& account_;
  JsAccount& jsa_;
  std::string subject_, reply_, headers_, payload_;
  int64_t rtt_ns_;
  std::string client_server_, client_cluster_;
  bool no_audit_;
};

}  // namespace nats::jetstream
