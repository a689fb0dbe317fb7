#!/usr/bin/env bash
# Installs what one `make` target needs on Debian 12, from Debian's archive only:
#   tools/install-deps.sh run     `make run`: build the kernel and boot it
#   tools/install-deps.sh gui     `make run GUI=1`: the same, with QEMU's window
#   tools/install-deps.sh debug   `make debug` / `make gdb`
#   tools/install-deps.sh test    `make test` (and everything above but the window)
# Every package is here for a reason:
#   grub-pc-bin grub-common xorriso mtools  grub-mkrescue and the BIOS GRUB it puts on the ISO
#   grub-efi-amd64-bin                      GRUB's UEFI build: with it the ISO boots under UEFI too
#   ovmf                                    UEFI firmware for QEMU (`make run UEFI=1`, UEFI tests)
#   console-setup-linux                     the PSF bitmap font the framebuffer console draws with
#   qemu-system-x86                         the machine the kernel runs on
#   g++ make binutils                       the kernel and host test builds
#   qemu-system-gui                         QEMU's GTK window (GUI=1); Debian ships it apart
#   gdb                                     `make gdb`
#   doctest-dev                             host unit tests
#   clang libclang-rt-14-dev                libFuzzer targets (`make fuzz`) and their sanitizers
#   clang-format                            the style check in `make test`
#   python3                                 the build's line table (tools/line-table.py) and the
#                                           QEMU integration harness (standard library only)
#   libbenchmark-dev                        host benchmarks (`make bench`)
#   valgrind                                instruction counts for benchmarks (callgrind)
# Without dpkg and apt-get (another distribution), the commands a target runs are looked for
# instead: when they are all there the target goes ahead, otherwise they are named.
set -euo pipefail

profile=${1:-test}
run_packages=(grub-pc-bin grub-common xorriso mtools grub-efi-amd64-bin ovmf console-setup-linux
              qemu-system-x86 g++ make binutils python3)
run_commands=(grub-mkrescue xorriso mformat qemu-system-x86_64 g++ make ld nm objdump addr2line
              python3)
case "$profile" in
    run)
        packages=("${run_packages[@]}")
        commands=("${run_commands[@]}")
        ;;
    gui)
        packages=("${run_packages[@]}" qemu-system-gui)
        commands=("${run_commands[@]}")
        ;;
    debug)
        packages=("${run_packages[@]}" gdb)
        commands=("${run_commands[@]}" gdb)
        ;;
    test)
        packages=("${run_packages[@]}" gdb doctest-dev clang libclang-rt-14-dev clang-format
                  libbenchmark-dev valgrind)
        commands=("${run_commands[@]}" gdb clang++ clang-format valgrind)
        ;;
    *)
        echo "install-deps: unknown target '$profile' (run, gui, debug or test)" >&2
        exit 2
        ;;
esac

if ! command -v dpkg-query >/dev/null 2>&1; then
    missing_commands=()
    for c in "${commands[@]}"; do
        command -v "$c" >/dev/null 2>&1 || missing_commands+=("$c")
    done
    if [ ${#missing_commands[@]} -eq 0 ]; then
        exit 0
    fi
    echo "install-deps: not a Debian system, and these commands are missing for '$profile':" \
         "${missing_commands[*]}" >&2
    echo "install-deps: install them with your package manager and run make again." >&2
    exit 1
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "install-deps: missing Debian packages for '$profile': ${missing[*]}"
if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-deps: no apt-get on this machine; install those packages and run make again." >&2
    exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
    echo "install-deps: not root; run: sudo apt-get install ${missing[*]}" >&2
    exit 1
fi
echo "install-deps: installing them with apt-get (this happens once)."
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
echo "install-deps: done."
