// Declarations of every syscall handler, grouped by the file that
// implements them. All share one signature: (Task&, const SyscallArgs&).
#ifndef SYSCALLS_HANDLERS_H_
#define SYSCALLS_HANDLERS_H_

#include "sentry/base/error.h"
#include "sentry/usermem/addr.h"
#include "syscalls/syscalls.h"

namespace sentry {
class Task;
namespace sys {

#define SYSCALL(name) SysRet name(Task& t, const SyscallArgs& a)

// file.cc: read/write and fd management.
SYSCALL(Read); SYSCALL(Write); SYSCALL(Pread64); SYSCALL(Pwrite64); SYSCALL(Readv);
SYSCALL(Writev); SYSCALL(Preadv); SYSCALL(Pwritev); SYSCALL(Preadv2); SYSCALL(Pwritev2);
SYSCALL(Lseek); SYSCALL(Open); SYSCALL(Openat); SYSCALL(Openat2); SYSCALL(Creat);
SYSCALL(Close); SYSCALL(CloseRange); SYSCALL(Dup); SYSCALL(Dup2); SYSCALL(Dup3);
SYSCALL(Fcntl); SYSCALL(Ioctl); SYSCALL(Getdents64); SYSCALL(Getdents);
SYSCALL(Fsync); SYSCALL(Fdatasync); SYSCALL(Sync); SYSCALL(Syncfs); SYSCALL(Fallocate);
SYSCALL(Readahead); SYSCALL(Fadvise64); SYSCALL(Flock); SYSCALL(Sendfile);

// stat.cc: attributes.
SYSCALL(Stat); SYSCALL(Fstat); SYSCALL(Lstat); SYSCALL(Newfstatat); SYSCALL(Statx);
SYSCALL(Access); SYSCALL(Faccessat); SYSCALL(Faccessat2); SYSCALL(Readlink);
SYSCALL(Readlinkat); SYSCALL(Statfs); SYSCALL(Fstatfs);

// fsops.cc: directory tree changes and attributes.
SYSCALL(Mkdir); SYSCALL(Mkdirat); SYSCALL(Rmdir); SYSCALL(Unlink); SYSCALL(Unlinkat);
SYSCALL(Rename); SYSCALL(Renameat); SYSCALL(Renameat2); SYSCALL(Link); SYSCALL(Linkat);
SYSCALL(Symlink); SYSCALL(Symlinkat); SYSCALL(Mknod); SYSCALL(Mknodat);
SYSCALL(Chmod); SYSCALL(Fchmod); SYSCALL(Fchmodat); SYSCALL(Fchmodat2); SYSCALL(Chown);
SYSCALL(Fchown); SYSCALL(Lchown); SYSCALL(Fchownat); SYSCALL(Truncate); SYSCALL(Ftruncate);
SYSCALL(Utimensat); SYSCALL(Utimes); SYSCALL(Utime); SYSCALL(Futimesat);
SYSCALL(Chdir); SYSCALL(Fchdir); SYSCALL(Getcwd); SYSCALL(Chroot); SYSCALL(Umask);

// xattr.cc
SYSCALL(Getxattr); SYSCALL(Lgetxattr); SYSCALL(Fgetxattr); SYSCALL(Setxattr);
SYSCALL(Lsetxattr); SYSCALL(Fsetxattr); SYSCALL(Listxattr); SYSCALL(Llistxattr);
SYSCALL(Flistxattr); SYSCALL(Removexattr); SYSCALL(Lremovexattr); SYSCALL(Fremovexattr);

// mmap.cc
SYSCALL(Mmap); SYSCALL(Munmap); SYSCALL(Mprotect); SYSCALL(Mremap); SYSCALL(Brk);
SYSCALL(Madvise); SYSCALL(Mincore); SYSCALL(Msync); SYSCALL(Mlock); SYSCALL(Munlock);
SYSCALL(Mlockall); SYSCALL(Munlockall); SYSCALL(Mlock2);

// thread.cc: processes and threads.
SYSCALL(Clone); SYSCALL(Clone3); SYSCALL(Fork); SYSCALL(Vfork); SYSCALL(Execve);
SYSCALL(Execveat); SYSCALL(Exit); SYSCALL(ExitGroup); SYSCALL(Wait4); SYSCALL(Waitid);
SYSCALL(SetTidAddress); SYSCALL(Gettid); SYSCALL(Getpid); SYSCALL(Getppid);
SYSCALL(SetRobustList); SYSCALL(GetRobustList); SYSCALL(ArchPrctl); SYSCALL(Prctl);
SYSCALL(RestartSyscall);
// sched.cc: scheduling state.
SYSCALL(SchedYield); SYSCALL(SchedGetaffinity); SYSCALL(SchedSetaffinity); SYSCALL(Getcpu);
SYSCALL(Getpriority); SYSCALL(Setpriority); SYSCALL(SchedGetscheduler);
SYSCALL(SchedSetscheduler); SYSCALL(SchedGetparam); SYSCALL(SchedSetparam);
SYSCALL(SchedGetPriorityMax); SYSCALL(SchedGetPriorityMin);
SYSCALL(Rseq);
// seccomp.cc: seccomp(2); prctl(PR_SET_SECCOMP) goes through DoSeccomp.
SYSCALL(Seccomp);
SysRet DoSeccomp(Task& t, unsigned op, unsigned flags, UserAddr uargs);

// signal.cc
SYSCALL(RtSigaction); SYSCALL(RtSigprocmask); SYSCALL(RtSigreturn); SYSCALL(Kill);
SYSCALL(Tkill); SYSCALL(Tgkill); SYSCALL(RtSigpending); SYSCALL(RtSigsuspend);
SYSCALL(Sigaltstack); SYSCALL(RtSigtimedwait); SYSCALL(RtSigqueueinfo);
SYSCALL(RtTgsigqueueinfo); SYSCALL(Pause);

// time.cc
SYSCALL(ClockGettime); SYSCALL(ClockGetres); SYSCALL(Gettimeofday); SYSCALL(Time);
SYSCALL(Nanosleep); SYSCALL(ClockNanosleep); SYSCALL(Times); SYSCALL(Getrusage);
SYSCALL(ClockSettime);
// itimer.cc
SYSCALL(Alarm); SYSCALL(Setitimer); SYSCALL(Getitimer);

// identity.cc: credentials, sessions, process groups.
SYSCALL(Getuid); SYSCALL(Geteuid); SYSCALL(Getgid); SYSCALL(Getegid); SYSCALL(Setuid);
SYSCALL(Setgid); SYSCALL(Setreuid); SYSCALL(Setregid); SYSCALL(Setresuid);
SYSCALL(Getresuid); SYSCALL(Setresgid); SYSCALL(Getresgid); SYSCALL(Getgroups);
SYSCALL(Setgroups); SYSCALL(Setfsuid); SYSCALL(Setfsgid); SYSCALL(Capget); SYSCALL(Capset);
SYSCALL(Getpgid); SYSCALL(Setpgid); SYSCALL(Getpgrp); SYSCALL(Getsid); SYSCALL(Setsid);

// sys.cc: system information and limits.
SYSCALL(Uname); SYSCALL(Sethostname); SYSCALL(Setdomainname); SYSCALL(Getrlimit);
SYSCALL(Setrlimit); SYSCALL(Prlimit64); SYSCALL(Sysinfo); SYSCALL(Getrandom);

// futex.cc
SYSCALL(Futex);

// poll.cc
SYSCALL(Poll); SYSCALL(Ppoll); SYSCALL(Select); SYSCALL(Pselect6);

// pipe.cc
SYSCALL(Pipe); SYSCALL(Pipe2);
SYSCALL(EpollCreate); SYSCALL(EpollCreate1); SYSCALL(EpollCtl); SYSCALL(EpollWait);
SYSCALL(EpollPwait); SYSCALL(EpollPwait2); SYSCALL(Eventfd); SYSCALL(Eventfd2);
SYSCALL(TimerfdCreate); SYSCALL(TimerfdSettime); SYSCALL(TimerfdGettime);
SYSCALL(Signalfd); SYSCALL(Signalfd4); SYSCALL(MemfdCreate);

// socket.cc
SYSCALL(Socket); SYSCALL(Socketpair); SYSCALL(Bind); SYSCALL(Listen); SYSCALL(Accept);
SYSCALL(Accept4); SYSCALL(Connect); SYSCALL(Sendto); SYSCALL(Recvfrom); SYSCALL(Sendmsg);
SYSCALL(Recvmsg); SYSCALL(Sendmmsg); SYSCALL(Recvmmsg); SYSCALL(Shutdown); SYSCALL(Getsockname);
SYSCALL(Getpeername); SYSCALL(Getsockopt); SYSCALL(Setsockopt);

// inotify.cc
SYSCALL(InotifyInit); SYSCALL(InotifyInit1); SYSCALL(InotifyAddWatch); SYSCALL(InotifyRmWatch);

// splice.cc
SYSCALL(Splice); SYSCALL(Tee); SYSCALL(Vmsplice); SYSCALL(CopyFileRange); SYSCALL(SyncFileRange);

// msg.cc
SYSCALL(Msgget); SYSCALL(Msgsnd); SYSCALL(Msgrcv); SYSCALL(Msgctl);

// sem.cc
SYSCALL(Semget); SYSCALL(Semop); SYSCALL(Semtimedop); SYSCALL(Semctl);

// shm.cc
SYSCALL(Shmget); SYSCALL(Shmat); SYSCALL(Shmdt); SYSCALL(Shmctl);

// posix_timer.cc
SYSCALL(TimerCreate); SYSCALL(TimerSettime); SYSCALL(TimerGettime); SYSCALL(TimerGetoverrun);
SYSCALL(TimerDelete);

// pidfd.cc (and signal.cc: PidfdSendSignal)
SYSCALL(PidfdOpen); SYSCALL(PidfdGetfd); SYSCALL(PidfdSendSignal);

#undef SYSCALL

}  // namespace sys
}  // namespace sentry

#endif  // SYSCALLS_HANDLERS_H_
