// The ptrace platform on its own: run hand-made machine code in a stub
// address space and check each kind of stop.
#include <sys/mman.h>
#include <sys/syscall.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "gtest/gtest.h"
#include "platform/platform.h"
#include "sentry/mm/memory_file.h"

namespace sentry {
namespace {

class PtracePlatformTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mf = MemoryFile::Create(1ull << 30);
    ASSERT_TRUE(mf.ok()) << mf.status();
    mf_ = std::move(*mf);
    auto p = CreatePlatform("ptrace", mf_.get());
    ASSERT_TRUE(p.ok()) << p.status();
    platform_ = std::move(*p);
    auto as = platform_->NewAddressSpace();
    ASSERT_TRUE(as.ok());
    as_ = std::move(*as);
    ctx_ = platform_->NewContext();
  }
  void TearDown() override {
    if (ctx_) ctx_->Release();
    ctx_.reset();
    as_.reset();
    platform_.reset();
  }

  // Maps `code` at kCode (r-x) and a zeroed page at kData (rw-).
  void Load(const std::vector<uint8_t>& code) {
    auto off = mf_->Allocate(2 * kPageSize);
    ASSERT_TRUE(off.ok());
    memcpy(mf_->Internal(*off), code.data(), code.size());
    as_->MapFile(UserAddr(kCode), *off, kPageSize, PROT_READ | PROT_EXEC);
    as_->MapFile(UserAddr(kData), *off + kPageSize, kPageSize, PROT_READ | PROT_WRITE);
    ac_.ResetForExec(kCode, kData + kPageSize);
  }

  static constexpr uint64_t kCode = 0x400000, kData = 0x600000;
  std::unique_ptr<MemoryFile> mf_;
  std::unique_ptr<Platform> platform_;
  std::unique_ptr<AddressSpace> as_;
  std::unique_ptr<Context> ctx_;
  ArchContext ac_;
};

TEST_F(PtracePlatformTest, SyscallsStopBeforeRunning) {
  // mov $39,%eax; syscall; mov %rax,%rdi; mov $60,%eax; syscall
  Load({0xb8, 39, 0, 0, 0, 0x0f, 0x05, 0x48, 0x89, 0xc7, 0xb8, 60, 0, 0, 0, 0x0f, 0x05});
  SwitchResult r = ctx_->Switch(as_.get(), ac_);
  ASSERT_EQ(r.reason, StopReason::kSyscall);
  EXPECT_EQ(ac_.regs.orig_rax, 39u);
  ac_.regs.rax = 4242;  // the "result" of getpid
  r = ctx_->Switch(as_.get(), ac_);
  ASSERT_EQ(r.reason, StopReason::kSyscall);
  EXPECT_EQ(ac_.regs.orig_rax, 60u);
  EXPECT_EQ(ac_.regs.rdi, 4242u);
}

TEST_F(PtracePlatformTest, FaultReportsAddress) {
  // mov 0x1234, %rax (absolute load from an unmapped page)
  Load({0x48, 0x8b, 0x04, 0x25, 0x34, 0x12, 0, 0});
  SwitchResult r = ctx_->Switch(as_.get(), ac_);
  ASSERT_EQ(r.reason, StopReason::kFault);
  EXPECT_EQ(r.fault_addr, 0x1234u);
}

TEST_F(PtracePlatformTest, WriteToReadOnlyFaults) {
  // movb $1, (kCode): code page is read-only
  Load({0xc6, 0x04, 0x25, 0x00, 0x00, 0x40, 0x00, 0x01});
  SwitchResult r = ctx_->Switch(as_.get(), ac_);
  ASSERT_EQ(r.reason, StopReason::kFault) << static_cast<int>(r.reason) << " sig " << r.info.si_signo << " code " << r.info.si_code;
  EXPECT_EQ(r.fault_addr, kCode);
}

TEST_F(PtracePlatformTest, Int3IsASignal) {
  Load({0xcc});
  SwitchResult r = ctx_->Switch(as_.get(), ac_);
  ASSERT_EQ(r.reason, StopReason::kSignal);
  EXPECT_EQ(r.info.si_signo, SIGTRAP);
}

TEST_F(PtracePlatformTest, InterruptStopsALoop) {
  Load({0xeb, 0xfe});  // jmp .
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    ctx_->Interrupt();
  });
  SwitchResult r = ctx_->Switch(as_.get(), ac_);
  t.join();
  EXPECT_EQ(r.reason, StopReason::kInterrupted);
  EXPECT_EQ(ac_.regs.rip, kCode);
}

TEST_F(PtracePlatformTest, SiblingThreadRunsInSameSpace) {
  // Thread 1 stores 7 to kData then makes a syscall; thread 2 reads it.
  // movq $7, kData; mov $39,%eax; syscall
  std::vector<uint8_t> code = {0x48, 0xc7, 0x04, 0x25, 0x00, 0x00, 0x60, 0x00, 0x07, 0, 0, 0,
                               0xb8, 39, 0, 0, 0, 0x0f, 0x05};
  // at +32: mov kData, %rdi; mov $60,%eax; syscall
  code.resize(32, 0x90);
  for (uint8_t b : {0x48, 0x8b, 0x3c, 0x25, 0x00, 0x00, 0x60, 0x00, 0xb8, 60, 0, 0, 0, 0x0f, 0x05})
    code.push_back(b);
  Load(code);
  ASSERT_EQ(ctx_->Switch(as_.get(), ac_).reason, StopReason::kSyscall);
  auto child = platform_->NewContext();
  ASSERT_EQ(ctx_->PrepareSibling(as_.get(), *child), 0);
  std::thread t([&] {
    ArchContext ac2;
    ac2.ResetForExec(kCode + 32, kData + kPageSize);
    SwitchResult r = child->Switch(as_.get(), ac2);
    EXPECT_EQ(r.reason, StopReason::kSyscall);
    EXPECT_EQ(ac2.regs.orig_rax, 60u);
    EXPECT_EQ(ac2.regs.rdi, 7u);
    child->Release();
  });
  t.join();
}

TEST_F(PtracePlatformTest, FpStateRoundTrips) {
  // movsd (kData), %xmm0 is not needed: set xmm0 via the FP state and read
  // it back after running a syscall.
  Load({0xb8, 39, 0, 0, 0, 0x0f, 0x05});
  ctx_->PullFpState(ac_);
  ac_.fp.data()[160] = 0xab;  // low byte of XMM0 in the FXSAVE area
  ac_.fp_dirty = true;
  ASSERT_EQ(ctx_->Switch(as_.get(), ac_).reason, StopReason::kSyscall);
  ArchContext copy;
  copy.fp_valid = false;
  ctx_->PullFpState(copy);
  EXPECT_EQ(copy.fp.data()[160], 0xab);
}

}  // namespace
}  // namespace sentry
