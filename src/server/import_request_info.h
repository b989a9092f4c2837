// Nats-Request-Info on requests crossing a service import (2.9.10's processServiceImport):
// every request (not a response) that a service import forwards carries its requester's
// ClientInfo JSON in that header, replacing one the requester set itself:
//   - a client: {"acc","rtt"}, or all its details when the import has `share`; an import
//     from the system account adds this server's name, cluster and gateway alternates;
//   - a leaf connection: the same of the leaf connection, unless the request came with the
//     header (the other side's import set it): then it is kept, or replaced only when the
//     import has `share` or is from the system account;
//   - the next import of a chain: the header as the first one set it (re-encoded in the
//     reference's field order) with "svc" naming the account it now crosses from, and this
//     server's details added when the chain did not share them but this import does.
// Requests the server publishes itself get none.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace nats {

class Server;

// The import a request is crossing on this thread (set while it is forwarded), so that an
// import reached from inside another one knows it is the next of a chain.
struct ImportHop {
  bool share = false;
};
class ImportHopScope {
 public:
  explicit ImportHopScope(const ImportHop* hop);
  ~ImportHopScope();
  ImportHopScope(const ImportHopScope&) = delete;
  ImportHopScope& operator=(const ImportHopScope&) = delete;

 private:
  const ImportHop* prev_;
};

// The headers a request forwarded by a service import goes on with, or nullopt to keep
// `headers` as they are. `share`: the import's; `system_import`: the exporter is the system
// account; `account`: the importing account (the one the request crosses from).
std::optional<std::string> import_request_headers(Server& srv, std::string_view headers, bool share,
                                                  bool system_import, const std::string& account);

}  // namespace nats
