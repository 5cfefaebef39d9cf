#!/bin/bash
# Replication and the gate, real: two back-to-back quick runs, then one under taskset -c 0.
cd /work/main
G=.venv/bin/gilbench
ARGS="--profile quick --suite speedup --workloads fib,sha256,sleep --strategies serial,threads,thread_pool,process_pool,pool_map,process_pipe"
$G selfcheck > /tmp/ab-selfcheck.txt 2>&1
$G run $ARGS --out /tmp/ab-A > /tmp/ab-A.log 2>&1
$G run $ARGS --out /tmp/ab-B > /tmp/ab-B.log 2>&1
taskset -c 0 $G run $ARGS --out /tmp/ab-C > /tmp/ab-C.log 2>&1
$G compare /tmp/ab-A /tmp/ab-B --fail-if-slower 10 --out /tmp/ab-cmp-AB > /tmp/ab-cmp-AB.txt 2>&1; echo "A/A rc=$?" >> /tmp/ab-cmp-AB.txt
$G compare /tmp/ab-A /tmp/ab-C --fail-if-slower 10 --out /tmp/ab-cmp-AC > /tmp/ab-cmp-AC.txt 2>&1; echo "2cpu vs 1cpu rc=$?" >> /tmp/ab-cmp-AC.txt
$G compare /tmp/ab-A /tmp/ab-B --fail-if-slower 0 --out /tmp/ab-cmp-AB0 > /tmp/ab-cmp-AB0.txt 2>&1; echo "A/A pct0 rc=$?" >> /tmp/ab-cmp-AB0.txt
echo done > /tmp/ab.done
