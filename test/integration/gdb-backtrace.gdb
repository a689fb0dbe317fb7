# Run by test_debug.py through `make gdb`: stop in the shell, print the backtrace, quit (which
# ends QEMU through tools/gdbinit's hook).
break shell::run
continue
bt
quit
