#include "shell/shell.hpp"

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/ps2_keyboard.hpp"
#include "arch/x86_64/serial.hpp"
#include "kernel/console.hpp"
#include "lib/string.hpp"
#include "shell/command.hpp"
#include "shell/input/line_editor.hpp"
#include "shell/input/ps2_decoder.hpp"
#include "shell/picture.hpp"
#include "smp/idle.hpp"
#include "smp/smp_init.hpp"

extern "C" const shell::Command* const __shell_commands_start[];
extern "C" const shell::Command* const __shell_commands_end[];

namespace shell {
namespace {

bool interrupt_requested = false;

struct RemoteRun {
    const Command* command;
    Args* args;
};

void run_remote(std::uint32_t, void* context) {
    auto* remote = static_cast<RemoteRun*>(context);
    remote->command->run(*remote->args);
}

// Splits, checks and runs one command line on CPU `cpu` (the shell itself stays on CPU 0 and
// waits for it).
void run_line_on(const char* line, std::uint32_t cpu) {
    Args args;
    if (!args.split(line)) {
        kprint("error: {}\n", args.error());
        return;
    }
    if (args.word_count() == 0) {
        return;
    }
    const Command* command = find_command(args.command());
    if (command == nullptr) {
        kprint("unknown command '{}'; type 'help' for the list\n", args.command());
        return;
    }
    if ((command->flags & kRawArguments) == 0 &&
        (!args.parse(command->options, command->option_count) ||
         !args.check_positionals(command->usage))) {
        kprint("{}: {}\n", command->name, args.error());
        return;
    }
    if (cpu != 0 && (command->flags & kBootCpuOnly) != 0) {
        kprint("on: '{}' drives the CPUs from CPU 0 itself; run it without 'on'\n", command->name);
        return;
    }
    interrupt_requested = false;
    RemoteRun remote{command, &args};
    smp::run_on_cpu(cpu, run_remote, &remote);
}

void run_on(Args& args) {
    std::uint64_t cpu = 0;
    std::uint32_t online = smp::online_cpu_count();
    if (args.word_count() < 3) {
        kprint("on: usage: on CPU COMMAND [ARGUMENTS] (see: help on)\n");
        return;
    }
    if (!lib::parse_unsigned(args.word(1), cpu) || cpu >= online) {
        kprint("on: CPU takes 0..{} (the online CPUs), not '{}'\n", online - 1, args.word(1));
        return;
    }
    kprint("on: running '{}' on CPU {}\n", args.rest(2), cpu);
    run_line_on(args.rest(2), std::uint32_t(cpu));
}

REGISTER_COMMAND("on", "CPU COMMAND", "run a command on another CPU, e.g. 'on 2 alloc 1'", nullptr,
                 0, run_on, nullptr, kRawArguments | kBootCpuOnly);

void run_line(const char* line) {
    run_line_on(line, 0);
}

}  // namespace

const Command* const* commands_begin() {
    return __shell_commands_start;
}
const Command* const* commands_end() {
    return __shell_commands_end;
}

const Command* find_command(const char* name) {
    for (const Command* const* c = commands_begin(); c != commands_end(); ++c) {
        if (lib::strings_equal((*c)->name, name)) {
            return *c;
        }
    }
    return nullptr;
}

bool interrupted() {
    int c;
    while ((c = serial::read_char()) >= 0) {
        if (c == 0x03) {
            interrupt_requested = true;
        }
    }
    return interrupt_requested;
}

bool key_pressed() {
    bool any = false;
    while (serial::read_char() >= 0) {
        any = true;
    }
    for (int scancode; (scancode = ps2::read_scancode()) >= 0;) {
        any = any || scancode < 0x80;  // a key going down, not one coming up
    }
    return any;
}

// Bytes typed on the serial console or, decoded, on the PS/2 keyboard; -1 when neither has one.
int read_input(Ps2Decoder& keyboard) {
    static char pending[3];
    static std::size_t pending_count = 0, pending_next = 0;
    if (pending_next < pending_count) {
        return static_cast<unsigned char>(pending[pending_next++]);
    }
    int c = serial::read_char();
    if (c >= 0) {
        return c;
    }
    int scancode = ps2::read_scancode();
    if (scancode < 0) {
        return -1;
    }
    pending_count = keyboard.feed(std::uint8_t(scancode), pending);
    pending_next = 0;
    return pending_next < pending_count ? static_cast<unsigned char>(pending[pending_next++]) : -1;
}

void run() {
    LineEditor editor(console::sink());
    // Tab completes command names; the table is fixed once the kernel is linked.
    static const char* names[64];
    std::size_t name_count = 0;
    for (const Command* const* c = commands_begin(); c != commands_end() && name_count < 64; ++c) {
        names[name_count++] = (*c)->name;
    }
    editor.set_completions(names, name_count);
    Ps2Decoder keyboard;
    for (;;) {
        editor.start("> ");
        for (;;) {
            int c = read_input(keyboard);
            if (c < 0) {
                picture::tick(cpu::read_tsc());
                cpu::pause();
                continue;
            }
            if (c == picture::kToggleKey) {
                picture::toggle();
                continue;
            }
            if (editor.feed(char(c))) {
                break;
            }
        }
        run_line(editor.line());
    }
}

}  // namespace shell
