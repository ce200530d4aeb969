#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# Real guests: two QEMU VMs, each a Debian kernel with a busybox initramfs,
# switched by spray switch over vhost-user, and the switch restarted under
# them. switch_vhost.sh covers the same ports with virtio_user processes;
# here the other end is QEMU's vhost-user frontend and the guests' own
# virtio_net driver and TCP stack.
#
# 1. The switch starts first, with both vhost ports down; then the guests.
#    vm1 pings vm2, vm1 fetches 4 MiB of random bytes from vm2's busybox
#    httpd and both sides print the SHA-256 of what they served and received;
#    the switch's metrics show the two guest MACs learned and the frames
#    forwarded.
# 2. The switch is stopped (exit 0) and started again with the same
#    arguments; the guests keep running. Both vhost ports come back up,
#    vm1's pings to vm2 are answered again and vm1 fetches the same file
#    again, intact.
#
# Roles on the vhost-user socket: QEMU is the server, the switch's net_vhost
# ports are clients (client=1). A server QEMU outlives its backend: when the
# switch goes away it shows the guest a link down, keeps listening, and
# replays memory table and ring state to the restarted switch when it
# connects; that is the layout to use when the switch is restarted under
# running VMs.
#
# Guest control: each guest's /init reads commands from its second serial
# port (a pipe chardev, ttyS1) and prints one line "RESULT <id> ..." per
# command on its console (ttyS0, a file here). The host sends a command and
# polls the console for its id, with a deadline. A command channel rather
# than a guest that pings on its own: the host decides when each step runs
# (after the switch is back, not on a guest timer), and every answer is tied
# to the question it answers.
#
# Guest memory is a shared memfd (no hugepages): vhost-user maps it from the
# file descriptors QEMU sends. QEMU runs in TCG (no KVM here): a guest boots
# in about 15 s on an idle 2-core machine, several times that when other
# jobs take the cores, hence the long deadlines.
#
# The kernel: Debian's linux-image-amd64, fetched with `apt-get download`
# (never installed, the host's boot setup is not touched) on the first run
# and cached, the image and the eight virtio modules it needs (virtio_net
# and virtio_pci are modules in Debian's config), in CACHE_DIR (meson passes
# one under the build directory). The initramfs is built at each run from
# busybox-static.
# usage: real_vms.sh SPRAY_BINARY [CACHE_DIR]
source "$(dirname "$0")/lib.sh"
spray=$1
cache=${2:-/var/cache/spray/real-vms}
prefix=smk-rvms-$$
work=
trap 'smoke_cleanup; rm -rf /var/run/dpdk/$prefix ${work:+"$work"}' EXIT
t0=$(date +%s%N)
elapsed() { printf '%d.%d s' $((($(date +%s%N) - t0) / 1000000000)) $((($(date +%s%N) - t0) / 100000000 % 10)); }

command -v qemu-system-x86_64 >/dev/null || fail "qemu-system-x86_64 not found; apt-get install qemu-system-x86"
[[ -x /bin/busybox ]] && ! ldd /bin/busybox >/dev/null 2>&1 ||
  fail "no static /bin/busybox for the guests' initramfs; apt-get install busybox-static"
command -v curl >/dev/null || fail "curl not found; apt-get install curl"

# The modules the guests load, dependencies first (each .ko's depends=
# field), by their path under lib/modules/VERSION/kernel.
module_paths=(drivers/virtio/virtio_ring drivers/virtio/virtio drivers/virtio/virtio_pci_modern_dev
  drivers/virtio/virtio_pci_legacy_dev drivers/virtio/virtio_pci net/core/failover
  drivers/net/net_failover drivers/net/virtio_net)
modules=("${module_paths[@]##*/}")

# fetch_kernel : $cache/vmlinuz and $cache/mod/*.ko, from the cache or from
# the package linux-image-amd64 depends on.
fetch_kernel() {
  local m pkg deb attempt missing=0
  for m in "${modules[@]}"; do [[ -f $cache/mod/$m.ko ]] || missing=1; done
  [[ -f $cache/vmlinuz && $missing == 0 ]] && return 0
  mkdir -p "$(dirname "$cache")"
  work=$(mktemp -d "$cache.new.XXXXXX")
  # The metapackage names the current image package. Lists that are missing
  # or name a version the archive no longer has are refreshed once.
  for attempt in 1 2; do
    pkg=$(apt-cache depends linux-image-amd64 2>/dev/null |
      awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }')
    [[ -n $pkg ]] && (cd "$work" && apt-get download -q "$pkg") >>"$work/apt.log" 2>&1 && break
    pkg=
    ((attempt == 1)) && apt-get update -qq >>"$work/apt.log" 2>&1
  done
  [[ -n $pkg ]] || {
    cat "$work/apt.log"
    fail "cannot fetch Debian's kernel image (the package linux-image-amd64 depends on) with apt-get download; the guests boot it (cached in $cache after the first run)"
  }
  deb=$(ls "$work"/*.deb)
  mkdir -p "$work/x" "$work/out/mod"
  local members=('./boot/vmlinuz-*')
  for m in "${module_paths[@]}"; do members+=("./lib/modules/*/kernel/$m.ko"); done
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$work/x" --wildcards "${members[@]}" ||
    fail "cannot extract the kernel and ${modules[*]} from $deb"
  cp "$work"/x/boot/vmlinuz-* "$work/out/vmlinuz"
  for m in "${module_paths[@]}"; do cp "$work"/x/lib/modules/*/kernel/"$m.ko" "$work/out/mod/"; done
  echo "$pkg" >"$work/out/package"
  rm -rf "$cache"
  mv "$work/out" "$cache"
  rm -rf "$work"
  work=
  echo "ok: fetched $pkg into $cache ($(elapsed))"
}
fetch_kernel
echo "ok: guest kernel from $(cat "$cache/package" 2>/dev/null)"

# The guests' initramfs: busybox, the modules, and /init. A guest's address
# comes from its kernel command line (the kernel hands unknown name=value
# parameters to init as environment variables).
root=$SMOKE_TMP/initramfs
mkdir -p "$root"/{bin,dev,proc,sys,tmp,www,mod}
cp /bin/busybox "$root/bin/"
for a in sh mount insmod ip ping httpd wget sha256sum dd stty cat wc sleep sed cut rm; do ln -s busybox "$root/bin/$a"; done
cp "$cache"/mod/*.ko "$root/mod/"
cat >"$root/init" <<EOF
#!/bin/sh
PATH=/bin
export PATH
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
say() { echo "RESULT \$*"; }
for m in ${modules[*]}; do insmod /mod/\$m.ko || say boot insmod \$m failed; done
n=0
while [ ! -e /sys/class/net/eth0 ]; do
  n=\$((n + 1)); [ \$n -gt 100 ] && { say boot no eth0; break; }; sleep 0.1
done
ip link set lo up
ip addr add "\$vm_ip" dev eth0
ip link set eth0 up
httpd -p 80 -h /www
# Raw and without echo before the host may write: its commands must not come
# back to it.
stty -F /dev/ttyS1 raw -echo
exec 3</dev/ttyS1
say boot up \$(cat /sys/class/net/eth0/address)
while read -r id cmd arg <&3; do
  case \$cmd in
    ping)
      # "<id> ping <sent> <received>"; the whole output too if one is missing.
      out=\$(ping -c 5 -i 0.2 -w 10 "\$arg" 2>&1)
      r=\$(echo "\$out" | sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) packets received.*/\1 \2/p')
      [ "\$r" = "5 5" ] || echo "\$out"
      say \$id ping \$r ;;
    serve)
      # "<id> served <bytes> <sha256>": ARG KiB of random bytes on httpd.
      dd if=/dev/urandom of=/www/blob bs=1024 count="\$arg" 2>/dev/null
      say \$id served \$(wc -c </www/blob) \$(sha256sum </www/blob | cut -d' ' -f1) ;;
    fetch)
      # "<id> fetched <bytes> <sha256>", or "<id> fetch failed".
      rm -f /tmp/blob
      if wget -q -O /tmp/blob "http://\$arg/blob"; then
        say \$id fetched \$(wc -c </tmp/blob) \$(sha256sum </tmp/blob | cut -d' ' -f1)
      else
        say \$id fetch failed
      fi ;;
    *) say \$id unknown command "\$cmd" ;;
  esac
done
say loop ended
EOF
chmod +x "$root/init"
(cd "$root" && find . | busybox cpio -o -H newc 2>/dev/null | gzip -1) >"$SMOKE_TMP/initrd.gz" ||
  fail "cannot build the initramfs"

cpus=$(nproc)
c_sw=$((cpus - 1))

# wait_until SECONDS CMD... : polls CMD until it succeeds or SECONDS pass.
wait_until() {
  local deadline=$(($(date +%s) + $1))
  shift
  until "$@" >/dev/null 2>&1; do (($(date +%s) < deadline)) || return 1; sleep 0.2; done
}

# metric NAME : the value of one sample on the running switch's endpoint.
metric() { curl -sf "http://$metrics/metrics" | awk -v m="$1" '$1 == m { print $2 }'; }
metric_is() { [[ $(metric "$1") == "$2" ]]; }

# start_switch LOG : the switch with one vhost port per guest; sets sw and metrics.
start_switch() {
  "$spray" switch --port "vm1=net_vhost0,iface=$SMOKE_TMP/vm1.sock,client=1" \
    --port "vm2=net_vhost1,iface=$SMOKE_TMP/vm2.sock,client=1" \
    --lcores $c_sw --idle backoff --file-prefix "$prefix" --metrics 127.0.0.1:0 --stats-period 0 >"$1" 2>&1 &
  sw=$!
  SMOKE_PIDS+=($sw)
  # EAL start on a loaded 2-core machine can take several seconds.
  wait_until 30 grep -q 'metrics http://' "$1" || { cat "$1"; fail "spray switch did not start"; }
  metrics=$(grep -o 'metrics http://[^/]*' "$1" | sed 's|metrics http://||')
}

# start_vm NAME MAC IP/LEN : a guest whose NIC is on $SMOKE_TMP/NAME.sock.
# QEMU waits for the switch to connect before it runs the guest.
# vectors=0: no MSI-X, the NIC interrupts over INTx. QEMU 7.2 (Debian 12)
# in TCG segfaults when the guest's driver starts a vhost-user virtio-net
# device that has MSI-X vectors: its vector-unmask path calls a KVM irqfd
# helper whose table only exists under KVM.
declare -A vm_pid
start_vm() {
  local name=$1 mac=$2 ip=$3
  mkfifo "$SMOKE_TMP/$name-ctl.in" "$SMOKE_TMP/$name-ctl.out"
  qemu-system-x86_64 -name "$name" -accel tcg -bios /usr/share/qemu/qboot.rom \
    -nodefaults -nographic -no-reboot -smp 1 -m 256M \
    -object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem \
    -kernel "$cache/vmlinuz" -initrd "$SMOKE_TMP/initrd.gz" \
    -append "console=ttyS0 quiet panic=-1 vm_ip=$ip" \
    -serial "file:$SMOKE_TMP/$name.console" -serial "pipe:$SMOKE_TMP/$name-ctl" \
    -chardev "socket,id=sock0,path=$SMOKE_TMP/$name.sock,server=on" \
    -netdev vhost-user,id=net0,chardev=sock0 \
    -device "virtio-net-pci,netdev=net0,mac=$mac,romfile=,vectors=0" \
    >"$SMOKE_TMP/$name.qemu.log" 2>&1 &
  vm_pid[$name]=$!
  SMOKE_PIDS+=($!)
}

# result VM ID : the text after "RESULT ID " on VM's console, if printed.
result() {
  tr -d '\r' 2>/dev/null <"$SMOKE_TMP/$1.console" | sed -n "s/^.*RESULT $2 //p" | head -n 1
}

# wait_result VM ID SECONDS : waits for VM to answer command ID; prints the answer.
wait_result() {
  local vm=$1 id=$2 deadline=$(($(date +%s) + $3)) r
  while (($(date +%s) < deadline)); do
    r=$(result "$vm" "$id")
    [[ -n $r ]] && { echo "$r"; return 0; }
    kill -0 "${vm_pid[$vm]}" 2>/dev/null || break
    sleep 0.2
  done
  echo "--- $vm console:" >&2
  tr -d '\r' <"$SMOKE_TMP/$vm.console" | tail -n 30 >&2
  cat "$SMOKE_TMP/$vm.qemu.log" >&2
  kill -0 "${vm_pid[$vm]}" 2>/dev/null || fail "$vm's QEMU exited before answering '$id'"
  fail "$vm did not answer '$id' within $3 s"
}

# ask VM ID COMMAND ARG : sends one command over VM's control serial port.
# Opened read-write so that the open never blocks, even if QEMU is gone.
ask() { printf '%s %s %s\n' "$2" "$3" "$4" 1<>"$SMOKE_TMP/$1-ctl.in"; }

# links_up LOG : waits until the running switch sees both guests' links up.
links_up() {
  local p
  for p in vm1 vm2; do
    wait_until 30 metric_is "spray_port_link_up{port=\"$p\"}" 1 || { cat "$1"; fail "the switch never saw $p up"; }
  done
}

# ping_ok ID : vm1 pings vm2; fails unless every echo is answered.
ping_ok() {
  ask vm1 "$1" ping 10.9.2.2
  local r
  r=$(wait_result vm1 "$1" 30) || exit 1
  [[ $r == "ping 5 5" ]] || fail "$1: vm1 -> vm2: '$r'; want 'ping 5 5' (sent, received)"
  echo "ok: $1: vm1 pinged vm2 through the switch, 5 of 5 answered ($(elapsed))"
}

# fetch_ok ID : vm1 fetches vm2's file over HTTP; fails unless the size and
# SHA-256 of what vm1 received equal those of what vm2 served ($served).
fetch_ok() {
  local r
  ask vm1 "$1" fetch 10.9.2.2
  r=$(wait_result vm1 "$1" 90) || exit 1
  [[ ${r#fetched } == "${served#served }" ]] ||
    fail "$1: vm1 received '$r'; vm2 served '$served' (bytes, SHA-256)"
  echo "ok: $1: vm1 fetched 4 MiB from vm2's httpd, size and SHA-256 equal on both sides ($(elapsed))"
}

# check_switch WHICH : the running switch learned exactly the two guest MACs
# (nothing moved) and carried the file from vm2 to vm1. With
# net_vhost's default tso=0 the guests send frames of at most 1514 bytes, so
# 4 MiB is at least 2,897 TCP segments (MSS 1448) forwarded as known unicast.
check_switch() {
  local learned moved fwd fdb rx tx
  learned=$(metric spray_switch_learned_total) moved=$(metric spray_switch_moved_total)
  fwd=$(metric spray_switch_forwarded_total) fdb=$(metric spray_switch_fdb_entries)
  rx=$(metric 'spray_port_rx_bytes_total{port="vm2"}') tx=$(metric 'spray_port_tx_bytes_total{port="vm1"}')
  [[ $learned == 2 && $moved == 0 && $fdb == 2 ]] ||
    fail "$1: switch learned $learned MACs (FDB $fdb), moved $moved; want the 2 guest MACs, none moved"
  ((fwd >= 2897)) || fail "$1: switch forwarded $fwd frames; 4 MiB needs at least 2897"
  ((rx >= 4194304 && tx >= 4194304)) ||
    fail "$1: vm2's port received $rx bytes, vm1's sent $tx; the 4 MiB file needs more each"
  wait_until 5 frames_add_up ||
    fail "$1: frames received do not add up to forwarded + flooded + dropped: $(frames_add_up; curl -sf "http://$metrics/metrics" | grep '^spray_switch_')"
  echo "ok: $1: learned both guest MACs (FDB 2 entries), forwarded $fwd frames;" \
    "vm2 -> switch $rx bytes, switch -> vm1 $tx bytes"
  echo "ok: $1: $(frames_add_up)"
}

# frames_add_up : every frame the switch received was forwarded, flooded or
# dropped with a reason, in one scrape (retried: traffic may move the
# counters between two of them); prints the sums.
frames_add_up() {
  curl -sf "http://$metrics/metrics" | awk '
    $1 == "spray_switch_rx_frames_total" { rx = $2 }
    $1 ~ /^spray_switch_(forwarded|flooded|broadcast|multicast)_total$/ { out += $2 }
    $1 ~ /^spray_switch_drops_total[{]/ && $2 > 0 {
      drops += $2
      reason = $1; sub(/.*reason="/, "", reason); sub(/".*/, "", reason)
      reasons = reasons (reasons == "" ? "" : ", ") reason " " $2
    }
    $1 ~ /^spray_worker_tx_dropped_total[{]/ { txd += $2 }
    END {
      printf "%d frames in = %d forwarded or flooded + %d dropped by the bridge%s; %d dropped at egress (guest ring full)\n", rx, out, drops, (reasons == "" ? "" : " (" reasons ")"), txd
      exit !(rx > 0 && rx == out + drops)
    }'
}

# 1. The switch first: its client ports are down until QEMU listens.
start_switch "$SMOKE_TMP/sw1.log"
grep -Eq 'port vm1 +net_vhost .* link down' "$SMOKE_TMP/sw1.log" ||
  { cat "$SMOKE_TMP/sw1.log"; fail "vm1's port is not down before its guest exists"; }
echo "ok: spray switch up, both vhost ports down ($(elapsed))"
start_vm vm1 52:54:00:09:02:01 10.9.2.1/24
start_vm vm2 52:54:00:09:02:02 10.9.2.2/24
for vm in vm1 vm2; do
  r=$(wait_result $vm boot 240) || exit 1
  [[ $r == "up 52:54:00:09:02:0${vm#vm}" ]] || fail "$vm booted with '$r'"
done
echo "ok: both guests booted, eth0 up with their MACs ($(elapsed))"
links_up "$SMOKE_TMP/sw1.log"
echo "ok: the switch sees both vhost ports up"

ping_ok ping1
ask vm2 serve serve 4096
served=$(wait_result vm2 serve 60) || exit 1
[[ $served =~ ^served\ 4194304\ [0-9a-f]{64}$ ]] || fail "vm2 could not make the file to serve: '$served'"
fetch_ok fetch1
check_switch "first switch"

# 2. Restart the switch under the running guests.
stop_and_wait $sw "spray switch (first run)"
for vm in vm1 vm2; do kill -0 "${vm_pid[$vm]}" 2>/dev/null || fail "$vm's QEMU exited with the switch"; done
restart=$(date +%s%N)
start_switch "$SMOKE_TMP/sw2.log"
links_up "$SMOKE_TMP/sw2.log"
echo "ok: both guests' vhost-user links up $((($(date +%s%N) - restart) / 1000000)) ms after the new switch was launched"
ping_ok ping2
fetch_ok fetch2
check_switch "restarted switch"
stop_and_wait $sw "spray switch (second run)"

# The guests' kernels saw nothing go wrong with the device across it all.
for vm in vm1 vm2; do
  ! grep -Eq 'Call Trace|BUG:|Oops|WARNING:|virtio_net.*(error|fail)' "$SMOKE_TMP/$vm.console" ||
    { tr -d '\r' <"$SMOKE_TMP/$vm.console"; fail "$vm's kernel logged a problem"; }
done
echo "ok: no kernel warning in either guest; total $(elapsed)"
echo "1 passed, 0 failed"
