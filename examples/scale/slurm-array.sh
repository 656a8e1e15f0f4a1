#!/usr/bin/env bash
# Grade a class on a Slurm cluster: one array task per shard, then a merge that waits for them all.
#
#   CLASS=/shared/course/submissions RESULTS=/shared/course/results SHARDS=8 bash slurm-array.sh
#
# Run on a login node, the script submits itself twice: as an array of SHARDS tasks (each grades
# its shard: `lossgrade grade --shard i/SHARDS`), then as the merge, which starts only once every
# task has succeeded (afterok). CLASS and RESULTS must be on a file system every node sees.
# Rerunning it regrades only what changed: each shard resumes from its own records.
#SBATCH --job-name=lossgrade
#SBATCH --cpus-per-task=8
#SBATCH --mem=16G
#SBATCH --time=02:00:00
#SBATCH --output=lossgrade-%A_%a.out
set -euo pipefail

CLASS=${CLASS:?set CLASS to the folder holding one folder or .zip per learner}
RESULTS=${RESULTS:?set RESULTS to the folder for the results}
SHARDS=${SHARDS:-8}

if [[ -n "${SLURM_ARRAY_TASK_ID:-}" ]]; then
  # One array task: shard SLURM_ARRAY_TASK_ID of SLURM_ARRAY_TASK_COUNT (the array is 1-SHARDS).
  lossgrade grade "$CLASS" --out "$RESULTS/shard-$SLURM_ARRAY_TASK_ID" \
    --shard "$SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT" --jobs "${SLURM_CPUS_PER_TASK:-2}" \
    --secret "$RESULTS/lossgrade-secret"  # one grading secret for every shard: the first task makes it
elif [[ "${1:-}" == merge ]]; then
  # The merge: every shard's results into one results folder, as one run would have written it.
  shard_folders=()
  for index in $(seq 1 "$SHARDS"); do
    shard_folders+=("$RESULTS/shard-$index")
  done
  lossgrade merge "${shard_folders[@]}" --out "$RESULTS/class"
else
  # On the login node: submit the array, then the merge, which waits for every task to succeed.
  script=$(realpath "${BASH_SOURCE[0]}")
  array=$(sbatch --parsable --array="1-$SHARDS" --export=ALL "$script")
  array=${array%%;*}  # "jobid;cluster" on a multi-cluster installation
  sbatch --parsable --dependency="afterok:$array" --cpus-per-task=2 --export=ALL --job-name=lossgrade-merge \
    "$script" merge
  echo "Submitted $SHARDS shards (job $array) and their merge; the gradebook will be in $RESULTS/class."
fi
