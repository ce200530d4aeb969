#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# The suite's soak: tools/soak.sh for 45 s with a fixed seed (gen, switch and
# respond as processes under a changing impairment schedule; see there for
# what must hold). The documented long run is tools/soak.sh --minutes 30.
# usage: soak.sh SPRAY_BINARY
exec "$(dirname "$0")/../../tools/soak.sh" "${1:?usage: soak.sh SPRAY_BINARY}" --seconds 45 --seed 7
