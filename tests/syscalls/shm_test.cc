// System V shared memory: shmget/shmat/shmdt/shmctl, sharing across
// fork, keys, removal while attached, read-only attaches, fixed
// addresses, permissions and errors.

#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <random>
#include <string>

#include "tests/syscalls/test_util.h"

namespace systest {
namespace {

// A key nobody else uses during the test.
key_t RandomKey() {
  std::random_device rd;
  return static_cast<key_t>((rd() & 0x3fffffff) | 0x40000000);
}

class Segment {
 public:
  explicit Segment(int id) : id_(id) {}
  ~Segment() {
    if (id_ >= 0) shmctl(id_, IPC_RMID, nullptr);
  }
  int id() const { return id_; }

 private:
  int id_;
};

shmid_ds Stat(int id) {
  shmid_ds ds = {};
  if (shmctl(id, IPC_STAT, &ds) != 0) ADD_FAILURE() << "IPC_STAT: " << strerror(errno);
  return ds;
}

TEST(ShmTest, SharedAcrossForkAndCounted) {
  int id;
  ASSERT_THAT(id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600), SyscallSucceeds());
  Segment seg(id);
  shmid_ds ds = Stat(id);
  EXPECT_EQ(ds.shm_segsz, 8192u);
  EXPECT_EQ(ds.shm_nattch, 0u);
  EXPECT_EQ(ds.shm_perm.mode & 0777, 0600);
  EXPECT_EQ(ds.shm_cpid, getpid());
  EXPECT_EQ(ds.shm_perm.uid, geteuid());

  void* p = shmat(id, nullptr, 0);
  ASSERT_NE(p, reinterpret_cast<void*>(-1)) << strerror(errno);
  EXPECT_EQ(Stat(id).shm_nattch, 1u);
  EXPECT_EQ(Stat(id).shm_lpid, getpid());
  auto* data = static_cast<char*>(p);
  strcpy(data, "parent");
  EXPECT_THAT(ForkAndWait([&] {
                // The child shares the attach; another one sees the same bytes.
                TEST_CHECK(strcmp(data, "parent") == 0);
                char* q = static_cast<char*>(shmat(id, nullptr, 0));
                TEST_CHECK(q != reinterpret_cast<char*>(-1));
                strcpy(q + 4096, "child");
                shmid_ds cds;
                TEST_CHECK_SUCCESS(shmctl(id, IPC_STAT, &cds));
                TEST_CHECK(cds.shm_nattch == 3);
                TEST_CHECK_SUCCESS(shmdt(q));
              }),
              ExitedWithCode(0));
  EXPECT_STREQ(data + 4096, "child");
  EXPECT_EQ(Stat(id).shm_nattch, 1u);

  // /proc/self/maps names the segment by its id.
  std::ifstream maps("/proc/self/maps");
  std::string line;
  bool found = false;
  char want[32];
  snprintf(want, sizeof(want), "/SYSV%08x", 0);  // the key: IPC_PRIVATE
  while (std::getline(maps, line)) {
    if (line.find(want) != std::string::npos && line.find("rw-s") != std::string::npos) found = true;
  }
  EXPECT_TRUE(found);

  ASSERT_THAT(shmdt(p), SyscallSucceeds());
  EXPECT_EQ(Stat(id).shm_nattch, 0u);
  EXPECT_THAT(shmdt(p), SyscallFailsWithErrno(EINVAL));
}

TEST(ShmTest, Keys) {
  key_t key = RandomKey();
  int id;
  ASSERT_THAT(id = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600), SyscallSucceeds());
  Segment seg(id);
  EXPECT_THAT(shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600), SyscallFailsWithErrno(EEXIST));
  EXPECT_THAT(shmget(key, 100, 0), SyscallSucceedsWithValue(id));
  EXPECT_THAT(shmget(key, 8192, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(shmget(RandomKey(), 4096, 0600), SyscallFailsWithErrno(ENOENT));
  EXPECT_THAT(shmget(IPC_PRIVATE, 0, 0600), SyscallFailsWithErrno(EINVAL));
  EXPECT_EQ(Stat(id).shm_perm.__key, key);
}

TEST(ShmTest, RemovedWhileAttached) {
  key_t key = RandomKey();
  int id;
  ASSERT_THAT(id = shmget(key, 4096, IPC_CREAT | 0600), SyscallSucceeds());
  char* p = static_cast<char*>(shmat(id, nullptr, 0));
  ASSERT_NE(p, reinterpret_cast<char*>(-1));
  ASSERT_THAT(shmctl(id, IPC_RMID, nullptr), SyscallSucceeds());
  // Still there for its users, marked for destruction, its key free.
  strcpy(p, "alive");
  EXPECT_STREQ(p, "alive");
  shmid_ds ds = Stat(id);
  EXPECT_EQ(ds.shm_perm.mode & SHM_DEST, SHM_DEST);
  EXPECT_EQ(ds.shm_perm.__key, IPC_PRIVATE);
  int id2;
  ASSERT_THAT(id2 = shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600), SyscallSucceeds());
  Segment seg2(id2);
  EXPECT_NE(id2, id);
  ASSERT_THAT(shmdt(p), SyscallSucceeds());
  // The last detach destroyed it.
  EXPECT_THAT(shmctl(id, IPC_STAT, &ds), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(shmat(id, nullptr, 0), SyscallFailsWithErrno(EINVAL));
}

TEST(ShmTest, ReadOnlyAttach) {
  int id;
  ASSERT_THAT(id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600), SyscallSucceeds());
  Segment seg(id);
  char* rw = static_cast<char*>(shmat(id, nullptr, 0));
  ASSERT_NE(rw, reinterpret_cast<char*>(-1));
  char* ro = static_cast<char*>(shmat(id, nullptr, SHM_RDONLY));
  ASSERT_NE(ro, reinterpret_cast<char*>(-1));
  rw[0] = 'x';
  EXPECT_EQ(ro[0], 'x');
  auto fault = TryWrite(ro);
  ASSERT_TRUE(fault.has_value());
  EXPECT_EQ(fault->signo, SIGSEGV);
  EXPECT_THAT(mprotect(ro, 4096, PROT_READ | PROT_WRITE), SyscallFailsWithErrno(EACCES));
  EXPECT_THAT(shmdt(ro), SyscallSucceeds());
  EXPECT_THAT(shmdt(rw), SyscallSucceeds());
}

TEST(ShmTest, FixedAddresses) {
  int id;
  ASSERT_THAT(id = shmget(IPC_PRIVATE, 8192, IPC_CREAT | 0600), SyscallSucceeds());
  Segment seg(id);
  void* area = mmap(nullptr, 3 * 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  ASSERT_NE(area, MAP_FAILED);
  char* base = static_cast<char*>(area);
  // Over an existing mapping only with SHM_REMAP.
  EXPECT_THAT(shmat(id, base, 0), SyscallFailsWithErrno(EINVAL));
  void* p = shmat(id, base, SHM_REMAP);
  EXPECT_EQ(p, base);
  EXPECT_THAT(shmat(id, base + 1, 0), SyscallFailsWithErrno(EINVAL));
  // SHM_RND rounds down to SHMLBA (a page here); the range is still taken.
  EXPECT_THAT(shmat(id, base + 1, SHM_RND), SyscallFailsWithErrno(EINVAL));
  void* q = shmat(id, base + 1, SHM_RND | SHM_REMAP);
  EXPECT_EQ(q, base);
  EXPECT_THAT(shmdt(base + 1), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(shmdt(base), SyscallSucceeds());
  // What was not the segment stays mapped.
  EXPECT_FALSE(TryRead(base + 2 * 4096).has_value());
  munmap(area, 3 * 4096);
}

TEST(ShmTest, PermissionsAndControl) {
  int id;
  ASSERT_THAT(id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600), SyscallSucceeds());
  Segment seg(id);
  EXPECT_THAT(shmat(12345678, nullptr, 0), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(shmctl(id, 9999, nullptr), SyscallFailsWithErrno(EINVAL));
  EXPECT_THAT(shmctl(id, IPC_STAT, Opaque<shmid_ds*>(nullptr)), SyscallFailsWithErrno(EFAULT));
  shmid_ds ds = Stat(id);
  ds.shm_perm.mode = 0640;
  ASSERT_THAT(shmctl(id, IPC_SET, &ds), SyscallSucceeds());
  EXPECT_EQ(Stat(id).shm_perm.mode & 0777, 0640);
  ds.shm_perm.mode = 0600;
  ASSERT_THAT(shmctl(id, IPC_SET, &ds), SyscallSucceeds());
  shminfo info;
  EXPECT_THAT(shmctl(0, IPC_INFO, reinterpret_cast<shmid_ds*>(&info)), SyscallSucceeds());
  EXPECT_GT(info.shmmax, 0u);
  SKIP_IF_NOT_ROOT();
  EXPECT_THAT(ForkAndWait([&] {
                DropPrivilegesInChild();
                TEST_CHECK_ERRNO(shmget(IPC_PRIVATE, 0, 0) , EINVAL);
                void* p = shmat(id, nullptr, 0);
                TEST_CHECK(p == reinterpret_cast<void*>(-1) && errno == EACCES);
                TEST_CHECK_ERRNO(shmctl(id, IPC_RMID, nullptr), EPERM);
                shmid_ds d;
                TEST_CHECK_ERRNO(shmctl(id, IPC_STAT, &d), EACCES);
              }),
              ExitedWithCode(0));
}

}  // namespace
}  // namespace systest
