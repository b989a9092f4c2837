// Why: most of the server's idle resident memory is its code and read-only data mapped from
// its file and glibc's (about 5.5 MB of 6.4 MB idle, session 14), and much of it was used only
// once: config parsing, static initialisers, JetStream recovery. Each first touch of such a
// page also maps its neighbours already in the page cache (the kernel's fault-around, 64 KB),
// so start-up leaves whole windows mapped that the event loops never use again. Once the
// server is up, MADV_DONTNEED on those mappings unmaps them; what the server then uses faults
// back in (minor faults from the page cache, no I/O), so what stays resident is what is in use.
// Only read-only private file mappings none of whose pages were ever written are touched
// (smaps "Anonymous: 0 kB"): dropping their pages loses nothing. Relocated data (RELRO:
// read-only now, but written by the dynamic linker), writable data and anonymous memory are
// left alone.
#include "startup_pages.h"

#include <malloc.h>
#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

namespace nats {

long drop_startup_code_pages() {
  if (const char* keep = std::getenv("NATS_KEEP_STARTUP_PAGES"); keep && std::strcmp(keep, "1") == 0) return 0;
  FILE* f = std::fopen("/proc/self/smaps", "re");
  if (!f) return 0;
  struct Range {
    unsigned long lo, hi;
  };
  std::vector<Range> drop;
  bool candidate = false;  // the current mapping qualifies so far
  Range cur{};
  char line[4096];
  while (std::fgets(line, sizeof line, f)) {
    unsigned long lo = 0, hi = 0, inode = 0;
    char perms[8] = {};
    char path[2] = {};
    // A mapping's header: start-end perms offset dev inode [path]; its fields follow.
    if (std::sscanf(line, "%lx-%lx %7s %*s %*s %lu %1s", &lo, &hi, perms, &inode, path) >= 4 &&
        std::strchr(line, '-') < std::strchr(line, ' ')) {
      candidate = inode != 0 && path[0] == '/' && perms[0] == 'r' && perms[1] == '-' && perms[3] == 'p';
      cur = {lo, hi};
      continue;
    }
    unsigned long anon_kb = 0;
    if (candidate && std::sscanf(line, "Anonymous: %lu kB", &anon_kb) == 1) {
      if (anon_kb == 0) drop.push_back(cur);
      candidate = false;
    }
  }
  std::fclose(f);
  long dropped_kb = 0;
  for (const Range& r : drop)
    if (::madvise(reinterpret_cast<void*>(r.lo), r.hi - r.lo, MADV_DONTNEED) == 0)
      dropped_kb += static_cast<long>((r.hi - r.lo) / 1024);
  return dropped_kb;
}

void release_startup_heap() {
  // Recovery's buffers (block summaries and offset files read, config and JSON trees) are
  // freed by now but glibc keeps free pages of its arenas mapped; a restart with a large
  // stream leaves several hundred KB of them. malloc_trim returns them (once, at start).
  ::malloc_trim(0);
}

}  // namespace nats
