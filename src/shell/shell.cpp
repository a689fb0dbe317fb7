#include "shell/shell.hpp"

#include "boot/console.hpp"
#include "boot/cpu.hpp"
#include "boot/serial.hpp"
#include "lib/string.hpp"
#include "shell/command.hpp"
#include "shell/line_editor.hpp"

extern "C" const shell::Command* const __shell_commands_start[];
extern "C" const shell::Command* const __shell_commands_end[];

namespace shell {
namespace {

bool interrupt_requested = false;

void run_line(const char* line) {
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
    if (!args.parse(command->options, command->option_count)) {
        kprint("{}: {}\n", command->name, args.error());
        return;
    }
    interrupt_requested = false;
    command->run(args);
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

void run() {
    LineEditor editor(console::sink());
    for (;;) {
        editor.start("> ");
        for (;;) {
            int c = serial::read_char();
            if (c < 0) {
                cpu::pause();
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
