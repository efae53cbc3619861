#!/bin/sh
# A browser opener for tests: records the URL it was asked to open.
printf '%s\n' "$1" >> "$SSETRAY_OPENED_FILE"
