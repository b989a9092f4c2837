// /metrics: the server's counters in the Prometheus text format, so that no separate exporter
// is needed. Not in the reference 2.9.10 (its metrics come from prometheus-nats-exporter
// polling /varz etc.); names are ours, stable, and listed in README.md ("Metrics").
#pragma once

#include <string>

namespace nats {

class Server;

std::string metrics_text(Server& s);

}  // namespace nats
