#include "util/log.h"

#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace nats::log {

namespace {
std::mutex g_mu;
Settings g_settings;
FILE* g_out = nullptr;
std::atomic<bool> g_debug{false}, g_trace{false};

const char* label(Level l) {
  switch (l) {
    case Level::Fatal: return "[FTL] ";
    case Level::Error: return "[ERR] ";
    case Level::Warn: return "[WRN] ";
    case Level::Notice: return "[INF] ";
    case Level::Debug: return "[DBG] ";
    case Level::Trace: return "[TRC] ";
  }
  return "";
}
}  // namespace

void configure(const Settings& s) {
  std::lock_guard lk(g_mu);
  g_settings = s;
  g_debug = s.debug;
  g_trace = s.trace;
  if (g_out && g_out != stderr) fclose(g_out);
  g_out = stderr;
  if (!s.file.empty()) {
    if (FILE* f = fopen(s.file.c_str(), "a")) g_out = f;
  }
}

void reopen() { configure(Settings(g_settings)); }

bool debug_enabled() { return g_debug.load(std::memory_order_relaxed); }
bool trace_enabled() { return g_trace.load(std::memory_order_relaxed); }

void write(Level level, std::string_view text) {
  std::string line = fmt::format("[{}] ", getpid());
  std::lock_guard lk(g_mu);
  if (g_settings.time) {
    timeval tv;
    gettimeofday(&tv, nullptr);
    tm t;
    localtime_r(&tv.tv_sec, &t);
    char buf[64];
    size_t n = strftime(buf, sizeof buf, "%Y/%m/%d %H:%M:%S", &t);
    snprintf(buf + n, sizeof buf - n, ".%06ld ", static_cast<long>(tv.tv_usec));
    line += buf;
  }
  line += label(level);
  line += text;
  line += '\n';
  FILE* out = g_out ? g_out : stderr;
  fwrite(line.data(), 1, line.size(), out);
  fflush(out);
}

}  // namespace nats::log
