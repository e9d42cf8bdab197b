// runsc gofer: serve a root file system to one Sentry.
#include <signal.h>
#include <unistd.h>

#include "gofer/process.h"
#include "runsc/flags.h"
#include "sentry/base/log.h"

namespace runsc {

int GoferMain(const GlobalFlags& g, const std::string& root, bool read_only, int sock_fd,
              int log_fd, bool detached) {
  sentry::SetLogPrefix("gofer");
  if (log_fd >= 0) sentry::SetLogFd(log_fd);
  if (g.debug) sentry::SetLogLevel(sentry::LogLevel::kDebug);
  // Terminal signals are for the sandboxed program, not its file server;
  // the Gofer ends when the Sentry closes its channels or dies.
  signal(SIGINT, SIG_IGN);
  signal(SIGQUIT, SIG_IGN);
  signal(SIGTSTP, SIG_IGN);
  // Its log may be a pipe whose reader goes away (a container engine's).
  signal(SIGPIPE, SIG_IGN);
  gofer::GoferProcessOptions opts;
  opts.root = root;
  opts.read_only = read_only;
  opts.sock_fds = {sock_fd};
  opts.die_with_parent = !detached;
  absl::Status s = gofer::RunGoferProcess(opts);
  if (!s.ok()) {
    SLOG(kError, "%s", s.ToString());
    return 1;
  }
  return 0;
}

}  // namespace runsc
