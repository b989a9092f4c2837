// Config reload of the server-to-server blocks (reload_links.cpp) and of JetStream on/off
// (reload_jetstream.cpp), kept apart from the rest of reload.cpp. The blocks: the cluster block
// (everything but its listen host and port, as the reference's clusterOption) and the TLS of
// the gateway, leafnodes and websocket blocks and of the leaf remotes. The reference leaves
// their TLSConfig out of its comparison and its connections read the new one where they read
// the options; what a peer then sees is reproduced here, block by block (reload_links.cpp).
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "config/options.h"
#include "net/tls.h"

namespace nats {

// The TLS contexts a reload made before applying anything (a file that does not load fails
// the reload with the running config left whole).
struct LinkTlsReload {
  bool cluster_changed = false, cluster_tls = false, gateway_tls = false, leaf_tls = false, ws_tls = false;
  std::unique_ptr<net::TlsContext> cluster, gateway, leaf, ws;  // null: TLS off
  bool ws_back_to_start = false;  // websocket TLS turned off: the start-up certificate again
  std::vector<std::pair<int, std::unique_ptr<net::TlsContext>>> remotes;  // leaf remote index, its new TLS
  std::vector<std::string> ignored;  // TLS turned on or off where the listener keeps its mode
  // Leaf remotes' deny_imports/deny_exports as reloaded (index as started, imports, exports):
  // LeafManager::reload_remote_denies applies those that changed.
  struct RemoteDenies {
    int remote;
    std::vector<std::string> imports, exports;
  };
  std::vector<RemoteDenies> remote_denies;
};

// Copies into `x` the parts of these blocks a reload applies, from `from`, so that what is
// left to compare is what it does not.
void take_reloadable_links(Options& x, const Options& from);
// The refusal for a difference left in these blocks that has its own wording; "" if none.
std::string link_refusal(const Options& a, const Options& b);
// Checks the new values and makes the TLS contexts; the error text, or "". start: the options
// the server started with (the leafnodes and websocket listeners keep their TLS mode).
std::string prepare_link_reload(const Options& start, const Options& old, const Options& next, LinkTlsReload& out);

// JetStream on or off (reload_jetstream.cpp; in a cluster off only): the settings it takes, and
// 2.9.10's refusal of store directory or limit changes while it runs ("" if none).
void take_reloadable_jetstream(Options& x, const Options& from);
std::string jetstream_reload_refusal(const Options& old, const Options& next, bool running);

}  // namespace nats
