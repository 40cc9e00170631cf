#!/usr/bin/env bash
# Build time of a crate holding hello_tic's model through #[pci_device]
# versus the same model checked in as a plain module (the CLI's
# generated/hello_tic/model.rs), as reported in macros/README.md.
#
# Creates two one-file binary crates in a temporary directory (path
# dependencies on this workspace, its Cargo.lock, each its own target dir):
#   macro: #[pci_device(spec = "hello_tic.pcidev")] struct Tic;
#   plain: #[path = "model.rs"] mod hello_tic;
# and reports wall and CPU (user + sys) seconds, with -j2, as the median of N
# runs alternating between the two crates:
#   clean    rm -rf target && cargo build          (all dependencies)
#   touch    touch src/main.rs && cargo build      (the crate only)
#   touch-ni the same with CARGO_INCREMENTAL=0
#   spec     touch hello_tic.pcidev && cargo build (macro only: the spec
#            edit loop; the plain crate needs `pcidevc` run by hand instead)
#
# Usage: examples/measure_build_time.sh [CLEAN_RUNS [TOUCH_RUNS]]  (default 3 7)
set -euo pipefail
ws="$(cd "$(dirname "$0")/.." && pwd)"
clean_runs="${1:-3}"
touch_runs="${2:-7}"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
unset CARGO_TARGET_DIR

mkcrate() { # name extra-dependency
    mkdir -p "$dir/$1/src"
    cat > "$dir/$1/Cargo.toml" <<EOF
[package]
name = "bt-$1"
version = "0.0.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
pcidev-runtime = { path = "$ws/runtime" }
$2
EOF
    cp "$ws/Cargo.lock" "$dir/$1/"
}
mkcrate macro "pcidevc-macros = { path = \"$ws/macros\" }"
cp "$ws/specs/hello_tic.pcidev" "$dir/macro/"
cat > "$dir/macro/src/main.rs" <<'EOF'
#![allow(dead_code)]
use pcidevc_macros::pci_device;

#[pci_device(spec = "hello_tic.pcidev")]
#[derive(Debug, Default)]
struct Tic;

fn main() {
    println!("{}", hello_tic::model().info().name);
}
EOF
mkcrate plain ""
cp "$ws/generated/hello_tic/model.rs" "$dir/plain/src/model.rs"
cat > "$dir/plain/src/main.rs" <<'EOF'
#![allow(dead_code)]
#[path = "model.rs"]
mod hello_tic;

fn main() {
    println!("{}", hello_tic::model().info().name);
}
EOF

# One timed command: "wall cpu" seconds (cpu = user + sys of cargo and all
# its children, less sensitive than wall time to other load on the machine).
timed() {
    local out
    out=$( { TIMEFORMAT='%R %U %S'; time "$@" > /dev/null 2>&1; } 2>&1 )
    echo "$out" | awk '{printf "%.3f %.3f\n", $1, $2 + $3}'
}
median() { sort -n | awk '{a[NR]=$1} END {printf "%.2f", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
clean() { rm -rf target && timed cargo build -j2 --offline; }
touch_main() { touch src/main.rs && timed cargo build -j2 --offline; }
touch_main_ni() { touch src/main.rs && CARGO_INCREMENTAL=0 timed cargo build -j2 --offline; }
touch_spec() { touch hello_tic.pcidev && timed cargo build -j2 --offline; }

# Runs alternate between the two crates, so that load that comes and goes
# on the machine hits both alike.
samples="$dir/samples"
mkdir "$samples"
measure() { # name runs variants...
    local name=$1 n=$2 v
    shift 2
    for _ in $(seq "$n"); do
        for v in "$@"; do
            (cd "$dir/$v" && "$name") >> "$samples/$v.$name"
        done
    done
}
for v in macro plain; do
    (cd "$dir/$v" && cargo build -j2 --offline -q) # the model must build
done
measure clean "$clean_runs" macro plain
measure touch_main "$touch_runs" macro plain
measure touch_main_ni "$touch_runs" macro plain
measure touch_spec "$touch_runs" macro

col() { cut -d' ' -f"$2" "$samples/$1" | median; }
row() { # label name
    local m_w m_c p_w p_c
    m_w=$(col "macro.$2" 1) m_c=$(col "macro.$2" 2)
    if [ -f "$samples/plain.$2" ]; then
        p_w=$(col "plain.$2" 1) p_c=$(col "plain.$2" 2)
        printf '%-30s %7s %7s %6s | %7s %7s %6s\n' "$1" "$m_w" "$p_w" \
            "$(echo "scale=2; $m_w / $p_w" | bc)" "$m_c" "$p_c" "$(echo "scale=2; $m_c / $p_c" | bc)"
    else
        printf '%-30s %7s %7s %6s | %7s %7s %6s\n' "$1" "$m_w" - - "$m_c" - -
    fi
}
printf '%-30s %7s %7s %6s | %7s %7s %6s\n' "median seconds, -j2" "macro" "plain" "ratio" "macro" "plain" "ratio"
printf '%-30s %22s | %22s\n' "" "wall" "cpu (user+sys)"
row "clean build ($clean_runs runs)" clean
row "touch src/main.rs ($touch_runs runs)" touch_main
row "  same, CARGO_INCREMENTAL=0" touch_main_ni
row "touch the spec ($touch_runs runs)" touch_spec
