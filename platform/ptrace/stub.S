// The ptrace platform's stub: the only code a stub process ever runs on its
// own. It is position independent; the Sentry copies it to a page of its
// choosing (the "stub region"), so every stub has it at the same address.
//
// Entry points (offsets from stub_start are exported to C++):
//  stub_init   first code of the master stub after fork: drops the rseq
//              registration inherited from the Sentry thread, unmaps everything
//              but the stub region and the host vDSO, closes all fds but
//              the MemoryFile, clears the signal mask, ignores SIGCHLD,
//              drops all capabilities, installs the stub seccomp filter,
//              traps (int3) to tell its tracing parent it is ready, then
//              parks.
//              %r15 = StubParams* (in the stub region's data page).
//  stub_park   untraced threads wait here (pause(2) in a loop) until a
//              Sentry thread seizes them. Uses no memory at all, so an
//              application thread in the same address space cannot
//              influence it.
//  stub_syscall  one injected syscall, then int3 back to the tracer.
//  stub_clone    an injected clone: the parent traps, the child parks.
//  stub_batch    %r12 = ops, %r13 = count: runs syscalls until one fails
//              (rax in [-4095,-1]) or all are done, then int3. Each op is
//              7 quadwords: nr, a0..a5.

    .section .text.sandbox_stub, "ax"
    .balign 4096
    .globl stub_start, stub_end, stub_init, stub_park, stub_syscall
    .globl stub_clone, stub_batch
stub_start:
stub_init:
    // ptrace(PTRACE_TRACEME): the forking Sentry thread traces us until
    // the int3 at the end of init, so it knows when init is complete.
    mov $101, %eax
    xor %edi, %edi
    xor %esi, %esi
    xor %edx, %edx
    xor %r10d, %r10d
    syscall
    // rseq(ptr, len, RSEQ_FLAG_UNREGISTER, sig): the forked thread inherits
    // glibc's rseq registration, and the kernel would fault writing the
    // rseq area once it is unmapped (SIGSEGV on the next return to user).
    mov 1024(%r15), %rdi
    test %rdi, %rdi
    jz 0f
    mov 1032(%r15), %rsi
    mov $1, %edx
    mov 1040(%r15), %r10
    mov $334, %eax
    syscall
0:  // munmap three ranges: params[0..5] = addr, len pairs (len 0 = none).
    mov 0(%r15), %rdi
    mov 8(%r15), %rsi
    test %rsi, %rsi
    jz 1f
    mov $11, %eax
    syscall
1:  mov 16(%r15), %rdi
    mov 24(%r15), %rsi
    test %rsi, %rsi
    jz 2f
    mov $11, %eax
    syscall
2:  mov 32(%r15), %rdi
    mov 40(%r15), %rsi
    test %rsi, %rsi
    jz 3f
    mov $11, %eax
    syscall
3:  // close_range(0, memfd - 1, 0); close_range(memfd + 1, ~0U, 0)
    mov 48(%r15), %rbx
    test %rbx, %rbx
    jz 4f
    xor %edi, %edi
    lea -1(%rbx), %rsi
    xor %edx, %edx
    mov $436, %eax
    syscall
4:  lea 1(%rbx), %rdi
    mov $0xffffffff, %esi
    xor %edx, %edx
    mov $436, %eax
    syscall
    // rt_sigprocmask(SIG_SETMASK, &zero_mask, NULL, 8)
    mov $14, %eax
    mov $2, %edi
    lea 88(%r15), %rsi
    xor %edx, %edx
    mov $8, %r10d
    syscall
    // rt_sigaction(SIGCHLD, &sa_ignore, NULL, 8)
    mov $13, %eax
    mov $17, %edi
    lea 56(%r15), %rsi
    xor %edx, %edx
    mov $8, %r10d
    syscall
    // prctl(PR_SET_PDEATHSIG, SIGKILL)
    mov $157, %eax
    mov $1, %edi
    mov $9, %esi
    syscall
    // capset(&hdr, &data): no capabilities at all, so a Sentry without
    // capabilities may trace us (the tracee's must be a subset).
    mov $126, %eax
    lea 1048(%r15), %rdi
    lea 1056(%r15), %rsi
    syscall
    // prctl(PR_SET_DUMPABLE, 1): the Sentry seizes stubs without CAP_SYS_PTRACE.
    mov $157, %eax
    mov $4, %edi
    mov $1, %esi
    syscall
    // prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    mov $157, %eax
    mov $38, %edi
    mov $1, %esi
    xor %edx, %edx
    xor %r10d, %r10d
    xor %r8d, %r8d
    syscall
    // seccomp(SECCOMP_SET_MODE_FILTER, 0, &fprog)
    mov $317, %eax
    mov $1, %edi
    xor %esi, %esi
    lea 96(%r15), %rdx
    syscall
    test %rax, %rax
    jnz 7f
    // Init is complete: stop for the Sentry (which then detaches), then park.
    int3
    jmp stub_park
7:  // No filter, no stub: exit_group(111) so the Sentry sees it fail.
    mov $231, %eax
    mov $111, %edi
    syscall
stub_park:
    mov $34, %eax
    syscall
    jmp stub_park
stub_syscall:
    syscall
    int3
stub_clone:
    syscall
    test %rax, %rax
    jz 5f
    int3
5:  // The child: die with the master stub, whose own parent-death signal
    // ties it to the Sentry (fork clears the setting, so set it again).
    mov $157, %eax
    mov $1, %edi
    mov $9, %esi
    syscall
    jmp stub_park
stub_batch:
    test %r13, %r13
    jz 6f
    mov 0(%r12), %rax
    mov 8(%r12), %rdi
    mov 16(%r12), %rsi
    mov 24(%r12), %rdx
    mov 32(%r12), %r10
    mov 40(%r12), %r8
    mov 48(%r12), %r9
    syscall
    cmp $-4095, %rax
    jae 6f
    add $56, %r12
    dec %r13
    jmp stub_batch
6:  int3

// ---------------------------------------------------------------------
// systrap: signal-based interception without ptrace stops.
//
// Each stub thread has a "slot": a context page shared with the Sentry
// (layout in platform/systrap/context.h), an FP page, then its signal
// stack. Every syscall from outside the stub code raises SIGSYS (seccomp
// SECCOMP_RET_TRAP); faults raise SIGSEGV and friends. The handler below
// copies the thread's state into the context page, hands the Sentry the
// ball (state = 1, futex wake), and executes the Sentry's commands until
// told to resume, then returns through rt_sigreturn with the registers the
// Sentry gave it.
//
// Context page offsets (must match context.h):
#define CTX_STATE 0
#define CTX_CMD 4
#define CTX_FPSIZE 8
#define CTX_FPDIRTY 12
#define CTX_NOPS 16
#define CTX_RESULT 24
#define CTX_REMAIN 32
#define CTX_FSBASE 40
#define CTX_GSBASE 48
#define CTX_STUB_SLEEPING 56
#define CTX_SENTRY_SLEEPING 60
#define CTX_SPIN 64
#define CTX_SENTRY_BLOCKED 72
#define CTX_INFO 128
#define CTX_GREGS 256
#define CTX_OPS 512
#define CTX_FP 4096
#define SLOT_CTX_BYTES 8192
#define CMD_RESUME 1
#define CMD_BATCH 2
#define CMD_EXIT 3
#define CMD_CLONE 4
    .globl systrap_handler, systrap_restorer, systrap_boot, systrap_thread_start
systrap_handler:
    // rdi = signo, rsi = siginfo, rdx = ucontext; on the slot's signal stack.
    mov 16(%rdx), %r15            // uc_stack.ss_sp: the signal stack
    sub $SLOT_CTX_BYTES, %r15     // the context page precedes it
    mov %rdx, %r14
    mov %rsi, %r13
    // A new thread announces itself with ud2 at systrap_boot: no state to
    // report, just wait for the first command.
    lea systrap_boot(%rip), %rax
    cmp %rax, 40+16*8(%r14)       // gregs[REG_RIP]
    jne 1f
    movl $0, CTX_INFO(%r15)       // si_signo 0: "ready"
    jmp 3f
1:  lea CTX_INFO(%r15), %rdi
    mov %r13, %rsi
    mov $128, %ecx
    rep movsb
    lea CTX_GREGS(%r15), %rdi
    lea 40(%r14), %rsi
    mov $184, %ecx
    rep movsb
    rdfsbase %rax
    mov %rax, CTX_FSBASE(%r15)
    rdgsbase %rax
    mov %rax, CTX_GSBASE(%r15)
    mov 40+184(%r14), %rsi        // uc_mcontext.fpregs
    test %rsi, %rsi
    jz 3f
    lea CTX_FP(%r15), %rdi
    mov CTX_FPSIZE(%r15), %ecx
    rep movsb
3:  // Hand over to the Sentry; wake it only if it went to sleep (the
    // fence pairs with the one in its Wait: one of us sees the other).
    movl $1, CTX_STATE(%r15)
    mfence
    cmpl $0, CTX_SENTRY_SLEEPING(%r15)
    je 4f
    lea CTX_STATE(%r15), %rdi
    mov $1, %esi                  // FUTEX_WAKE
    mov $1, %edx
    xor %r10d, %r10d
    mov $202, %eax
    syscall
4:  // Wait for a command: spin a while, then sleep on the futex.
    mov CTX_SPIN(%r15), %rcx
5:  cmpl $2, CTX_STATE(%r15)
    je 6f
    cmpl $0, CTX_SENTRY_BLOCKED(%r15)
    jne 8f                        // the Sentry's task sleeps: so do we
    pause
    dec %rcx
    jnz 5b
8:
    movl $1, CTX_STUB_SLEEPING(%r15)
    mfence
    cmpl $2, CTX_STATE(%r15)
    je 7f
    lea CTX_STATE(%r15), %rdi
    xor %esi, %esi                // FUTEX_WAIT while the state is still 1
    mov $1, %edx
    xor %r10d, %r10d
    mov $202, %eax
    syscall
7:  movl $0, CTX_STUB_SLEEPING(%r15)
    jmp 4b
6:  mov CTX_CMD(%r15), %eax
    cmp $CMD_RESUME, %eax
    je 20f
    cmp $CMD_BATCH, %eax
    je 10f
    cmp $CMD_CLONE, %eax
    je 30f
    cmp $CMD_EXIT, %eax
    je 40f
    jmp 3b                        // unknown command: report back
10: // Run the ops in the context page, stop at the first failure.
    lea CTX_OPS(%r15), %r12
    mov CTX_NOPS(%r15), %r13
11: test %r13, %r13
    jz 12f
    mov 0(%r12), %rax
    mov 8(%r12), %rdi
    mov 16(%r12), %rsi
    mov 24(%r12), %rdx
    mov 32(%r12), %r10
    mov 40(%r12), %r8
    mov 48(%r12), %r9
    syscall
    mov %rax, CTX_RESULT(%r15)
    cmp $-4095, %rax
    jae 12f
    add $56, %r12
    dec %r13
    jmp 11b
12: mov %r13, CTX_REMAIN(%r15)
    jmp 3b
20: // Resume: the Sentry's registers go back into the signal frame.
    lea 40(%r14), %rdi
    lea CTX_GREGS(%r15), %rsi
    mov $184, %ecx
    rep movsb
    cmpl $0, CTX_FPDIRTY(%r15)
    je 21f
    mov 40+184(%r14), %rdi
    test %rdi, %rdi
    jz 21f
    lea CTX_FP(%r15), %rsi
    mov CTX_FPSIZE(%r15), %ecx
    rep movsb
21: mov CTX_FSBASE(%r15), %rax
    wrfsbase %rax
    mov CTX_GSBASE(%r15), %rax
    wrgsbase %rax
    ret                           // to systrap_restorer
30: // Clone a thread: ops[0] = clone(flags, stack, 0, 0, 0); the child's
    // slot address is ops[0].a[5] and ends up in %r12 of the child.
    lea CTX_OPS(%r15), %rax
    mov 8(%rax), %rdi
    mov 16(%rax), %rsi
    xor %edx, %edx
    xor %r10d, %r10d
    xor %r8d, %r8d
    mov 48(%rax), %r12
    mov $56, %eax
    syscall
    test %rax, %rax
    jz systrap_thread_start
    mov %rax, CTX_RESULT(%r15)
    jmp 3b
40: // Exit this thread.
    mov $60, %eax
    xor %edi, %edi
    syscall
    jmp 40b
systrap_thread_start:
    // A new thread, on its new stack, %r12 = its slot (context page).
    // Unblock everything (the parent's handler mask was inherited), take
    // the slot's signal stack, then announce ourselves with ud2.
    sub $32, %rsp
    movq $0, (%rsp)
    mov $14, %eax                 // rt_sigprocmask(SIG_SETMASK, &zero, NULL, 8)
    mov $2, %edi
    mov %rsp, %rsi
    xor %edx, %edx
    mov $8, %r10d
    syscall
    lea SLOT_CTX_BYTES(%r12), %rax
    mov %rax, 0(%rsp)             // stack_t.ss_sp
    movl $0, 8(%rsp)              // ss_flags
    movq $16384, 16(%rsp)         // ss_size (SLOT_STACK_BYTES)
    mov $131, %eax                // sigaltstack(&ss, NULL)
    mov %rsp, %rdi
    xor %esi, %esi
    syscall
systrap_boot:
    ud2
systrap_restorer:
    mov $15, %eax                 // rt_sigreturn
    syscall
    ud2
stub_end:
    .balign 4096
    .section .note.GNU-stack, "", @progbits
