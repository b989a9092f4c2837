#include "workload.h"

namespace nats::bench {

WorkloadResult run_workload(const WorkloadSpec& spec, const Topology& topo, const MeasureHooks& hooks,
                            std::chrono::milliseconds timeout) {
  Deadline dl = Deadline::in(timeout);
  try {
    if (spec.payload < 8) throw BenchError("payload must be at least 8 bytes");
    switch (spec.kind) {
      case Kind::kPubOnly:
        return run_raw_pub_only(spec, topo, hooks, dl);
      case Kind::kPubSub:
        return spec.client == ClientImpl::kRaw ? run_raw_pub_sub(spec, topo, hooks, dl)
                                               : run_libnats_pub_sub(spec, topo, hooks, dl);
      case Kind::kConns:
        return run_conns(spec, topo, hooks, dl);
      case Kind::kStorm:
        return run_storm(spec, topo, hooks, dl);
      case Kind::kJsPub:
        return run_raw_js_pub(spec, topo, hooks, dl);
      case Kind::kReqRep:
        return spec.client == ClientImpl::kRaw ? run_raw_req_rep(spec, topo, hooks, dl)
                                               : run_libnats_req_rep(spec, topo, hooks, dl);
    }
  } catch (const std::exception& e) {
    WorkloadResult r;
    r.error = e.what();
    return r;
  }
  return {};
}

}  // namespace nats::bench
