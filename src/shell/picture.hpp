// The live picture of physical memory (gfx/memory_picture.hpp) in a panel at the bottom of the
// framebuffer console. Shown and hidden by Ctrl-P at the prompt or the `picture` command, and
// shown by `stress` while it runs. Redrawn a few times per second by CPU 0 when it polls:
// at the prompt, and between operations of its share of a stress run. Nothing is drawn from
// interrupts and nothing here takes an allocator lock: the samples are relaxed atomic reads.
#pragma once

#include <cstdint>

#include "gfx/memory_picture.hpp"

namespace picture {

// Text rows of the console the panel takes when shown.
inline constexpr std::uint32_t kPanelRows = 12;
inline constexpr std::uint64_t kRedrawsPerSecond = 4;
inline constexpr char kToggleKey = 0x10;  // Ctrl-P

bool available();  // a framebuffer console exists
bool shown();
// Returns false (and changes nothing) when no framebuffer console exists.
bool show(bool on);
void toggle();
// On CPU 0: redraws when shown and a redraw is due; `now` is the TSC.
void tick(std::uint64_t now);

struct Cost {
    std::uint64_t redraws = 0;
    std::uint64_t last_us = 0;
    std::uint64_t total_us = 0;
    std::uint64_t max_us = 0;
};
Cost cost();

// Where the cells are, in screen pixels, for a test to find an area's cell.
struct Geometry {
    std::uint32_t panel_top = 0;
    gfx::PictureGrid grid;
};
Geometry geometry();

// Shows the picture for a scope (a stress run) unless it is shown already; hides it again after.
class LiveScope {
  public:
    LiveScope() : hide_after_(!shown() && show(true)) {}
    ~LiveScope() {
        if (hide_after_) {
            show(false);
        }
    }
    LiveScope(const LiveScope&) = delete;
    LiveScope& operator=(const LiveScope&) = delete;

  private:
    bool hide_after_;
};

}  // namespace picture
