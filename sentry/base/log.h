// Minimal logging for the Sentry, the Gofer and runsc.
//
// Log lines go to one host fd chosen at start (stderr, or the --debug-log
// file opened by runsc before the Sentry lost its view of host paths).
// Writing is one write(2) per line, so lines from different threads never
// interleave. Debug lines cost one branch when --debug is off.
#ifndef SENTRY_BASE_LOG_H_
#define SENTRY_BASE_LOG_H_

#include <atomic>
#include <string_view>

#include "absl/strings/str_format.h"

namespace sentry {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarning = 2, kError = 3 };

void SetLogFd(int fd);
int LogFd();
void SetLogLevel(LogLevel l);
void SetLogPrefix(std::string_view prefix);  // e.g. "sentry", "gofer".
bool LogEnabled(LogLevel l);
void LogLine(LogLevel l, std::string_view msg);
// Writes `msg` verbatim (no prefix) to the log fd: used by --strace.
void LogRaw(std::string_view msg);
[[noreturn]] void Fatal(std::string_view msg);

}  // namespace sentry

#define SLOG(level, ...)                                                   \
  do {                                                                     \
    if (::sentry::LogEnabled(::sentry::LogLevel::level))                   \
      ::sentry::LogLine(::sentry::LogLevel::level, absl::StrFormat(__VA_ARGS__)); \
  } while (0)

#define SFATAL(...) ::sentry::Fatal(absl::StrFormat(__VA_ARGS__))

// Invariant checks that stay on in release builds: a broken invariant in
// the Sentry must stop it rather than let it corrupt the sandbox.
#define SCHECK(cond)                                                        \
  do {                                                                      \
    if (!(cond)) SFATAL("%s:%d: check failed: %s", __FILE__, __LINE__, #cond); \
  } while (0)

#endif  // SENTRY_BASE_LOG_H_
