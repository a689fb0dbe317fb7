# Run by test_debug.py through `make gdb -batch`: stop in the shell and print the backtrace. No
# `quit`: gdb ends with the script, and tools/gdbinit must end QEMU on that path too.
break shell::run
continue
bt
