// TLS for connections, on OpenSSL: a TlsContext built once from the `tls` options, and a
// TlsSession per connection that encrypts over a non-blocking socket. The session is used
// only from the connection's own event-loop thread (an SSL object is not thread-safe), so
// TLS connections never take the inline write path from other threads.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include "net/dn.h"

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

namespace nats::net {

// A certificate, key or CA that cannot be loaded: the server does not start.
class TlsConfigError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class TlsContext {
 public:
  // Loads the certificate chain and key, and the CA that peers' certificates must chain to
  // (client certificates under verify; server certificates when this side dials, as routes
  // and gateways do). One context serves both roles; cert_file may be empty for a context
  // that only dials. Throws std::runtime_error naming the
  // file and OpenSSL's reason.
  TlsContext(const std::string& cert_file, const std::string& key_file, const std::string& ca_file, bool verify);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;
  SSL_CTX* get() const { return ctx_; }
  bool verify() const { return verify_; }          // accepted side: require a peer certificate
  bool has_ca() const { return has_ca_; }          // dialing side: check the server's certificate
  // Dialing side without a ca_file: check the server's certificate against the system's
  // roots anyway (Go's default, which the reference's leafnode remotes keep).
  void verify_with_system_roots();
  // Sessions give their record buffers (about 34 KB each) back while idle. For client
  // connections, where thousands sit quiet; busy routes and gateways keep theirs.
  void release_idle_buffers();
  // tls { pinned_certs }: lower-case hex SHA-256 digests of the DER SubjectPublicKeyInfo a
  // peer's certificate must have (the reference's matchesPinnedCert), checked by every
  // session of this context once its handshake is done; empty: no check.
  void set_pinned_certs(const std::vector<std::string>& pins);
  // tls { insecure }: sessions that dial do not check the server's certificate (chain and
  // name), as Go's InsecureSkipVerify; pinned_certs still apply.
  void set_insecure_dial(bool v) { insecure_dial_ = v; }

 private:
  friend class TlsSession;
  SSL_CTX* ctx_ = nullptr;
  std::shared_ptr<const std::set<std::string>> pins_;
  bool verify_ = false;
  bool has_ca_ = false;
  bool insecure_dial_ = false;
};

enum class TlsStatus { kDone, kWantRead, kWantWrite, kClosed, kError };

// What a peer's certificate names, for mapping it to a user (`verify_and_map`), in the forms
// the reference tries in turn (checkClientTLSCertSubject): e-mail SANs, DNS SANs, URI SANs,
// then the subject with its domain components appended, then the subject alone.
struct PeerCertNames {
  std::vector<std::string> emails, dns_names, uris;
  // Go's pkix.Name.ToRDNSequence().String(): the subject regrouped by attribute (SERIALNUMBER,
  // CN, OU, O, POSTALCODE, STREET, L, ST, C; several values of one kind joined by '+'),
  // e.g. "CN=leaf,OU=a+OU=b,O=Acme,C=US". Other attributes (emailAddress, DC) are not in it.
  std::string subject;
  std::string domain_components;  // "DC=example,DC=com" in certificate order; empty if none
  // The subject in RFC 2253 order as ldap.FromRawCertSubject reads it (last RDN first, and
  // each RDN's attributes reversed); nullopt where that function errs: an attribute other
  // than CN, SERIALNUMBER, C, L, ST, STREET, O, OU, POSTALCODE, DC, or a value not a string.
  std::optional<Dn> dn;
};
// The first of the certificate's names, in the reference's order, that `is_user` accepts:
// e-mails, DNS names, URIs, then (client users only) the user `dn_user` finds for the
// subject's DN, then "<subject>,<domain components>", the subject; nullopt if none.
std::optional<std::string> map_cert_to_user(
    const PeerCertNames& n, const std::function<bool(const std::string&)>& is_user,
    const std::function<std::optional<std::string>(const Dn&)>& dn_user = {});
// Whether one of those names (not the DN form) is `user`: routes' and gateways' verify_and_map
// against their authorization user. Never with an empty user.
bool cert_names_user(const PeerCertNames& n, const std::string& user);

// A certificate the peer sent, as /connz shows it (the reference's TLSPeerCert): the subject
// as Go's pkix.Name.String() prints it, and lower-case hex SHA-256 of the DER
// SubjectPublicKeyInfo and of the whole certificate.
struct PeerCertInfo {
  std::string subject, subject_pk_sha256, cert_sha256;
  bool operator==(const PeerCertInfo&) const = default;
};

class TlsSession {
 public:
  // Accepting side.
  TlsSession(const TlsContext& ctx, int fd);
  // Dialing side: checks the server's certificate against the CA (when the context has
  // one) and against server_name (a host name or an IP address).
  TlsSession(const TlsContext& ctx, int fd, const std::string& server_name);
  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  bool established() const { return established_; }
  // Drives the handshake; kDone once established.
  TlsStatus handshake();
  // Decrypted bytes into buf: > 0 read; 0 with status set otherwise.
  size_t read(char* buf, size_t len, TlsStatus& status);
  // Encrypts from iov (coalesced into records of up to 16 KiB); returns bytes consumed,
  // 0 with status set when nothing could be written now. A retry after kWantWrite must
  // offer the same leading bytes, which the connection's outbound buffer guarantees.
  size_t writev(const struct iovec* iov, int n, TlsStatus& status);
  // Decrypted bytes buffered inside OpenSSL (not visible to epoll).
  size_t pending() const;
  std::string version() const;       // "1.3"
  std::string cipher_suite() const;  // IANA name, e.g. "TLS_AES_128_GCM_SHA256"
  std::string last_error() const { return last_error_; }
  // The names of the peer's certificate; nullopt without one.
  std::optional<PeerCertNames> peer_cert_names() const;
  // The certificates the peer sent, its own first; empty without.
  std::vector<PeerCertInfo> peer_certs() const;

 private:
  TlsStatus status_of(int ret);
  bool peer_pinned() const;
  SSL* ssl_ = nullptr;
  std::shared_ptr<const std::set<std::string>> pins_;
  bool established_ = false;
  std::string last_error_;
};

}  // namespace nats::net
