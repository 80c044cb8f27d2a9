#!/usr/bin/env bash
# Deploys `pem check` as a Cloud Run job on a Cloud Scheduler trigger, with least-privilege
# service accounts, and the Dataform release and workflow configurations. Safe to re-run:
# every resource is described first and then created or updated (or set by a command that
# upserts), and IAM bindings are additive. Only NOT_FOUND from a describe means "absent": any
# other failure (403, network) stops the script instead of attempting a create. Settings come
# from the environment (see --help and docs/deployment.md).
#
# `--dry-run` prints the commands, one per line, exactly as a real run evaluates them: a real
# run evaluates the very lines that --dry-run prints, so what you review is what runs. Secret
# *names* appear in those lines, never secret values. `--check` changes nothing: it verifies the
# prerequisites it can (tools, credentials, APIs, secrets, the caller's permissions) and prints
# each missing one on its own line.
set -euo pipefail
# A failure inside a command substitution stops it too (a real run evaluates each line in one).
shopt -s inherit_errexit

usage() {
  local text
  # read, not cat: --help and --dry-run run with no external command at all.
  IFS= read -r -d '' text <<'USAGE' || true
Usage: deploy/deploy.sh [--dry-run | --check] [--build] [--help]

Creates or updates, in this order:
  0. checks the credentials: Application Default Credentials (used by `pem schema apply`) and the
     deploying account (DEPLOYER)
  1. the APIs it needs (gcloud services enable)
  2. service accounts: the job's, the scheduler's, Dataform's, and with --build Cloud Build's;
     the deployer gets Service Account User on each (act-as, needed to deploy with them)
  3. the image, with --build (Cloud Build from this checkout as its own least-privilege account)
  4. the BigQuery dataset(s) and the monitor's tables (pem schema apply)
  5. least-privilege IAM: BigQuery Job User on the project; Data Viewer on the dataset and on the
     registry's source datasets; Data Editor only on the tables the job writes; Secret Accessor
     only on its secrets
  6. the Cloud Run job, whose arguments are appended to `pem check`
  7. the Cloud Scheduler trigger (HTTP, OAuth as the scheduler account, Cloud Run Admin API jobs:run)
  8. the Dataform account's access (it can create and replace its objects, never drop a table) and
     the release and workflow configurations (Dataform REST API v1 via curl, updates with an updateMask)

Options:
  --dry-run   print the commands instead of running them (needs neither gcloud nor credentials)
  --check     change nothing: verify the prerequisites (tools, credentials, APIs, secrets, the
              caller's IAM permissions, the Dataform repository), each missing one on its own
              line; exit 1 if any is missing
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
                                  e.g. "--lookback-days=14 --processors=a,b"; not --engine, --database,
                                  --config, --project, --location, --publish-report,
                                  --now, --date or --fail-on [none]
  SCHEDULE                        Cloud Scheduler cron for the job [0 8 * * *]
  TIME_ZONE                       time zone of SCHEDULE and the Dataform schedules [America/New_York]
  SCHEDULER_JOB_NAME              Cloud Scheduler job [JOB_NAME-trigger]
  SCHEDULER_LOCATION              Cloud Scheduler location [REGION]
  JOB_SERVICE_ACCOUNT_NAME        account the job runs as [pem-job]
  SCHEDULER_SERVICE_ACCOUNT_NAME  account the scheduler calls the Admin API as [pem-scheduler]
  DATAFORM_SERVICE_ACCOUNT_NAME   account Dataform workflows run as [pem-dataform]
  BUILD_SERVICE_ACCOUNT_NAME      account Cloud Build runs as with --build [pem-build]
  DEPLOYER                        IAM member deploying, granted Service Account User on the accounts above,
                                  e.g. user:you@example.com or group:deployers@example.com [gcloud's account]
  WRITABLE_TABLES                 tables of DATASET the job may write: its alert state and, because the
                                  monitor records its own runs, the run history [pem_alert_state processor_run_history]
  EXTRA_READ_DATASETS             more datasets the job and Dataform may read, besides the registry's
                                  execution_table / calendar_table datasets (found from PEM_CONFIG),
                                  "dataset" or "project:dataset", whitespace-separated [none]
  SLACK_WEBHOOK_SECRET            Secret Manager secret mounted as SLACK_WEBHOOK_URL; empty: no Slack [pem-slack-webhook-url]
  PAGERDUTY_ROUTING_KEY_SECRET    secret mounted as PAGERDUTY_ROUTING_KEY; empty: no PagerDuty [pem-pagerduty-routing-key]
  HEARTBEAT_URL_SECRET            secret mounted as PEM_HEARTBEAT_URL; empty: no heartbeat [none]
  ROUTE_SECRETS                   per-route secrets (SPEC §11 routes), whitespace-separated VARIABLE=secret-id pairs
                                  naming the registry's route variables, e.g.
                                  "SLACK_WEBHOOK_URL_STATS=pem-slack-stats PAGERDUTY_ROUTING_KEY_STATS=pem-pd-stats" [none]
  REPORT_BUCKET                   Cloud Storage bucket the job publishes its HTML report to (created, uniform
                                  access; the job may write objects in it and nothing else); empty: no report [none]
  REPORT_OBJECT                   object path of the report in REPORT_BUCKET [health.html]
  SECRET_VERSION                  version of those secrets [latest]
  PAGERDUTY_EVENTS_URL            PagerDuty Events API endpoint passed to the job, when set [unset: the job's default]
  TASK_TIMEOUT / MAX_RETRIES      Cloud Run task timeout and retries [600s / 1]
  CPU / MEMORY                    Cloud Run task resources [1 / 512Mi]
  ENABLE_APIS                     true: enable the APIs first [true]
  APPLY_SCHEMA                    true: create the dataset's tables with `pem schema apply` before granting on them [true]
  PEM_BIN / PEM_CONFIG            pem entry and registry for schema apply [this checkout's bin/pem.js / includes/processors.js]
  RETRY_BASE_SECONDS              first wait before retrying a transient failure; waits grow as 1, 4, 9, 16 times it [5]
  DATAFORM                        true: create or update the Dataform configurations [true]
  DATAFORM_REGION                 Dataform repository location [REGION]
  DATAFORM_REPOSITORY             existing Dataform repository, connected to this Git repository [processor-execution-monitor]
  DATAFORM_GIT_COMMITISH          branch, tag or commit the release compiles [main]
  DATAFORM_RELEASE_CONFIG         release configuration id [production]
  DATAFORM_RELEASE_SCHEDULE       release (compilation) cron [0 5 * * *]
  DATAFORM_WORKFLOW_CONFIG        workflow configuration id [production]
  DATAFORM_WORKFLOW_SCHEDULE      workflow (execution) cron, before SCHEDULE [0 6 * * *]
  DATAFORM_ASSERTION_DATASET      dataset for Dataform assertions [DATASET_assertions]
  DATAFORM_ROLE_ID                custom role (project level) letting Dataform create and replace, never delete [pemDataformPublisher]
  PROJECT_NUMBER                  project number, for the Dataform service agent [looked up with gcloud]
USAGE
  printf '%s' "$text"
}

die() {
  printf 'deploy.sh: %s\n' "$1" >&2
  exit 2
}

DRY_RUN=false
CHECK=false
BUILD_IMAGE="${BUILD_IMAGE:-false}"
while [[ $# -gt 0 ]]; do
  case "$1" in
    --dry-run) DRY_RUN=true ;;
    --check) CHECK=true ;;
    --build) BUILD_IMAGE=true ;;
    -h | --help)
      usage
      exit 0
      ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
  shift
done
[[ $DRY_RUN == false || $CHECK == false ]] || die "--dry-run and --check do not go together (see --help)"

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
BUILD_SERVICE_ACCOUNT_NAME="${BUILD_SERVICE_ACCOUNT_NAME:-pem-build}"
DEPLOYER="${DEPLOYER:-}"
WRITABLE_TABLES="${WRITABLE_TABLES-pem_alert_state processor_run_history}"
EXTRA_READ_DATASETS="${EXTRA_READ_DATASETS:-}"
SLACK_WEBHOOK_SECRET="${SLACK_WEBHOOK_SECRET-pem-slack-webhook-url}"
PAGERDUTY_ROUTING_KEY_SECRET="${PAGERDUTY_ROUTING_KEY_SECRET-pem-pagerduty-routing-key}"
HEARTBEAT_URL_SECRET="${HEARTBEAT_URL_SECRET:-}"
ROUTE_SECRETS="${ROUTE_SECRETS:-}"
REPORT_BUCKET="${REPORT_BUCKET:-}"
REPORT_OBJECT="${REPORT_OBJECT:-health.html}"
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
RETRY_BASE_SECONDS="${RETRY_BASE_SECONDS:-5}"
DATAFORM="${DATAFORM:-true}"
DATAFORM_REGION="${DATAFORM_REGION:-$REGION}"
DATAFORM_REPOSITORY="${DATAFORM_REPOSITORY:-processor-execution-monitor}"
DATAFORM_GIT_COMMITISH="${DATAFORM_GIT_COMMITISH:-main}"
DATAFORM_RELEASE_CONFIG="${DATAFORM_RELEASE_CONFIG:-production}"
DATAFORM_RELEASE_SCHEDULE="${DATAFORM_RELEASE_SCHEDULE:-0 5 * * *}"
DATAFORM_WORKFLOW_CONFIG="${DATAFORM_WORKFLOW_CONFIG:-production}"
DATAFORM_WORKFLOW_SCHEDULE="${DATAFORM_WORKFLOW_SCHEDULE:-0 6 * * *}"
DATAFORM_ASSERTION_DATASET="${DATAFORM_ASSERTION_DATASET:-${DATASET}_assertions}"
DATAFORM_ROLE_ID="${DATAFORM_ROLE_ID:-pemDataformPublisher}"
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
check BUILD_SERVICE_ACCOUNT_NAME '^[a-z][a-z0-9-]{4,28}[a-z0-9]$' pem-build
check DEPLOYER '^((user|serviceAccount|group):[^[:space:]@]+@[^[:space:]]+|domain:[^[:space:]]+)?$' user:you@example.com
check DATAFORM_ROLE_ID '^[A-Za-z0-9_.]{3,64}$' pemDataformPublisher
# Five cron fields (Cloud Scheduler and Dataform take unix-cron), a BigQuery location (multi-region
# or region), and a time zone this machine knows when it has the tz database.
for name in SCHEDULE DATAFORM_RELEASE_SCHEDULE DATAFORM_WORKFLOW_SCHEDULE; do check "$name" '^[[:space:]]*[^[:space:]]+([[:space:]]+[^[:space:]]+){4}[[:space:]]*$' "'0 8 * * *'"; done
# US or EU, a region (us-west2, europe-west12), or a BigQuery Omni one (aws-us-east-1), any case.
check BQ_LOCATION '^([A-Za-z]{2}|[A-Za-z]+(-[A-Za-z0-9]+)+)$' US
check TIME_ZONE '^[A-Za-z_][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$' America/New_York
[[ $TIME_ZONE != posix/* && $TIME_ZONE != right/* && (! -d /usr/share/zoneinfo || -f /usr/share/zoneinfo/$TIME_ZONE) ]] ||
  die "TIME_ZONE='$TIME_ZONE' is not a time zone (example: TIME_ZONE=America/New_York)"
check MAX_RETRIES '^[0-9]+$' 1
check RETRY_BASE_SECONDS '^[0-9]+$' 5
check PROJECT_NUMBER '^[0-9]*$' 123456789012
check REPORT_BUCKET '^([a-z0-9][a-z0-9._-]{1,220}[a-z0-9])?$' my-project-pem-reports
check REPORT_OBJECT '^[^[:space:]]*[^/[:space:]]$' health.html
for flag in BUILD_IMAGE ENABLE_APIS APPLY_SCHEMA DATAFORM; do check "$flag" '^(true|false)$' true; done
# Whitespace-separated lists, split without globbing.
read -r -a writable_tables <<<"$WRITABLE_TABLES"
read -r -a extra_read_datasets <<<"$EXTRA_READ_DATASETS"
for name in "${writable_tables[@]}"; do [[ $name =~ ^[A-Za-z0-9_]+$ ]] || die "WRITABLE_TABLES: '$name' is not a table name"; done
for name in "${extra_read_datasets[@]}"; do
  [[ $name =~ ^([a-z][a-z0-9.:-]*[a-z0-9]:)?[A-Za-z0-9_]+$ ]] || die "EXTRA_READ_DATASETS: '$name' is not 'dataset' or 'project:dataset'"
done
# looks_like_key VALUE: 32 letters and digits with both in it, the shape of a PagerDuty routing key
# (any letter case): a secret's value pasted where its id belongs.
looks_like_key() {
  [[ $1 =~ ^[A-Za-z0-9]{32}$ && $1 =~ [0-9] && $1 =~ [A-Za-z] ]]
}
for name in SLACK_WEBHOOK_SECRET PAGERDUTY_ROUTING_KEY_SECRET HEARTBEAT_URL_SECRET; do
  # Never echoed: what is pasted here by mistake is usually the secret itself (a webhook URL).
  [[ ${!name} =~ ^[A-Za-z0-9_-]{0,255}$ ]] ||
    die "$name is not a Secret Manager secret id (its value is not shown: it may be the secret itself); store the value in a secret and give that secret's id (example: $name=my-secret-id)"
  # A PagerDuty routing key (32 letters and digits) is a valid id by its letters, and would be printed in --set-secrets.
  looks_like_key "${!name}" &&
    die "$name looks like a key itself (32 letters and digits), not a Secret Manager secret id; store the key in a secret and give that secret's id (example: $name=my-secret-id)"
done
read -r -a route_secrets <<<"$ROUTE_SECRETS"
for pair in "${route_secrets[@]}"; do
  # Only names here: a variable name and a secret id, never the secret's value.
  [[ $pair =~ ^[A-Za-z_][A-Za-z0-9_]*=[A-Za-z0-9_-]{1,255}$ ]] || die "ROUTE_SECRETS: '${pair%%=*}=…' is not VARIABLE=secret-id (example: SLACK_WEBHOOK_URL_STATS=pem-slack-stats)"
  looks_like_key "${pair#*=}" &&
    die "ROUTE_SECRETS: the id given for ${pair%%=*} looks like a key itself (32 letters and digits), not a Secret Manager secret id; store the key in a secret and give that secret's id"
done
# PEM_ARGS are the job's `pem check` arguments: a typo there (--lookback-day=14, an unknown
# processor) fails every scheduled run with exit 2. So pem check reads them itself, here, before
# anything changes, as the job would run it (BigQuery, this registry), with nothing sent (--dry-run)
# and an endpoint that refuses at once: the arguments and the registry are read before any request,
# so exit 2 is theirs, and the refused connection (exit 1) means they passed.
read -r -a job_args <<<"$PEM_ARGS"
for arg in "${job_args[@]}"; do
  case $arg in
    --engine | --engine=* | --database | --database=*) die "PEM_ARGS: $arg is the job's to decide (it checks BigQuery, PEM_ENGINE=bigquery): leave it out" ;;
    # Set here from the deploy's own variables; given again in PEM_ARGS they would win in the job
    # (the last value counts) while the reading below, which adds this script's, never saw them.
    --config | --config=*) die "PEM_ARGS: $arg: the job reads the registry in its image (includes/processors.js, built with --build): leave it out" ;;
    --project | --project=*) die "PEM_ARGS: $arg: the job checks PROJECT_ID ($PROJECT_ID, GOOGLE_CLOUD_PROJECT in the job): set PROJECT_ID instead" ;;
    --location | --location=*) die "PEM_ARGS: $arg: the job's BigQuery location is BQ_LOCATION ($BQ_LOCATION): set BQ_LOCATION instead" ;;
    --publish-report | --publish-report=*) die "PEM_ARGS: $arg: the job publishes to REPORT_BUCKET/REPORT_OBJECT (PEM_REPORT_URI), the bucket it is granted: set REPORT_BUCKET instead" ;;
    # Either would make every scheduled run look at one fixed moment. (--dry-run is let through: a
    # trial deployment that sends nothing.)
    --now | --now=* | --date | --date=*) die "PEM_ARGS: ${arg%%=*} would pin every scheduled run to one moment: leave it out (a scheduled check reads the clock)" ;;
    # Exit 3 is a failed execution to Cloud Run, which runs it again (MAX_RETRIES): the same check,
    # and its self-record, twice, and a red execution for a monitor that worked.
    --fail-on | --fail-on=*) die "PEM_ARGS: --fail-on would mark every execution that finds a problem failed (Cloud Run runs a failed one again, up to MAX_RETRIES): leave it out (the alerts are the job's findings)" ;;
  esac
done
# Only with this checkout's pem, built (npm ci), and Node: the pem the image runs.
if [[ ${#job_args[@]} -gt 0 && $PEM_BIN == "$ROOT/bin/pem.js" && -f $ROOT/dist/cli/main.js ]] && command -v node >/dev/null 2>&1; then
  args_status=0
  args_said=$(PEM_RECORD_SELF=off PEM_BIGQUERY_API_ENDPOINT=http://127.0.0.1:9 node "$PEM_BIN" check "${job_args[@]}" --dry-run \
    --engine=bigquery "--project=$PROJECT_ID" "--config=$PEM_CONFIG" 2>&1 >/dev/null) || args_status=$?
  if [[ $args_status -eq 2 ]]; then
    args_error=""
    while IFS= read -r line; do
      if [[ $line == "error: "* ]]; then args_error=${line#error: }; break; fi
    done <<<"$args_said"
    die "PEM_ARGS '$PEM_ARGS' would fail every scheduled run: ${args_error:-pem check exits 2 with them}"
  fi
fi

JOB_SA="${JOB_SERVICE_ACCOUNT_NAME}@${PROJECT_ID}.iam.gserviceaccount.com"
SCHEDULER_SA="${SCHEDULER_SERVICE_ACCOUNT_NAME}@${PROJECT_ID}.iam.gserviceaccount.com"
DATAFORM_SA="${DATAFORM_SERVICE_ACCOUNT_NAME}@${PROJECT_ID}.iam.gserviceaccount.com"
BUILD_SA="${BUILD_SERVICE_ACCOUNT_NAME}@${PROJECT_ID}.iam.gserviceaccount.com"
# Where `gcloud builds submit` uploads this checkout, and where the build account reads it from.
SOURCE_BUCKET="${PROJECT_ID//:/_}_cloudbuild"

# ---------------------------------------------------------------------------------------------
# Printing and running commands
# ---------------------------------------------------------------------------------------------

# Three expansions stay live in printed lines so that they run as printed: an access token for the
# REST APIs, and the project number and the deployer when they were not given (each looked up by
# the line that sets it).
# shellcheck disable=SC2016 # literal on purpose: expanded when the printed line runs
readonly TOKEN='$(gcloud auth print-access-token)'
# shellcheck disable=SC2016
readonly PROJECT_NUMBER_REF='${PROJECT_NUMBER}'
# shellcheck disable=SC2016
readonly DEPLOYER_REF='${DEPLOYER}'
LIVE=("$TOKEN" "$PROJECT_NUMBER_REF" "$DEPLOYER_REF")

# quote WORD: shell-quote one word. Bare when it holds only safe characters, double-quoted when it
# carries one of the live expansions above (everything else in it escaped), else single-quoted.
# Sets QUOTED instead of printing it: `cmd` quotes every word of ~50 lines, and a `$(quote …)`
# subshell per word was most of a dry run's time (1.3 s, mostly fork; the tests run it ~100 times).
quote() {
  local word=$1 escaped live kept
  if [[ $word =~ ^[A-Za-z0-9_@%+=:,./-]+$ ]]; then
    QUOTED=$word
    return
  fi
  for live in "${LIVE[@]}"; do
    [[ $word == *"$live"* ]] || continue
    escaped=${word//\\/\\\\}
    escaped=${escaped//\"/\\\"}
    escaped=${escaped//\`/\\\`}
    escaped=${escaped//\$/\\\$}
    for kept in "${LIVE[@]}"; do escaped=${escaped//"\\$kept"/$kept}; done
    printf -v QUOTED '"%s"' "$escaped"
    return
  done
  printf -v QUOTED "'%s'" "${word//\'/\'\\\'\'}"
}

# cmd WORD...: one command line, each word quoted.
cmd() {
  local out="" word
  for word in "$@"; do
    quote "$word"
    out+="${out:+ }$QUOTED"
  done
  printf '%s' "$out"
}

# transient ERROR-TEXT: whether a failure is worth another attempt. Only these are retried:
# server-side unavailability and rate limits, network trouble, a concurrent IAM policy change
# (https://cloud.google.com/iam/docs/retry-strategy), and IAM's eventual consistency right after
# this run changed something: a service account created moments ago that another API does not
# see yet, and the act-as permission this run just granted
# (https://cloud.google.com/iam/docs/access-change-propagation). Everything else (NOT_FOUND such
# as a missing secret, PERMISSION_DENIED, INVALID_ARGUMENT, ...) is permanent: retrying cannot help.
transient() {
  case $1 in
    *UNAVAILABLE* | *DEADLINE_EXCEEDED* | *RESOURCE_EXHAUSTED* | *INTERNAL:* | *ABORTED* | *'concurrent policy changes'* | \
      *'error: 429'* | *'error: 50'[0-9]* | *'Connection reset'* | *'Connection timed out'* | *'Operation timed out'* | \
      *'Temporary failure in name resolution'* | *'Could not resolve host'*) return 0 ;;
    *[Ss]'ervice account '*' does not exist'* | *iam.serviceAccounts.actAs* | *iam.serviceaccounts.actAs*) return 0 ;;
  esac
  return 1
}

# run LINE (a real run): show it on stderr and evaluate it; retry it while it fails transiently.
# Its stderr is shown once it finishes (and kept to classify a failure).
run() {
  local line=$1 attempt=1 err status delay
  while true; do
    printf '+ %s\n' "$line" >&2
    { err=$({ (eval "$line") 2>&1 1>&3 3>&-; }); } 3>&1 && status=0 || status=$?
    [[ -z $err ]] || printf '%s\n' "$err" >&2
    [[ $status -ne 0 ]] || return 0
    # A failure this script already explained in one line (a probe that could not tell whether
    # something exists, missing credentials) stops here without another word.
    [[ $err != deploy.sh:* && $err != *$'\n'deploy.sh:* ]] || exit "$status"
    if ! transient "$err"; then
      printf 'deploy.sh: stopped: a permanent error, not retried (fix its cause and re-run): %s\n' "${line:0:120}" >&2
      exit 1
    fi
    if [[ $attempt -ge 5 ]]; then
      printf 'deploy.sh: giving up after %s attempts on: %s\n' "$attempt" "${line:0:120}" >&2
      exit 1
    fi
    delay=$((RETRY_BASE_SECONDS * attempt * attempt))
    printf 'deploy.sh: transient failure (attempt %s of 5), retrying in %ss\n' "$attempt" "$delay" >&2
    [[ $delay -eq 0 ]] || sleep "$delay"
    attempt=$((attempt + 1))
  done
}

# emit LINE: print it (dry run), or run it (retrying transient failures).
emit() {
  if [[ $DRY_RUN == true ]]; then printf '%s\n' "$1"; else run "$1"; fi
}

# emit_here LINE: a line that sets a variable or defines a function for the lines after it: printed
# (dry run) or evaluated in this shell, once.
emit_here() {
  if [[ $DRY_RUN == true ]]; then
    printf '%s\n' "$1"
    return
  fi
  printf '+ %s\n' "$1" >&2
  eval "$1"
}

# The probe behind every "create it unless it exists": `absent DESCRIBE-COMMAND…` is true when the
# command fails with NOT_FOUND (gcloud), "Not found:" (bq), "not found: 404" (gcloud storage) or
# HTTP 404 (curl -f). Any other failure (PERMISSION_DENIED, a network error) stops with one line
# instead of being taken for "absent" (a create would then fail on ALREADY_EXISTS, or worse).
IFS= read -r -d '' ABSENT <<'SH' || true
absent() { local out; if out=$("$@" 2>&1 >/dev/null); then return 1; fi; case $out in *NOT_FOUND* | *'Not found:'* | *'not found: 404'* | *'error: 404'*) return 0 ;; esac; out=${out#"${out%%[![:space:]]*}"}; printf 'deploy.sh: stopped: cannot tell whether it exists (only NOT_FOUND means absent): %s: %s\n' "${*:1:5}" "${out%%$'\n'*}" >&2; exit 1; }
SH
readonly ABSENT=${ABSENT%$'\n'}

# ensure DESCRIBE-LINE CREATE-LINE: create only what does not exist yet.
ensure() {
  emit "if absent $1; then $2; fi"
}

# upsert DESCRIBE-LINE UPDATE-LINE CREATE-LINE: update what exists, create what does not.
upsert() {
  emit "if absent $1; then $3; else $2; fi"
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
# What the deployment needs
# ---------------------------------------------------------------------------------------------
apis=(run.googleapis.com cloudscheduler.googleapis.com bigquery.googleapis.com secretmanager.googleapis.com iam.googleapis.com cloudresourcemanager.googleapis.com)
[[ $DATAFORM == false ]] || apis+=(dataform.googleapis.com)
[[ $BUILD_IMAGE == false ]] || apis+=(artifactregistry.googleapis.com cloudbuild.googleapis.com storage.googleapis.com logging.googleapis.com)
[[ -z $REPORT_BUCKET || $BUILD_IMAGE == true ]] || apis+=(storage.googleapis.com)

secrets=()
secret_ids=()
for pair in "SLACK_WEBHOOK_URL=$SLACK_WEBHOOK_SECRET" "PAGERDUTY_ROUTING_KEY=$PAGERDUTY_ROUTING_KEY_SECRET" "PEM_HEARTBEAT_URL=$HEARTBEAT_URL_SECRET" "${route_secrets[@]}"; do
  [[ -n ${pair#*=} ]] || continue
  secrets+=("$pair:$SECRET_VERSION")
  secret_ids+=("${pair#*=}")
done

# The deployer's IAM permissions on the project, each with the predefined role that carries it
# (docs/deployment.md lists the same). Act-as on the service accounts is not among them: the
# script grants it (Service Account User on each account it creates), which Service Account Admin
# allows.
permissions=(
  "serviceusage.services.list roles/serviceusage.serviceUsageConsumer"
  "resourcemanager.projects.get roles/resourcemanager.projectIamAdmin"
  "resourcemanager.projects.getIamPolicy roles/resourcemanager.projectIamAdmin"
  "resourcemanager.projects.setIamPolicy roles/resourcemanager.projectIamAdmin"
  "iam.serviceAccounts.create roles/iam.serviceAccountAdmin"
  "iam.serviceAccounts.get roles/iam.serviceAccountAdmin"
  "iam.serviceAccounts.setIamPolicy roles/iam.serviceAccountAdmin"
  "bigquery.datasets.create roles/bigquery.dataOwner"
  "bigquery.datasets.get roles/bigquery.dataOwner"
  "bigquery.datasets.setIamPolicy roles/bigquery.dataOwner"
  "bigquery.tables.create roles/bigquery.dataOwner"
  "bigquery.tables.update roles/bigquery.dataOwner"
  "bigquery.tables.setIamPolicy roles/bigquery.dataOwner"
  "bigquery.jobs.create roles/bigquery.jobUser"
  "run.jobs.create roles/run.admin"
  "run.jobs.get roles/run.admin"
  "run.jobs.update roles/run.admin"
  "run.jobs.setIamPolicy roles/run.admin"
  "cloudscheduler.jobs.create roles/cloudscheduler.admin"
  "cloudscheduler.jobs.get roles/cloudscheduler.admin"
  "cloudscheduler.jobs.update roles/cloudscheduler.admin"
)
[[ $ENABLE_APIS == false ]] || permissions+=("serviceusage.services.enable roles/serviceusage.serviceUsageAdmin")
[[ ${#secret_ids[@]} -eq 0 ]] || permissions+=("secretmanager.secrets.get roles/secretmanager.admin" "secretmanager.secrets.setIamPolicy roles/secretmanager.admin")
[[ -z $REPORT_BUCKET ]] || permissions+=("storage.buckets.create roles/storage.admin" "storage.buckets.get roles/storage.admin" "storage.buckets.setIamPolicy roles/storage.admin")
if [[ $DATAFORM == true ]]; then
  permissions+=(
    "iam.roles.create roles/iam.roleAdmin" "iam.roles.get roles/iam.roleAdmin" "iam.roles.update roles/iam.roleAdmin"
    "dataform.repositories.get roles/dataform.admin"
    "dataform.releaseConfigs.create roles/dataform.admin" "dataform.releaseConfigs.get roles/dataform.admin" "dataform.releaseConfigs.update roles/dataform.admin"
    "dataform.workflowConfigs.create roles/dataform.admin" "dataform.workflowConfigs.get roles/dataform.admin" "dataform.workflowConfigs.update roles/dataform.admin"
  )
fi
if [[ $BUILD_IMAGE == true ]]; then
  permissions+=(
    "cloudbuild.builds.create roles/cloudbuild.builds.editor"
    "artifactregistry.repositories.create roles/artifactregistry.admin" "artifactregistry.repositories.get roles/artifactregistry.admin"
    "artifactregistry.repositories.setIamPolicy roles/artifactregistry.admin"
    "storage.buckets.create roles/storage.admin" "storage.buckets.get roles/storage.admin" "storage.buckets.setIamPolicy roles/storage.admin"
    "storage.objects.create roles/storage.admin"
  )
fi

# What the Dataform account may do in DATASET beyond reading it (Data Viewer): create tables,
# views and table functions, and replace them (CREATE OR REPLACE needs update rights on the object
# it replaces, and updateData for a table). No bigquery.tables.delete nor routines.delete: it can
# never drop a table, the run history included. BigQuery cannot grant on a table before it
# exists, and Dataform creates its views, config table and table functions on its first run, so
# this is a dataset-level role.
DATAFORM_ROLE_PERMISSIONS="bigquery.tables.create,bigquery.tables.update,bigquery.tables.updateData,bigquery.routines.create,bigquery.routines.update"

# ---------------------------------------------------------------------------------------------
# --check: verify, change nothing
# ---------------------------------------------------------------------------------------------

# first_line TEXT: the first non-blank line.
first_line() {
  local text=${1#"${1%%[![:space:]]*}"}
  printf '%s' "${text%%$'\n'*}"
}

check_prerequisites() {
  local missing=0 tool out said line api account entry permission role body secret
  missing() {
    printf 'missing: %s\n' "$1"
    missing=$((missing + 1))
  }
  export CLOUDSDK_CORE_DISABLE_PROMPTS=1
  for tool in gcloud bq curl node; do
    command -v "$tool" >/dev/null 2>&1 || missing "$tool is not installed (gcloud and bq: https://cloud.google.com/sdk/docs/install)"
  done
  if ! command -v gcloud >/dev/null 2>&1; then
    printf 'deploy.sh --check: %s prerequisite(s) missing; without gcloud nothing else can be checked\n' "$missing" >&2
    exit 1
  fi
  # The checkout's packages: the registry is read with Node (source datasets), and pem schema apply runs from dist/.
  [[ -d $ROOT/node_modules ]] || missing "this checkout's packages: run npm ci in $ROOT"
  if [[ $APPLY_SCHEMA == true && $PEM_BIN == "$ROOT/bin/pem.js" && ! -f $ROOT/dist/cli/main.js ]]; then
    missing "$ROOT/dist (pem schema apply runs from it): run npm ci in $ROOT"
  fi
  # The registry against DATASET, read as a real run and a dry run read it before anything changes.
  if [[ -d $ROOT/node_modules ]] && command -v node >/dev/null 2>&1; then
    # Its own line, not whatever the registry (a .js file, loaded in-process) printed before it.
    if ! out=$(node "$ROOT/deploy/source-datasets.mjs" "--config=$PEM_CONFIG" "--project=$PROJECT_ID" "--dataset=$DATASET" 2>&1 >/dev/null); then
      said=$(first_line "$out")
      while IFS= read -r line; do
        if [[ $line == "deploy/source-datasets.mjs: "* ]]; then said=${line#deploy/source-datasets.mjs: }; break; fi
      done <<<"$out"
      missing "a registry deploy.sh can deploy: $said"
    fi
  fi
  if [[ -z $DEPLOYER ]]; then
    account=$(gcloud config get-value account 2>/dev/null) || account=""
    [[ -n $account ]] || missing "a gcloud account: run gcloud auth login (or set DEPLOYER)"
  fi
  if [[ $APPLY_SCHEMA == true ]] && ! gcloud auth application-default print-access-token >/dev/null 2>&1; then
    missing "Application Default Credentials (pem schema apply uses them): run gcloud auth application-default login on a workstation; in Cloud Build or CI the build's own service account provides them"
  fi
  if out=$(gcloud services list --enabled "--project=$PROJECT_ID" '--format=value(config.name)' 2>&1); then
    for api in "${apis[@]}"; do
      [[ $'\n'$out$'\n' != *$'\n'$api$'\n'* ]] || continue
      if [[ $ENABLE_APIS == true ]]; then
        printf 'note: API %s is not enabled yet; deploy.sh enables it (ENABLE_APIS=true)\n' "$api"
      else
        missing "API $api is not enabled (gcloud services enable $api --project=$PROJECT_ID, or ENABLE_APIS=true)"
      fi
    done
  else
    missing "the list of enabled APIs: $(first_line "$out")"
  fi
  for secret in "${secret_ids[@]}"; do
    out=$(gcloud secrets versions describe "$SECRET_VERSION" "--secret=$secret" "--project=$PROJECT_ID" 2>&1 >/dev/null) ||
      missing "secret $secret (version $SECRET_VERSION): $(first_line "$out")"
  done
  body=""
  for entry in "${permissions[@]}"; do body+="${body:+,}\"${entry%% *}\""; done
  if out=$(curl -sS --fail-with-body -X POST -H "Authorization: Bearer $(gcloud auth print-access-token 2>/dev/null)" -H 'Content-Type: application/json' \
    --data "{\"permissions\":[$body]}" "https://cloudresourcemanager.googleapis.com/v1/projects/$PROJECT_ID:testIamPermissions" 2>&1); then
    for entry in "${permissions[@]}"; do
      permission=${entry%% *}
      role=${entry#* }
      [[ $out == *"\"$permission\""* ]] || missing "permission $permission on project $PROJECT_ID (in $role)"
    done
  else
    missing "the caller's permissions (testIamPermissions on project $PROJECT_ID): $(first_line "$out")"
  fi
  if [[ $DATAFORM == true ]]; then
    out=$(curl -sSf -H "Authorization: Bearer $(gcloud auth print-access-token 2>/dev/null)" \
      "https://dataform.googleapis.com/v1/projects/$PROJECT_ID/locations/$DATAFORM_REGION/repositories/$DATAFORM_REPOSITORY" 2>&1 >/dev/null) ||
      missing "Dataform repository $DATAFORM_REPOSITORY in $DATAFORM_REGION, connected to this Git repository: $(first_line "$out")"
  fi
  if [[ $missing -gt 0 ]]; then
    printf 'deploy.sh --check: %s prerequisite(s) missing\n' "$missing" >&2
    exit 1
  fi
  printf 'deploy.sh --check: every prerequisite it can verify is in place\n'
  exit 0
}

[[ $CHECK == false ]] || check_prerequisites

# ---------------------------------------------------------------------------------------------
# The deployment
# ---------------------------------------------------------------------------------------------
if [[ $DRY_RUN == false ]]; then
  export CLOUDSDK_CORE_DISABLE_PROMPTS=1
  tools=(gcloud bq node)
  [[ $DATAFORM == false ]] || tools+=(curl)
  for tool in "${tools[@]}"; do command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (gcloud and bq: https://cloud.google.com/sdk/docs/install)"; done
  if [[ $APPLY_SCHEMA == true && $PEM_BIN == "$ROOT/bin/pem.js" && ! -f $ROOT/dist/cli/main.js ]]; then
    die "$ROOT/dist is missing: run npm ci in $ROOT first (APPLY_SCHEMA=true runs pem schema apply)"
  fi
fi

JOB_MEMBER="serviceAccount:$JOB_SA"
DATAFORM_MEMBER="serviceAccount:$DATAFORM_SA"
BUILD_MEMBER="serviceAccount:$BUILD_SA"
DATAFORM_AGENT_MEMBER="serviceAccount:service-${PROJECT_NUMBER:-$PROJECT_NUMBER_REF}@gcp-sa-dataform.iam.gserviceaccount.com"
DEPLOYER_MEMBER="${DEPLOYER:-$DEPLOYER_REF}"

# A dry run refuses a DATASET other than the registry's too, before printing any of the plan
# (source-datasets.mjs, below, needs node and the checkout's node_modules, from npm ci): a plan for
# the wrong dataset is no plan to review.
if [[ $DRY_RUN == true && -d $ROOT/node_modules ]] && command -v node >/dev/null 2>&1; then
  node "$ROOT/deploy/source-datasets.mjs" "--config=$PEM_CONFIG" "--project=$PROJECT_ID" "--dataset=$DATASET" >/dev/null || exit 2
fi

step "Helpers and credentials"
emit_here "$ABSENT"
if [[ $APPLY_SCHEMA == true ]]; then
  # `pem schema apply` (below) talks to BigQuery with Application Default Credentials, which
  # `gcloud auth login` alone does not set up: say so before anything changes.
  quote "deploy.sh: no Application Default Credentials, which pem schema apply uses: run gcloud auth application-default login on a workstation; in Cloud Build or CI the build's own service account provides them"
  emit_here "$(cmd gcloud auth application-default print-access-token) >/dev/null 2>&1 || { printf '%s\\n' $QUOTED >&2; exit 2; }"
fi
# The registry's execution_table / calendar_table datasets outside DATASET: the job reads them, and
# Dataform declares them as sources of its views. Read before anything changes, because it also
# refuses a DATASET other than the registry's (schema apply and the job take theirs from the
# registry: the grants and Dataform would go to one dataset and the tables to another).
# shellcheck disable=SC2016 # printed for the real run to evaluate
emit_here "SOURCE_DATASETS=\"\$($(cmd node "$ROOT/deploy/source-datasets.mjs" "--config=$PEM_CONFIG" "--project=$PROJECT_ID" "--dataset=$DATASET"))\""
if [[ -z $DEPLOYER ]]; then
  # shellcheck disable=SC2016 # printed for the real run to evaluate
  emit_here 'DEPLOYER="$(gcloud config get-value account 2>/dev/null)"'
  # shellcheck disable=SC2016
  emit_here 'if [[ $DEPLOYER == *.gserviceaccount.com ]]; then DEPLOYER="serviceAccount:$DEPLOYER"; elif [[ -n $DEPLOYER ]]; then DEPLOYER="user:$DEPLOYER"; else printf '\''%s\n'\'' '\''deploy.sh: no gcloud account: run gcloud auth login, or set DEPLOYER=user:you@example.com'\'' >&2; exit 2; fi'
fi

if [[ $ENABLE_APIS == true ]]; then
  step "APIs"
  emit "$(cmd gcloud services enable "${apis[@]}" "--project=$PROJECT_ID")"
fi

step "Service accounts, and act-as on them for the deployer"
accounts=("$JOB_SERVICE_ACCOUNT_NAME:pem check Cloud Run job" "$SCHEDULER_SERVICE_ACCOUNT_NAME:Cloud Scheduler trigger of $JOB_NAME")
[[ $DATAFORM == false ]] || accounts+=("$DATAFORM_SERVICE_ACCOUNT_NAME:Dataform workflows of $JOB_NAME")
[[ $BUILD_IMAGE == false ]] || accounts+=("$BUILD_SERVICE_ACCOUNT_NAME:Cloud Build of the $JOB_NAME image")
for account in "${accounts[@]}"; do
  name=${account%%:*}
  ensure "$(cmd gcloud iam service-accounts describe "$name@$PROJECT_ID.iam.gserviceaccount.com" "--project=$PROJECT_ID")" \
    "$(cmd gcloud iam service-accounts create "$name" "--display-name=${account#*:}" "--project=$PROJECT_ID")"
done
# Deploying the job with --service-account, the scheduler with --oauth-service-account-email,
# a build with --service-account and Dataform configurations with a service account all check
# iam.serviceAccounts.actAs on that account (Dataform in strict act-as mode).
for account in "${accounts[@]}"; do
  emit "$(cmd gcloud iam service-accounts add-iam-policy-binding "${account%%:*}@$PROJECT_ID.iam.gserviceaccount.com" "--member=$DEPLOYER_MEMBER" \
    --role=roles/iam.serviceAccountUser "--project=$PROJECT_ID" --format=none)"
done

if [[ $BUILD_IMAGE == true ]]; then
  step "Image (Cloud Build as $BUILD_SERVICE_ACCOUNT_NAME: write logs, read the uploaded source, push to the repository)"
  ensure "$(cmd gcloud artifacts repositories describe "$ARTIFACT_REPOSITORY" "--location=$REGION" "--project=$PROJECT_ID")" \
    "$(cmd gcloud artifacts repositories create "$ARTIFACT_REPOSITORY" --repository-format=docker "--location=$REGION" "--project=$PROJECT_ID")"
  ensure "$(cmd gcloud storage buckets describe "gs://$SOURCE_BUCKET" "--project=$PROJECT_ID")" \
    "$(cmd gcloud storage buckets create "gs://$SOURCE_BUCKET" "--location=$REGION" --uniform-bucket-level-access "--project=$PROJECT_ID")"
  emit "$(cmd gcloud projects add-iam-policy-binding "$PROJECT_ID" "--member=$BUILD_MEMBER" --role=roles/logging.logWriter --condition=None --format=none)"
  emit "$(cmd gcloud storage buckets add-iam-policy-binding "gs://$SOURCE_BUCKET" "--member=$BUILD_MEMBER" --role=roles/storage.objectViewer "--project=$PROJECT_ID")"
  emit "$(cmd gcloud artifacts repositories add-iam-policy-binding "$ARTIFACT_REPOSITORY" "--location=$REGION" "--member=$BUILD_MEMBER" \
    --role=roles/artifactregistry.writer "--project=$PROJECT_ID" --format=none)"
  emit "$(cmd gcloud builds submit "$ROOT" "--config=$ROOT/deploy/cloudbuild.yaml" "--substitutions=_IMAGE=$IMAGE" \
    "--service-account=projects/$PROJECT_ID/serviceAccounts/$BUILD_SA" "--gcs-source-staging-dir=gs://$SOURCE_BUCKET/source" "--project=$PROJECT_ID")"
fi

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
read_members=("$JOB_MEMBER")
[[ $DATAFORM == false ]] || read_members+=("$DATAFORM_MEMBER")

step "IAM: the job's service account (least privilege)"
emit "$(cmd gcloud projects add-iam-policy-binding "$PROJECT_ID" "--member=$JOB_MEMBER" --role=roles/bigquery.jobUser --condition=None --format=none)"
emit "$(cmd bq add-iam-policy-binding --dataset "--member=$JOB_MEMBER" --role=roles/bigquery.dataViewer "$PROJECT_ID:$DATASET")"
for member in "${read_members[@]}"; do
  emit "for dataset in \${SOURCE_DATASETS}; do $(cmd bq add-iam-policy-binding --dataset "--member=$member" --role=roles/bigquery.dataViewer) \"\$dataset\"; done"
  for dataset in "${extra_read_datasets[@]}"; do
    [[ $dataset == *:* ]] || dataset="$PROJECT_ID:$dataset"
    emit "$(cmd bq add-iam-policy-binding --dataset "--member=$member" --role=roles/bigquery.dataViewer "$dataset")"
  done
done
for table in "${writable_tables[@]}"; do
  emit "$(cmd bq add-iam-policy-binding --table "--member=$JOB_MEMBER" --role=roles/bigquery.dataEditor "$PROJECT_ID:$DATASET.$table")"
done
for secret in "${secret_ids[@]}"; do
  emit "$(cmd gcloud secrets add-iam-policy-binding "$secret" "--member=$JOB_MEMBER" --role=roles/secretmanager.secretAccessor "--project=$PROJECT_ID" --format=none)"
done
if [[ -n $REPORT_BUCKET ]]; then
  step "Cloud Storage: the report bucket (SPEC §11 publishing)"
  ensure "$(cmd gcloud storage buckets describe "gs://$REPORT_BUCKET" "--project=$PROJECT_ID")" \
    "$(cmd gcloud storage buckets create "gs://$REPORT_BUCKET" "--location=$REGION" --uniform-bucket-level-access --public-access-prevention "--project=$PROJECT_ID")"
  # On this bucket only, never the project: Storage Object User, because each run replaces the same
  # object and replacing needs storage.objects.delete, which Storage Object Creator lacks
  # (https://cloud.google.com/storage/docs/access-control/iam-roles).
  emit "$(cmd gcloud storage buckets add-iam-policy-binding "gs://$REPORT_BUCKET" "--member=$JOB_MEMBER" --role=roles/storage.objectUser "--project=$PROJECT_ID")"
fi

step "Cloud Run job"
env_vars=("PEM_ENGINE=bigquery" "GOOGLE_CLOUD_PROJECT=$PROJECT_ID" "PEM_BIGQUERY_LOCATION=$BQ_LOCATION")
[[ -z $PAGERDUTY_EVENTS_URL ]] || env_vars+=("PAGERDUTY_EVENTS_URL=$PAGERDUTY_EVENTS_URL")
[[ -z $REPORT_BUCKET ]] || env_vars+=("PEM_REPORT_URI=gs://$REPORT_BUCKET/$REPORT_OBJECT")
if [[ ${#secrets[@]} -gt 0 ]]; then secrets_flag="--set-secrets=$(gcloud_list "${secrets[@]}")"; else secrets_flag="--clear-secrets"; fi
# `deploy` creates the job or updates it; an empty --args= resets arguments left by an earlier deploy.
emit "$(cmd gcloud run jobs deploy "$JOB_NAME" "--image=$IMAGE" "--region=$REGION" "--project=$PROJECT_ID" \
  "--service-account=$JOB_SA" "--args=$(gcloud_list "${job_args[@]}")" "--set-env-vars=$(gcloud_list "${env_vars[@]}")" \
  "$secrets_flag" --tasks=1 "--max-retries=$MAX_RETRIES" "--task-timeout=$TASK_TIMEOUT" "--cpu=$CPU" "--memory=$MEMORY")"

step "Cloud Scheduler trigger"
emit "$(cmd gcloud run jobs add-iam-policy-binding "$JOB_NAME" "--region=$REGION" "--project=$PROJECT_ID" \
  "--member=serviceAccount:$SCHEDULER_SA" --role=roles/run.invoker --format=none)"
run_uri="https://${REGION}-run.googleapis.com/apis/run.googleapis.com/v1/namespaces/${PROJECT_ID}/jobs/${JOB_NAME}:run"
scheduler_flags=("--location=$SCHEDULER_LOCATION" "--project=$PROJECT_ID" "--schedule=$SCHEDULE" "--time-zone=$TIME_ZONE"
  "--uri=$run_uri" --http-method=POST "--oauth-service-account-email=$SCHEDULER_SA"
  --oauth-token-scope=https://www.googleapis.com/auth/cloud-platform "--description=Runs the $JOB_NAME Cloud Run job")
upsert "$(cmd gcloud scheduler jobs describe "$SCHEDULER_JOB_NAME" "--location=$SCHEDULER_LOCATION" "--project=$PROJECT_ID")" \
  "$(cmd gcloud scheduler jobs update http "$SCHEDULER_JOB_NAME" "${scheduler_flags[@]}")" \
  "$(cmd gcloud scheduler jobs create http "$SCHEDULER_JOB_NAME" "${scheduler_flags[@]}")"

if [[ $DATAFORM == true ]]; then
  step "Dataform: its account's access (create and replace, never drop) and configurations"
  if [[ -z $PROJECT_NUMBER ]]; then
    emit_here "PROJECT_NUMBER=\"\$($(cmd gcloud projects describe "$PROJECT_ID" '--format=value(projectNumber)'))\""
  fi
  role_flags=("--project=$PROJECT_ID" "--title=pem Dataform publisher" "--description=Create and replace the monitor's Dataform objects; no delete"
    "--permissions=$DATAFORM_ROLE_PERMISSIONS" --stage=GA)
  upsert "$(cmd gcloud iam roles describe "$DATAFORM_ROLE_ID" "--project=$PROJECT_ID")" \
    "$(cmd gcloud iam roles update "$DATAFORM_ROLE_ID" "${role_flags[@]}" --quiet)" \
    "$(cmd gcloud iam roles create "$DATAFORM_ROLE_ID" "${role_flags[@]}")"
  emit "$(cmd gcloud projects add-iam-policy-binding "$PROJECT_ID" "--member=$DATAFORM_MEMBER" --role=roles/bigquery.jobUser --condition=None --format=none)"
  emit "$(cmd bq add-iam-policy-binding --dataset "--member=$DATAFORM_MEMBER" --role=roles/bigquery.dataViewer "$PROJECT_ID:$DATASET")"
  emit "$(cmd bq add-iam-policy-binding --dataset "--member=$DATAFORM_MEMBER" "--role=projects/$PROJECT_ID/roles/$DATAFORM_ROLE_ID" "$PROJECT_ID:$DATASET")"
  # The assertions dataset holds nothing but Dataform's own assertion views.
  emit "$(cmd bq add-iam-policy-binding --dataset "--member=$DATAFORM_MEMBER" --role=roles/bigquery.dataEditor "$PROJECT_ID:$DATAFORM_ASSERTION_DATASET")"
  # Dataform's service agent mints tokens for the custom account it runs workflows as.
  emit "$(cmd gcloud iam service-accounts add-iam-policy-binding "$DATAFORM_SA" "--member=$DATAFORM_AGENT_MEMBER" \
    --role=roles/iam.serviceAccountTokenCreator "--project=$PROJECT_ID" --format=none)"

  repository="projects/$PROJECT_ID/locations/$DATAFORM_REGION/repositories/$DATAFORM_REPOSITORY"
  api="https://dataform.googleapis.com/v1/$repository"
  release_name="$repository/releaseConfigs/$DATAFORM_RELEASE_CONFIG"
  release_body="{\"gitCommitish\":$(json_string "$DATAFORM_GIT_COMMITISH"),\"codeCompilationConfig\":{\"defaultDatabase\":$(json_string "$PROJECT_ID"),\"defaultSchema\":$(json_string "$DATASET"),\"defaultLocation\":$(json_string "$BQ_LOCATION"),\"assertionSchema\":$(json_string "$DATAFORM_ASSERTION_DATASET")},\"cronSchedule\":$(json_string "$DATAFORM_RELEASE_SCHEDULE"),\"timeZone\":$(json_string "$TIME_ZONE")}"
  workflow_body="{\"releaseConfig\":$(json_string "$release_name"),\"invocationConfig\":{\"serviceAccount\":$(json_string "$DATAFORM_SA")},\"cronSchedule\":$(json_string "$DATAFORM_WORKFLOW_SCHEDULE"),\"timeZone\":$(json_string "$TIME_ZONE")}"
  # A PATCH without updateMask is a full update of every modifiable field: it would clear what this
  # script does not set, such as the release's current compilation result (and its vars), until the
  # next scheduled compilation. The masks name exactly the fields of the bodies above.
  # https://cloud.google.com/dataform/reference/rest/v1/projects.locations.repositories.releaseConfigs/patch
  release_mask="gitCommitish,codeCompilationConfig.defaultDatabase,codeCompilationConfig.defaultSchema,codeCompilationConfig.defaultLocation,codeCompilationConfig.assertionSchema,cronSchedule,timeZone"
  workflow_mask="releaseConfig,invocationConfig.serviceAccount,cronSchedule,timeZone"
  auth="Authorization: Bearer $TOKEN"
  json=(-H 'Content-Type: application/json')
  upsert "$(cmd curl -sSf -H "$auth" "$api/releaseConfigs/$DATAFORM_RELEASE_CONFIG")" \
    "$(cmd curl -sS --fail-with-body -X PATCH -H "$auth" "${json[@]}" --data "$release_body" "$api/releaseConfigs/$DATAFORM_RELEASE_CONFIG?updateMask=$release_mask")" \
    "$(cmd curl -sS --fail-with-body -X POST -H "$auth" "${json[@]}" --data "$release_body" "$api/releaseConfigs?releaseConfigId=$DATAFORM_RELEASE_CONFIG")"
  upsert "$(cmd curl -sSf -H "$auth" "$api/workflowConfigs/$DATAFORM_WORKFLOW_CONFIG")" \
    "$(cmd curl -sS --fail-with-body -X PATCH -H "$auth" "${json[@]}" --data "$workflow_body" "$api/workflowConfigs/$DATAFORM_WORKFLOW_CONFIG?updateMask=$workflow_mask")" \
    "$(cmd curl -sS --fail-with-body -X POST -H "$auth" "${json[@]}" --data "$workflow_body" "$api/workflowConfigs?workflowConfigId=$DATAFORM_WORKFLOW_CONFIG")"
fi

if [[ $DRY_RUN == false ]]; then
  printf '\nDeployed. Run it now:\n  gcloud run jobs execute %s --region=%s --project=%s\n' "$JOB_NAME" "$REGION" "$PROJECT_ID" >&2
fi
