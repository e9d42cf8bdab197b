// The control socket between runsc commands and a running Sentry.
#ifndef RUNSC_CONTROL_H_
#define RUNSC_CONTROL_H_

#include "sentry/kernel/kernel.h"

namespace runsc {

// The fd the Sentry gets its listening control socket on (runsc boot
// --control-fd); its seccomp filter allows accept4 on this fd only.
inline constexpr int kControlFd = 7;

// Accepts connections on `listen_fd` for ever, one thread per connection
// (see control.cc for the protocol). Every exec'd process gets
// `seccomp_filter` (the container's linux.seccomp; empty: none).
void ServeControl(sentry::Kernel* k, int listen_fd, std::vector<sock_filter> seccomp_filter);

}  // namespace runsc

#endif  // RUNSC_CONTROL_H_
