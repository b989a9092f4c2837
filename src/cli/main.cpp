// `nats`: a command-line client for NATS modelled on natscli (same commands, flags, context
// files and output layout), used to drive and inspect our server.
//
// Built on libnats, the official NATS C client, rather than a hand-rolled protocol client:
// it brings reconnect handling, headers (HPUB/HMSG), no-responders detection and the
// request/inbox machinery that users' own applications run, so what this tool sees is what
// real clients see.
#include <nats/nats.h>

#include <iostream>

#include "cli/command.h"
#include "cli/connection.h"

int main(int argc, char** argv) {
  using namespace nats::cli;
  Registry& r = Registry::instance();
  register_global_flags(r);
  register_context_commands(r);
  register_pubsub_commands(r);
  register_server_commands(r);
  register_stream_commands(r);
  register_kv_commands(r);
  register_bench_commands(r);
  int rc = 1;
  try {
    rc = r.dispatch(argc, argv);
  } catch (const CliError& e) {
    std::cout.flush();
    std::cerr << "nats: error: " << e.what() << std::endl;
    rc = 1;
  } catch (const std::exception& e) {
    std::cout.flush();
    std::cerr << "nats: error: " << e.what() << std::endl;
    rc = 1;
  }
  std::cout.flush();
  nats_Close();
  return rc;
}
