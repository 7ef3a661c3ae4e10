"""Integrity checks of a restored data store, with boto3 only (no database drivers).

Shared by the restore-testing validation Lambda (:mod:`restore_checks.lambda_entry`) and the
``reskflow-dr restore`` command, so a drill and the daily test judge a restore the same way.
"""
