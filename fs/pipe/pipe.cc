#include "fs/pipe/pipe.h"

#include <poll.h>
#include <sys/ioctl.h>

#include <cstring>

#include "absl/strings/str_format.h"
#include "sentry/kernel/task.h"

namespace sentry::vfs {
namespace {

// Anonymous pipes all live on one pseudo file system (pipefs).
class PipeFs : public Filesystem {
 public:
  std::string_view Name() const override { return "pipefs"; }
};
PipeFs& ThePipeFs() {
  static PipeFs* fs = new PipeFs();
  return *fs;
}

class PipeEnd : public FileDescription {
 public:
  PipeEnd(std::shared_ptr<Pipe> p, bool read_end) : p_(std::move(p)), read_end_(read_end) {
    if (read_end_) {
      p_->AddReader();
    } else {
      p_->AddWriter();
    }
  }
  ~PipeEnd() override {
    if (read_end_) {
      p_->RemoveReader();
    } else {
      p_->RemoveWriter();
    }
  }
  SysRet Read(Task*, IOSequence& dst) override { return p_->Read(dst); }
  SysRet Write(Task*, IOSequence& src) override { return p_->Write(src); }
  SysRet PRead(Task*, IOSequence&, int64_t) override { return SysRet::Err(ESPIPE); }
  SysRet PWrite(Task*, IOSequence&, int64_t) override { return SysRet::Err(ESPIPE); }
  ErrorOr<int64_t> Seek(int64_t, int) override { return Err(ESPIPE); }
  bool seekable() const override { return false; }
  ErrorOr<Attr> Stat() override { return p_->GetAttr(); }
  uint32_t Readiness(uint32_t mask) override { return p_->Readiness(read_end_, mask); }
  void EventRegister(Waiter* w, uint32_t mask) override { p_->Register(w, mask); }
  void EventUnregister(Waiter* w) override { p_->Unregister(w); }
  std::string AnonName() const override { return absl::StrFormat("pipe:[%d]", p_->ino()); }
  SysRet Ioctl(Task* t, uint32_t cmd, uint64_t arg) override {
    if (cmd == FIONREAD && t != nullptr) {
      int n = static_cast<int>(read_end_ ? p_->Queued() : 0);
      TRY(t->CopyOut(UserPtr<int>(arg), n));
      return 0;
    }
    return SysRet::Err(ENOTTY);
  }
  Pipe* pipe() const { return p_.get(); }
  const std::shared_ptr<Pipe>& pipe_ptr() const { return p_; }

 private:
  std::shared_ptr<Pipe> p_;
  const bool read_end_;
};

}  // namespace

Pipe* AsPipe(FileDescription* f) {
  auto* e = dynamic_cast<PipeEnd*>(f);
  return e ? e->pipe() : nullptr;
}

std::shared_ptr<Pipe> SharedPipe(FileDescription* f) {
  auto* e = dynamic_cast<PipeEnd*>(f);
  return e ? e->pipe_ptr() : nullptr;
}

Pipe::Pipe(uint32_t uid, uint32_t gid)
    : buf_(kDefaultPipeSize), ino_(NextInodeNumber()), uid_(uid), gid_(gid), created_(Now()) {}

std::pair<std::shared_ptr<FileDescription>, std::shared_ptr<FileDescription>> Pipe::NewPair(
    uint32_t flags, uint32_t uid, uint32_t gid) {
  auto p = std::make_shared<Pipe>(uid, gid);
  auto r = std::make_shared<PipeEnd>(p, true);
  auto w = std::make_shared<PipeEnd>(p, false);
  uint32_t status = flags & (O_NONBLOCK | O_DIRECT);
  r->Init(VirtualDentry{}, O_RDONLY | status);
  w->Init(VirtualDentry{}, O_WRONLY | status);
  return {r, w};
}

SysRet Pipe::Read(IOSequence& dst) {
  size_t want = dst.remaining();
  size_t done = 0;
  {
    absl::MutexLock l(&mu_);
    if (want == 0) return 0;
    if (size_ == 0) return writers_ == 0 ? SysRet(0) : SysRet::Err(EAGAIN);
    size_t n = std::min(want, size_);
    size_t cap = buf_.size();
    while (done < n) {
      size_t chunk = std::min(n - done, cap - head_);
      auto r = dst.CopyOut(buf_.data() + head_, chunk);
      if (!r.ok()) {
        if (done == 0) return SysRet::Err(r.error());
        break;
      }
      done += *r;
      head_ = (head_ + *r) % cap;
      size_ -= *r;
      if (*r < chunk) break;
    }
  }
  wq_.Notify(POLLOUT | POLLWRNORM);
  return static_cast<int64_t>(done);
}

SysRet Pipe::Write(IOSequence& src) {
  size_t want = src.remaining();
  size_t done = 0;
  {
    absl::MutexLock l(&mu_);
    if (readers_ == 0) return SysRet::Err(EPIPE);
    if (want == 0) return 0;
    size_t cap = buf_.size();
    size_t room = cap - size_;
    // Up to PIPE_BUF bytes go in at once or not at all.
    if (room == 0 || (want <= kPipeBuf && room < want)) return SysRet::Err(EAGAIN);
    size_t n = std::min(want, room);
    while (done < n) {
      size_t tail = (head_ + size_) % cap;
      size_t chunk = std::min(n - done, cap - tail);
      auto r = src.CopyIn(buf_.data() + tail, chunk);
      if (!r.ok()) {
        if (done == 0) return SysRet::Err(r.error());
        break;
      }
      done += *r;
      size_ += *r;
      if (*r < chunk) break;
    }
  }
  wq_.Notify(POLLIN | POLLRDNORM);
  return static_cast<int64_t>(done);
}

uint32_t Pipe::Readiness(bool read_end, uint32_t mask) {
  absl::MutexLock l(&mu_);
  uint32_t r = 0;
  if (read_end) {
    if (size_ > 0) r |= POLLIN | POLLRDNORM;
    if (writers_ == 0 && had_writer_) r |= POLLHUP;
  } else {
    if (buf_.size() - size_ >= kPipeBuf || (buf_.size() - size_ > 0 && buf_.size() < kPipeBuf)) {
      r |= POLLOUT | POLLWRNORM;
    }
    if (readers_ == 0) r |= POLLERR;
  }
  return r & (mask | POLLHUP | POLLERR);
}

void Pipe::AddReader() {
  absl::MutexLock l(&mu_);
  readers_++;
}
void Pipe::AddWriter() {
  absl::MutexLock l(&mu_);
  writers_++;
  had_writer_ = true;
}
void Pipe::RemoveReader() {
  {
    absl::MutexLock l(&mu_);
    readers_--;
  }
  wq_.Notify(POLLOUT | POLLERR | POLLWRNORM);
}
void Pipe::RemoveWriter() {
  {
    absl::MutexLock l(&mu_);
    writers_--;
  }
  wq_.Notify(POLLIN | POLLHUP | POLLRDNORM);
}

size_t Pipe::Queued() {
  absl::MutexLock l(&mu_);
  return size_;
}
size_t Pipe::Capacity() {
  absl::MutexLock l(&mu_);
  return buf_.size();
}

ErrorOr<size_t> Pipe::SetCapacity(size_t n) {
  if (n > (1u << 20)) return Err(EPERM);  // /proc/sys/fs/pipe-max-size
  size_t cap = 4096;
  while (cap < n) cap <<= 1;
  absl::MutexLock l(&mu_);
  if (size_ > cap) return Err(EBUSY);
  std::vector<uint8_t> nb(cap);
  for (size_t i = 0; i < size_; i++) nb[i] = buf_[(head_ + i) % buf_.size()];
  buf_ = std::move(nb);
  head_ = 0;
  return cap;
}

Attr Pipe::GetAttr() {
  Attr a;
  a.dev = ThePipeFs().dev();
  a.ino = ino_;
  a.mode = S_IFIFO | 0600;
  a.nlink = 1;
  a.uid = uid_;
  a.gid = gid_;
  a.blksize = 4096;
  a.atime = a.mtime = a.ctime = a.btime = created_;
  return a;
}

}  // namespace sentry::vfs
