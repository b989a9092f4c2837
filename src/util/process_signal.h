#pragma once
// `nats-server --signal <cmd>[=<pid or pid file>]`: sends the signal behind cmd (stop, quit,
// term, reopen, reload, ldm) to a running server, as the reference does. Without a pid the
// one running nats-server process is found through /proc.
#include <string>

namespace nats::util {

// Returns "" on success, else the message to print (the process then exits 1).
std::string process_signal(const std::string& command);

}  // namespace nats::util
