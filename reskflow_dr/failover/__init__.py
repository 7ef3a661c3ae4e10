"""The tool side of a failover: the local runner (``local``), the Region switch execution
follower (``regionswitch``), their journal and their approvals. The steps themselves live in
``failover_steps`` (also the Lambda package), so both runners share one step logic."""
