"""Failover steps: small, idempotent handlers that AWS ARC Region switch runs as custom Lambda
actions and that ``reskflow-dr`` runs locally in the same order when Region switch is not used.

This package depends on boto3 only (the Lambda runtime ships it), never on Pulumi.
"""
