#!/usr/bin/env bash
# scorematch field: the numbers it writes match `eval` on the same grid points, the normalised
# log-density integrates to 1 on the grid, --png renders a picture of the requested size, and a
# bad range is refused; plot renders training curves and refuses a malformed metrics line.
set -euo pipefail
bin=$1 root=$2
rm -rf "$root" && mkdir -p "$root"
"$bin" field --target gmm --range -6 6 -6 6 --grid 60 --out "$root/field" >/dev/null
/usr/bin/python3 - "$root" <<'PY'
import csv, sys
root = sys.argv[1]
rows = list(csv.DictReader(open(root + "/field/field.csv")))
with open(root + "/points.csv", "w") as f:
    f.write("x1,x2\n")
    for r in rows:
        f.write(r["x"] + "," + r["y"] + "\n")
PY
"$bin" eval --target gmm --data "$root/points.csv" --out "$root/eval" >/dev/null
/usr/bin/python3 - "$root" <<'PY'
import csv, json, math, struct, sys, ast
root = sys.argv[1]
def npy(path):
    b = open(path, "rb").read()
    n = struct.unpack("<H", b[8:10])[0]
    header = ast.literal_eval(b[10:10 + n].decode())
    data = b[10 + n:]
    return struct.unpack("<%dd" % (len(data) // 8), data)
rows = list(csv.DictReader(open(root + "/field/field.csv")))
score = npy(root + "/eval/score.npy")
energy = npy(root + "/eval/energy.npy")
lap = npy(root + "/eval/laplacian.npy")
area = json.load(open(root + "/field/field.json"))["cell_area"]
total = 0.0
for k, r in enumerate(rows):
    assert float(r["score_x"]) == score[2 * k] and float(r["score_y"]) == score[2 * k + 1], k
    assert float(r["energy"]) == energy[k] and float(r["divergence"]) == lap[k], k
    total += math.exp(float(r["log_density"])) * area
assert abs(total - 1) < 1e-9, total
print("field matches eval on", len(rows), "points; grid integral", total)
PY

# The picture: a PNG of the requested size (signature and IHDR), with the data overlaid.
"$bin" field --target gmm --range -6 6 -6 6 --grid 80 --png --png-size 800 400 \
  --out "$root/picture" >/dev/null
/usr/bin/python3 - "$root/picture/field.png" <<'PY'
import struct, sys
b = open(sys.argv[1], "rb").read()
assert b[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
assert b[12:16] == b"IHDR"
w, h = struct.unpack(">II", b[16:24])
assert (w, h) == (800, 400), (w, h)
assert len(b) > 20000, "suspiciously small picture: %d bytes" % len(b)
print("field.png", w, "x", h, len(b), "bytes")
PY
# Bad input: inverted range and equal axes are refused with no output.
set +e
msg=$("$bin" field --target gmm --range 6 -6 -6 6 --out "$root/bad" 2>&1)
status=$?
set -e
[ "$status" -eq 2 ] && echo "$msg" | grep -q "x_min < x_max" && [ ! -e "$root/bad" ] ||
  { echo "bad range not refused: $status $msg"; exit 1; }

# The 1-D mode (--profile): the model gradient equals -score from eval at the same points
# (bitwise), the potential's minimum is 0, and --png renders a picture of the requested size.
"$bin" gen --dist gaussian --dim 1 --n 500 --seed 4 --out "$root/g1.csv" >/dev/null
"$bin" field --target gaussian --dim 1 --profile 0 --data "$root/g1.csv" --grid 50 --png \
  --png-size 800 400 --out "$root/profile" >/dev/null
/usr/bin/python3 - "$root" <<'PY'
import csv, sys
root = sys.argv[1]
rows = list(csv.DictReader(open(root + "/profile/profile.csv")))
with open(root + "/line.csv", "w") as f:
    f.write("x1\n" + "".join(r["t"] + "\n" for r in rows))
PY
"$bin" eval --target gaussian --data "$root/line.csv" --out "$root/eval-line" >/dev/null
/usr/bin/python3 - "$root" <<'PY'
import ast, csv, struct, sys
root = sys.argv[1]
b = open(root + "/eval-line/score.npy", "rb").read()
n = struct.unpack("<H", b[8:10])[0]
score = struct.unpack("<%dd" % ((len(b) - 10 - n) // 8), b[10 + n:])
rows = list(csv.DictReader(open(root + "/profile/profile.csv")))
assert len(rows) == 50 == len(score)
for r, s in zip(rows, score):
    assert float(r["model_gradient"]) == -s, (r, s)
assert min(float(r["model_potential"]) for r in rows) == 0.0
assert all(r["data_gradient"] != "" for r in rows)
p = open(root + "/profile/profile.png", "rb").read()
assert p[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", p[16:24]) == (800, 400)
print("profile matches eval on", len(rows), "points; profile.png 800 x 400", len(p), "bytes")
PY

# Sampler pictures: sample --trace-dims writes trace.png into its output; plot --samples draws
# the same from any samples.npy at the requested size; a row count that is not a multiple of
# --chains is refused with no picture.
"$bin" sample --target banana --sampler mala --chains 8 --warmup 100 --steps 300 --trace-dims 0 1 \
  --quiet --out "$root/mala" >/dev/null
"$bin" plot --samples "$root/mala/samples.npy" --chains 8 --dims 1 --size 700 300 \
  --out "$root/trace.png" >/dev/null
/usr/bin/python3 - "$root/mala/trace.png" "$root/trace.png" <<'PY'
import struct, sys
for path, size in ((sys.argv[1], (1200, 580)), (sys.argv[2], (700, 300))):
    b = open(path, "rb").read()
    assert b[:8] == b"\x89PNG\r\n\x1a\n", path
    assert struct.unpack(">II", b[16:24]) == size, (path, struct.unpack(">II", b[16:24]))
    assert len(b) > 15000, (path, len(b))
print("trace pictures ok")
PY
set +e
msg=$("$bin" plot --samples "$root/mala/samples.npy" --chains 7 --out "$root/bad-trace.png" 2>&1)
status=$?
set -e
[ "$status" -eq 1 ] && echo "$msg" | grep -q "not a multiple of --chains" && [ ! -e "$root/bad-trace.png" ] ||
  { echo "bad --chains not refused: $status $msg"; exit 1; }

# plot: training curves from a metrics.jsonl; a malformed line is refused with its number.
printf '%s\n' '{"step":10,"loss":2.0,"lr":0.001,"grad_norm":1.5}' \
  '{"step":20,"loss":1.0,"lr":0.001,"grad_norm":1.2,"val_loss":1.1}' \
  '{"step":30,"loss":0.5,"lr":0.0005,"grad_norm":0.9}' > "$root/metrics.jsonl"
"$bin" plot --metrics "$root/metrics.jsonl" --size 640 320 --out "$root/curves.png" >/dev/null
/usr/bin/python3 -c "
import struct, sys
b = open(sys.argv[1], 'rb').read()
assert b[:8] == b'\x89PNG\r\n\x1a\n' and struct.unpack('>II', b[16:24]) == (640, 320)
print('curves.png 640 x 320', len(b), 'bytes')" "$root/curves.png"
echo '{"step":40}' >> "$root/metrics.jsonl"
set +e
msg=$("$bin" plot --metrics "$root/metrics.jsonl" --out "$root/bad.png" 2>&1)
status=$?
set -e
[ "$status" -eq 1 ] && echo "$msg" | grep -q "line 4" && [ ! -e "$root/bad.png" ] ||
  { echo "malformed metrics not refused: $status $msg"; exit 1; }
ls -a "$root" "$root/mala" | grep -q '^\.gnuplot\.tmp' && { echo "a picture left its scratch directory"; exit 1; }
echo "pictures ok"
