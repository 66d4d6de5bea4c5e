#!/usr/bin/env bash
# Post-training quantization of stories260K: RTN vs GPTQ vs AWQ, calibrated on the first half of
# tinystories-dev.txt and evaluated (KL divergence against F32) on the second half.
# Usage: scripts/ptq-stories260k.sh [OUTDIR]   (prints a Markdown table; BENCHMARKS.md shows its output)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DATA="$ROOT/../shared/data"
OUT="${1:-/tmp/jquant-ptq-s260k}"
MODEL="$DATA/stories260K/stories260K.gguf"
TEXT="$DATA/tinystories/tinystories-dev.txt"
mkdir -p "$OUT"
half=$(( $(wc -c < "$TEXT") / 2 ))
head -c "$half" "$TEXT" > "$OUT/calib.txt"
tail -c +"$((half + 1))" "$TEXT" > "$OUT/eval.txt"
echo "| target | method | bytes | KLD mean | PPL (F32 ref) | same top % |"
echo "|---|---|---:|---:|---:|---:|"
for target in "--bits 4 --group 32" "--bits 3 --group 32" "--format Q4_0"; do
  for method in rtn gptq awq; do
    name="$(echo "$target" | tr -d ' -')-$method"
    "$ROOT/jquant" quantize --model "$MODEL" --out "$OUT/$name.gguf" --method "$method" $target \
      --calib "$OUT/calib.txt" --calib-samples 32 --calib-seqlen 256 --seed 1 --quiet > "$OUT/$name.log"
    "$ROOT/jquant" eval --model "$OUT/$name.gguf" --reference "$MODEL" -f "$OUT/eval.txt" --ctx 512 --chunks 32 \
      --speed-prompt-tokens 0 --speed-gen-tokens 1 --json > "$OUT/$name.json"
    python3 - "$OUT/$name.json" "$target" "$method" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print(f"| {sys.argv[2]} | {sys.argv[3]} | {r['file_bytes']:,} | {r['kld_mean']:.5f} | {r['ppl']:.4f} ({r['ppl_reference']:.4f}) | {r['same_top_pct']:.2f} |")
PY
  done
done
