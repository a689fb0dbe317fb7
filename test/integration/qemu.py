"""Drive one QEMU run of the kernel over its serial console (QEMU's stdio).

    with QemuMachine(smp=4, memory="4G", log_path="build/x.log") as m:
        m.expect("MarkerOS ready")
        m.expect_prompt()
        out = m.command("help")
        m.command("poweroff", expect_prompt=False)
        m.expect_exit(CLEAN_EXIT)

expect() takes a plain string (matched literally) or a compiled regex and
searches the output after the current read position. Every failure raises
MachineFailure whose message says what was expected, why it failed and ends
with the tail of the captured log. QEMU is always killed when the `with` ends.
"""
import atexit
import codecs
import os
import re
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time
import zlib

CLEAN_EXIT = 33   # kernel wrote 0x10 to isa-debug-exit: (0x10 << 1) | 1
PANIC_EXIT = 35   # kernel wrote 0x11: a panic
# Status 0 means QEMU stopped on its own (with -no-reboot: triple fault or
# reset). It is never a pass.
EXIT_MEANING = {CLEAN_EXIT: "clean exit", PANIC_EXIT: "kernel panic",
                0: "reset or triple fault"}
PROMPT = re.compile(r"(?m)^> ")
QEMU_ENV = "INTEGRATION_QEMU_CMD"
TAIL_LINES = 80
# UEFI firmware from Debian's ovmf package: the code is read-only, the variable store is
# written by the firmware, so every machine gets a copy of its own.
OVMF_CODE = "/usr/share/OVMF/OVMF_CODE_4M.fd"
OVMF_VARS = "/usr/share/OVMF/OVMF_VARS_4M.fd"
MONITOR_PROMPT = b"(qemu) "

_live = set()       # every started machine, so nothing outlives the harness
_live_lock = threading.Lock()
_shutting_down = False


def kill_all():
    """Kill every running machine and refuse to start new ones."""
    global _shutting_down
    with _live_lock:
        _shutting_down = True
        machines = list(_live)
    for machine in machines:
        machine.close()


atexit.register(kill_all)


class MachineFailure(AssertionError):
    pass


def default_qemu():
    return os.environ.get(QEMU_ENV) or "qemu-system-x86_64"


def describe_status(status):
    meaning = EXIT_MEANING.get(status)
    return f"status {status} ({meaning})" if meaning else f"status {status}"


class QemuMachine:
    def __init__(self, iso="build/kernel.iso", smp=1, memory="128M", machine="pc",
                 extra_args=(), timeout=60.0, idle_timeout=20.0, log_path=None,
                 qemu=None, char_delay=0.001, timeout_scale=1.0, debug_exit=True,
                 uefi=False, monitor=False):
        """uefi: boot through OVMF (UEFI firmware) instead of SeaBIOS.
        monitor: open QEMU's monitor on a socket, for monitor_command() and screendump()."""
        self.scale = timeout_scale
        self.timeout = timeout * timeout_scale
        self.idle_timeout = idle_timeout * timeout_scale
        self.char_delay = char_delay
        self.log_path = log_path
        self._scratch = tempfile.mkdtemp(prefix="markeros-qemu-") if uefi or monitor else None
        firmware = []
        if uefi:
            variables = os.path.join(self._scratch, "OVMF_VARS.fd")
            shutil.copyfile(OVMF_VARS, variables)
            firmware = ["-drive", f"if=pflash,format=raw,readonly=on,file={OVMF_CODE}",
                        "-drive", f"if=pflash,format=raw,file={variables}"]
        self._monitor_path = os.path.join(self._scratch, "monitor.sock") if monitor else None
        self._monitor = None
        monitor_arg = f"unix:{self._monitor_path},server,nowait" if monitor else "none"
        self.argv = shlex.split(qemu or default_qemu()) + [
            "-accel", "tcg", "-machine", machine, "-smp", str(smp), "-m", str(memory),
            "-cdrom", iso, "-boot", "d", "-display", "none", "-no-reboot",
            "-serial", "stdio", "-monitor", monitor_arg, *firmware,
            *(["-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"] if debug_exit else []),
            *extra_args]
        self.proc = None
        self.pos = 0                # read position in self.log
        self._text = []             # decoded output chunks, "\r" removed
        self._stderr = bytearray()
        self._eof = False
        self._cond = threading.Condition()
        self._events = []           # what the harness did, for the log footer
        self._threads = []
        self._logfile = None

    # -- lifetime ---------------------------------------------------------
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self):
        if self.log_path:
            os.makedirs(os.path.dirname(self.log_path) or ".", exist_ok=True)
            self._logfile = open(self.log_path, "w", encoding="utf-8")
            self._logfile.write(f"# command: {shlex.join(self.argv)}\n")
        self.started = self.last_output = time.monotonic()
        self.deadline = self.started + self.timeout
        with _live_lock:  # so that kill_all() cannot miss a machine being started
            if _shutting_down:
                self._close_log()
                raise MachineFailure("the harness is shutting down")
            try:
                # A session of its own: Ctrl-C in the terminal does not reach it,
                # and killpg() also ends any wrapper the command may have.
                self.proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE,
                                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                             bufsize=0, start_new_session=True)
            except OSError as e:
                self._close_log()
                raise MachineFailure(f"cannot start {self.argv[0]!r}: {e}") from None
            _live.add(self)
        for target in (self._read_stdout, self._read_stderr):
            thread = threading.Thread(target=target, daemon=True)
            thread.start()
            self._threads.append(thread)

    def close(self):
        """Kill QEMU (if still running), reap it and finish the log file."""
        if self.proc is None:
            return
        with _live_lock:
            if self not in _live:
                return
            _live.discard(self)
        if self.proc.poll() is None:
            self._event("harness killed QEMU")
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.proc.wait()
        for thread in self._threads:
            thread.join(timeout=5)
        for pipe in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
            pipe.close()
        if self._monitor:
            self._monitor.close()
            self._monitor = None
        if self._logfile:
            self._logfile.write(self._footer())
            self._close_log()
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)

    # -- background readers -----------------------------------------------
    def _read_stdout(self):
        decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        fd = self.proc.stdout.fileno()
        while True:
            data = os.read(fd, 4096)
            text = decoder.decode(data, final=not data).replace("\r", "")
            with self._cond:
                if text:
                    self._text.append(text)
                    if self._logfile:
                        self._logfile.write(text)
                        self._logfile.flush()
                self.last_output = time.monotonic()
                self._eof = not data
                self._cond.notify_all()
            if not data:
                return

    def _read_stderr(self):
        while data := os.read(self.proc.stderr.fileno(), 4096):
            self._stderr += data

    # -- output -----------------------------------------------------------
    @property
    def log(self):
        """Everything QEMU printed on the serial console so far."""
        with self._cond:
            if len(self._text) > 1:
                self._text[:] = ["".join(self._text)]
            return self._text[0] if self._text else ""

    @property
    def stderr(self):
        return self._stderr.decode("utf-8", errors="replace")

    def tail(self, lines=TAIL_LINES):
        out = "\n".join(self.log.split("\n")[-lines:])
        text = f"--- last {lines} lines of the serial log ---\n{out}\n--- end of log ---"
        if self.stderr.strip():
            text += f"\n--- QEMU stderr ---\n{self.stderr.rstrip()}"
        if self.log_path:
            text += f"\n(full log: {self.log_path})"
        return text

    def fail(self, message):
        self._event(f"FAIL: {message}")
        raise MachineFailure(f"{message}\n{self.tail()}")

    def elapsed(self):
        return time.monotonic() - self.started

    def expect(self, pattern, timeout=None):
        """Wait until pattern appears after self.pos; move self.pos past it."""
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(pattern))
        shown = f"/{regex.pattern}/" if regex is pattern else repr(pattern)
        now = time.monotonic()
        deadline = self.deadline if timeout is None else min(self.deadline, now + timeout * self.scale)
        with self._cond:
            while True:
                match = regex.search(self.log, self.pos)
                if match:
                    self.pos = match.end()
                    self._event(f"matched {shown}")
                    return match
                now = time.monotonic()
                if self._eof:
                    why = self._exit_reason()
                elif now >= deadline:
                    why = (f"overall test timeout of {self.timeout:g} s reached"
                           if deadline == self.deadline else f"timed out after {timeout * self.scale:.1f} s")
                elif now - self.last_output >= self.idle_timeout:
                    why = f"idle timeout: no output for {self.idle_timeout:g} s"
                else:
                    idle_end = self.last_output + self.idle_timeout
                    self._cond.wait(min(deadline, idle_end) - now)
                    continue
                break
        self.fail(f"expected {shown}: {why} (at {self.elapsed():.1f} s)")

    def _exit_reason(self):
        try:
            return f"QEMU exited with {describe_status(self.proc.wait(timeout=5))}"
        except subprocess.TimeoutExpired:
            return "QEMU closed its output but is still running"

    def expect_prompt(self, timeout=None):
        return self.expect(PROMPT, timeout)

    # -- input ------------------------------------------------------------
    def send(self, text):
        """Write text slowly (char_delay per byte) so the 16-byte UART FIFO keeps up."""
        self.send_raw(text.encode())

    def send_raw(self, data):
        """Write bytes as they are (binary garbage included), as slowly as send()."""
        self._event(f"sent {data!r}")
        try:
            for byte in data:
                self.proc.stdin.write(bytes([byte]))
                if self.char_delay:
                    time.sleep(self.char_delay)
        except (BrokenPipeError, ValueError):
            self.fail(f"cannot send {data!r}: QEMU is no longer reading input")

    def send_line(self, text):
        self.send(text + "\r")

    def command(self, text, expect_prompt=True, timeout=None):
        """Send a command line; return its output (between echo and next prompt)."""
        self.send_line(text)
        if not expect_prompt:
            return None
        self.expect(re.compile(re.escape(text) + r"\n"), timeout)
        start = self.pos
        prompt = self.expect_prompt(timeout)
        return self.log[start:prompt.start()].rstrip("\n")

    # -- monitor ----------------------------------------------------------
    def monitor_command(self, text, timeout=30.0):
        """Run one monitor command and return what it printed (before the next prompt)."""
        if self._monitor_path is None:
            self.fail("monitor_command() needs a machine started with monitor=True")
        self._event(f"monitor: {text}")
        if self._monitor is None:
            self._monitor = socket.socket(socket.AF_UNIX)
            self._monitor.settimeout(timeout * self.scale)
            self._monitor.connect(self._monitor_path)
            self._read_monitor_until_prompt()  # the greeting
        self._monitor.sendall(text.encode() + b"\n")
        reply = self._read_monitor_until_prompt().decode("utf-8", errors="replace")
        # The monitor echoes the command line with terminal escapes; keep what follows it.
        return reply.split("\n", 1)[1] if "\n" in reply else ""

    def _read_monitor_until_prompt(self):
        data = bytearray()
        while not data.endswith(MONITOR_PROMPT):
            try:
                chunk = self._monitor.recv(4096)
            except socket.timeout:
                self.fail(f"the QEMU monitor did not answer: {bytes(data)!r}")
            if not chunk:
                self.fail("the QEMU monitor closed its socket")
            data += chunk
        return bytes(data[:-len(MONITOR_PROMPT)])

    def screendump(self, keep_as=None):
        """The screen as QEMU's display shows it: (width, height, rgb bytes, row-major).
        keep_as: also save it to this path (PPM), for a person to look at."""
        path = os.path.join(self._scratch, "screen.ppm")
        reply = self.monitor_command(f"screendump {path}")
        if not os.path.exists(path):
            self.fail(f"screendump wrote no file: {reply!r}")
        with open(path, "rb") as f:
            data = f.read()
        if keep_as:
            shutil.copyfile(path, keep_as)
        return parse_ppm(data)

    # -- exit -------------------------------------------------------------
    def wait_exit(self, timeout=None):
        """Wait for QEMU to exit and return its status (never judged here)."""
        deadline = self.deadline if timeout is None else min(self.deadline, time.monotonic() + timeout * self.scale)
        while True:
            try:
                status = self.proc.wait(timeout=0.05)
                self._event(f"QEMU exited with {describe_status(status)}")
                return status
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            if now >= deadline:
                self.fail(f"expected QEMU to exit: still running after {self.elapsed():.1f} s")
            if now - self.last_output >= self.idle_timeout:
                self.fail(f"expected QEMU to exit: idle timeout, no output for "
                          f"{self.idle_timeout:g} s and still running")

    def expect_exit(self, expected, timeout=None):
        """Wait for exit and require exactly this status (0 is never a pass)."""
        status = self.wait_exit(timeout)
        if status != expected:
            self.fail(f"expected exit {describe_status(expected)}, "
                      f"QEMU exited with {describe_status(status)}")
        return status

    # -- log file -----------------------------------------------------------
    def _event(self, what):
        self._events.append(f"{time.monotonic() - self.started:7.2f} s  {what}")

    def _footer(self):
        status = self.proc.returncode
        lines = ["", "# --- harness ---", *(f"# {e}" for e in self._events),
                 f"# QEMU exited with {describe_status(status)}" if status >= 0
                 else f"# QEMU killed by signal {-status}"]
        if self._stderr:
            lines += ["# --- QEMU stderr ---", self.stderr.rstrip()]
        return "\n".join(lines) + "\n"

    def _close_log(self):
        if self._logfile:
            self._logfile.close()
        self._logfile = None


def parse_ppm(data):
    """(width, height, pixels) of a binary PPM (P6, maxval 255) as QEMU's screendump writes it."""
    fields = []
    pos = 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos)
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    magic, width, height, maxval = fields[0], int(fields[1]), int(fields[2]), int(fields[3])
    if magic != b"P6" or maxval != 255:
        raise MachineFailure(f"not a P6 PPM with maxval 255: {magic!r} {maxval}")
    pixels = data[pos + 1:pos + 1 + width * height * 3]
    if len(pixels) != width * height * 3:
        raise MachineFailure(f"PPM holds {len(pixels)} bytes, expected {width * height * 3}")
    return width, height, pixels


def write_png(path, width, height, pixels):
    """Save RGB pixels (as screendump() returns them) as a PNG, for a person or the README."""
    def chunk(kind, body):
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body) & 0xffffffff))
    stride = width * 3
    raw = b"".join(b"\x00" + pixels[y * stride:(y + 1) * stride] for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB, no interlace
    with open(path, "wb") as f:
        f.write(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))
