#include "sentry/base/host.h"

#include <malloc.h>
#include <unistd.h>

#include <atomic>

#include "absl/base/internal/sysinfo.h"

namespace sentry {
namespace {
std::atomic<int> g_cpus{0};
}  // namespace

void CaptureHostFacts() {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  g_cpus.store(n > 0 ? static_cast<int>(n) : 1);
  // glibc's malloc reads host files lazily in two places: the CPU count
  // (from /sys) when a thread needs a new arena, and
  // /proc/sys/vm/overcommit_memory when it shrinks a thread arena's heap.
  // One arena (the main, brk-based one) avoids both.
  mallopt(M_ARENA_MAX, 1);
  (void)absl::base_internal::NumCPUs();
  // Abseil's Mutex times contention with its cycle clock, whose frequency
  // comes from /sys or /proc/cpuinfo on first use.
  (void)absl::base_internal::NominalCPUFrequency();
}

int HostCpuCount() {
  int n = g_cpus.load();
  if (n == 0) {
    CaptureHostFacts();
    n = g_cpus.load();
  }
  return n;
}

}  // namespace sentry
