"""The pure domain: no I/O, no boto3, no chalice, no HTTP."""
