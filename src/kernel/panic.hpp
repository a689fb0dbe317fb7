// Panics are for broken invariants: they print what went wrong, the CPU, the registers when an
// exception caused them, and a symbolised backtrace, then stop the machine (under test, with the
// failure exit code that the harness recognises).
#pragma once

#include <cstdint>

#include "lib/format.hpp"

struct InterruptFrame;

namespace panic_detail {

[[noreturn]] void panic_with(const char* file, int line, const char* pattern,
                             const lib::FormatArg* args, std::size_t count);

template <typename... Args>
[[noreturn]] void panic(const char* file, int line, const char* pattern, const Args&... args) {
    const lib::FormatArg list[sizeof...(Args) + 1] = {lib::FormatArg(args)...,
                                                      lib::FormatArg(false)};
    panic_with(file, line, pattern, list, sizeof...(Args));
}

}  // namespace panic_detail

// A CPU exception nobody handles: vector, error code, registers, CR2/CR3, backtrace.
[[noreturn]] void panic_from_exception(const InterruptFrame& frame);

// SMP code registers how to stop the other CPUs, so a panic freezes the whole machine.
void set_panic_stop_hook(void (*stop_other_cpus)());

#define PANIC(...) ::panic_detail::panic(__FILE__, __LINE__, __VA_ARGS__)

// Always on: breaking one of these would corrupt memory or lose data.
#define ASSERT(condition)                                                                  \
    do {                                                                                   \
        if (!(condition)) [[unlikely]] {                                                   \
            ::panic_detail::panic(__FILE__, __LINE__, "assertion failed: {}", #condition); \
        }                                                                                  \
    } while (0)

// Debug builds only: checks too expensive for every call.
#ifdef KERNEL_DEBUG_CHECKS
#define DEBUG_ASSERT(condition) ASSERT(condition)
#else
#define DEBUG_ASSERT(condition) ((void)0)
#endif
