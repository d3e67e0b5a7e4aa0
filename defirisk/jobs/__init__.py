"""Scheduled snapshot jobs: a TOML job file run once per invocation by cron or a systemd timer.

Modules, each with one job: ``jobfile`` (the format and its strict validation: ``load_job``),
``lock`` (one run at a time per database: ``job_lock``), ``metrics`` (protocol-neutral numbers of a
snapshot: ``snapshot_metrics``), ``alerts`` (thresholds crossed between consecutive snapshots, as
JSON lines), ``retention`` (which snapshots to delete), ``runner`` (``run_job``), ``history``
(``metric_history``: metrics across stored snapshots). Nothing is imported here, so that the lock
and the job-file check start fast. Ready-made cron and systemd recipes that call
``defirisk job run`` are in the repository's ``cli/`` folder.
"""
