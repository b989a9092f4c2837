// `nats context ...`: save/select/ls/info/rm of natscli-compatible contexts.
#include <iostream>
#include <unistd.h>

#include "cli/columns.h"
#include "cli/command.h"
#include "cli/connection.h"
#include "cli/context_store.h"
#include "cli/table.h"

namespace nats::cli {
namespace {

bool file_accessible(const std::string& f) { return access(f.c_str(), R_OK) == 0; }

int show(const std::string& name_in, bool json) {
  std::string name = name_in.empty() ? selected_context() : name_in;
  if (name.empty()) throw CliError("no default context and no name supplied");
  ContextSettings c = load_context(name);
  if (json) {
    print_json(nlohmann::json::parse(c.data.dump()));
    return 0;
  }
  auto check_file = [](const std::string& f) { return f + " (" + (file_accessible(f) ? "OK" : "ERROR") + ")"; };
  Columns cols("NATS Configuration Context \"" + name + "\"");
  cols.add_if_not_empty("Description", c.str("description"));
  cols.add_if_not_empty("Server URLs", c.str("url").empty() ? "nats://127.0.0.1:4222" : c.str("url"));
  cols.add_if_not_empty("SOCKS5 Proxy", c.str("socks_proxy"));
  cols.add_if_not_empty("Username", c.str("user"));
  cols.add_if_not_empty("Password", std::string(c.str("password").size(), '*'));
  cols.add_if_not_empty("Token", c.str("token"));
  if (!c.str("creds").empty()) cols.add("Credentials", check_file(c.str("creds")));
  if (!c.str("nkey").empty()) cols.add("NKey", check_file(c.str("nkey")));
  if (!c.str("cert").empty()) cols.add("Certificate", check_file(c.str("cert")));
  if (!c.str("key").empty()) cols.add("Key", check_file(c.str("key")));
  if (!c.str("ca").empty()) cols.add("CA", check_file(c.str("ca")));
  cols.add_if_not_empty("NSC Lookup", c.str("nsc"));
  cols.add_if_not_empty("JS API Prefix", c.str("jetstream_api_prefix"));
  cols.add_if_not_empty("JS Event Prefix", c.str("jetstream_event_prefix"));
  cols.add_if_not_empty("JS Domain", c.str("jetstream_domain"));
  cols.add_if_not_empty("Inbox Prefix", c.str("inbox_prefix"));
  cols.add_if_not_empty("Path", c.path);
  cols.add_if_not_empty("Color Scheme", c.str("color_scheme"));
  std::cout << cols.render() << std::endl;
  return 0;
}

int save(Invocation& inv) {
  std::string name = inv.arg(0);
  ContextSettings c = blank_context();
  if (context_known(name)) c = load_context(name);
  else if (!inv.get("context").empty()) c = load_context(inv.get("context"));
  std::string user = inv.get("user"), pass = inv.get("password");
  if (!user.empty() && pass.empty()) {
    c.set("token", user);
  } else {
    c.set("user", user);
    c.set("password", pass);
  }
  c.set("url", inv.get("server"));
  c.set("creds", inv.get("creds"));
  c.set("nkey", inv.get("nkey"));
  c.set("description", inv.get("description"));
  c.set("nsc", inv.get("nsc"));
  c.set("inbox_prefix", inv.get("inbox-prefix"));
  c.set("jetstream_domain", inv.get("js-domain"));
  c.set("jetstream_api_prefix", inv.get("js-api-prefix"));
  save_context(c, name);
  if (inv.on("select")) select_context(name);
  return show(name, false);
}

int list(Invocation& inv) {
  auto names = known_contexts();
  std::string current = selected_context();
  std::vector<ContextSettings> ctxs;
  for (auto& n : names) {
    try {
      ctxs.push_back(load_context(n));
    } catch (const CliError& e) {
      std::cerr << "Could not load context " << n << ": " << e.what() << "\n";
    }
  }
  if (inv.on("json")) {
    nlohmann::json arr = nlohmann::json::array();
    for (auto& c : ctxs) arr.push_back(nlohmann::json::parse(c.data.dump()));
    print_json(arr);
    return 0;
  }
  if (inv.on("names")) {
    for (auto& c : ctxs) std::cout << c.name << "\n";
    return 0;
  }
  if (ctxs.empty()) {
    std::cout << "No known contexts\n";
    return 0;
  }
  Table t("Known Contexts");
  t.add_headers({"Name", "Description"});
  for (auto& c : ctxs) t.add_row({c.name == current ? c.name + "*" : c.name, c.str("description")});
  std::cout << t.render() << std::endl;
  return 0;
}

int select_cmd(Invocation& inv) {
  if (known_contexts().empty()) throw CliError("no context defined");
  std::string name = inv.arg(0);
  if (name.empty()) throw CliError("please select a context to activate");
  if (!context_known(name)) throw CliError("unknown context \"" + name + "\"");
  select_context(name);
  return show(name, false);
}

int remove_cmd(Invocation& inv) {
  std::string name = inv.arg(0);
  if (!inv.on("force"))
    throw CliError("could not obtain confirmation: cannot ask for confirmation without a terminal (use --force)");
  if (!context_known(name)) throw CliError("unknown context \"" + name + "\"");
  delete_context(name);
  return 0;
}

}  // namespace

void register_context_commands(Registry& r) {
  r.group({"context"}, "Manage nats configuration contexts", {"ctx"});
  r.add({{"context", "save"}, {"add", "create"}, "Update or create a context",
         {{"name", "The context name to act on", true}},
         {{"description", 0, false, "Set a friendly description for this context", "", ""},
          {"select", 0, true, "Select the saved context as the default one", "", ""},
          {"nsc", 0, false, "URL to a nsc user, eg. nsc://<operator>/<account>/<user>", "", ""}},
         save, ""});
  r.add({{"context", "ls"}, {"list", "l"}, "List known contexts", {},
         {{"json", 'j', true, "Show the list in JSON format", "", ""},
          {"names", 0, true, "List just the names of known contexts", "", ""}},
         list, ""});
  r.add({{"context", "rm"}, {"remove"}, "Remove a context", {{"name", "The context name to remove", true}},
         {{"force", 'f', true, "Force remove without prompting", "", ""}}, remove_cmd, ""});
  r.add({{"context", "select"}, {"switch", "set"}, "Select the default context",
         {{"name", "The context name to select", false}}, {}, select_cmd, ""});
  r.add({{"context", "info"}, {"show"}, "Display information on the current or named context",
         {{"name", "The context name to show", false}}, {{"json", 'j', true, "Show the context in JSON format", "", ""}},
         [](Invocation& inv) { return show(inv.arg(0), inv.on("json")); }, ""});
}

}  // namespace nats::cli
