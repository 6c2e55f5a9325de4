#!/usr/bin/env bash
# One command that checks the library on a CUDA machine and collects every result in one folder.
#
#   bash benchmarks/gpu_check.sh [STAGE...]        stages: tests recipes bench (default: all three)
#
# tests    python -m pytest --device cuda (the whole suite on the GPU; junit XML + log)
# recipes  the tiny preset of every recipe on CUDA for 2 steps: plain, --amp bf16 --channels-last,
#          and --compile for the main job (recipes/cvg_kinetics.py); four recipes at a time
# bench    pytest benchmarks/ --benchmark, plain and with the bf16 / channels-last fast path,
#          then benchmarks/report.py over both JSON files
#
# Results go to $OUT (or runs/gpu_check): one log per step, summary.tsv with every step's exit
# status and seconds, the benchmark JSON and report. Each step has its own time limit
# (GPU_CHECK_LIMIT_S, default 900 s) so one hung step cannot eat the whole run.
# Wheels of packages the machine lacks (PyAV, torch-fidelity) are installed from
# ./.whl when that folder exists.
set -uo pipefail
cd "$(dirname "$0")/.."

out="${OUT:-runs/gpu_check}"
device="${GPU_CHECK_DEVICE:-cuda}"  # "cpu" dry-runs the command lines without a GPU
limit="${GPU_CHECK_LIMIT_S:-900}"
mkdir -p "$out"
export PYTHONUNBUFFERED=1
if [ -d .whl ] && compgen -G ".whl/*.whl" > /dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .whl/*.whl \
        && export PYTHONPATH="/tmp/site:${PYTHONPATH:-}"
fi
export PYTHONPATH="$PWD:${PYTHONPATH:-}"
if [ "$device" = cpu ]; then
    python3 -c "import torch; print(torch.__version__, 'cpu')" | tee "$out/device.txt"
else
    python3 -c "import torch; assert torch.cuda.is_available(), 'no CUDA device'; print(torch.__version__, torch.cuda.get_device_name(0))" \
        | tee "$out/device.txt" || exit 1
fi
printf 'step\tstatus\tseconds\n' > "$out/summary.tsv"

step() {  # step NAME COMMAND...: run with the time limit, log to $out/NAME.log, record status and time
    local name="$1"; shift
    local t0=$SECONDS
    timeout "$limit" "$@" > "$out/$name.log" 2>&1
    local rc=$?
    printf '%s\t%s\t%s\n' "$name" "$rc" "$((SECONDS - t0))" >> "$out/summary.tsv"
    echo "$name: exit $rc in $((SECONDS - t0)) s"
    return 0
}

run_tests() {
    step tests python3 -m pytest --device "$device" -q -n 4 -p no:cacheprovider --junitxml="$out/tests.xml"
}

run_recipes() {
    local recipes=(cvg_kinetics cvg_ucf101 cvg_bdd100k ssw_gan_kinetics ssw_gan_bdd100k dvd_gan_kinetics
                   dvd_gan_ucf101 dvd_gan_fp_kinetics dvd_gan_fp_bair trivd_gan_fp_kinetics trivd_gan_fp_bair)
    local jobs=()
    for r in "${recipes[@]}"; do
        jobs+=("$r|plain|")
        jobs+=("$r|bf16-cl|--amp bf16 --channels-last")
    done
    jobs+=("cvg_kinetics|compile|--compile")
    local running=0
    for job in "${jobs[@]}"; do
        IFS='|' read -r r mode flags <<< "$job"
        # shellcheck disable=SC2086
        step "recipe-$r-$mode" python3 "recipes/$r.py" --device "$device" --steps 2 --fresh --out "runs/gpu_check/$r-$mode" $flags &
        running=$((running + 1))
        if [ "$running" -ge 4 ]; then wait -n; running=$((running - 1)); fi
    done
    wait
}

run_bench() {
    step bench-fp32 python3 -m pytest benchmarks/ --benchmark -q -p no:cacheprovider --benchmark-json="$out/bench-fp32.json"
    step bench-bf16 python3 -m pytest benchmarks/ --benchmark -q -p no:cacheprovider --bench-amp bf16 --bench-channels-last \
        --benchmark-json="$out/bench-bf16-cl.json"
    for f in "$out"/bench-*.json; do
        [ -s "$f" ] && python3 benchmarks/report.py "$f" >> "$out/report.md" 2>&1
    done
}

stages=("$@")
[ ${#stages[@]} -eq 0 ] && stages=(tests recipes bench)
for s in "${stages[@]}"; do
    case "$s" in
        tests) run_tests ;;
        recipes) run_recipes ;;
        bench) run_bench ;;
        *) echo "unknown stage: $s (expected tests, recipes or bench)" >&2; exit 2 ;;
    esac
done
column -t "$out/summary.tsv"
