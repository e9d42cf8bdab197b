// The open ends of a pipe or FIFO: one FileDescription type for the ends
// pipe(2) makes, for FIFO opens and for reopens through /proc/<pid>/fd.
#include <poll.h>
#include <sys/ioctl.h>

#include "absl/strings/str_format.h"
#include "fs/pipe/pipe.h"
#include "sentry/kernel/task.h"

namespace sentry::vfs {
namespace {

class PipeEnd : public FileDescription {
 public:
  PipeEnd(std::shared_ptr<Pipe> p, uint32_t flags, uint64_t seen_writers, bool named,
          std::function<void()> on_close)
      : p_(std::move(p)),
        read_((flags & O_ACCMODE) != O_WRONLY),
        write_((flags & O_ACCMODE) != O_RDONLY),
        seen_writers_(seen_writers),
        named_(named),
        on_close_(std::move(on_close)) {}
  ~PipeEnd() override {
    p_->CloseEnd(read_, write_);
    p_.reset();
    if (on_close_) on_close_();
  }
  SysRet Read(Task*, IOSequence& dst) override { return p_->Read(dst); }
  // Packet mode is the writing file's O_DIRECT, as Linux's is_packetized().
  SysRet Write(Task*, IOSequence& src) override { return p_->Write(src, flags() & O_DIRECT); }
  SysRet PRead(Task*, IOSequence&, int64_t) override { return SysRet::Err(ESPIPE); }
  SysRet PWrite(Task*, IOSequence&, int64_t) override { return SysRet::Err(ESPIPE); }
  ErrorOr<int64_t> Seek(int64_t, int) override { return Err(ESPIPE); }
  bool seekable() const override { return false; }
  // A FIFO's fstat is its inode's; an anonymous pipe's is pipefs's.
  ErrorOr<Attr> Stat() override { return named_ ? FileDescription::Stat() : p_->GetAttr(); }
  uint32_t Readiness(uint32_t mask) override {
    return p_->Readiness(read_, write_, seen_writers_, mask);
  }
  void EventRegister(Waiter* w, uint32_t mask) override { p_->Register(w, mask); }
  void EventUnregister(Waiter* w) override { p_->Unregister(w); }
  std::string AnonName() const override {
    return named_ ? "" : absl::StrFormat("pipe:[%d]", p_->ino());
  }
  SysRet Ioctl(Task* t, uint32_t cmd, uint64_t arg) override {
    // pipe_ioctl answers FIONREAD on either end.
    if (cmd == FIONREAD && t != nullptr) {
      int n = static_cast<int>(p_->Queued());
      TRY(t->CopyOut(UserPtr<int>(arg), n));
      return 0;
    }
    return SysRet::Err(ENOTTY);
  }
  const std::shared_ptr<Pipe>& pipe() const { return p_; }

 private:
  std::shared_ptr<Pipe> p_;
  const bool read_, write_;
  const uint64_t seen_writers_;
  const bool named_;
  const std::function<void()> on_close_;
};

}  // namespace

std::shared_ptr<FileDescription> NewPipeEnd(std::shared_ptr<Pipe> p, uint32_t flags,
                                            uint64_t seen_writers, bool named,
                                            std::function<void()> on_close) {
  return std::make_shared<PipeEnd>(std::move(p), flags, seen_writers, named, std::move(on_close));
}

Pipe* AsPipe(FileDescription* f) {
  auto* e = dynamic_cast<PipeEnd*>(f);
  return e ? e->pipe().get() : nullptr;
}

std::shared_ptr<Pipe> SharedPipe(FileDescription* f) {
  auto* e = dynamic_cast<PipeEnd*>(f);
  return e ? e->pipe() : nullptr;
}

}  // namespace sentry::vfs
