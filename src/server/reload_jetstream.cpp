// Config reload of JetStream, as 2.9.10's jetStreamOption: `jetstream: disabled` (or the
// block removed) stops it (streams stopped, files kept, the API no longer answered, INFO
// without "jetstream"); `jetstream: enabled` starts it (a new JetStream over the new store
// directory and limits, streams restored from disk). Changes of the store directory and limits
// of a running JetStream are refused with 2.9.10's texts, unless it is being turned off.
// In a cluster, as 2.9.10's DisableJetStream: turned off, a meta leader hands leadership on
// first, then the server leaves the meta group and its streams' groups (the others carry on
// without it; it stays a peer, as in 2.9.10). Turning it on in a cluster is refused: 2.9.10
// accepts it but starts a fresh meta group beside the cluster's (a new peer id, and the
// cluster's leadership flaps); ours would have to rejoin the running meta group at run time.
#include "jetstream/jetstream.h"
#include "server/reload_links.h"
#include "server/server.h"
#include "util/log.h"

namespace nats {

namespace {
bool clustered(const Options& a, const Options& b) { return a.cluster.configured || b.cluster.configured; }
}  // namespace

void take_reloadable_jetstream(Options& x, const Options& from) {
  x.jetstream.enabled = from.jetstream.enabled;
  x.jetstream.store_dir = from.jetstream.store_dir;
  x.jetstream.max_memory = from.jetstream.max_memory;
  x.jetstream.max_file = from.jetstream.max_file;
}

std::string jetstream_reload_refusal(const Options& old, const Options& next, bool running) {
  if (!running) {
    // Turned on in a cluster: refused (see the top). Configured on but stopped at run time (the
    // server removed from the cluster, out of resources) is no refusal: the other changes of
    // the reload apply, and reload_jetstream says why JetStream stays off.
    if (clustered(old, next) && next.jetstream.enabled && !old.jetstream.enabled)
      return "config reload not supported for JetStream turned on in a cluster (restart the server)";
    return "";  // with JetStream off every other change is taken
  }
  const bool disabling = !next.jetstream.enabled;
  bool limits_unset = false, dir_unset = false;
  // In 2.9.10's Options order: max memory, max store, then the store directory.
  for (auto [o, n] : {std::pair{old.jetstream.max_memory, next.jetstream.max_memory},
                      std::pair{old.jetstream.max_file, next.jetstream.max_file}}) {
    if (o == n) continue;
    if (o != -1 && n == -1) limits_unset = true;  // fine if JetStream is being turned off
    else if (o == -1) return "config reload not supported for jetstream dynamic max memory and store";
    else return "config reload not supported for jetstream max memory and store";
  }
  if (old.jetstream.store_dir != next.jetstream.store_dir) {
    if (!next.jetstream.store_dir.empty()) return "config reload not supported for jetstream storage directory";
    dir_unset = true;
  }
  if (!disabling && limits_unset) return "config reload not supported for jetstream max memory and max store";
  if (!disabling && dir_unset) return "config reload not supported for jetstream storage dir";
  return "";
}

void Server::reload_jetstream(const Options& next) {
  const bool running = jetstream_enabled();
  if (clustered(loaded_, next)) {
    if (!next.jetstream.enabled && running) {
      log::notice("Reloaded: JetStream");
      // The meta leader's transfer waits on loop timers (JetStream::disable); reload returns
      // at once, as the JetStream API stops answering here right after.
      jetstream::JetStream* js = jetstream();
      pick_loop().post([js] { js->disable(); });
    } else if (next.jetstream.enabled && !running) {
      log::warn("JetStream is not running and is not restarted by a config reload in a cluster: restart the server");
    }
    return;
  }
  if (!next.jetstream.enabled && running) {
    log::notice("Reloaded: JetStream");
    jetstream()->shutdown(true);
    log::notice("JetStream Shutdown");
  } else if (next.jetstream.enabled && !running) {
    log::notice("Reloaded: JetStream");
    auto js = std::make_unique<jetstream::JetStream>(*this, next.jetstream);
    try {
      js->start();
    } catch (const std::exception& e) {
      // As 2.9.10: the reload goes on without JetStream.
      log::warn("Can't start JetStream: {}", e.what());
      js->shutdown();
      return;
    }
    install_jetstream(std::move(js));
  }
}

}  // namespace nats
