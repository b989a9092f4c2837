// The URL account resolver's HTTP(S) client (the reference's URLAccResolver): an account JWT is
// fetched with a GET of <base url><account public key>; only a 200 answer's body counts, any
// other status, a connection error or the timeout (1.9 s, as the reference's fixed client
// timeout) is an error. Fetches run on a few worker threads of their own, never on an event
// loop; concurrent fetches of one account share one request.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace nats {

namespace net {
class TlsContext;
}

struct UrlFetchResult {
  std::string jwt;    // the body of a 200 answer
  std::string error;  // empty on success
};

// A parsed http:// or https:// URL.
struct HttpUrl {
  std::string host;
  int port = 80;
  std::string path = "/";
  bool tls = false;  // https
};
// False when `url` is not an http:// or https:// URL with a host.
bool parse_http_url(std::string_view url, HttpUrl& out);

// Splits a complete HTTP/1.x response (read until the peer closed) into status line parts
// and body (Content-Length or chunked, else everything after the headers). False when it is
// not an HTTP response or the body is cut short.
bool parse_http_response(std::string_view raw, int& status, std::string& status_text, std::string& body);

class UrlAccountFetcher {
 public:
  // tls: the client TLS for an https base URL (resolver_tls, else the system's roots).
  UrlAccountFetcher(std::string base_url, std::chrono::milliseconds timeout,
                    std::shared_ptr<const net::TlsContext> tls = nullptr);
  ~UrlAccountFetcher();  // waits for the fetches under way (each ends within the timeout)
  UrlAccountFetcher(const UrlAccountFetcher&) = delete;
  UrlAccountFetcher& operator=(const UrlAccountFetcher&) = delete;

  const std::string& base_url() const { return base_; }
  // Blocking fetch on the calling thread (start-up: the system account).
  UrlFetchResult get(const std::string& key) const;
  // Fetch on a worker; `done` runs on that worker (never once stop() began).
  void get_async(const std::string& key, std::function<void(const UrlFetchResult&)> done);
  // Ends the workers (at server shutdown); fetches under way end within the timeout.
  void stop();
  // A config reload's resolver_tls (the reference's configureResolver sets the transport's
  // TLSClientConfig anew): fetches started from now on use it.
  void set_tls(std::shared_ptr<const net::TlsContext> tls);

 private:
  void worker();

  std::string base_;
  std::chrono::milliseconds timeout_;
  mutable std::mutex tls_mu_;  // guards tls_ (a reload replaces it while fetches run)
  std::shared_ptr<const net::TlsContext> tls_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;  // keys to fetch, each once
  std::map<std::string, std::vector<std::function<void(const UrlFetchResult&)>>> waiters_;
  std::vector<std::thread> workers_;
  size_t idle_ = 0;
  bool stopping_ = false;
};

// The https client's TLS, as 2.9.10's http.Transport with resolver_tls as its TLSClientConfig
// (none: Go's defaults): the client certificate from cert/key; the server's certificate
// checked against ca_file (as 2.9.10 does, tested), else the system's roots (SSL_CERT_FILE /
// SSL_CERT_DIR honoured, as Go), and the URL's host; `insecure` skips the check. Null for an
// http URL. Throws net::TlsConfigError on files that do not load.
struct Options;
std::shared_ptr<const net::TlsContext> url_resolver_tls(const Options& opts);

class Server;
class AccountResolverStore;
// Start-up: fetches (blocking) and stores the account JWT of `key`; false (logged) on failure.
bool url_fetch_account_now(const std::string& key, AccountResolverStore& store);
// Fetches the account JWT of `key` with the server's URL resolver and stores it there, then
// the JWTs of the accounts it imports from that the server lacks (they are registered with
// it); `done` runs once all is over, answered or not (on a fetcher worker, or right away if
// the server has no URL resolver). See url_account_lookup.cpp.
void url_lookup_account(Server& server, const std::string& key, std::function<void()> done, int depth = 0);
// Fetches again the JWT of the registered account `key` (its JWT has expired) and, when the
// answer is a different JWT of that account, stores it and applies it to the account
// (Server::apply_account_jwt); `done` runs once it is over, on a fetcher worker.
void url_refresh_account(Server& server, const std::string& key, std::function<void()> done);

}  // namespace nats
