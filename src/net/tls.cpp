#include "net/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <stdexcept>

namespace nats::net {

namespace {

constexpr size_t kRecordSize = 16 * 1024;  // one full TLS record per SSL_write

// Where small pieces are coalesced into one record. A session is only used from its loop's
// thread, and the copy is consumed by SSL_write before it returns, so one buffer per thread
// serves every session (not 16 KiB per connection: thousands of idle TLS clients).
char* coalesce_buffer() {
  thread_local std::unique_ptr<char[]> buf;
  if (!buf) buf.reset(new char[kRecordSize]);
  return buf.get();
}

std::string openssl_errors() {
  std::string out;
  while (unsigned long e = ERR_get_error()) {
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    if (!out.empty()) out += "; ";
    out += buf;
  }
  return out.empty() ? "unknown error" : out;
}

}  // namespace

TlsContext::TlsContext(const std::string& cert_file, const std::string& key_file, const std::string& ca_file,
                       bool verify) {
  ctx_ = SSL_CTX_new(TLS_method());
  verify_ = verify;
  has_ca_ = !ca_file.empty();
  if (!ctx_) throw std::runtime_error("TLS: cannot create context: " + openssl_errors());
  // The reference's floor is TLS 1.2.
  SSL_CTX_set_min_proto_version(ctx_, TLS1_2_VERSION);
  // NO_AUTO_CHAIN: the peer gets exactly the certificates of cert_file, as from the reference
  // (Go sends its tls.Certificate as loaded). OpenSSL would otherwise try to complete the chain
  // from the CA store on every handshake (an X509_verify_cert per connect, and a chain the
  // reference would not send).
  SSL_CTX_set_mode(ctx_, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_NO_AUTO_CHAIN);
  SSL_CTX_set_options(ctx_, SSL_OP_NO_RENEGOTIATION);
  // TLS 1.3 suites chosen as the reference (Go) chooses them: its own order, AES-128-GCM first,
  // unless the client puts ChaCha20 first (Go's aesgcmPreferred). OpenSSL would follow the
  // client's order, and OpenSSL clients (libnats) put AES-256-GCM-SHA384 first: a slower
  // cipher for every record and SHA-384 for every handshake, and another tls_cipher_suite
  // in /connz than the reference shows.
  SSL_CTX_set_ciphersuites(ctx_, "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384");
  SSL_CTX_set_options(ctx_, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
  // Read ahead: one read() takes whatever the socket holds, not a 5-byte record header and
  // then its body (two syscalls per record, several per handshake). What is read ahead but not
  // yet decrypted is reported by pending() below.
  SSL_CTX_set_read_ahead(ctx_, 1);
  // One TLS 1.3 session ticket per handshake, as the reference (Go) sends, not OpenSSL's two:
  // each costs an encryption here and a parse in the client.
  SSL_CTX_set_num_tickets(ctx_, 1);
  // A dialing side (a leafnode remote) may have no certificate of its own.
  if (!cert_file.empty() && SSL_CTX_use_certificate_chain_file(ctx_, cert_file.c_str()) != 1) {
    std::string err = openssl_errors();
    SSL_CTX_free(ctx_);
    throw TlsConfigError("error parsing X509 certificate/key pair: " + cert_file + ": " + err);
  }
  if (!cert_file.empty() && (SSL_CTX_use_PrivateKey_file(ctx_, key_file.c_str(), SSL_FILETYPE_PEM) != 1 ||
                             SSL_CTX_check_private_key(ctx_) != 1)) {
    std::string err = openssl_errors();
    SSL_CTX_free(ctx_);
    throw TlsConfigError("error parsing X509 certificate/key pair: " + key_file + ": " + err);
  }
  if (!ca_file.empty() && SSL_CTX_load_verify_locations(ctx_, ca_file.c_str(), nullptr) != 1) {
    std::string err = openssl_errors();
    SSL_CTX_free(ctx_);
    throw TlsConfigError("failed to parse root ca certificate: " + ca_file + ": " + err);
  }
  SSL_CTX_set_verify(ctx_, verify ? (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT) : SSL_VERIFY_NONE, nullptr);
}

TlsContext::~TlsContext() { SSL_CTX_free(ctx_); }

void TlsContext::verify_with_system_roots() {
  if (has_ca_) return;
  if (SSL_CTX_set_default_verify_paths(ctx_) != 1) throw TlsConfigError("TLS: cannot load the system's CA certificates: " + openssl_errors());
  has_ca_ = true;
}

void TlsContext::release_idle_buffers() { SSL_CTX_set_mode(ctx_, SSL_MODE_RELEASE_BUFFERS); }

void TlsContext::set_pinned_certs(const std::vector<std::string>& pins) {
  if (pins.empty()) pins_.reset();
  else pins_ = std::make_shared<const std::set<std::string>>(pins.begin(), pins.end());
}

TlsSession::TlsSession(const TlsContext& ctx, int fd) : pins_(ctx.pins_) {
  ssl_ = SSL_new(ctx.get());
  if (!ssl_) throw std::runtime_error("TLS: cannot create session: " + openssl_errors());
  // Idle buffers are given back only once established (handshake()): during the handshake
  // they would be freed and allocated again for every flight (~17 KB each, several times).
  SSL_clear_mode(ssl_, SSL_MODE_RELEASE_BUFFERS);
  SSL_set_fd(ssl_, fd);
  SSL_set_accept_state(ssl_);
}

TlsSession::TlsSession(const TlsContext& ctx, int fd, const std::string& server_name) : pins_(ctx.pins_) {
  ssl_ = SSL_new(ctx.get());
  if (!ssl_) throw std::runtime_error("TLS: cannot create session: " + openssl_errors());
  SSL_set_fd(ssl_, fd);
  SSL_set_connect_state(ssl_);
  if (ctx.has_ca() && !ctx.insecure_dial_) {
    SSL_set_verify(ssl_, SSL_VERIFY_PEER, nullptr);
    // The certificate must name the host (DNS) or address (IP SAN) we dialled.
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl_);
    if (X509_VERIFY_PARAM_set1_ip_asc(param, server_name.c_str()) != 1) {
      ERR_clear_error();
      SSL_set1_host(ssl_, server_name.c_str());
      SSL_set_tlsext_host_name(ssl_, server_name.c_str());
    }
  } else {
    SSL_set_verify(ssl_, SSL_VERIFY_NONE, nullptr);
  }
}

TlsSession::~TlsSession() { SSL_free(ssl_); }

TlsStatus TlsSession::status_of(int ret) {
  int e = SSL_get_error(ssl_, ret);
  switch (e) {
    case SSL_ERROR_WANT_READ: return TlsStatus::kWantRead;
    case SSL_ERROR_WANT_WRITE: return TlsStatus::kWantWrite;
    case SSL_ERROR_ZERO_RETURN: return TlsStatus::kClosed;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) {
        last_error_ = errno ? std::strerror(errno) : "EOF";
        ERR_clear_error();
        return errno ? TlsStatus::kError : TlsStatus::kClosed;
      }
      [[fallthrough]];
    default:
      // A peer that hangs up mid-handshake: "EOF", as the reference logs it.
      if (ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
        ERR_clear_error();
        last_error_ = "EOF";
      } else {
        last_error_ = openssl_errors();
      }
      return TlsStatus::kError;
  }
}

TlsStatus TlsSession::handshake() {
  if (established_) return TlsStatus::kDone;
  ERR_clear_error();
  int r = SSL_do_handshake(ssl_);
  if (r == 1) {
    if (pins_ && !peer_pinned()) {
      last_error_ = "certificate not pinned";  // the reference's ErrCertNotPinned
      return TlsStatus::kError;
    }
    established_ = true;
    if (SSL_CTX_get_mode(SSL_get_SSL_CTX(ssl_)) & SSL_MODE_RELEASE_BUFFERS) SSL_set_mode(ssl_, SSL_MODE_RELEASE_BUFFERS);
    return TlsStatus::kDone;
  }
  TlsStatus s = status_of(r);
  return s == TlsStatus::kClosed ? TlsStatus::kError : s;
}

size_t TlsSession::read(char* buf, size_t len, TlsStatus& status) {
  ERR_clear_error();
  size_t got = 0;
  int r = SSL_read_ex(ssl_, buf, len, &got);
  if (r == 1) {
    status = TlsStatus::kDone;
    return got;
  }
  status = status_of(0);
  return 0;
}

size_t TlsSession::writev(const struct iovec* iov, int n, TlsStatus& status) {
  // Coalesce small pieces into one record; a single large piece is written directly.
  const char* data;
  size_t len = 0;
  if (n == 1 || iov[0].iov_len >= kRecordSize) {
    data = static_cast<const char*>(iov[0].iov_base);
    len = iov[0].iov_len;
  } else {
    char* scratch = coalesce_buffer();
    for (int i = 0; i < n && len < kRecordSize; ++i) {
      size_t take = std::min(iov[i].iov_len, kRecordSize - len);
      if (take) std::memcpy(scratch + len, iov[i].iov_base, take);  // iov_base may be null
      len += take;
    }
    data = scratch;
  }
  ERR_clear_error();
  size_t written = 0;
  int r = SSL_write_ex(ssl_, data, len, &written);
  if (r == 1) {
    status = TlsStatus::kDone;
    return written;
  }
  status = status_of(0);
  return 0;
}

// Decrypted bytes, or (with read ahead) records read from the socket but not yet decrypted:
// either way no epoll event will announce them. A read that last stopped for want of socket
// data (SSL_READING) has only a partial record left, which the next epoll event completes.
size_t TlsSession::pending() const {
  int n = SSL_pending(ssl_);
  if (n > 0) return static_cast<size_t>(n);
  return SSL_has_pending(ssl_) == 1 && SSL_want(ssl_) != SSL_READING ? 1 : 0;
}

std::string TlsSession::version() const {
  switch (SSL_version(ssl_)) {
    case TLS1_3_VERSION: return "1.3";
    case TLS1_2_VERSION: return "1.2";
    default: return SSL_get_version(ssl_);
  }
}

std::string TlsSession::cipher_suite() const {
  const SSL_CIPHER* c = SSL_get_current_cipher(ssl_);
  if (!c) return "";
  const char* std_name = SSL_CIPHER_standard_name(c);
  return std_name ? std_name : SSL_CIPHER_get_name(c);
}

}  // namespace nats::net

namespace nats::net {

bool TlsSession::peer_pinned() const {
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (!cert) return false;  // "client did not provide a certificate"
  unsigned char* der = nullptr;
  int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
  if (len <= 0) return false;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  bool ok = EVP_Digest(der, static_cast<size_t>(len), md, &mdlen, EVP_sha256(), nullptr) == 1;
  OPENSSL_free(der);
  if (!ok) return false;
  static const char* hex = "0123456789abcdef";
  std::string id;
  for (unsigned i = 0; i < mdlen; ++i) {
    id += hex[md[i] >> 4];
    id += hex[md[i] & 15];
  }
  return pins_->count(id) != 0;
}

namespace {

std::string utf8(const ASN1_STRING* s) {
  unsigned char* out = nullptr;
  int n = ASN1_STRING_to_UTF8(&out, s);
  if (n < 0) return {};
  std::string r(reinterpret_cast<char*>(out), static_cast<size_t>(n));
  OPENSSL_free(out);
  return r;
}

// A value escaped as Go's RDNSequence.String() escapes it.
std::string go_rdn_escape(const std::string& v) {
  std::string out;
  for (size_t k = 0; k < v.size(); ++k) {
    char c = v[k];
    bool esc = std::strchr(",+\"\\<>;", c) != nullptr || (c == ' ' && (k == 0 || k + 1 == v.size())) ||
               (c == '#' && k == 0);
    if (esc) out += '\\';
    out += c;
  }
  return out;
}

// pkix.Name.ToRDNSequence().String() of a parsed subject.
std::string go_rdn_string(const X509_NAME* subj) {
  // Go parses the subject into pkix.Name (one list per known attribute, the last CN and
  // serial number) and prints it back from there, last kind first.
  static const std::pair<int, const char*> kinds[] = {
      {NID_countryName, "C"},           {NID_stateOrProvinceName, "ST"},      {NID_localityName, "L"},
      {NID_streetAddress, "STREET"},    {NID_postalCode, "POSTALCODE"},       {NID_organizationName, "O"},
      {NID_organizationalUnitName, "OU"}, {NID_commonName, "CN"},           {NID_serialNumber, "SERIALNUMBER"}};
  std::vector<std::string> groups;
  for (const auto& [nid, name] : kinds) {
    std::vector<std::string> values;
    for (int i = 0; i < X509_NAME_entry_count(subj); ++i) {
      const X509_NAME_ENTRY* e = X509_NAME_get_entry(subj, i);
      if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != nid) continue;
      std::string v = utf8(X509_NAME_ENTRY_get_data(e));
      if (nid == NID_commonName || nid == NID_serialNumber) values.assign(1, v);  // the last one
      else values.push_back(v);
    }
    if (values.empty() || ((nid == NID_commonName || nid == NID_serialNumber) && values.front().empty())) continue;
    std::string g;
    for (const auto& v : values) g += (g.empty() ? "" : "+") + std::string(name) + "=" + go_rdn_escape(v);
    groups.push_back(std::move(g));
  }
  std::string out;
  for (auto it = groups.rbegin(); it != groups.rend(); ++it) out += (out.empty() ? "" : ",") + *it;
  return out;
}

// The DER encoding Go's asn1.Marshal gives a string value: a PrintableString when every
// character allows it, else a UTF8String.
std::string go_der_string(const std::string& v) {
  bool printable = true;
  for (unsigned char c : v)
    if (!(std::isalnum(c) || std::strchr(" '()+,-./:=?", c)) || c >= 0x80) printable = false;
  std::string der(1, static_cast<char>(printable ? 0x13 : 0x0c));
  if (v.size() < 0x80) {
    der += static_cast<char>(v.size());
  } else {
    std::string len;
    for (size_t n = v.size(); n; n >>= 8) len.insert(len.begin(), static_cast<char>(n & 0xff));
    der += static_cast<char>(0x80 | len.size());
    der += len;
  }
  return der + v;
}

std::string hex_of(const unsigned char* p, size_t n) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < n; ++i) {
    out += hex[p[i] >> 4];
    out += hex[p[i] & 15];
  }
  return out;
}

std::string sha256_hex(const unsigned char* p, size_t n) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int mdlen = 0;
  if (EVP_Digest(p, n, md, &mdlen, EVP_sha256(), nullptr) != 1) return {};
  return hex_of(md, mdlen);
}

// pkix.Name.String() of a parsed subject: the ToRDNSequence() form, then the attributes it
// does not name (e-mail address, domain components...), last first, as "<oid>=#<DER hex>".
std::string go_name_string(const X509_NAME* subj) {
  static const int standard[] = {NID_commonName,   NID_serialNumber,         NID_countryName,
                                 NID_localityName, NID_stateOrProvinceName,  NID_streetAddress,
                                 NID_organizationName, NID_organizationalUnitName, NID_postalCode};
  std::string out = go_rdn_string(subj);
  for (int i = X509_NAME_entry_count(subj) - 1; i >= 0; --i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(subj, i);
    const ASN1_OBJECT* obj = X509_NAME_ENTRY_get_object(e);
    if (std::find(std::begin(standard), std::end(standard), OBJ_obj2nid(obj)) != std::end(standard)) continue;
    char oid[128];
    OBJ_obj2txt(oid, sizeof oid, obj, 1);
    std::string der = go_der_string(utf8(X509_NAME_ENTRY_get_data(e)));
    out += (out.empty() ? "" : ",") + std::string(oid) + "=#" +
           hex_of(reinterpret_cast<const unsigned char*>(der.data()), der.size());
  }
  return out;
}

// ldap.FromRawCertSubject: the subject's RDNs last first, each one's attributes reversed.
std::optional<Dn> subject_dn(const X509_NAME* subj) {
  static const std::pair<int, const char*> known[] = {
      {NID_commonName, "CN"},   {NID_serialNumber, "SERIALNUMBER"}, {NID_countryName, "C"},
      {NID_localityName, "L"},  {NID_stateOrProvinceName, "ST"},    {NID_streetAddress, "STREET"},
      {NID_organizationName, "O"}, {NID_organizationalUnitName, "OU"}, {NID_postalCode, "POSTALCODE"},
      {NID_domainComponent, "DC"}};
  Dn dn;
  int last_set = -1;
  for (int i = X509_NAME_entry_count(subj) - 1; i >= 0; --i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(subj, i);
    const char* type = nullptr;
    for (const auto& [nid, name] : known)
      if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) == nid) type = name;
    if (!type) return std::nullopt;
    // Go's asn1 gives a string for these types only.
    const ASN1_STRING* v = X509_NAME_ENTRY_get_data(e);
    switch (ASN1_STRING_type(v)) {
      case V_ASN1_PRINTABLESTRING: case V_ASN1_IA5STRING: case V_ASN1_UTF8STRING:
      case V_ASN1_T61STRING: case V_ASN1_NUMERICSTRING: case V_ASN1_BMPSTRING:
        break;
      default:
        return std::nullopt;
    }
    int set = X509_NAME_ENTRY_set(e);
    if (dn.empty() || set != last_set) dn.emplace_back();
    last_set = set;
    dn.back().push_back(DnAttribute{type, utf8(v)});
  }
  return dn;
}

}  // namespace

std::optional<PeerCertNames> TlsSession::peer_cert_names() const {
  X509* cert = SSL_get0_peer_certificate(ssl_);
  if (!cert) return std::nullopt;
  PeerCertNames n;
  if (auto* sans = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(cert, NID_subject_alt_name, nullptr, nullptr))) {
    for (int i = 0; i < sk_GENERAL_NAME_num(sans); ++i) {
      const GENERAL_NAME* g = sk_GENERAL_NAME_value(sans, i);
      if (g->type == GEN_EMAIL) n.emails.push_back(utf8(g->d.rfc822Name));
      else if (g->type == GEN_DNS) n.dns_names.push_back(utf8(g->d.dNSName));
      else if (g->type == GEN_URI) n.uris.push_back(utf8(g->d.uniformResourceIdentifier));
    }
    GENERAL_NAMES_free(sans);
  }
  const X509_NAME* subj = X509_get_subject_name(cert);
  n.subject = go_rdn_string(subj);
  for (int i = 0; i < X509_NAME_entry_count(subj); ++i) {
    const X509_NAME_ENTRY* e = X509_NAME_get_entry(subj, i);
    if (OBJ_obj2nid(X509_NAME_ENTRY_get_object(e)) != NID_domainComponent) continue;
    n.domain_components += (n.domain_components.empty() ? "DC=" : ",DC=") + utf8(X509_NAME_ENTRY_get_data(e));
  }
  n.dn = subject_dn(subj);
  return n;
}

std::vector<PeerCertInfo> TlsSession::peer_certs() const {
  std::vector<PeerCertInfo> out;
  std::vector<X509*> chain;
  // The certificates the peer sent, its own first. An accepting side's chain leaves its own
  // out; a dialing side's has it.
  X509* own = SSL_get0_peer_certificate(ssl_);
  if (!own) return out;
  chain.push_back(own);
  if (STACK_OF(X509)* sent = SSL_get_peer_cert_chain(ssl_))
    for (int i = 0; i < sk_X509_num(sent); ++i)
      if (X509* c = sk_X509_value(sent, i); X509_cmp(c, own) != 0) chain.push_back(c);
  for (X509* c : chain) {
    PeerCertInfo info;
    info.subject = go_name_string(X509_get_subject_name(c));
    unsigned char* der = nullptr;
    if (int len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(c), &der); len > 0)
      info.subject_pk_sha256 = sha256_hex(der, static_cast<size_t>(len));
    OPENSSL_free(der);
    der = nullptr;
    if (int len = i2d_X509(c, &der); len > 0) info.cert_sha256 = sha256_hex(der, static_cast<size_t>(len));
    OPENSSL_free(der);
    out.push_back(std::move(info));
  }
  return out;
}

std::optional<std::string> map_cert_to_user(const PeerCertNames& n,
                                            const std::function<bool(const std::string&)>& is_user,
                                            const std::function<std::optional<std::string>(const Dn&)>& dn_user) {
  // Without an e-mail, a subject or a URI the reference gives up ("none found").
  if (n.emails.empty() && n.subject.empty() && n.domain_components.empty() && n.uris.empty()) return std::nullopt;
  for (const auto* list : {&n.emails, &n.dns_names, &n.uris})
    for (const auto& u : *list)
      if (is_user(u)) return u;
  if (dn_user && n.dn)
    if (auto u = dn_user(*n.dn)) return u;
  if (!n.domain_components.empty()) {
    std::string u = n.subject + "," + n.domain_components;
    if (is_user(u)) return u;
  }
  if (is_user(n.subject)) return n.subject;
  return std::nullopt;
}

bool cert_names_user(const PeerCertNames& n, const std::string& user) {
  return !user.empty() && map_cert_to_user(n, [&](const std::string& u) { return u == user; }).has_value();
}

}  // namespace nats::net
