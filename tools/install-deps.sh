#!/usr/bin/env bash
# Installs what `make run` and `make test` need on Debian 12, from Debian's archive only.
# Every package is here for a reason:
#   grub-pc-bin grub-common xorriso mtools  grub-mkrescue and the BIOS GRUB it puts on the ISO
#   grub-efi-amd64-bin                      GRUB's UEFI build: with it the ISO boots under UEFI too
#   ovmf                                    UEFI firmware for QEMU (`make run UEFI=1`, UEFI tests)
#   console-setup-linux                     the PSF bitmap font the framebuffer console draws with
#   qemu-system-x86                         the machine the kernel runs on
#   g++ make binutils                       the kernel and host test builds
#   doctest-dev                             host unit tests
#   clang libclang-rt-14-dev                libFuzzer targets (`make fuzz`) and their sanitizers
#   clang-format                            the style check in `make test`
#   python3                                 the QEMU integration harness (standard library only)
#   libbenchmark-dev                        host benchmarks (`make bench`)
#   valgrind                                instruction counts for benchmarks (callgrind)
#   gdb                                     `make debug`
set -euo pipefail

packages=(grub-pc-bin grub-common xorriso mtools grub-efi-amd64-bin ovmf console-setup-linux
          qemu-system-x86 g++ make binutils doctest-dev
          clang libclang-rt-14-dev clang-format python3 libbenchmark-dev valgrind gdb)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "install-deps: missing Debian packages: ${missing[*]}"
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
