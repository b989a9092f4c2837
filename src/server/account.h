// An account: a subject namespace with its own subscription index. Messages never cross
// accounts unless exported and imported.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "config/options.h"
#include "server/jwt_accounts.h"
#include "subject/subject_mapping.h"
#include "subject/sublist.h"

namespace nats {

class Account {
 public:
  explicit Account(std::string name) : name_(std::move(name)) {}
  const std::string& name() const { return name_; }
  SubList& sublist() { return sublist_; }
  const SubList& sublist() const { return sublist_; }

  std::atomic<int> num_local_connections{0};
  // Traffic of this account's connections that have closed; the open ones keep their own
  // counters (summed on demand, so the hot path touches no shared account counter).
  std::atomic<uint64_t> in_msgs{0}, in_bytes{0}, out_msgs{0}, out_bytes{0};

  // Limits from the account config or JWT; -1: none. Atomic: an account JWT update changes
  // them while clients run.
  std::atomic<int> max_connections{-1};
  // Leaf connections bound to the account on this server, and their limit (config
  // limits { max_leafnodes }, JWT limits.leaf). As in the reference, the leafs also count
  // toward max_connections when a client connects, but only max_leafnodes refuses a leaf.
  std::atomic<int> num_leafnodes{0};
  std::atomic<int> max_leafnodes{-1};
  std::atomic<int> max_subscriptions{-1};
  std::atomic<int64_t> max_payload{-1};
  // Whether the account's config or JWT asks for JetStream. Written by a JWT update or a
  // config reload while the JetStream meta loop reads it: atomic.
  std::atomic<bool> jetstream_enabled{false};
  // The account's JetStream limits (config `jetstream {}` or the JWT's); a JWT update
  // replaces them while streams run, so they are read as a copy.
  JsAccountLimits js_limits() const {
    std::lock_guard lk(claims_mu_);
    return js_limits_;
  }
  void set_js_limits(const JsAccountLimits& l) {
    std::lock_guard lk(claims_mu_);
    js_limits_ = l;
  }
  std::optional<Permissions> default_permissions;
  // As configured, for /accountz (the wiring lives in internal subscriptions, see imports.h).
  std::vector<StreamExport> stream_exports;
  std::vector<ServiceExport> service_exports;
  std::vector<StreamImport> stream_imports;
  std::vector<ServiceImport> service_imports;

  // Subject mappings: the first that matches applies, in config order. A JWT update (or
  // JetStream enabled at run time) replaces the list whole, so publishers read a snapshot.
  using MappingList = std::vector<SubjectMapping>;
  std::shared_ptr<const MappingList> mappings() const { return mappings_.load(std::memory_order_acquire); }
  bool has_mappings() const { return has_mappings_.load(std::memory_order_acquire); }
  // Changes a copy of the list and installs it (writers are serialised).
  void edit_mappings(const std::function<void(MappingList&)>& edit) {
    std::lock_guard lk(claims_mu_);
    auto next = std::make_shared<MappingList>(*mappings_.load(std::memory_order_acquire));
    edit(*next);
    has_mappings_.store(!next->empty(), std::memory_order_release);
    mappings_.store(std::move(next), std::memory_order_release);
  }
  // The subject a client's publish goes to: nullopt when no mapping applies, "" when the
  // mapping drops this message (weights under 100 with the source listed).
  std::optional<std::string> map_subject(std::string_view subject,
                                         const std::function<std::string()>& cluster_name) const;

  // Operator mode: the account's JWT claims (signing keys, revocations, expiry); null for
  // config accounts. Replaced whole, so readers keep a consistent snapshot.
  AccountClaimsPtr claims() const {
    std::lock_guard lk(claims_mu_);
    return claims_;
  }
  void set_claims(AccountClaimsPtr c) {
    std::lock_guard lk(claims_mu_);
    claims_ = std::move(c);
  }

 private:
  std::string name_;
  SubList sublist_;
  mutable std::mutex claims_mu_;
  AccountClaimsPtr claims_;
  JsAccountLimits js_limits_;
  std::atomic<std::shared_ptr<const MappingList>> mappings_{std::make_shared<const MappingList>()};
  std::atomic<bool> has_mappings_{false};
};

using AccountPtr = std::shared_ptr<Account>;

// Installs the subject mappings of an account (checked by the loader, or from a JWT); throws
// std::runtime_error on one that does not compile.
void install_account_mappings(Account& acc, const std::vector<MappingConfig>& configs);
// Compiles mappings without installing them (same errors).
std::vector<SubjectMapping> compile_account_mappings(const std::vector<MappingConfig>& configs);
// Replaces the mappings that came from `old_configs` with `new_configs` (a JWT update or a
// config reload): each new source replaces its mapping in place or is added at the end, the
// old sources the new list lacks are removed, mappings the server added itself stay. Returns
// the sources added; throws (nothing changed) when a new mapping does not compile.
std::vector<std::string> replace_account_mappings(Account& acc, const std::vector<MappingConfig>& old_configs,
                                                  const std::vector<MappingConfig>& new_configs);

inline constexpr const char* kGlobalAccount = "$G";
inline constexpr const char* kSystemAccount = "$SYS";

}  // namespace nats
