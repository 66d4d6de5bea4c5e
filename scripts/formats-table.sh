#!/usr/bin/env bash
# Quantizes stories260K to every format with round-to-nearest and prints a Markdown table of file
# size, bits per weight and perplexity (first 64 chunks of tinystories-dev), for BENCHMARKS.md.
# Usage: scripts/formats-table.sh [OUT_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/../shared/data"
MODEL="$DATA/stories260K/stories260K.gguf"
TEXT="$DATA/tinystories/tinystories-dev.txt"
OUT="${1:-$(mktemp -d)}"
mkdir -p "$OUT"
JQ="$ROOT/jquant"

ppl() { "$JQ" perplexity --model "$1" --file "$TEXT" --chunks 64 --json 2>/dev/null | sed -n 's/.*"ppl" : \([0-9.]*\).*/\1/p'; }
bpw() { "$JQ" inspect --model "$1" --json 2>/dev/null | sed -n 's/.*"bits_per_weight" : \([0-9.]*\).*/\1/p'; }

base=$(ppl "$MODEL")
echo "| format | file bytes | bits/weight (all tensors) | PPL (64 chunks) | ΔPPL vs F32 |"
echo "|---|---:|---:|---:|---:|"
printf "| F32 (original) | %s | %.3f | %.4f | |\n" "$(stat -c %s "$MODEL")" "$(bpw "$MODEL")" "$base"
for f in F16 BF16 Q8_0 Q6_K Q5_1 Q5_0 Q5_K Q4_1 Q4_0 Q4_K IQ4_NL IQ4_XS Q3_K Q2_K MXFP4 NF4 NF4_DQ FP4_G32 FP8_E4M3 \
         INT8_ROW_SYM_F32 INT4_G32_SYM_F16 INT4_G32_ASYM_F16 INT3_G32_ASYM_F16 INT2_G32_ASYM_F16; do
  out="$OUT/s260k-$f.gguf"
  "$JQ" quantize --model "$MODEL" --out "$out" --format "$f" --quiet > /dev/null 2>&1 || { echo "| $f | failed | | | |"; continue; }
  p=$(ppl "$out")
  printf "| %s | %s | %.3f | %.4f | %+.2f %% |\n" "$f" "$(stat -c %s "$out")" "$(bpw "$out")" "$p" \
    "$(echo "($p - $base) / $base * 100" | bc -l)"
done
