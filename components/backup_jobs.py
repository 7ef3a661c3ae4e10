"""The seed's logical backups as Kubernetes CronJobs writing to the region's backups bucket.

Each job is one pod with two steps sharing an ``emptyDir``:

1. ``dump`` (init container, the database's own tool image): ``pg_dump -Fc``, ``pg_dumpall
   --globals-only``, ``mongodump --gzip --archive`` or ``redis-cli --rdb``. It records whether the
   dump succeeded instead of failing, so that step 2 can report a failure.
2. ``upload`` (the AWS CLI image): uploads under ``<tier>/<engine>/<UTC time>/`` with the storage
   class the bucket policy demands for the tier and ``--sse aws:kms`` with the regional key, then
   records success as a CloudWatch metric. Any failure publishes to the alert SNS topic and fails
   the pod.

Credentials: the database passwords come from Kubernetes Secrets by reference; AWS access comes
from an IAM role per job assumed through the cluster's OIDC provider (IRSA), allowed to write its
own prefix only. The jobs run in the active role and are suspended in the passive one (the bucket
replicates to the peer region either way).

Alerting, honestly: the in-job SNS message covers a failed dump or upload. A job that never runs
(missed schedule, image pull failure, deadline exceeded, pod killed) cannot report itself; for the
daily jobs a CloudWatch alarm on the missing success metric covers that (26 h window; built by the
alarms tier from :func:`stale_backup_alarms`). CloudWatch cannot evaluate more than 7 days, so the
weekly job has no such alarm.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components import k8s as kx
from components.alarms import AlarmSpec
from components.common import policy_json

METRIC_NAMESPACE = "ReskFlow/Backups"
METRIC_NAME = "BackupSucceeded"
WORK_DIR = "/backup"
OUT_DIR = f"{WORK_DIR}/out"


@dataclass(frozen=True)
class Dump:
    """One of the seed's backup scripts, as a job."""

    engine: str
    tier: str
    """``daily`` or ``weekly``: the bucket prefix, and so the storage class and retention."""
    schedule: str
    """Default cron schedule (UTC)."""
    command: str
    """Shell command writing the dump into ``OUT_DIR``; connection settings come from the
    environment (:func:`dump_env`)."""
    deadline_seconds: int
    """``activeDeadlineSeconds`` of each run."""
    stale_after_hours: int | None
    """Window of the missing-success alarm; None: no such alarm (see module docstring)."""
    on_by_default: bool = True
    """Whether the job runs unless config says otherwise."""


_PG_DUMP = f"pg_dump -v -Fc -Z9 -f {OUT_DIR}/reskflow.dump"

DUMPS: dict[str, Dump] = {
    "postgres-daily": Dump("postgres", "daily", "0 2 * * *", _PG_DUMP, 3 * 3600, 26),
    # The weekly full adds the cluster's roles (RDS refuses to dump their passwords).
    "postgres-weekly": Dump(
        "postgres",
        "weekly",
        "0 3 * * 0",
        f"{_PG_DUMP} && pg_dumpall --globals-only --no-role-passwords -f {OUT_DIR}/globals.sql",
        6 * 3600,
        None,
    ),
    # The password goes through a config file, never the command line (visible in ps).
    "mongodb-daily": Dump(
        "mongodb",
        "daily",
        "30 2 * * *",
        'printf \'password: "%s"\\n\' "$MONGODB_PASSWORD" > /tmp/mongodump.yaml && '
        'mongodump --config=/tmp/mongodump.yaml --uri="mongodb://$MONGODB_HOST:$MONGODB_PORT/'
        '?tls=true&tlsInsecure=true&authSource=admin" --username="$MONGODB_USERNAME" '
        f"--readPreference=secondaryPreferred --gzip --archive={OUT_DIR}/reskflow.archive.gz",
        3 * 3600,
        26,
    ),
    # The remote form of the seed's BGSAVE + copy of dump.rdb: the server streams a snapshot
    # (SYNC). Off by default: ElastiCache, which the data tier uses, refuses SYNC; its own daily
    # snapshots and the Global Datastore's replica are the Redis copies there.
    "redis-daily": Dump(
        "redis",
        "daily",
        "0 4 * * *",
        f'redis-cli -h "$REDIS_HOST" -p "$REDIS_PORT" --tls --rdb {OUT_DIR}/dump.rdb',
        3600,
        26,
        on_by_default=False,
    ),
}

DUMP_SCRIPT = f"""set -u
mkdir -p {OUT_DIR}
date -u +%Y%m%dT%H%M%SZ > {WORK_DIR}/stamp
if {{command}}; then
  echo ok > {WORK_DIR}/status
else
  echo "exit code $?" > {WORK_DIR}/status
fi
"""

UPLOAD_SCRIPT = f"""set -u
fail() {{
  echo "$1" >&2
  aws sns publish --topic-arn "$ALERT_TOPIC_ARN" \\
    --subject "ReskFlow backup $JOB_NAME failed in $AWS_REGION" --message "$1" || true
  exit 1
}}
status=$(cat {WORK_DIR}/status 2>/dev/null || echo "no status: the dump step did not finish")
[ "$status" = ok ] || fail "$JOB_NAME: dump step failed ($status)"
target="s3://$BACKUP_BUCKET/$BACKUP_PREFIX/$(cat {WORK_DIR}/stamp)/"
aws s3 cp {OUT_DIR}/ "$target" --recursive --only-show-errors \\
  --storage-class "$STORAGE_CLASS" --sse aws:kms --sse-kms-key-id "$KMS_KEY_ARN" \\
  --checksum-algorithm SHA256 \\
  || fail "$JOB_NAME: upload to $target failed"
if [ -n "${{LOCK_DAYS:-}}" ]; then
  until=$(date -u -d "+$LOCK_DAYS days" +%Y-%m-%dT%H:%M:%SZ) || fail "$JOB_NAME: no date"
  for f in $(ls {OUT_DIR}); do
    aws s3api put-object-retention --bucket "$BACKUP_BUCKET" \\
      --key "$BACKUP_PREFIX/$(cat {WORK_DIR}/stamp)/$f" \\
      --retention "Mode=$LOCK_MODE,RetainUntilDate=$until" \\
      || fail "$JOB_NAME: uploaded $f but could not lock it until $until"
  done
fi
aws cloudwatch put-metric-data --namespace {METRIC_NAMESPACE} --metric-name {METRIC_NAME} \\
  --dimensions "Job=$JOB_NAME" --value 1 \\
  || fail "$JOB_NAME: uploaded to $target but the success metric was not recorded"
echo "$JOB_NAME: uploaded to $target"
"""


@dataclass(frozen=True)
class BackupJobSpec:
    """A job as this stack runs it."""

    name: str
    """Key in :data:`DUMPS`; the Kubernetes objects are called ``backup-<name>``."""
    schedule: str
    image: str
    """Image with the dump tool of the job's engine."""
    storage_class: str
    """Storage class the bucket policy requires under the job's tier prefix."""
    lock_days: int | None = None
    """Object Lock retention the job sets on its uploads when it must outlast the bucket's
    default (the weekly fulls); ``None`` leaves the default."""
    lock_mode: str = "GOVERNANCE"
    """Object Lock mode of that retention (the bucket default's mode)."""

    @property
    def dump(self) -> Dump:
        return DUMPS[self.name]

    @property
    def prefix(self) -> str:
        return f"{self.dump.tier}/{self.dump.engine}"

    @property
    def object_name(self) -> str:
        return f"backup-{self.name}"


@dataclass(frozen=True)
class BackupJobsArgs:
    """Inputs of :class:`BackupJobs`."""

    namespace: pulumi.Input[str]
    """Namespace of the jobs (created by the workloads component)."""
    region: str
    """The stack's region: the bucket, key, topic and STS endpoint are all regional."""
    active: bool
    """Jobs run in the active role and are suspended in the passive one."""
    jobs: Sequence[BackupJobSpec]
    bucket_name: str
    """The region's backups bucket."""
    kms_key_arn: pulumi.Input[str]
    """The regional key every upload is encrypted with (``--sse-kms-key-id``)."""
    database_endpoints: Mapping[str, pulumi.Input[str]]
    """Host name per engine, from the database tier."""
    postgres_database: str
    """Name of the PostgreSQL database to dump."""
    alert_topic_arn: pulumi.Input[str]
    """SNS topic (alarms tier) for failures."""
    oidc_provider_arn: str
    """The cluster's IAM OIDC provider; the job roles trust it for their ServiceAccount only."""
    oidc_issuer: str
    """Issuer host and path of that provider (the prefix of the trust condition keys)."""
    uploader_image: str
    """AWS CLI image of the upload step."""


def dump_env(
    engine: str, endpoints: Mapping[str, pulumi.Input[str]], postgres_database: str
) -> list[k8s.core.v1.EnvVarArgs]:
    """Connection settings in the variables each tool reads; secrets by reference."""
    store = kx.DATASTORES[engine]
    if engine == "postgres":
        return [
            *kx.plain_env(
                {
                    "PGHOST": endpoints[engine],
                    "PGPORT": str(store.port),
                    "PGDATABASE": postgres_database,
                    "PGSSLMODE": "require",
                }
            ),
            kx.secret_env("PGUSER", store.secret, "username"),
            kx.secret_env("PGPASSWORD", store.secret, "password"),
        ]
    if engine == "redis":
        return [
            *kx.plain_env({"REDIS_HOST": endpoints[engine], "REDIS_PORT": str(store.port)}),
            kx.secret_env("REDISCLI_AUTH", store.secret, "password"),
        ]
    return kx.datastore_env(engine, endpoints)


def job_role_policy(args: BackupJobsArgs, job: BackupJobSpec, key_arn: str, topic_arn: str) -> str:
    """Write the job's own prefix with the regional key, publish failures, record success."""
    bucket_arn = f"arn:aws:s3:::{args.bucket_name}"
    statements: list[dict[str, Any]] = [
        {
            "Sid": "WriteOwnPrefix",
            "Effect": "Allow",
            "Action": ["s3:PutObject", "s3:AbortMultipartUpload"],
            "Resource": f"{bucket_arn}/{job.prefix}/*",
        },
        *(
            [
                {
                    # Extending a retention is allowed in both modes; shortening is not.
                    "Sid": "LockOwnUploads",
                    "Effect": "Allow",
                    "Action": "s3:PutObjectRetention",
                    "Resource": f"{bucket_arn}/{job.prefix}/*",
                }
            ]
            if job.lock_days is not None
            else []
        ),
        {
            # Multipart uploads of SSE-KMS objects need Decrypt as well as GenerateDataKey.
            "Sid": "EncryptWithRegionalKey",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {"kms:ViaService": f"s3.{args.region}.amazonaws.com"},
                "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
            },
        },
        {
            "Sid": "PublishFailures",
            "Effect": "Allow",
            "Action": "sns:Publish",
            "Resource": topic_arn,
        },
        {
            "Sid": "PublishToEncryptedTopic",
            "Effect": "Allow",
            "Action": ["kms:GenerateDataKey", "kms:Decrypt"],
            "Resource": key_arn,
            "Condition": {"StringEquals": {"kms:ViaService": f"sns.{args.region}.amazonaws.com"}},
        },
        {
            "Sid": "RecordSuccess",
            "Effect": "Allow",
            "Action": "cloudwatch:PutMetricData",
            "Resource": "*",
            "Condition": {"StringEquals": {"cloudwatch:namespace": METRIC_NAMESPACE}},
        },
    ]
    return policy_json(statements)


def trust_policy(args: BackupJobsArgs, namespace: str, service_account: str) -> str:
    """Only this ServiceAccount's tokens, issued for STS, may assume the role."""
    return policy_json(
        [
            {
                "Effect": "Allow",
                "Principal": {"Federated": args.oidc_provider_arn},
                "Action": "sts:AssumeRoleWithWebIdentity",
                "Condition": {
                    "StringEquals": {
                        f"{args.oidc_issuer}:sub": (
                            f"system:serviceaccount:{namespace}:{service_account}"
                        ),
                        f"{args.oidc_issuer}:aud": "sts.amazonaws.com",
                    }
                },
            }
        ]
    )


def _dump_container(args: BackupJobsArgs, job: BackupJobSpec) -> k8s.core.v1.ContainerArgs:
    return k8s.core.v1.ContainerArgs(
        name="dump",
        image=job.image,
        image_pull_policy="IfNotPresent",
        command=["/bin/sh", "-c", DUMP_SCRIPT.format(command=job.dump.command)],
        env=[
            *dump_env(job.dump.engine, args.database_endpoints, args.postgres_database),
            *kx.plain_env({"HOME": "/tmp"}),
        ],
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "250m", "memory": "512Mi"}, limits={"cpu": "2", "memory": "2Gi"}
        ),
        security_context=kx.container_security_context(),
        volume_mounts=[_work_mount(), kx.tmp_mount()],
    )


def _upload_container(
    args: BackupJobsArgs, job: BackupJobSpec, key_arn: pulumi.Input[str]
) -> k8s.core.v1.ContainerArgs:
    return k8s.core.v1.ContainerArgs(
        name="upload",
        image=args.uploader_image,
        image_pull_policy="IfNotPresent",
        command=["/bin/sh", "-c", UPLOAD_SCRIPT],
        env=kx.plain_env(
            {
                "JOB_NAME": job.object_name,
                "AWS_REGION": args.region,
                "AWS_STS_REGIONAL_ENDPOINTS": "regional",
                "HOME": "/tmp",
                "BACKUP_BUCKET": args.bucket_name,
                "BACKUP_PREFIX": job.prefix,
                "STORAGE_CLASS": job.storage_class,
                "KMS_KEY_ARN": key_arn,
                "ALERT_TOPIC_ARN": args.alert_topic_arn,
                **(
                    {"LOCK_DAYS": str(job.lock_days), "LOCK_MODE": job.lock_mode}
                    if job.lock_days is not None
                    else {}
                ),
            }
        ),
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests={"cpu": "100m", "memory": "256Mi"}, limits={"cpu": "1", "memory": "1Gi"}
        ),
        security_context=kx.container_security_context(),
        volume_mounts=[_work_mount(), kx.tmp_mount()],
    )


def _work_mount() -> k8s.core.v1.VolumeMountArgs:
    return k8s.core.v1.VolumeMountArgs(name="work", mount_path=WORK_DIR)


def _job_spec(args: BackupJobsArgs, job: BackupJobSpec) -> k8s.batch.v1.JobSpecArgs:
    return k8s.batch.v1.JobSpecArgs(
        backoff_limit=1,
        active_deadline_seconds=job.dump.deadline_seconds,
        template=k8s.core.v1.PodTemplateSpecArgs(
            metadata=k8s.meta.v1.ObjectMetaArgs(labels=kx.labels(job.object_name, "backup")),
            spec=k8s.core.v1.PodSpecArgs(
                service_account_name=job.object_name,
                automount_service_account_token=False,
                restart_policy="Never",
                security_context=kx.pod_security_context(),
                init_containers=[_dump_container(args, job)],
                containers=[_upload_container(args, job, args.kms_key_arn)],
                volumes=[
                    k8s.core.v1.VolumeArgs(
                        name="work",
                        empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit="100Gi"),
                    ),
                    kx.tmp_volume(),
                ],
            ),
        ),
    )


class BackupJob(pulumi.ComponentResource):
    """One job: IAM role and policy, ServiceAccount, CronJob and NetworkPolicy. Pass the AWS and
    Kubernetes providers in ``opts.providers``. Its missing-success alarm, if any, is built by the
    alarms tier from :func:`stale_backup_alarms`."""

    role_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: BackupJobsArgs,
        job: BackupJobSpec,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("reskflow:workloads:BackupJob", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        obj = job.object_name
        role = aws.iam.Role(
            f"{name}-role",
            name=f"reskflow-{obj}-{args.region}",
            description=f"IRSA role of the {obj} CronJob ({args.region})",
            assume_role_policy=pulumi.Output.from_input(args.namespace).apply(
                lambda ns: trust_policy(args, ns, obj)
            ),
            opts=child,
        )
        aws.iam.RolePolicy(
            f"{name}-policy",
            role=role.id,
            policy=pulumi.Output.all(args.kms_key_arn, args.alert_topic_arn).apply(
                lambda arns: job_role_policy(args, job, arns[0], arns[1])
            ),
            opts=child,
        )
        meta = kx.metadata(obj, args.namespace, obj, "backup")
        account = k8s.core.v1.ServiceAccount(
            f"{name}-sa",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=obj,
                namespace=args.namespace,
                labels=kx.labels(obj, "backup"),
                annotations={
                    kx.IRSA_ROLE_ANNOTATION: role.arn,
                    kx.IRSA_REGIONAL_STS_ANNOTATION: "true",
                },
            ),
            automount_service_account_token=False,
            opts=child,
        )
        k8s.batch.v1.CronJob(
            f"{name}-cronjob",
            metadata=meta,
            spec=k8s.batch.v1.CronJobSpecArgs(
                schedule=job.schedule,
                time_zone="Etc/UTC",
                suspend=not args.active,
                concurrency_policy="Forbid",
                starting_deadline_seconds=3600,
                successful_jobs_history_limit=3,
                failed_jobs_history_limit=3,
                job_template=k8s.batch.v1.JobTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=kx.labels(obj, "backup")),
                    spec=_job_spec(args, job),
                ),
            ),
            opts=pulumi.ResourceOptions(parent=self, depends_on=[account]),
        )
        k8s.networking.v1.NetworkPolicy(
            f"{name}-netpol",
            metadata=meta,
            spec=k8s.networking.v1.NetworkPolicySpecArgs(
                pod_selector=k8s.meta.v1.LabelSelectorArgs(match_labels={"app": obj}),
                policy_types=["Ingress", "Egress"],
                ingress=[],
                egress=[*kx.datastore_egress([job.dump.engine]), kx.https_egress()],
            ),
            opts=child,
        )
        self.role_arn = role.arn
        self.register_outputs({"role_arn": self.role_arn})


def stale_backup_alarms(jobs: Sequence[BackupJobSpec], active: bool) -> list[AlarmSpec]:
    """For each job with a window: alarm when no run succeeded in it (hourly sums, each one
    missing or zero). In the passive role the jobs are suspended: missing data is fine there and
    the alarm takes no action."""
    return [
        AlarmSpec(
            name=f"{job.object_name}-stale",
            description=(
                f"No successful {job.object_name} run in {hours} h: see `kubectl get jobs "
                f"-l app={job.object_name}` and the job's logs"
            ),
            namespace=METRIC_NAMESPACE,
            metric_name=METRIC_NAME,
            dimensions={"Job": job.object_name},
            statistic="Sum",
            comparison="LessThanThreshold",
            threshold=1,
            period_seconds=3600,
            evaluation_periods=hours,
            treat_missing_data="breaching" if active else "notBreaching",
            actions_enabled=active,
        )
        for job in jobs
        if (hours := job.dump.stale_after_hours) is not None
    ]


class BackupJobs(pulumi.ComponentResource):
    """Every backup job of the stack. Pass the stack's AWS and Kubernetes providers in
    ``opts.providers``."""

    role_arns: dict[str, pulumi.Output[str]]

    def __init__(
        self, name: str, args: BackupJobsArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("reskflow:workloads:BackupJobs", name, None, opts)
        self.role_arns = {
            job.name: BackupJob(
                f"{name}-{job.name}", args, job, pulumi.ResourceOptions(parent=self)
            ).role_arn
            for job in args.jobs
        }
        self.register_outputs({"role_arns": self.role_arns})
