// MemoryManager without a platform: VMAs, PMAs, copy-in/out, COW fork.
#include "sentry/mm/mm.h"

#include <cstring>

#include "gtest/gtest.h"

namespace sentry {
namespace {

class MmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto mf = MemoryFile::Create(1ull << 30);
    ASSERT_TRUE(mf.ok());
    mf_ = std::move(*mf);
    mm_ = std::make_shared<MemoryManager>(nullptr, mf_.get());
    mm_->SetMmapBase(0x7f0000000000);
  }
  UserAddr Map(uint64_t len, int prot = PROT_READ | PROT_WRITE, uint64_t fixed = 0) {
    MMapOpts o;
    o.length = len;
    o.prot = prot;
    if (fixed) {
      o.fixed = true;
      o.addr = UserAddr(fixed);
    }
    auto r = mm_->MMap(o);
    EXPECT_TRUE(r.ok()) << r.error();
    return r.ok() ? *r : UserAddr();
  }
  std::unique_ptr<MemoryFile> mf_;
  std::shared_ptr<MemoryManager> mm_;
};

TEST_F(MmTest, FreshAnonymousMemoryIsZeroAndWritable) {
  UserAddr a = Map(3 * kPageSize);
  uint64_t v = 1;
  ASSERT_EQ(mm_->CopyIn(a + 8, &v, sizeof(v)), 0);
  EXPECT_EQ(v, 0u);
  v = 0x1122334455667788;
  ASSERT_EQ(mm_->CopyOut(a + 2 * kPageSize - 4, &v, sizeof(v)), 0);  // spans two pages
  uint64_t w = 0;
  ASSERT_EQ(mm_->CopyIn(a + 2 * kPageSize - 4, &w, sizeof(w)), 0);
  EXPECT_EQ(w, v);
}

TEST_F(MmTest, UnmappedAndNonCanonicalAddressesFault) {
  char c;
  EXPECT_EQ(mm_->CopyIn(UserAddr(0x1000), &c, 1), EFAULT);
  EXPECT_EQ(mm_->CopyIn(UserAddr(0x800000000000ull), &c, 1), EFAULT);
  EXPECT_EQ(mm_->CopyIn(UserAddr(0xffff800000000000ull), &c, 1), EFAULT);
  EXPECT_EQ(mm_->CopyOut(UserAddr(~0ull - 3), &c, 1), EFAULT);
}

TEST_F(MmTest, PartialCopyStopsAtHole) {
  UserAddr a = Map(kPageSize, PROT_READ | PROT_WRITE, 0x10000000);
  char buf[64] = {};
  EXPECT_EQ(mm_->CopyOutPartial(a + kPageSize - 16, buf, sizeof(buf)), 16u);
}

TEST_F(MmTest, ReadOnlyMemoryRejectsCopyOut) {
  UserAddr a = Map(kPageSize, PROT_READ);
  char c = 1;
  EXPECT_EQ(mm_->CopyOut(a, &c, 1), EFAULT);
  EXPECT_EQ(mm_->CopyIn(a, &c, 1), 0);
  ASSERT_EQ(mm_->MProtect(a, kPageSize, PROT_NONE), 0);
  EXPECT_EQ(mm_->CopyIn(a, &c, 1), EFAULT);
}

TEST_F(MmTest, MunmapDropsMemoryAndMapFixedReplaces) {
  UserAddr a = Map(2 * kPageSize);
  int v = 7;
  ASSERT_EQ(mm_->CopyOut(a, &v, sizeof(v)), 0);
  ASSERT_EQ(mm_->MUnmap(a, kPageSize), 0);
  EXPECT_EQ(mm_->CopyIn(a, &v, sizeof(v)), EFAULT);
  Map(kPageSize, PROT_READ | PROT_WRITE, a.value());
  ASSERT_EQ(mm_->CopyIn(a, &v, sizeof(v)), 0);
  EXPECT_EQ(v, 0);  // fresh memory, not the old page
}

TEST_F(MmTest, MunmapRejectsUnaligned) {
  EXPECT_EQ(mm_->MUnmap(UserAddr(0x1001), kPageSize), EINVAL);
  EXPECT_EQ(mm_->MUnmap(UserAddr(0x1000), 0), EINVAL);
}

TEST_F(MmTest, MprotectOfUnmappedIsEnomem) {
  EXPECT_EQ(mm_->MProtect(UserAddr(0x20000000), kPageSize, PROT_READ), ENOMEM);
  EXPECT_EQ(mm_->MProtect(UserAddr(0x20000001), kPageSize, PROT_READ), EINVAL);
}

TEST_F(MmTest, MapFixedNoReplaceFailsOnOverlap) {
  UserAddr a = Map(kPageSize);
  MMapOpts o;
  o.length = kPageSize;
  o.prot = PROT_READ;
  o.fixed_noreplace = true;
  o.addr = a;
  auto r = mm_->MMap(o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error(), EEXIST);
}

TEST_F(MmTest, ForkIsCopyOnWrite) {
  UserAddr a = Map(kPageSize);
  int v = 1;
  ASSERT_EQ(mm_->CopyOut(a, &v, sizeof(v)), 0);
  auto child = mm_->Fork();
  ASSERT_TRUE(child.ok());
  int cv = 0;
  ASSERT_EQ((*child)->CopyIn(a, &cv, sizeof(cv)), 0);
  EXPECT_EQ(cv, 1);
  v = 2;
  ASSERT_EQ(mm_->CopyOut(a, &v, sizeof(v)), 0);  // parent writes
  ASSERT_EQ((*child)->CopyIn(a, &cv, sizeof(cv)), 0);
  EXPECT_EQ(cv, 1);  // child still sees the old value
  cv = 3;
  ASSERT_EQ((*child)->CopyOut(a, &cv, sizeof(cv)), 0);
  ASSERT_EQ(mm_->CopyIn(a, &v, sizeof(v)), 0);
  EXPECT_EQ(v, 2);
}

TEST_F(MmTest, ForkedPagesAreFreedWithTheChild) {
  UserAddr a = Map(kPageSize);
  int v = 1;
  ASSERT_EQ(mm_->CopyOut(a, &v, sizeof(v)), 0);
  uint64_t before = mf_->AllocatedBytes();
  {
    auto child = mm_->Fork();
    ASSERT_TRUE(child.ok());
    int cv = 5;
    ASSERT_EQ((*child)->CopyOut(a, &cv, sizeof(cv)), 0);  // child copies a page
    EXPECT_GT(mf_->AllocatedBytes(), before);
  }
  EXPECT_EQ(mf_->AllocatedBytes(), before);
}

TEST_F(MmTest, BrkGrowsAndShrinks) {
  mm_->SetBrkStart(UserAddr(0x5000000));
  EXPECT_EQ(mm_->Brk(UserAddr(0)).value(), 0x5000000u);
  EXPECT_EQ(mm_->Brk(UserAddr(0x5002000)).value(), 0x5002000u);
  int v = 9;
  EXPECT_EQ(mm_->CopyOut(UserAddr(0x5001000), &v, sizeof(v)), 0);
  EXPECT_EQ(mm_->Brk(UserAddr(0x5000000)).value(), 0x5000000u);
  EXPECT_EQ(mm_->CopyOut(UserAddr(0x5001000), &v, sizeof(v)), EFAULT);
  // Below the start: unchanged.
  EXPECT_EQ(mm_->Brk(UserAddr(0x4000000)).value(), 0x5000000u);
}

TEST_F(MmTest, MremapMovesContents) {
  UserAddr a = Map(kPageSize);
  int v = 42;
  ASSERT_EQ(mm_->CopyOut(a, &v, sizeof(v)), 0);
  Map(kPageSize, PROT_READ, a.value() + kPageSize);  // block in-place growth
  auto r = mm_->MRemap(a, kPageSize, 4 * kPageSize, MREMAP_MAYMOVE, UserAddr());
  ASSERT_TRUE(r.ok());
  EXPECT_NE(r->value(), a.value());
  int w = 0;
  ASSERT_EQ(mm_->CopyIn(*r, &w, sizeof(w)), 0);
  EXPECT_EQ(w, 42);
  EXPECT_EQ(mm_->CopyIn(a, &w, sizeof(w)), EFAULT);
  auto r2 = mm_->MRemap(*r, 4 * kPageSize, 8 * kPageSize, 0, UserAddr());
  EXPECT_TRUE(r2.ok() || r2.error() == ENOMEM);
}

TEST_F(MmTest, MadviseDontneedZeroesPrivateMemory) {
  UserAddr a = Map(kPageSize);
  int v = 42;
  ASSERT_EQ(mm_->CopyOut(a, &v, sizeof(v)), 0);
  ASSERT_EQ(mm_->MAdvise(a, kPageSize, MADV_DONTNEED), 0);
  ASSERT_EQ(mm_->CopyIn(a, &v, sizeof(v)), 0);
  EXPECT_EQ(v, 0);
}

TEST_F(MmTest, CopyInStringStopsAtNulAndLimit) {
  UserAddr a = Map(kPageSize);
  const char s[] = "hello";
  ASSERT_EQ(mm_->CopyOut(a, s, sizeof(s)), 0);
  auto r = mm_->CopyInString(a, 100);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, "hello");
  auto r2 = mm_->CopyInString(a, 3);
  ASSERT_FALSE(r2.ok());
  EXPECT_EQ(r2.error(), ENAMETOOLONG);
  // A string running into unmapped memory faults.
  std::string big(16, 'x');
  ASSERT_EQ(mm_->CopyOut(a + kPageSize - 16, big.data(), 16), 0);
  auto r3 = mm_->CopyInString(a + kPageSize - 16, 100);
  ASSERT_FALSE(r3.ok());
  EXPECT_EQ(r3.error(), EFAULT);
}

TEST_F(MmTest, MapsTextListsMappings) {
  MMapOpts o;
  o.length = kPageSize;
  o.prot = PROT_READ | PROT_EXEC;
  o.name = "[stack]";
  o.fixed = true;
  o.addr = UserAddr(0x400000);
  ASSERT_TRUE(mm_->MMap(o).ok());
  std::string maps = mm_->MapsText();
  EXPECT_NE(maps.find("00400000-00401000 r-xp 00000000 00:00 0"), std::string::npos) << maps;
  EXPECT_NE(maps.find("[stack]"), std::string::npos);
}

}  // namespace
}  // namespace sentry
