// Command registry and a small kingpin/fisk-style parser: nested subcommands with aliases,
// `--flag value`, `--flag=value`, `-s value`, `--no-flag`, repeatable flags, global flags
// accepted anywhere, and generated `--help` for every command and group.
#pragma once

#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

namespace nats::cli {

// Any user-facing failure: main() prints "nats: error: <what>" and exits 1.
struct CliError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct FlagSpec {
  std::string name;
  char short_name = 0;
  bool is_bool = false;
  std::string help;
  std::string def;  // shown in help and returned by Invocation::get when unset
  std::string env;  // environment variable that supplies a default
};

struct ArgSpec {
  std::string name;
  std::string help;
  bool required = false;
};

struct Invocation {
  std::vector<std::string> path;  // resolved command path
  std::vector<std::string> args;  // positionals
  std::map<std::string, std::vector<std::string>> flags;
  std::map<std::string, std::string> defaults;  // flag defaults (from spec and env)

  bool has(const std::string& f) const { return flags.count(f) > 0; }
  std::string get(const std::string& f, const std::string& dflt = "") const;
  std::vector<std::string> all(const std::string& f) const;
  bool on(const std::string& f) const;  // a bool flag
  int64_t integer(const std::string& f, int64_t dflt) const;
  std::string arg(size_t i, const std::string& dflt = "") const { return i < args.size() ? args[i] : dflt; }
};

using Handler = std::function<int(Invocation&)>;

struct Command {
  std::vector<std::string> path;
  std::vector<std::string> aliases;  // alternative names for the last path word
  std::string help;
  std::vector<ArgSpec> args;
  std::vector<FlagSpec> flags;
  Handler run;
  std::string long_help;
};

class Registry {
 public:
  static Registry& instance();
  void add(Command c);
  void group(std::vector<std::string> path, std::string help, std::vector<std::string> aliases = {});
  void add_global(FlagSpec f) { globals_.push_back(std::move(f)); }
  // Parses argv and runs the command; returns the process exit code.
  int dispatch(int argc, char** argv);

 private:
  struct Node {
    std::string name;
    std::vector<std::string> aliases;
    std::string help;
    std::vector<Node> children;
    int command = -1;  // index into commands_
  };
  Node* child(Node& n, const std::string& word);
  Node& ensure(const std::vector<std::string>& path);
  std::string help_text(const Node& n, const std::vector<std::string>& path) const;
  const FlagSpec* find_flag(const Command* c, const std::string& name, char short_name) const;

  Node root_;
  std::vector<Command> commands_;
  std::vector<FlagSpec> globals_;
};

// Registers every command; each command file defines one of these.
void register_context_commands(Registry&);
void register_pubsub_commands(Registry&);
void register_server_commands(Registry&);
void register_stream_commands(Registry&);
void register_kv_commands(Registry&);
void register_bench_commands(Registry&);

}  // namespace nats::cli
