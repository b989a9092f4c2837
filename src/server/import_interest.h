// The interest a server announces to its routes and gateways for stream imports, as 2.9.10's
// shadow subscriptions: a local plain subscription (a client's, a leaf's we are the hub for,
// or an internal one) in an importing account that overlaps what one of its stream imports
// delivers counts as interest in the exporting account, on the exporter's subject (the
// import's prefix or `to` mapped back). Nothing is announced for an import nobody here
// listens to. Each server then receives the exporter's messages its own importers need and
// runs the import for its local subscribers only (imports.cpp), so no importer gets a message
// twice, and the server where the message was published needs neither the importer's JWT nor
// the account itself. Queue subscriptions get real shadow subscriptions instead (below).
#pragma once

#include <string>
#include <vector>

#include "config/options.h"
#include "server/account.h"

namespace nats {

class Server;

struct ShadowInterest {
  std::string account;  // the exporter's name
  std::string subject;
  std::string queue;
  bool operator==(const ShadowInterest&) const = default;
};

// True for the internal subscription a stream import installs in the exporter (its interest
// is announced through the shadows above, never by itself to routes and gateways).
bool is_stream_import_sub(const Subscription& sub);

// The exporter's subject that carries what `sub_subject` (a subject or pattern in the
// importer) can receive through `si`, or "" when they do not overlap.
std::string import_exporter_subject(const StreamImport& si, const std::string& sub_subject);

// Called by imports.cpp when it wires a stream import: from then on shadows are looked for
// (until then subscribing costs nothing extra).
void note_stream_imports_exist();

// Records (added) or forgets (removed) the shadows of `sub`, a local subscription in `acc`,
// and returns them: the caller announces each in its exporter. Imports of imports are
// followed (a few levels deep).
std::vector<ShadowInterest> shadow_interest_update(const Server& server, const Account& acc, const Subscription& sub,
                                                   bool added);

// Recomputes the shadows of `subs` (the local subscriptions in `acc`) after `acc`'s imports
// changed. Returns the shadows to withdraw and those to announce.
struct ShadowChange {
  std::vector<ShadowInterest> removed, added;
};
ShadowChange shadow_interest_refresh(const Server& server, const Account& acc,
                                     const std::vector<SubscriptionPtr>& subs);

// Every recorded shadow of `server` (one entry per subscription), and whether its
// subscription is internal: for a route or gateway that needs all of this server's interest.
struct ShadowRecord {
  ShadowInterest shadow;
  bool internal;
};
std::vector<ShadowRecord> shadow_interest_all(const Server& server);

// Forgets every record of `server` (at its destruction).
void shadow_interest_forget(const Server& server);

// A local queue subscription in an importing account gets, as in 2.9.10, a real subscription
// in each exporter whose stream import it overlaps, in the same queue group: there it is one
// member among the cluster's (other servers' members come as route interest), and when
// picked it hands the message, mapped to the importer's subject, to its subscriber. The
// imports' own delivery leaves queue groups alone (imports.cpp). Subscribing it makes it
// local interest in the exporter, so imports of imports follow.
void add_queue_shadows(Server& server, const Account& acc, const Subscription& sub);
void remove_queue_shadows(Server& server, const Subscription& sub);

}  // namespace nats
