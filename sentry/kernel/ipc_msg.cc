#include "sentry/kernel/ipc_msg.h"

#include <linux/capability.h>
#include <sys/stat.h>
#include <time.h>

#include <algorithm>
#include <cstring>

namespace sentry {
namespace {

constexpr int kSeqMultiplier = 32768;
constexpr int kMsgmni = 32000;
constexpr size_t kMsgmax = 8192;   // largest message
constexpr size_t kMsgmnb = 16384;  // default queue size in bytes

int64_t NowSec() { return static_cast<int64_t>(time(nullptr)); }

}  // namespace

MsgRegistry::Queue* MsgRegistry::FindLocked(int id) {
  if (id < 0) return nullptr;
  auto it = queues_.find(id % kSeqMultiplier);
  if (it == queues_.end() || it->second.id != id) return nullptr;
  return &it->second;
}

ErrorOr<int> MsgRegistry::Get(const Caller& c, key_t key, int flags) {
  absl::MutexLock l(&mu_);
  if (key != IPC_PRIVATE) {
    for (auto& [idx, q] : queues_) {
      if (q.key != key) continue;
      if ((flags & IPC_CREAT) && (flags & IPC_EXCL)) return Err(EEXIST);
      TRY(IpcAccess(c, q.perm, flags & 0777));
      return q.id;
    }
    if (!(flags & IPC_CREAT)) return Err(ENOENT);
  }
  if (static_cast<int>(queues_.size()) >= kMsgmni) return Err(ENOSPC);
  int index = 0;
  while (queues_.count(index)) ++index;
  Queue q;
  q.id = static_cast<int>(seq_ % 65536) * kSeqMultiplier + index;
  ++seq_;
  q.key = key;
  q.perm.__key = key;
  q.perm.uid = q.perm.cuid = c.creds.euid;
  q.perm.gid = q.perm.cgid = c.creds.egid;
  q.perm.mode = static_cast<unsigned short>(flags & 0777);
  q.perm.__seq = static_cast<unsigned short>(q.id / kSeqMultiplier);
  q.ctime = NowSec();
  int id = q.id;
  queues_[index] = std::move(q);
  return id;
}

Errno MsgRegistry::TrySend(const Caller& c, int id, Message m, std::shared_ptr<WaitQueue>* wq) {
  std::shared_ptr<WaitQueue> notify;
  {
    absl::MutexLock l(&mu_);
    Queue* q = FindLocked(id);
    if (q == nullptr) return EINVAL;
    TRY(IpcAccess(c, q->perm, S_IWUSR));
    *wq = q->wq;
    // Full by bytes, or by count (each message counts at least one byte).
    if (q->bytes + m.text.size() > q->qbytes || q->msgs.size() + 1 > q->qbytes) return EAGAIN;
    q->bytes += m.text.size();
    q->msgs.push_back(std::move(m));
    q->lspid = c.pid;
    q->stime = NowSec();
    notify = q->wq;
  }
  notify->Notify(kEventAll);
  return 0;
}

ErrorOr<MsgRegistry::Message> MsgRegistry::TryReceive(const Caller& c, int id, long type,
                                                      size_t max, int flags,
                                                      std::shared_ptr<WaitQueue>* wq) {
  Message out;
  std::shared_ptr<WaitQueue> notify;
  {
    absl::MutexLock l(&mu_);
    Queue* q = FindLocked(id);
    if (q == nullptr) return Err(EINVAL);
    TRY(IpcAccess(c, q->perm, S_IRUSR));
    *wq = q->wq;
    auto pick = q->msgs.end();
    if (flags & MSG_COPY) {
      // MSG_COPY: `type` is the position of the message to copy.
      if (type < 0 || static_cast<size_t>(type) >= q->msgs.size()) return Err(ENOMSG);
      pick = q->msgs.begin() + type;
    } else if (type == 0) {
      pick = q->msgs.begin();
    } else if (type > 0) {
      bool except = flags & MSG_EXCEPT;
      pick = std::find_if(q->msgs.begin(), q->msgs.end(),
                          [&](const Message& m) { return except ? m.type != type : m.type == type; });
    } else {
      // The lowest type not above -type, the first of them.
      for (auto it = q->msgs.begin(); it != q->msgs.end(); ++it) {
        if (it->type <= -type && (pick == q->msgs.end() || it->type < pick->type)) pick = it;
      }
    }
    if (pick == q->msgs.end()) return Err(EAGAIN);
    if (pick->text.size() > max && !(flags & MSG_NOERROR)) return Err(E2BIG);
    out = *pick;
    if (out.text.size() > max) out.text.resize(max);
    if (!(flags & MSG_COPY)) {
      q->bytes -= pick->text.size();
      q->msgs.erase(pick);
      q->lrpid = c.pid;
      q->rtime = NowSec();
      notify = q->wq;
    }
  }
  if (notify) notify->Notify(kEventAll);
  return out;
}

ErrorOr<int> MsgRegistry::Stat(const Caller& c, int id_or_index, int cmd, struct msqid_ds* out) {
  absl::MutexLock l(&mu_);
  Queue* q = nullptr;
  if (cmd == IPC_STAT) {
    q = FindLocked(id_or_index);
  } else {
    auto it = queues_.find(id_or_index);
    if (it != queues_.end()) q = &it->second;
  }
  if (q == nullptr) return Err(EINVAL);
  if (cmd != MSG_STAT_ANY) TRY(IpcAccess(c, q->perm, S_IRUSR));
  memset(out, 0, sizeof(*out));
  out->msg_perm = q->perm;
  out->msg_perm.__key = q->key;
  out->msg_stime = q->stime;
  out->msg_rtime = q->rtime;
  out->msg_ctime = q->ctime;
  out->__msg_cbytes = q->bytes;
  out->msg_qnum = q->msgs.size();
  out->msg_qbytes = q->qbytes;
  out->msg_lspid = q->lspid;
  out->msg_lrpid = q->lrpid;
  return cmd == IPC_STAT ? 0 : q->id;
}

Errno MsgRegistry::Set(const Caller& c, int id, const struct msqid_ds& in) {
  std::shared_ptr<WaitQueue> wq;
  {
    absl::MutexLock l(&mu_);
    Queue* q = FindLocked(id);
    if (q == nullptr) return EINVAL;
    if (!IpcOwner(c, q->perm)) return EPERM;
    if (in.msg_qbytes > kMsgmnb && !c.creds.HasCap(CAP_SYS_RESOURCE)) return EPERM;
    q->qbytes = in.msg_qbytes;
    q->perm.uid = in.msg_perm.uid;
    q->perm.gid = in.msg_perm.gid;
    q->perm.mode = static_cast<unsigned short>((q->perm.mode & ~0777) | (in.msg_perm.mode & 0777));
    q->ctime = NowSec();
    wq = q->wq;  // a larger queue may let senders in
  }
  wq->Notify(kEventAll);
  return 0;
}

Errno MsgRegistry::Remove(const Caller& c, int id) {
  std::shared_ptr<WaitQueue> wq;
  {
    absl::MutexLock l(&mu_);
    Queue* q = FindLocked(id);
    if (q == nullptr) return EINVAL;
    if (!IpcOwner(c, q->perm)) return EPERM;
    wq = q->wq;
    queues_.erase(id % kSeqMultiplier);
  }
  wq->Notify(kEventAll);  // sleepers find it gone: EIDRM
  return 0;
}

int MsgRegistry::Info(struct msginfo* info, bool usage) {
  absl::MutexLock l(&mu_);
  memset(info, 0, sizeof(*info));
  info->msgmax = kMsgmax;
  info->msgmnb = kMsgmnb;
  info->msgmni = kMsgmni;
  info->msgssz = 16;
  info->msgseg = 0xffff;
  info->msgpool = kMsgmni * static_cast<int>(kMsgmnb) / 1024;
  info->msgmap = kMsgmnb;
  info->msgtql = kMsgmnb;
  if (usage) {
    // MSG_INFO: queues in use, messages and bytes queued.
    info->msgpool = static_cast<int>(queues_.size());
    int n = 0, b = 0;
    for (const auto& [i, q] : queues_) {
      n += static_cast<int>(q.msgs.size());
      b += static_cast<int>(q.bytes);
    }
    info->msgmap = n;
    info->msgtql = b;
  }
  return queues_.empty() ? 0 : queues_.rbegin()->first;
}

}  // namespace sentry
