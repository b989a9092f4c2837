#pragma once
// Stream templates (2.9.10's streamTemplate, jetstream.go): `$JS.API.STREAM.TEMPLATE.CREATE/
// INFO/NAMES/DELETE` on one server. A template holds a stream config without a name; a
// message on one of its subjects for which the account has no stream creates one, named
// after the subject ('.' -> '_'), with that literal subject and `template_owner` set, up to
// `max_streams` (0: none, as the reference). Deleting the template deletes its streams. The
// first template's storage decides whether the account's templates are kept on disk
// (<store>/jetstream/<account>/templates/<name>/meta.inf) and restored at start. Clustered
// servers refuse CREATE and NAMES with 10036, as the reference.
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "jetstream/stream_config.h"
#include "subject/subscription.h"

namespace nats::jetstream {

class ApiRouter;
class JetStream;
struct JsAccount;

struct StreamTemplate {
  std::string name;
  StreamConfig config;  // validated, named "_" (as the reference stores it)
  uint32_t max_streams = 0;
  std::vector<std::string> streams;  // the streams it created (or owned at restore)
  std::vector<SubscriptionPtr> subs;
};

// One account's templates.
class StreamTemplates {
 public:
  // Whether `tmpl` lists `stream` (addStream's ownership check for template_owner).
  bool owns(const std::string& tmpl, const std::string& stream) const;
  // Restore: a stream found on disk owned by `tmpl` joins its list; false if no such template.
  bool adopt(const std::string& tmpl, const std::string& stream);

 private:
  friend struct TemplateOps;
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<StreamTemplate>> by_name_;
  bool chosen_store_ = false;  // the first template picked the store
  bool on_disk_ = false;
};

void register_stream_template_api(ApiRouter& router);
// At start (before the account's streams are restored): its file templates, subscribed again.
void restore_stream_templates(JetStream& js, JsAccount& jsa);
// The account's JetStream goes away (disabled by a JWT update, shutdown): templates unsubscribed
// and forgotten, their files and streams left alone.
void drop_stream_templates(JetStream& js, JsAccount& jsa);

}  // namespace nats::jetstream
