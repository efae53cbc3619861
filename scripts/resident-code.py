#!/usr/bin/env python3
"""Which code of a running program is resident, by crate.

    python3 scripts/resident-code.py PID

Most of what an idle tray process keeps resident is its own code: the
kernel maps a program's pages in 64 KiB runs around each page used, so code
touched once at start-up and scattered over the binary stays mapped. This
reads which pages of the program's executable mapping are present
(/proc/PID/pagemap), maps them to the functions they hold (`nm` on the
binary, which must carry its symbols: build it with
CARGO_PROFILE_RELEASE_STRIP=false), and sums them by the crate (or C
function) each belongs to. Prints the resident total and the largest.
"""
import bisect
import collections
import os
import re
import struct
import subprocess
import sys

PAGE = 4096


def load_segments(binary):
    """(file offset, virtual address, size) of each LOAD segment."""
    segments = []
    headers = subprocess.run(["readelf", "-lW", binary], capture_output=True, text=True)
    for line in headers.stdout.splitlines():
        fields = line.split()
        if fields and fields[0] == "LOAD":
            segments.append((int(fields[1], 16), int(fields[2], 16), int(fields[4], 16)))
    return segments


def load_functions(binary):
    """(address, size, demangled name) of each function, by address."""
    symbols = subprocess.run(
        ["nm", "-C", "-S", "--defined-only", binary], capture_output=True, text=True
    ).stdout
    functions = []
    for line in symbols.splitlines():
        fields = line.split(" ", 3)
        if len(fields) == 4 and fields[2] in "tTwW":
            functions.append((int(fields[0], 16), int(fields[1], 16), fields[3]))
    functions.sort()
    return functions


def owner(name):
    """The crate a Rust function belongs to (its path's first part), or the
    C function's own name."""
    name = re.sub(r"^(<|&|\*|dyn |impl |mut |\s)+", "", name)
    match = re.match(r"[A-Za-z_][A-Za-z0-9_]*", name)
    return match.group(0) if match else "?"


def main():
    pid = int(sys.argv[1])
    binary = os.readlink(f"/proc/{pid}/exe")
    segments = load_segments(binary)
    functions = load_functions(binary)
    if not functions:
        sys.exit(f"{binary} has no symbols: build it with CARGO_PROFILE_RELEASE_STRIP=false")
    starts = [start for start, _, _ in functions]
    resident = collections.Counter()
    pages = 0
    with open(f"/proc/{pid}/pagemap", "rb") as pagemap, open(f"/proc/{pid}/maps") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) < 6 or fields[5] != binary or "x" not in fields[1]:
                continue
            start, end = (int(part, 16) for part in fields[0].split("-"))
            offset = int(fields[2], 16)
            for address in range(start, end, PAGE):
                pagemap.seek(address // PAGE * 8)
                if not struct.unpack("<Q", pagemap.read(8))[0] >> 63:
                    continue
                pages += 1
                in_file = address - start + offset
                virtual = next(
                    (in_file - seg_offset + seg_address
                     for seg_offset, seg_address, size in segments
                     if seg_offset <= in_file < seg_offset + size),
                    None,
                )
                if virtual is None:
                    continue
                index = max(bisect.bisect_right(starts, virtual) - 1, 0)
                while index < len(functions) and functions[index][0] < virtual + PAGE:
                    function_start, size, name = functions[index]
                    overlap = min(function_start + size, virtual + PAGE) - max(function_start, virtual)
                    if overlap > 0:
                        resident[owner(name)] += overlap
                    index += 1
    print(f"resident code: {pages * PAGE // 1024} kB")
    for name, size in resident.most_common(25):
        print(f"{size // 1024:8d} kB  {name}")


if __name__ == "__main__":
    main()
