// Facts about the host the Sentry needs after it can no longer read host
// files: captured once at start, before the seccomp filter.
#ifndef SENTRY_BASE_HOST_H_
#define SENTRY_BASE_HOST_H_

namespace sentry {

// Captures everything below and warms up libraries that would otherwise
// read host files lazily (Abseil's CPU count and CPU frequency, used by its
// locks).
void CaptureHostFacts();
// Number of online host CPUs.
int HostCpuCount();

}  // namespace sentry

#endif  // SENTRY_BASE_HOST_H_
