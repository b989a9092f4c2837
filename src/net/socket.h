// Thin helpers over BSD sockets: listen, accept, connect, socket options.
#pragma once

#include <string>

namespace nats::net {

// Listens on host:port (host "0.0.0.0", "::", "localhost" or an address). Returns fd or
// throws std::runtime_error naming the address. port 0 picks a free port (see bound_port).
int listen_tcp(const std::string& host, int port, int backlog = 4096);
// listen_tcp in two steps, for a port that must be known before it may accept (the client
// port: its number goes into the route INFO, yet it opens after the other listeners, see
// Server::start). bind_tcp throws as listen_tcp; listen_bound throws on failure (fd stays the caller's).
int bind_tcp(const std::string& host, int port);
void listen_bound(int fd, const std::string& host, int backlog = 4096);
int bound_port(int fd);
// Accepts one connection (non-blocking, CLOEXEC, TCP_NODELAY set). Returns -1 if none.
int accept_tcp(int listen_fd, std::string* peer_ip, int* peer_port);
// Starts a non-blocking connect; returns fd or -1.
int connect_tcp(const std::string& host, int port);
void set_nonblocking(int fd);
void set_nodelay(int fd);

}  // namespace nats::net
