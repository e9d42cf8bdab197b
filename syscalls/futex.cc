// futex(2).
#include <linux/futex.h>

#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {

SysRet Futex(Task& t, const SyscallArgs& a) {
  UserAddr addr(a[0]);
  int op = static_cast<int>(a[1]);
  uint32_t val = static_cast<uint32_t>(a[2]);
  bool priv = op & FUTEX_PRIVATE_FLAG;
  bool realtime = op & FUTEX_CLOCK_REALTIME;
  int cmd = op & FUTEX_CMD_MASK;
  Futexes& fx = t.kernel().futexes();
  // Only the waits that take an absolute deadline accept a clock choice
  // (do_futex(); plain FUTEX_WAIT, whose timeout is relative, is ENOSYS
  // again on current kernels).
  if (realtime && cmd != FUTEX_WAIT_BITSET && cmd != FUTEX_WAIT_REQUEUE_PI &&
      cmd != FUTEX_LOCK_PI2) {
    return SysRet::Err(ENOSYS);
  }
  switch (cmd) {
    case FUTEX_WAIT:
    case FUTEX_WAIT_BITSET: {
      uint32_t bitset = cmd == FUTEX_WAIT ? FUTEX_BITSET_MATCH_ANY : static_cast<uint32_t>(a[5]);
      absl::Time deadline = absl::InfiniteFuture();
      if (a[3] != 0) {
        struct timespec ts;
        TRY(t.CopyInBytes(UserAddr(a[3]), &ts, sizeof(ts)));
        if (ts.tv_nsec < 0 || ts.tv_nsec >= 1000000000 || ts.tv_sec < 0) return SysRet::Err(EINVAL);
        if (cmd == FUTEX_WAIT) {
          deadline = absl::Now() + absl::DurationFromTimespec(ts);  // relative
        } else {
          // Absolute on CLOCK_MONOTONIC (or REALTIME with the flag).
          struct timespec now;
          clock_gettime(realtime ? CLOCK_REALTIME : CLOCK_MONOTONIC, &now);
          deadline = absl::Now() + (absl::DurationFromTimespec(ts) - absl::DurationFromTimespec(now));
        }
      }
      Errno e = fx.Wait(t, addr, priv, val, bitset, deadline);
      if (e == ERESTARTSYS && a[3] != 0) {
        // Timed waits restart until the same deadline (futex_wait_restart);
        // a handler makes them EINTR.
        t.restart_block = [addr, priv, val, bitset, deadline](Task& task) -> SysRet {
          Errno e2 = task.kernel().futexes().Wait(task, addr, priv, val, bitset, deadline);
          if (e2 == ERESTARTSYS) return SysRet::Err(ERESTART_RESTARTBLOCK);
          return e2 == 0 ? SysRet(0) : SysRet::Err(e2);
        };
        return SysRet::Err(ERESTART_RESTARTBLOCK);
      }
      return e == 0 ? SysRet(0) : SysRet::Err(e);
    }
    case FUTEX_WAKE:
    case FUTEX_WAKE_BITSET: {
      uint32_t bitset = cmd == FUTEX_WAKE ? FUTEX_BITSET_MATCH_ANY : static_cast<uint32_t>(a[5]);
      int n = static_cast<int>(std::min<uint32_t>(val, INT32_MAX));
      return TRY_ASSIGN(fx.Wake(t, addr, priv, bitset, n));
    }
    case FUTEX_REQUEUE:
    case FUTEX_CMP_REQUEUE: {
      int nwake = static_cast<int>(val);
      int nreq = static_cast<int>(a[3]);
      return TRY_ASSIGN(fx.Requeue(t, addr, UserAddr(a[4]), priv, nwake, nreq,
                                   cmd == FUTEX_CMP_REQUEUE, static_cast<uint32_t>(a[5])));
    }
    case FUTEX_WAKE_OP:
      return TRY_ASSIGN(fx.WakeOp(t, addr, UserAddr(a[4]), priv, static_cast<int>(val),
                                  static_cast<int>(a[3]), static_cast<uint32_t>(a[5])));
    case FUTEX_LOCK_PI:
    case FUTEX_UNLOCK_PI:
    case FUTEX_TRYLOCK_PI:
    case FUTEX_WAIT_REQUEUE_PI:
    case FUTEX_CMP_REQUEUE_PI:
    case FUTEX_LOCK_PI2:
      // Priority-inheritance futexes come with issue 3.
      return SysRet::Err(ENOSYS);
    default:
      return SysRet::Err(ENOSYS);
  }
}

}  // namespace sentry::sys
