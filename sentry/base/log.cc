#include "sentry/base/log.h"

#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

namespace sentry {
namespace {
std::atomic<int> g_fd{2};
std::atomic<int> g_level{static_cast<int>(LogLevel::kError)};
char g_prefix[32] = "sandbox";

void WriteAll(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = write(fd, s.data(), s.size());
    if (n <= 0) {
      if (n < 0 && errno == EINTR) continue;
      return;
    }
    s.remove_prefix(static_cast<size_t>(n));
  }
}
}  // namespace

void SetLogFd(int fd) { g_fd.store(fd); }
int LogFd() { return g_fd.load(); }
void SetLogLevel(LogLevel l) { g_level.store(static_cast<int>(l)); }
void SetLogPrefix(std::string_view p) {
  size_t n = std::min(p.size(), sizeof(g_prefix) - 1);
  p.copy(g_prefix, n);
  g_prefix[n] = 0;
}
bool LogEnabled(LogLevel l) { return static_cast<int>(l) >= g_level.load(std::memory_order_relaxed); }

void LogLine(LogLevel l, std::string_view msg) {
  static const char kLetters[] = "DIWE";
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  // UTC time of day computed by hand: gmtime_r() loads time zone data on
  // first use, which means opening host files — forbidden after seccomp.
  int64_t day = ts.tv_sec % 86400;
  std::string line = absl::StrFormat("%c%02d:%02d:%02d.%06d %s[%d]: %s\n",
                                     kLetters[static_cast<int>(l)], day / 3600, day / 60 % 60,
                                     day % 60, ts.tv_nsec / 1000, g_prefix,
                                     static_cast<int>(syscall(SYS_gettid)), msg);
  WriteAll(g_fd.load(), line);
}

void LogRaw(std::string_view msg) { WriteAll(g_fd.load(), msg); }

void Fatal(std::string_view msg) {
  LogLine(LogLevel::kError, msg);
  if (g_fd.load() != 2) WriteAll(2, std::string(msg) + "\n");
  abort();
}

}  // namespace sentry
