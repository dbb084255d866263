#!/bin/sh
# Stand-in for a cluster's submit command (sbatch, qsub) for Snakemake's cluster-generic
# executor: start the job script as its own detached process and print a job id.
# Snakemake appends the job script's path as the last argument.
for jobscript; do :; done
setsid sh "$jobscript" >"$jobscript.log" 2>&1 </dev/null &
echo "local-$!"
