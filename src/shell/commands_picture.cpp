// The `picture` command: shows or hides the live memory picture and reports what drawing it
// costs, and where its cells are (so a test can read them back from a screendump).
#include "kernel/console.hpp"
#include "lib/string.hpp"
#include "shell/command.hpp"
#include "shell/picture.hpp"

namespace shell {
namespace {

void print_status() {
    picture::Cost cost = picture::cost();
    std::uint64_t mean = cost.redraws == 0 ? 0 : cost.total_us / cost.redraws;
    // Share of CPU 0's time at the redraw rate, in per mille: mean us * rate / 1000.
    std::uint64_t per_mille = mean * picture::kRedrawsPerSecond / 1000;
    kprint(
        "picture: {}; {} redraws, last {} us, mean {} us, longest {} us; at {} per second "
        "that is {} per mille of CPU 0\n",
        picture::shown() ? "shown" : "hidden", cost.redraws, cost.last_us, mean, cost.max_us,
        picture::kRedrawsPerSecond, per_mille);
    if (picture::shown()) {
        picture::Geometry g = picture::geometry();
        kprint("picture: panel from pixel row {}; cells of {} pixels, {} per row, from ({}, {})\n",
               g.panel_top, g.grid.pitch - 1, g.grid.columns, g.grid.x, g.panel_top + g.grid.y);
    }
}

void run_picture(Args& args) {
    if (!picture::available()) {
        kprint("picture: needs the framebuffer console, and this boot has none\n");
        return;
    }
    // More than one word never gets here: the shell checks the words against the usage.
    if (args.positional_count() == 1) {
        const char* word = args.positional(0);
        if (lib::strings_equal(word, "on")) {
            picture::show(true);
        } else if (lib::strings_equal(word, "off")) {
            picture::show(false);
        } else {
            kprint("picture: '{}' is neither on nor off\n", word);
            return;
        }
    }
    print_status();
}

}  // namespace

REGISTER_COMMAND("picture", "[on|off]",
                 "the live picture of memory under the console (Ctrl-P toggles it)", nullptr, 0,
                 run_picture);

}  // namespace shell
