#include "cli/command.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

namespace nats::cli {

std::string Invocation::get(const std::string& f, const std::string& dflt) const {
  auto it = flags.find(f);
  if (it != flags.end() && !it->second.empty()) return it->second.back();
  auto d = defaults.find(f);
  if (d != defaults.end() && !d->second.empty()) return d->second;
  return dflt;
}

std::vector<std::string> Invocation::all(const std::string& f) const {
  auto it = flags.find(f);
  return it == flags.end() ? std::vector<std::string>{} : it->second;
}

bool Invocation::on(const std::string& f) const {
  std::string v = get(f, "false");
  return v == "true" || v == "1" || v == "yes";
}

int64_t Invocation::integer(const std::string& f, int64_t dflt) const {
  std::string v = get(f, "");
  if (v.empty()) return dflt;
  try {
    size_t used = 0;
    long long n = std::stoll(v, &used);
    if (used != v.size()) throw std::invalid_argument(v);
    return n;
  } catch (const std::exception&) {
    throw CliError("invalid value '" + v + "' for flag --" + f);
  }
}

Registry& Registry::instance() {
  static Registry r;
  return r;
}

Registry::Node* Registry::child(Node& n, const std::string& word) {
  for (auto& c : n.children) {
    if (c.name == word) return &c;
    for (auto& a : c.aliases)
      if (a == word) return &c;
  }
  return nullptr;
}

Registry::Node& Registry::ensure(const std::vector<std::string>& path) {
  Node* n = &root_;
  for (auto& w : path) {
    Node* c = nullptr;
    for (auto& ch : n->children)
      if (ch.name == w) c = &ch;
    if (!c) {
      n->children.push_back(Node{w, {}, "", {}, -1});
      c = &n->children.back();
    }
    n = c;
  }
  return *n;
}

void Registry::group(std::vector<std::string> path, std::string help, std::vector<std::string> aliases) {
  Node& n = ensure(path);
  n.help = std::move(help);
  n.aliases = std::move(aliases);
}

void Registry::add(Command c) {
  commands_.push_back(c);
  Node& n = ensure(c.path);
  n.help = c.help;
  n.aliases = c.aliases;
  n.command = static_cast<int>(commands_.size() - 1);
}

const FlagSpec* Registry::find_flag(const Command* c, const std::string& name, char short_name) const {
  auto match = [&](const FlagSpec& f) {
    return (!name.empty() && f.name == name) || (short_name && f.short_name == short_name);
  };
  if (c)
    for (auto& f : c->flags)
      if (match(f)) return &f;
  for (auto& f : globals_)
    if (match(f)) return &f;
  return nullptr;
}

namespace {
void flag_lines(std::ostringstream& o, const std::vector<FlagSpec>& flags) {
  for (auto& f : flags) {
    std::string left = "  ";
    left += f.short_name ? std::string("-") + f.short_name + ", " : "    ";
    left += "--" + f.name;
    if (!f.is_bool) left += "=" + [&] {
      std::string u = f.name;
      for (auto& ch : u) ch = ch == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      return u;
    }();
    o << left;
    if (left.size() < 32) o << std::string(32 - left.size(), ' ');
    else o << "\n" << std::string(32, ' ');
    o << f.help;
    if (!f.def.empty() && !f.is_bool) o << " (default: " << f.def << ")";
    if (!f.env.empty()) o << " ($" << f.env << ")";
    o << "\n";
  }
}
}  // namespace

std::string Registry::help_text(const Node& n, const std::vector<std::string>& path) const {
  std::ostringstream o;
  std::string full = "nats";
  for (auto& p : path) full += " " + p;
  const Command* c = n.command >= 0 ? &commands_[n.command] : nullptr;
  o << "usage: " << full;
  if (!n.children.empty() && !c) o << " <command>";
  if (c) {
    o << " [<flags>]";
    for (auto& a : c->args) o << (a.required ? " <" + a.name + ">" : " [<" + a.name + ">]");
  }
  o << "\n\n";
  if (path.empty()) o << "NATS Utility\n\n";
  else if (!n.help.empty()) o << n.help << "\n\n";
  if (c && !c->long_help.empty()) o << c->long_help << "\n";
  if (c && !c->args.empty()) {
    o << "Args:\n";
    for (auto& a : c->args) {
      std::string left = "  " + (a.required ? "<" + a.name + ">" : "[<" + a.name + ">]");
      o << left << std::string(left.size() < 32 ? 32 - left.size() : 1, ' ') << a.help << "\n";
    }
    o << "\n";
  }
  if (!n.children.empty()) {
    o << "Commands:\n";
    for (auto& ch : n.children) {
      std::string left = "  " + ch.name;
      o << left << std::string(left.size() < 32 ? 32 - left.size() : 1, ' ') << ch.help << "\n";
    }
    o << "\n";
  }
  if (c && !c->flags.empty()) {
    o << "Flags:\n";
    flag_lines(o, c->flags);
    o << "\n";
  }
  o << "Global Flags:\n";
  std::vector<FlagSpec> g = globals_;
  g.insert(g.begin(), FlagSpec{"help", 'h', true, "Show context-sensitive help", "", ""});
  flag_lines(o, g);
  return o.str();
}

int Registry::dispatch(int argc, char** argv) {
  std::vector<std::string> tokens(argv + 1, argv + argc);
  Node* node = &root_;
  std::vector<std::string> path;
  Invocation inv;
  bool resolved = false, want_help = false, only_args = false;
  const Command* cmd = nullptr;

  for (size_t i = 0; i < tokens.size(); ++i) {
    const std::string& t = tokens[i];
    if (!only_args && t == "--") { only_args = true; continue; }
    if (!only_args && t.size() > 1 && t[0] == '-' && !(t.size() > 1 && std::isdigit(static_cast<unsigned char>(t[1])))) {
      std::string name, value;
      bool has_value = false;
      char short_name = 0;
      if (t.rfind("--", 0) == 0) {
        name = t.substr(2);
        auto eq = name.find('=');
        if (eq != std::string::npos) { value = name.substr(eq + 1); name = name.substr(0, eq); has_value = true; }
      } else {
        short_name = t[1];
        if (t.size() > 2) { value = t.substr(2); has_value = true; }
      }
      if (name == "help" || short_name == 'h') { want_help = true; continue; }
      const FlagSpec* f = find_flag(cmd, name, short_name);
      bool negated = false;
      if (!f && name.rfind("no-", 0) == 0) {
        f = find_flag(cmd, name.substr(3), 0);
        negated = f && f->is_bool;
        if (!negated) f = nullptr;
      }
      if (!f) {
        if (!cmd && !resolved && node->command < 0) {
          // flag of a command we have not reached yet: a usage error either way
        }
        throw CliError("unknown " + std::string(short_name ? "short flag '-" + std::string(1, short_name) + "'"
                                                            : "long flag '--" + name + "'"));
      }
      if (f->is_bool) {
        inv.flags[f->name].push_back(negated ? "false" : (has_value ? value : "true"));
      } else {
        if (!has_value) {
          if (i + 1 >= tokens.size()) throw CliError("expected argument for flag '--" + f->name + "'");
          value = tokens[++i];
        }
        inv.flags[f->name].push_back(value);
      }
      continue;
    }
    if (!resolved) {
      if (Node* c = child(*node, t)) {
        node = c;
        path.push_back(c->name);
        if (node->command >= 0) cmd = &commands_[node->command];
        continue;
      }
      resolved = true;
      if (node->command < 0) {
        if (want_help) break;
        throw CliError("expected command but got \"" + t + "\"");
      }
    }
    inv.args.push_back(t);
  }

  if (want_help) {
    std::cout << help_text(*node, path);
    return 0;
  }
  if (node->command < 0) {
    std::cerr << help_text(*node, path);
    if (path.empty()) throw CliError("expected command but got nothing");
    throw CliError("expected a subcommand of \"" + path.back() + "\"");
  }
  cmd = &commands_[node->command];
  size_t required = 0;
  for (auto& a : cmd->args) if (a.required) ++required;
  if (inv.args.size() < required)
    throw CliError("required argument '" + cmd->args[inv.args.size()].name + "' not provided, try --help");
  inv.path = path;
  auto set_defaults = [&](const std::vector<FlagSpec>& flags) {
    for (auto& f : flags) {
      std::string d = f.def;
      if (!f.env.empty())
        if (const char* e = std::getenv(f.env.c_str()); e && *e) d = e;
      if (!d.empty()) inv.defaults[f.name] = d;
    }
  };
  set_defaults(globals_);
  set_defaults(cmd->flags);
  return cmd->run(inv);
}

}  // namespace nats::cli
