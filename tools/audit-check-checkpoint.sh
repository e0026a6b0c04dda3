#!/bin/sh
# tools/audit-check-checkpoint.sh - checks one audit checkpoint with nothing
# but POSIX sh, sed, xxd (or perl) and the openssl command line: the recipe
# of docs/auditor-guide.md, runnable. Uses no planbok code.
#
#   audit-check-checkpoint.sh LOG_SEGMENT CHECKPOINT_SEQ PUBLIC_KEY_PEM
#
# 1. finds the checkpoint record with that seq in the segment file,
# 2. rebuilds the signed statement from its node, head_seq, head and time,
# 3. verifies its signature (hex DER) with `openssl dgst -sha256 -verify`,
# 4. recomputes the hash of record head_seq (its line without the hash
#    field) and checks that it is the checkpoint's head.
# Prints "Verified OK" and "head OK"; exits non-zero on any mismatch.
set -eu
[ $# -eq 3 ] || { echo "usage: $0 LOG_SEGMENT CHECKPOINT_SEQ PUBLIC_KEY_PEM" >&2; exit 2; }
log=$1 cp_seq=$2 pem=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

line=$(grep "^{\"seq\":$cp_seq," "$log" || true)
case $line in
*'"event":"checkpoint"'*) ;;
*) echo "no checkpoint with seq $cp_seq in $log" >&2; exit 1 ;;
esac
get() { printf '%s' "$line" | sed -n "s/.*\"$1\":\"\{0,1\}\([^\",}]*\).*/\1/p"; }
node=$(get node) head_seq=$(get head_seq) head=$(get head) time=$(get time) sig=$(get sig)

# The statement, byte for byte (no newline at the end).
printf '{"domain":"planbok-audit-checkpoint-v1","node":%s,"seq":%s,"head":"%s","time":"%s"}' \
    "$node" "$head_seq" "$head" "$time" > "$work/statement.bin"
if command -v xxd >/dev/null 2>&1; then
    printf '%s' "$sig" | xxd -r -p > "$work/sig.der"
else
    perl -e 'print pack("H*", $ARGV[0])' "$sig" > "$work/sig.der"
fi
openssl dgst -sha256 -verify "$pem" -signature "$work/sig.der" "$work/statement.bin"

# The head is the hash of record head_seq: SHA-256 of its line with
# ,"hash":"..." removed before the closing brace.
record=$(grep "^{\"seq\":$head_seq," "$log" || true)
[ -n "$record" ] || { echo "record $head_seq is not in $log" >&2; exit 1; }
printf '%s' "$record" | sed 's/,"hash":"[0-9a-f]*"}$/}/' > "$work/record.bin"
computed=$(openssl dgst -sha256 -r "$work/record.bin" | cut -d' ' -f1)
if [ "$computed" != "$head" ]; then
    echo "head mismatch: record $head_seq hashes to $computed, checkpoint says $head" >&2
    exit 1
fi
echo "head OK"
