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
  // glibc's malloc sizes its arena limit from the CPU count, read from
  // /sys when the first thread needs a new arena; a fixed limit avoids it.
  mallopt(M_ARENA_MAX, 4 * g_cpus.load());
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
