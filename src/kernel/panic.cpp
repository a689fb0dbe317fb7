#include "kernel/panic.hpp"

#include <atomic>

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/interrupt_frame.hpp"
#include "arch/x86_64/layout.h"
#include "kernel/console.hpp"
#include "kernel/kernel_vm.hpp"
#include "kernel/line_table.hpp"
#include "kernel/paging.hpp"
#include "kernel/percpu.hpp"
#include "kernel/power.hpp"
#include "kernel/symbols.hpp"

extern "C" char __text_start[], __text_end[], boot_stack_guard[];

namespace {

std::atomic<bool> panicking{false};
void (*stop_other_cpus_hook)() = nullptr;

const char* const exception_names[32] = {"divide error",
                                         "debug",
                                         "non-maskable interrupt",
                                         "breakpoint",
                                         "overflow",
                                         "bound range exceeded",
                                         "invalid opcode",
                                         "device not available",
                                         "double fault",
                                         "coprocessor segment overrun",
                                         "invalid TSS",
                                         "segment not present",
                                         "stack-segment fault",
                                         "general protection fault",
                                         "page fault",
                                         "reserved",
                                         "x87 floating-point error",
                                         "alignment check",
                                         "machine check",
                                         "SIMD floating-point error",
                                         "virtualization exception",
                                         "control protection exception",
                                         "reserved",
                                         "reserved",
                                         "reserved",
                                         "reserved",
                                         "reserved",
                                         "reserved",
                                         "hypervisor injection exception",
                                         "VMM communication exception",
                                         "security exception",
                                         "reserved"};

template <typename... Args>
void report(const char* pattern, const Args&... args) {
    lib::format(console::unlocked_sink(), pattern, args...);
}

// Only one CPU prints a report; another CPU that panics meanwhile stops quietly, so two
// reports never interleave. Returns the panicking CPU's index (or ~0 before per-CPU data).
std::uint32_t begin_panic() {
    cpu::disable_interrupts();
    if (panicking.exchange(true)) {
        cpu::halt_forever();
    }
    console::enter_panic_mode();
    if (stop_other_cpus_hook != nullptr) {
        stop_other_cpus_hook();
    }
    return smp::cpu_index();
}

bool in_kernel_text(std::uint64_t address) {
    return address >= reinterpret_cast<std::uint64_t>(__text_start) &&
           address < reinterpret_cast<std::uint64_t>(__text_end);
}

// "0x... name+0x12 at file:line", then one line per function inlined at that address.
void print_location(std::uint64_t address) {
    symbols::Match match;
    if (symbols::lookup(address, match)) {
        report("{:#x} {}+{:#x}", address, match.name, match.offset);
    } else {
        report("{:#x} ??", address);
    }
    lib::StringView entry, part;
    if (!line_table::lookup(address, entry)) {
        report("\n");
        return;
    }
    line_table::next_part(entry, part);
    report(" at {}\n", part);
    // Innermost last in the table; a reader wants the code that ran first, as gdb shows it.
    lib::StringView inlined[8];
    std::size_t depth = 0;
    while (depth < 8 && line_table::next_part(entry, part)) {
        inlined[depth++] = part;
    }
    while (depth > 0) {
        lib::StringView level = inlined[--depth];
        std::size_t at = 0;
        while (at < level.length && level.text[at] != '@') {
            ++at;
        }
        std::size_t after = at < level.length ? at + 1 : at;
        lib::StringView location{level.text + after, level.length - after};
        if (at == 0) {
            report("       inlined code at {}\n", location);  // the table has no name for it
        } else {
            report("       inlined: {} at {}\n", lib::StringView{level.text, at}, location);
        }
    }
}

// Walks the frame-pointer chain (the kernel is built with -fno-omit-frame-pointer). Every frame
// pointer is checked to be aligned and mapped before it is read: a corrupted chain must not fault
// inside the panic handler. Runs of one return address (a recursion) print once with a count.
void print_backtrace(std::uint64_t rip, std::uint64_t rbp) {
    constexpr int kMaxDepth = 256;
    report("backtrace:\n");
    report("  #0 ");
    print_location(rip);
    std::uint64_t previous = 0;
    int repeats = 0;
    int depth = 1;
    for (; depth < kMaxDepth; ++depth) {
        if (rbp == 0 || rbp % 8 != 0 || !paging::is_mapped(rbp) || !paging::is_mapped(rbp + 8)) {
            break;
        }
        auto* frame = reinterpret_cast<const std::uint64_t*>(rbp);
        std::uint64_t return_address = frame[1];
        if (!in_kernel_text(return_address)) {
            break;
        }
        rbp = frame[0];
        if (return_address == previous) {
            ++repeats;
            continue;
        }
        if (repeats > 0) {
            report("     ... the frame above {} more times\n", repeats);
            repeats = 0;
        }
        previous = return_address;
        // The return address points after the call; one byte back names the calling line.
        report("  #{} ", depth);
        print_location(return_address - 1);
    }
    if (repeats > 0) {
        report("     ... the frame above {} more times\n", repeats);
    }
    if (depth == kMaxDepth) {
        report("  (stopped after {} frames)\n", kMaxDepth);
    }
    if (!symbols::available()) {
        report("  (no symbol table module loaded: addresses only)\n");
    }
}

// The boot stack's guard page is the one page left unmapped below it (see paging.cpp); a fault
// there, or a stack pointer inside it, means the stack ran out.
bool in_stack_guard(std::uint64_t address) {
    auto guard = reinterpret_cast<std::uint64_t>(boot_stack_guard);
    return address >= guard && address < guard + 4096;
}

void print_registers(const InterruptFrame& f) {
    report("  RAX {:016x}  RBX {:016x}  RCX {:016x}\n", f.rax, f.rbx, f.rcx);
    report("  RDX {:016x}  RSI {:016x}  RDI {:016x}\n", f.rdx, f.rsi, f.rdi);
    report("  RBP {:016x}  RSP {:016x}  R8  {:016x}\n", f.rbp, f.rsp, f.r8);
    report("  R9  {:016x}  R10 {:016x}  R11 {:016x}\n", f.r9, f.r10, f.r11);
    report("  R12 {:016x}  R13 {:016x}  R14 {:016x}\n", f.r12, f.r13, f.r14);
    report("  R15 {:016x}  RIP {:016x}  RFLAGS {:08x}\n", f.r15, f.rip, f.rflags);
    report("  CS {:04x}  SS {:04x}  CR2 {:016x}  CR3 {:016x}\n", f.cs, f.ss, cpu::read_cr2(),
           cpu::read_cr3());
}

// A fault address in the vmalloc area is explained by what lies there: the mapping, the guard
// gap beside one, or a mapping freed (by which CPU).
void describe_vmalloc_address(std::uint64_t address) {
    if (!kvm::in_area(address)) {
        return;
    }
    vm::Place place;
    if (!kvm::locate(address, place)) {
        report("  {:#x} is in the vmalloc area (its lock is held, so no more is known)\n", address);
        return;
    }
    const vm::RangeRecord& r = place.range;
    switch (place.kind) {
        case vm::Place::Kind::inside:
            report("  {:#x} is inside the {} mapping at {:#x}..{:#x} (made by CPU {})\n", address,
                   vm::to_string(r.kind), r.begin, r.end, r.cpu);
            break;
        case vm::Place::Kind::guard_after:
            report(
                "  {:#x} is in a guard gap after the {} mapping at {:#x}..{:#x} (made by CPU {})\n",
                address, vm::to_string(r.kind), r.begin, r.end, r.cpu);
            break;
        case vm::Place::Kind::guard_below:
            report(
                "  {:#x} is in the guard gap below the {} mapping at {:#x}..{:#x} (made by CPU "
                "{})\n",
                address, vm::to_string(r.kind), r.begin, r.end, r.cpu);
            break;
        case vm::Place::Kind::freed:
            report("  {:#x} is in the mapping at {:#x}..{:#x}, freed by CPU {}\n", address,
                   place.freed.begin, place.freed.end, place.freed.cpu);
            break;
        case vm::Place::Kind::unused:
        case vm::Place::Kind::outside:
            report("  {:#x} is in the vmalloc area, in no mapping and beside none\n", address);
            break;
    }
}

[[noreturn]] void end_panic() {
    report("System halted.\n");
    power::exit_qemu(power::kExitPanic);
    cpu::halt_forever();
}

}  // namespace

void set_panic_stop_hook(void (*stop_other_cpus)()) {
    stop_other_cpus_hook = stop_other_cpus;
}

[[noreturn]] void panic_from_exception(const InterruptFrame& frame) {
    std::uint32_t cpu_index = begin_panic();
    const char* name = frame.vector < 32 ? exception_names[frame.vector] : "interrupt";
    report("\nPANIC on CPU {}: {} (vector {}, error code {:#x})\n", cpu_index, name, frame.vector,
           frame.error_code);
    if (frame.vector == 14) {
        std::uint64_t e = frame.error_code;
        report("  page fault at {:#x}: {} {}, {} mode{}\n", cpu::read_cr2(),
               (e & 2) ? "write to" : "read from",
               (e & 1) ? "a protected page" : "an unmapped page", (e & 4) ? "user" : "kernel",
               (e & 16) ? ", instruction fetch" : "");
    }
    if (frame.vector == 14 || frame.vector == 8) {
        // A double fault from a stack overflow leaves the first fault's address in CR2.
        describe_vmalloc_address(cpu::read_cr2());
    }
    if ((frame.vector == 8 || frame.vector == 14) &&
        (in_stack_guard(cpu::read_cr2()) || in_stack_guard(frame.rsp))) {
        report("  stack overflow: the stack ran into its guard page at {:#x} (RSP {:#x})\n",
               reinterpret_cast<std::uint64_t>(boot_stack_guard), frame.rsp);
    }
    print_registers(frame);
    print_backtrace(frame.rip, frame.rbp);
    end_panic();
}

namespace panic_detail {

[[noreturn]] void panic_with(const char* file, int line, const char* pattern,
                             const lib::FormatArg* args, std::size_t count) {
    // Captured first, before the report's own calls disturb them.
    InterruptFrame frame{};
    asm volatile("mov %%rbx, %0; mov %%r12, %1; mov %%r13, %2; mov %%r14, %3; mov %%r15, %4"
                 : "=m"(frame.rbx), "=m"(frame.r12), "=m"(frame.r13), "=m"(frame.r14),
                   "=m"(frame.r15));
    frame.rbp = reinterpret_cast<std::uint64_t>(__builtin_frame_address(0));
    frame.rip = reinterpret_cast<std::uint64_t>(__builtin_return_address(0));
    asm volatile("mov %%rsp, %0" : "=m"(frame.rsp));
    frame.rflags = cpu::read_flags();
    asm volatile("mov %%cs, %0" : "=r"(frame.cs));
    asm volatile("mov %%ss, %0" : "=r"(frame.ss));

    std::uint32_t cpu_index = begin_panic();
    report("\nPANIC on CPU {} at {}:{}: ", cpu_index, file, line);
    lib::vformat(console::unlocked_sink(), pattern, args, count);
    report("\n");
    print_registers(frame);
    auto* caller_frame = static_cast<const std::uint64_t*>(__builtin_frame_address(0));
    print_backtrace(frame.rip - 1, caller_frame[0]);
    end_panic();
}

}  // namespace panic_detail
