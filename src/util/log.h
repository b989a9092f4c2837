// Server log in the reference's format: "[pid] 2006/01/02 15:04:05.000000 [INF] text",
// to stderr or a file. Thread-safe; one process-wide logger.
#pragma once

#include <fmt/format.h>

#include <string>
#include <string_view>

namespace nats::log {

enum class Level { Fatal, Error, Warn, Notice, Debug, Trace };

struct Settings {
  bool time = true;
  bool debug = false;
  bool trace = false;
  std::string file;  // empty: stderr
};

void configure(const Settings& s);
bool debug_enabled();
bool trace_enabled();
void write(Level level, std::string_view text);
void reopen();  // reopen the log file (SIGUSR1 / rotation)

template <typename... Args>
void notice(fmt::format_string<Args...> f, Args&&... a) { write(Level::Notice, fmt::format(f, std::forward<Args>(a)...)); }
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... a) { write(Level::Warn, fmt::format(f, std::forward<Args>(a)...)); }
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... a) { write(Level::Error, fmt::format(f, std::forward<Args>(a)...)); }
template <typename... Args>
void fatal(fmt::format_string<Args...> f, Args&&... a) { write(Level::Fatal, fmt::format(f, std::forward<Args>(a)...)); }
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... a) {
  if (debug_enabled()) write(Level::Debug, fmt::format(f, std::forward<Args>(a)...));
}
template <typename... Args>
void trace(fmt::format_string<Args...> f, Args&&... a) {
  if (trace_enabled()) write(Level::Trace, fmt::format(f, std::forward<Args>(a)...));
}

}  // namespace nats::log
