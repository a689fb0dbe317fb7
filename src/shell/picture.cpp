#include "shell/picture.hpp"

#include "arch/x86_64/cpu.hpp"
#include "arch/x86_64/tsc.hpp"
#include "kernel/console.hpp"
#include "kernel/framebuffer_console.hpp"
#include "kernel/kernel_memory.hpp"
#include "kernel/percpu.hpp"

namespace picture {
namespace {

// 16 GiB in 32 MiB areas is 512; room for far more.
constexpr std::size_t kMaxSamples = 8192;
gfx::AreaSample samples[kMaxSamples];
gfx::PictureCache drawn;

gfx::Surface panel;
std::uint32_t panel_top = 0;
bool is_shown = false;
std::uint64_t next_redraw_tsc = 0;
std::uint64_t last_ops = 0;
std::uint64_t last_ops_tsc = 0;
std::uint64_t ops_per_second = 0;
Cost costs;

std::uint64_t operations_so_far() {
    std::uint64_t total = 0;
    for (std::uint32_t cpu = 0; cpu < smp::online_cpu_count(); ++cpu) {
        mm::CpuStats stats = kmem::allocator().cpu_stats(cpu);
        total += stats.allocations + stats.frees;
    }
    return total;
}

void redraw(std::uint64_t now) {
    auto& allocator = kmem::allocator();
    std::size_t count = allocator.area_count();
    count = count < kMaxSamples ? count : kMaxSamples;
    for (std::size_t i = 0; i < count; ++i) {
        mm::AreaInfo info = allocator.area_info(i);
        samples[i] = {info.owner == mm::kNoOwner ? gfx::kUnowned : info.owner,
                      std::uint32_t(info.frames), std::uint32_t(info.free)};
    }
    std::uint64_t ops = operations_so_far();
    if (last_ops_tsc != 0 && now > last_ops_tsc) {
        ops_per_second =
            (ops - last_ops) * tsc::tsc_per_microsecond() * 1000000 / (now - last_ops_tsc);
    }
    last_ops = ops;
    last_ops_tsc = now;
    gfx::PictureFigures figures{allocator.fragmentation().huge_block_share_per_mille(),
                                ops_per_second, costs.last_us, smp::online_cpu_count()};
    gfx::draw_picture(panel, framebuffer_console::font(), {samples, count}, figures, drawn);

    std::uint64_t took = (cpu::read_tsc() - now) / tsc::tsc_per_microsecond();
    ++costs.redraws;
    costs.last_us = took;
    costs.total_us += took;
    costs.max_us = took > costs.max_us ? took : costs.max_us;
}

}  // namespace

bool available() {
    return console::current_screen() == console::Screen::framebuffer;
}

bool shown() {
    return is_shown;
}

bool show(bool on) {
    if (!available()) {
        return false;
    }
    if (on == is_shown) {
        return true;
    }
    panel = console::reserve_panel(on ? kPanelRows : 0);
    is_shown = on && panel.valid();
    if (is_shown) {
        panel_top = framebuffer_console::rows() * framebuffer_console::font().height;
        last_ops_tsc = 0;
        drawn.valid = false;  // the text was there: paint the whole panel
        redraw(cpu::read_tsc());
        next_redraw_tsc = 0;
    }
    return true;
}

void toggle() {
    show(!is_shown);
}

void tick(std::uint64_t now) {
    if (!is_shown || now < next_redraw_tsc) {
        return;
    }
    redraw(now);
    next_redraw_tsc = cpu::read_tsc() + tsc::tsc_per_microsecond() * 1000000 / kRedrawsPerSecond;
}

Cost cost() {
    return costs;
}

Geometry geometry() {
    Geometry geometry;
    if (!is_shown) {
        return geometry;
    }
    geometry.panel_top = panel_top;
    gfx::PictureLayout layout =
        gfx::layout_picture(panel.width(), panel.height(), framebuffer_console::font());
    geometry.grid = gfx::layout_grid(kmem::allocator().area_count(), layout.cells);
    return geometry;
}

}  // namespace picture
