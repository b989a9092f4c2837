#include "cli/context_store.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/command.h"

namespace fs = std::filesystem;

namespace nats::cli {

std::string ContextSettings::str(const char* key) const {
  auto it = data.find(key);
  if (it == data.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

std::string config_parent_dir() {
  if (const char* x = std::getenv("XDG_CONFIG_HOME"); x && *x) return x;
  std::string home;
  if (const char* h = std::getenv("HOME"); h && *h) home = h;
  else if (passwd* pw = getpwuid(getuid()); pw && pw->pw_dir) home = pw->pw_dir;
  if (home.empty()) throw CliError("cannot determine home directory");
  return home + "/.config";
}

std::string context_dir() { return config_parent_dir() + "/nats/context"; }

bool valid_context_name(const std::string& n) {
  return !n.empty() && n.find("..") == std::string::npos && n.find('/') == std::string::npos;
}

bool context_known(const std::string& n) {
  return valid_context_name(n) && fs::exists(context_dir() + "/" + n + ".json");
}

std::vector<std::string> known_contexts() {
  std::vector<std::string> out;
  std::error_code ec;
  for (auto& e : fs::directory_iterator(context_dir(), ec)) {
    if (!e.is_regular_file() || e.file_size() == 0 || e.path().extension() != ".json") continue;
    out.push_back(e.path().stem().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string selected_context() {
  std::ifstream in(config_parent_dir() + "/nats/context.txt");
  if (!in) return "";
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.erase(0, 1);
  return s;
}

void select_context(const std::string& n) {
  if (!valid_context_name(n)) throw CliError("invalid context name \"" + n + "\"");
  fs::create_directories(context_dir());
  std::string p = config_parent_dir() + "/nats/context.txt";
  std::ofstream(p, std::ios::trunc) << n;
  fs::permissions(p, fs::perms::owner_read | fs::perms::owner_write);
}

ContextSettings blank_context() {
  ContextSettings c;
  auto& d = c.data;
  d["description"] = "";
  d["url"] = "";
  d["socks_proxy"] = "";
  d["token"] = "";
  d["user"] = "";
  d["password"] = "";
  d["creds"] = "";
  d["nkey"] = "";
  d["cert"] = "";
  d["key"] = "";
  d["ca"] = "";
  d["nsc"] = "";
  d["jetstream_domain"] = "";
  d["jetstream_api_prefix"] = "";
  d["jetstream_event_prefix"] = "";
  d["inbox_prefix"] = "";
  d["user_jwt"] = "";
  d["color_scheme"] = "";
  d["tls_first"] = false;
  return c;
}

ContextSettings load_context(const std::string& name) {
  if (!valid_context_name(name)) throw CliError("invalid context name " + name);
  if (!context_known(name)) throw CliError("unknown context \"" + name + "\"");
  ContextSettings c = blank_context();
  c.name = name;
  c.path = context_dir() + "/" + name + ".json";
  std::ifstream in(c.path);
  try {
    auto j = nlohmann::ordered_json::parse(in);
    for (auto& [k, v] : j.items()) c.data[k] = v;
  } catch (const std::exception& e) {
    throw CliError("could not load context " + name + ": " + e.what());
  }
  return c;
}

void save_context(ContextSettings& c, const std::string& name) {
  if (!valid_context_name(name)) throw CliError("invalid context name \"" + name + "\"");
  fs::create_directories(context_dir());
  fs::permissions(context_dir(), fs::perms::owner_all);
  c.name = name;
  c.path = context_dir() + "/" + name + ".json";
  std::ofstream(c.path, std::ios::trunc) << c.data.dump(2);
  fs::permissions(c.path, fs::perms::owner_read | fs::perms::owner_write);
}

void delete_context(const std::string& name) {
  if (!valid_context_name(name)) throw CliError("invalid context name \"" + name + "\"");
  if (selected_context() == name) throw CliError("cannot remove the current active context");
  std::error_code ec;
  fs::remove(context_dir() + "/" + name + ".json", ec);
}

}  // namespace nats::cli
