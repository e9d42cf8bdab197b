// Terminal: what job control needs to know about a terminal, without the
// kernel depending on the tty code (fs/tty implements it).
//
// A process's controlling terminal is ThreadGroup::tty, as Linux keeps it
// in signal_struct: fork copies it, setsid drops it, and a session's
// processes share it because they inherit it. The terminal records the
// session it controls and its foreground process group as numbers (Linux
// holds struct pid references), so a vanished group still reads back.
//
// Lock order: every field here is guarded by Kernel::tasks_mu_, which is
// taken before any lock of the terminal itself.
#ifndef SENTRY_KERNEL_TERMINAL_H_
#define SENTRY_KERNEL_TERMINAL_H_

#include <cstdint>

namespace sentry {

class Terminal {
 public:
  virtual ~Terminal() = default;
  // The device number (/proc/<pid>/stat's tty_nr).
  virtual uint64_t rdev() const = 0;

  // --- guarded by Kernel::tasks_mu_ ---
  int32_t sid = 0;       // the session it controls; 0: none
  int32_t fg_pgid = 0;   // the foreground process group; 0: none
};

}  // namespace sentry

#endif  // SENTRY_KERNEL_TERMINAL_H_
