#!/usr/bin/env bash
# Builds the two test-harness DLLs that let the Windows app run under Wine 8 (see the .c files):
#   ucrtbase.dll  Wine's missing C99 complex functions and feholdexcept; forwards the rest to
#                 Wine's own ucrtbase, which this script copies beside it as ucrtwine.dll
#   icuuc.dll     the ICU converter functions Qt6Core imports (none available)
# Usage: build_harness.sh WINE_UCRTBASE_DLL OUTDIR   (mingw-w64's gcc must be installed)
# They go into the Wine prefix's system32 only; PyInstaller leaves system32 out of the bundle and
# build.sh checks that neither file is in it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
wine_ucrtbase="$1"
out="$2"
mkdir -p "$out"
cc=x86_64-w64-mingw32-gcc
objdump=x86_64-w64-mingw32-objdump

# Wine's own ucrtbase under another name: the shim forwards to it.
cp "$wine_ucrtbase" "$out/ucrtwine.dll"

# The shim's exports: every name Wine's ucrtbase exports; those the shim implements (shim_<name>
# in ucrtbase_shim.c) point at its code, the others forward to ucrtwine.
implemented="$(grep -o 'shim_[A-Za-z0-9_]*(' "$here/ucrtbase_shim.c" | sed 's/^shim_//; s/($//' | sort -u)"
# UNARY(name) defines name, namef and namel.
for name in $(grep -o 'UNARY([a-z0-9]*)' "$here/ucrtbase_shim.c" | grep -v 'UNARY(name)' | sed 's/UNARY(//; s/)//'); do
  implemented="$implemented"$'\n'"$name"$'\n'"${name}f"$'\n'"${name}l"
done
{
  echo "LIBRARY ucrtbase.dll"
  echo "EXPORTS"
  "$objdump" -p "$wine_ucrtbase" | sed -n '/\[Ordinal\/Name Pointer\] Table/,/^$/p' | \
    sed -n 's/^[[:space:]]*\[ *[0-9]*\] \([A-Za-z0-9_@?$]*\)$/\1/p' | sort -u | while read -r name; do
      if grep -qx "$name" <<<"$implemented"; then echo "  $name=shim_$name"; else echo "  $name=ucrtwine.$name"; fi
    done
} > "$out/ucrtbase.def"
missing="$(comm -23 <(sort -u <<<"$implemented") <(sed -n 's/^  \([^=]*\)=shim_.*/\1/p' "$out/ucrtbase.def" | sort -u))"
if [ -n "$missing" ]; then echo "implemented but not exported by Wine's ucrtbase: $missing" >&2; exit 1; fi

# The shim links against msvcrt.dll (mingw-w64's default), never against ucrtbase itself.
"$cc" -O2 -shared -static-libgcc -o "$out/ucrtbase.dll" "$here/ucrtbase_shim.c" "$out/ucrtbase.def" -lm
"$cc" -O2 -shared -static-libgcc -o "$out/icuuc.dll" "$here/icuuc_stub.c"
if "$objdump" -p "$out/ucrtbase.dll" | grep -qi 'DLL Name: ucrtbase'; then
  echo "the shim imports ucrtbase itself" >&2; exit 1
fi
echo "harness: $(grep -c '=shim_' "$out/ucrtbase.def") functions implemented, $(grep -c '=ucrtwine' "$out/ucrtbase.def") forwarded"
