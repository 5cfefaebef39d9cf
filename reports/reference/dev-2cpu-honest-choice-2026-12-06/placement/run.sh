#!/bin/bash
# A noisy phase made on purpose: a busy loop pinned to CPU 1, then the same quick run with
# free and with paired placement, twice each, alternating.
cd /work/main
taskset -c 1 python3 -c "while True: pass" &
HOG=$!
sleep 1
for i in 1 2; do
  for mode in free paired; do
    GILBENCH_PLACEMENT=$mode timeout 600 .venv/bin/gilbench run --profile quick --suite speedup \
      --workloads fib,nbody,sha256 --strategies serial,threads,thread_pool,process_pool,process_pipe \
      --workers 1,2 --out /tmp/place4-$mode-$i > /tmp/place4-$mode-$i.log 2>&1
  done
done
kill $HOG
