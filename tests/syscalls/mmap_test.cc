// Memory mappings: mmap(2), munmap(2), mprotect(2), mremap(2), brk(2),
// madvise(2), mincore(2), msync(2), and the faults they lead to.

#include <sys/mman.h>

#include <cstring>
#include <string>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

const size_t kPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));

// A mapping unmapped on destruction.
class Mapping {
 public:
  Mapping() = default;
  Mapping(void* addr, size_t len) : addr_(static_cast<char*>(addr)), len_(len) {}
  Mapping(Mapping&& o) noexcept
      : addr_(std::exchange(o.addr_, nullptr)), len_(o.len_) {}
  Mapping& operator=(Mapping&& o) noexcept {
    reset();
    addr_ = std::exchange(o.addr_, nullptr);
    len_ = o.len_;
    return *this;
  }
  ~Mapping() { reset(); }

  char* ptr() const { return addr_; }
  char* page(size_t i) const { return addr_ + i * kPage; }
  size_t len() const { return len_; }
  void release() { addr_ = nullptr; }
  void reset() {
    if (addr_ != nullptr) munmap(addr_, len_);
    addr_ = nullptr;
  }

 private:
  char* addr_ = nullptr;
  size_t len_ = 0;
};

Mapping MapOrThrow(size_t len, int prot, int flags, int fd = -1,
                   off_t off = 0, void* addr = nullptr) {
  void* p = mmap(addr, len, prot, flags, fd, off);
  if (p == MAP_FAILED) ThrowErrno("mmap");
  return Mapping(p, len);
}

Mapping MapAnon(size_t pages, int prot = PROT_READ | PROT_WRITE,
                int flags = MAP_PRIVATE) {
  return MapOrThrow(pages * kPage, prot, flags | MAP_ANONYMOUS);
}

MATCHER_P2(FaultIs, signo, code,
           std::string("a fault with signal ") + strsignal(signo) +
               " and si_code " + std::to_string(code)) {
  if (!arg.has_value()) {
    *result_listener << "did not fault";
    return false;
  }
  *result_listener << "faulted with signal " << arg->signo << ", si_code "
                   << arg->code << ", si_addr " << arg->addr;
  return arg->signo == signo && arg->code == code;
}

MATCHER_P3(FaultAt, signo, code, addr, "a fault at the given address") {
  if (!arg.has_value()) {
    *result_listener << "did not fault";
    return false;
  }
  *result_listener << "faulted with signal " << arg->signo << ", si_code "
                   << arg->code << ", si_addr " << arg->addr;
  return arg->signo == signo && arg->code == code && arg->addr == addr;
}

// --- anonymous mappings ---------------------------------------------------

TEST(MmapAnon, PrivateIsZeroFilledAndWritable) {
  Mapping m = MapAnon(4);
  for (size_t i = 0; i < m.len(); ++i) ASSERT_EQ(m.ptr()[i], 0) << i;
  memset(m.ptr(), 0x5a, m.len());
  EXPECT_EQ(m.page(3)[kPage - 1], 0x5a);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(m.ptr()) % kPage, 0u);
}

TEST(MmapAnon, LengthIsRoundedUpToPages) {
  void* p = mmap(nullptr, 10, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_THAT(p, SyscallSucceeds());
  Mapping m(p, kPage);
  EXPECT_EQ(TryWrite(m.ptr() + kPage - 1), std::nullopt);
}

TEST(MmapAnon, SharedIsVisibleAcrossFork) {
  Mapping m = MapAnon(1, PROT_READ | PROT_WRITE, MAP_SHARED);
  char* p = m.ptr();
  p[0] = 'p';
  EXPECT_THAT(ForkAndWait([p] {
    TEST_CHECK(p[0] == 'p');
    p[0] = 'c';
    p[kPage - 1] = 'e';
  }),
              ExitedWithCode(0));
  EXPECT_EQ(p[0], 'c');
  EXPECT_EQ(p[kPage - 1], 'e');
}

TEST(MmapAnon, PrivateIsCopiedOnFork) {
  Mapping m = MapAnon(2);
  char* p = m.ptr();
  p[0] = 'p';
  EXPECT_THAT(ForkAndWait([p] {
    TEST_CHECK(p[0] == 'p');
    p[0] = 'c';
    TEST_CHECK_SUCCESS(munmap(p + kPage, kPage));
  }),
              ExitedWithCode(0));
  EXPECT_EQ(p[0], 'p');
  // The child's munmap did not touch the parent's address space.
  EXPECT_EQ(TryWrite(p + kPage), std::nullopt);
}

TEST(MmapAnon, SharedValidateIsForFilesOnly) {
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ | PROT_WRITE,
                   MAP_SHARED_VALIDATE | MAP_ANONYMOUS, -1, 0),
              SyscallFailsWithErrno(EINVAL));
}

TEST(MmapErrors, InvalidArguments) {
  EXPECT_THAT(mmap(nullptr, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              SyscallFailsWithErrno(EINVAL));
  // Neither MAP_PRIVATE nor MAP_SHARED.
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ, MAP_ANONYMOUS, -1, 0),
              SyscallFailsWithErrno(EINVAL));
  Mapping m = MapAnon(2);
  EXPECT_THAT(mmap(m.ptr() + 1, kPage, PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0),
              SyscallFailsWithErrno(EINVAL));
  // Larger than any address space.
  EXPECT_THAT(mmap(nullptr, size_t{1} << 62, PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              SyscallFailsWithErrno(ENOMEM));
  EXPECT_THAT(mmap(nullptr, static_cast<size_t>(-kPage), PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              SyscallFailsWithErrno(ENOMEM));
}

// --- file mappings --------------------------------------------------------

class MmapFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string contents(2 * kPage, 'f');
    contents[0] = 'A';
    contents[kPage] = 'B';
    file_ = TempPath::File(contents);
    fd_ = OpenOrThrow(file_.path(), O_RDWR);
  }

  std::string FileBytes(off_t off, size_t n) {
    std::string s(n, '\0');
    if (pread(fd_.get(), s.data(), n, off) != static_cast<ssize_t>(n)) {
      ThrowErrno("pread");
    }
    return s;
  }

  TempPath file_;
  FileDescriptor fd_;
};

TEST_F(MmapFileTest, SharedMappingAndWriteSeeEachOther) {
  Mapping m = MapOrThrow(2 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED,
                         fd_.get());
  EXPECT_EQ(m.ptr()[0], 'A');
  EXPECT_EQ(m.page(1)[0], 'B');
  ASSERT_THAT(pwrite(fd_.get(), "w", 1, 5), SyscallSucceeds());
  EXPECT_EQ(m.ptr()[5], 'w');
  m.page(1)[7] = 'm';
  EXPECT_EQ(FileBytes(kPage + 7, 1), "m");
  ASSERT_THAT(msync(m.ptr(), m.len(), MS_SYNC), SyscallSucceeds());
  m.reset();
  EXPECT_EQ(FileBytes(kPage + 7, 1), "m");
}

TEST_F(MmapFileTest, TwoSharedMappingsAreCoherent) {
  Mapping a = MapOrThrow(kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get());
  Mapping b = MapOrThrow(kPage, PROT_READ, MAP_SHARED, fd_.get());
  a.ptr()[10] = 'z';
  EXPECT_EQ(b.ptr()[10], 'z');
}

TEST_F(MmapFileTest, SharedMappingIsSharedWithAForkedChild) {
  Mapping m = MapOrThrow(kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get());
  char* p = m.ptr();
  EXPECT_THAT(ForkAndWait([p] { p[1] = 'k'; }), ExitedWithCode(0));
  EXPECT_EQ(p[1], 'k');
  EXPECT_EQ(FileBytes(1, 1), "k");
}

TEST_F(MmapFileTest, PrivateMappingIsCopyOnWrite) {
  Mapping m = MapOrThrow(2 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE,
                         fd_.get());
  EXPECT_EQ(m.ptr()[0], 'A');
  m.ptr()[0] = 'P';
  EXPECT_EQ(m.ptr()[0], 'P');
  EXPECT_EQ(FileBytes(0, 1), "A");
  // A copied page no longer follows the file.
  ASSERT_THAT(pwrite(fd_.get(), "x", 1, 1), SyscallSucceeds());
  EXPECT_EQ(m.ptr()[1], 'f');
  // Another private mapping starts from the file again.
  Mapping n = MapOrThrow(kPage, PROT_READ, MAP_PRIVATE, fd_.get());
  EXPECT_EQ(n.ptr()[0], 'A');
  EXPECT_EQ(n.ptr()[1], 'x');
}

TEST_F(MmapFileTest, SharedValidateAcceptsKnownFlagsOnly) {
  void* p = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED_VALIDATE,
                 fd_.get(), 0);
  ASSERT_THAT(p, SyscallSucceeds());
  Mapping m(p, kPage);
  EXPECT_EQ(m.ptr()[0], 'A');
  // An unknown flag is ignored with MAP_SHARED but refused here.
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ, MAP_SHARED_VALIDATE | 0x800000,
                   fd_.get(), 0),
              SyscallFailsWithErrno(EOPNOTSUPP));
  void* q = mmap(nullptr, kPage, PROT_READ, MAP_SHARED | 0x800000, fd_.get(), 0);
  ASSERT_THAT(q, SyscallSucceeds());
  munmap(q, kPage);
}

TEST_F(MmapFileTest, OffsetSelectsTheFilePage) {
  Mapping m = MapOrThrow(kPage, PROT_READ, MAP_SHARED, fd_.get(), kPage);
  EXPECT_EQ(m.ptr()[0], 'B');
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ, MAP_SHARED, fd_.get(), 1),
              SyscallFailsWithErrno(EINVAL));
}

TEST_F(MmapFileTest, AccessModeRules) {
  FileDescriptor ro = OpenOrThrow(file_.path(), O_RDONLY);
  FileDescriptor wo = OpenOrThrow(file_.path(), O_WRONLY);
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_SHARED,
                   ro.get(), 0),
              SyscallFailsWithErrno(EACCES));
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ, MAP_SHARED, wo.get(), 0),
              SyscallFailsWithErrno(EACCES));
  // A private writable mapping of a read-only descriptor is fine.
  void* p = mmap(nullptr, kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE,
                 ro.get(), 0);
  ASSERT_THAT(p, SyscallSucceeds());
  Mapping m(p, kPage);
  m.ptr()[0] = 'q';
  // A read-only shared mapping cannot be made writable later.
  Mapping r = MapOrThrow(kPage, PROT_READ, MAP_SHARED, ro.get());
  EXPECT_THAT(mprotect(r.ptr(), kPage, PROT_READ | PROT_WRITE),
              SyscallFailsWithErrno(EACCES));
}

TEST(MmapErrors, BadDescriptors) {
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ, MAP_SHARED, -1, 0),
              SyscallFailsWithErrno(EBADF));
  Pipe p = MakePipe();
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ, MAP_SHARED, p.read_end.get(), 0),
              SyscallFailsWithErrno(ENODEV));
  TempPath dir = TempPath::Dir();
  FileDescriptor d = OpenOrThrow(dir.path(), O_RDONLY | O_DIRECTORY);
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE, d.get(), 0),
              SyscallFailsWithErrno(ENODEV));
  TempPath f = TempPath::File("x");
  FileDescriptor path = OpenOrThrow(f.path(), O_PATH);
  EXPECT_THAT(mmap(nullptr, kPage, PROT_READ, MAP_PRIVATE, path.get(), 0),
              SyscallFailsWithErrno(EBADF));
}

TEST_F(MmapFileTest, AccessBeyondEndOfFileIsSigbus) {
  ASSERT_THAT(ftruncate(fd_.get(), 100), SyscallSucceeds());
  Mapping m = MapOrThrow(3 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED,
                         fd_.get());
  // The rest of the last partial page reads as zeros and writes there do
  // not extend the file.
  EXPECT_EQ(m.ptr()[100], 0);
  EXPECT_EQ(m.ptr()[kPage - 1], 0);
  m.ptr()[200] = 'x';
  struct stat st;
  ASSERT_THAT(fstat(fd_.get(), &st), SyscallSucceeds());
  EXPECT_EQ(st.st_size, 100);
  // Whole pages past EOF raise SIGBUS.
  EXPECT_THAT(TryRead(m.page(1)), FaultAt(SIGBUS, BUS_ADRERR, m.page(1)));
  EXPECT_THAT(TryWrite(m.page(2) + 8),
              FaultAt(SIGBUS, BUS_ADRERR, m.page(2) + 8));
  // Growing the file makes them accessible.
  ASSERT_THAT(ftruncate(fd_.get(), 2 * kPage), SyscallSucceeds());
  EXPECT_EQ(TryRead(m.page(1)), std::nullopt);
}

TEST_F(MmapFileTest, PrivateMappingAlsoFaultsBeyondEof) {
  ASSERT_THAT(ftruncate(fd_.get(), kPage), SyscallSucceeds());
  Mapping m = MapOrThrow(2 * kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE,
                         fd_.get());
  EXPECT_THAT(TryWrite(m.page(1)), FaultAt(SIGBUS, BUS_ADRERR, m.page(1)));
}

TEST_F(MmapFileTest, MappingSurvivesCloseAndUnlink) {
  Mapping m = MapOrThrow(kPage, PROT_READ | PROT_WRITE, MAP_SHARED, fd_.get());
  fd_.reset();
  ASSERT_THAT(unlink(file_.c_str()), SyscallSucceeds());
  EXPECT_EQ(m.ptr()[0], 'A');
  m.ptr()[0] = 'Z';
  EXPECT_EQ(m.ptr()[0], 'Z');
}

// --- mprotect -------------------------------------------------------------

TEST(Mprotect, WriteToReadOnlyFaultsWithAccerr) {
  Mapping m = MapAnon(2);
  m.ptr()[0] = 'k';
  ASSERT_THAT(mprotect(m.ptr(), kPage, PROT_READ), SyscallSucceeds());
  EXPECT_EQ(m.ptr()[0], 'k');
  EXPECT_THAT(TryWrite(m.ptr() + 17), FaultAt(SIGSEGV, SEGV_ACCERR, m.ptr() + 17));
  // The neighbouring page kept its protection.
  EXPECT_EQ(TryWrite(m.page(1)), std::nullopt);
  ASSERT_THAT(mprotect(m.ptr(), kPage, PROT_READ | PROT_WRITE),
              SyscallSucceeds());
  EXPECT_EQ(TryWrite(m.ptr() + 17), std::nullopt);
  EXPECT_EQ(m.ptr()[0], 'k');
}

TEST(Mprotect, ProtNoneFaultsOnRead) {
  Mapping m = MapAnon(1, PROT_NONE);
  EXPECT_THAT(TryRead(m.ptr() + 3), FaultAt(SIGSEGV, SEGV_ACCERR, m.ptr() + 3));
  ASSERT_THAT(mprotect(m.ptr(), kPage, PROT_READ), SyscallSucceeds());
  EXPECT_EQ(TryRead(m.ptr() + 3), std::nullopt);
}

TEST(Mprotect, Errors) {
  Mapping m = MapAnon(2);
  EXPECT_THAT(mprotect(m.ptr() + 1, kPage, PROT_READ),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mprotect(m.ptr(), kPage, 0x40), SyscallFailsWithErrno(EINVAL));
  char* second = m.page(1);
  ASSERT_THAT(munmap(second, kPage), SyscallSucceeds());
  EXPECT_THAT(mprotect(second, kPage, PROT_READ), SyscallFailsWithErrno(ENOMEM));
  // Length zero is a no-op.
  EXPECT_THAT(mprotect(m.ptr(), 0, PROT_NONE), SyscallSucceeds());
  EXPECT_EQ(TryWrite(m.ptr()), std::nullopt);
  // A range that runs into a hole fails too. (Whether the part before the
  // hole changed is not specified; Linux changes it.)
  EXPECT_THAT(mprotect(m.ptr(), 2 * kPage, PROT_READ),
              SyscallFailsWithErrno(ENOMEM));
}

// --- munmap ---------------------------------------------------------------

TEST(Munmap, AccessAfterUnmapFaultsWithMaperr) {
  Mapping m = MapAnon(3);
  char* mid = m.page(1);
  ASSERT_THAT(munmap(mid, kPage), SyscallSucceeds());
  EXPECT_THAT(TryRead(mid + 5), FaultAt(SIGSEGV, SEGV_MAPERR, mid + 5));
  // The split left both neighbours mapped.
  EXPECT_EQ(TryWrite(m.page(0)), std::nullopt);
  EXPECT_EQ(TryWrite(m.page(2)), std::nullopt);
}

TEST(Munmap, Errors) {
  Mapping m = MapAnon(1);
  EXPECT_THAT(munmap(m.ptr() + 1, kPage), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(munmap(m.ptr(), 0), SyscallFailsWithErrno(EINVAL));
  // Unmapping what is not mapped is not an error.
  char* p = m.ptr();
  m.reset();
  EXPECT_THAT(munmap(p, kPage), SyscallSucceeds());
}

// --- MAP_FIXED / MAP_FIXED_NOREPLACE --------------------------------------

TEST(MapFixed, ReplacesExistingPages) {
  Mapping m = MapAnon(3);
  memset(m.ptr(), 'o', m.len());
  void* p = mmap(m.page(1), kPage, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
  ASSERT_THAT(p, SyscallSucceedsWithValue(static_cast<void*>(m.page(1))));
  EXPECT_EQ(m.page(0)[0], 'o');
  EXPECT_EQ(m.page(1)[0], 0);
  EXPECT_EQ(m.page(2)[0], 'o');
}

TEST(MapFixed, NoreplaceRefusesOccupiedRanges) {
  Mapping m = MapAnon(3);
  m.ptr()[0] = 'k';
  EXPECT_THAT(mmap(m.ptr(), kPage, PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0),
              SyscallFailsWithErrno(EEXIST));
  ASSERT_THAT(munmap(m.page(1), 2 * kPage), SyscallSucceeds());
  // Partly occupied.
  EXPECT_THAT(mmap(m.ptr(), 2 * kPage, PROT_READ,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0),
              SyscallFailsWithErrno(EEXIST));
  EXPECT_EQ(m.ptr()[0], 'k');
  // Free: placed exactly there.
  void* p = mmap(m.page(1), 2 * kPage, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  EXPECT_THAT(p, SyscallSucceedsWithValue(static_cast<void*>(m.page(1))));
}

// --- mremap ---------------------------------------------------------------

TEST(Mremap, GrowsInPlaceWhenTheRangeAfterIsFree) {
  Mapping m = MapAnon(4);
  ASSERT_THAT(munmap(m.page(1), 3 * kPage), SyscallSucceeds());
  m.ptr()[0] = 'g';
  void* p = mremap(m.ptr(), kPage, 4 * kPage, 0);
  ASSERT_THAT(p, SyscallSucceedsWithValue(static_cast<void*>(m.ptr())));
  EXPECT_EQ(m.ptr()[0], 'g');
  EXPECT_EQ(m.page(3)[0], 0);
  EXPECT_EQ(TryWrite(m.page(3)), std::nullopt);
}

TEST(Mremap, GrowWithoutRoomNeedsMaymove) {
  Mapping m = MapAnon(2);
  m.ptr()[0] = 'a';
  m.ptr()[kPage - 1] = 'z';
  EXPECT_THAT(mremap(m.ptr(), kPage, 2 * kPage, 0),
              SyscallFailsWithErrno(ENOMEM));
  char* old = m.ptr();
  void* p = mremap(old, kPage, 8 * kPage, MREMAP_MAYMOVE);
  ASSERT_THAT(p, SyscallSucceeds());
  Mapping moved(p, 8 * kPage);
  EXPECT_NE(p, old);
  EXPECT_EQ(moved.ptr()[0], 'a');
  EXPECT_EQ(moved.ptr()[kPage - 1], 'z');
  EXPECT_EQ(moved.page(7)[0], 0);
  // The old first page is gone; the second page was not part of the move.
  EXPECT_THAT(TryRead(old), FaultIs(SIGSEGV, SEGV_MAPERR));
  EXPECT_EQ(TryRead(old + kPage), std::nullopt);
  munmap(old + kPage, kPage);
  m.release();
}

TEST(Mremap, ShrinkUnmapsTheTail) {
  Mapping m = MapAnon(4);
  m.ptr()[0] = 's';
  void* p = mremap(m.ptr(), 4 * kPage, kPage, 0);
  ASSERT_THAT(p, SyscallSucceedsWithValue(static_cast<void*>(m.ptr())));
  EXPECT_EQ(m.ptr()[0], 's');
  EXPECT_THAT(TryRead(m.page(1)), FaultIs(SIGSEGV, SEGV_MAPERR));
  EXPECT_THAT(TryRead(m.page(3)), FaultIs(SIGSEGV, SEGV_MAPERR));
}

TEST(Mremap, FixedMovesToTheGivenAddress) {
  Mapping src = MapAnon(2);
  Mapping dst = MapAnon(2);
  src.ptr()[0] = '1';
  src.page(1)[0] = '2';
  void* p = mremap(src.ptr(), 2 * kPage, 2 * kPage,
                   MREMAP_MAYMOVE | MREMAP_FIXED, dst.ptr());
  ASSERT_THAT(p, SyscallSucceedsWithValue(static_cast<void*>(dst.ptr())));
  EXPECT_EQ(dst.ptr()[0], '1');
  EXPECT_EQ(dst.page(1)[0], '2');
  EXPECT_THAT(TryRead(src.ptr()), FaultIs(SIGSEGV, SEGV_MAPERR));
  src.release();
}

TEST(Mremap, Errors) {
  Mapping m = MapAnon(4);
  EXPECT_THAT(mremap(m.ptr() + 1, kPage, 2 * kPage, MREMAP_MAYMOVE),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mremap(m.ptr(), kPage, 0, MREMAP_MAYMOVE),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mremap(m.ptr(), kPage, kPage, MREMAP_FIXED, m.page(2)),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mremap(m.ptr(), kPage, kPage, 0x80),
              SyscallFailsWithErrno(EINVAL));
  // Overlapping source and destination.
  EXPECT_THAT(mremap(m.ptr(), 2 * kPage, 2 * kPage,
                     MREMAP_MAYMOVE | MREMAP_FIXED, m.page(1)),
              SyscallFailsWithErrno(EINVAL));
  char* gone = m.page(3);
  ASSERT_THAT(munmap(gone, kPage), SyscallSucceeds());
  EXPECT_THAT(mremap(gone, kPage, 2 * kPage, MREMAP_MAYMOVE),
              SyscallFailsWithErrno(EFAULT));
}

TEST(Mremap, ZeroOldSizeDuplicatesASharedMapping) {
  Mapping m = MapAnon(1, PROT_READ | PROT_WRITE, MAP_SHARED);
  void* p = mremap(m.ptr(), 0, kPage, MREMAP_MAYMOVE);
  ASSERT_THAT(p, SyscallSucceeds());
  Mapping alias(p, kPage);
  EXPECT_NE(alias.ptr(), m.ptr());
  m.ptr()[9] = 'd';
  EXPECT_EQ(alias.ptr()[9], 'd');
}

// --- brk ------------------------------------------------------------------

TEST(Brk, GrowAndShrink) {
  // In a child: malloc owns the break in the test process.
  EXPECT_THAT(ForkAndWait([] {
    auto brk_to = [](uintptr_t addr) {
      return static_cast<uintptr_t>(syscall(SYS_brk, addr));
    };
    const uintptr_t start = brk_to(0);
    TEST_CHECK(start != 0);
    const uintptr_t top = (start + kPage - 1) & ~(kPage - 1);
    const uintptr_t want = top + 4 * kPage;
    TEST_CHECK(brk_to(want) == want);
    char* mem = reinterpret_cast<char*>(top);
    for (size_t i = 0; i < 4 * kPage; i += kPage) TEST_CHECK(mem[i] == 0);
    memset(mem, 'b', 4 * kPage);
    TEST_CHECK(brk_to(0) == want);
    // Shrinking releases whole pages above the new break.
    TEST_CHECK(brk_to(top + kPage) == top + kPage);
    TEST_CHECK(TryRead(mem + 2 * kPage).has_value());
    TEST_CHECK(!TryRead(mem).has_value());
    // Growing again gives zeroed pages, not the old contents.
    TEST_CHECK(brk_to(want) == want);
    TEST_CHECK(mem[2 * kPage] == 0);
    TEST_CHECK(mem[0] == 'b');
    // An impossible request leaves the break where it was.
    TEST_CHECK(brk_to(1) == want);
    TEST_CHECK(brk_to(~uintptr_t{0} - kPage) == want);
    TEST_CHECK(brk_to(start) == start);
  }),
              ExitedWithCode(0));
}

// --- madvise --------------------------------------------------------------

TEST(Madvise, DontneedZeroesPrivateAnonymousMemory) {
  Mapping m = MapAnon(3);
  memset(m.ptr(), 'x', m.len());
  ASSERT_THAT(madvise(m.page(1), kPage, MADV_DONTNEED), SyscallSucceeds());
  EXPECT_EQ(m.page(0)[0], 'x');
  EXPECT_EQ(m.page(1)[0], 0);
  EXPECT_EQ(m.page(1)[kPage - 1], 0);
  EXPECT_EQ(m.page(2)[0], 'x');
}

TEST_F(MmapFileTest, DontneedOnFileMappings) {
  Mapping shared = MapOrThrow(kPage, PROT_READ | PROT_WRITE, MAP_SHARED,
                              fd_.get());
  Mapping priv = MapOrThrow(kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE,
                            fd_.get());
  shared.ptr()[0] = 'S';
  priv.ptr()[1] = 'P';
  ASSERT_THAT(madvise(shared.ptr(), kPage, MADV_DONTNEED), SyscallSucceeds());
  ASSERT_THAT(madvise(priv.ptr(), kPage, MADV_DONTNEED), SyscallSucceeds());
  // Shared pages come back from the file with the stored data; private
  // copies are dropped and the file's contents show through again.
  EXPECT_EQ(shared.ptr()[0], 'S');
  EXPECT_EQ(priv.ptr()[0], 'S');
  EXPECT_EQ(priv.ptr()[1], 'f');
}

TEST(Madvise, HintsAndErrors) {
  Mapping m = MapAnon(2);
  for (int advice : {MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL, MADV_WILLNEED}) {
    EXPECT_THAT(madvise(m.ptr(), m.len(), advice), SyscallSucceeds()) << advice;
  }
  EXPECT_THAT(madvise(m.ptr(), m.len(), 12345), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(madvise(m.ptr() + 1, kPage, MADV_DONTNEED),
              SyscallFailsWithErrno(EINVAL));
  char* second = m.page(1);
  ASSERT_THAT(munmap(second, kPage), SyscallSucceeds());
  EXPECT_THAT(madvise(second, kPage, MADV_DONTNEED),
              SyscallFailsWithErrno(ENOMEM));
}

// --- mincore --------------------------------------------------------------

TEST(Mincore, ReportsTouchedAnonymousPages) {
  Mapping m = MapAnon(3);
  m.page(1)[0] = 1;
  unsigned char vec[3] = {0xff, 0xff, 0xff};
  ASSERT_THAT(mincore(m.ptr(), m.len(), vec), SyscallSucceeds());
  EXPECT_EQ(vec[0] & 1, 0);
  EXPECT_EQ(vec[1] & 1, 1);
  EXPECT_EQ(vec[2] & 1, 0);
  // Only the low bit carries information; the others are zero.
  EXPECT_EQ(vec[1] & ~1, 0);
}

TEST(Mincore, Errors) {
  Mapping m = MapAnon(2);
  unsigned char vec[2];
  EXPECT_THAT(mincore(m.ptr() + 1, kPage, vec), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(mincore(m.ptr(), kPage, Opaque<unsigned char*>(nullptr)),
              SyscallFailsWithErrno(EFAULT));
  char* second = m.page(1);
  ASSERT_THAT(munmap(second, kPage), SyscallSucceeds());
  EXPECT_THAT(mincore(second, kPage, vec), SyscallFailsWithErrno(ENOMEM));
}

// --- msync ----------------------------------------------------------------

TEST_F(MmapFileTest, MsyncErrors) {
  Mapping m = MapOrThrow(2 * kPage, PROT_READ | PROT_WRITE, MAP_SHARED,
                         fd_.get());
  EXPECT_THAT(msync(m.ptr(), kPage, MS_ASYNC), SyscallSucceeds());
  EXPECT_THAT(msync(m.ptr(), kPage, MS_SYNC | MS_INVALIDATE), SyscallSucceeds());
  EXPECT_THAT(msync(m.ptr(), kPage, MS_SYNC | MS_ASYNC),
              SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(msync(m.ptr() + 1, kPage, MS_SYNC), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(msync(m.ptr(), kPage, 0x100), SyscallFailsWithErrno(EINVAL));
  char* second = m.page(1);
  ASSERT_THAT(munmap(second, kPage), SyscallSucceeds());
  EXPECT_THAT(msync(second, kPage, MS_SYNC), SyscallFailsWithErrno(ENOMEM));
}

// --- execute permission and large reservations ---------------------------

using IntFn = int (*)();

// x86-64 machine code for `mov eax, 42; ret`.
constexpr unsigned char kReturn42[] = {0xb8, 0x2a, 0x00, 0x00, 0x00, 0xc3};

TEST(MmapExec, CodeRunsFromAnExecutableMapping) {
  Mapping m = MapAnon(1);
  memcpy(m.ptr(), kReturn42, sizeof(kReturn42));
  ASSERT_THAT(mprotect(m.ptr(), kPage, PROT_READ | PROT_EXEC),
              SyscallSucceeds());
  IntFn fn = reinterpret_cast<IntFn>(m.ptr());
  EXPECT_EQ(fn(), 42);
  // Rewriting the code (W then X again) runs the new code.
  ASSERT_THAT(mprotect(m.ptr(), kPage, PROT_READ | PROT_WRITE),
              SyscallSucceeds());
  m.ptr()[1] = 7;
  ASSERT_THAT(mprotect(m.ptr(), kPage, PROT_READ | PROT_EXEC),
              SyscallSucceeds());
  EXPECT_EQ(fn(), 7);
}

TEST(MmapExec, JumpingToANonExecutablePageFaults) {
  Mapping m = MapAnon(1);
  memcpy(m.ptr(), kReturn42, sizeof(kReturn42));
  IntFn fn = reinterpret_cast<IntFn>(m.ptr());
  std::optional<Fault> f = CatchFault([fn] {
    volatile int r = fn();
    (void)r;
  });
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->signo, SIGSEGV);
  EXPECT_EQ(f->code, SEGV_ACCERR);
  EXPECT_EQ(f->addr, m.ptr());
}

TEST(MmapReserve, HugeProtNoneReservation) {
  // Runtimes reserve large address ranges up front and commit pieces.
  const size_t size = size_t{1} << 40;  // 1 TiB
  void* p = mmap(nullptr, size, PROT_NONE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  ASSERT_THAT(p, SyscallSucceeds());
  Mapping m(p, size);
  char* mid = m.ptr() + size / 2;
  EXPECT_THAT(TryRead(mid), FaultIs(SIGSEGV, SEGV_ACCERR));
  ASSERT_THAT(mprotect(mid, 16 * kPage, PROT_READ | PROT_WRITE),
              SyscallSucceeds());
  memset(mid, 'r', 16 * kPage);
  EXPECT_EQ(mid[16 * kPage - 1], 'r');
  EXPECT_THAT(TryRead(mid + 16 * kPage), FaultIs(SIGSEGV, SEGV_ACCERR));
}

TEST(MmapDevZero, SharedDevZeroIsSharedMemory) {
  FileDescriptor zero = OpenOrThrow("/dev/zero", O_RDWR);
  Mapping shared = MapOrThrow(kPage, PROT_READ | PROT_WRITE, MAP_SHARED,
                              zero.get());
  Mapping priv = MapOrThrow(kPage, PROT_READ | PROT_WRITE, MAP_PRIVATE,
                            zero.get());
  EXPECT_EQ(shared.ptr()[0], 0);
  EXPECT_EQ(priv.ptr()[0], 0);
  char* s = shared.ptr();
  char* q = priv.ptr();
  EXPECT_THAT(ForkAndWait([s, q] {
    s[0] = 's';
    q[0] = 'q';
  }),
              ExitedWithCode(0));
  EXPECT_EQ(s[0], 's');
  EXPECT_EQ(q[0], 0);
}

// --- I/O through mappings -------------------------------------------------

TEST(MmapIo, SyscallsFaultOnProtectedBuffers) {
  Mapping m = MapAnon(1, PROT_NONE);
  TempPath f = TempPath::File("data");
  FileDescriptor fd = OpenOrThrow(f.path(), O_RDWR);
  EXPECT_THAT(write(fd.get(), m.ptr(), 1), SyscallFailsWithErrno(EFAULT));
  EXPECT_THAT(read(fd.get(), m.ptr(), 1), SyscallFailsWithErrno(EFAULT));
  ASSERT_THAT(mprotect(m.ptr(), kPage, PROT_READ), SyscallSucceeds());
  // Readable but not writable: the kernel may read from it, not write to it.
  EXPECT_THAT(write(fd.get(), m.ptr(), 1), SyscallSucceedsWithValue(1));
  EXPECT_THAT(pread(fd.get(), m.ptr(), 1, 0), SyscallFailsWithErrno(EFAULT));
}

}  // namespace
}  // namespace systest
