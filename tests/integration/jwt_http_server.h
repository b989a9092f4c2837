// A minimal HTTP/1.1 server for the URL account resolver tests: it serves account JWTs on
// 127.0.0.1 under /jwt/v1/accounts/<key>.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace itest {

// A minimal HTTP/1.1 server on 127.0.0.1: GET <path> answers 200 with the body set for that
// path (after its delay, if any), 404 otherwise; one thread per request, all joined on stop.
class JwtHttpServer {
 public:
  JwtHttpServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    ::listen(fd_, 64);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~JwtHttpServer() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    acceptor_.join();
    ::close(fd_);
    std::lock_guard lk(mu_);
    for (auto& t : handlers_) t.join();
  }
  std::string base() const { return "http://127.0.0.1:" + std::to_string(port_) + "/jwt/v1/accounts/"; }
  void serve(const std::string& key, const std::string& body, std::chrono::milliseconds delay = std::chrono::milliseconds(0)) {
    std::lock_guard lk(mu_);
    bodies_["/jwt/v1/accounts/" + key] = {body, delay};
  }
  int requests_for(const std::string& key) {
    std::lock_guard lk(mu_);
    return hits_["/jwt/v1/accounts/" + key];
  }

 private:
  void accept_loop() {
    while (!stop_) {
      int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        if (stop_) return;
        continue;
      }
      std::lock_guard lk(mu_);
      handlers_.emplace_back([this, c] { handle(c); });
    }
  }
  void handle(int c) {
    std::string req;
    char buf[4096];
    while (req.find("\r\n\r\n") == std::string::npos) {
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    std::string path;
    if (req.rfind("GET ", 0) == 0) path = req.substr(4, req.find(' ', 4) - 4);
    std::pair<std::string, std::chrono::milliseconds> answer;
    bool found = false;
    {
      std::lock_guard lk(mu_);
      ++hits_[path];
      if (auto it = bodies_.find(path); it != bodies_.end()) {
        answer = it->second;
        found = true;
      }
    }
    // Waits in small steps so that the server's destructor is not held up for long.
    for (auto until = std::chrono::steady_clock::now() + answer.second; std::chrono::steady_clock::now() < until && !stop_;)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::string resp = found ? "HTTP/1.1 200 OK\r\nContent-Type: application/jwt\r\nContent-Length: " +
                                   std::to_string(answer.first.size()) + "\r\nConnection: close\r\n\r\n" + answer.first
                             : std::string("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    ::send(c, resp.data(), resp.size(), MSG_NOSIGNAL);
    ::close(c);
  }

  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread acceptor_;
  std::mutex mu_;
  std::vector<std::thread> handlers_;
  std::map<std::string, std::pair<std::string, std::chrono::milliseconds>> bodies_;
  std::map<std::string, int> hits_;
};

}  // namespace itest
