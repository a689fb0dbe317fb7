// The schedule explorer: small programs of 2 or 3 threads on a tiny memory (one or two areas of
// a few frames), run under many seeded interleavings of the allocator's stop points. After every
// schedule the invariants are checked and the outcome is compared with a reference model:
//
//   legal programs (allocate, free what the thread holds): no frame is handed out twice, every
//   free succeeds, the allocated total matches the model, and an allocation that fails while no
//   other allocation was in flight found no fitting run free in the model when it started;
//
//   programs with double frees (a thread frees a block it freed before): once every thread has
//   freed what it still holds, every frame is free and every count is exact.
//
// Each family runs twice: on frames (the programs above) and on 2 MiB blocks (whole blocks taken,
// returned in one call or in halves, and freed again).
//
// `make host-test` runs a few thousand schedules; `make soak` runs millions
// (SCHEDULES=N sets how many per family, SCHEDULE_SEED=S replays one seed).
#include <doctest/doctest.h>

#include <cstdint>
#include <cstdlib>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "../allocator_test_support.hpp"
#include "../schedule_explorer.hpp"
#include "../stop_point_gate.hpp"

namespace {

using alloc_test::AsCpu;
using alloc_test::Harness;
using alloc_test::ScheduleExplorer;
using mm::PhysAddr;

#if defined(__SANITIZE_THREAD__)
constexpr std::uint64_t kDefaultSchedules = 100;  // ThreadSanitizer is ~10 times slower.
#else
constexpr std::uint64_t kDefaultSchedules = 1500;
#endif

std::uint64_t from_environment(const char* name, std::uint64_t fallback) {
    const char* text = std::getenv(name);
    return text == nullptr ? fallback : std::strtoull(text, nullptr, 0);
}

// A memory of `frames` frames starting `offset` frames below a 32 MiB boundary: one area when
// offset is 0 (the memory starts at the boundary), two when the boundary falls inside it.
struct Memory {
    std::uint64_t first_frame;
    std::uint64_t frames;

    PhysAddr address(std::uint64_t index) const { return (first_frame + index) * mm::kFrameSize; }
    std::uint64_t index(PhysAddr address) const { return address / mm::kFrameSize - first_frame; }
    mm::PhysRange range() const { return {address(0), address(frames)}; }
};

constexpr std::uint32_t kMaxThreads = 3;

enum class OpKind : std::uint8_t { allocate, free_held, free_again };

struct Op {
    OpKind kind;
    std::uint32_t frames = 1;
    std::uint32_t alignment = 1;
    std::uint32_t which = 0;  // free_held / free_again: which of the thread's blocks.
};

struct Block {
    PhysAddr address;
    std::uint32_t frames;
};

// Who holds each frame (kNoHolder: free), and which allocations are in flight. Only one
// thread runs at a time, so the model needs no lock of its own.
class Model {
  public:
    static constexpr int kNoHolder = -1;
    // In a free by `thread` that has not returned: not free yet, but may be taken.
    static constexpr int being_freed_by(int thread) { return -2 - thread; }

    explicit Model(const Memory& memory) : memory_(memory), holder_(memory.frames, kNoHolder) {}

    bool free_run_fits(std::uint32_t frames, std::uint32_t alignment) const {
        for (std::uint64_t start = 0; start + frames <= memory_.frames; ++start) {
            std::uint64_t physical = memory_.first_frame + start;
            if (physical % alignment != 0 ||
                physical / mm::kFramesPerArea != (physical + frames - 1) / mm::kFramesPerArea) {
                continue;
            }
            bool free = true;
            for (std::uint64_t i = start; i < start + frames && free; ++i) {
                free = holder_[i] == kNoHolder;
            }
            if (free) {
                return true;
            }
        }
        return false;
    }

    // False if a frame of the block is held already: one frame handed out twice. Frames of a
    // free still in flight may be taken: their bits may be released already.
    bool take(const Block& block, int thread) {
        bool all_free = true;
        for (std::uint64_t i = 0; i < block.frames; ++i) {
            int& holder = holder_[memory_.index(block.address) + i];
            all_free = all_free && holder < 0;
            holder = thread;
        }
        return all_free;
    }
    void begin_free(const Block& block, int thread) {
        for (std::uint64_t i = 0; i < block.frames; ++i) {
            int& holder = holder_[memory_.index(block.address) + i];
            if (holder == thread) {
                holder = being_freed_by(thread);
            }
        }
    }
    void end_free(const Block& block, int thread) {
        for (std::uint64_t i = 0; i < block.frames; ++i) {
            int& holder = holder_[memory_.index(block.address) + i];
            if (holder == being_freed_by(thread)) {
                holder = kNoHolder;
            }
        }
    }
    std::uint64_t held_frames() const {
        std::uint64_t held = 0;
        for (int holder : holder_) {
            held += holder >= 0 ? 1 : 0;
        }
        return held;
    }

    // Allocations in flight: each learns whether another one overlapped it in time.
    std::size_t begin_allocation() {
        bool overlapped = false;
        for (std::size_t i = 0; i < in_flight_.size(); ++i) {
            if (in_flight_[i].active) {
                in_flight_[i].overlapped = true;
                overlapped = true;
            }
        }
        in_flight_.push_back({true, overlapped});
        return in_flight_.size() - 1;
    }
    bool end_allocation(std::size_t ticket) {
        in_flight_[ticket].active = false;
        return in_flight_[ticket].overlapped;
    }

  private:
    struct InFlight {
        bool active;
        bool overlapped;
    };
    Memory memory_;
    std::vector<int> holder_;
    std::vector<InFlight> in_flight_;
};

struct Program {
    Memory memory;
    std::vector<std::vector<Op>> threads;
    std::uint32_t prefilled = 0;  // Frames allocated (and partly freed) before the threads run.
};

// Frames or 2 MiB blocks: the block programs run on 2 or 3 blocks (whole or cut by an area
// boundary, or starting inside a block) and ask for whole blocks, pairs of them and parts, and
// free held blocks in one call or in two halves, so that whole blocks are taken, returned and
// split under every schedule.
enum class Scale : std::uint8_t { frames, blocks };

Program random_program(std::uint64_t seed, bool double_frees, Scale scale) {
    std::mt19937_64 random(seed);
    auto pick = [&](std::uint32_t below) { return static_cast<std::uint32_t>(random() % below); };
    Program program;
    std::uint64_t frames = 4 + pick(13);  // 4..16 frames
    std::uint64_t below_boundary =
        pick(2) == 0 ? 0 : 1 + pick(static_cast<std::uint32_t>(frames - 1));
    if (scale == Scale::blocks) {
        static constexpr std::uint64_t kBelow[] = {0, 0, mm::kFramesPerHugeFrame, 1000};
        frames = (2 + pick(2)) * mm::kFramesPerHugeFrame;
        below_boundary = kBelow[pick(4)];
    }
    program.memory = {2 * mm::kFramesPerArea - below_boundary, frames};
    program.prefilled = pick(scale == Scale::blocks ? 6 : static_cast<std::uint32_t>(frames));
    static constexpr std::uint32_t kSizes[] = {1, 1, 1, 1, 2, 2, 3, 4};
    static constexpr std::uint32_t kAlignments[] = {1, 1, 1, 1, 2, 4};
    static constexpr std::uint32_t kBlockSizes[] = {512, 512, 512, 1024, 1, 256};
    std::size_t threads = 2 + pick(kMaxThreads - 1);
    program.threads.resize(threads);
    for (std::vector<Op>& ops : program.threads) {
        std::size_t count = 3 + pick(5);
        std::uint32_t allocations = 0;
        for (std::size_t i = 0; i < count; ++i) {
            std::uint32_t roll = pick(10);
            if ((allocations == 0 || roll < 5) && scale == Scale::blocks) {
                std::uint32_t size = kBlockSizes[pick(6)];
                ops.push_back({OpKind::allocate, size, size >= 512 ? 512u : 1u, 0});
                ++allocations;
            } else if (allocations == 0 || roll < 5) {
                ops.push_back({OpKind::allocate, kSizes[pick(8)], kAlignments[pick(6)], 0});
                ++allocations;
            } else if (double_frees && roll >= 8) {
                // Again, whole or only its first frame: overlapping frees race both ways.
                ops.push_back({OpKind::free_again, pick(2), 0, pick(allocations)});
            } else {
                // frames == 2: in two halves (block programs only).
                std::uint32_t halves = scale == Scale::blocks && pick(2) == 0 ? 2 : 0;
                ops.push_back({OpKind::free_held, halves, 0, pick(allocations)});
            }
        }
    }
    return program;
}

std::string describe(const Program& program, std::uint64_t seed) {
    std::ostringstream out;
    out << "seed " << seed << " (replay: SCHEDULE_SEED=" << seed << "): " << program.memory.frames
        << " frames from frame " << program.memory.first_frame << ", " << program.prefilled
        << " prefilled;";
    for (std::size_t t = 0; t < program.threads.size(); ++t) {
        out << " cpu" << t << ":";
        for (const Op& op : program.threads[t]) {
            switch (op.kind) {
                case OpKind::allocate:
                    out << " alloc(" << op.frames << "," << op.alignment << ")";
                    break;
                case OpKind::free_held:
                    out << " free#" << op.which << (op.frames == 2 ? "(in halves)" : "");
                    break;
                case OpKind::free_again:
                    out << " free-again#" << op.which << (op.frames == 1 ? "(first frame)" : "");
                    break;
            }
        }
    }
    return out.str();
}

// What one schedule of one program did, checked by the test thread afterwards.
struct Outcome {
    std::vector<std::string> violations;
    std::vector<std::string> trace;  // Every operation and its result, in the order they ended.
    std::uint64_t decisions = 0;
};

Outcome run_schedule(ScheduleExplorer& explorer, const Program& program, std::uint64_t seed,
                     bool double_frees) {
    Outcome outcome;
    Harness<> harness({program.memory.range()});
    if (!harness.init_ok) {
        outcome.violations.push_back("init refused the memory");
        return outcome;
    }
    auto& allocator = *harness.allocator;
    Model model(program.memory);
    const int kPrefillHolder = static_cast<int>(program.threads.size());
    // Prefill as a CPU of its own: allocate single frames, free every other one.
    std::vector<Block> prefill_held;
    {
        AsCpu cpu(static_cast<unsigned>(kPrefillHolder));
        for (std::uint32_t i = 0; i < program.prefilled; ++i) {
            auto result = allocator.allocate(1);
            if (result.ok() && i % 2 == 0) {
                prefill_held.push_back({result.value(), 1});
                model.take(prefill_held.back(), kPrefillHolder);
            } else if (result.ok()) {
                (void)allocator.free(result.value(), 1);
            }
        }
    }

    std::vector<std::vector<Block>> blocks(program.threads.size());  // Every allocation made.
    std::vector<std::vector<bool>> freed(program.threads.size());
    std::vector<std::vector<std::string>> violations(program.threads.size());
    std::vector<std::function<void()>> bodies;
    for (std::size_t t = 0; t < program.threads.size(); ++t) {
        bodies.push_back([&, t] {
            auto self = static_cast<int>(t);
            auto note = [&](const std::string& what) { violations[t].push_back(what); };
            auto trace = [&](const std::string& what) {
                outcome.trace.push_back("cpu" + std::to_string(t) + " " + what);
            };
            for (const Op& op : program.threads[t]) {
                if (op.kind == OpKind::allocate) {
                    bool could_fit = model.free_run_fits(op.frames, op.alignment);
                    std::size_t ticket = model.begin_allocation();
                    auto result = allocator.allocate(op.frames, op.alignment);
                    bool overlapped = model.end_allocation(ticket);
                    trace("alloc(" + std::to_string(op.frames) + "," +
                          std::to_string(op.alignment) + ") -> " +
                          (result.ok() ? std::to_string(program.memory.index(result.value()))
                                       : std::string("failed")));
                    if (result.ok()) {
                        Block block{result.value(), op.frames};
                        if (block.address % (op.alignment * mm::kFrameSize) != 0) {
                            note("misaligned allocation");
                        }
                        if (!model.take(block, self) && !double_frees) {
                            note("a frame handed out twice");
                        }
                        blocks[t].push_back(block);
                        freed[t].push_back(false);
                    } else if (could_fit && !overlapped && !double_frees) {
                        note("allocate(" + std::to_string(op.frames) + ", " +
                             std::to_string(op.alignment) +
                             ") failed with a fitting run free all along");
                    }
                    continue;
                }
                if (blocks[t].empty()) {
                    continue;
                }
                std::size_t which = op.which % blocks[t].size();
                bool again = op.kind == OpKind::free_again;
                if (freed[t][which] != again) {
                    continue;  // free_held of a freed block, or free_again of a held one.
                }
                const Block& block = blocks[t][which];
                if (!again) {
                    model.begin_free(block, self);
                }
                std::uint32_t frames = again && op.frames == 1 ? 1 : block.frames;
                lib::Status<mm::FreeError> status;
                if (!again && op.frames == 2 && frames >= 2) {
                    std::uint32_t half = frames / 2;
                    auto first = allocator.free(block.address, half);
                    status = allocator.free(block.address + half * mm::kFrameSize, frames - half);
                    if (!first.ok()) {
                        status = first;
                    }
                } else {
                    status = allocator.free(block.address, frames);
                }
                trace(std::string(again ? "free-again(" : "free(") +
                      std::to_string(program.memory.index(block.address)) + "," +
                      std::to_string(frames) + ") -> " + (status.ok() ? "ok" : "refused"));
                if (!again) {
                    // A refused free (only after double frees) leaves the block to the end.
                    freed[t][which] = status.ok() || !double_frees;
                    model.end_free(block, self);
                    if (!status.ok() && !double_frees) {
                        note("a legal free was refused");
                    }
                }
            }
        });
    }
    std::size_t decisions_before = explorer.decisions();
    explorer.run(seed, bodies);
    outcome.decisions = explorer.decisions() - decisions_before;
    for (const std::vector<std::string>& list : violations) {
        outcome.violations.insert(outcome.violations.end(), list.begin(), list.end());
    }

    mm::InvariantReport report = allocator.check_invariants();
    if (!report.ok) {
        outcome.violations.push_back(std::string("invariant broken: ") + report.what);
    }
    if (!double_frees && allocator.totals().allocated_frames != model.held_frames()) {
        outcome.violations.push_back("allocated total " +
                                     std::to_string(allocator.totals().allocated_frames) +
                                     ", model " + std::to_string(model.held_frames()));
    }
    // Everyone frees what they still hold; then every frame must be free and counted so. After
    // double frees a block may be partly free already, and a free of it would be refused as a
    // whole, so those blocks are freed frame by frame.
    for (std::size_t t = 0; t < program.threads.size(); ++t) {
        AsCpu cpu(static_cast<unsigned>(t));
        for (std::size_t i = 0; i < blocks[t].size(); ++i) {
            const Block& block = blocks[t][i];
            if (freed[t][i]) {
                continue;
            }
            if (!double_frees) {
                if (!allocator.free(block.address, block.frames).ok()) {
                    outcome.violations.push_back("a held block could not be freed at the end");
                }
                continue;
            }
            for (std::uint32_t f = 0; f < block.frames; ++f) {
                (void)allocator.free(block.address + f * mm::kFrameSize, 1);
            }
        }
    }
    {
        AsCpu cpu(static_cast<unsigned>(kPrefillHolder));
        for (const Block& block : prefill_held) {
            auto status = allocator.free(block.address, block.frames);
            if (!status.ok() && !double_frees) {
                outcome.violations.push_back("a prefilled frame could not be freed at the end");
            }
        }
    }
    mm::Totals totals = allocator.totals();
    if (totals.free_frames != totals.total_frames) {
        outcome.violations.push_back("after freeing everything, " +
                                     std::to_string(totals.total_frames - totals.free_frames) +
                                     " frames are still allocated");
    }
    report = allocator.check_invariants();
    if (!report.ok) {
        outcome.violations.push_back(std::string("invariant broken at the end: ") + report.what);
    }
    return outcome;
}

void explore(bool double_frees, std::uint64_t first_seed, Scale scale = Scale::frames) {
    std::uint64_t replay = from_environment("SCHEDULE_SEED", 0);
    std::uint64_t schedules = replay != 0 ? 1 : from_environment("SCHEDULES", kDefaultSchedules);
    std::uint64_t decisions = 0;
    ScheduleExplorer explorer(kMaxThreads);
    for (std::uint64_t n = 0; n < schedules; ++n) {
        std::uint64_t seed = replay != 0 ? replay : first_seed + n;
        Program program = random_program(seed, double_frees, scale);
        Outcome outcome = run_schedule(explorer, program, seed, double_frees);
        decisions += outcome.decisions;
        if (!outcome.violations.empty()) {
            INFO(describe(program, seed));
            std::string trace;
            for (const std::string& line : outcome.trace) {
                trace += "\n  " + line;
            }
            INFO("operations as they ended:", trace);
            FAIL(outcome.violations.front());
        }
    }
    MESSAGE(schedules << " schedules, " << decisions << " scheduling decisions");
    CHECK(decisions > schedules * 4);  // The programs really were interleaved.
}

}  // namespace

TEST_CASE("schedule explorer: legal programs keep every promise under every schedule") {
    explore(false, 1);
}

TEST_CASE("schedule explorer: with double frees, no frame is lost and every count stays exact") {
    explore(true, 1'000'000'001);
}

TEST_CASE("schedule explorer: 2 MiB blocks taken, returned and split keep every promise") {
    explore(false, 2'000'000'001, Scale::blocks);
}

TEST_CASE("schedule explorer: 2 MiB blocks with double frees lose no frame and keep counts exact") {
    explore(true, 3'000'000'001, Scale::blocks);
}
