// Shell commands register themselves: each command file defines a `Command` with
// REGISTER_COMMAND, which puts a pointer to it in the `.shell_commands` linker section; the shell
// finds them all between the section's start and end symbols. Adding a command touches one file.
// The section holds pointers, not the objects: the compiler may pad and align objects as it
// likes, but an array of pointers has no gaps.
#pragma once

#include <cstddef>
#include <cstdint>

#include "shell/input/args.hpp"

namespace shell {

struct Command {
    const char* name;
    const char* usage;    // positional arguments, e.g. "ADDR N"; "" when none
    const char* summary;  // one line, shown by `help`
    const OptionSpec* options;
    std::size_t option_count;
    // Arguments are already split, matched against `options` and counted against `usage`.
    void (*run)(Args& args);
    // Prints more lines for `help NAME` (e.g. the values a positional takes); nullptr if none.
    void (*details)() = nullptr;
    std::uint8_t flags = 0;  // kBootCpuOnly, kRawArguments
};

// The command drives every CPU from the boot CPU itself: `on` cannot move it elsewhere.
inline constexpr std::uint8_t kBootCpuOnly = 1;
// The command reads its words itself (a prefix such as `on`): no option matching, no count.
inline constexpr std::uint8_t kRawArguments = 2;

// "1 frame", "2 frames": the noun for a count.
constexpr const char* frames_noun(std::uint64_t count) {
    return count == 1 ? "frame" : "frames";
}

const Command* find_command(const char* name);
const Command* const* commands_begin();
const Command* const* commands_end();

}  // namespace shell

#define SHELL_CONCAT_INNER(a, b) a##b
#define SHELL_CONCAT(a, b) SHELL_CONCAT_INNER(a, b)
#define REGISTER_COMMAND(...)                                                                  \
    constexpr ::shell::Command SHELL_CONCAT(registered_command_, __LINE__){__VA_ARGS__};       \
    [[gnu::used, gnu::section(".shell_commands")]] const ::shell::Command* const SHELL_CONCAT( \
        registered_command_pointer_, __LINE__) = &SHELL_CONCAT(registered_command_, __LINE__)
