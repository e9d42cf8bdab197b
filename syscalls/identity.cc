// Credentials (uids, gids, groups, capabilities), process groups, sessions.
#include <linux/capability.h>

#include <climits>

#include "syscalls/handlers.h"
#include "syscalls/util.h"

namespace sentry::sys {
namespace {

constexpr int kCapSetgid = 6;
constexpr int kCapSetuid = 7;
constexpr int kCapSetpcap = 8;
constexpr uint64_t kAllCaps = (uint64_t{1} << 41) - 1;  // CAP_LAST_CAP 40

// The capability rules of a uid change (capabilities(7), "Effect of user
// ID changes on capabilities").
void FixCaps(vfs::Credentials& c, uint32_t old_r, uint32_t old_e, uint32_t old_s, bool keep) {
  bool was_root = old_r == 0 || old_e == 0 || old_s == 0;
  bool now_root = c.uid == 0 || c.euid == 0 || c.suid == 0;
  if (was_root && !now_root && !keep) {
    c.cap_permitted = 0;
    c.cap_effective = 0;
  }
  if (old_e == 0 && c.euid != 0) c.cap_effective = 0;
  if (old_e != 0 && c.euid == 0) c.cap_effective = c.cap_permitted;
}

bool Keep(uint32_t id) { return id == static_cast<uint32_t>(-1); }

// commit_creds(): a process whose effective or file-system ids change, or
// that gains capabilities, stops being dumpable (suid_dumpable is 0) and
// forgets its parent-death signal.
void Commit(Task& t, const vfs::Credentials& c) {
  vfs::Credentials old = t.creds();
  bool gains_caps = (c.cap_permitted & ~old.cap_permitted) || (c.cap_effective & ~old.cap_effective) ||
                    (c.cap_inheritable & ~old.cap_inheritable);
  if (c.euid != old.euid || c.egid != old.egid || c.fsuid != old.fsuid || c.fsgid != old.fsgid ||
      gains_caps) {
    t.tg()->dumpable.store(0);
    // A changed identity also drops the parent-death signal.
    t.pdeath_signal.store(0);
  }
  t.SetCreds(c);
}

SysRet SetResUid(Task& t, uint32_t r, uint32_t e, uint32_t s, bool setreuid) {
  vfs::Credentials c = t.creds();
  bool priv = c.HasCap(kCapSetuid);
  auto allowed = [&](uint32_t v) { return Keep(v) || priv || v == c.uid || v == c.euid || v == c.suid; };
  if (setreuid) {
    // setreuid: real may become euid; effective any of real/effective/saved.
    if (!Keep(r) && !priv && r != c.uid && r != c.euid) return SysRet::Err(EPERM);
    if (!allowed(e)) return SysRet::Err(EPERM);
  } else if (!allowed(r) || !allowed(e) || !allowed(s)) {
    return SysRet::Err(EPERM);
  }
  uint32_t or_ = c.uid, oe = c.euid, os = c.suid;
  if (!Keep(r)) c.uid = r;
  if (!Keep(e)) c.euid = e;
  if (setreuid) {
    // The saved uid follows the new effective uid when the real uid is set
    // or the effective uid differs from the old real uid.
    if (!Keep(r) || (!Keep(e) && e != or_)) c.suid = c.euid;
  } else if (!Keep(s)) {
    c.suid = s;
  }
  c.fsuid = c.euid;
  FixCaps(c, or_, oe, os, t.keep_caps);
  Commit(t, c);
  return 0;
}

SysRet SetResGid(Task& t, uint32_t r, uint32_t e, uint32_t s, bool setregid) {
  vfs::Credentials c = t.creds();
  bool priv = c.HasCap(kCapSetgid);
  auto allowed = [&](uint32_t v) { return Keep(v) || priv || v == c.gid || v == c.egid || v == c.sgid; };
  if (setregid) {
    if (!Keep(r) && !priv && r != c.gid && r != c.egid) return SysRet::Err(EPERM);
    if (!allowed(e)) return SysRet::Err(EPERM);
  } else if (!allowed(r) || !allowed(e) || !allowed(s)) {
    return SysRet::Err(EPERM);
  }
  uint32_t og = c.gid;
  if (!Keep(r)) c.gid = r;
  if (!Keep(e)) c.egid = e;
  if (setregid) {
    if (!Keep(r) || (!Keep(e) && e != og)) c.sgid = c.egid;
  } else if (!Keep(s)) {
    c.sgid = s;
  }
  c.fsgid = c.egid;
  Commit(t, c);
  return 0;
}

SysRet GetRes(Task& t, uint64_t a, uint64_t b, uint64_t c, uint32_t x, uint32_t y, uint32_t z) {
  TRY(t.CopyOut(UserPtr<uint32_t>(a), x));
  TRY(t.CopyOut(UserPtr<uint32_t>(b), y));
  TRY(t.CopyOut(UserPtr<uint32_t>(c), z));
  return 0;
}

}  // namespace

SysRet Getuid(Task& t, const SyscallArgs& a) { return t.creds().uid; }
SysRet Geteuid(Task& t, const SyscallArgs& a) { return t.creds().euid; }
SysRet Getgid(Task& t, const SyscallArgs& a) { return t.creds().gid; }
SysRet Getegid(Task& t, const SyscallArgs& a) { return t.creds().egid; }

SysRet Setuid(Task& t, const SyscallArgs& a) {
  uint32_t uid = static_cast<uint32_t>(a[0]);
  if (Keep(uid)) return SysRet::Err(EINVAL);
  vfs::Credentials c = t.creds();
  if (c.HasCap(kCapSetuid)) return SetResUid(t, uid, uid, uid, false);
  if (uid != c.uid && uid != c.suid) return SysRet::Err(EPERM);
  return SetResUid(t, static_cast<uint32_t>(-1), uid, static_cast<uint32_t>(-1), false);
}

SysRet Setgid(Task& t, const SyscallArgs& a) {
  uint32_t gid = static_cast<uint32_t>(a[0]);
  if (Keep(gid)) return SysRet::Err(EINVAL);
  vfs::Credentials c = t.creds();
  if (c.HasCap(kCapSetgid)) return SetResGid(t, gid, gid, gid, false);
  if (gid != c.gid && gid != c.sgid) return SysRet::Err(EPERM);
  return SetResGid(t, static_cast<uint32_t>(-1), gid, static_cast<uint32_t>(-1), false);
}

SysRet Setreuid(Task& t, const SyscallArgs& a) {
  return SetResUid(t, static_cast<uint32_t>(a[0]), static_cast<uint32_t>(a[1]),
                   static_cast<uint32_t>(-1), true);
}
SysRet Setregid(Task& t, const SyscallArgs& a) {
  return SetResGid(t, static_cast<uint32_t>(a[0]), static_cast<uint32_t>(a[1]),
                   static_cast<uint32_t>(-1), true);
}
SysRet Setresuid(Task& t, const SyscallArgs& a) {
  return SetResUid(t, static_cast<uint32_t>(a[0]), static_cast<uint32_t>(a[1]),
                   static_cast<uint32_t>(a[2]), false);
}
SysRet Setresgid(Task& t, const SyscallArgs& a) {
  return SetResGid(t, static_cast<uint32_t>(a[0]), static_cast<uint32_t>(a[1]),
                   static_cast<uint32_t>(a[2]), false);
}
SysRet Getresuid(Task& t, const SyscallArgs& a) {
  vfs::Credentials c = t.creds();
  return GetRes(t, a[0], a[1], a[2], c.uid, c.euid, c.suid);
}
SysRet Getresgid(Task& t, const SyscallArgs& a) {
  vfs::Credentials c = t.creds();
  return GetRes(t, a[0], a[1], a[2], c.gid, c.egid, c.sgid);
}

SysRet Setfsuid(Task& t, const SyscallArgs& a) {
  vfs::Credentials c = t.creds();
  uint32_t old = c.fsuid, v = static_cast<uint32_t>(a[0]);
  if (c.HasCap(kCapSetuid) || v == c.uid || v == c.euid || v == c.suid || v == c.fsuid) {
    c.fsuid = v;
    Commit(t, c);
  }
  return old;
}

SysRet Setfsgid(Task& t, const SyscallArgs& a) {
  vfs::Credentials c = t.creds();
  uint32_t old = c.fsgid, v = static_cast<uint32_t>(a[0]);
  if (c.HasCap(kCapSetgid) || v == c.gid || v == c.egid || v == c.sgid || v == c.fsgid) {
    c.fsgid = v;
    Commit(t, c);
  }
  return old;
}

SysRet Getgroups(Task& t, const SyscallArgs& a) {
  int size = static_cast<int>(a[0]);
  vfs::Credentials c = t.creds();
  if (size < 0) return SysRet::Err(EINVAL);
  if (size == 0) return static_cast<int64_t>(c.groups.size());
  if (static_cast<size_t>(size) < c.groups.size()) return SysRet::Err(EINVAL);
  if (!c.groups.empty()) {
    TRY(t.CopyOutBytes(UserAddr(a[1]), c.groups.data(), c.groups.size() * sizeof(uint32_t)));
  }
  return static_cast<int64_t>(c.groups.size());
}

SysRet Setgroups(Task& t, const SyscallArgs& a) {
  int size = static_cast<int>(a[0]);
  if (size < 0 || size > 65536) return SysRet::Err(EINVAL);
  vfs::Credentials c = t.creds();
  if (!c.HasCap(kCapSetgid)) return SysRet::Err(EPERM);
  std::vector<uint32_t> g(static_cast<size_t>(size));
  if (size) TRY(t.CopyInBytes(UserAddr(a[1]), g.data(), g.size() * sizeof(uint32_t)));
  c.groups = std::move(g);
  Commit(t, c);
  return 0;
}

SysRet Capget(Task& t, const SyscallArgs& a) {
  struct __user_cap_header_struct hdr;
  TRY(t.CopyInBytes(UserAddr(a[0]), &hdr, sizeof(hdr)));
  if (hdr.version != _LINUX_CAPABILITY_VERSION_3 && hdr.version != _LINUX_CAPABILITY_VERSION_2 &&
      hdr.version != _LINUX_CAPABILITY_VERSION_1) {
    hdr.version = _LINUX_CAPABILITY_VERSION_3;
    TRY(t.CopyOutBytes(UserAddr(a[0]), &hdr, sizeof(hdr)));
    return a[1] == 0 ? SysRet(0) : SysRet::Err(EINVAL);
  }
  if (hdr.pid < 0) return SysRet::Err(EINVAL);
  std::shared_ptr<Task> other;
  vfs::Credentials c = t.creds();
  if (hdr.pid != 0 && hdr.pid != t.tid()) {
    other = t.kernel().TaskByTid(hdr.pid);
    if (!other) return SysRet::Err(ESRCH);
    c = other->creds();
  }
  if (a[1] == 0) return 0;
  int words = hdr.version == _LINUX_CAPABILITY_VERSION_1 ? 1 : 2;
  struct __user_cap_data_struct d[2] = {};
  uint64_t eff = c.cap_effective & kAllCaps, perm = c.cap_permitted & kAllCaps,
           inh = c.cap_inheritable & kAllCaps;
  for (int i = 0; i < words; i++) {
    d[i].effective = static_cast<uint32_t>(eff >> (32 * i));
    d[i].permitted = static_cast<uint32_t>(perm >> (32 * i));
    d[i].inheritable = static_cast<uint32_t>(inh >> (32 * i));
  }
  TRY(t.CopyOutBytes(UserAddr(a[1]), d, static_cast<size_t>(words) * sizeof(d[0])));
  return 0;
}

SysRet Capset(Task& t, const SyscallArgs& a) {
  struct __user_cap_header_struct hdr;
  TRY(t.CopyInBytes(UserAddr(a[0]), &hdr, sizeof(hdr)));
  if (hdr.version != _LINUX_CAPABILITY_VERSION_3 && hdr.version != _LINUX_CAPABILITY_VERSION_2 &&
      hdr.version != _LINUX_CAPABILITY_VERSION_1) {
    return SysRet::Err(EINVAL);
  }
  if (hdr.pid != 0 && hdr.pid != t.tid()) return SysRet::Err(EPERM);
  int words = hdr.version == _LINUX_CAPABILITY_VERSION_1 ? 1 : 2;
  struct __user_cap_data_struct d[2] = {};
  TRY(t.CopyInBytes(UserAddr(a[1]), d, static_cast<size_t>(words) * sizeof(d[0])));
  uint64_t eff = 0, perm = 0, inh = 0;
  for (int i = 0; i < words; i++) {
    eff |= uint64_t{d[i].effective} << (32 * i);
    perm |= uint64_t{d[i].permitted} << (32 * i);
    inh |= uint64_t{d[i].inheritable} << (32 * i);
  }
  vfs::Credentials c = t.creds();
  // Permitted may only shrink; effective must stay within permitted.
  if (perm & ~c.cap_permitted) return SysRet::Err(EPERM);
  if (eff & ~perm) return SysRet::Err(EPERM);
  if ((inh & ~(c.cap_inheritable | c.cap_permitted)) && !c.HasCap(kCapSetpcap)) {
    return SysRet::Err(EPERM);
  }
  c.cap_effective = eff;
  c.cap_permitted = perm;
  c.cap_inheritable = inh;
  Commit(t, c);
  return 0;
}

SysRet Getpgid(Task& t, const SyscallArgs& a) {
  int32_t pid = static_cast<int32_t>(a[0]);
  Kernel& k = t.kernel();
  std::shared_ptr<ThreadGroup> g = pid == 0 ? t.tg_ptr() : k.GroupByTgid(pid);
  if (!g) return SysRet::Err(ESRCH);
  absl::MutexLock l(&k.tasks_mu_);
  return g->pgrp ? g->pgrp->pgid : 0;
}

SysRet Getpgrp(Task& t, const SyscallArgs& a) { return Getpgid(t, SyscallArgs{{0}}); }

SysRet Getsid(Task& t, const SyscallArgs& a) {
  int32_t pid = static_cast<int32_t>(a[0]);
  Kernel& k = t.kernel();
  std::shared_ptr<ThreadGroup> keep = pid == 0 ? t.tg_ptr() : k.GroupByTgid(pid);
  if (!keep) return SysRet::Err(ESRCH);
  absl::MutexLock l(&k.tasks_mu_);
  return keep->pgrp ? keep->pgrp->session->sid : 0;
}

SysRet Setsid(Task& t, const SyscallArgs& a) {
  Kernel& k = t.kernel();
  absl::MutexLock l(&k.tasks_mu_);
  ThreadGroup* g = t.tg();
  // A process group leader cannot start a session (its pgid is taken).
  if (k.FindProcessGroupLocked(g->tgid()) != nullptr) return SysRet::Err(EPERM);
  Session* s = k.CreateSessionLocked(g->tgid());
  k.JoinProcessGroupLocked(g, k.CreateProcessGroupLocked(g->tgid(), s));
  g->tty.reset();  // a new session starts without a controlling terminal
  return g->tgid();
}

SysRet Setpgid(Task& t, const SyscallArgs& a) {
  int32_t pid = static_cast<int32_t>(a[0]);
  int32_t pgid = static_cast<int32_t>(a[1]);
  // setpgid(): 0 means the caller, a pgid of 0 the target's pid.
  if (pid == 0) pid = t.tgid();
  if (pgid == 0) pgid = pid;
  if (pgid < 0) return SysRet::Err(EINVAL);
  Kernel& k = t.kernel();
  absl::MutexLock l(&k.tasks_mu_);
  Task* target = k.TaskByTidLocked(pid);
  if (target == nullptr) return SysRet::Err(ESRCH);
  ThreadGroup* g = target->tg();
  if (!target->IsLeader()) return SysRet::Err(EINVAL);
  ThreadGroup* self = t.tg();
  if (g->parent == self) {
    // A child: same session, and not after it exec'd.
    if (g->pgrp == nullptr || self->pgrp == nullptr ||
        g->pgrp->session != self->pgrp->session) {
      return SysRet::Err(EPERM);
    }
    if (g->execed) return SysRet::Err(EACCES);
  } else if (g != self) {
    return SysRet::Err(ESRCH);
  }
  if (g->pgrp == nullptr || self->pgrp == nullptr) return SysRet::Err(EPERM);
  Session* sess = self->pgrp->session;
  if (sess->sid == g->tgid()) return SysRet::Err(EPERM);  // a session leader stays put
  ProcessGroup* pg = k.FindProcessGroupLocked(pgid);
  if (pgid != g->tgid() && (pg == nullptr || pg->session != sess)) return SysRet::Err(EPERM);
  if (pg == nullptr) pg = k.CreateProcessGroupLocked(pgid, sess);
  k.JoinProcessGroupLocked(g, pg);
  return 0;
}

}  // namespace sentry::sys
