#!/usr/bin/env python3
"""Pretend to be the kernel's serial console on stdin/stdout (for selftest.py).

Run instead of QEMU: INTEGRATION_QEMU_CMD="python3 test/integration/fake_kernel.py".
QEMU's arguments are accepted and mostly ignored. `--mode M` changes behaviour:
  normal        banner, "MarkerOS ready", then a shell on "> "
  triple-fault  banner, then exit status 0 (what QEMU does on a triple fault)
  broken        complain on stderr and exit 1 (like a missing ISO)
  chatty        print a line every 0.1 s forever instead of a shell
Shell: echo TEXT, poweroff (exit 33), crash page-fault|divide|assert (panic,
exit 35), hang (go silent forever), reset (exit 0).
"""
import os
import sys
import time

PANICS = {
    "page-fault": ("page fault at 0x0000dead0000 (write, not present)", "crash_page_fault"),
    "divide": ("divide error (#DE) at rip 0xffffffff80104b10", "crash_divide_error"),
    "assert": ("assertion failed: 1 + 1 == 3 (src/shell/crash.cpp:42)", "crash_assert"),
}


def arg(name, default):
    argv = sys.argv[1:]
    return argv[argv.index(name) + 1] if name in argv[:-1] else default


def out(data):
    if isinstance(data, str):
        data = data.replace("\n", "\r\n").encode()
    os.write(1, data)


def panic(kind):
    what, function = PANICS[kind]
    out(f"PANIC on cpu 0: {what}\nbacktrace:\n"
        f"  #0 0xffffffff80104a2c in {function}+0x1c\n"
        f"  #1 0xffffffff80102f10 in shell::run_command+0x80\n"
        f"  #2 0xffffffff80100123 in kernel_main+0x53\n")
    sys.exit(35)


def run(line):
    words = line.split()
    if not words:
        return
    if words[0] == "echo":
        out(" ".join(words[1:]) + "\n")
    elif words[0] == "poweroff":
        out("powering off\n")
        sys.exit(33)
    elif words[0] == "reset":
        sys.exit(0)
    elif words[0] == "hang":
        while True:
            time.sleep(3600)
    elif words[0] == "crash" and len(words) == 2 and words[1] in PANICS:
        panic(words[1])
    else:
        out(f"unknown command: {line}\n")


def main():
    mode = arg("--mode", "normal")
    if mode == "broken":
        sys.stderr.write("qemu-system-x86_64: -cdrom build/kernel.iso: Could not open\n")
        sys.exit(1)
    out(f"MarkerOS 0.1 (fake) booting: machine {arg('-machine', 'pc')}, "
        f"smp {arg('-smp', '1')}, memory {arg('-m', '128M')}\n")
    out(b"serial noise: \xff\xfe\r\n")  # not UTF-8: the harness must cope
    time.sleep(0.05)
    if mode == "triple-fault":
        sys.exit(0)
    if mode == "chatty":
        for tick in range(10**9):
            out(f"tick {tick}\n")
            time.sleep(0.1)
    out("MarkerOS ready\n> ")
    line = ""
    while byte := os.read(0, 1):
        char = byte.decode(errors="replace")
        if char == "\r":
            out("\n")
            run(line)
            line = ""
            out("> ")
        else:
            out(byte)
            line += char


if __name__ == "__main__":
    main()
