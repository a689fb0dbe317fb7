// Commands about the shell and the machine as a whole: help, log, poweroff, reboot, crash.
#include "arch/x86_64/direct_map.hpp"
#include "kernel/console.hpp"
#include "kernel/kernel_heap.hpp"
#include "kernel/kernel_memory.hpp"
#include "kernel/kernel_vm.hpp"
#include "kernel/panic.hpp"
#include "kernel/percpu.hpp"
#include "kernel/power.hpp"
#include "lib/string.hpp"
#include "shell/command.hpp"
#include "smp/idle.hpp"

namespace shell {
namespace {

// "--name=VALUE" or "--name": the left column of an option's help line.
std::size_t option_label(const OptionSpec& o, char* out, std::size_t size) {
    return o.value_name != nullptr ? lib::format_to(out, size, "--{}={}", o.name, o.value_name)
                                   : lib::format_to(out, size, "--{}", o.name);
}

void print_command_help(const Command& c) {
    kprint("{} {}\n  {}\n", c.name, c.usage, c.summary);
    // One column for every option's label, as wide as the widest: the help texts line up.
    std::size_t width = 0;
    for (std::size_t i = 0; i < c.option_count; ++i) {
        char label[64];
        std::size_t length = option_label(c.options[i], label, sizeof(label));
        width = length > width ? length : width;
    }
    for (std::size_t i = 0; i < c.option_count; ++i) {
        char label[64];
        std::size_t length = option_label(c.options[i], label, sizeof(label));
        lib::fill_memory(label + length, ' ', width - length);
        kprint("  {}  {}\n", lib::StringView{label, width}, c.options[i].help);
    }
    if (c.details != nullptr) {
        c.details();
    }
}

void run_help(Args& args) {
    if (args.positional_count() > 0) {
        const Command* c = find_command(args.positional(0));
        if (c == nullptr) {
            kprint("help: no command '{}'\n", args.positional(0));
            return;
        }
        print_command_help(*c);
        return;
    }
    // Listed in name order whatever order the linker placed them in.
    const char* previous = "";
    for (;;) {
        const Command* next = nullptr;
        for (const Command* const* c = commands_begin(); c != commands_end(); ++c) {
            const char* name = (*c)->name;
            bool after_previous = lib::compare_strings(name, previous) > 0;
            if (after_previous && (next == nullptr || lib::compare_strings(name, next->name) < 0)) {
                next = *c;
            }
        }
        if (next == nullptr) {
            break;
        }
        kprint("  {:<10} {}\n", next->name, next->summary);
        previous = next->name;
    }
    kprint("Type 'help COMMAND' for its options.\n");
}

REGISTER_COMMAND("help", "[COMMAND]", "list the commands, or show one command's options", nullptr,
                 0, run_help);

void run_log(Args&) {
    console::show_log();
}

REGISTER_COMMAND("log", "", "print the boot log (everything the kernel printed) again", nullptr, 0,
                 run_log);

void run_poweroff(Args&) {
    power::power_off();
}
REGISTER_COMMAND("poweroff", "", "switch the machine off (ends QEMU)", nullptr, 0, run_poweroff);

void run_reboot(Args&) {
    power::reboot();
}
REGISTER_COMMAND("reboot", "", "reset the machine; under make run (-no-reboot) QEMU exits", nullptr,
                 0, run_reboot);

// Always inlined, so the page fault's report shows an inlined call in its first frame (the
// backtrace test looks for it).
[[gnu::always_inline]] inline void write_to(std::uintptr_t address, std::uint64_t value) {
    *reinterpret_cast<volatile std::uint64_t*>(address) = value;
}

// Each fault is raised in a function of its own, so the backtrace test can look for its name.
[[gnu::noinline]] void crash_page_fault() {
    std::uintptr_t address = 0x10;     // page 0 is never mapped
    asm volatile("" : "+r"(address));  // hide the constant so the compiler cannot object
    write_to(address, 0xBAD);
}

// An explicit `div`: the compiler turns `1 / x` into a comparison that never faults.
[[gnu::noinline]] void crash_divide_error() {
    std::uint64_t quotient = 1;
    std::uint64_t remainder = 0;
    std::uint64_t divisor = 0;
    asm volatile("divq %2" : "+a"(quotient), "+d"(remainder) : "r"(divisor));
}

[[gnu::noinline]] void crash_invalid_opcode() {
    asm volatile("ud2");
}

[[gnu::noinline]] void crash_assert() {
    volatile int answer = 41;
    ASSERT(answer == 42);
}

// Recurses until the stack runs into its guard page; the double-fault stack reports it.
[[gnu::noinline]] std::uint64_t crash_stack_overflow(std::uint64_t depth) {
    volatile char pad[512];
    pad[0] = char(depth);
    if (depth == ~std::uint64_t{0}) {
        return 0;  // never reached; tells the compiler the recursion is not unconditional
    }
    return crash_stack_overflow(depth + 1) + pad[0];
}

// Frees a frame, writes into it, and asks for a frame again: the allocator hands the same
// frame back (a free right below the marker moves the marker back onto it), and a kernel
// built with DEBUG_FILL=1 finds its fill pattern broken and panics naming frame and CPU.
[[gnu::noinline]] void crash_use_after_free() {
    if (!kmem::kDebugFill) {
        kprint(
            "crash: this kernel was built without DEBUG_FILL=1, so writes after free are not "
            "checked; nothing done\n");
        return;
    }
    auto frame = kmem::allocate_frames(1);
    if (!frame || !kmem::free_frames(frame.value(), 1)) {
        kprint("crash: could not set up the use after free\n");
        return;
    }
    static_cast<volatile std::uint64_t*>(phys_to_virt(frame.value()))[7] = 0xBAD;
    auto again = kmem::allocate_frames(1);
    kprint("crash: got {:#x} back (freed {:#x}) and no report\n", again.value_or(0), frame.value());
}

// Writes one word past the end of a one-page vmalloc: into the guard gap after it.
[[gnu::noinline]] void crash_vmalloc_guard() {
    auto mapping = kvm::vmalloc(mm::kFrameSize);
    if (!mapping) {
        kprint("crash: vmalloc failed: {}\n", vm::to_string(mapping.error()));
        return;
    }
    auto* words = static_cast<volatile std::uint64_t*>(mapping.value());
    words[0] = 1;
    words[mm::kFrameSize / sizeof(std::uint64_t)] = 0xBAD;
}

// Reads a vmalloc mapping after vfree: the report says who freed it.
[[gnu::noinline]] void crash_vfree_use() {
    auto mapping = kvm::vmalloc(2 * mm::kFrameSize);
    if (!mapping) {
        kprint("crash: vmalloc failed: {}\n", vm::to_string(mapping.error()));
        return;
    }
    auto* words = static_cast<volatile std::uint64_t*>(mapping.value());
    words[0] = 1;
    if (!kvm::vfree(mapping.value())) {
        kprint("crash: vfree failed\n");
        return;
    }
    kprint("crash: read {} after vfree and no fault\n", words[600]);
}

// CPU 1 overflows its stack (from the vmalloc area): the page fault below it becomes a double
// fault whose report names the guard gap below CPU 1's stack.
void overflow_on_cpu_one(std::uint32_t cpu, void*) {
    if (cpu == 1) {
        kprint("crash: CPU 1 overflows its stack\n");
        kprint("crash: {}\n", crash_stack_overflow(0));
    }
}

// Writes one byte past a heap object and frees it: a kernel built with DEBUG_FILL=1 finds the
// object's red zone broken and panics naming the object, its cache and the offset.
[[gnu::noinline]] void crash_heap_overflow() {
    if (!kheap::KernelHeap::Cache::kDebugChecks) {
        kprint(
            "crash: this kernel was built without DEBUG_FILL=1, so heap red zones are not "
            "checked; nothing done\n");
        return;
    }
    auto object = kheap::kmalloc(40);  // kmalloc-48: bytes 48.. are the red zone
    if (!object) {
        kprint("crash: could not set up the heap overflow\n");
        return;
    }
    static_cast<volatile std::uint8_t*>(object.value())[48] = 0;
    (void)kheap::kfree(object.value());
    kprint("crash: freed {:#x} after a write past its end and no report\n",
           reinterpret_cast<std::uint64_t>(object.value()));
}

void crash_stack_overflow_report() {
    kprint("crash: {}\n", crash_stack_overflow(0));
}

void crash_ap_stack_overflow() {
    if (smp::online_cpu_count() < 2) {
        kprint("crash: ap-stack-overflow needs a second CPU; nothing done\n");
        return;
    }
    smp::run_on_cpus(2, overflow_on_cpu_one, nullptr);
}

struct CrashKind {
    const char* name;
    void (*run)();
};

// The one list of kinds: `crash` dispatches on it and prints it when asked for another.
const CrashKind kCrashKinds[] = {
    {"page-fault", crash_page_fault},
    {"divide", crash_divide_error},
    {"invalid-opcode", crash_invalid_opcode},
    {"assert", crash_assert},
    {"stack-overflow", crash_stack_overflow_report},
    {"use-after-free", crash_use_after_free},
    {"heap-overflow", crash_heap_overflow},
    {"vmalloc-guard", crash_vmalloc_guard},
    {"vfree-use", crash_vfree_use},
    {"ap-stack-overflow", crash_ap_stack_overflow},
};

// Wrapped to fit 80 columns, like every help page.
void print_crash_kinds() {
    constexpr std::size_t kWidth = 80;
    kprint("kinds:");
    std::size_t column = 6;
    for (const CrashKind& k : kCrashKinds) {
        std::size_t length = lib::string_length(k.name);
        if (column + 1 + length > kWidth) {
            kprint("\n      ");
            column = 6;
        }
        kprint(" {}", k.name);
        column += 1 + length;
    }
    kprint("\n");
}

void run_crash(Args& args) {
    const char* kind = args.positional(0);
    for (const CrashKind& k : kCrashKinds) {
        if (kind != nullptr && lib::strings_equal(kind, k.name)) {
            k.run();
            return;
        }
    }
    if (kind == nullptr) {
        kprint("crash: which fault?\n");
    } else {
        kprint("crash: unknown fault '{}'\n", kind);
    }
    print_crash_kinds();
}

void print_crash_help() {
    print_crash_kinds();
    kprint("  use-after-free and heap-overflow need a kernel built with DEBUG_FILL=1\n");
}

REGISTER_COMMAND("crash", "[KIND]", "fault on purpose to show a panic report (a debug path)",
                 nullptr, 0, run_crash, print_crash_help);

}  // namespace
}  // namespace shell
