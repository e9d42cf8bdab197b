// Futexes (futex(2)): wait queues keyed by a memory word.
//
// Private futexes (FUTEX_PRIVATE_FLAG) are keyed by (MemoryManager,
// address). A shared operation on a word in a private mapping is keyed the
// same way but marked, as Linux marks it (FUT_OFF_MMSHARED): a shared wake
// never finds a private waiter on the same word, nor the reverse. Futexes
// in shared mappings are keyed by the MemoryFile offset of the word, so
// processes sharing the page meet.
//
// Lock order: Bucket::mu > MemoryManager::mu_ (the value check copies in
// with the bucket held, so a wake cannot slip between check and sleep).
#ifndef SENTRY_KERNEL_FUTEX_H_
#define SENTRY_KERNEL_FUTEX_H_

#include <array>
#include <atomic>
#include <cstdint>
#include <list>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "sentry/base/error.h"
#include "sentry/usermem/addr.h"

namespace sentry {

class Task;
class MemoryManager;

struct FutexKey {
  const void* mm = nullptr;  // null for shared keys
  uint64_t addr = 0;         // address, or MemoryFile offset for shared keys
  // A shared (non-FUTEX_PRIVATE_FLAG) operation on a private mapping.
  bool mm_shared = false;
  bool operator==(const FutexKey& o) const {
    return mm == o.mm && addr == o.addr && mm_shared == o.mm_shared;
  }
};

class Futexes {
 public:
  // FUTEX_WAIT(_BITSET): sleeps while *addr == val. 0, EAGAIN, ETIMEDOUT,
  // ERESTARTSYS (interrupted), EFAULT, EINVAL.
  Errno Wait(Task& t, UserAddr addr, bool priv, uint32_t val, uint32_t bitset, absl::Time deadline);
  // FUTEX_WAKE(_BITSET): wakes up to n waiters; returns how many.
  ErrorOr<int> Wake(Task& t, UserAddr addr, bool priv, uint32_t bitset, int n);
  // FUTEX_REQUEUE / CMP_REQUEUE.
  ErrorOr<int> Requeue(Task& t, UserAddr addr, UserAddr addr2, bool priv, int nwake, int nrequeue,
                       bool cmp, uint32_t val);
  // FUTEX_WAKE_OP.
  ErrorOr<int> WakeOp(Task& t, UserAddr addr, UserAddr addr2, bool priv, int nwake, int nwake2,
                      uint32_t op);
  // Wakes waiters on a key without a task context (clear_child_tid at exit).
  int WakeKey(const FutexKey& k, uint32_t bitset, int n);

  static ErrorOr<FutexKey> KeyFor(MemoryManager* mm, UserAddr addr, bool priv);

 private:
  struct Bucket;
  struct Waiter {
    FutexKey key;            // guarded by bucket->mu
    uint32_t bitset;
    Task* task;
    bool woken = false;      // guarded by bucket->mu
    // The bucket the waiter is queued in; changed only by requeue with
    // both buckets locked.
    std::atomic<Bucket*> bucket{nullptr};
  };
  struct Bucket {
    absl::Mutex mu;
    std::list<Waiter*> waiters ABSL_GUARDED_BY(mu);
  };
  // Locks the bucket `w` is in now (it may move under requeue).
  Bucket* LockWaiterBucket(Waiter& w);
  Bucket& BucketFor(const FutexKey& k);
  std::array<Bucket, 256> buckets_;
};

}  // namespace sentry

#endif  // SENTRY_KERNEL_FUTEX_H_
