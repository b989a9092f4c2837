#include "deployment.h"

namespace nats::bench {

ProcStats Deployment::stats() {
  ProcStats total;
  for (ServerProcess* s : servers()) {
    ProcStats p = s->stats();
    total.cpu_seconds += p.cpu_seconds;
    total.vm_hwm_kb = std::max(total.vm_hwm_kb, p.vm_hwm_kb);
  }
  return total;
}

std::string Deployment::dead_servers() {
  std::string out;
  for (ServerProcess* s : servers())
    if (!s->alive()) out += "server on port " + std::to_string(s->port()) + " died; log: " + s->log_tail(600) + "\n";
  return out;
}

namespace {

class SingleServer : public Deployment {
 public:
  explicit SingleServer(const ServerFlavor& f) : server_(f.binary, f.args, std::chrono::seconds(10), f.cpu) {}
  Topology topology() const override { return Topology::single(server_.url()); }
  std::vector<ServerProcess*> servers() override { return {&server_}; }

 private:
  ServerProcess server_;
};

}  // namespace

std::unique_ptr<Deployment> start_single_server(const ServerFlavor& f) { return std::make_unique<SingleServer>(f); }

}  // namespace nats::bench
