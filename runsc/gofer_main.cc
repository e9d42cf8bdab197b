// runsc gofer: serve a root file system to one Sentry.
#include <signal.h>
#include <unistd.h>

#include "gofer/process.h"
#include "runsc/flags.h"
#include "sentry/base/log.h"

namespace runsc {

int GoferMain(const GlobalFlags& g, const std::string& root, bool read_only,
              const std::vector<int>& sock_fds, int log_fd, bool detached,
              const std::vector<std::string>& binds) {
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
  opts.sock_fds = sock_fds;
  for (const std::string& b : binds) {
    bool rw = b.rfind("rw:", 0) == 0;
    if (!rw && b.rfind("ro:", 0) != 0) {
      SLOG(kError, "--bind %s: want ro:DIR or rw:DIR", b);
      return 1;
    }
    opts.binds.push_back({b.substr(3), !rw});
  }
  opts.die_with_parent = !detached;
  absl::Status s = gofer::RunGoferProcess(opts);
  if (!s.ok()) {
    SLOG(kError, "%s", s.ToString());
    return 1;
  }
  return 0;
}

}  // namespace runsc
