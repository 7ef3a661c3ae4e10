"""The ReskFlow DR policies, one module per AWS service plus the cross-service rules."""
