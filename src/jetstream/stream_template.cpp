#include "jetstream/stream_template.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "jetstream/advisories.h"
#include "jetstream/api/api_router.h"
#include "jetstream/jetstream.h"
#include "jetstream/stream.h"
#include "server/account.h"
#include "server/server.h"
#include "util/log.h"

namespace nats::jetstream {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

namespace {
constexpr size_t kTemplateNameMax = 255;  // JSMaxNameLen
constexpr int kTemplateNamesLimit = 1024;  // JSApiNamesLimit

std::string template_dir(JetStream& js, const JsAccount& jsa) {
  return js.store_root() + "/" + jsa.account.name() + "/templates";
}

// The reference's StreamTemplateConfig as JSON (also the meta.inf on disk).
ojson template_config_json(const StreamTemplate& t) {
  ojson j;
  j["name"] = t.name;
  j["config"] = t.config.to_json();
  j["max_streams"] = t.max_streams;
  return j;
}

ojson template_info_json(const StreamTemplate& t, const char* type) {
  ojson j;
  j["type"] = api_type(type);
  j["config"] = template_config_json(t);
  j["streams"] = t.streams;  // [] when none
  return j;
}

ApiError template_create_error(std::string_view why) {
  return api_error(ErrDef{500, 10066, "{err}"}, why);  // JSStreamTemplateCreateErrF
}
ApiError template_not_found() { return api_error(ErrDef{404, 10068, "template not found"}); }
ApiError plain_invalid_json() {
  ApiError e = api_error(err::InvalidJSON);
  e.description = "invalid JSON";  // 2.9.10 renders it without the detail
  return e;
}

std::string canonical_stream_name(std::string_view subject) {
  std::string n(subject);
  std::replace(n.begin(), n.end(), '.', '_');
  return n;
}

// Parses a StreamTemplateConfig body: nullopt (with err) on bad JSON.
struct ParsedTemplate {
  std::string name;
  std::optional<StreamConfig> config;  // none: "config" absent or null
  uint32_t max_streams = 0;
};
std::optional<ParsedTemplate> parse_template(std::string_view body, ApiError& err) {
  err = plain_invalid_json();
  auto j = ojson::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  ParsedTemplate p;
  if (auto it = j.find("name"); it != j.end() && !it->is_null()) {
    if (!it->is_string()) return std::nullopt;
    p.name = it->get<std::string>();
  }
  if (auto it = j.find("max_streams"); it != j.end() && !it->is_null()) {
    if (!it->is_number_unsigned() || it->get<uint64_t>() > UINT32_MAX) return std::nullopt;
    p.max_streams = it->get<uint32_t>();
  }
  if (auto it = j.find("config"); it != j.end() && !it->is_null()) {
    p.config = parse_stream_config_json(*it, err);
    if (!p.config) return std::nullopt;
  }
  err = {};
  return p;
}

}  // namespace

// The operations on an account's templates (friend of StreamTemplates).
struct TemplateOps {
  static std::shared_ptr<StreamTemplate> find(StreamTemplates& ts, const std::string& name) {
    std::lock_guard lk(ts.mu_);
    auto it = ts.by_name_.find(name);
    return it == ts.by_name_.end() ? nullptr : it->second;
  }

  static std::vector<std::shared_ptr<StreamTemplate>> all(StreamTemplates& ts) {
    std::lock_guard lk(ts.mu_);
    std::vector<std::shared_ptr<StreamTemplate>> out;
    for (auto& [_, t] : ts.by_name_) out.push_back(t);  // by name, as NAMES sorts them
    return out;
  }

  static ojson info(JsAccount& jsa, const StreamTemplate& t, const char* type) {
    std::lock_guard lk(jsa.templates.mu_);  // its stream list grows on the publishing threads
    return template_info_json(t, type);
  }

  static void persist(JetStream& js, JsAccount& jsa, const StreamTemplate& t) {
    std::string dir = template_dir(js, jsa) + "/" + t.name;
    std::error_code ec;
    fs::create_directories(dir, ec);
    std::ofstream(dir + "/meta.inf") << template_config_json(t).dump();
  }

  // addStreamTemplate: validated, registered, subscribed, stored.
  static std::shared_ptr<StreamTemplate> add(JetStream& js, JsAccount& jsa, const ParsedTemplate& p, ApiError& err,
                                             bool store) {
    if (!p.config) {
      // 2.9.10 dereferences the missing config (its server panics): refused here instead.
      err = template_create_error("template stream config is required");
      return nullptr;
    }
    if (!p.config->name.empty()) {
      err = template_create_error("template config name should be empty");
      return nullptr;
    }
    if (p.name.size() > kTemplateNameMax) {
      err = template_create_error("template name is too long, maximum allowed is 255");
      return nullptr;
    }
    auto t = std::make_shared<StreamTemplate>();
    t->name = p.name;
    t->max_streams = p.max_streams;
    t->config = *p.config;
    t->config.name = "_";  // as the reference validates (and keeps) it
    if (err = check_stream_config(t->config, false); !err.empty()) return nullptr;
    if (err = stream_max_bytes_error(jsa.account, t->config); !err.empty()) return nullptr;
    StreamTemplates& ts = jsa.templates;
    bool on_disk;
    {
      std::lock_guard lk(ts.mu_);
      if (!ts.chosen_store_) {
        ts.chosen_store_ = true;
        ts.on_disk_ = t->config.storage == StorageType::file;
      }
      if (ts.by_name_.count(t->name)) {
        err = template_create_error("template with name \"" + t->name + "\" already exists");
        return nullptr;
      }
      ts.by_name_[t->name] = t;
      on_disk = ts.on_disk_;
    }
    subscribe(js, jsa, t);
    if (store && on_disk) persist(js, jsa, *t);
    return t;
  }

  static void subscribe(JetStream& js, JsAccount& jsa, const std::shared_ptr<StreamTemplate>& t) {
    std::weak_ptr<StreamTemplate> weak = t;
    JetStream* jsp = &js;
    JsAccount* jsap = &jsa;
    std::vector<SubscriptionPtr> subs;
    for (const auto& subj : t->config.subjects) {
      subs.push_back(js.server().subscribe_internal(
          jsa.account, subj,
          [weak, jsp, jsap](const Subscription&, std::string_view subject, std::string_view reply,
                            std::string_view headers, std::string_view payload) {
            if (auto tp = weak.lock()) on_message(*jsp, *jsap, tp, subject, reply, headers, payload);
          }));
    }
    std::lock_guard lk(jsa.templates.mu_);
    t->subs = std::move(subs);
  }

  static void unsubscribe(JetStream& js, JsAccount& jsa, StreamTemplate& t) {
    std::vector<SubscriptionPtr> subs;
    {
      std::lock_guard lk(jsa.templates.mu_);
      subs.swap(t.subs);
    }
    for (auto& s : subs) js.server().unsubscribe_internal(jsa.account, s);
  }

  // processInboundTemplateMsg: a message on a template's subject for which no stream exists
  // yet creates one (while under max_streams), then is stored in it.
  static void on_message(JetStream& js, JsAccount& jsa, const std::shared_ptr<StreamTemplate>& t,
                         std::string_view subject, std::string_view reply, std::string_view headers,
                         std::string_view payload) {
    if (!js.enabled()) return;
    std::string name = canonical_stream_name(subject);
    if (js.lookup_stream(jsa.account.name(), name)) return;  // that stream took it
    StreamConfig cfg;
    {
      std::lock_guard lk(jsa.templates.mu_);
      if (!jsa.templates.by_name_.count(t->name)) return;  // deleted meanwhile
      if (t->streams.size() >= t->max_streams) {
        log::warn("JetStream could not create stream for account \"{}\" on subject \"{}\", at limit",
                  jsa.account.name(), subject);
        return;
      }
      if (std::find(t->streams.begin(), t->streams.end(), name) == t->streams.end()) t->streams.push_back(name);
      cfg = t->config;
    }
    cfg.name = name;
    cfg.subjects = {std::string(subject)};
    cfg.template_owner = t->name;
    ApiError err;
    bool did_create = false;
    auto s = js.create_stream(jsa, cfg, err, &did_create);
    if (!s) {
      // validateStreams: the list keeps only streams that exist.
      std::lock_guard lk(jsa.templates.mu_);
      std::erase_if(t->streams, [&](const std::string& n) { return !js.lookup_stream(jsa.account.name(), n); });
      log::warn("JetStream could not create stream for account \"{}\" on subject \"{}\": {}", jsa.account.name(),
                subject, err.description);
      return;
    }
    send_stream_action(js.server(), jsa.account, name, AdvisoryAction::create, t->name);
    s->process_inbound(subject, reply, headers, payload);
  }

  // streamTemplate.delete: forgotten, unsubscribed, its file removed, its streams deleted.
  static bool remove(JetStream& js, JsAccount& jsa, const std::string& name) {
    std::shared_ptr<StreamTemplate> t;
    bool on_disk;
    {
      std::lock_guard lk(jsa.templates.mu_);
      auto it = jsa.templates.by_name_.find(name);
      if (it == jsa.templates.by_name_.end()) return false;
      t = it->second;
      jsa.templates.by_name_.erase(it);
      on_disk = jsa.templates.on_disk_;
    }
    unsubscribe(js, jsa, *t);
    if (on_disk) {
      std::error_code ec;
      fs::remove_all(template_dir(js, jsa) + "/" + name, ec);
    }
    std::vector<std::string> streams;
    {
      std::lock_guard lk(jsa.templates.mu_);
      streams = t->streams;
    }
    for (const auto& sn : streams) {
      auto s = js.lookup_stream(jsa.account.name(), sn);
      if (!s) continue;
      std::vector<std::string> consumers;
      for (auto& c : s->consumers()) consumers.push_back(c->consumer_name());
      if (!js.delete_stream(jsa, sn)) continue;
      for (auto& c : consumers) send_consumer_action(js.server(), jsa.account, sn, c, AdvisoryAction::remove);
      send_stream_action(js.server(), jsa.account, sn, AdvisoryAction::remove, name);
    }
    return true;
  }

  static void drop_all(JetStream& js, JsAccount& jsa) {
    for (auto& t : all(jsa.templates)) unsubscribe(js, jsa, *t);
    std::lock_guard lk(jsa.templates.mu_);
    jsa.templates.by_name_.clear();
    jsa.templates.chosen_store_ = false;
    jsa.templates.on_disk_ = false;
  }

  static void restore(JetStream& js, JsAccount& jsa) {
    std::string dir = template_dir(js, jsa);
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return;
    std::vector<fs::path> dirs;
    for (auto& ent : fs::directory_iterator(dir, ec)) dirs.push_back(ent.path());
    std::sort(dirs.begin(), dirs.end());
    for (auto& d : dirs) {
      std::ifstream f(d / "meta.inf");
      if (!f) {
        log::warn("  Error reading StreamTemplate metafile \"{}\"", (d / "meta.inf").string());
        continue;
      }
      std::stringstream ss;
      ss << f.rdbuf();
      ApiError err;
      auto p = parse_template(ss.str(), err);
      if (!p) {
        log::warn("  Error unmarshalling StreamTemplate metafile: {}", err.description);
        continue;
      }
      if (p->config) p->config->name.clear();
      if (!add(js, jsa, *p, err, false)) log::warn("  Error recreating StreamTemplate \"{}\": {}", p->name, err.description);
    }
  }
};

bool StreamTemplates::owns(const std::string& tmpl, const std::string& stream) const {
  std::lock_guard lk(mu_);
  auto it = by_name_.find(tmpl);
  if (it == by_name_.end()) return false;
  const auto& v = it->second->streams;
  return std::find(v.begin(), v.end(), stream) != v.end();
}

bool StreamTemplates::adopt(const std::string& tmpl, const std::string& stream) {
  std::lock_guard lk(mu_);
  auto it = by_name_.find(tmpl);
  if (it == by_name_.end()) return false;
  it->second->streams.push_back(stream);
  return true;
}

namespace {

void handle_template_create(const ApiRequest& req) {
  const char* type = "stream_template_create_response";
  if (req.args.size() != 1) return;
  if (req.js.clustered()) return reply_error(req, type, api_error(err::ClusterUnSupportFeature));
  ApiError e;
  auto p = parse_template(req.payload, e);
  if (!p) return reply_error(req, type, e);
  if (p->name != req.args[0])
    return reply_error(req, type, api_error(ErrDef{400, 10073, "template name in subject does not match request"}));
  auto t = TemplateOps::add(req.js, req.jsa, *p, e, true);
  if (!t) return reply_error(req, type, e);
  reply_json(req, TemplateOps::info(req.jsa, *t, type));
}

// A NAMES error carries the zero paging fields and a null list, as the reference's.
void reply_template_names_error(const ApiRequest& req, const ApiError& e) {
  ojson j = counted_error(req, "stream_template_names_response", e);
  j["total"] = 0;
  j["offset"] = 0;
  j["limit"] = 0;
  j["streams"] = nullptr;
  reply_json(req, j);
}

void handle_template_names(const ApiRequest& req) {
  const char* type = "stream_template_names_response";
  if (req.js.clustered()) return reply_template_names_error(req, api_error(err::ClusterUnSupportFeature));
  int64_t offset = 0;
  if (!empty_request(req.payload)) {
    auto j = ojson::parse(req.payload, nullptr, false);
    if (j.is_discarded() || !j.is_object()) return reply_template_names_error(req, plain_invalid_json());
    if (auto it = j.find("offset"); it != j.end() && !it->is_null()) {
      if (!it->is_number_integer()) return reply_template_names_error(req, plain_invalid_json());
      offset = it->get<int64_t>();
    }
  }
  auto all = TemplateOps::all(req.jsa.templates);
  int64_t total = static_cast<int64_t>(all.size());
  if (offset > total) offset = total;
  if (offset < 0) offset = 0;  // (2.9.10 would fail slicing at a negative offset)
  ojson names = ojson::array();
  for (size_t i = static_cast<size_t>(offset); i < all.size() && names.size() < kTemplateNamesLimit; ++i)
    names.push_back(all[i]->name);
  ojson j;
  j["type"] = api_type(type);
  j["total"] = total;
  j["offset"] = offset;
  j["limit"] = kTemplateNamesLimit;
  j["streams"] = names;
  reply_json(req, j);
}

void handle_template_info(const ApiRequest& req) {
  const char* type = "stream_template_info_response";
  if (req.args.size() != 1) return;
  if (!empty_request(req.payload)) return reply_error(req, type, api_error(err::NotEmptyRequest));
  auto t = TemplateOps::find(req.jsa.templates, std::string(req.args[0]));
  if (!t) return reply_error(req, type, template_not_found());
  reply_json(req, TemplateOps::info(req.jsa, *t, type));
}

void handle_template_delete(const ApiRequest& req) {
  const char* type = "stream_template_delete_response";
  if (req.args.size() != 1) return;
  if (!empty_request(req.payload)) return reply_error(req, type, api_error(err::NotEmptyRequest));
  if (!TemplateOps::remove(req.js, req.jsa, std::string(req.args[0])))
    return reply_error(req, type, template_not_found());
  ojson j;
  j["type"] = api_type(type);
  j["success"] = true;
  reply_json(req, j);
}

}  // namespace

void register_stream_template_api(ApiRouter& router) {
  router.add("STREAM.TEMPLATE.CREATE", handle_template_create);
  router.add("STREAM.TEMPLATE.NAMES", handle_template_names);
  router.add("STREAM.TEMPLATE.INFO", handle_template_info);
  router.add("STREAM.TEMPLATE.DELETE", handle_template_delete);
}

void restore_stream_templates(JetStream& js, JsAccount& jsa) { TemplateOps::restore(js, jsa); }
void drop_stream_templates(JetStream& js, JsAccount& jsa) { TemplateOps::drop_all(js, jsa); }

}  // namespace nats::jetstream
