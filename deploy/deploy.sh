#!/usr/bin/env bash
# Deploys `pem check` as a Cloud Run job on a Cloud Scheduler trigger, with least-privilege
# service accounts, and the Dataform release and workflow configurations. Safe to re-run:
# every resource is described first and then created or updated (or set by a command that
# upserts), and IAM bindings are additive. Settings come from the environment (see --help and
# docs/deployment.md).
#
# `--dry-run` prints the commands, one per line, exactly as a real run evaluates them: a real
# run evaluates the very lines that --dry-run prints, so what you review is what runs. Secret
# *names* appear in those lines, never secret values.
set -euo pipefail

usage() {
  local text
  # read, not cat: --help and --dry-run run with no external command at all.
  IFS= read -r -d '' text <<'USAGE' || true
Usage: deploy/deploy.sh [--dry-run] [--build] [--help]

Creates or updates, in this order:
  1. the APIs it needs (gcloud services enable)
  2. the image, with --build (Cloud Build from this checkout; no local Docker needed)
  3. service accounts: the job's, the scheduler's, Dataform's
  4. the BigQuery dataset(s) and the monitor's tables (pem schema apply)
  5. least-privilege IAM: BigQuery Job User on the project; Data Viewer on the dataset;
     Data Editor only on the tables the job writes; Secret Accessor only on its secrets
  6. the Cloud Run job, whose arguments are appended to `pem check`
  7. the Cloud Scheduler trigger (HTTP, OAuth as the scheduler account, Cloud Run Admin API jobs:run)
  8. the Dataform release and workflow configurations (Dataform REST API v1, via curl)

Options:
  --dry-run   print the commands instead of running them (needs neither gcloud nor credentials)
  --build     build and push IMAGE with Cloud Build first (same as BUILD_IMAGE=true)
  -h, --help  this help

Environment (default in brackets):
  PROJECT_ID                      Google Cloud project [GOOGLE_CLOUD_PROJECT, else gcloud's configured project]
  REGION                          Cloud Run region [us-west2]
  JOB_NAME                        Cloud Run job [processor-execution-monitor]
  DATASET                         BigQuery dataset holding the run history; must match the registry's `dataset` [nba_reference]
  BQ_LOCATION                     BigQuery location of DATASET; the job gets it as PEM_BIGQUERY_LOCATION [US]
  IMAGE                           container image [REGION-docker.pkg.dev/PROJECT_ID/ARTIFACT_REPOSITORY/JOB_NAME:latest]
  ARTIFACT_REPOSITORY             Artifact Registry repository used by --build [pem]
  BUILD_IMAGE                     true: build IMAGE with Cloud Build [false]
  PEM_ARGS                        arguments appended to `pem check` in the job, whitespace-separated,
                                  e.g. "--lookback-days=14 --processors=a,b" [none]
  SCHEDULE                        Cloud Scheduler cron for the job [0 8 * * *]
  TIME_ZONE                       time zone of SCHEDULE and the Dataform schedules [America/New_York]
  SCHEDULER_JOB_NAME              Cloud Scheduler job [JOB_NAME-trigger]
  SCHEDULER_LOCATION              Cloud Scheduler location [REGION]
  JOB_SERVICE_ACCOUNT_NAME        account the job runs as [pem-job]
  SCHEDULER_SERVICE_ACCOUNT_NAME  account the scheduler calls the Admin API as [pem-scheduler]
  DATAFORM_SERVICE_ACCOUNT_NAME   account Dataform workflows run as [pem-dataform]
  WRITABLE_TABLES                 tables of DATASET the job may write: its alert state and, because the
                                  monitor records its own runs, the run history [pem_alert_state processor_run_history]
  EXTRA_READ_DATASETS             more datasets the job may read (registry execution_table / calendar_table
                                  outside DATASET), "dataset" or "project:dataset", whitespace-separated [none]
  SLACK_WEBHOOK_SECRET            Secret Manager secret mounted as SLACK_WEBHOOK_URL; empty: no Slack [pem-slack-webhook-url]
  PAGERDUTY_ROUTING_KEY_SECRET    secret mounted as PAGERDUTY_ROUTING_KEY; empty: no PagerDuty [pem-pagerduty-routing-key]
  HEARTBEAT_URL_SECRET            secret mounted as PEM_HEARTBEAT_URL; empty: no heartbeat [none]
  SECRET_VERSION                  version of those secrets [latest]
  PAGERDUTY_EVENTS_URL            PagerDuty Events API endpoint passed to the job, when set [unset: the job's default]
  TASK_TIMEOUT / MAX_RETRIES      Cloud Run task timeout and retries [600s / 1]
  CPU / MEMORY                    Cloud Run task resources [1 / 512Mi]
  ENABLE_APIS                     true: enable the APIs first [true]
  APPLY_SCHEMA                    true: create the dataset's tables with `pem schema apply` before granting on them [true]
  PEM_BIN / PEM_CONFIG            pem entry and registry for schema apply [this checkout's bin/pem.js / includes/processors.js]
  DATAFORM                        true: create or update the Dataform configurations [true]
  DATAFORM_REGION                 Dataform repository location [REGION]
  DATAFORM_REPOSITORY             existing Dataform repository, connected to this Git repository [processor-execution-monitor]
  DATAFORM_GIT_COMMITISH          branch, tag or commit the release compiles [main]
  DATAFORM_RELEASE_CONFIG         release configuration id [production]
  DATAFORM_RELEASE_SCHEDULE       release (compilation) cron [0 5 * * *]
  DATAFORM_WORKFLOW_CONFIG        workflow configuration id [production]
  DATAFORM_WORKFLOW_SCHEDULE      workflow (execution) cron, before SCHEDULE [0 6 * * *]
  DATAFORM_ASSERTION_DATASET      dataset for Dataform assertions [DATASET_assertions]
  PROJECT_NUMBER                  project number, for the Dataform service agent [looked up with gcloud]
USAGE
  printf '%s' "$text"
}

die() {
  printf 'deploy.sh: %s\n' "$1" >&2
  exit 2
}

DRY_RUN=false
BUILD_IMAGE="${BUILD_IMAGE:-false}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) DRY_RUN=true ;;
    --build) BUILD_IMAGE=true ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done

# The checkout this script belongs to, without external commands (a dry run needs none).
script_dir="${BASH_SOURCE[0]%/*}"
[[ $script_dir == "${BASH_SOURCE[0]}" ]] && script_dir=.
ROOT="$(cd "$script_dir/.." && pwd)"

# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------
PROJECT_ID="${PROJECT_ID:-${GOOGLE_CLOUD_PROJECT:-}}"
if [[ -z $PROJECT_ID && $DRY_RUN == false ]] && command -v gcloud >/dev/null 2>&1; then
  PROJECT_ID="$(gcloud config get-value project 2>/dev/null || true)"
fi
[[ -n $PROJECT_ID ]] || die "PROJECT_ID is not set: export PROJECT_ID=my-project (or GOOGLE_CLOUD_PROJECT)"

REGION="${REGION:-us-west2}"
JOB_NAME="${JOB_NAME:-processor-execution-monitor}"
DATASET="${DATASET:-nba_reference}"
BQ_LOCATION="${BQ_LOCATION:-US}"
ARTIFACT_REPOSITORY="${ARTIFACT_REPOSITORY:-pem}"
IMAGE="${IMAGE:-${REGION}-docker.pkg.dev/${PROJECT_ID}/${ARTIFACT_REPOSITORY}/${JOB_NAME}:latest}"
PEM_ARGS="${PEM_ARGS:-}"
SCHEDULE="${SCHEDULE:-0 8 * * *}"
TIME_ZONE="${TIME_ZONE:-America/New_York}"
SCHEDULER_JOB_NAME="${SCHEDULER_JOB_NAME:-${JOB_NAME}-trigger}"
SCHEDULER_LOCATION="${SCHEDULER_LOCATION:-$REGION}"
JOB_SERVICE_ACCOUNT_NAME="${JOB_SERVICE_ACCOUNT_NAME:-pem-job}"
SCHEDULER_SERVICE_ACCOUNT_NAME="${SCHEDULER_SERVICE_ACCOUNT_NAME:-pem-scheduler}"
DATAFORM_SERVICE_ACCOUNT_NAME="${DATAFORM_SERVICE_ACCOUNT_NAME:-pem-dataform}"
WRITABLE_TABLES="${WRITABLE_TABLES-pem_alert_state processor_run_history}"
EXTRA_READ_DATASETS="${EXTRA_READ_DATASETS:-}"
SLACK_WEBHOOK_SECRET="${SLACK_WEBHOOK_SECRET-pem-slack-webhook-url}"
PAGERDUTY_ROUTING_KEY_SECRET="${PAGERDUTY_ROUTING_KEY_SECRET-pem-pagerduty-routing-key}"
HEARTBEAT_URL_SECRET="${HEARTBEAT_URL_SECRET:-}"
SECRET_VERSION="${SECRET_VERSION:-latest}"
PAGERDUTY_EVENTS_URL="${PAGERDUTY_EVENTS_URL:-}"
TASK_TIMEOUT="${TASK_TIMEOUT:-600s}"
MAX_RETRIES="${MAX_RETRIES:-1}"
CPU="${CPU:-1}"
MEMORY="${MEMORY:-512Mi}"
ENABLE_APIS="${ENABLE_APIS:-true}"
APPLY_SCHEMA="${APPLY_SCHEMA:-true}"
PEM_BIN="${PEM_BIN:-$ROOT/bin/pem.js}"
PEM_CONFIG="${PEM_CONFIG:-$ROOT/includes/processors.js}"
DATAFORM="${DATAFORM:-true}"
DATAFORM_REGION="${DATAFORM_REGION:-$REGION}"
DATAFORM_REPOSITORY="${DATAFORM_REPOSITORY:-processor-execution-monitor}"
DATAFORM_GIT_COMMITISH="${DATAFORM_GIT_COMMITISH:-main}"
DATAFORM_RELEASE_CONFIG="${DATAFORM_RELEASE_CONFIG:-production}"
DATAFORM_RELEASE_SCHEDULE="${DATAFORM_RELEASE_SCHEDULE:-0 5 * * *}"
DATAFORM_WORKFLOW_CONFIG="${DATAFORM_WORKFLOW_CONFIG:-production}"
DATAFORM_WORKFLOW_SCHEDULE="${DATAFORM_WORKFLOW_SCHEDULE:-0 6 * * *}"
DATAFORM_ASSERTION_DATASET="${DATAFORM_ASSERTION_DATASET:-${DATASET}_assertions}"
PROJECT_NUMBER="${PROJECT_NUMBER:-}"

# Fail on a bad value here, with its name, rather than halfway through the deployment.
check() { # check NAME REGEX EXAMPLE
  local value="${!1}"
  [[ $value =~ $2 ]] || die "$1='$value' is not valid (example: $1=$3)"
}
check PROJECT_ID '^[a-z][a-z0-9.:-]*[a-z0-9]$' my-project
check REGION '^[a-z]+-[a-z]+[0-9]+$' us-west2
check SCHEDULER_LOCATION '^[a-z]+-[a-z]+[0-9]+$' us-west2
check DATAFORM_REGION '^[a-z]+-[a-z]+[0-9]+$' us-west2
check JOB_NAME '^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$' processor-execution-monitor
check SCHEDULER_JOB_NAME '^[A-Za-z0-9_-]{1,500}$' processor-execution-monitor-trigger
check DATASET '^[A-Za-z0-9_]{1,1024}$' nba_reference
check DATAFORM_ASSERTION_DATASET '^[A-Za-z0-9_]{1,1024}$' nba_reference_assertions
check JOB_SERVICE_ACCOUNT_NAME '^[a-z][a-z0-9-]{4,28}[a-z0-9]$' pem-job
check SCHEDULER_SERVICE_ACCOUNT_NAME '^[a-z][a-z0-9-]{4,28}[a-z0-9]$' pem-scheduler
check DATAFORM_SERVICE_ACCOUNT_NAME '^[a-z][a-z0-9-]{4,28}[a-z0-9]$' pem-dataform
check MAX_RETRIES '^[0-9]+$' 1
check PROJECT_NUMBER '^[0-9]*$' 123456789012
for flag in BUILD_IMAGE ENABLE_APIS APPLY_SCHEMA DATAFORM; do check "$flag" '^(true|false)$' true; done
# Whitespace-separated lists, split without globbing.
read -r -a writable_tables <<<"$WRITABLE_TABLES"
read -r -a extra_read_datasets <<<"$EXTRA_READ_DATASETS"
for name in "${writable_tables[@]}"; do [[ $name =~ ^[A-Za-z0-9_]+$ ]] || die "WRITABLE_TABLES: '$name' is not a table name"; done
for name in "${extra_read_datasets[@]}"; do
  [[ $name =~ ^([a-z][a-z0-9.:-]*[a-z0-9]:)?[A-Za-z0-9_]+$ ]] || die "EXTRA_READ_DATASETS: '$name' is not 'dataset' or 'project:dataset'"
done
for name in SLACK_WEBHOOK_SECRET PAGERDUTY_ROUTING_KEY_SECRET HEARTBEAT_URL_SECRET; do
  [[ ${!name} =~ ^[A-Za-z0-9_-]{0,255}$ ]] || die "$name='${!name}' is not a Secret Manager secret id"
done

JOB_SA="${JOB_SERVICE_ACCOUNT_NAME}@${PROJECT_ID}.iam.gserviceaccount.com"
SCHEDULER_SA="${SCHEDULER_SERVICE_ACCOUNT_NAME}@${PROJECT_ID}.iam.gserviceaccount.com"
DATAFORM_SA="${DATAFORM_SERVICE_ACCOUNT_NAME}@${PROJECT_ID}.iam.gserviceaccount.com"

# ---------------------------------------------------------------------------------------------
# Printing and running commands
# ---------------------------------------------------------------------------------------------

# Two expansions stay live in printed lines so that they run as printed: an access token for the
# Dataform REST API, and the project number when it was not given.
# shellcheck disable=SC2016 # literal on purpose: expanded when the printed line runs
readonly TOKEN='$(gcloud auth print-access-token)'
# shellcheck disable=SC2016
readonly PROJECT_NUMBER_REF='${PROJECT_NUMBER}'

# quote WORD: shell-quote one word. Bare when it holds only safe characters, double-quoted when it
# carries one of the two live expansions above (everything else in it escaped), else single-quoted.
quote() {
  local word=$1 escaped
  if [[ $word =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then
    printf '%s' "$word"
  elif [[ $word == *"$TOKEN"* || $word == *"$PROJECT_NUMBER_REF"* ]]; then
    escaped=${word//\\/\\\\}
    escaped=${escaped//\"/\\\"}
    escaped=${escaped//\`/\\\`}
    escaped=${escaped//\$/\\\$}
    escaped=${escaped//"\\$TOKEN"/$TOKEN}
    escaped=${escaped//"\\$PROJECT_NUMBER_REF"/$PROJECT_NUMBER_REF}
    printf '"%s"' "$escaped"
  else
    printf "'%s'" "${word//\'/\'\\\'\'}"
  fi
}

# cmd WORD...: one command line, each word quoted.
cmd() {
  local out="" word
  for word in "$@"; do out+="${out:+ }$(quote "$word")"; done
  printf '%s' "$out"
}

# emit LINE: print it (dry run), or show it on stderr and evaluate it.
emit() {
  if [[ $DRY_RUN == true ]]; then
    printf '%s\n' "$1"
    return
  fi
  printf '+ %s\n' "$1" >&2
  eval "$1"
}

# emit_iam LINE: an IAM binding. Right after a service account is created, a binding naming it
# can fail until the account has propagated, so a real run retries a few times.
emit_iam() {
  if [[ $DRY_RUN == true ]]; then
    emit "$1"
    return
  fi
  local attempt
  for attempt in 1 2 3 4 5; do
    printf '+ %s\n' "$1" >&2
    if eval "$1"; then return 0; fi
    [[ $attempt -lt 5 ]] || break
    printf 'deploy.sh: retrying in %ss (a new service account can take a moment to propagate)\n' "$((attempt * 5))" >&2
    sleep "$((attempt * 5))"
  done
  printf 'deploy.sh: giving up on: %s\n' "$1" >&2
  exit 1
}

# ensure DESCRIBE-LINE CREATE-LINE: create only what does not exist yet.
ensure() {
  emit "$1 >/dev/null 2>&1 || $2"
}

# upsert DESCRIBE-LINE UPDATE-LINE CREATE-LINE: update what exists, create what does not.
upsert() {
  emit "if $1 >/dev/null 2>&1; then $2; else $3; fi"
}

step() {
  if [[ $DRY_RUN == true ]]; then printf '# %s\n' "$1"; else printf '== %s\n' "$1" >&2; fi
}

# gcloud_list ITEM...: a gcloud list flag value. Items holding a comma switch to gcloud's
# alternate-delimiter syntax (`^@^a@b,c`, see `gcloud topic escaping`).
gcloud_list() {
  local delimiter="," prefix="" candidate item out=""
  for item in "$@"; do [[ $item != *,* ]] || delimiter=""; done
  if [[ -z $delimiter ]]; then
    for candidate in '@' ';' '|' '~' '#'; do
      delimiter=$candidate
      for item in "$@"; do [[ $item != *"$candidate"* ]] || delimiter=""; done
      [[ -z $delimiter ]] || break
    done
    [[ -n $delimiter ]] || die "cannot pass these values to gcloud as a list: $*"
    prefix="^${delimiter}^"
  fi
  for item in "$@"; do out+="${out:+$delimiter}$item"; done
  printf '%s%s' "$prefix" "$out"
}

json_string() {
  local value=${1//\\/\\\\}
  printf '"%s"' "${value//\"/\\\"}"
}

# ---------------------------------------------------------------------------------------------
# The deployment
# ---------------------------------------------------------------------------------------------
if [[ $DRY_RUN == false ]]; then
  export CLOUDSDK_CORE_DISABLE_PROMPTS=1
  tools=(gcloud bq)
  [[ $DATAFORM == false ]] || tools+=(curl)
  [[ $APPLY_SCHEMA == false ]] || tools+=(node)
  for tool in "${tools[@]}"; do command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (gcloud and bq: https://cloud.google.com/sdk/docs/install)"; done
  if [[ $APPLY_SCHEMA == true && $PEM_BIN == "$ROOT/bin/pem.js" && ! -f $ROOT/dist/cli/main.js ]]; then
    die "$ROOT/dist is missing: run npm ci in $ROOT first (APPLY_SCHEMA=true runs pem schema apply)"
  fi
fi

JOB_MEMBER="serviceAccount:$JOB_SA"
DATAFORM_AGENT_MEMBER="serviceAccount:service-${PROJECT_NUMBER:-$PROJECT_NUMBER_REF}@gcp-sa-dataform.iam.gserviceaccount.com"

if [[ $ENABLE_APIS == true ]]; then
  step "APIs"
  apis=(run.googleapis.com cloudscheduler.googleapis.com bigquery.googleapis.com secretmanager.googleapis.com iam.googleapis.com)
  [[ $DATAFORM == false ]] || apis+=(dataform.googleapis.com)
  [[ $BUILD_IMAGE == false ]] || apis+=(artifactregistry.googleapis.com cloudbuild.googleapis.com)
  emit "$(cmd gcloud services enable "${apis[@]}" "--project=$PROJECT_ID")"
fi

if [[ $BUILD_IMAGE == true ]]; then
  step "Image"
  ensure "$(cmd gcloud artifacts repositories describe "$ARTIFACT_REPOSITORY" "--location=$REGION" "--project=$PROJECT_ID")" \
    "$(cmd gcloud artifacts repositories create "$ARTIFACT_REPOSITORY" --repository-format=docker "--location=$REGION" "--project=$PROJECT_ID")"
  emit "$(cmd gcloud builds submit "$ROOT" "--tag=$IMAGE" "--project=$PROJECT_ID")"
fi

step "Service accounts"
accounts=("$JOB_SERVICE_ACCOUNT_NAME:pem check Cloud Run job" "$SCHEDULER_SERVICE_ACCOUNT_NAME:Cloud Scheduler trigger of $JOB_NAME")
[[ $DATAFORM == false ]] || accounts+=("$DATAFORM_SERVICE_ACCOUNT_NAME:Dataform workflows of $JOB_NAME")
for account in "${accounts[@]}"; do
  name=${account%%:*}
  ensure "$(cmd gcloud iam service-accounts describe "$name@$PROJECT_ID.iam.gserviceaccount.com" "--project=$PROJECT_ID")" \
    "$(cmd gcloud iam service-accounts create "$name" "--display-name=${account#*:}" "--project=$PROJECT_ID")"
done

step "BigQuery datasets and tables"
datasets=("$DATASET")
[[ $DATAFORM == false ]] || datasets+=("$DATAFORM_ASSERTION_DATASET")
for dataset in "${datasets[@]}"; do
  ensure "$(cmd bq show --dataset "$PROJECT_ID:$dataset")" \
    "$(cmd bq "--location=$BQ_LOCATION" mk --dataset "$PROJECT_ID:$dataset")"
done
if [[ $APPLY_SCHEMA == true ]]; then
  # Table-level grants need the tables to exist; `pem schema apply` creates them if missing.
  emit "$(cmd node "$PEM_BIN" schema apply --engine=bigquery "--project=$PROJECT_ID" "--location=$BQ_LOCATION" "--config=$PEM_CONFIG")"
fi

step "IAM: the job's service account (least privilege)"
emit_iam "$(cmd gcloud projects add-iam-policy-binding "$PROJECT_ID" "--member=$JOB_MEMBER" --role=roles/bigquery.jobUser --condition=None --format=none)"
emit_iam "$(cmd bq add-iam-policy-binding --dataset "--member=$JOB_MEMBER" --role=roles/bigquery.dataViewer "$PROJECT_ID:$DATASET")"
for dataset in "${extra_read_datasets[@]}"; do
  [[ $dataset == *:* ]] || dataset="$PROJECT_ID:$dataset"
  emit_iam "$(cmd bq add-iam-policy-binding --dataset "--member=$JOB_MEMBER" --role=roles/bigquery.dataViewer "$dataset")"
done
for table in "${writable_tables[@]}"; do
  emit_iam "$(cmd bq add-iam-policy-binding --table "--member=$JOB_MEMBER" --role=roles/bigquery.dataEditor "$PROJECT_ID:$DATASET.$table")"
done
secrets=()
for pair in "SLACK_WEBHOOK_URL=$SLACK_WEBHOOK_SECRET" "PAGERDUTY_ROUTING_KEY=$PAGERDUTY_ROUTING_KEY_SECRET" "PEM_HEARTBEAT_URL=$HEARTBEAT_URL_SECRET"; do
  secret=${pair#*=}
  [[ -n $secret ]] || continue
  secrets+=("$pair:$SECRET_VERSION")
  emit_iam "$(cmd gcloud secrets add-iam-policy-binding "$secret" "--member=$JOB_MEMBER" --role=roles/secretmanager.secretAccessor "--project=$PROJECT_ID" --format=none)"
done

step "Cloud Run job"
read -r -a job_args <<<"$PEM_ARGS"
env_vars=("PEM_ENGINE=bigquery" "GOOGLE_CLOUD_PROJECT=$PROJECT_ID" "PEM_BIGQUERY_LOCATION=$BQ_LOCATION")
[[ -z $PAGERDUTY_EVENTS_URL ]] || env_vars+=("PAGERDUTY_EVENTS_URL=$PAGERDUTY_EVENTS_URL")
if [[ ${#secrets[@]} -gt 0 ]]; then secrets_flag="--set-secrets=$(gcloud_list "${secrets[@]}")"; else secrets_flag="--clear-secrets"; fi
# `deploy` creates the job or updates it; an empty --args= resets arguments left by an earlier deploy.
emit "$(cmd gcloud run jobs deploy "$JOB_NAME" "--image=$IMAGE" "--region=$REGION" "--project=$PROJECT_ID" \
  "--service-account=$JOB_SA" "--args=$(gcloud_list "${job_args[@]}")" "--set-env-vars=$(gcloud_list "${env_vars[@]}")" \
  "$secrets_flag" --tasks=1 "--max-retries=$MAX_RETRIES" "--task-timeout=$TASK_TIMEOUT" "--cpu=$CPU" "--memory=$MEMORY")"

step "Cloud Scheduler trigger"
emit_iam "$(cmd gcloud run jobs add-iam-policy-binding "$JOB_NAME" "--region=$REGION" "--project=$PROJECT_ID" \
  "--member=serviceAccount:$SCHEDULER_SA" --role=roles/run.invoker --format=none)"
run_uri="https://${REGION}-run.googleapis.com/apis/run.googleapis.com/v1/namespaces/${PROJECT_ID}/jobs/${JOB_NAME}:run"
scheduler_flags=("--location=$SCHEDULER_LOCATION" "--project=$PROJECT_ID" "--schedule=$SCHEDULE" "--time-zone=$TIME_ZONE"
  "--uri=$run_uri" --http-method=POST "--oauth-service-account-email=$SCHEDULER_SA"
  --oauth-token-scope=https://www.googleapis.com/auth/cloud-platform "--description=Runs the $JOB_NAME Cloud Run job")
upsert "$(cmd gcloud scheduler jobs describe "$SCHEDULER_JOB_NAME" "--location=$SCHEDULER_LOCATION" "--project=$PROJECT_ID")" \
  "$(cmd gcloud scheduler jobs update http "$SCHEDULER_JOB_NAME" "${scheduler_flags[@]}")" \
  "$(cmd gcloud scheduler jobs create http "$SCHEDULER_JOB_NAME" "${scheduler_flags[@]}")"

if [[ $DATAFORM == true ]]; then
  step "Dataform: service account and configurations"
  if [[ -z $PROJECT_NUMBER ]]; then
    emit "PROJECT_NUMBER=\"\$($(cmd gcloud projects describe "$PROJECT_ID" '--format=value(projectNumber)'))\""
  fi
  emit_iam "$(cmd gcloud projects add-iam-policy-binding "$PROJECT_ID" "--member=serviceAccount:$DATAFORM_SA" --role=roles/bigquery.jobUser --condition=None --format=none)"
  for dataset in "$DATASET" "$DATAFORM_ASSERTION_DATASET"; do
    emit_iam "$(cmd bq add-iam-policy-binding --dataset "--member=serviceAccount:$DATAFORM_SA" --role=roles/bigquery.dataEditor "$PROJECT_ID:$dataset")"
  done
  # Dataform's service agent mints tokens for the custom account it runs workflows as.
  emit_iam "$(cmd gcloud iam service-accounts add-iam-policy-binding "$DATAFORM_SA" "--member=$DATAFORM_AGENT_MEMBER" \
    --role=roles/iam.serviceAccountTokenCreator "--project=$PROJECT_ID" --format=none)"

  repository="projects/$PROJECT_ID/locations/$DATAFORM_REGION/repositories/$DATAFORM_REPOSITORY"
  api="https://dataform.googleapis.com/v1/$repository"
  release_name="$repository/releaseConfigs/$DATAFORM_RELEASE_CONFIG"
  release_body="{\"gitCommitish\":$(json_string "$DATAFORM_GIT_COMMITISH"),\"codeCompilationConfig\":{\"defaultDatabase\":$(json_string "$PROJECT_ID"),\"defaultSchema\":$(json_string "$DATASET"),\"defaultLocation\":$(json_string "$BQ_LOCATION"),\"assertionSchema\":$(json_string "$DATAFORM_ASSERTION_DATASET")},\"cronSchedule\":$(json_string "$DATAFORM_RELEASE_SCHEDULE"),\"timeZone\":$(json_string "$TIME_ZONE")}"
  workflow_body="{\"releaseConfig\":$(json_string "$release_name"),\"invocationConfig\":{\"serviceAccount\":$(json_string "$DATAFORM_SA")},\"cronSchedule\":$(json_string "$DATAFORM_WORKFLOW_SCHEDULE"),\"timeZone\":$(json_string "$TIME_ZONE")}"
  auth="Authorization: Bearer $TOKEN"
  json=(-H 'Content-Type: application/json')
  upsert "$(cmd curl -sSf -H "$auth" "$api/releaseConfigs/$DATAFORM_RELEASE_CONFIG")" \
    "$(cmd curl -sS --fail-with-body -X PATCH -H "$auth" "${json[@]}" --data "$release_body" "$api/releaseConfigs/$DATAFORM_RELEASE_CONFIG")" \
    "$(cmd curl -sS --fail-with-body -X POST -H "$auth" "${json[@]}" --data "$release_body" "$api/releaseConfigs?releaseConfigId=$DATAFORM_RELEASE_CONFIG")"
  upsert "$(cmd curl -sSf -H "$auth" "$api/workflowConfigs/$DATAFORM_WORKFLOW_CONFIG")" \
    "$(cmd curl -sS --fail-with-body -X PATCH -H "$auth" "${json[@]}" --data "$workflow_body" "$api/workflowConfigs/$DATAFORM_WORKFLOW_CONFIG")" \
    "$(cmd curl -sS --fail-with-body -X POST -H "$auth" "${json[@]}" --data "$workflow_body" "$api/workflowConfigs?workflowConfigId=$DATAFORM_WORKFLOW_CONFIG")"
fi

if [[ $DRY_RUN == false ]]; then
  printf '\nDeployed. Run it now:\n  gcloud run jobs execute %s --region=%s --project=%s\n' "$JOB_NAME" "$REGION" "$PROJECT_ID" >&2
fi
