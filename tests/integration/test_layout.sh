#!/bin/bash
# The architecture rules of docs/architecture.md hold on the sources
# (tools/check-layout): only comm.c includes mpi.h, only the HDF5 layer
# includes hdf5.h, analytics include neither comm nor HDF5 headers, layers
# depend downwards only, no file over 600 lines, no function over 60.
# The checker itself must catch a violation: it is run on a planted one.
. tests/lib.sh
if out=$(tools/check-layout 2>&1); then ok "layout rules hold ($out)"; else bad "layout rules"; echo "$out" | sed 's/^/     /'; fi
if out=$(tools/check-unused 2>&1); then ok "no public function that nothing calls"; else bad "unused public functions"; echo "$out" | sed 's/^/     /'; fi
# A planted violation in a copy of the tree must be reported.
mkdir -p $T/tree && cp -r Makefile src include tools $T/tree/
printf '#include "pc_comm.h"\n#include <hdf5.h>\nint f(void) { return 0; }\n' > $T/tree/src/analytics/planted.c
if out=$($T/tree/tools/check-layout 2>&1); then bad "planted violation not reported"; else
  echo "$out" | grep -q 'planted.c includes pc_comm.h' && echo "$out" | grep -q 'hdf5.h included by src/analytics/planted.c' \
    && ok "planted violations reported" || { bad "planted violations: wrong report"; echo "$out"; }
fi
finish
