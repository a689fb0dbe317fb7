// `stress`: allocation and free on every CPU at once, checked frame by frame.
#include <initializer_list>

#include "kernel/console.hpp"
#include "kernel/percpu.hpp"
#include "lib/string.hpp"
#include "shell/command.hpp"
#include "shell/shell.hpp"
#include "shell/stress.hpp"

namespace shell {
namespace {

bool parse_pattern(const char* text, stress::Pattern& out) {
    for (stress::Pattern p :
         {stress::Pattern::random, stress::Pattern::bulk, stress::Pattern::repeat}) {
        if (lib::strings_equal(text, stress::pattern_name(p))) {
            out = p;
            return true;
        }
    }
    return false;
}

bool parse_mode(const char* text, mm::Mode& out) {
    if (lib::strings_equal(text, "per-cpu")) {
        out = mm::Mode::per_cpu;
    } else if (lib::strings_equal(text, "global-lock")) {
        out = mm::Mode::global_lock;
    } else {
        return false;
    }
    return true;
}

// Shared by every option check below: prints the reason and says whether to go on.
bool usable(bool ok, Args& args, const char* what) {
    if (!ok) {
        kprint("stress: {}\n", args.error()[0] != '\0' ? args.error() : what);
    }
    return ok;
}

void run_stress(Args& args) {
    stress::Options options;
    std::uint32_t online = smp::online_cpu_count();
    std::uint64_t cpus = online, max_frames = options.max_frames, remote = 0, seed = options.seed;
    if (!usable(args.number_in("cpus", 1, online, cpus), args, "") ||
        !usable(args.number_in("seconds", 1, 3600, options.seconds), args, "") ||
        !usable(args.number_in("ops", 1, ~std::uint64_t{0}, options.ops), args, "") ||
        !usable(args.number_in("max-frames", 1, 512, max_frames), args, "") ||
        !usable(args.number_in("remote", 0, 100, remote), args, "") ||
        !usable(args.number("seed", seed), args, "")) {
        return;
    }
    // A fill runs until memory is gone: a time or an operation count would be ignored.
    if (!usable(!(args.has("fill") && (args.has("ops") || args.has("seconds"))), args,
                "--fill runs until memory is full; it takes no --ops or --seconds") ||
        !usable(!(args.has("ops") && args.has("seconds")), args,
                "--ops and --seconds both say when to stop; give one")) {
        return;
    }
    if (const char* pattern = args.value("pattern");
        pattern != nullptr && !parse_pattern(pattern, options.pattern)) {
        kprint("stress: --pattern takes random, bulk or repeat\n");
        return;
    }
    if (const char* mode = args.value("mode"); mode != nullptr && !parse_mode(mode, options.mode)) {
        kprint("stress: --mode takes per-cpu or global-lock\n");
        return;
    }
    options.cpus = std::uint32_t(cpus);
    options.max_frames = std::uint32_t(max_frames);
    options.remote_percent = std::uint32_t(remote);
    options.fill = args.has("fill");
    options.area_map = args.has("areas");
    options.seed = seed;

    static stress::Result result;  // 12 KiB: not on the stack
    kprint(
        "stress: {} on {} CPUs, {}, requests of 1..{} frames, {}% remote frees{} (Ctrl-C stops)\n",
        stress::pattern_name(options.pattern), options.cpus,
        options.fill ? "filling memory" : (options.ops ? "by operation count" : "timed"),
        options.max_frames, options.remote_percent,
        options.mode == mm::Mode::global_lock ? ", global-lock mode" : "");
    stress::run(options, result);
    std::uint64_t ms = result.elapsed_ns / 1000000;
    kprint(
        "stress: ops={} duplicates={} lost={} errors={} time={} ms cpus={} "
        "ops/s={}{}\n",
        result.ops, result.duplicates, result.lost, result.errors, ms, result.cpus,
        result.elapsed_ns == 0 ? 0 : result.ops * 1000000000 / result.elapsed_ns,
        result.invariants_ok ? "" : " INVARIANTS BROKEN");
    if (result.interrupted) {
        kprint("stress: interrupted by Ctrl-C: the figures are partial; every frame was freed\n");
    } else if (options.fill) {
        kprint(
            "stress: filled {} frames before memory ran out; every later request failed "
            "cleanly: {}\n",
            result.filled_frames, result.errors == 0 ? "yes" : "no");
    }
    kprint("{:>4} {:>10} {:>10} {:>10} {:>8} {:>8} {:>6} {:>6}\n", "cpu", "ops", "allocs", "frees",
           "sent", "oom", "dups", "errs");
    for (std::uint32_t i = 0; i < result.cpus; ++i) {
        const stress::CpuResult& c = result.per_cpu[i];
        kprint("{:>4} {:>10} {:>10} {:>10} {:>8} {:>8} {:>6} {:>6}\n", i, c.ops, c.allocations,
               c.frees, c.remote_frees_sent, c.out_of_memory, c.duplicates, c.errors);
    }
}

const OptionSpec stress_options[] = {
    {"cpus", "N", "run on the first N CPUs, 1..online (default: all)"},
    {"seconds", "S", "run for S seconds, 1..3600 (default 2)"},
    {"ops", "N", "run N operations in all instead of a time"},
    {"max-frames", "K", "largest request, 1..512 frames (default 16)"},
    {"pattern", "P", "random (default), bulk (allocate much, free all) or repeat"},
    {"remote", "P", "percentage of frees handed to another CPU to free, 0..100"},
    {"fill", nullptr, "fill memory, check that requests then fail cleanly, free all"},
    {"mode", "M", "per-cpu (default) or global-lock allocator"},
    {"seed", "N", "random seed (default 1)"},
    {"areas", nullptr, "draw the area map each second (watch areas change hands)"},
};
REGISTER_COMMAND("stress", "", "allocate and free on every CPU at once, checking every frame",
                 stress_options, sizeof(stress_options) / sizeof(stress_options[0]), run_stress,
                 nullptr, kBootCpuOnly);

}  // namespace
}  // namespace shell
