#include "sentry/kernel/futex.h"

#include <linux/futex.h>

#include <algorithm>
#include <optional>

#include "sentry/kernel/task.h"
#include "sentry/mm/mm.h"

namespace sentry {

ErrorOr<FutexKey> Futexes::KeyFor(MemoryManager* mm, UserAddr addr, bool priv) {
  if (addr.value() % 4 != 0) return Err(EINVAL);
  if (priv) return FutexKey{mm, addr.value(), false};
  bool shared = false;
  uint64_t off = 0;
  TRY(mm->SharedOffset(addr, &shared, &off));
  if (!shared) return FutexKey{mm, addr.value(), /*mm_shared=*/true};
  return FutexKey{nullptr, off, false};
}

Futexes::Bucket& Futexes::BucketFor(const FutexKey& k) {
  uint64_t h = k.addr ^ (reinterpret_cast<uintptr_t>(k.mm) >> 4);
  h ^= h >> 17;
  h *= 0x9e3779b97f4a7c15ull;
  return buckets_[(h >> 56) % buckets_.size()];
}

Errno Futexes::Wait(Task& t, UserAddr addr, bool priv, uint32_t val, uint32_t bitset,
                    absl::Time deadline) {
  if (bitset == 0) return EINVAL;
  FutexKey key = TRY_ASSIGN(KeyFor(t.mm(), addr, priv));
  Bucket& b = BucketFor(key);
  Waiter w{key, bitset, &t};
  w.bucket.store(&b);
  uint32_t seq = t.WakeSeq();
  {
    absl::MutexLock l(&b.mu);
    uint32_t cur;
    TRY(t.mm()->CopyIn(addr, &cur, sizeof(cur)));
    if (cur != val) return EAGAIN;
    b.waiters.push_back(&w);
  }
  for (;;) {
    BlockResult r = t.Block(seq, deadline);
    Bucket* cur = LockWaiterBucket(w);
    if (w.woken) {
      cur->mu.Unlock();
      return 0;
    }
    if (r != BlockResult::kWoken) {
      cur->waiters.remove(&w);
      cur->mu.Unlock();
      return r == BlockResult::kInterrupted ? ERESTARTSYS : ETIMEDOUT;
    }
    seq = t.WakeSeq();
    cur->mu.Unlock();
  }
}

Futexes::Bucket* Futexes::LockWaiterBucket(Waiter& w) {
  for (;;) {
    Bucket* b = w.bucket.load();
    b->mu.Lock();
    if (w.bucket.load() == b) return b;
    b->mu.Unlock();
  }
}

int Futexes::WakeKey(const FutexKey& k, uint32_t bitset, int n) {
  Bucket& b = BucketFor(k);
  int woken = 0;
  absl::MutexLock l(&b.mu);
  for (auto it = b.waiters.begin(); it != b.waiters.end() && woken < n;) {
    Waiter* w = *it;
    if (w->key == k && (w->bitset & bitset)) {
      it = b.waiters.erase(it);
      w->woken = true;
      w->task->Wake();
      woken++;
    } else {
      ++it;
    }
  }
  return woken;
}

ErrorOr<int> Futexes::Wake(Task& t, UserAddr addr, bool priv, uint32_t bitset, int n) {
  if (bitset == 0) return Err(EINVAL);
  FutexKey key = TRY_ASSIGN(KeyFor(t.mm(), addr, priv));
  return WakeKey(key, bitset, n);
}

ErrorOr<int> Futexes::Requeue(Task& t, UserAddr addr, UserAddr addr2, bool priv, int nwake,
                              int nrequeue, bool cmp, uint32_t val) {
  if (nwake < 0 || nrequeue < 0) return Err(EINVAL);
  FutexKey k1 = TRY_ASSIGN(KeyFor(t.mm(), addr, priv));
  FutexKey k2 = TRY_ASSIGN(KeyFor(t.mm(), addr2, priv));
  Bucket& b1 = BucketFor(k1);
  Bucket& b2 = BucketFor(k2);
  // Lock both buckets in address order.
  Bucket* first = &b1 < &b2 ? &b1 : &b2;
  Bucket* second = &b1 < &b2 ? &b2 : &b1;
  absl::MutexLock l1(&first->mu);
  std::optional<absl::MutexLock> l2;
  if (second != first) l2.emplace(&second->mu);
  if (cmp) {
    uint32_t cur;
    TRY(t.mm()->CopyIn(addr, &cur, sizeof(cur)));
    if (cur != val) return Err(EAGAIN);
  }
  int woken = 0, moved = 0;
  for (auto it = b1.waiters.begin(); it != b1.waiters.end();) {
    Waiter* w = *it;
    if (!(w->key == k1)) {
      ++it;
      continue;
    }
    if (woken < nwake) {
      it = b1.waiters.erase(it);
      w->woken = true;
      w->task->Wake();
      woken++;
    } else if (moved < nrequeue) {
      it = b1.waiters.erase(it);
      w->key = k2;
      w->bucket.store(&b2);
      b2.waiters.push_back(w);
      moved++;
    } else {
      break;
    }
  }
  return woken + moved;
}

ErrorOr<int> Futexes::WakeOp(Task& t, UserAddr addr, UserAddr addr2, bool priv, int nwake,
                             int nwake2, uint32_t op) {
  FutexKey k1 = TRY_ASSIGN(KeyFor(t.mm(), addr, priv));
  FutexKey k2 = TRY_ASSIGN(KeyFor(t.mm(), addr2, priv));
  // Decode FUTEX_OP(op, oparg, cmp, cmparg).
  int opc = (op >> 28) & 0xf;
  int cmp = (op >> 24) & 0xf;
  uint32_t oparg = (op >> 12) & 0xfff;
  uint32_t cmparg = op & 0xfff;
  if (opc & FUTEX_OP_OPARG_SHIFT) {
    if (oparg > 31) return Err(EINVAL);
    oparg = 1u << oparg;
    opc &= ~FUTEX_OP_OPARG_SHIFT;
  }
  // The read-modify-write of *addr2 must be atomic with respect to other
  // Sentry threads doing the same; the bucket lock of k2 provides that for
  // futex users, and the application cannot observe a torn word because
  // the update is a single aligned 4-byte store.
  Bucket& b2 = BucketFor(k2);
  uint32_t old;
  {
    absl::MutexLock l(&b2.mu);
    TRY(t.mm()->CopyIn(addr2, &old, sizeof(old)));
    uint32_t nv;
    switch (opc) {
      case FUTEX_OP_SET: nv = oparg; break;
      case FUTEX_OP_ADD: nv = old + oparg; break;
      case FUTEX_OP_OR: nv = old | oparg; break;
      case FUTEX_OP_ANDN: nv = old & ~oparg; break;
      case FUTEX_OP_XOR: nv = old ^ oparg; break;
      default: return Err(ENOSYS);
    }
    TRY(t.mm()->CopyOut(addr2, &nv, sizeof(nv)));
  }
  bool cond;
  switch (cmp) {
    case FUTEX_OP_CMP_EQ: cond = old == cmparg; break;
    case FUTEX_OP_CMP_NE: cond = old != cmparg; break;
    case FUTEX_OP_CMP_LT: cond = static_cast<int32_t>(old) < static_cast<int32_t>(cmparg); break;
    case FUTEX_OP_CMP_LE: cond = static_cast<int32_t>(old) <= static_cast<int32_t>(cmparg); break;
    case FUTEX_OP_CMP_GT: cond = static_cast<int32_t>(old) > static_cast<int32_t>(cmparg); break;
    case FUTEX_OP_CMP_GE: cond = static_cast<int32_t>(old) >= static_cast<int32_t>(cmparg); break;
    default: return Err(ENOSYS);
  }
  int n = WakeKey(k1, FUTEX_BITSET_MATCH_ANY, nwake);
  if (cond) n += WakeKey(k2, FUTEX_BITSET_MATCH_ANY, nwake2);
  return n;
}

}  // namespace sentry
