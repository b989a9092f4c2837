#pragma once
// Start-up code pages leave the server's resident set (see startup_pages.cpp).
namespace nats {

// Unmaps the resident pages of the executable's and shared libraries' read-only file
// mappings never written (code, constant data) so that only what the running server uses comes
// back. Returns the KB unmapped (0 where nothing was, or NATS_KEEP_STARTUP_PAGES=1 is set).
long drop_startup_code_pages();
// Gives the free pages of the allocator's heaps back to the system (after start-up).
void release_startup_heap();

}  // namespace nats
