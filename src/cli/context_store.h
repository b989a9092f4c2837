// natscli-compatible configuration contexts: one JSON file per context under
// $XDG_CONFIG_HOME/nats/context/NAME.json (else ~/.config/...), with the selected name in
// nats/context.txt. Same keys and layout as natscli (jsm.go natscontext), so either tool can
// read the other's contexts.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace nats::cli {

struct ContextSettings {
  nlohmann::ordered_json data;  // every natscli key, in natscli's order
  std::string name;
  std::string path;  // file it was loaded from or saved to

  std::string str(const char* key) const;
  void set(const char* key, const std::string& v) { if (!v.empty()) data[key] = v; }
};

std::string config_parent_dir();
std::string context_dir();
bool valid_context_name(const std::string& n);
bool context_known(const std::string& n);
std::vector<std::string> known_contexts();  // sorted
std::string selected_context();
void select_context(const std::string& n);
// An empty context with every key present (natscli writes them all).
ContextSettings blank_context();
ContextSettings load_context(const std::string& name);  // throws CliError
void save_context(ContextSettings& c, const std::string& name);
void delete_context(const std::string& name);

}  // namespace nats::cli
