// `stress`: allocation and free on every CPU at once, checked frame by frame.
#include <initializer_list>

#include "kernel/console.hpp"
#include "kernel/percpu.hpp"
#include "lib/string.hpp"
#include "shell/command.hpp"
#include "shell/heap_stress.hpp"
#include "shell/picture.hpp"
#include "shell/shell.hpp"
#include "shell/stress.hpp"
#include "shell/vm_stress.hpp"

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

// `stress --vm`: vmalloc, touch, hand over and vfree on every CPU; probes after every vfree.
void run_vm_stress(Args& args) {
    vm_stress::Options options;
    std::uint64_t cpus = 0, max_pages = options.max_pages, remote = options.remote_percent;
    if (!usable(args.number("cpus", cpus), args, "") ||
        !usable(args.number("ops", options.ops), args, "") ||
        !usable(args.number("max-frames", max_pages), args, "") ||
        !usable(args.number("remote", remote), args, "") ||
        !usable(args.number("seed", options.seed), args, "")) {
        return;
    }
    if (!usable(max_pages >= 1 && max_pages <= 512, args, "--max-frames takes 1..512") ||
        !usable(remote <= 100, args, "--remote takes a percentage, 0..100") ||
        !usable(options.ops >= 1 && options.ops <= 1000000, args,
                "--ops takes 1..1000000 with --vm")) {
        return;
    }
    options.cpus = std::uint32_t(cpus);
    options.max_pages = std::uint32_t(max_pages);
    options.remote_percent = std::uint32_t(remote);
    static vm_stress::Result r;
    {
        picture::LiveScope live_picture;
        vm_stress::run(options, r);
    }
    bool clean = r.missed == 0 && r.bad_tags == 0 && r.errors == 0 && r.leaked_frames == 0;
    kprint(
        "stress --vm: cpus={} vmallocs={} vfrees={} handed={} large-pages={} oom={} probes={} "
        "missed-shootdowns={} dropped-probes={} bad-tags={} errors={} leaked-frames={} "
        "rounds={} ipis={} received={} time={} ms: {}\n",
        r.cpus, r.vmallocs, r.vfrees, r.handed, r.large_pages, r.out_of_memory, r.probes, r.missed,
        r.probes_dropped, r.bad_tags, r.errors, r.leaked_frames, r.rounds, r.ipis, r.received,
        r.elapsed_ns / 1000000, clean ? "clean" : "FAILED");
}

void print_summary(const stress::Result& result) {
    std::uint64_t ms = result.elapsed_ns / 1000000;
    kprint(
        "stress: ops={} duplicates={} lost={} errors={} time={} ms cpus={} "
        "ops/s={}{}\n",
        result.ops, result.duplicates, result.lost, result.errors, ms, result.cpus,
        result.elapsed_ns == 0 ? 0 : result.ops * 1000000000 / result.elapsed_ns,
        result.invariants_ok ? "" : " INVARIANTS BROKEN");
}

void print_per_cpu(const stress::Result& result) {
    kprint("{:>4} {:>10} {:>10} {:>10} {:>8} {:>8} {:>6} {:>6}\n", "cpu", "ops", "allocs", "frees",
           "sent", "oom", "dups", "errs");
    for (std::uint32_t i = 0; i < result.cpus; ++i) {
        const stress::CpuResult& c = result.per_cpu[i];
        kprint("{:>4} {:>10} {:>10} {:>10} {:>8} {:>8} {:>6} {:>6}\n", i, c.ops, c.allocations,
               c.frees, c.remote_frees_sent, c.out_of_memory, c.duplicates, c.errors);
    }
}

// `stress --heap`: the same run on the object heap (heap_stress.hpp).
void run_heap_stress(Args& args, const stress::Options& frame_options, std::uint64_t remote) {
    if (!usable(!args.has("fill") && !args.has("pattern") && !args.has("max-frames"), args,
                "--heap takes no --fill, --pattern or --max-frames (sizes are random, "
                "16 B..16 KiB)")) {
        return;
    }
    heap_stress::Options options;
    options.cpus = frame_options.cpus;
    options.seconds = frame_options.seconds;
    options.ops = frame_options.ops;
    options.remote_percent = std::uint32_t(remote);
    options.seed = frame_options.seed;
    options.mode =
        frame_options.mode == mm::Mode::per_cpu ? heap::Mode::per_cpu : heap::Mode::global_lock;
    static stress::Result result;  // 12 KiB: not on the stack
    std::uint32_t online = smp::online_cpu_count();
    kprint("stress: heap objects of 16 B..16 KiB on {} CPUs, {}, {}% remote frees{}\n",
           options.cpus == 0 || options.cpus > online ? online : options.cpus,
           options.ops ? "by operation count" : "timed", options.remote_percent,
           options.mode == heap::Mode::global_lock ? ", global-lock heap" : "");
    {
        picture::LiveScope live_picture;
        heap_stress::run(options, result);
    }
    print_summary(result);
    print_per_cpu(result);
}

void run_stress(Args& args) {
    if (!usable(!(args.has("vm") && args.has("heap")), args,
                "--vm and --heap stress different things: pick one")) {
        return;
    }
    if (args.has("vm")) {
        run_vm_stress(args);
        return;
    }
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
    if (args.has("heap")) {
        run_heap_stress(args, options, remote);
        return;
    }
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
    {
        picture::LiveScope live_picture;  // the memory picture, live while the run lasts
        stress::run(options, result);
    }
    print_summary(result);
    if (result.interrupted) {
        kprint("stress: interrupted by Ctrl-C: the figures are partial; every frame was freed\n");
    } else if (options.fill) {
        kprint(
            "stress: filled {} frames before memory ran out; every later request failed "
            "cleanly: {}\n",
            result.filled_frames, result.errors == 0 ? "yes" : "no");
    }
    print_per_cpu(result);
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
    {"vm", nullptr, "vmalloc, touch, hand over, vfree and probe instead"},
    {"heap", nullptr, "stress the object heap instead: random sizes, tagged objects"},
    {"areas", nullptr, "draw the area map each second (watch areas change hands)"},
};
REGISTER_COMMAND("stress", "", "allocate and free on every CPU at once, checking every frame",
                 stress_options, sizeof(stress_options) / sizeof(stress_options[0]), run_stress,
                 nullptr, kBootCpuOnly);

}  // namespace
}  // namespace shell
