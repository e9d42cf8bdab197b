#include "sentry/base/host.h"

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
  (void)absl::base_internal::NumCPUs();
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
